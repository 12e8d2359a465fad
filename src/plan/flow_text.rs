//! What `dockhand plan` says about flow control: one line per flow-control task (what it
//! decides and how its children run), and the notes on a task inside a branch, an iteration or
//! a handler (when it runs), with its `runIf` and `retry`. Pure text from the model.

use crate::flow::control::{EachValues, FlowTask, Retry, RetryKind};
use crate::flow::model::{Flow, Task};

/// The line announcing a flow-control task before its first child.
pub fn describe(t: &Task, f: &FlowTask) -> String {
    let at = format!("`{}` ({}, line {})", t.id, t.path, t.pos.line);
    match f {
        FlowTask::If {
            condition,
            otherwise,
            ..
        } => format!(
            "if {at}: `then` runs when `{}` is true{}",
            condition.trim(),
            if otherwise.is_empty() {
                ", nothing otherwise".to_string()
            } else {
                ", `else` otherwise".to_string()
            }
        ),
        FlowTask::Switch {
            value,
            cases,
            defaults,
        } => {
            let keys: Vec<String> = cases.iter().map(|(k, _)| format!("`{k}`")).collect();
            format!(
                "switch {at}: on `{}`, cases {}{}",
                value.trim(),
                if keys.is_empty() {
                    "(none)".to_string()
                } else {
                    keys.join(", ")
                },
                if defaults.is_empty() {
                    "; no defaults".to_string()
                } else {
                    "; `defaults` when none matches".to_string()
                }
            )
        }
        FlowTask::ForEach {
            values,
            concurrency_limit,
            ..
        } => {
            let limit = match concurrency_limit {
                0 => "all values at once".to_string(),
                1 => "one value at a time".to_string(),
                n => format!("at most {n} values at a time"),
            };
            let values = match values {
                EachValues::List(v) => {
                    let shown: Vec<String> = distinct(v).iter().map(|s| format!("`{s}`")).collect();
                    format!("{} runs, for {}", shown.len(), shown.join(", "))
                }
                EachValues::Expression(e) => {
                    format!("one run per value of `{}` (known at run time)", e.trim())
                }
            };
            format!("for each {at}: its tasks run in sequence, {values}; {limit}")
        }
        FlowTask::Dag { concurrent, tasks } => {
            let limit = if *concurrent == 0 {
                "no limit".to_string()
            } else {
                format!("at most {concurrent} at a time")
            };
            let order: Vec<String> = tasks
                .iter()
                .map(|d| {
                    if d.depends_on.is_empty() {
                        format!("`{}`", d.task.id)
                    } else {
                        format!("`{}` after {}", d.task.id, d.depends_on.join(", "))
                    }
                })
                .collect();
            format!(
                "dag {at}: each task runs once its dependencies end ({}), {limit}",
                order.join("; ")
            )
        }
        FlowTask::AllowFailure { .. } => format!(
            "allow failure {at}: its tasks run one after the other; a failure makes it WARNING and the flow goes on"
        ),
    }
}

