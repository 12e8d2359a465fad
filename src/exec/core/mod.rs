//! Running the core tasks dockhand does itself, in process (`flow::core_task`): no container
//! and no engine. One entry, [`run`]: a task finished before a crash comes back from the
//! journal; otherwise its properties are rendered with the outputs of the tasks before it, the
//! task is done (one file per concept: `log`, `values`, `execution`, `sleep`), and its end is
//! journaled as a container task's is, so `resume` never does it twice.

mod execution;
mod http;
mod kv;
mod log;
mod log_fetch;
mod namespace;
mod sleep;
mod storage;
mod stored_outputs;
mod values;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::exec::Runtime;
use crate::exec::result::{Failure, State, TaskResult};
use crate::flow::core_task::CoreTask;
use crate::flow::model::{Flow, Task};
use crate::plan::Outputs;
use crate::plan::scope::TextRenderer;

/// What an in-process task did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Done {
    pub state: State,
    pub outputs: BTreeMap<String, Json>,
    pub message: Option<String>,
    pub failure: Option<Failure>,
    pub labels: BTreeMap<String, String>,
}

impl Done {
    pub fn success() -> Done {
        Done {
            state: State::Success,
            outputs: BTreeMap::new(),
            message: None,
            failure: None,
            labels: BTreeMap::new(),
        }
    }

    pub fn with_outputs(outputs: BTreeMap<String, Json>) -> Done {
        Done {
            outputs,
            ..Done::success()
        }
    }

    /// FAILED, the task's own words.
    pub fn failed(message: impl Into<String>) -> Done {
        let message = message.into();
        Done {
            state: State::Failed,
            // One line for the summary table; the failure keeps Kestra's words as they are.
            message: Some(message.replace('\n', " ")),
            failure: Some(Failure::Task { message }),
            ..Done::success()
        }
    }
}

/// What is left to do once the properties are rendered: done already, or an async wait.
enum Step {
    Done(Done),
    Sleep(Duration),
    Http(Box<http::Prepared>),
}

/// The outputs a core task's texts read, out of all the execution's: rendering then builds
/// its context from those alone, so a flow of many tasks costs the same per task whatever
/// came before. All of them when a text reads `outputs` as a whole (or cannot be parsed: its
/// render reports that).
pub fn outputs_for(core: &CoreTask, all: &Outputs) -> Outputs {
    match referenced(core) {
        None => all.clone(),
        Some(names) => names
            .into_iter()
            .filter_map(|n| all.get(&n).map(|o| (n, o.clone())))
            .collect(),
    }
}

/// The ids of the tasks whose outputs a core task's texts read (`outputs.ID…`); `None` when
/// they read `outputs` as a whole or cannot be parsed.
pub fn referenced(core: &CoreTask) -> Option<std::collections::BTreeSet<String>> {
    let mut names = std::collections::BTreeSet::new();
    for (_, text) in core.texts() {
        if !text.contains('{') {
            continue;
        }
        let Ok(tpl) = crate::pebble::Template::parse(text) else {
            return None;
        };
        for r in &tpl.analysis().references {
            match (r.path.first().map(String::as_str), r.path.get(1)) {
                (Some("outputs"), Some(task)) => {
                    names.insert(task.clone());
                }
                (Some("outputs"), None) => return None,
                _ => {}
            }
        }
    }
    Some(names)
}

/// One run of a core task: where it stands (inside a ForEach, once per value) and the outputs
/// its texts read, as the flat map and as Kestra's tree (`outputs.ID[VALUE]`).
pub struct CoreRun<'a> {
    pub frame: &'a crate::exec::taskrun::Frame,
    pub outputs: &'a Outputs,
    pub tree: &'a serde_json::Map<String, Json>,
    /// The attempt (1 for the first) when `retry` starts it; `None`: the first, or the one
    /// after those journaled.
    pub attempt: Option<u32>,
}

/// Does this task end the whole execution, whatever state it gives? Only `execution.Exit`
/// does. A failure (a Fail, an Assert) stops its own list as a container task's does, and the
/// `errors`, `finally` and `afterExecution` lists still run, every task of them.
pub fn ends_flow(core: &CoreTask) -> bool {
    matches!(core, CoreTask::Exit { .. })
}

