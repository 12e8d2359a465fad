//! Reading flow control: the flowable task types of `spec::tasks_flow` (If, Switch, ForEach,
//! EachSequential, EachParallel, Dag, AllowFailure), the properties every task has that steer
//! how it runs (`runIf`, `allowWarning`, `retry`), a flowable's local `errors`/`finally`, and the
//! flow's `errors`, `finally`, `afterExecution` and `retry`. A Dag's dependencies are checked
//! here: an unknown id or a cycle is an error at the `dependsOn` that makes it.

use std::collections::BTreeMap;

use crate::flow::control::*;
use crate::flow::model::{Task, TaskKind};
use crate::flow::reader::{Cx, Obj, as_seq, as_strings};
use crate::flow::spec::Flowable;
use crate::flow::yaml::{Node, Value};
use crate::units;

use super::task::{read_task, read_tasks};

/// A list of tasks under `key`; `required` reports it missing. An empty list is an error (the
/// schema's `minItems: 1`): an optional one is left out instead.
fn task_list(cx: &mut Cx, o: &mut Obj<'_>, key: &'static str, required: bool) -> Vec<Task> {
    let path = o.key_path(key);
    let n = if required {
        o.need(cx, key)
    } else {
        o.get(cx, key)
    };
    let Some(n) = n else { return vec![] };
    match as_seq(cx, n, &path) {
        Some([]) => {
            let hint = if required { "" } else { " (or leave it out)" };
            cx.error(n.pos, &path, format!("needs at least one task{hint}"));
            vec![]
        }
        Some(items) => read_tasks(cx, items, &path),
        None => vec![],
    }
}

fn limit(cx: &mut Cx, o: &mut Obj<'_>, key: &'static str, default: i64) -> usize {
    let v = o.int(cx, key).unwrap_or(default);
    if v < 0 {
        let pos = o.get(cx, key).map_or(o.pos(), |n| n.pos);
        cx.error(pos, &o.key_path(key), "must be 0 (no limit) or more");
    }
    v.max(0) as usize
}

/// A ForEach's `values` (EachSequential's and EachParallel's `value`).
fn each_values(cx: &mut Cx, o: &mut Obj<'_>, key: &'static str) -> EachValues {
    let path = o.key_path(key);
    match o.need(cx, key) {
        Some(n) => match &n.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if item.is_null() {
                        cx.error(
                            item.pos,
                            &format!("{path}[{i}]"),
                            "a null value: Kestra refuses null values in a ForEach",
                        );
                    }
                }
                EachValues::List(items.iter().map(Node::to_json).collect())
            }
            Value::Scalar { text, .. } => EachValues::Expression(text.clone()),
            Value::Map(_) => {
                cx.error(
                    n.pos,
                    &path,
                    "expected a list of values or a string (a JSON array), found a map",
                );
                EachValues::List(vec![])
            }
        },
        None => EachValues::List(vec![]),
    }
}

/// The kind of a flow-control task (If, Switch, ForEach, ...): `None` for Parallel,
/// Sequential and WorkingDirectory, which `decode::task` reads.
pub(super) fn read_flowable(cx: &mut Cx, o: &mut Obj<'_>, f: Flowable) -> Option<TaskKind> {
    let flow = match f {
        Flowable::Parallel | Flowable::Sequential | Flowable::WorkingDirectory => return None,
        Flowable::If => {
            let condition = o.need_string(cx, "condition").unwrap_or_default();
            FlowTask::If {
                condition,
                then: task_list(cx, o, "then", true),
                otherwise: task_list(cx, o, "else", false),
            }
        }
        Flowable::Switch => {
            let value = o.need_string(cx, "value").unwrap_or_default();
            let mut cases = Vec::new();
            let path = o.key_path("cases");
            if let Some(n) = o.get(cx, "cases") {
                match &n.value {
                    Value::Map(entries) => {
                        for (k, v) in entries {
                            let key = k.scalar().unwrap_or_default().to_string();
                            let p = format!("{path}.{key}");
                            let tasks = match as_seq(cx, v, &p) {
                                Some(items) => read_tasks(cx, items, &p),
                                None => vec![],
                            };
                            cases.push((key, tasks));
                        }
                    }
                    _ => cx.error(
                        n.pos,
                        &path,
                        format!(
                            "expected a map of case values to lists of tasks, found {}",
                            n.kind()
                        ),
                    ),
                }
            }
            FlowTask::Switch {
                value,
                cases,
                defaults: task_list(cx, o, "defaults", false),
            }
        }
        Flowable::ForEach => FlowTask::ForEach {
            values: each_values(cx, o, "values"),
            concurrency_limit: limit(cx, o, "concurrencyLimit", 1),
            tasks: task_list(cx, o, "tasks", true),
        },
        Flowable::EachSequential => FlowTask::ForEach {
            values: each_values(cx, o, "value"),
            concurrency_limit: 1,
            tasks: task_list(cx, o, "tasks", true),
        },
        Flowable::EachParallel => FlowTask::ForEach {
            values: each_values(cx, o, "value"),
            concurrency_limit: limit(cx, o, "concurrent", 0),
            tasks: task_list(cx, o, "tasks", true),
        },
        Flowable::Dag => FlowTask::Dag {
            tasks: dag_tasks(cx, o),
            concurrent: limit(cx, o, "concurrent", 0),
        },
        Flowable::AllowFailure => FlowTask::AllowFailure {
            tasks: task_list(cx, o, "tasks", true),
        },
    };
    Some(TaskKind::Flow(Box::new(flow)))
}

