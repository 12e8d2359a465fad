//! The executor's walk of flow control: `runIf`, a script task's attempts (`retry`, with the
//! wait journaled so that a resume waits only for the rest), If/Switch/ForEach/Dag/AllowFailure
//! runs, and a flowable's local `errors` and `finally`. What to run is decided by the pure
//! functions of `exec::branch` and `exec::retry`; what was decided is journaled
//! (`Record::Decision`) so that a resumed execution takes the same branches and iterations.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::exec::journal::Record;
use crate::exec::result::{Failure, State, TaskResult};
use crate::exec::taskrun::{Frame, TaskRun};
use crate::exec::{Cancel, Runtime, Shared, Started, branch, retry, truth};
use crate::flow::control::{EachValues, FlowTask};
use crate::flow::model::{Flow, ScriptTask, Task, TaskKind};
use crate::flow::typed_template;

type Ctx = Arc<Shared>;

/// The object a run's outputs are under (`outputs.ID`): a script's `vars`, and its `exitCode`
/// as Kestra's `ScriptOutput` has it.
fn output_object(r: &TaskResult) -> Value {
    let mut o = json!({ "vars": r.outputs });
    if let Some(code) = r.exit_code {
        o["exitCode"] = json!(code);
    }
    // Output files by name, as their `kestra://` URIs: `outputs.T.outputFiles['name']`.
    if !r.stored_files.is_empty() {
        let files: serde_json::Map<String, Value> = r
            .stored_files
            .iter()
            .map(|f| (f.name.clone(), Value::String(f.uri.clone())))
            .collect();
        o["outputFiles"] = Value::Object(files);
    }
    o
}

/// Makes a run's outputs visible to the tasks after it.
pub fn publish(shared: &Shared, task: &Task, r: &TaskResult) {
    let mut tree = shared.outputs.lock().unwrap();
    crate::exec::taskrun::insert_outputs(&mut tree, &task.id, &r.values, output_object(r));
}

/// Makes a run's outputs visible as its own output object (`outputs.ID.NAME`, no `vars`): a
/// Subflow's, a core task's.
pub fn publish_own(shared: &Shared, task: &Task, r: &TaskResult) {
    let mut tree = shared.outputs.lock().unwrap();
    let own = Value::Object(r.outputs.clone().into_iter().collect());
    crate::exec::taskrun::insert_outputs(&mut tree, &task.id, &r.values, own);
}

/// Renders an expression of `task` in `frame` with what is known now.
fn render(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    shared: &Shared,
    frame: &Frame,
    text: &str,
) -> Result<String, String> {
    render_for(rt, flow, task, shared, &frame.context(&task.id, 1), text)
}

/// [`render`] for the task run `run` (a ForEachItem batch's, with `taskrun.items`).
pub(crate) fn render_for(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    shared: &Shared,
    run: &crate::plan::taskrun::TaskRunContext,
    text: &str,
) -> Result<String, String> {
    let tree = shared.outputs.lock().unwrap().clone();
    crate::plan::render_expression(flow, task, text, &rt.ctx, &rt.inputs, run, &tree)
}

/// The status line of a run that ended: `t[a]: FAILED (why)`.
fn ended_line(r: &TaskResult) -> String {
    format!(
        "{}: {}{}",
        r.display_id(),
        r.state.name(),
        r.message
            .as_ref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    )
}

/// Records a result that no container produced (a flowable's, a skip, a failed expression).
fn report(rt: &Runtime, shared: &Shared, mut r: TaskResult, frame: &Frame) -> State {
    r.values = frame.values();
    // A run that could not start (an If's condition, a ForEach's values that cannot be had)
    // is an ERROR entry, as Kestra logs the exception (EachSequentialTest `eachNull` reads it).
    if matches!(r.failure, Some(Failure::Setup { .. })) {
        crate::exec::error_logs::keep_if_failed(&rt.sink, &frame.run_id(&r.id), &r);
    }
    rt.sink.mask.result(&mut r);
    rt.status(&ended_line(&r));
    let st = r.state;
    shared.results.lock().unwrap().push(r);
    st
}

