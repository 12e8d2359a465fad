//! Streaming a task's output: lines read from the engine client's pipes as they come, printed
//! with the task id in front, never held whole in memory. Kestra's output lines
//! (`::{"outputs":{...},"metrics":[...]}::`) are parsed into the task's vars and not printed.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Longest line kept whole (64 KiB); longer lines are printed in pieces of exactly this many
/// bytes, a piece ending a few bytes short rather than inside a UTF-8 character or a secret.
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
    /// Secret values, masked in every line written.
    pub mask: Arc<crate::exec::mask::Masker>,
    /// Where the lines are also kept for `dockhand logs` (none for throwaway runs).
    pub store: Option<Arc<crate::exec::log_store::LogStore>>,
}

impl Sink {
    /// Writes whole lines of `task`'s `stream` (a batch of them, each with its prefix),
    /// secret values masked, and keeps them without colour.
    pub fn write_task(&self, task: &str, stream: Stream, bytes: &[u8]) {
        let bytes = &*self.mask.bytes(bytes);
        let Some(store) = &self.store else {
            self.print(bytes);
            return;
        };
        // Kept and printed under the store's lock: `dockhand logs` has the order printed.
        if self.color {
            let plain = Sink {
                color: false,
                ..self.clone()
            };
            let kept = uncolour(
                bytes,
                &self.prefix(task, stream),
                &plain.prefix(task, stream),
            );
            store.append_then(task, &kept, || self.print(bytes));
        } else {
            store.append_then(task, bytes, || self.print(bytes));
        }
    }

    /// Writes whole lines (a batch of them), secret values masked; not kept.
    pub fn write(&self, bytes: &[u8]) {
        self.print(&self.mask.bytes(bytes));
    }

