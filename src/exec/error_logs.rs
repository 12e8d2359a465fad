//! `errorLogs()`: the ERROR-level log entries of the current execution, read back from its kept
//! log (`log_store`, `executions/ID.log`) as Kestra's `ErrorLogsFunction` reads them from its log
//! repository, each a map of Kestra's `LogEntry` fields in its order (`namespace`, `flowId`,
//! `taskId`, `executionId`, `taskRunId` (the run's id, `t.0` inside a ForEach, as
//! `{{ taskrun.id }}`), `timestamp` (when the line was kept, to the millisecond, printed as
//! Kestra's `Instant`; absent from logs kept before stamps were), `level`, `message`).
//!
//! What is an ERROR entry, mapped on what Kestra logs at ERROR:
//! - a failed task attempt's failure message (Kestra's worker logs the task's exception at
//!   ERROR): [`keep_failure`] keeps it as `TASK # ERROR message` when the attempt ends;
//! - an in-process task's own ERROR lines (`log.Log` at `level: ERROR`, a `Fail`'s logged
//!   message): `TASK ! ERROR message`.
//!
//! A container's stderr lines are not: Kestra logs them at WARN (its `DefaultLogConsumer`), so
//! they are not in Kestra's `errorLogs()` either, whatever they say. Lines are kept masked, so
//! the entries are too.

use std::collections::BTreeSet;
use std::io::{self, BufRead};

use camino::Utf8PathBuf;

use crate::exec::log_store;
use crate::exec::logs::Sink;
use crate::exec::result::{State, TaskResult};
use crate::pebble::{Map, Value};

/// The text after a kept line's mark that makes it an ERROR entry.
const ERROR: &str = "ERROR ";

/// Keeps the failure message of an attempt of `task` that FAILED (one `#` line per line of
/// it), in the kept log only: the run prints it as the task's status line.
fn keep_failure(sink: &Sink, task: &str, message: &str) {
    let Some(store) = &sink.store else { return };
    let mut out = String::new();
    for line in message.split('\n') {
        out.push_str(&format!(
            "{task:<w$} # {ERROR}{}\n",
            line.trim_end_matches('\r'),
            w = sink.width
        ));
    }
    store.append(task, &sink.mask.bytes(out.as_bytes()));
}

/// Keeps the failure of attempt result `res` of run `run_id` (`t.0` in a ForEach, as its lines
/// are kept) if it FAILED; before `allowFailure` makes it a WARNING (Kestra logs the error
/// either way).
pub fn keep_if_failed(sink: &Sink, run_id: &str, res: &TaskResult) {
    if res.state != State::Failed {
        return;
    }
    let message = (res.message.clone()).or_else(|| res.failure.as_ref().map(|f| f.describe()));
    if let Some(m) = message {
        keep_failure(sink, run_id, &m);
    }
}

/// Where `errorLogs()` reads from, and what it says of the execution.
#[derive(Debug, Clone)]
pub struct ErrorLogs {
    pub log: Utf8PathBuf,
    pub namespace: String,
    pub flow_id: String,
    pub execution_id: String,
    /// Tasks run in process, whose `! ERROR` lines are their own ERROR entries.
    pub in_process: BTreeSet<String>,
}