/// Reports the run of a Sequential or Parallel once its children and handlers ended: Kestra
/// lists it as a task run of its own, in the state its children give it (AllowFailureTest
/// asserts a Sequential's FAILED and WARNING).
pub fn report_group(
    rt: &Runtime,
    shared: &Shared,
    task: &Task,
    frame: &Frame,
    state: State,
    started: std::time::Instant,
) -> State {
    let mut r = TaskResult::new(&task.id, state);
    r.duration = started.elapsed();
    report(rt, shared, r, frame)
}

fn failed(id: &str, message: String) -> TaskResult {
    let mut r = TaskResult::new(id, State::Failed);
    r.failure = Some(Failure::Setup {
        message: message.clone(),
    });
    r.message = Some(message);
    r
}

/// The task's own typed properties written as templates (`timeout`, a Pause's `delay`),
/// rendered and converted as it starts, as Kestra renders its `Property<Duration>`s: the task
/// with their values, or `Err(state)` (FAILED, naming the property) when one cannot be.
pub fn typed_properties(
    rt: &Runtime,
    flow: &Flow,
    mut task: Task,
    shared: &Shared,
    frame: &Frame,
) -> Result<Task, State> {
    for tt in std::mem::take(&mut task.control.typed) {
        let r = render(rt, flow, &task, shared, frame, &tt.text)
            .map_err(|e| format!("`{}`: {e}", typed_template::shown(tt.property)))
            .and_then(|text| typed_template::apply_task(&mut task, &tt, &text));
        if let Err(e) = r {
            return Err(report(rt, shared, failed(&task.id, e), frame));
        }
    }
    Ok(task)
}

/// `runIf`: `Some(state)` when the task does not run (SKIPPED, or FAILED when the expression
/// cannot be rendered).
pub async fn run_if(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    shared: &Shared,
    frame: &Frame,
) -> Option<State> {
    let cond = task.control.run_if.as_ref()?;
    match render(rt, flow, task, shared, frame, cond) {
        Ok(s) if truth::truthy(&s) => None,
        Ok(s) => {
            let mut r = TaskResult::new(&task.id, State::Skipped);
            r.message = Some(format!("runIf rendered `{}`: skipped", s.trim()));
            Some(report(rt, shared, r, frame))
        }
        Err(e) => Some(report(
            rt,
            shared,
            failed(&task.id, format!("runIf: {e}")),
            frame,
        )),
    }
}

/// A number in [0, 1) from the kernel's random source (for the random retry delay).
fn random_unit() -> f64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Waits `ms`, or less if the run is cancelled: false when cancelled.
async fn wait_ms(rt: &Runtime, ms: u64) -> bool {
    let mut cancel = rt.cancel.clone();
    let sleep = tokio::time::sleep(std::time::Duration::from_millis(ms));
    tokio::pin!(sleep);
    loop {
        if *cancel.borrow() != Cancel::No {
            return false;
        }
        tokio::select! {
            _ = &mut sleep => return true,
            changed = cancel.changed() => if changed.is_err() {
                (&mut sleep).await;
                return true;
            },
        }
    }
}

/// One run of a script task, with its retries: each attempt is a new container and a new
/// journal attempt; between attempts the wait is journaled (`Record::RetryWait`).
pub async fn run_script(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    task: &Task,
    script: &ScriptTask,
    shared: &Ctx,
    frame: &Frame,
    mut started: Started,
) -> State {
    let mut attempts = match Attempts::begin(rt, flow, task, frame).await {
        Ok(a) => a,
        Err(killed) => return killed.state,
    };
    loop {
        let run = TaskRun {
            ctx: frame.context(&task.id, attempts.attempt.unwrap_or(1)),
            outputs: shared.outputs.lock().unwrap().clone(),
            values: frame.values(),
            attempt: attempts.attempt,
            deadline: frame.deadline,
        };
        let flat = Default::default();
        let mut r =
            crate::exec::task::run(rt, flow, task, script, &flat, started.take(), &run).await;
        match attempts.after(rt, &mut r).await {
            Next::Again => continue,
            Next::Killed => {
                let st = r.state;
                shared.results.lock().unwrap().push(r);
                return st;
            }
            Next::Done => {}
        }
        r.state = branch::finish_state(r.state, false, task.control.allow_warning);
        if rt.unreachable.lock().unwrap().is_none() {
            rt.status(&ended_line(&r));
        }
        publish(shared, task, &r);
        let st = r.state;
        shared.results.lock().unwrap().push(r);
        return st;
    }
}

