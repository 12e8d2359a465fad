//! Running flows on a real engine through its CLI: one task after another (or side by side in
//! `Parallel`), with live logs, outputs passed between tasks, cancel on Ctrl-C/SIGTERM, and a
//! result per task.

pub mod containers;
pub mod engine;
pub mod env_host;
pub mod execution_id;
pub mod files;
pub mod image_task;
pub mod images;
pub mod journal;
pub mod launch;
pub mod logs;
pub mod maintenance;
pub mod mask;
pub mod outcome;
pub mod process;
pub mod python_deps;
pub mod result;
pub mod state_dir;
pub mod task;

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
    /// Wait for the last removals before returning (`--wait-removal`) instead of handing them
    /// to the detached `rm` processes already doing them.
    pub wait_removal: bool,
    /// Engine addresses (None: the default one) known to answer: checked up front (remote
    /// engines) or an engine command to them has succeeded.
    pub answered: Mutex<BTreeSet<Option<String>>>,
    /// Why the engine could not be reached, once a first command to it failed and `version`
    /// confirmed it: the run stops and exits 3.
    pub unreachable: Mutex<Option<String>>,
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
            wait_removal: false,
            answered: Mutex::default(),
            unreachable: Mutex::default(),
            diagnosing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn status(&self, line: &str) {
        if !self.quiet {
            eprintln!("dockhand: {}", self.sink.mask.text(line));
        }
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

type Outputs = Arc<Mutex<BTreeMap<String, BTreeMap<String, serde_json::Value>>>>;

/// Told (sent, or dropped) once a task has started: its start is journaled and its first engine
/// command is next, or it ended without starting. `Parallel` waits for it before starting the
/// next child, so children start in flow order.
pub type Started = Option<tokio::sync::oneshot::Sender<()>>;

/// Runs the whole flow; the first FAILED task stops it.
pub async fn run_flow(rt: Arc<Runtime>, flow: Arc<Flow>) -> FlowResult {
    let started = Instant::now();
    let outputs: Outputs = Arc::default();
    let results: Arc<Mutex<Vec<TaskResult>>> = Arc::default();
    run_list(&rt, &flow, &flow.tasks, &outputs, &results, None).await;
    let mut tasks = std::mem::take(&mut *results.lock().unwrap());
    // Removals that are done report how they went; the ones still under way (the last task's,
    // typically) are left to their detached `rm` processes, unless asked to wait for them. A
    // stopped run (Ctrl-C, SIGTERM) waits: it promises the containers are gone when it exits.
    let removals = std::mem::take(&mut *rt.removals.lock().unwrap());
    let wait = rt.wait_removal || *rt.cancel.borrow() != Cancel::No;
    for (task, h) in removals {
        let removal = if wait || h.is_finished() {
            h.await.unwrap_or(Removal::Failed)
        } else {
            // Dropping the handle detaches the task; the `rm` process is not killed with it.
            Removal::HandedOff
        };
        if let Some(r) = tasks.iter_mut().find(|r| r.id == task) {
            r.removal = removal;
        }
    }
    // Tasks the flow stopped before are listed as SKIPPED, in file order.
    for (t, _) in flow.scripts() {
        if !tasks.iter().any(|r| r.id == t.id) {
            let mut r = TaskResult::new(&t.id, State::Skipped);
            r.message = Some("not run: the flow stopped before it".into());
            tasks.push(r);
        }
    }
    FlowResult {
        execution_id: rt.ctx.execution_id.clone(),
        namespace: flow.namespace.clone(),
        flow_id: flow.id.clone(),
        engine: rt.engine.dialect.name().to_string(),
        state: FlowResult::state_of(&tasks),
        duration: started.elapsed(),
        tasks,
    }
}

/// Runs tasks in order; false when the flow must stop. `started` is told when the first starts.
async fn run_list(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    tasks: &[Task],
    outputs: &Outputs,
    results: &Arc<Mutex<Vec<TaskResult>>>,
    mut started: Started,
) -> bool {
    for t in tasks {
        if !run_one(
            rt.clone(),
            flow.clone(),
            t.clone(),
            outputs.clone(),
            results.clone(),
            started.take(),
        )
        .await
        {
            return false;
        }
    }
    true
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

fn run_one(
    rt: Arc<Runtime>,
    flow: Arc<Flow>,
    task: Task,
    outputs: Outputs,
    results: Arc<Mutex<Vec<TaskResult>>>,
    started: Started,
) -> BoxFuture<bool> {
    Box::pin(run_one_inner(rt, flow, task, outputs, results, started))
}

/// A task's end: its outputs for the tasks after it, its result; whether the flow goes on.
fn record(outputs: &Outputs, results: &Mutex<Vec<TaskResult>>, r: TaskResult) -> bool {
    outputs
        .lock()
        .unwrap()
        .insert(r.id.clone(), r.outputs.clone());
    let go_on = r.state.continues();
    results.lock().unwrap().push(r);
    go_on
}

async fn run_one_inner(
    rt: Arc<Runtime>,
    flow: Arc<Flow>,
    task: Task,
    outputs: Outputs,
    results: Arc<Mutex<Vec<TaskResult>>>,
    started: Started,
) -> bool {
    if *rt.cancel.borrow() != Cancel::No {
        return false;
    }
    if task.disabled {
        let mut r = TaskResult::new(&task.id, State::Skipped);
        r.message = Some("disabled".into());
        results.lock().unwrap().push(r);
        return true;
    }
    // Finished before a crash or an earlier run: its result and outputs come from the journal.
    if let Some((_, r)) = rt.replay.ended.get(&task.id)
        && r.state.continues()
        && matches!(task.kind, TaskKind::Script(_))
    {
        let mut r = r.clone();
        rt.status(&format!(
            "{}: {} (from the journal, not run again)",
            r.id,
            r.state.name()
        ));
        outputs
            .lock()
            .unwrap()
            .insert(task.id.clone(), r.outputs.clone());
        r.message = Some(
            format!("{} (from the journal)", r.message.unwrap_or_default())
                .trim_start()
                .to_string(),
        );
        results.lock().unwrap().push(r);
        return true;
    }
    match &task.kind {
        TaskKind::Script(script) => {
            let snapshot = outputs.lock().unwrap().clone();
            let r = task::run(&rt, &flow, &task, script, &snapshot, started).await;
            // An unreachable engine is reported once, as the run's error.
            let unreachable = rt.unreachable.lock().unwrap().is_some();
            if !unreachable {
                rt.status(&format!(
                    "{}: {}{}",
                    r.id,
                    r.state.name(),
                    r.message
                        .as_ref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ));
            }
            record(&outputs, &results, r)
        }
        TaskKind::Image(it) => {
            let snapshot = outputs.lock().unwrap().clone();
            let mut r = image_task::run(&rt, &flow, &task, it, &snapshot).await;
            if r.state == State::Failed && task.allow_failure {
                r.state = State::Warning;
            }
            rt.status(&format!("{}: {}", r.id, r.state.name()));
            record(&outputs, &results, r)
        }
        TaskKind::Sequential { tasks } => {
            Box::pin(run_list(&rt, &flow, tasks, &outputs, &results, started)).await
        }
        TaskKind::Parallel { concurrent, tasks } => {
            let limit = if *concurrent == 0 {
                tasks.len().max(1)
            } else {
                *concurrent
            };
            let sem = Arc::new(Semaphore::new(limit));
            let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let mut set = tokio::task::JoinSet::new();
            let mut started = started;
            // Children start in flow order: each takes its slot here, in turn, and the next
            // one waits until it has started (spawned tasks would take their slots in whatever
            // order the runtime first polls them).
            for child in tasks.iter().cloned() {
                let Ok(permit) = sem.clone().acquire_owned().await else {
                    break;
                };
                // After a failure, children not yet started are not started.
                if failed.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let (rt, flow, outputs, results, failed) = (
                    rt.clone(),
                    flow.clone(),
                    outputs.clone(),
                    results.clone(),
                    failed.clone(),
                );
                let (tx, rx) = tokio::sync::oneshot::channel();
                set.spawn(async move {
                    let _permit = permit;
                    let ok = run_one(rt, flow, child, outputs, results, Some(tx)).await;
                    if !ok {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    Some(ok)
                });
                let _ = rx.await;
                if let Some(s) = started.take() {
                    let _ = s.send(());
                }
            }
            drop(started);
            let mut all_ok = true;
            while let Some(r) = set.join_next().await {
                all_ok &= matches!(r, Ok(Some(true)));
            }
            all_ok
        }
    }
}

/// Turns SIGINT and SIGTERM into a cancel request; a second signal exits at once.
pub fn watch_signals() -> watch::Receiver<Cancel> {
    let (tx, rx) = watch::channel(Cancel::No);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
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