fn dag_tasks(cx: &mut Cx, o: &mut Obj<'_>) -> Vec<DagTask> {
    let path = o.key_path("tasks");
    let Some(n) = o.need(cx, "tasks") else {
        return vec![];
    };
    let Some(items) = as_seq(cx, n, &path) else {
        return vec![];
    };
    if items.is_empty() {
        cx.error(n.pos, &path, "needs at least one task");
    }
    let mut out = Vec::new();
    // Where each `dependsOn` is, for the errors below.
    let mut at = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(mut d) = Obj::new(cx, item, &p) else {
            continue;
        };
        let task = d
            .need(cx, "task")
            .and_then(|t| read_task(cx, t, &d.key_path("task")));
        let deps_path = d.key_path("dependsOn");
        let deps = d
            .get(cx, "dependsOn")
            .and_then(|n| as_strings(cx, n, &deps_path))
            .unwrap_or_default();
        let deps_pos = d.get(cx, "dependsOn").map_or(item.pos, |n| n.pos);
        d.finish(cx, &[]);
        if let Some(task) = task {
            at.push((deps_pos, deps_path));
            out.push(DagTask {
                task,
                depends_on: deps,
            });
        }
    }
    let ids: Vec<&str> = out.iter().map(|d| d.task.id.as_str()).collect();
    for (d, (pos, p)) in out.iter().zip(&at) {
        for dep in &d.depends_on {
            if !ids.contains(&dep.as_str()) {
                cx.error(
                    *pos,
                    p,
                    format!(
                        "`{dep}` is not a task of this Dag{}",
                        crate::suggest::hint(dep, ids.iter().copied())
                    ),
                );
            }
        }
    }
    if let Some(cycle) = dag_cycle(&out) {
        let (pos, p) = &at[cycle[0]];
        let names: Vec<&str> = cycle.iter().map(|&i| out[i].task.id.as_str()).collect();
        cx.error(
            *pos,
            p,
            format!(
                "the dependencies make a cycle: {} -> {}",
                names.join(" -> "),
                names[0]
            ),
        );
    }
    out
}

