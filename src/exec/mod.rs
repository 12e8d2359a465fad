//! Running flows on a real engine through its CLI: one task after another (or side by side in
//! `Parallel`), with live logs, outputs passed between tasks, cancel on Ctrl-C/SIGTERM, and a
//! result per task.

pub mod batch_admission;
pub mod blocking;
pub mod branch;
pub mod concurrency;
pub mod containers;
pub mod core;
pub mod engine;
pub mod env_host;
pub mod error_logs;
pub mod execution_id;
pub mod file_inputs;
pub mod files;
pub mod flow_outputs;
pub mod for_each_item;
pub mod history;
pub mod host_process;
pub mod host_vars;
pub mod image_task;
pub mod images;
pub mod journal;
pub mod kv_files;
pub mod launch;
pub mod live;
pub mod log_store;
pub mod logs;
pub mod maintenance;
pub mod mask;
pub mod namespace_files;
pub mod outcome;
pub mod pause;
pub mod process;
pub mod progress;
pub mod pull_progress;
pub mod python_deps;
pub mod removals;
pub mod result;
pub mod retry;
pub mod stamp;
pub mod state_dir;
pub mod storage;
pub mod subflow;
pub mod subflow_depth;
pub mod swarm;
pub mod swarm_slots;
pub mod swarm_state;
pub mod task;
pub mod task_cache;
pub(crate) mod task_plan;
pub mod taskrun;
pub mod truth;
pub mod walk;
pub mod working_directory;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Semaphore, watch};

use crate::flow::model::{Flow, Task, TaskKind};
use crate::plan::context::PlanContext;
use engine::Engine;
use result::{FlowResult, Removal, State, TaskResult};

/// Why the run is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    No,
    Interrupt,
    Terminate,
}

/// Everything tasks of one execution share.
pub struct Runtime {
    pub engine: Engine,
    pub ctx: PlanContext,
    pub inputs: BTreeMap<String, String>,
    pub sink: logs::Sink,
    pub cancel: watch::Receiver<Cancel>,
    /// Status lines (task started, removal trouble) go to stderr unless quiet.
    pub quiet: bool,
    /// Where the execution is recorded as it goes (none for throwaway runs).
    pub journal: Option<Arc<journal::Journal>>,
    /// What an earlier run of this execution already did.
    pub replay: journal::Replay,
    /// Container removals under way: task id, and how it went.
    pub removals: Mutex<Vec<(String, tokio::task::JoinHandle<Removal>)>>,
    /// Removes finished containers, several to an engine call.
    pub remover: removals::Remover,
    /// Wait for the last removals before returning (`--wait-removal`) instead of handing them
    /// to the detached `rm` processes already doing them.
    pub wait_removal: bool,
    /// The KV store of the `kv.*` tasks (under the state directory); none for throwaway runs.
    pub kv: Option<crate::kv_store::KvStore>,
    /// Engine addresses (None: the default one) known to answer: checked up front (remote
    /// engines) or an engine command to them has succeeded.
    pub answered: Mutex<BTreeSet<Option<String>>>,
    /// Why the engine could not be reached, once a first command to it failed and `version`
    /// confirmed it: the run stops and exits 3.
    pub unreachable: Mutex<Option<String>>,
    /// The state directory (journals; a WorkingDirectory's cache), when there is one.
    pub state_dir: Option<camino::Utf8PathBuf>,
    /// The local internal storage output files are kept in, when there is one.
    pub storage: Option<storage::Storage>,
    diagnosing: tokio::sync::Mutex<()>,
}