impl ErrorLogs {
    /// The entries so far (none before the log exists).
    pub fn read(&self) -> Result<Vec<Value>, String> {
        match std::fs::File::open(&self.log) {
            Ok(f) => self
                .entries(io::BufReader::new(f))
                .map_err(|e| format!("reading {}: {e}", self.log)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(vec![]),
            Err(e) => Err(format!("reading {}: {e}", self.log)),
        }
    }

    /// The ERROR entries of kept log text, in the order kept.
    pub fn entries(&self, reader: impl BufRead) -> io::Result<Vec<Value>> {
        let mut out: Vec<(String, String, Option<u64>)> = Vec::new();
        log_store::scan(reader, None, |_, l| {
            // A ForEach run's lines are kept as `t.0`: its task is `t` (ids have no dot).
            let task = l.task.split('.').next().unwrap_or_default();
            let error = match l.mark {
                '#' => true,
                '!' => self.in_process.contains(task),
                _ => false,
            };
            if let Some(message) = l.text.strip_prefix(ERROR).filter(|_| error) {
                // A Fail task logs its message and then fails with it: one entry, as Kestra's.
                let again = l.mark == '#'
                    && out
                        .last()
                        .is_some_and(|(t, m, _)| task_of(t) == task && m == message);
                if !again {
                    out.push((l.task.clone(), message.to_string(), l.at));
                }
            }
            Ok(())
        })?;
        Ok(out
            .into_iter()
            .map(|(run, message, at)| {
                let mut m = Map::new();
                m.insert("namespace".into(), self.namespace.as_str().into());
                m.insert("flowId".into(), self.flow_id.as_str().into());
                m.insert("taskId".into(), task_of(&run).into());
                m.insert("executionId".into(), self.execution_id.as_str().into());
                m.insert("taskRunId".into(), run.as_str().into());
                if let Some(at) = at {
                    let text = crate::exec::stamp::Stamp::from_ms(at).instant_text();
                    m.insert("timestamp".into(), text.into());
                }
                m.insert("level".into(), "ERROR".into());
                m.insert("message".into(), message.into());
                Value::from(m)
            })
            .collect())
    }
}

/// The task of a kept line's run: a ForEach run's lines are kept as `t.0` (ids have no dot).
fn task_of(run: &str) -> &str {
    run.split('.').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs() -> ErrorLogs {
        ErrorLogs {
            log: "unused".into(),
            namespace: "ns".into(),
            flow_id: "f".into(),
            execution_id: "x1".into(),
            in_process: ["say".to_string(), "halt".to_string()].into(),
        }
    }

    /// Which kept lines are ERROR entries.
    #[test]
    fn error_entries_of_kept_lines() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            // A container's stderr is WARN in Kestra, even when it says ERROR.
            ("build ! ERROR disk full\nbuild | ERROR not stderr\n", &[]),
            // Its failure is ERROR.
            (
                "build ! oops\nbuild # ERROR command failed with exit code 3\n",
                &[("build", "command failed with exit code 3")],
            ),
            // An in-process task's ERROR line is; its WARN line and stdout are not.
            (
                "say   ! ERROR bad thing\nsay   ! WARN meh\nsay   | ERROR x\n",
                &[("say", "bad thing")],
            ),
            // A Fail's message logged then failed with: once.
            ("halt ! ERROR no\nhalt # ERROR no\n", &[("halt", "no")]),
            // A ForEach run's entry names its task.
            (
                "say.1 ! ERROR in b\nitem.0 # ERROR command failed with exit code 1\n",
                &[("say", "in b"), ("item", "command failed with exit code 1")],
            ),
            // The log cap's marker lines are not errors.
            ("build # dockhand: 2 lines not kept\n", &[]),
        ];
        for (text, want) in cases {
            let got = logs().entries(text.as_bytes()).unwrap();
            // Kept before stamps were: no `timestamp`.
            assert!(
                got.iter()
                    .all(|v| matches!(v, Value::Map(m) if !m.contains_key("timestamp")))
            );
            let got: Vec<(String, String)> = got
                .iter()
                .map(|v| {
                    let Value::Map(m) = v else { panic!("{v:?}") };
                    assert_eq!(m["level"], Value::from("ERROR"));
                    assert_eq!(m["executionId"], Value::from("x1"));
                    (
                        m["taskId"].as_str().unwrap().to_string(),
                        m["message"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(t, m)| (t.to_string(), m.to_string()))
                .collect();
            assert_eq!(got, want, "{text}");
        }
    }

    /// An entry has Kestra's `LogEntry` fields in its order; `timestamp` from the stamp line
    /// before it, `taskRunId` the run's id.
    #[test]
    fn entries_have_the_run_and_the_time() {
        let text = "say.1 @ 1764583443127\nsay.1 ! ERROR in b\n";
        let got = logs().entries(text.as_bytes()).unwrap();
        assert_eq!(
            got[0].to_json(),
            r#"{"namespace":"ns","flowId":"f","taskId":"say","executionId":"x1","taskRunId":"say.1","timestamp":"2025-12-01T10:04:03.127Z","level":"ERROR","message":"in b"}"#
        );
    }

    #[test]
    fn no_log_yet_is_no_entries() {
        let mut l = logs();
        l.log = "/nonexistent/dockhand/x.log".into();
        assert_eq!(l.read(), Ok(vec![]));
    }
}