/// Runs one core task to its end (or takes its end from the journal), and journals it; true
/// when its status line was printed already (from the journal or the cache), else the caller
/// prints it once the task's attempts are over. Never panics: every problem becomes the task's state. Journaled, printed
/// and logged as its run (`t.0` inside a ForEach, as a container task's run), so that a
/// resume finds each value's run on its own.
pub async fn run(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    core: &CoreTask,
    run: &CoreRun<'_>,
) -> (TaskResult, bool) {
    let run_id = run.frame.run_id(&task.id);
    if let Some((_, r)) = rt.replay.ended.get(&run_id)
        && r.state.continues()
    {
        let mut r = r.clone();
        r.values = run.frame.values();
        rt.status(&format!(
            "{}: {} (from the journal, not run again)",
            r.display_id(),
            r.state.name()
        ));
        r.message = Some(
            format!("{} (from the journal)", r.message.unwrap_or_default())
                .trim_start()
                .to_string(),
        );
        return (r, true);
    }
    let attempt = run
        .attempt
        .unwrap_or_else(|| rt.replay.ended.get(&run_id).map_or(1, |(a, _)| a + 1));
    let started = Instant::now();
    // `taskCache`: a stored result of this task as rendered stands in for doing it.
    let taskrun = run.frame.context(&task.id, attempt);
    let cache = match crate::exec::task_cache::lookup_core(
        rt,
        flow,
        task,
        core,
        run.outputs,
        Some((&taskrun, run.tree)),
    ) {
        Ok(mut hit) => {
            hit.duration = started.elapsed();
            // The entry keeps the outputs as the task gave them (`file://` paths, rebased to
            // this working directory): its `uri` file goes to this execution's storage.
            stored_outputs::store(rt, flow, &run_id, attempt, &mut hit);
            rt.end_task(task, &run_id, attempt, &mut hit, false);
            rt.status_of(&hit);
            return (hit, true);
        }
        Err(pending) => pending,
    };
    let done = match task.timeout {
        Some(limit) => {
            match tokio::time::timeout(limit, perform(rt, flow, task, core, run, &run_id, attempt))
                .await
            {
                Ok(d) => d,
                Err(_) => Done {
                    state: State::Failed,
                    message: Some(format!(
                        "timed out after {}",
                        crate::units::format_duration_iso(limit)
                    )),
                    failure: Some(Failure::Timeout {
                        after_ms: limit.as_millis() as u64,
                    }),
                    ..Done::success()
                },
            }
        }
        None => perform(rt, flow, task, core, run, &run_id, attempt).await,
    };
    let mut res = TaskResult::new(&task.id, done.state);
    res.values = run.frame.values();
    res.outputs = done.outputs;
    res.message = done.message;
    res.failure = done.failure;
    res.labels = done.labels;
    res.duration = started.elapsed();
    res.attempts = attempt;
    let as_given = cache.as_ref().map(|_| res.clone());
    stored_outputs::store(rt, flow, &run_id, attempt, &mut res);
    // A task with no effect outside this run is harmless to do again after a power loss;
    // the next fsync'd record (any later task's start or end) covers it anyway.
    rt.end_task(task, &run_id, attempt, &mut res, core.has_effects());
    if let (Some(p), Some(as_given)) = (&cache, &as_given) {
        let workdir = rt.ctx.workdir(&run_id);
        let files = crate::exec::task_cache::files_of(&workdir);
        let ttl = task.control.task_cache.and_then(|c| c.ttl);
        if let Err(e) = crate::exec::task_cache::store_files(
            p,
            as_given,
            &files,
            &rt.ctx.execution_id,
            &workdir,
            ttl,
        ) {
            rt.status(&format!("{}: warning: result not cached: {e}", task.id));
        }
    }
    (res, false)
}

/// Renders and does the task; its lines are those of run `run_id`.
async fn perform(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    core: &CoreTask,
    run: &CoreRun<'_>,
    run_id: &str,
    attempt: u32,
) -> Done {
    let taskrun = run.frame.context(&task.id, attempt);
    // Rendering is synchronous and holds the scope: it ends before anything is awaited.
    let step = {
        let (outputs, tree) = (Some(run.outputs), Some((&taskrun, run.tree)));
        crate::plan::with_task_texts(flow, task, &rt.ctx, &rt.inputs, outputs, tree, |r| {
            step(rt, flow, task, run_id, core, r)
        })
    };
    match step {
        Err(message) => Done {
            state: State::Failed,
            message: Some(message.clone()),
            failure: Some(Failure::Setup { message }),
            ..Done::success()
        },
        Ok(Step::Done(d)) => d,
        Ok(Step::Sleep(d)) => sleep::sleep(rt, run_id, d).await,
        Ok(Step::Http(p)) => http::run(rt, *p).await,
    }
}