/// A ForEach's literal values as the task runs see them (`taskrun.value`): strings as they
/// are, anything else as JSON, each once (Kestra drops repeated values).
pub fn distinct(values: &[serde_json::Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Notes on a task: which list of its parent it is in (when that decides whether it runs),
/// its `runIf`, `allowWarning` and `retry`.
pub fn notes(flow: &Flow, task: &Task) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = place(flow, task) {
        out.push(n);
    }
    if let Some(r) = &task.control.run_if {
        out.push(format!(
            "runIf `{}`: SKIPPED when it renders false",
            r.trim()
        ));
    }
    if task.control.allow_warning {
        out.push("allowWarning: a WARNING counts as SUCCESS".into());
    }
    if let Some(r) = task.control.retry.as_ref().or(flow.control.retry.as_ref()) {
        let whose = if task.control.retry.is_some() {
            ""
        } else {
            " (the flow's)"
        };
        out.push(format!("retry{whose}: {}", retry_words(r)));
    }
    out
}

/// `3 attempts in all, 1 s apart`, ...
pub fn retry_words(r: &Retry) -> String {
    let secs = |d: std::time::Duration| crate::units::format_duration_iso(d);
    let attempts = match r.max_attempts {
        Some(n) => format!("at most {n} attempts in all"),
        None => "attempts without limit".to_string(),
    };
    let delay = match &r.kind {
        RetryKind::Constant { interval } => format!("{} apart", secs(*interval)),
        RetryKind::Exponential {
            interval,
            max_interval,
            delay_factor,
        } => format!(
            "exponential from {} (factor {}) up to {}",
            secs(*interval),
            delay_factor.unwrap_or(2.0),
            secs(*max_interval)
        ),
        RetryKind::Random {
            min_interval,
            max_interval,
        } => format!(
            "a random {} to {} apart",
            secs(*min_interval),
            secs(*max_interval)
        ),
    };
    let mut s = format!("{attempts}, {delay}, each a new container");
    if let Some(d) = r.max_duration {
        s.push_str(&format!(", none started after {}", secs(d)));
    }
    if r.warning_on_retry {
        s.push_str("; a success after a retry is WARNING");
    }
    s
}

/// When the task runs, from the list of its parent it stands in (`then`, `cases.a`, `errors`, ...).
fn place(flow: &Flow, task: &Task) -> Option<String> {
    // A case's task is `PARENT.cases.KEY[i]` (the key may hold dots).
    if let Some(i) = task.path.rfind(".cases.") {
        let parent = flow.top_level().find_map(|t| find(t, &task.path[..i]))?;
        let key = task.path[i + ".cases.".len()..]
            .rsplit_once('[')
            .map_or("", |(k, _)| k);
        return Some(format!(
            "in case `{key}` of switch `{}`: runs only when the value is `{key}`",
            parent.id
        ));
    }
    let (parent_path, list) = match task.path.rfind('.') {
        Some(i) => (&task.path[..i], &task.path[i + 1..]),
        None => ("", task.path.as_str()),
    };
    let list = list.split('[').next().unwrap_or_default();
    if parent_path.is_empty() {
        return match list {
            "errors" => Some("flow errors: runs only when a task of the flow fails".into()),
            "finally" => Some("flow finally: runs at the end, however the tasks ended".into()),
            "afterExecution" => Some(
                "flow afterExecution: runs once the flow's state is known; cannot change it".into(),
            ),
            _ => None,
        };
    }
    // A Dag's task is `tasks[i].task`: its parent is two steps up.
    let (parent_path, list) = if list == "task" {
        let up = parent_path.rfind('.').map_or("", |i| &parent_path[..i]);
        (up, "dag")
    } else {
        (parent_path, list)
    };
    let parent = flow.top_level().find_map(|t| find(t, parent_path))?;
    let p = &parent.id;
    Some(match list {
        "then" => format!("in `then` of if `{p}`: runs only when its condition is true"),
        "else" => format!("in `else` of if `{p}`: runs only when its condition is false"),
        "defaults" => format!("in `defaults` of switch `{p}`: runs only when no case matches"),
        "errors" => format!("in `errors` of `{p}`: runs only when one of its tasks fails"),
        "finally" => format!("in `finally` of `{p}`: runs after its tasks, however they ended"),
        "dag" => {
            let deps = match &parent.kind {
                crate::flow::model::TaskKind::Flow(f) => match &**f {
                    FlowTask::Dag { tasks, .. } => tasks
                        .iter()
                        .find(|d| d.task.path == task.path)
                        .map(|d| d.depends_on.clone())
                        .unwrap_or_default(),
                    _ => vec![],
                },
                _ => vec![],
            };
            if deps.is_empty() {
                format!("in dag `{p}`: starts at once")
            } else {
                format!("in dag `{p}`: starts once {} ended", deps.join(", "))
            }
        }
        "tasks" if matches!(&parent.kind, crate::flow::model::TaskKind::Flow(f) if matches!(**f, FlowTask::ForEach { .. })) =>
        {
            format!(
                "in for each `{p}`: one run per value (`{{{{ taskrun.value }}}}`), its outputs `outputs.{}[VALUE]`",
                task.id.split('[').next().unwrap_or_default()
            )
        }
        _ => return None,
    })
}

fn find<'a>(t: &'a Task, path: &str) -> Option<&'a Task> {
    if t.path == path {
        return Some(t);
    }
    if !path.starts_with(t.path.as_str()) {
        return None;
    }
    t.children().into_iter().find_map(|c| find(c, path))
}