/// The attempts of one run of a task under its `retry` (else the closest enclosing
/// flowable's, else the flow's: `retry::policy`), for any task Kestra
/// retries (a script, a core task): `attempt` is the one to start (`None` for a first one that
/// is not a retry); [`Attempts::after`] decides from an attempt's result whether another
/// starts (`retry::next_attempt_at`), journals the wait (`Record::RetryWait`, so a resume
/// waits only for the rest) and waits.
pub struct Attempts {
    policy: Option<crate::flow::control::Retry>,
    run_id: String,
    first_ms: u64,
    pub attempt: Option<u32>,
}

/// What follows an attempt.
pub enum Next {
    /// Another attempt, `Attempts::attempt`, is due now.
    Again,
    /// That was the last: its state is final (`retry::final_state`).
    Done,
    /// Cancelled while waiting for the next: the result is KILLED.
    Killed,
}

impl Attempts {
    /// The attempts of `task`'s run in `frame`; a retry that was waiting when an earlier run
    /// stopped is waited for what is left of it (`Err`: cancelled meanwhile, KILLED).
    pub async fn begin(
        rt: &Runtime,
        flow: &Flow,
        task: &Task,
        frame: &Frame,
    ) -> Result<Attempts, TaskResult> {
        let run_id = frame.run_id(&task.id);
        let ancestors: Vec<&str> = frame.parents.iter().map(|p| p.task_id.as_str()).collect();
        let policy = retry::policy(flow, task, &ancestors);
        let mut a = Attempts {
            policy: policy.cloned(),
            run_id,
            first_ms: crate::exec::journal::now_ms(),
            attempt: None,
        };
        if let Some(&(failed_attempt, first, until)) = rt.replay.retry_waits.get(&a.run_id) {
            a.first_ms = first;
            let left = retry::remaining_ms(until, crate::exec::journal::now_ms());
            rt.status(&format!(
                "{}: attempt {} failed before; attempt {} starts in {:.1} s",
                crate::exec::taskrun::display(&task.id, &frame.values()),
                failed_attempt,
                failed_attempt + 1,
                left as f64 / 1000.0
            ));
            if !wait_ms(rt, left).await {
                let mut r = TaskResult::new(&task.id, State::Killed);
                r.values = frame.values();
                return Err(r);
            }
            a.attempt = Some(failed_attempt + 1);
        }
        Ok(a)
    }

    /// After attempt `r` (its `attempts` set to its number): waits for the next one when
    /// there is one.
    pub async fn after(&mut self, rt: &Runtime, r: &mut TaskResult) -> Next {
        let this = r.attempts.max(self.attempt.unwrap_or(1));
        r.attempts = this;
        // The raw outcome: `allowFailure` has made a failure WARNING already.
        let failed_now =
            r.state == State::Failed || (r.state == State::Warning && r.failure.is_some());
        let next = self.policy.as_ref().and_then(|p| {
            let raw = if failed_now { State::Failed } else { r.state };
            retry::next_attempt_at(
                p,
                raw,
                this,
                self.first_ms,
                crate::exec::journal::now_ms(),
                random_unit(),
            )
        });
        let unreachable = rt.unreachable.lock().unwrap().is_some();
        let Some(until) = next.filter(|_| !unreachable && *rt.cancel.borrow() == Cancel::No) else {
            r.state = retry::final_state(self.policy.as_ref(), r.state, this);
            return Next::Done;
        };
        if let Some(j) = &rt.journal {
            let _ = j.append(
                &Record::RetryWait {
                    task: self.run_id.clone(),
                    attempt: this,
                    first_ms: self.first_ms,
                    until_ms: until,
                },
                true,
            );
        }
        let left = retry::remaining_ms(until, crate::exec::journal::now_ms());
        rt.status(&format!(
            "{}: attempt {this} {} ({}); attempt {} in {:.1} s",
            r.display_id(),
            State::Failed.name(),
            r.message.clone().unwrap_or_default(),
            this + 1,
            left as f64 / 1000.0
        ));
        if !wait_ms(rt, left).await {
            r.state = State::Killed;
            return Next::Killed;
        }
        self.attempt = Some(this + 1);
        Next::Again
    }
}