/// A cycle among the Dag's tasks, as indices in dependency order, if there is one (unknown ids
/// are left out: they are reported on their own).
pub fn dag_cycle(tasks: &[DagTask]) -> Option<Vec<usize>> {
    let index: BTreeMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, d)| (d.task.id.as_str(), i))
        .collect();
    // 0: unseen, 1: on the path, 2: done.
    let mut mark = vec![0u8; tasks.len()];
    fn visit(
        i: usize,
        tasks: &[DagTask],
        index: &BTreeMap<&str, usize>,
        mark: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        mark[i] = 1;
        path.push(i);
        for dep in &tasks[i].depends_on {
            let Some(&j) = index.get(dep.as_str()) else {
                continue;
            };
            if mark[j] == 1 {
                let start = path.iter().position(|&p| p == j).unwrap_or(0);
                return Some(path[start..].to_vec());
            }
            if mark[j] == 0
                && let Some(c) = visit(j, tasks, index, mark, path)
            {
                return Some(c);
            }
        }
        path.pop();
        mark[i] = 2;
        None
    }
    for i in 0..tasks.len() {
        if mark[i] == 0
            && let Some(c) = visit(i, tasks, &index, &mut mark, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// `runIf`, `allowWarning` and `retry` of any task; `errors` and `finally` of a flowable.
pub(super) fn read_control(cx: &mut Cx, o: &mut Obj<'_>, flowable: bool) -> Control {
    let run_if = o.string(cx, "runIf");
    let allow_warning = o.bool(cx, "allowWarning").unwrap_or(false);
    let retry = read_retry_at(cx, o);
    let task_cache = super::task_cache::read(cx, o);
    let (errors, finally) = if flowable {
        (
            task_list(cx, o, "errors", false),
            task_list(cx, o, "finally", false),
        )
    } else {
        (vec![], vec![])
    };
    Control {
        run_if,
        allow_warning,
        retry,
        task_cache,
        errors,
        finally,
        typed: vec![],
    }
}

/// The flow's `errors`, `finally`, `afterExecution` and `retry`.
pub(super) fn read_flow_control(cx: &mut Cx, o: &mut Obj<'_>) -> FlowControl {
    FlowControl {
        errors: task_list(cx, o, "errors", false),
        finally: task_list(cx, o, "finally", false),
        after_execution: task_list(cx, o, "afterExecution", false),
        retry: read_retry_at(cx, o),
    }
}

fn read_retry_at(cx: &mut Cx, o: &mut Obj<'_>) -> Option<Retry> {
    let mut r = o.obj(cx, "retry")?;
    let duration =
        |cx: &mut Cx, r: &mut Obj<'_>, key: &'static str| r.parsed(cx, key, units::parse_duration);
    let ty = r.enumeration(cx, "type", &["constant", "exponential", "random"], |s| {
        matches!(s, "constant" | "exponential" | "random").then(|| s.to_string())
    });
    if !r.has("type") {
        cx.error(r.pos(), &r.path.clone(), "missing required property `type`");
    }
    let interval = duration(cx, &mut r, "interval");
    let max_interval = duration(cx, &mut r, "maxInterval");
    let min_interval = duration(cx, &mut r, "minInterval");
    let delay_factor = r.number(cx, "delayFactor");
    let max_attempts = r.int(cx, "maxAttempts");
    let max_attempt = r.int(cx, "maxAttempt");
    let max_duration = duration(cx, &mut r, "maxDuration");
    let warning_on_retry = r.bool(cx, "warningOnRetry").unwrap_or(false);
    let behavior = r.enumeration(
        cx,
        "behavior",
        &["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"],
        |s| matches!(s, "RETRY_FAILED_TASK" | "CREATE_NEW_EXECUTION").then(|| s.to_string()),
    );
    if behavior.as_deref() == Some("CREATE_NEW_EXECUTION") {
        let pos = r.get(cx, "behavior").map_or(r.pos(), |n| n.pos);
        cx.error(
            pos,
            &r.key_path("behavior"),
            "retry behavior CREATE_NEW_EXECUTION is not supported by dockhand: a one-shot run has no executions to create; use RETRY_FAILED_TASK",
        );
    }
    let attempts = max_attempts.or(max_attempt);
    for (key, v) in [("maxAttempts", max_attempts), ("maxAttempt", max_attempt)] {
        if let Some(v) = v
            && v < 1
        {
            let pos = r.get(cx, key).map_or(r.pos(), |n| n.pos);
            cx.error(pos, &r.key_path(key), "must be 1 or more");
        }
    }
    let pos = r.pos();
    let path = r.path.clone();
    let need = |cx: &mut Cx, key: &str, v: Option<std::time::Duration>| match v {
        Some(d) => Some(d),
        None => {
            cx.error(
                pos,
                &path,
                format!(
                    "a {} retry needs `{key}`",
                    ty.as_deref().unwrap_or_default()
                ),
            );
            None
        }
    };
    let kind = match ty.as_deref() {
        Some("constant") => {
            need(cx, "interval", interval).map(|interval| RetryKind::Constant { interval })
        }
        Some("exponential") => {
            let i = need(cx, "interval", interval);
            let m = need(cx, "maxInterval", max_interval);
            i.zip(m)
                .map(|(interval, max_interval)| RetryKind::Exponential {
                    interval,
                    max_interval,
                    delay_factor,
                })
        }
        Some("random") => {
            let lo = need(cx, "minInterval", min_interval);
            let hi = need(cx, "maxInterval", max_interval);
            lo.zip(hi)
                .map(|(min_interval, max_interval)| RetryKind::Random {
                    min_interval,
                    max_interval,
                })
        }
        _ => None,
    };
    r.finish_described(cx, &crate::flow::spec::RETRY);
    Some(Retry {
        kind: kind?,
        max_attempts: attempts.map(|a| a.max(1) as u32),
        max_duration,
        warning_on_retry,
    })
}
