//! `log.Fetch`: an execution's kept log lines (`exec::log_store`, this execution's by default)
//! at or above a level, optionally of some tasks only, written to a stored file a row per line;
//! outputs `uri` and `size`, as Kestra's `io.kestra.plugin.core.log.Fetch`. Kestra writes its
//! `LogEntry` rows as ION; each row here is a JSON object on its own line, which is ION text.
//!
//! Levels: the kept file holds printed lines, so a line's level is read back as Kestra gives
//! it: a container's stdout line is INFO and its stderr line WARN (Kestra's
//! `DefaultLogConsumer`); a Log task's line carries its level in front (`log::line`), unless INFO.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;

use serde_json::{Value as Json, json};

use super::Done;
use crate::exec::Runtime;
use crate::exec::log_store::{self, Line};
use crate::flow::core_task::{CoreTask, LogLevel};
use crate::flow::model::{Flow, Task, TaskKind};
use crate::plan::scope::TextRenderer;

/// The task a kept line's run belongs to (`t.0.1` inside ForEach is a run of `t`; Kestra task
/// ids have no dots).
fn task_of(run: &str) -> &str {
    run.split('.').next().unwrap_or(run)
}

/// A kept line's level and message; `None` for dockhand's own marker lines (`#`).
/// `log_task`: whether the line is a Log task's (its level, unless INFO, is in front); `None`
/// when that is not known (another execution's flow): a level word in front on the stream a
/// Log task prints that level to is then read as the level.
pub(crate) fn level_of(line: &Line, log_task: Option<bool>) -> Option<(LogLevel, &str)> {
    if line.mark == '#' {
        return None;
    }
    if log_task != Some(false)
        && let Some((word, rest)) = line.text.split_once(' ')
        && let Some(level) = LogLevel::parse(word)
        && level != LogLevel::Info
        && (log_task.is_some() || (line.mark == '!') == (level >= LogLevel::Warn))
    {
        return Some((level, rest));
    }
    let level = if line.mark == '!' {
        LogLevel::Warn
    } else {
        LogLevel::Info
    };
    Some((level, &line.text))
}

/// The ids of the flow's Log (and Echo) tasks, wherever they stand.
fn log_tasks(flow: &Flow) -> BTreeSet<String> {
    fn walk(t: &Task, out: &mut BTreeSet<String>) {
        if let TaskKind::Core(c) = &t.kind
            && matches!(**c, CoreTask::Log { .. })
        {
            out.insert(t.id.clone());
        }
        for c in t.children() {
            walk(c, out);
        }
    }
    let mut out = BTreeSet::new();
    for t in flow.top_level() {
        walk(t, &mut out);
    }
    out
}