/// After a flowable's children: its `errors` when one failed, its `finally` in any case (not
/// after a cancel); its state from its children's (`allowFailure`, `allowWarning`).
pub async fn handlers(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    task: &Task,
    shared: &Ctx,
    frame: &Frame,
    states: Vec<State>,
) -> State {
    let child = frame.child(&task.id);
    let allow_failure = task.allow_failure
        || matches!(&task.kind, TaskKind::Flow(f) if matches!(**f, FlowTask::AllowFailure { .. }));
    let state = branch::flowable_state(&states, allow_failure, task.control.allow_warning);
    let cancelled = *rt.cancel.borrow() != Cancel::No;
    if states.contains(&State::Failed) && !task.control.errors.is_empty() && !cancelled {
        Box::pin(super::run_list(
            rt,
            flow,
            &task.control.errors,
            shared,
            &child,
            None,
        ))
        .await;
    }
    if !task.control.finally.is_empty() && !cancelled {
        Box::pin(super::run_list(
            rt,
            flow,
            &task.control.finally,
            shared,
            &child,
            None,
        ))
        .await;
    }
    state
}

/// A decision of a flow-control run: the journaled one on resume, else `decide`'s (journaled).
fn decision(
    rt: &Runtime,
    run_id: &str,
    decide: impl FnOnce() -> Result<Value, String>,
) -> Result<Value, String> {
    if let Some(v) = rt.replay.decisions.get(run_id) {
        return Ok(v.clone());
    }
    let v = decide()?;
    if let Some(j) = &rt.journal {
        let _ = j.append(
            &Record::Decision {
                task: run_id.to_string(),
                value: v.clone(),
            },
            true,
        );
    }
    Ok(v)
}

