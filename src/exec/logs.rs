//! Streaming a task's output: lines read from the engine client's pipes as they come, printed
//! with the task id in front, never held whole in memory. Kestra's output lines
//! (`::{"outputs":{...},"metrics":[...]}::`) are parsed into the task's vars and not printed.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Longest line kept whole; longer lines are printed in pieces of this size.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where log lines go, and how they look.
#[derive(Debug, Clone)]
pub struct Sink {
    pub color: bool,
    /// With `--json`, logs go to stderr so stdout holds only the result.
    pub to_stderr: bool,
    /// Pad task ids to this width so columns line up.
    pub width: usize,
}

impl Sink {
    pub fn write(&self, bytes: &[u8]) {
        if self.to_stderr {
            let _ = std::io::stderr().lock().write_all(bytes);
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
    }

    fn prefix(&self, task: &str, stream: Stream) -> Vec<u8> {
        let mark = match stream {
            Stream::Stdout => "|",
            Stream::Stderr => "!",
        };
        let name = format!("{task:<w$}", w = self.width);
        if self.color {
            let mark_color = if stream == Stream::Stderr { "\x1b[31m" } else { "\x1b[2m" };
            format!("\x1b[36m{name}\x1b[0m {mark_color}{mark}\x1b[0m ").into_bytes()
        } else {
            format!("{name} {mark} ").into_bytes()
        }
    }
}

/// What a task's output told dockhand besides its log.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub metrics: Vec<serde_json::Value>,
    /// Lines seen per stream (outputs lines included), for resuming without repeats.
    pub stdout_lines: u64,
    pub stderr_lines: u64,
}

/// Parses a Kestra output line; `None` if the line is ordinary output.
pub fn parse_output_line(line: &[u8]) -> Option<serde_json::Value> {
    let s = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let inner = s.strip_prefix("::")?.strip_suffix("::")?;
    if !inner.starts_with('{') {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(inner).ok().filter(|v| v.is_object())
}

fn absorb(captured: &Mutex<Captured>, v: serde_json::Value) {
    let mut c = captured.lock().unwrap();
    if let Some(o) = v.get("outputs").and_then(|o| o.as_object()) {
        for (k, v) in o {
            c.outputs.insert(k.clone(), v.clone());
        }
    }
    if let Some(m) = v.get("metrics").and_then(|m| m.as_array()) {
        c.metrics.extend(m.iter().cloned());
    }
}

/// Reads one stream to its end, printing each line with the task prefix. The first `skip`
/// lines are taken as already printed (resume). Returns when the stream closes.
pub async fn pump<R: AsyncRead + Unpin>(
    reader: R,
    stream: Stream,
    task: &str,
    sink: &Sink,
    captured: Arc<Mutex<Captured>>,
    mut skip: u64,
) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(64 * 1024, reader);
    let prefix = sink.prefix(task, stream);
    let mut pending: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::with_capacity(128 * 1024);
    loop {
        let chunk = r.fill_buf().await?;
        if chunk.is_empty() {
            break;
        }
        let len = chunk.len();
        let mut start = 0;
        let mut lines = 0u64;
        while let Some(nl) = memchr(b'\n', &chunk[start..]) {
            let end = start + nl;
            let line: &[u8] = if pending.is_empty() {
                &chunk[start..end]
            } else {
                pending.extend_from_slice(&chunk[start..end]);
                &pending
            };
            lines += 1;
            if skip > 0 {
                skip -= 1;
            } else if let Some(v) = (line.starts_with(b"::")).then(|| parse_output_line(line)).flatten() {
                absorb(&captured, v);
            } else {
                out.extend_from_slice(&prefix);
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            pending.clear();
            start = end + 1;
        }
        pending.extend_from_slice(&chunk[start..]);
        if pending.len() >= MAX_LINE {
            // A line too long to keep: print what we have as a piece of it.
            lines += 1;
            if skip > 0 {
                skip -= 1;
            } else {
                out.extend_from_slice(&prefix);
                out.extend_from_slice(&pending);
                out.push(b'\n');
            }
            pending.clear();
        }
        r.consume(len);
        count(&captured, stream, lines);
        if !out.is_empty() {
            sink.write(&out);
            out.clear();
        }
    }
    if !pending.is_empty() {
        count(&captured, stream, 1);
        if skip == 0 {
            if let Some(v) = parse_output_line(&pending) {
                absorb(&captured, v);
            } else {
                out.extend_from_slice(&prefix);
                out.extend_from_slice(&pending);
                out.push(b'\n');
                sink.write(&out);
            }
        }
    }
    Ok(())
}

fn count(captured: &Mutex<Captured>, stream: Stream, n: u64) {
    if n == 0 {
        return;
    }
    let mut c = captured.lock().unwrap();
    match stream {
        Stream::Stdout => c.stdout_lines += n,
        Stream::Stderr => c.stderr_lines += n,
    }
}

fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&x| x == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_are_recognised() {
        assert!(parse_output_line(br#"::{"outputs":{"a":1}}::"#).is_some());
        assert!(parse_output_line(br#"::{"outputs":{"a":1}}::"#).unwrap()["outputs"]["a"] == 1);
        assert!(parse_output_line(b"::not json::").is_none());
        assert!(parse_output_line(b"echo ::{}").is_none());
    }

    #[tokio::test]
    async fn pump_counts_skips_and_parses() {
        let data: &[u8] = b"one\n::{\"outputs\":{\"k\":\"v\"}}::\ntwo\nthree";
        let cap = Arc::new(Mutex::new(Captured::default()));
        let sink = Sink { color: false, to_stderr: true, width: 0 };
        pump(data, Stream::Stdout, "t", &sink, cap.clone(), 1).await.unwrap();
        let c = cap.lock().unwrap();
        assert_eq!(c.stdout_lines, 4);
        assert_eq!(c.outputs["k"], "v");
    }
}
