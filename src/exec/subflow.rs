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
use crate::exec::{Runtime, run_flow_keeping_outputs};
use crate::flow::model::{Flow, ResolvedSubflow, SubflowTask, Task};
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

/// The task's state from the child's, as Kestra's `ExecutableUtils.guessState`: with
/// `transmitFailed`, a FAILED, KILLED, WARNING or PAUSED child gives the task its state
/// (`allowFailure` turns FAILED into WARNING, `allowWarning` WARNING into SUCCESS); otherwise the
/// task succeeds. A stopped run is KILLED. Pure.
pub fn task_state(
    child: State,
    transmit_failed: bool,
    allow_failure: bool,
    allow_warning: bool,
    cancelled: bool,
) -> State {
    if cancelled {
        return State::Killed;
    }
    if !transmit_failed
        || !matches!(
            child,
            State::Failed | State::Killed | State::Warning | State::Paused
        )
    {
        return State::Success;
    }
    let s = if allow_failure && child == State::Failed {
        State::Warning
    } else {
        child
    };
    if s == State::Warning && allow_warning {
        State::Success
    } else {
        s
    }
}

/// The flow the task runs, its names rendered now: the one found before the run when it is
/// that flow, else looked up in the flows directory now (Kestra finds a subflow when the task
/// runs; a missing or invalid one fails the task).
pub(crate) fn child_flow<'a>(
    sub: &'a SubflowTask,
    namespace: &str,
    flow_id: &str,
) -> Result<std::borrow::Cow<'a, ResolvedSubflow>, String> {
    if let Some(r) = &sub.resolved
        && r.flow.namespace == namespace
        && r.flow.id == flow_id
    {
        return Ok(std::borrow::Cow::Borrowed(r));
    }
    let dir = sub.flows_dir.clone().unwrap_or_else(|| ".".into());
    crate::flow::subflows::find_at_run(camino::Utf8Path::new(&dir), namespace, flow_id)
        .map(std::borrow::Cow::Owned)
}

/// The task's failed result.
pub(crate) fn failed(task: &Task, msg: String) -> TaskResult {
    let mut r = TaskResult::new(&task.id, State::Failed);
    r.failure = Some(Failure::Setup {
        message: msg.clone(),
    });
    r.message = Some(msg);
    r
}