/// Runs a flow-control task: decides what runs, runs it, then its handlers; reports the run
/// (one result, with the decision) and its outputs (`evaluationResult` of If, `value` and
/// `defaults` of Switch).
pub async fn run_flowable(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    task: &Task,
    f: &FlowTask,
    shared: &Ctx,
    frame: &Frame,
) -> State {
    let run_id = frame.run_id(&task.id);
    let child = frame.child(&task.id);
    let started = std::time::Instant::now();
    let (states, message, outputs) = match f {
        FlowTask::If {
            condition,
            then,
            otherwise,
        } => {
            let d = decision(rt, &run_id, || {
                render(rt, flow, task, shared, frame, condition)
                    .map(|s| Value::Bool(truth::truthy(&s)))
            });
            let yes = match d {
                Ok(v) => v.as_bool().unwrap_or(false),
                Err(e) => {
                    return report(
                        rt,
                        shared,
                        failed(&task.id, format!("condition: {e}")),
                        frame,
                    );
                }
            };
            let list = if yes { then } else { otherwise };
            let states = super::run_list(rt, flow, list, shared, &child, None).await;
            (
                states,
                format!("condition {yes}: {}", if yes { "then" } else { "else" }),
                json!({ "evaluationResult": yes }),
            )
        }
        FlowTask::Switch {
            value,
            cases,
            defaults,
        } => {
            let d = decision(rt, &run_id, || {
                render(rt, flow, task, shared, frame, value).map(Value::String)
            });
            let v = match d {
                Ok(v) => v.as_str().unwrap_or_default().to_string(),
                Err(e) => {
                    return report(rt, shared, failed(&task.id, format!("value: {e}")), frame);
                }
            };
            let keys = cases.iter().map(|(k, _)| k.as_str());
            let (list, said, is_default) =
                match branch::switch_branch(&v, keys, !defaults.is_empty()) {
                    branch::SwitchBranch::Case(i) => {
                        (&cases[i].1, format!("case `{}`", cases[i].0), false)
                    }
                    branch::SwitchBranch::Defaults => (defaults, "defaults".to_string(), true),
                    branch::SwitchBranch::NoTask => {
                        // Kestra's warning, then the Switch fails (its handlers do not run).
                        rt.sink.task_lines(
                            &run_id,
                            crate::exec::logs::Stream::Stderr,
                            &format!(
                                "WARN No task found on flow '{}.{}', task '{}', execution '{}'",
                                flow.namespace, flow.id, task.id, rt.ctx.execution_id
                            ),
                        );
                        let state = branch::finish_state(
                            State::Failed,
                            task.allow_failure,
                            task.control.allow_warning,
                        );
                        let mut r = TaskResult::new(&task.id, state);
                        r.message = Some(format!("value `{v}`: no case matches and no defaults"));
                        return report(rt, shared, r, frame);
                    }
                };
            let states = super::run_list(rt, flow, list, shared, &child, None).await;
            (
                states,
                format!("value `{v}`: {said}"),
                json!({ "value": v, "defaults": is_default }),
            )
        }
        FlowTask::ForEach {
            values,
            concurrency_limit,
            tasks,
        } => {
            let d = decision(rt, &run_id, || {
                let vs = match values {
                    EachValues::List(items) => {
                        let mut rendered = Vec::new();
                        for v in items {
                            rendered.push(match v {
                                Value::String(s) => {
                                    Value::String(render(rt, flow, task, shared, frame, s)?)
                                }
                                other => other.clone(),
                            });
                        }
                        branch::each_values(&rendered)?
                    }
                    EachValues::Expression(e) => {
                        branch::parse_each_values(&render(rt, flow, task, shared, frame, e)?)?
                    }
                };
                Ok(json!(vs))
            });
            let vs: Vec<String> = match d {
                Ok(v) => serde_json::from_value(v).unwrap_or_default(),
                Err(e) => {
                    return report(rt, shared, failed(&task.id, format!("values: {e}")), frame);
                }
            };
            let states = for_each(
                rt,
                flow,
                task,
                tasks,
                &vs,
                *concurrency_limit,
                shared,
                frame,
            )
            .await;
            (states, format!("{} value(s)", vs.len()), json!({}))
        }
        FlowTask::Dag { concurrent, tasks } => {
            let states = dag(rt, flow, tasks, *concurrent, shared, &child).await;
            (states, format!("{} task(s)", tasks.len()), json!({}))
        }
        FlowTask::AllowFailure { tasks } => {
            let states = super::run_list(rt, flow, tasks, shared, &child, None).await;
            (states, String::new(), json!({}))
        }
    };
    let state = handlers(rt, flow, task, shared, frame, states).await;
    let mut r = TaskResult::new(&task.id, state);
    r.duration = started.elapsed();
    if !message.is_empty() {
        r.message = Some(message);
    }
    r.values = frame.values();
    // Kestra's task run carries them too (SwitchTest reads `value` and `defaults` off it).
    if let Value::Object(m) = &outputs {
        r.outputs = m.clone().into_iter().collect();
    }
    {
        let mut tree = shared.outputs.lock().unwrap();
        crate::exec::taskrun::insert_outputs(&mut tree, &task.id, &r.values, outputs);
    }
    report(rt, shared, r, frame)
}

