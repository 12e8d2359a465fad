//! Running a Subflow task: the flow it names (found and checked before the run,
//! `flow::subflows`) runs in this process as a child execution, with its own execution id
//! (derived from the parent's and the task's, so a resumed parent resumes the same child), its
//! own journal and its own result; the task's outputs are Kestra's: `executionId`, `state`,
//! and with `wait` the subflow's flow `outputs` (`outputs.TASK.outputs.NAME`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value as Json, json};

use crate::exec::journal::{self, Journal, Record, Replay};
use crate::exec::result::{Failure, FlowResult, State, TaskResult};
use crate::exec::{Runtime, run_flow};
use crate::flow::model::{Flow, SubflowTask, Task};
use crate::plan;

/// The child's execution id: the parent's (cut to fit) and a fingerprint of the task's path.
pub fn child_execution_id(parent: &str, task_path: &str) -> String {
    let d = journal::digest(&format!("{parent}/{task_path}"));
    let hex = d.rsplit(':').next().unwrap_or_default();
    let head: String = parent
        .chars()
        .take(crate::exec::execution_id::MAX_LEN - 13)
        .collect();
    format!("{head}-{}", &hex[..12])
}

/// The task's state from the child's, as Kestra's `ExecutableUtils.guessState`: a failed (or
/// killed) child fails the task only with `transmitFailed`; a stopped run is KILLED. Pure.
pub fn task_state(child: State, transmit_failed: bool, cancelled: bool) -> State {
    match child {
        _ if cancelled => State::Killed,
        State::Failed | State::Killed if transmit_failed => State::Failed,
        State::Warning if transmit_failed => State::Warning,
        _ => State::Success,
    }
}

