//! The kept logs of an execution: every line dockhand prints for its tasks (masked, as printed,
//! without colour) appended to `STATE_DIR/executions/ID.log`, for `dockhand logs` and
//! `dockhand report` after the run. Bounded: each task keeps at most [`LogStore::cap`] bytes
//! (64 MiB unless `$DOCKHAND_LOG_CAP` says otherwise); past that its further lines are
//! counted, not kept, and one marker line says so. `cleanup` removes the file with the journal.
//!
//! The format is the live one, a line per log line: `TASK | text` (stdout) or `TASK ! text`
//! (stderr), task ids padded to the flow's widest; dockhand's own marker lines are
//! `TASK # text`, a failed attempt's failure `TASK # ERROR message` (`exec::error_logs`).
//! Before a task's batch of lines, a stamp line `TASK @ MS` (milliseconds since the epoch, when
//! they changed since its last batch) gives the time the lines were written, which Kestra's
//! `LogEntry.timestamp` is (`log.Fetch` rows, `errorLogs()` entries); it is no log line:
//! [`parse`] leaves it out and [`scan`] gives it to the lines after it as [`Line::at`].

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

use camino::{Utf8Path, Utf8PathBuf};

use crate::exec::journal;

/// Bytes kept per task when `$DOCKHAND_LOG_CAP` is not set.
pub const DEFAULT_CAP: u64 = 64 * 1024 * 1024;

pub fn path(state_dir: &Utf8Path, id: &str) -> Utf8PathBuf {
    journal::executions_dir(state_dir).join(format!("{id}.log"))
}

/// What has been kept of one task's lines.
#[derive(Debug, Default)]
struct Kept {
    /// Bytes kept so far.
    used: u64,
    /// Lines not kept once over the cap.
    dropped: u64,
    /// The time of its last stamp line, in milliseconds (0: none yet).
    stamped: u64,
}

/// An execution's log file, open for appending.
#[derive(Debug)]
pub struct LogStore {
    file: Mutex<File>,
    /// Per task: what has been kept of it so far.
    kept: Mutex<HashMap<String, Kept>>,
    pub cap: u64,
}

impl LogStore {
    /// Opens (creating) the log of execution `id` (whose journal directory exists).
    pub fn open(state_dir: &Utf8Path, id: &str, cap: u64) -> io::Result<LogStore> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path(state_dir, id))?;
        Ok(LogStore {
            file: Mutex::new(file),
            kept: Mutex::default(),
            cap,
        })
    }

    /// Appends a batch of printed lines of one task (colour codes already left out). A batch
    /// that would take the task past its cap is cut at a line end; the first time, a marker
    /// line is written.
    pub fn append(&self, task: &str, bytes: &[u8]) {
        self.append_then(task, bytes, || {});
    }

    /// [`Self::append`], then `then` (the printing of the same lines) before another batch can
    /// be kept: the kept log has the lines in the order they were printed, though stdout and
    /// stderr are read side by side.
    pub fn append_then(&self, task: &str, bytes: &[u8], then: impl FnOnce()) {
        if bytes.is_empty() {
            then();
            return;
        }
        let mut kept = self.kept.lock().unwrap();
        let Kept {
            used,
            dropped,
            stamped,
        } = kept.entry(task.to_string()).or_default();
        let room = self.cap.saturating_sub(*used) as usize;
        let (keep, rest) = if bytes.len() <= room {
            (bytes, &bytes[..0])
        } else {
            // Whole lines only.
            let cut = bytes[..room]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            bytes.split_at(cut)
        };
        let mut f = self.file.lock().unwrap();
        if !keep.is_empty() {
            let now = journal::now_ms();
            if *stamped != now {
                // One write (the file is not buffered: `writeln!` would make a system call per
                // piece of the format).
                let _ = f.write_all(format!("{task} {STAMP} {now}\n").as_bytes());
                *stamped = now;
            }
            let _ = f.write_all(keep);
            *used += keep.len() as u64;
        }
        if !rest.is_empty() {
            if *dropped == 0 {
                let _ = writeln!(
                    f,
                    "{task} # dockhand: this task's kept log reached {} bytes; further lines are not kept (they were printed)",
                    self.cap
                );
                // The marker counts against nothing: it is the last line kept for the task.
                *used = self.cap;
            }
            *dropped += memchr::memchr_iter(b'\n', rest).count().max(1) as u64;
        }
        then();
        drop(f);
    }

    /// At the end of a run: for each task over its cap, how many lines were not kept.
    pub fn finish(&self) {
        let kept = self.kept.lock().unwrap();
        let mut f = self.file.lock().unwrap();
        let mut over: Vec<_> = kept
            .iter()
            .filter(|(_, k)| k.dropped > 0)
            .map(|(task, k)| (task, k.dropped))
            .collect();
        over.sort();
        for (task, dropped) in over {
            let _ = writeln!(f, "{task} # dockhand: {dropped} lines not kept");
        }
        let _ = f.flush();
    }
}