/// A ForEach: its tasks in sequence for each value, `limit` values at a time (0: all). After a
/// failure no further value starts (as Kestra's); those under way finish.
#[allow(clippy::too_many_arguments)]
async fn for_each(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    task: &Task,
    tasks: &[Task],
    values: &[String],
    limit: usize,
    shared: &Ctx,
    frame: &Frame,
) -> Vec<State> {
    let each = frame.child(&task.id);
    if limit == 1 {
        let mut states = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let it = each.iteration(&task.id, v, i);
            let s = super::run_list(rt, flow, tasks, shared, &it, None).await;
            let stop = s.iter().any(|s| !s.continues());
            states.extend(s);
            if stop {
                break;
            }
        }
        return states;
    }
    let limit = if limit == 0 {
        values.len().max(1)
    } else {
        limit
    };
    let sem = Arc::new(tokio::sync::Semaphore::new(limit));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut set = tokio::task::JoinSet::new();
    for (i, v) in values.iter().enumerate() {
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        if stop.load(std::sync::atomic::Ordering::SeqCst) || *rt.cancel.borrow() != Cancel::No {
            break;
        }
        let it = each.iteration(&task.id, v, i);
        let (rt, flow, shared, stop, tasks) = (
            rt.clone(),
            flow.clone(),
            shared.clone(),
            stop.clone(),
            tasks.to_vec(),
        );
        set.spawn(async move {
            let _permit = permit;
            let s = super::run_list(&rt, &flow, &tasks, &shared, &it, None).await;
            if s.iter().any(|s| !s.continues()) {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            s
        });
    }
    let mut states = Vec::new();
    while let Some(r) = set.join_next().await {
        states.extend(r.unwrap_or_else(|_| vec![State::Failed]));
    }
    states
}

/// A Dag: each task starts once its dependencies ended well, at most `concurrent` at a time
/// (0: no limit); after a failure no task starts.
async fn dag(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    tasks: &[crate::flow::control::DagTask],
    concurrent: usize,
    shared: &Ctx,
    frame: &Frame,
) -> Vec<State> {
    let deps: Vec<Vec<usize>> = tasks
        .iter()
        .map(|d| {
            d.depends_on
                .iter()
                .filter_map(|id| tasks.iter().position(|x| &x.task.id == id))
                .collect()
        })
        .collect();
    let mut started = vec![false; tasks.len()];
    let mut ended: Vec<Option<State>> = vec![None; tasks.len()];
    let mut set = tokio::task::JoinSet::new();
    let mut running = 0usize;
    let mut stop = false;
    loop {
        if !stop && *rt.cancel.borrow() == Cancel::No {
            for i in branch::dag_ready(&deps, &started, &ended) {
                if concurrent != 0 && running >= concurrent {
                    break;
                }
                started[i] = true;
                running += 1;
                let (rt, flow, shared, frame, t) = (
                    rt.clone(),
                    flow.clone(),
                    shared.clone(),
                    frame.clone(),
                    tasks[i].task.clone(),
                );
                set.spawn(
                    async move { (i, super::run_one(rt, flow, t, shared, frame, None).await) },
                );
            }
        }
        let Some(done) = set.join_next().await else {
            break;
        };
        running -= 1;
        if let Ok((i, st)) = done {
            ended[i] = Some(st);
            if !st.continues() {
                stop = true;
            }
        }
    }
    ended.into_iter().flatten().collect()
}

/// The script tasks the flow's main lists hold outside flow control (directly or in
/// Parallel/Sequential): those reported SKIPPED when the flow stops before them.
pub fn reachable_scripts(flow: &Flow) -> Vec<&Task> {
    fn walk<'a>(t: &'a Task, out: &mut Vec<&'a Task>) {
        match &t.kind {
            TaskKind::Script(_) => out.push(t),
            TaskKind::Parallel { tasks, .. } | TaskKind::Sequential { tasks } => {
                for c in tasks {
                    walk(c, out);
                }
            }
            TaskKind::WorkingDirectory(w) => {
                for c in &w.tasks {
                    walk(c, out);
                }
            }
            TaskKind::Pause { tasks, .. } => {
                for c in tasks {
                    walk(c, out);
                }
            }
            TaskKind::Flow(_) | TaskKind::Subflow(_) | TaskKind::Core(_) | TaskKind::Image(_) => {}
        }
    }
    let mut out = Vec::new();
    for t in &flow.tasks {
        walk(t, &mut out);
    }
    out
}

/// A task reached after the `timeout` of a flowable around it ran out: FAILED, not started.
pub fn timed_out(rt: &Runtime, task: &Task, shared: &Shared, frame: &Frame) -> State {
    let mut r = TaskResult::new(&task.id, State::Failed);
    r.failure = Some(Failure::Timeout { after_ms: 0 });
    r.message = Some("not started: the timeout of a task around it ran out".into());
    report(rt, shared, r, frame)
}