pub(super) fn fetch(
    rt: &Runtime,
    flow: &Flow,
    task: &str,
    attempt: u32,
    (execution_id, tasks_id, level): (&Option<String>, &[String], LogLevel),
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let execution = match execution_id {
        Some(e) => r.text(e)?.trim().to_string(),
        None => rt.ctx.execution_id.clone(),
    };
    let tasks: Vec<String> = tasks_id
        .iter()
        .map(|t| r.text(t))
        .collect::<Result<_, _>>()?;
    let (Some(state_dir), Some(st)) = (&rt.state_dir, &rt.storage) else {
        return Ok(Done::failed(
            "this run keeps no logs and has no internal storage (no state directory)",
        ));
    };
    if execution.is_empty() || execution.contains('/') || execution.starts_with('.') {
        return Ok(Done::failed(format!(
            "`executionId` {execution:?} is not an execution id"
        )));
    }
    let this = execution == rt.ctx.execution_id;
    let path = log_store::path(state_dir, &execution);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        // This execution keeps no logs (`DOCKHAND_LOG_CAP`-less throwaway runs): none to fetch.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && this && rt.sink.store.is_none() => {
            return Ok(Done::failed("this run keeps no logs"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Done::failed(format!(
                "no execution {execution:?} with kept logs in {state_dir}"
            )));
        }
        Err(e) => return Ok(Done::failed(format!("cannot read {path}: {e}"))),
    };
    // Only this flow's Log tasks are known to put their level in front of a line.
    let log_ids = this.then(|| log_tasks(flow));
    let mut rows: Vec<(usize, String)> = Vec::new();
    let scanned = log_store::scan(BufReader::new(file), None, |_, l| {
        let id = task_of(&l.task);
        // Kestra reads task by task in `tasksId`'s order, each task's lines in time order.
        let order = if tasks.is_empty() {
            0
        } else {
            match tasks.iter().position(|t| t == id) {
                Some(i) => i,
                None => return Ok(()),
            }
        };
        if let Some((lvl, message)) = level_of(l, log_ids.as_ref().map(|ids| ids.contains(id)))
            && lvl >= level
        {
            let mut row = serde_json::Map::new();
            if this {
                row.insert("namespace".into(), json!(flow.namespace));
                row.insert("flowId".into(), json!(flow.id));
            }
            // Kestra's `LogEntry` fields; `taskRunId` is the run's id (`t.0` in a ForEach), and
            // `timestamp` when the line was kept (absent from logs kept before stamps were).
            row.insert("taskId".into(), json!(id));
            row.insert("executionId".into(), json!(execution));
            row.insert("taskRunId".into(), json!(l.task));
            if let Some(at) = l.at {
                let at = crate::exec::stamp::Stamp::from_ms(at).instant_text();
                row.insert("timestamp".into(), json!(at));
            }
            row.insert("level".into(), json!(lvl.name()));
            row.insert("message".into(), json!(message));
            rows.push((order, Json::Object(row).to_string()));
        }
        Ok(())
    });
    if let Err(e) = scanned {
        return Ok(Done::failed(format!("cannot read {path}: {e}")));
    }
    rows.sort_by_key(|(order, _)| *order);
    let mut bytes = Vec::new();
    for (_, row) in &rows {
        bytes.extend_from_slice(row.as_bytes());
        bytes.push(b'\n');
    }
    let ids = (
        flow.namespace.as_str(),
        flow.id.as_str(),
        rt.ctx.execution_id.as_str(),
        task,
        attempt,
    );
    let uri = super::storage::put(st, ids, task, Some(".ion"), &bytes)?;
    Ok(Done::with_outputs(BTreeMap::from([
        ("uri".into(), Json::String(uri)),
        ("size".into(), json!(rows.len())),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_of_kept_lines() {
        let line = |mark, text: &str| Line {
            task: "t".into(),
            mark,
            text: text.into(),
            at: None,
        };
        let (no, yes, unknown) = (Some(false), Some(true), None);
        let cases = [
            ('|', "hello", no, Some((LogLevel::Info, "hello"))),
            ('!', "oops", no, Some((LogLevel::Warn, "oops"))),
            // A container's line that starts with a level word is its text, not a level.
            ('!', "ERROR bad", no, Some((LogLevel::Warn, "ERROR bad"))),
            ('!', "ERROR bad", yes, Some((LogLevel::Error, "bad"))),
            ('|', "DEBUG x y", yes, Some((LogLevel::Debug, "x y"))),
            ('|', "INFO x", yes, Some((LogLevel::Info, "INFO x"))),
            ('|', "plain", yes, Some((LogLevel::Info, "plain"))),
            ('#', "dockhand: 2 lines not kept", no, None),
            // Unknown tasks: a level word counts on the stream a Log task puts it on.
            ('!', "ERROR bad", unknown, Some((LogLevel::Error, "bad"))),
            ('|', "DEBUG x", unknown, Some((LogLevel::Debug, "x"))),
            ('|', "ERROR x", unknown, Some((LogLevel::Info, "ERROR x"))),
            ('!', "DEBUG x", unknown, Some((LogLevel::Warn, "DEBUG x"))),
            ('|', "x", unknown, Some((LogLevel::Info, "x"))),
        ];
        for (mark, text, log_task, want) in cases {
            assert_eq!(
                level_of(&line(mark, text), log_task),
                want,
                "{mark} {text} {log_task:?}"
            );
        }
        assert_eq!(task_of("t.0.2"), "t");
        assert_eq!(task_of("t"), "t");
    }
}