/// The cap from `$DOCKHAND_LOG_CAP` (bytes, or with Kestra's/Docker's units), else the default;
/// `0` keeps nothing.
pub fn cap_from_env(value: Option<&str>) -> Result<u64, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_CAP),
        Some(v) => crate::units::parse_size(v).map_err(|e| format!("DOCKHAND_LOG_CAP={v}: {e}")),
    }
}

/// The mark of a stamp line (`TASK @ MS`).
const STAMP: char = '@';

/// One kept line: its task, its stream mark (`|`, `!` or `#`) and its text; from [`scan`],
/// when it was written (milliseconds since the epoch; none in logs kept before stamps were).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub task: String,
    pub mark: char,
    pub text: String,
    pub at: Option<u64>,
}

/// A stamp line's task and time.
fn parse_stamp(line: &str) -> Option<(&str, u64)> {
    let (task, rest) = line.split_once(' ')?;
    let ms = rest.strip_prefix(STAMP)?.strip_prefix(' ')?;
    Some((task, ms.parse().ok()?))
}

/// Parses a kept line (`None` for anything else).
pub fn parse(line: &str) -> Option<Line> {
    let (task, rest) = line.split_once(' ')?;
    let rest = rest.trim_start_matches(' ');
    let mut chars = rest.chars();
    let mark = chars.next().filter(|c| matches!(c, '|' | '!' | '#'))?;
    let text = chars.as_str();
    let text = text.strip_prefix(' ').unwrap_or(text);
    Some(Line {
        task: task.to_string(),
        mark,
        text: text.to_string(),
        at: None,
    })
}

/// Reads kept lines from `reader`, calling `each` for those of `task` (all without one), each
/// with the time of its task's stamp line before it.
pub fn scan(
    reader: impl BufRead,
    task: Option<&str>,
    mut each: impl FnMut(&str, &Line) -> io::Result<()>,
) -> io::Result<()> {
    let mut stamps: HashMap<String, u64> = HashMap::new();
    for raw in reader.split(b'\n') {
        let raw = raw?;
        let raw = String::from_utf8_lossy(&raw);
        if let Some((t, ms)) = parse_stamp(&raw) {
            stamps.insert(t.to_string(), ms);
        } else if let Some(mut l) = parse(&raw)
            && task.is_none_or(|t| t == l.task)
        {
            l.at = stamps.get(&l.task).copied();
            each(&raw, &l)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_back_to_task_mark_and_text() {
        assert_eq!(
            parse("build   | hello  world"),
            Some(Line {
                task: "build".into(),
                mark: '|',
                text: "hello  world".into(),
                at: None,
            })
        );
        assert_eq!(
            parse("t ! ").map(|l| (l.mark, l.text)),
            Some(('!', String::new()))
        );
        assert_eq!(parse("t # dockhand: x").map(|l| l.mark), Some('#'));
        assert_eq!(parse("no mark here"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn a_task_over_its_cap_keeps_whole_lines_and_says_so_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::create_dir_all(journal::executions_dir(state)).unwrap();
        let store = LogStore::open(state, "x1", 20).unwrap();
        store.append("a", b"a | 0123456\n"); // 12 bytes
        store.append("b", b"b | other\n"); // another task: its own cap
        store.append("a", b"a | 789\na | toolong\n"); // 8 fit, 12 do not
        store.append("a", b"a | more\n");
        store.finish();
        let text = std::fs::read_to_string(path(state, "x1")).unwrap();
        // Each batch kept is after a stamp line of its task (when its millisecond changed).
        assert!(text.starts_with("a @ "), "{text}");
        let text: String = text
            .lines()
            .filter(|l| parse_stamp(l).is_none())
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            text,
            "a | 0123456\nb | other\na | 789\na # dockhand: this task's kept log reached 20 bytes; further lines are not kept (they were printed)\na # dockhand: 2 lines not kept\n"
        );
    }

    /// A stamp line is no log line; the lines after it, of its task, carry its time.
    #[test]
    fn lines_carry_the_time_of_their_tasks_stamp() {
        assert_eq!(parse("t @ 1764583443127"), None);
        assert_eq!(
            parse_stamp("t.0 @ 1764583443127"),
            Some(("t.0", 1_764_583_443_127))
        );
        assert_eq!(parse_stamp("t | @ 12"), None);
        let text = "old | before stamps\na @ 1000\nb @ 2000\na | one\nb ! two\na @ 3000\na # ERROR three\n";
        let mut got = Vec::new();
        scan(text.as_bytes(), None, |_, l| {
            got.push((l.text.clone(), l.at));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            [
                ("before stamps".to_string(), None),
                ("one".to_string(), Some(1000)),
                ("two".to_string(), Some(2000)),
                ("ERROR three".to_string(), Some(3000)),
            ]
        );
    }

    #[test]
    fn the_cap_comes_from_the_environment() {
        assert_eq!(cap_from_env(None), Ok(DEFAULT_CAP));
        assert_eq!(cap_from_env(Some("1KiB")), Ok(1024));
        assert_eq!(cap_from_env(Some("0")), Ok(0));
        assert!(cap_from_env(Some("lots")).is_err());
    }
}