/// Runs the task's flow to its end and returns the task's result.
pub async fn run(
    rt: &Arc<Runtime>,
    flow: &Flow,
    task: &Task,
    sub: &SubflowTask,
    outputs: &plan::Outputs,
) -> TaskResult {
    let started = std::time::Instant::now();
    let fail = |msg: String| {
        let mut r = TaskResult::new(&task.id, State::Failed);
        r.failure = Some(Failure::Setup {
            message: msg.clone(),
        });
        r.message = Some(msg);
        r
    };
    let Some(resolved) = &sub.resolved else {
        return fail(format!(
            "flow {}.{} was not found before the run",
            sub.namespace, sub.flow_id
        ));
    };
    let child = &resolved.flow;
    // The inputs, rendered with the parent's values, then checked as `--input` values are.
    let mut given = BTreeMap::new();
    for (k, v) in &sub.inputs {
        match plan::render_flow_text(flow, &rt.ctx, &rt.inputs, outputs, v) {
            Ok(v) => {
                given.insert(k.clone(), v);
            }
            Err(e) => return fail(format!("input `{k}` of the subflow: {e}")),
        }
    }
    let inputs = match plan::resolve_inputs(child, &given) {
        Ok(i) => i,
        Err(e) => {
            return fail(format!(
                "inputs of flow {}.{}: {e}",
                child.namespace, child.id
            ));
        }
    };
    let id = child_execution_id(&rt.ctx.execution_id, &task.path);
    let Some(state_dir) = rt
        .journal
        .as_ref()
        .and_then(|j| j.path().parent()?.parent().map(|p| p.to_path_buf()))
    else {
        return fail("a subflow needs the execution's journal (state directory)".into());
    };
    let journal = match Journal::open(&state_dir, &id) {
        Ok(j) => Arc::new(j),
        Err(e) => return fail(e.to_string()),
    };
    let replay = Replay::from_records(journal::read(&state_dir, &id).unwrap_or_default());
    let digest = journal::digest(&resolved.text);
    match &replay.start {
        Some(Record::Start { flow_digest, .. }) if *flow_digest != digest => {
            return fail(format!(
                "{} changed since its execution {id} started; restore it, or start a new parent execution",
                resolved.file
            ));
        }
        Some(_) => {}
        None => {
            let start = Record::Start {
                flow_file: std::fs::canonicalize(&resolved.file)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| resolved.file.clone()),
                flow_digest: digest,
                engine: rt.engine.program.display().to_string(),
                dialect: rt.engine.dialect.name().to_string(),
                host: rt.ctx.host.clone(),
                work_dir: rt.ctx.work_root.to_string(),
                inputs: crate::exec::launch::journaled_inputs(child, &inputs),
                at: journal::Stamp::now(),
                namespace: child.namespace.clone(),
                flow: child.id.clone(),
                // The child runs where its parent runs.
                swarm: match &rt.ctx.backend {
                    crate::plan::backend::Backend::Swarm(o) => Some(o.placement.clone()),
                    crate::plan::backend::Backend::Engine => None,
                },
                trigger: Default::default(),
            };
            if let Err(e) = journal.append(&start, true) {
                return fail(e.to_string());
            }
        }
    }
    rt.status(&format!(
        "{}: {} execution {id} of {}.{} (journal {})",
        task.id,
        if replay.start.is_some() {
            "resuming subflow"
        } else {
            "subflow"
        },
        child.namespace,
        child.id,
        journal.path()
    ));
    if !sub.wait {
        rt.status(&format!(
            "{}: `wait: false`: dockhand runs the subflow to its end first (one process), without its outputs",
            task.id
        ));
    }
    let mut ctx = rt.ctx.clone();
    ctx.execution_id = id.clone();
    ctx.secrets.extend(plan::secret_values(child, &inputs));
    let child_rt = Arc::new(Runtime::new(
        rt.engine.clone(),
        ctx,
        inputs,
        rt.sink.clone(),
        rt.cancel.clone(),
        rt.quiet,
        Some(journal.clone()),
        replay,
    ));
    let result: FlowResult = Box::pin(run_flow(child_rt.clone(), Arc::new(child.clone()))).await;
    let _ = journal.append(
        &Record::End {
            state: result.state.name().to_string(),
            at: journal::Stamp::now(),
        },
        true,
    );
    let cancelled = *rt.cancel.borrow() != crate::exec::Cancel::No;
    let state = task_state(result.state, sub.transmit_failed, cancelled);
    let mut r = TaskResult::new(&task.id, state);
    r.duration = started.elapsed();
    r.outputs.insert("executionId".into(), json!(id));
    r.outputs.insert("state".into(), json!(result.state.name()));
    if sub.wait {
        r.outputs.insert(
            "outputs".into(),
            Json::Object(result.outputs.clone().into_iter().collect()),
        );
    }
    r.message = Some(format!(
        "subflow {}.{} execution {id}: {}{}",
        child.namespace,
        child.id,
        result.state.name(),
        result
            .error
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    ));
    if state == State::Failed {
        r.failure = Some(Failure::Setup {
            message: format!("the subflow's execution {id} ended {}", result.state.name()),
        });
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_state_follows_transmit_failed() {
        let rows = [
            (State::Success, false, false, State::Success),
            (State::Success, true, false, State::Success),
            (State::Failed, false, false, State::Success),
            (State::Failed, true, false, State::Failed),
            (State::Killed, true, false, State::Failed),
            (State::Warning, true, false, State::Warning),
            (State::Warning, false, false, State::Success),
            (State::Success, false, true, State::Killed),
        ];
        for (child, transmit, cancelled, want) in rows {
            assert_eq!(
                task_state(child, transmit, cancelled),
                want,
                "{child:?} {transmit} {cancelled}"
            );
        }
    }

    #[test]
    fn child_ids_are_stable_valid_and_distinct() {
        let a = child_execution_id("abc123", "tasks[0]");
        assert_eq!(a, child_execution_id("abc123", "tasks[0]"));
        assert_ne!(a, child_execution_id("abc123", "tasks[1]"));
        assert!(crate::exec::execution_id::is_valid(&a), "{a}");
        let long = "x".repeat(64);
        let b = child_execution_id(&long, "tasks[0]");
        assert!(
            crate::exec::execution_id::is_valid(&b) && b.len() <= 64,
            "{b}"
        );
    }
}