/// The synchronous part of a task: its properties rendered, and everything that needs no
/// waiting done. `Err` is a property that cannot be rendered.
fn step(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    run_id: &str,
    core: &CoreTask,
    r: &mut TextRenderer,
) -> Result<Step, String> {
    Ok(Step::Done(match core {
        CoreTask::Log { messages, level } => log::log(rt, run_id, messages, *level, r)?,
        CoreTask::Return { format } => values::ret(format.as_deref(), r)?,
        CoreTask::OutputValues { values } => values::output_values(values, r)?,
        CoreTask::Fail {
            condition,
            error_message,
        } => execution::fail(rt, run_id, condition.as_deref(), error_message, r)?,
        CoreTask::Assert {
            conditions,
            error_message,
        } => execution::assert(rt, run_id, conditions, error_message.as_deref(), r)?,
        CoreTask::Labels { labels, from } => execution::labels(labels, from.as_deref(), r)?,
        CoreTask::Exit { state } => execution::exit(&r.text(state)?),
        CoreTask::Sleep { duration } => return Ok(Step::Sleep(*duration)),
        CoreTask::KvSet { .. }
        | CoreTask::KvGet { .. }
        | CoreTask::KvDelete { .. }
        | CoreTask::KvGetKeys { .. } => kv::kv(rt, &flow.namespace, core, r)?,
        CoreTask::HttpRequest(c) => return Ok(Step::Http(Box::new(http::prepare(c, None, r)?))),
        CoreTask::HttpDownload {
            call,
            fail_on_empty,
        } => {
            // Each run its own directory (`dl.1` inside a ForEach), as a container task's.
            let dir = rt.ctx.workdir(run_id);
            return Ok(Step::Http(Box::new(http::prepare(
                call,
                Some((*fail_on_empty, &dir)),
                r,
            )?)));
        }
        CoreTask::LogFetch {
            execution_id,
            tasks_id,
            level,
        } => {
            let attempt = rt.replay.ended.get(run_id).map_or(1, |(a, _)| a + 1);
            let args = (execution_id, tasks_id.as_slice(), *level);
            log_fetch::fetch(rt, flow, run_id, attempt, args, r)?
        }
        CoreTask::PurgeExecutionFiles => storage::purge(rt, &task.id),
        CoreTask::Write { .. }
        | CoreTask::StorageSize { .. }
        | CoreTask::StorageDelete { .. }
        | CoreTask::Concat { .. }
        | CoreTask::Reverse { .. }
        | CoreTask::Split { .. } => {
            let attempt = rt.replay.ended.get(run_id).map_or(1, |(a, _)| a + 1);
            let ids = (flow.namespace.as_str(), flow.id.as_str(), attempt);
            storage::stored_files(rt, run_id, ids, core, r)?
        }
        CoreTask::LocalFiles { inputs, outputs } => {
            storage::local_files(rt, run_id, inputs, outputs, r)?
        }
        CoreTask::Namespace(n) => {
            let attempt = rt.replay.ended.get(run_id).map_or(1, |(a, _)| a + 1);
            namespace::run(rt, flow, task, run_id, attempt, n, r)?
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_task_gets_the_outputs_its_texts_read() {
        let all: Outputs = (0..5)
            .map(|i| (format!("t{i}"), BTreeMap::from([("v".into(), json!(i))])))
            .collect();
        let log = |m: &str| CoreTask::Log {
            messages: vec![m.to_string()],
            level: Default::default(),
        };
        let names = |o: Outputs| o.into_keys().collect::<Vec<_>>();
        assert!(names(outputs_for(&log("plain"), &all)).is_empty());
        assert_eq!(
            names(outputs_for(
                &log("{{ outputs.t1.value }} {{ outputs.t3 }} {{ outputs.gone.x }}"),
                &all
            )),
            ["t1", "t3"]
        );
        assert_eq!(
            names(outputs_for(&log("{{ outputs | keys }}"), &all)).len(),
            5
        );
        assert_eq!(names(outputs_for(&log("{{ unclosed"), &all)).len(), 5);
    }
}