impl Runtime {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: Engine,
        ctx: PlanContext,
        inputs: BTreeMap<String, String>,
        sink: logs::Sink,
        cancel: watch::Receiver<Cancel>,
        quiet: bool,
        journal: Option<Arc<journal::Journal>>,
        replay: journal::Replay,
    ) -> Self {
        Runtime {
            engine,
            ctx,
            inputs,
            sink,
            cancel,
            quiet,
            journal,
            replay,
            removals: Mutex::default(),
            remover: removals::Remover::default(),
            wait_removal: false,
            kv: None,
            answered: Mutex::default(),
            unreachable: Mutex::default(),
            state_dir: None,
            storage: None,
            diagnosing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn status(&self, line: &str) {
        if !self.quiet {
            eprintln!("dockhand: {}", self.sink.mask.text(line));
        }
    }

    /// A task's result as it ends: FAILED under `allowFailure` is WARNING, secrets are
    /// masked (before it is journaled, printed or seen by later tasks), and its end is
    /// journaled (fsync'd with `sync`).
    /// `run_id` is the run's (`t.0` inside a ForEach), as the journal keys it.
    pub fn end_task(
        &self,
        task: &Task,
        run_id: &str,
        attempt: u32,
        res: &mut TaskResult,
        sync: bool,
    ) {
        // Kestra logs a failed attempt's error at ERROR, for `errorLogs()`.
        error_logs::keep_if_failed(&self.sink, run_id, res);
        // `allowFailure` then `allowWarning`: both make a failure SUCCESS, as in Kestra.
        res.state = branch::finish_state(res.state, task.allow_failure, task.control.allow_warning);
        self.sink.mask.result(res);
        if let Some(j) = &self.journal
            && let Err(e) = j.append(
                &journal::Record::TaskEnd {
                    task: run_id.to_string(),
                    attempt,
                    result: res.clone(),
                },
                sync,
            )
        {
            self.status(&format!("{run_id}: {e}"));
        }
    }

    /// A task's status line as it ends: `ID: STATE (message)` (`ID[VALUE]` inside a ForEach).
    pub fn status_of(&self, r: &TaskResult) {
        self.status(&format!(
            "{}: {}{}",
            r.display_id(),
            r.state.name(),
            r.message
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ));
    }

    /// The engine at `host` answered a command.
    pub fn engine_answered(&self, host: Option<&str>) {
        self.answered
            .lock()
            .unwrap()
            .insert(host.map(str::to_string));
    }

    /// An engine command failed before the engine at `host` ever answered in this run: is the
    /// engine there at all? Asks it for its version once (5 s limit; later callers share the
    /// answer). `Some(message)` when it cannot be reached; the run then stops with exit code 3.
    pub async fn diagnose(&self, host: Option<&str>) -> Option<String> {
        let key = host.map(str::to_string);
        if self.answered.lock().unwrap().contains(&key) {
            return None;
        }
        let _one_at_a_time = self.diagnosing.lock().await;
        if self.answered.lock().unwrap().contains(&key) {
            return None;
        }
        if let Some(e) = self.unreachable.lock().unwrap().clone() {
            return Some(e);
        }
        match self
            .engine
            .check(host, std::time::Duration::from_secs(5))
            .await
        {
            Ok(_) => {
                self.engine_answered(host);
                None
            }
            Err(e) => {
                let e = e.to_string();
                *self.unreachable.lock().unwrap() = Some(e.clone());
                Some(e)
            }
        }
    }
}

/// What the runs of one execution share as it goes: outputs as Kestra exposes them
/// (`outputs.ID`, `outputs.ID[VALUE]` inside ForEach) and the results, one per run.
#[derive(Default)]
pub struct Shared {
    pub outputs: Mutex<serde_json::Map<String, serde_json::Value>>,
    pub results: Mutex<Vec<TaskResult>>,
    /// A task ended the execution (`execution.Exit`, or a failure of a core task): no task
    /// starts after it.
    pub exited: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// The outputs as the renderer's flat map takes them (`plan::Outputs`): a task's `vars`,
    /// or its own output object (a Subflow's, a core task's) under the scope's marker key.
    pub fn flat_outputs(&self) -> crate::plan::Outputs {
        flatten(&self.outputs.lock().unwrap())
    }

    /// The outputs tree of the tasks `names` (all when `None`), as Kestra exposes them.
    pub fn tree_of(
        &self,
        names: Option<&BTreeSet<String>>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let tree = self.outputs.lock().unwrap();
        match names {
            None => tree.clone(),
            Some(names) => names
                .iter()
                .filter_map(|n| tree.get(n).map(|v| (n.clone(), v.clone())))
                .collect(),
        }
    }
}

/// An outputs tree as the renderer's flat map takes it (see [`Shared::flat_outputs`]).
pub fn flatten(tree: &serde_json::Map<String, serde_json::Value>) -> crate::plan::Outputs {
    tree.iter()
        .map(|(k, v)| {
            let obj: BTreeMap<String, serde_json::Value> = v
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            let entry = match obj.get("vars").and_then(|x| x.as_object()) {
                Some(vars) if obj.len() == 1 => vars.clone().into_iter().collect(),
                _ => crate::plan::scope::own_outputs(&obj),
            };
            (k.clone(), entry)
        })
        .collect()
}

pub(crate) type Ctx = Arc<Shared>;

/// Told (sent, or dropped) once a task has started: its start is journaled and its first engine
/// command is next, or it ended without starting. `Parallel` waits for it before starting the
/// next child, so children start in flow order.
pub type Started = Option<tokio::sync::oneshot::Sender<()>>;

/// Runs the whole flow: its tasks (the first FAILED one stops them), then its `errors` if one
/// failed, its `finally`, and its `afterExecution`. The flow's state is that of its tasks, as
/// Kestra's (`errors` that succeed leave it FAILED; `finally` and `afterExecution` do not
/// change it).
pub async fn run_flow(rt: Arc<Runtime>, flow: Arc<Flow>) -> FlowResult {
    run_flow_keeping_outputs(rt, flow).await.0
}

/// [`run_flow`], also giving the outputs of its tasks at the end (a Subflow renders its
/// deprecated `outputs` with them, in the child execution's context).
pub async fn run_flow_keeping_outputs(
    rt: Arc<Runtime>,
    flow: Arc<Flow>,
) -> (FlowResult, crate::plan::Outputs) {
    let started = Instant::now();
    let shared: Ctx = Arc::default();
    let top = taskrun::Frame::default();
    let states = run_list(&rt, &flow, &flow.tasks, &shared, &top, None).await;
    let state = branch::flowable_state(&states, false, false);
    let c = &flow.control;
    // `execution.Exit` ended the execution: no `errors` or `finally` start after it.
    let exited = shared.exited.load(std::sync::atomic::Ordering::SeqCst);
    if matches!(state, State::Failed) && !c.errors.is_empty() && !exited {
        run_list(&rt, &flow, &c.errors, &shared, &top, None).await;
    }
    // A paused execution has not ended: its `finally` and `afterExecution` wait for `resume`.
    let paused = state == State::Paused;
    if !c.finally.is_empty() && !paused && !exited {
        run_list(&rt, &flow, &c.finally, &shared, &top, None).await;
    }
    if !c.after_execution.is_empty() && !paused {
        // These run on the ended execution, an Exit's too.
        shared
            .exited
            .store(false, std::sync::atomic::Ordering::SeqCst);
        // A subflow's child execution has its own context, so this is the child's state.
        let _ = rt.ctx.run_vars.ended.set(state.name().to_string());
        run_list(&rt, &flow, &c.after_execution, &shared, &top, None).await;
    }
    let mut tasks = std::mem::take(&mut *shared.results.lock().unwrap());
    // Removals that are done report how they went; the ones still under way (the last task's,
    // typically) are left to their detached `rm` processes, unless asked to wait for them. A
    // stopped run (Ctrl-C, SIGTERM) waits: it promises the containers are gone when it exits.
    // Those queued for the next shared `rm` start now: nothing will start them later.
    rt.remover.flush(&rt.engine.program, rt.quiet);
    let removals = std::mem::take(&mut *rt.removals.lock().unwrap());
    let wait = rt.wait_removal || *rt.cancel.borrow() != Cancel::No;
    for (container, h) in removals {
        let removal = if wait || h.is_finished() {
            h.await.unwrap_or(Removal::Failed)
        } else {
            // Dropping the handle detaches the task; the `rm` process is not killed with it.
            Removal::HandedOff
        };
        if let Some(r) = tasks
            .iter_mut()
            .find(|r| r.container.as_deref() == Some(container.as_str()))
        {
            r.removal = removal;
        }
    }
    // Tasks the flow stopped before are listed as SKIPPED, in file order (those of the main
    // lists: a branch not taken or a handler not needed is not a task the flow stopped before).
    for t in walk::reachable_scripts(&flow) {
        if !tasks.iter().any(|r| r.id == t.id) {
            let mut r = TaskResult::new(&t.id, State::Skipped);
            r.message = Some("not run: the flow stopped before it".into());
            tasks.push(r);
        }
    }
    // A cancel stops the flow KILLED whatever ran.
    let state = if tasks.iter().any(|t| t.state == State::Killed) {
        State::Killed
    } else {
        state
    };
    let mut result = FlowResult {
        execution_id: rt.ctx.execution_id.clone(),
        namespace: flow.namespace.clone(),
        flow_id: flow.id.clone(),
        // `none`: a flow of in-process tasks only, run with no engine found.
        engine: if rt.engine.program.as_os_str() == "none" {
            "none".to_string()
        } else {
            rt.engine.dialect.name().to_string()
        },
        state,
        duration: started.elapsed(),
        // The flow's, those the execution was given (a child's), those its tasks added.
        labels: result::execution_labels(
            &flow
                .labels
                .clone()
                .into_iter()
                .chain(rt.ctx.run_vars.labels.clone())
                .collect(),
            &tasks,
        ),
        tasks,
        outputs: Default::default(),
        error: None,
    };
    // Kestra renders the flow's outputs at the execution's end; one that fails fails it.
    if !flow.outputs.is_empty() && result.state.continues() {
        // The outputs tree (`outputs.t.vars.k`, ForEach runs by value) as the renderer takes it.
        let outputs = shared.flat_outputs();
        match flow_outputs::compute(&flow, &rt.ctx, &rt.inputs, &outputs) {
            Ok(o) => result.outputs = o,
            Err(e) => {
                rt.status(&format!("error: failed to render the flow's outputs: {e}"));
                result.state = State::Failed;
                result.error = Some(format!("failed to render the flow's outputs: {e}"));
            }
        }
    }
    (result, shared.flat_outputs())
}

/// Runs tasks in order, until one ends in a state the flow does not go on after; the states of
/// those that ran. `started` is told when the first starts.
async fn run_list(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    tasks: &[Task],
    shared: &Ctx,
    frame: &taskrun::Frame,
    mut started: Started,
) -> Vec<State> {
    let mut states = Vec::new();
    for t in tasks {
        let st = run_one(
            rt.clone(),
            flow.clone(),
            t.clone(),
            shared.clone(),
            frame.clone(),
            started.take(),
        )
        .await;
        states.push(st);
        if !st.continues() || shared.exited.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
    }
    states
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

fn run_one(
    rt: Arc<Runtime>,
    flow: Arc<Flow>,
    task: Task,
    shared: Ctx,
    frame: taskrun::Frame,
    started: Started,
) -> BoxFuture<State> {
    // The live status area lists the runs that do something themselves, not their groups.
    let shown = matches!(
        task.kind,
        TaskKind::Script(_)
            | TaskKind::Pause { .. }
            | TaskKind::Subflow(_)
            | TaskKind::Core(_)
            | TaskKind::Image(_)
    )
    .then(|| taskrun::display(&task.id, &frame.values()));
    Box::pin(async move {
        if let Some(id) = &shown {
            live::task_started(id);
        }
        let st = run_one_inner(rt, flow, task, shared, frame, started).await;
        if let Some(id) = &shown {
            live::task_ended(id, st);
        }
        st
    })
}

async fn run_one_inner(
    rt: Arc<Runtime>,
    flow: Arc<Flow>,
    task: Task,
    shared: Ctx,
    frame: taskrun::Frame,
    started: Started,
) -> State {
    if *rt.cancel.borrow() != Cancel::No {
        return State::Killed;
    }
    let run_id = frame.run_id(&task.id);
    if task.disabled {
        let mut r = TaskResult::new(&task.id, State::Skipped);
        r.values = frame.values();
        r.message = Some("disabled".into());
        shared.results.lock().unwrap().push(r);
        return State::Skipped;
    }
    if frame.timed_out() {
        return walk::timed_out(&rt, &task, &shared, &frame);
    }
    if let Some(st) = walk::run_if(&rt, &flow, &task, &shared, &frame).await {
        return st;
    }
    let task = match walk::typed_properties(&rt, &flow, task, &shared, &frame) {
        Ok(t) => t,
        Err(st) => return st,
    };
    // A flowable's `timeout` bounds everything below it.
    let frame = match &task.kind {
        TaskKind::Script(_) => frame,
        _ => frame.within(task.timeout),
    };
    // Finished before a crash or an earlier run: its result and outputs come from the journal.
    if let Some((_, r)) = rt.replay.ended.get(&run_id)
        && r.state.continues()
        && matches!(task.kind, TaskKind::Script(_))
        && !rt.replay.retry_waits.contains_key(&run_id)
    {
        let mut r = r.clone();
        rt.status(&format!(
            "{}: {} (from the journal, not run again)",
            r.display_id(),
            r.state.name()
        ));
        walk::publish(&shared, &task, &r);
        r.message = Some(
            format!("{} (from the journal)", r.message.unwrap_or_default())
                .trim_start()
                .to_string(),
        );
        let st = r.state;
        shared.results.lock().unwrap().push(r);
        return st;
    }
    match &task.kind {
        TaskKind::Script(script) => {
            walk::run_script(&rt, &flow, &task, script, &shared, &frame, started).await
        }
        TaskKind::Pause { delay, tasks } => {
            drop(started);
            let mut r = pause::run(&rt, &task, &run_id, *delay).await;
            r.values = frame.values();
            let st = r.state;
            shared.results.lock().unwrap().push(r);
            if st != State::Success || tasks.is_empty() {
                return st;
            }
            // Kestra's deprecated Pause `tasks`: once the pause ends they run as a sequence.
            // The Pause has told its start already: its children have no one to tell.
            let child = frame.child(&task.id);
            let states = Box::pin(run_list(&rt, &flow, tasks, &shared, &child, None)).await;
            walk::handlers(&rt, &flow, &task, &shared, &frame, states).await
        }
        TaskKind::Subflow(sub) => {
            drop(started);
            // Under `retry`, each attempt is a new child execution.
            let mut attempts = match walk::Attempts::begin(&rt, &flow, &task, &frame).await {
                Ok(a) => a,
                Err(killed) => return killed.state,
            };
            let r = loop {
                let attempt = attempts.attempt.unwrap_or(1);
                let mut r = subflow::run(&rt, &flow, &task, sub, &shared, &frame, attempt).await;
                // A subflow that cannot start (not found, bad inputs) fails the task.
                if r.state == State::Failed && task.allow_failure {
                    r.state = State::Warning;
                }
                r.values = frame.values();
                r.attempts = attempt;
                match attempts.after(&rt, &mut r).await {
                    walk::Next::Again => continue,
                    walk::Next::Done | walk::Next::Killed => break r,
                }
            };
            rt.status(&format!("{}: {}", r.display_id(), r.state.name()));
            // Kestra's Subflow outputs are its own object (`outputs.ID.outputs.NAME`).
            walk::publish_own(&shared, &task, &r);
            let st = r.state;
            shared.results.lock().unwrap().push(r);
            st
        }
        TaskKind::Core(c) => {
            drop(started);
            // Only the outputs its texts read: a flow of many tasks costs the same per task.
            let tree = shared.tree_of(core::referenced(c).as_ref());
            let outputs = flatten(&tree);
            // Each attempt under `retry` runs it again, as Kestra retries any runnable task.
            let mut attempts = match walk::Attempts::begin(&rt, &flow, &task, &frame).await {
                Ok(a) => a,
                Err(killed) => return killed.state,
            };
            let r = loop {
                let run = core::CoreRun {
                    frame: &frame,
                    outputs: &outputs,
                    tree: &tree,
                    attempt: attempts.attempt,
                };
                let (mut r, told) = core::run(&rt, &flow, &task, c, &run).await;
                match attempts.after(&rt, &mut r).await {
                    walk::Next::Again => continue,
                    walk::Next::Killed => break r,
                    walk::Next::Done => {
                        if !told {
                            rt.status_of(&r);
                        }
                        break r;
                    }
                }
            };
            // A task with no outputs (Log, Fail, ...) has none to read, as in Kestra; the others'
            // are their own object (`outputs.ID.value`).
            if !r.outputs.is_empty() {
                walk::publish_own(&shared, &task, &r);
            }
            // `execution.Exit` ends the execution whatever state it gives.
            if core::ends_flow(c) {
                shared
                    .exited
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let st = r.state;
            shared.results.lock().unwrap().push(r);
            st
        }
        TaskKind::Image(it) => {
            drop(started);
            let snapshot = shared.flat_outputs();
            let mut r = image_task::run(&rt, &flow, &task, it, &snapshot).await;
            if r.state == State::Failed && task.allow_failure {
                r.state = State::Warning;
            }
            r.values = frame.values();
            rt.status(&format!("{}: {}", r.display_id(), r.state.name()));
            // Kestra's docker Build outputs are its own (`outputs.ID.imageId`).
            walk::publish_own(&shared, &task, &r);
            let st = r.state;
            shared.results.lock().unwrap().push(r);
            st
        }
        TaskKind::Sequential { tasks } => {
            let since = std::time::Instant::now();
            let child = frame.child(&task.id);
            let states = Box::pin(run_list(&rt, &flow, tasks, &shared, &child, started)).await;
            let st = walk::handlers(&rt, &flow, &task, &shared, &frame, states).await;
            walk::report_group(&rt, &shared, &task, &frame, st, since)
        }
        TaskKind::WorkingDirectory(w) => {
            working_directory::run(&rt, &flow, &task, w, &shared, &frame, started).await
        }
        TaskKind::Parallel { concurrent, tasks } => {
            let since = std::time::Instant::now();
            let child = frame.child(&task.id);
            let states = run_side_by_side(
                &rt,
                &flow,
                tasks.iter().map(|t| (t.clone(), child.clone())).collect(),
                *concurrent,
                &shared,
                started,
            )
            .await;
            let st = walk::handlers(&rt, &flow, &task, &shared, &frame, states).await;
            walk::report_group(&rt, &shared, &task, &frame, st, since)
        }
        TaskKind::Flow(f) => {
            drop(started);
            walk::run_flowable(&rt, &flow, &task, f, &shared, &frame).await
        }
    }
}

/// Runs tasks side by side, at most `concurrent` at a time (0: no limit), each in its frame;
/// after a failure, those not yet started are not started. The states of those that ran.
async fn run_side_by_side(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    tasks: Vec<(Task, taskrun::Frame)>,
    concurrent: usize,
    shared: &Ctx,
    started: Started,
) -> Vec<State> {
    let limit = if concurrent == 0 {
        tasks.len().max(1)
    } else {
        concurrent
    };
    let sem = Arc::new(Semaphore::new(limit));
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut set = tokio::task::JoinSet::new();
    let mut started = started;
    // Children start in flow order: each takes its slot here, in turn, and the next
    // one waits until it has started (spawned tasks would take their slots in whatever
    // order the runtime first polls them).
    for (child, frame) in tasks {
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        // After a failure, children not yet started are not started.
        if failed.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let (rt, flow, shared, failed) = (rt.clone(), flow.clone(), shared.clone(), failed.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        set.spawn(async move {
            let _permit = permit;
            let st = run_one(rt, flow, child, shared, frame, Some(tx)).await;
            if !st.continues() {
                failed.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            st
        });
        let _ = rx.await;
        if let Some(s) = started.take() {
            let _ = s.send(());
        }
    }
    drop(started);
    let mut states = Vec::new();
    while let Some(r) = set.join_next().await {
        states.push(r.unwrap_or(State::Failed));
    }
    states
}

/// Turns SIGINT and SIGTERM into a cancel request; a second signal exits at once.
pub fn watch_signals() -> watch::Receiver<Cancel> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = watch::channel(Cancel::No);
    // The handlers are installed here, before anything starts: installed inside the spawned
    // task, a signal that came before the runtime first polled it (an in-process task starts
    // at once) killed dockhand with the default action.
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return rx;
    };
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            let which = tokio::select! {
                _ = int.recv() => Cancel::Interrupt,
                _ = term.recv() => Cancel::Terminate,
            };
            count += 1;
            if count > 1 {
                eprintln!(
                    "dockhand: second signal: exiting without waiting; containers may be left running"
                );
                std::process::exit(
                    crate::exit::Code::for_signal(which == Cancel::Interrupt).value(),
                );
            }
            eprintln!("dockhand: stopping running containers (press Ctrl-C again to exit at once)");
            let _ = tx.send(which);
        }
    });
    rx
}

/// A fresh execution id: 12 characters of base36 from the kernel's random source.
pub fn new_execution_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 12];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (t >> (i * 8)) as u8 ^ std::process::id() as u8);
    }
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    bytes
        .iter()
        .map(|b| A[(*b as usize) % 36] as char)
        .collect()
}