/// Runs the task's flow and returns the task's result.
pub async fn run(
    rt: &Arc<Runtime>,
    flow: &Flow,
    task: &Task,
    sub: &SubflowTask,
    shared: &crate::exec::Shared,
    frame: &crate::exec::taskrun::Frame,
    attempt: u32,
) -> TaskResult {
    if sub.for_each.is_some() {
        return crate::exec::for_each_item::run(rt, flow, task, sub, shared, frame).await;
    }
    let started = std::time::Instant::now();
    let run = frame.context(&task.id, attempt);
    let render = |t: &str| crate::exec::walk::render_for(rt, flow, task, shared, &run, t);
    let names = render(&sub.namespace).and_then(|n| Ok((n, render(&sub.flow_id)?)));
    let (namespace, flow_id) = match names {
        Ok(n) => n,
        Err(e) => return failed(task, format!("the subflow's namespace or flowId: {e}")),
    };
    let resolved = match child_flow(sub, &namespace, &flow_id) {
        Ok(r) => r,
        Err(e) => return failed(task, e),
    };
    // The inputs, rendered with the parent's values, then checked as `--input` values are.
    let mut given = BTreeMap::new();
    for (k, v) in &sub.inputs {
        match render(v) {
            Ok(v) => {
                given.insert(k.clone(), v);
            }
            Err(e) => return failed(task, format!("input `{k}` of the subflow: {e}")),
        }
    }
    // A run inside a ForEach has its own child execution per value.
    let values = frame.values();
    let mut key = if values.is_empty() {
        task.path.clone()
    } else {
        crate::exec::taskrun::display(&task.path, &values)
    };
    // A retry (`retry` of the task, a flowable or the flow) is a new child execution.
    if attempt > 1 {
        key = format!("{key}@{attempt}");
    }
    let id = child_execution_id(&rt.ctx.execution_id, &key);
    let labels = match child_labels(rt, flow, sub, &resolved.flow, &render) {
        Ok(l) => l,
        Err(e) => return failed(task, e),
    };
    let child = match start_child(rt, task, flow, &labels, &resolved, &given, &id) {
        Ok(c) => c,
        Err(e) => return failed(task, e),
    };
    if !sub.wait {
        // Kestra ends the task at once (SUCCESS, the child CREATED) and the child runs on its own.
        let mut r = TaskResult::new(&task.id, State::Success);
        if let Err(e) = detach(rt, sub, &resolved.flow, &child) {
            return failed(task, e);
        }
        r.duration = started.elapsed();
        r.outputs.insert("executionId".into(), json!(id));
        r.outputs.insert("state".into(), json!("CREATED"));
        r.message = Some(format!(
            "subflow {namespace}.{flow_id} execution {id} started on its own (`wait: false`; log {})",
            detached_log(&child.state_dir, &id)
        ));
        return r;
    }
    let (result, child_outputs) = run_child(rt, &resolved, child, labels.clone()).await;
    let cancelled = *rt.cancel.borrow() != crate::exec::Cancel::No;
    let state = task_state(
        result.state,
        sub.transmit_failed,
        task.allow_failure,
        task.control.allow_warning,
        cancelled,
    );
    let mut r = TaskResult::new(&task.id, state);
    r.duration = started.elapsed();
    r.outputs.insert("executionId".into(), json!(id));
    r.outputs.insert("state".into(), json!(result.state.name()));
    // The flow's outputs; without them, the deprecated task `outputs` rendered in the child
    // execution's context (Kestra's `Subflow.createSubflowExecutionResult`).
    let outputs = if resolved.flow.outputs.is_empty() && !sub.outputs.is_empty() {
        let mut ctx = child_context(rt, &id);
        ctx.run_vars.labels = labels;
        let mut out = serde_json::Map::new();
        for (k, v) in &sub.outputs {
            match plan::render_flow_text(
                &resolved.flow,
                &ctx,
                &result_inputs(&resolved.flow, &given),
                &child_outputs,
                v,
            ) {
                Ok(v) => {
                    out.insert(k.clone(), json!(v));
                }
                Err(e) => {
                    // Kestra: "Failed to extract outputs", the task FAILED (WARNING with allowFailure).
                    let mut f = failed(
                        task,
                        format!("failed to extract the subflow's output `{k}`: {e}"),
                    );
                    if task.allow_failure {
                        f.state = if task.control.allow_warning {
                            State::Success
                        } else {
                            State::Warning
                        };
                    }
                    f.outputs = r.outputs;
                    return f;
                }
            }
        }
        Some(Json::Object(out))
    } else if !result.outputs.is_empty() || !resolved.flow.outputs.is_empty() {
        Some(Json::Object(result.outputs.clone().into_iter().collect()))
    } else {
        None
    };
    if let Some(o) = outputs {
        r.outputs.insert("outputs".into(), o);
    }
    r.message = Some(format!(
        "subflow {}.{} execution {id}: {}{}",
        namespace,
        flow_id,
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

/// The inputs the child runs with, as `--input` values are checked (for rendering).
fn result_inputs(child: &Flow, given: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    plan::resolve_inputs(child, given).unwrap_or_else(|_| given.clone())
}

/// The child execution's plan context: the parent's, with the child's id.
fn child_context(rt: &Runtime, id: &str) -> plan::context::PlanContext {
    let mut ctx = rt.ctx.clone();
    ctx.execution_id = id.to_string();
    // The chain's first execution, as Kestra's `system.correlationId` label.
    let root = ctx.run_vars.correlation_id.take();
    ctx.run_vars.correlation_id = Some(root.unwrap_or_else(|| rt.ctx.execution_id.clone()));
    // The child ends on its own: its `afterExecution` sees its state, not the parent's.
    ctx.run_vars.ended = Default::default();
    ctx
}

/// A child execution journaled and ready to run (or to be continued).
pub(crate) struct Child {
    pub id: String,
    pub inputs: BTreeMap<String, String>,
    pub journal: Arc<Journal>,
    pub replay: Replay,
    pub state_dir: camino::Utf8PathBuf,
    /// The flows above the child, root first (its `PlanContext::subflow_chain`).
    pub chain: Vec<String>,
}

/// Checks how deep the child would nest and its inputs, and opens its journal, writing its
/// start the first time (with the `labels` it is given, so that a detached `dockhand resume`
/// of it has them too). `parent` is the flow of the Subflow task.
pub(crate) fn start_child(
    rt: &Runtime,
    task: &Task,
    parent: &Flow,
    labels: &BTreeMap<String, String>,
    resolved: &ResolvedSubflow,
    given: &BTreeMap<String, String>,
    id: &str,
) -> Result<Child, String> {
    let child = &resolved.flow;
    let name = |f: &Flow| format!("{}.{}", f.namespace, f.id);
    let above = &rt.ctx.subflow_chain;
    if let Err(e) = crate::exec::subflow_depth::check(above, &name(parent), &name(child)) {
        // Said where it happens: the executions above report only that their child failed.
        rt.status(&format!("{}: {e}", task.id));
        return Err(e);
    }
    let inputs = plan::resolve_inputs(child, given)
        .map_err(|e| format!("inputs of flow {}.{}: {e}", child.namespace, child.id))?;
    let Some(state_dir) = rt
        .journal
        .as_ref()
        .and_then(|j| j.path().parent()?.parent().map(|p| p.to_path_buf()))
    else {
        return Err("a subflow needs the execution's journal (state directory)".into());
    };
    let journal = Arc::new(Journal::open(&state_dir, id).map_err(|e| e.to_string())?);
    let replay = Replay::from_records(journal::read(&state_dir, id).unwrap_or_default());
    let digest = journal::digest(&resolved.text);
    match &replay.start {
        Some(Record::Start { flow_digest, .. }) if *flow_digest != digest => {
            return Err(format!(
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
                labels: child
                    .labels
                    .clone()
                    .into_iter()
                    .chain(labels.clone())
                    .collect(),
            };
            journal.append(&start, true).map_err(|e| e.to_string())?;
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
    Ok(Child {
        id: id.to_string(),
        inputs,
        journal,
        replay,
        state_dir: state_dir.to_path_buf(),
        chain: crate::exec::subflow_depth::chain_of_child(above, &name(parent)),
    })
}

/// The labels of a child execution besides its flow's, as Kestra's
/// `ExecutableUtils.subflowExecution` gives them: with `inheritLabels` the parent execution's
/// (its flow's, then those it was given) but for those the child's flow sets itself, then the
/// task's `labels`, rendered with the parent's values.
pub(crate) fn child_labels(
    rt: &Runtime,
    flow: &Flow,
    sub: &SubflowTask,
    child: &Flow,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if sub.inherit_labels {
        let mut parent = flow.labels.clone();
        parent.extend(rt.ctx.run_vars.labels.clone());
        out = inherited(parent, &child.labels);
    }
    for (k, v) in &sub.labels {
        out.insert(
            render(k)?,
            render(v).map_err(|e| format!("label `{k}`: {e}"))?,
        );
    }
    Ok(out)
}

/// The parent's labels a child inherits: those its own flow does not set (Kestra's
/// `ExecutableUtils.filterLabels`). Pure.
pub fn inherited(
    parent: BTreeMap<String, String>,
    child_flow: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    parent
        .into_iter()
        .filter(|(k, _)| !child_flow.contains_key(k))
        .collect()
}

/// Runs a child execution in this process to its end (its end journaled), with `labels`
/// over its flow's; its result and the outputs of its tasks.
pub(crate) async fn run_child(
    rt: &Arc<Runtime>,
    resolved: &ResolvedSubflow,
    c: Child,
    labels: BTreeMap<String, String>,
) -> (FlowResult, plan::Outputs) {
    let child = &resolved.flow;
    let mut ctx = child_context(rt, &c.id);
    ctx.run_vars.labels = labels;
    ctx.subflow_chain = c.chain.clone();
    // A flow found when the task runs: Podman's short names of its images looked up now
    // (those of a flow found before the run were, with the parent's).
    let known = crate::exec::images::short_names(child, rt.engine.host.as_deref())
        .into_iter()
        .all(|(h, names)| {
            names
                .into_iter()
                .all(|n| ctx.local_images.contains(&(h.clone(), n)))
        });
    if !known {
        ctx.local_images
            .extend(crate::exec::images::local_short_names(&rt.engine, child).await);
    }
    ctx.secrets.extend(plan::secret_values(child, &c.inputs));
    let mut child_rt = Runtime::new(
        rt.engine.clone(),
        ctx,
        c.inputs,
        rt.sink.clone(),
        rt.cancel.clone(),
        rt.quiet,
        Some(c.journal.clone()),
        c.replay,
    );
    // The child shares the parent's stores: Kestra's KV store is the namespace's, whoever
    // runs, and its files are kept with the parent's.
    child_rt.kv = rt.kv.clone();
    child_rt.state_dir = rt.state_dir.clone();
    child_rt.storage = rt.storage.clone();
    child_rt.wait_removal = rt.wait_removal;
    let child_rt = Arc::new(child_rt);
    let (result, outputs) =
        Box::pin(run_flow_keeping_outputs(child_rt, Arc::new(child.clone()))).await;
    let _ = c.journal.append(
        &Record::End {
            state: result.state.name().to_string(),
            at: journal::Stamp::now(),
        },
        true,
    );
    (result, outputs)
}

/// Where a detached child's output goes: `STATE_DIR/detached/ID.log`.
pub(crate) fn detached_log(state_dir: &camino::Utf8Path, id: &str) -> camino::Utf8PathBuf {
    state_dir.join("detached").join(format!("{id}.log"))
}

/// Starts the child execution (journaled, not run) in a `dockhand resume` of its own, in a
/// session of its own so that it outlives this process; unless it has ended already or its
/// process still runs (a resumed parent does not start it twice).
pub(crate) fn detach(
    rt: &Runtime,
    sub: &SubflowTask,
    child: &Flow,
    c: &Child,
) -> Result<(), String> {
    if c.replay.finished {
        return Ok(());
    }
    let log = detached_log(&c.state_dir, &c.id);
    let pid_file = log.with_extension("pid");
    if let Ok(pid) = std::fs::read_to_string(&pid_file)
        && let Ok(pid) = pid.trim().parse::<u32>()
        && std::path::Path::new(&format!("/proc/{pid}")).exists()
    {
        return Ok(());
    }
    if let Some(p) = log.parent() {
        std::fs::create_dir_all(p).map_err(|e| format!("{p}: {e}"))?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| format!("{log}: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("the dockhand program: {e}"))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("resume")
        .arg(&c.id)
        .arg("--state-dir")
        .arg(c.state_dir.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(out);
    if let Some(d) = &sub.flows_dir {
        cmd.env(crate::flow::subflows::FLOWS_DIR_VAR, d);
    }
    // The flows above it, so that a flow calling itself with `wait: false` stops too.
    cmd.env(crate::exec::subflow_depth::CHAIN_VAR, c.chain.join(" "));
    // SECRET inputs are not journaled: they go in the environment, named on the command line.
    let secret = |k: &str| child.inputs.iter().any(|i| i.id == k && i.kind == "SECRET");
    for (n, (k, v)) in c.inputs.iter().filter(|(k, _)| secret(k)).enumerate() {
        let var = format!("DOCKHAND_DETACHED_INPUT_{n}");
        cmd.arg("--input-env").arg(format!("{k}={var}")).env(var, v);
    }
    if let Some(s) = &rt.storage {
        cmd.env("DOCKHAND_NAMESPACE_FILES", s.namespace_files.as_str());
    }
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting the detached subflow execution {}: {e}", c.id))?;
    std::fs::write(&pid_file, child.id().to_string()).map_err(|e| format!("{pid_file}: {e}"))?;
    rt.status(&format!(
        "subflow execution {} runs on its own (pid {}, log {log}); `dockhand executions` lists it",
        c.id,
        child.id()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_state_follows_transmit_failed() {
        use State::*;
        // (child, transmitFailed, allowFailure, allowWarning, cancelled) -> task, as Kestra's
        // ExecutableUtils.guessState.
        let rows = [
            (Success, false, false, false, false, Success),
            (Success, true, false, false, false, Success),
            (Failed, false, false, false, false, Success),
            (Failed, true, false, false, false, Failed),
            (Killed, true, false, false, false, Killed),
            (Paused, true, false, false, false, Paused),
            (Warning, true, false, false, false, Warning),
            (Warning, false, false, false, false, Success),
            (Failed, true, true, false, false, Warning),
            (Failed, true, true, true, false, Success),
            (Warning, true, false, true, false, Success),
            (Killed, true, true, false, false, Killed),
            (Success, false, false, false, true, Killed),
        ];
        for (child, transmit, af, aw, cancelled, want) in rows {
            assert_eq!(
                task_state(child, transmit, af, aw, cancelled),
                want,
                "{child:?} {transmit} {af} {aw} {cancelled}"
            );
        }
    }

    #[test]
    fn inherited_labels_give_way_to_the_child_flows() {
        let m = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // (parent's, child flow's) -> inherited
        let rows = [
            (m(&[("team", "a")]), m(&[]), m(&[("team", "a")])),
            (
                m(&[("team", "a"), ("env", "p")]),
                m(&[("team", "b")]),
                m(&[("env", "p")]),
            ),
            (m(&[]), m(&[("team", "b")]), m(&[])),
        ];
        for (parent, child, want) in rows {
            assert_eq!(
                inherited(parent.clone(), &child),
                want,
                "{parent:?} {child:?}"
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