    fn print(&self, bytes: &[u8]) {
        let target = if self.to_stderr {
            crate::exec::live::Target::Stderr
        } else {
            crate::exec::live::Target::Stdout
        };
        if crate::exec::live::print(target, bytes) {
            return;
        }
        if self.to_stderr {
            let _ = std::io::stderr().lock().write_all(bytes);
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
    }

    /// Writes text of an in-process task as its log lines: each line with the task's prefix,
    /// secret values masked.
    pub fn task_lines(&self, task: &str, stream: Stream, text: &str) {
        let prefix = self.prefix(task, stream);
        let mut out = Vec::with_capacity(text.len() + prefix.len() + 1);
        for line in text.split('\n') {
            out.extend_from_slice(&prefix);
            out.extend_from_slice(line.trim_end_matches('\r').as_bytes());
            out.push(b'\n');
        }
        // Kept like a container's lines: `dockhand logs` and the report show a Log task's.
        self.write_task(task, stream, &out);
    }

    fn prefix(&self, task: &str, stream: Stream) -> Vec<u8> {
        let mark = match stream {
            Stream::Stdout => "|",
            Stream::Stderr => "!",
        };
        let name = format!("{task:<w$}", w = self.width);
        if self.color {
            let mark_color = if stream == Stream::Stderr {
                "\x1b[31m"
            } else {
                "\x1b[2m"
            };
            format!("\x1b[36m{name}\x1b[0m {mark_color}{mark}\x1b[0m ").into_bytes()
        } else {
            format!("{name} {mark} ").into_bytes()
        }
    }
}

/// A batch of `stream`'s lines with `coloured` at the start of each line replaced by `plain`
/// (colour codes in the task's own text are its own and stay).
fn uncolour(bytes: &[u8], coloured: &[u8], plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        match line.strip_prefix(coloured) {
            Some(rest) => {
                out.extend_from_slice(plain);
                out.extend_from_slice(rest);
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// What a task's output told dockhand besides its log.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub metrics: Vec<serde_json::Value>,
    /// Lines seen per stream (outputs lines included), for resuming without repeats.
    pub stdout_lines: u64,
    pub stderr_lines: u64,
    /// The last stderr line that mentions an error or a failed connection (else the last
    /// non-empty one), at most 1 KiB: the engine client's own words when it fails.
    pub last_stderr: String,
}

/// Parses a Kestra output line; `None` if the line is ordinary output.
pub fn parse_output_line(line: &[u8]) -> Option<serde_json::Value> {
    let s = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let inner = s.strip_prefix("::")?.strip_suffix("::")?;
    if !inner.starts_with('{') {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(inner)
        .ok()
        .filter(|v| v.is_object())
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

/// Called after each batch of lines is printed, with the lines printed so far per stream
/// (stdout, stderr): the journal records it so a resume skips exactly those.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Handles one complete line: skipped lines (already printed before a resume) still yield
/// their outputs; output lines are absorbed; the rest is queued for printing.
fn line(
    out: &mut Vec<u8>,
    prefix: &[u8],
    line: &[u8],
    skip: &mut u64,
    captured: &Mutex<Captured>,
    stream: Stream,
) {
    if stream == Stream::Stderr && !line.iter().all(u8::is_ascii_whitespace) {
        let keep = String::from_utf8_lossy(&line[..line.len().min(1024)])
            .trim()
            .to_string();
        let mut c = captured.lock().unwrap();
        // Docker follows its error ("invalid argument …", "Cannot connect to the Docker
        // daemon …") with a `--help` hint: the error is the line to keep.
        let hint = crate::exec::process::is_usage_hint(&keep);
        let says_error = |s: &str| {
            let s = s.to_ascii_lowercase();
            s.contains("error") || s.contains("cannot connect")
        };
        if !hint && (says_error(&keep) || !says_error(&c.last_stderr)) {
            c.last_stderr = keep;
        }
    }
    let parsed = if line.starts_with(b"::") {
        parse_output_line(line)
    } else {
        None
    };
    if let Some(v) = parsed {
        absorb(captured, v);
    } else if *skip == 0 {
        out.extend_from_slice(prefix);
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    *skip = skip.saturating_sub(1);
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
    progress: Option<Progress>,
) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(64 * 1024, reader);
    let prefix = sink.prefix(task, stream);
    // The engine client's stderr tells of image pulls: the status area shows them.
    let watch_pulls = stream == Stream::Stderr && crate::exec::live::active();
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
            if watch_pulls {
                crate::exec::live::stderr_line(task, &chunk[start..end]);
            }
            if pending.is_empty() && end - start <= MAX_LINE {
                line(
                    &mut out,
                    &prefix,
                    &chunk[start..end],
                    &mut skip,
                    &captured,
                    stream,
                );
            } else {
                pending.extend_from_slice(&chunk[start..end]);
                lines += split_long(
                    &mut out,
                    &prefix,
                    &mut pending,
                    &mut skip,
                    &captured,
                    stream,
                    &sink.mask,
                );
                line(&mut out, &prefix, &pending, &mut skip, &captured, stream);
                pending.clear();
            }
            lines += 1;
            start = end + 1;
        }
        pending.extend_from_slice(&chunk[start..]);
        // A line too long to keep: print its first pieces now, keep the rest (at most
        // MAX_LINE bytes) until more of it, or its end, comes.
        lines += split_long(
            &mut out,
            &prefix,
            &mut pending,
            &mut skip,
            &captured,
            stream,
            &sink.mask,
        );
        r.consume(len);
        // Journaled just before printing: whoever kills dockhand after seeing a line has also
        // let it record that line, so a resume never prints it again.
        count(&captured, stream, lines, progress.as_ref());
        if !out.is_empty() {
            sink.write_task(task, stream, &out);
            out.clear();
        }
    }
    if !pending.is_empty() {
        line(&mut out, &prefix, &pending, &mut skip, &captured, stream);
        count(&captured, stream, 1, progress.as_ref());
        sink.write_task(task, stream, &out);
    }
    Ok(())
}

/// Prints leading pieces of `pending` while it is longer than [`MAX_LINE`], leaving at most
/// `MAX_LINE` bytes; the number of pieces printed. A piece is `MAX_LINE` bytes, or a few fewer so
/// that it does not end inside a UTF-8 character, nor inside a secret (which would then be
/// printed in two halves, neither of them masked): each piece is masked before it is cut.
fn split_long(
    out: &mut Vec<u8>,
    prefix: &[u8],
    pending: &mut Vec<u8>,
    skip: &mut u64,
    captured: &Mutex<Captured>,
    stream: Stream,
    mask: &crate::exec::mask::Masker,
) -> u64 {
    let is_continuation = |b: u8| b & 0xC0 == 0x80;
    let mut n = 0;
    let mut from = 0;
    while pending.len() - from > MAX_LINE {
        let data = &pending[from..];
        let mut window = piece_len(data);
        // Without secrets the head is the whole window. With them it may end sooner, before a
        // secret the window's end would cut; that end must still fall between characters.
        let (head, cut) = loop {
            let (head, cut) = mask.head(&data[..window]);
            if cut == window || cut == 0 || !is_continuation(data[cut]) {
                break (head.into_owned(), cut);
            }
            let mut c = cut;
            while c > 0 && is_continuation(data[c]) {
                c -= 1;
            }
            window = c.max(1);
        };
        // A piece is never empty: a secret longer than a whole piece cannot be kept from
        // being cut, and goes out as it comes.
        let (head, cut) = if cut == 0 {
            (data[..window].to_vec(), window)
        } else {
            (head, cut)
        };
        line(out, prefix, &head, skip, captured, stream);
        from += cut;
        n += 1;
    }
    pending.drain(..from);
    n
}

/// How many bytes of `data` (longer than [`MAX_LINE`]) the next piece takes: `MAX_LINE`, less
/// the start of a UTF-8 character that would be cut (not for bytes that are not UTF-8).
fn piece_len(data: &[u8]) -> usize {
    let is_continuation = |b: u8| b & 0xC0 == 0x80;
    let mut cut = MAX_LINE;
    // A character is at most 4 bytes: back up over at most 3 continuation bytes to its start.
    while cut > MAX_LINE - 3 && is_continuation(data[cut]) {
        cut -= 1;
    }
    // Backed up to a lead byte: the piece ends before its character. Anything else is not
    // UTF-8 there, and the piece is cut at MAX_LINE.
    if cut == MAX_LINE || data[cut] >= 0xC0 {
        cut
    } else {
        MAX_LINE
    }
}

fn count(captured: &Mutex<Captured>, stream: Stream, n: u64, progress: Option<&Progress>) {
    if n == 0 {
        return;
    }
    let mut c = captured.lock().unwrap();
    match stream {
        Stream::Stdout => c.stdout_lines += n,
        Stream::Stderr => c.stderr_lines += n,
    }
    // Under the lock, so the two streams' records reach the journal in order.
    if let Some(p) = progress {
        p(c.stdout_lines, c.stderr_lines);
    }
}

/// The first `b` in `hay`: the `memchr` crate's vectorised search, which finds a newline several
/// times faster than a byte-by-byte search (this scan was most of dockhand's CPU time on a
/// chatty task).
fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(b, hay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_left_out_of_kept_lines() {
        let sink = Sink {
            color: true,
            to_stderr: true,
            width: 4,
            mask: Default::default(),
            store: None,
        };
        let mut lines = sink.prefix("ab", Stream::Stderr);
        lines.extend_from_slice(b"x \x1b[1mbold\n");
        lines.extend(sink.prefix("ab", Stream::Stderr));
        lines.extend_from_slice(b"y\n");
        let plain = Sink {
            color: false,
            ..sink.clone()
        };
        assert_eq!(
            uncolour(
                &lines,
                &sink.prefix("ab", Stream::Stderr),
                &plain.prefix("ab", Stream::Stderr)
            ),
            b"ab   ! x \x1b[1mbold\nab   ! y\n".to_vec()
        );
    }

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
        let sink = Sink {
            color: false,
            to_stderr: true,
            width: 0,
            mask: Default::default(),
            store: None,
        };
        pump(data, Stream::Stdout, "t", &sink, cap.clone(), 1, None)
            .await
            .unwrap();
        {
            let c = cap.lock().unwrap();
            assert_eq!(c.stdout_lines, 4);
            assert_eq!(c.outputs["k"], "v");
        }
        // Outputs on skipped lines still count: they were printed (absorbed) before a resume.
        let cap = Arc::new(Mutex::new(Captured::default()));
        pump(data, Stream::Stdout, "t", &sink, cap.clone(), 3, None)
            .await
            .unwrap();
        assert_eq!(cap.lock().unwrap().outputs["k"], "v");
    }

    #[test]
    fn pieces_end_at_max_line_or_before_a_utf8_character() {
        let ascii = vec![b'a'; MAX_LINE + 10];
        assert_eq!(piece_len(&ascii), MAX_LINE);
        // `é` (2 bytes) at MAX_LINE - 1: the piece stops before it.
        let mut two = vec![b'a'; MAX_LINE - 1];
        two.extend_from_slice("é".as_bytes());
        two.extend_from_slice(b"bbbb");
        assert_eq!(piece_len(&two), MAX_LINE - 1);
        // A 4-byte character starting 3 bytes before the cut.
        let mut four = vec![b'a'; MAX_LINE - 3];
        four.extend_from_slice("😀".as_bytes());
        four.extend_from_slice(b"b");
        assert_eq!(piece_len(&four), MAX_LINE - 3);
        // Not UTF-8 (continuation bytes only): cut at MAX_LINE.
        let junk = vec![0x80; MAX_LINE + 10];
        assert_eq!(piece_len(&junk), MAX_LINE);
    }
}
