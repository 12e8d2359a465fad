//! Running one script task: working directory, create/copy steps, the attached run with live
//! logs, timeout and cancel, the final state from the exit code and `inspect`, output files,
//! and removal of the container. A task the journal shows as started is re-attached to (its
//! log followed from the first line not yet printed) instead of being started twice.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::exec::journal::{InFlight, Record};
use crate::exec::logs::{self, Captured, Progress, Stream};
use crate::exec::outcome::{self, Decision, EngineCheck, Inspected, Observed, Resume};
use crate::exec::process;
use crate::exec::result::{Failure, State, TaskResult};
use crate::exec::{Cancel, Runtime};
use crate::flow::model::{Flow, ScriptTask, Task};
use crate::plan::build::TaskCommands;
use crate::plan::command::EngineCommand;
use crate::plan::engine_commands;

/// The container's final state, from `inspect --format {{json .State}}`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub exit_code: i32,
    #[serde(default, rename = "OOMKilled")]
    pub oom_killed: bool,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub started_at: String,
}

impl ContainerState {
    pub fn never_started(&self) -> bool {
        self.started_at.is_empty() || self.started_at.starts_with("0001-01-01")
    }
}

async fn inspect(rt: &Runtime, tc: &TaskCommands) -> Inspected {
    match process::run_captured(&rt.engine.program, &tc.inspect).await {
        Err(e) => Inspected::Unreachable(e.to_string()),
        Ok(out) if out.ok() => match serde_json::from_str(out.stdout.trim()) {
            Ok(st) => Inspected::State(st),
            Err(e) => Inspected::Unreachable(format!("unreadable inspect output: {e}")),
        },
        Ok(out) if out.stderr.to_lowercase().contains("no such") => Inspected::Absent,
        Ok(out) => Inspected::Unreachable(out.error_line()),
    }
}

/// `inspect`, waiting up to `patience` for an engine that is restarting.
async fn inspect_patiently(rt: &Runtime, tc: &TaskCommands, patience: Duration) -> Inspected {
    let until = Instant::now() + patience;
    loop {
        match inspect(rt, tc).await {
            Inspected::Unreachable(e) if Instant::now() < until => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// Runs a task to its end. Never panics on engine trouble: everything becomes a state.
pub async fn run(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    outputs: &BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    start_signal: crate::exec::Started,
    run: &crate::exec::taskrun::TaskRun,
) -> TaskResult {
    let started = Instant::now();
    let run_id = run.ctx.id.as_str();
    // A retry names its attempt; the container of that attempt may be there from before a
    // crash (and is re-attached to), no other.
    let running = rt
        .replay
        .running
        .get(run_id)
        .filter(|f| run.attempt.is_none_or(|a| f.attempt == a));
    let attempt = run
        .attempt
        .unwrap_or_else(|| outcome::attempt(running, rt.replay.ended.get(run_id).map(|(a, _)| *a)));
    // A Process task in flight runs again, as a new attempt (it cannot be re-attached).
    let attempt = match crate::exec::host_process::on_resume(running) {
        crate::exec::host_process::OnResume::Rerun { attempt, .. } if !script.in_container() => {
            attempt
        }
        _ => attempt,
    };
    let in_flight = running.cloned();
    let mut cache = None;
    let mut res = run_inner(
        rt,
        flow,
        task,
        script,
        outputs,
        attempt,
        in_flight,
        start_signal,
        run,
        &mut cache,
    )
    .await;
    res.values = run.values.clone();
    // The attempt that actually ran (`resume: false` moves on to a new one) is the last part of
    // the container's name.
    let attempt = res
        .container
        .as_deref()
        .and_then(|c| c.rsplit('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(attempt);
    res.duration = started.elapsed();
    // Kestra logs a failed attempt's error at ERROR, for `errorLogs()`.
    crate::exec::error_logs::keep_if_failed(&rt.sink, run_id, &res);
    if res.state == State::Failed && task.allow_failure {
        res.state = State::Warning;
    }
    // DbtCLI's `storeManifest`: the manifest goes to the KV store, however the run ended.
    // The run's own directory (`t.1` inside a ForEach), where its container worked.
    let workdir = rt.ctx.workdir(run_id);
    if script.kv_files.iter().any(|f| !f.load) {
        crate::exec::kv_files::store(rt, flow, script, outputs, &workdir, &mut res);
    }
    // Output files go to the local internal storage, under their kestra:// URIs.
    if let Some(st) = &rt.storage
        && let Err(e) = st.keep(
            (&flow.namespace, &flow.id, &rt.ctx.execution_id),
            run_id,
            attempt,
            &workdir,
            &mut res,
        )
    {
        rt.status(&format!("{}: warning: output files not kept: {e}", task.id));
    }
    // Before it is journaled, printed or seen by later tasks.
    rt.sink.mask.result(&mut res);
    if let Some(p) = &cache {
        let ttl = task.control.task_cache.and_then(|c| c.ttl);
        if let Err(e) = crate::exec::task_cache::store(p, &res, &rt.ctx.execution_id, &workdir, ttl)
        {
            rt.status(&format!("{}: warning: result not cached: {e}", task.id));
        }
    }
    if let Some(j) = &rt.journal
        && let Err(e) = j.append(
            &Record::TaskEnd {
                task: run_id.to_string(),
                attempt,
                result: res.clone(),
            },
            true,
        )
    {
        rt.status(&format!("{run_id}: {e}"));
    }
    res.attempts = attempt;
    res
}

#[allow(clippy::too_many_arguments)]
async fn run_inner(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    outputs: &BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    attempt: u32,
    in_flight: Option<InFlight>,
    start_signal: crate::exec::Started,
    run: &crate::exec::taskrun::TaskRun,
    cache: &mut Option<crate::exec::task_cache::Pending>,
) -> TaskResult {
    let res = TaskResult::new(&task.id, State::Failed);
    // One planning step for every backend.
    let planned =
        match crate::exec::task_plan::plan_attempt(rt, flow, task, script, outputs, attempt, run) {
            Ok(p) => p,
            Err(e) => return setup_failure(res, e),
        };
    // `taskCache`: a stored result of this task as rendered stands in for the run (not when a
    // container from before a crash is there to re-attach to).
    if in_flight.is_none() {
        let (rendered, workdir) = (&planned.rendered, &planned.tc.workdir);
        match crate::exec::task_cache::lookup(rt, flow, task, rendered, workdir).await {
            Ok(hit) => return hit,
            Err(pending) => *cache = pending,
        }
    }
    // A Process task runs on the host, without the engine.
    if let Some(hc) = &planned.tc.host {
        let in_flight = in_flight.as_ref();
        return crate::exec::host_process::run(
            rt,
            task,
            &planned.tc,
            hc,
            attempt,
            in_flight,
            start_signal,
        )
        .await;
    }
    if rt.ctx.backend.is_swarm() {
        return crate::exec::swarm::run(rt, flow, task, planned, in_flight, start_signal, run)
            .await;
    }
    let crate::exec::task_plan::Attempt {
        mut ctx,
        rendered,
        tc,
    } = planned;
    let mut job = Job {
        rt,
        tc: &tc,
        task,
        rendered: &rendered,
        res,
        unreachable: false,
        never_created: false,
        start_signal,
        deadline: run.deadline,
    };
    job.res.container = Some(tc.container.clone());
    // A container from before a crash: re-attach to it, or clear it away.
    let mut inspected = None;
    let next_attempt = loop {
        match outcome::resume(
            in_flight.as_ref(),
            rendered.runner.resume,
            inspected.as_ref(),
            &tc.container,
        ) {
            Resume::Fresh => return job.fresh(ctx.attempt).await,
            Resume::Inspect => inspected = Some(inspect(rt, &tc).await),
            Resume::Reattach { skip_out, skip_err } => {
                let status = match &inspected {
                    Some(Inspected::State(st)) => st.status.as_str(),
                    _ => "",
                };
                rt.status(&format!(
                    "{}: re-attaching to {} ({status}), {} log lines already shown",
                    task.id,
                    tc.container,
                    skip_out + skip_err
                ));
                return job.attach(skip_out, skip_err).await;
            }
            Resume::Unreachable { message } => {
                job.res.failure = Some(Failure::Engine { message });
                return job.res_with_message();
            }
            Resume::RemoveStale { next_attempt } => break next_attempt,
        }
    };
    // Not resumable (or `resume: false`): remove what is left of this task, start afresh.
    // The address the task's own commands go to, as `build` chose it.
    let host = rendered.runner.host.as_deref().or(ctx.host.as_deref());
    remove_stale(rt, &tc, host).await;
    if !next_attempt {
        return job.fresh(ctx.attempt).await;
    }
    ctx.attempt = attempt + 1;
    let tc2 = crate::plan::rebuild_run(flow, &run.ctx.id, &rendered, &ctx);
    let mut job = Job {
        rt,
        tc: &tc2,
        task,
        rendered: &rendered,
        res: job.res,
        unreachable: false,
        never_created: false,
        start_signal: job.start_signal.take(),
        deadline: run.deadline,
    };
    job.res.container = Some(tc2.container.clone());
    job.fresh(ctx.attempt).await
}

/// Removes every container of this execution's task (any attempt).
async fn remove_stale(rt: &Runtime, tc: &TaskCommands, host: Option<&str>) {
    let global = engine_commands::Global::new(rt.ctx.dialect, host);
    let find = engine_commands::list_task_containers(&global, &rt.ctx.execution_id, &tc.task_id);
    let Ok(out) = process::run_captured(&rt.engine.program, &find).await else {
        return;
    };
    let ids: Vec<&str> = out.stdout.split_whitespace().collect();
    if ids.is_empty() {
        return;
    }
    let rm = engine_commands::remove_now(&global, &ids);
    rt.status(&format!(
        "{}: removing {} stale container(s) of an earlier attempt",
        tc.task_id,
        ids.len()
    ));
    let _ = process::run_captured(&rt.engine.program, &rm).await;
}

struct Job<'a> {
    rt: &'a Runtime,
    tc: &'a TaskCommands,
    task: &'a Task,
    rendered: &'a ScriptTask,
    res: TaskResult,
    /// The engine could not be reached at all: nothing was made, nothing to remove.
    unreachable: bool,
    /// The engine answered that it made no container (`create` failed, or `run` failed and
    /// `inspect` finds none): there is nothing to remove, and `removal` stays `none`.
    never_created: bool,
    /// Told once the task has started (see [`crate::exec::Started`]).
    start_signal: crate::exec::Started,
    /// When the `timeout` of a flowable around the task runs out.
    deadline: Option<Instant>,
}

/// How a followed process ended.
struct Followed {
    code: Option<i32>,
    stopped: Option<Failure>,
    captured: Captured,
}

impl Job<'_> {
    /// The engine address this task's commands go to (None: the default one).
    fn host(&self) -> Option<&str> {
        self.rendered
            .runner
            .host
            .as_deref()
            .or(self.rt.ctx.host.as_deref())
    }

    /// An engine command failed saying it could not connect: if the engine never answered in
    /// this run, find out whether it is there at all. True (and the task failed with that one
    /// line) when it is not. A connection lost midway (an engine restart) is not this: the
    /// container may exist, and the usual patience applies.
    async fn engine_unreachable(&mut self, stderr: &str) -> bool {
        if !could_not_connect(stderr) {
            return false;
        }
        match self.rt.diagnose(self.host()).await {
            None => false,
            Some(e) => {
                self.unreachable = true;
                self.res.failure = Some(Failure::Engine { message: e });
                true
            }
        }
    }

    fn res_with_message(mut self) -> TaskResult {
        if let Some(f) = &self.res.failure {
            self.res.message = Some(f.describe());
        }
        self.res
    }

    /// Starts the task's container: journal first, then create/copy/run.
    async fn fresh(mut self, attempt: u32) -> TaskResult {
        let (rt, tc) = (self.rt, self.tc);
        // Directory writes and an fsync: slow when the disk is busy.
        let prepared = crate::exec::blocking::off_worker(|| {
            prepare_and_journal(rt, tc, self.rendered, attempt)
        });
        if let Err(e) = prepared {
            return setup_failure(self.res, e);
        }
        rt.status(&format!(
            "{}: starting {} ({})",
            tc.task_id, tc.container, self.rendered.container_image
        ));
        self.mark_started();
        if let Some(d) = &tc.deps {
            match crate::exec::python_deps::ensure(rt, &tc.task_id, d).await {
                Ok(crate::exec::python_deps::Installed::Cached) => rt.status(&format!(
                    "{}: python dependencies from the cache {}",
                    tc.task_id, d.dir
                )),
                Ok(crate::exec::python_deps::Installed::Now { seconds }) => rt.status(&format!(
                    "{}: python dependencies installed in {seconds:.1}s",
                    tc.task_id
                )),
                Err(e) => {
                    self.never_created = true;
                    self.res.failure = Some(Failure::Engine { message: e });
                    return self.finish(true).await;
                }
            }
        }
        for cmd in &tc.prepare {
            if *rt.cancel.borrow() != Cancel::No {
                return self.finish_cancelled().await;
            }
            match process::run_captured(&rt.engine.program, cmd).await {
                Ok(out) if out.ok() => rt.engine_answered(self.host()),
                Ok(out) => {
                    if self.engine_unreachable(&out.stderr).await {
                        return self.finish(true).await;
                    }
                    for l in out.stderr.lines() {
                        rt.sink.write_task(
                            &tc.task_id,
                            crate::exec::logs::Stream::Stderr,
                            format!("{} ! {l}\n", tc.task_id).as_bytes(),
                        );
                    }
                    // A failed `create` made no container (a name clash means the container
                    // is someone else's: not ours to remove either).
                    self.never_created = cmd.step == crate::plan::command::Step::Create;
                    self.res.failure = Some(Failure::Engine {
                        message: format!("{} failed: {}", cmd.step.name(), out.error_line()),
                    });
                    self.res.exit_code = out.status;
                    return self.finish(true).await;
                }
                Err(e) => {
                    self.res.failure = Some(Failure::Engine {
                        message: format!("cannot run {}: {e}", rt.engine.program.display()),
                    });
                    return self.finish(true).await;
                }
            }
        }
        if tc.detach {
            // `start` without --attach prints the container name: not task output.
            match process::run_captured(&rt.engine.program, &tc.run).await {
                Ok(out) if out.ok() => {
                    rt.engine_answered(self.host());
                    self.res.state = State::Success;
                    self.res.exit_code = Some(0);
                    self.res.message = Some("started; not waiting (wait: false)".into());
                    self.res.removal = crate::exec::result::Removal::Kept;
                    return self.res;
                }
                // No engine there: the failure is set, and the run ends with its one line.
                Ok(out) if self.engine_unreachable(&out.stderr).await => {}
                Ok(out) => {
                    self.res.failure = Some(Failure::Engine {
                        message: format!("the container did not start: {}", out.error_line()),
                    })
                }
                Err(e) => {
                    self.res.failure = Some(Failure::Engine {
                        message: format!("cannot run {}: {e}", rt.engine.program.display()),
                    })
                }
            }
            return self.finish(true).await;
        }
        let f = match self.follow(&tc.run, 0, 0).await {
            Ok(f) => f,
            Err(e) => {
                self.res.failure = Some(Failure::Engine {
                    message: format!("cannot run {}: {e}", rt.engine.program.display()),
                });
                return self.finish(true).await;
            }
        };
        self.absorb(&f.captured);
        self.conclude(f).await
    }

    /// The task has started: a `Parallel` may start its next child.
    fn mark_started(&mut self) {
        if let Some(s) = self.start_signal.take() {
            let _ = s.send(());
        }
    }

    /// Follows an existing container's log from after the lines already printed.
    async fn attach(mut self, skip_out: u64, skip_err: u64) -> TaskResult {
        self.mark_started();
        let f = match self.follow(&self.tc.logs, skip_out, skip_err).await {
            Ok(f) => f,
            Err(e) => {
                self.res.failure = Some(Failure::Engine {
                    message: format!("cannot follow the log: {e}"),
                });
                return self.finish(true).await;
            }
        };
        self.absorb(&f.captured);
        // The log client's exit code says nothing about the container: always inspect.
        let f = Followed { code: None, ..f };
        self.conclude(f).await
    }

    fn absorb(&mut self, c: &Captured) {
        for (k, v) in &c.outputs {
            self.res.outputs.insert(k.clone(), v.clone());
        }
        self.res.metrics.extend(c.metrics.iter().cloned());
    }

    /// Runs an engine command whose output is the task's log, until it exits, stopping the
    /// container on timeout or cancel.
    async fn follow(
        &self,
        cmd: &EngineCommand,
        skip_out: u64,
        skip_err: u64,
    ) -> std::io::Result<Followed> {
        let (rt, tc) = (self.rt, self.tc);
        let mut child = match process::spawn(&rt.engine.program, cmd, true).await {
            Ok(c) => c,
            Err(e) => {
                process::remove_private(&cmd.files);
                return Err(e);
            }
        };
        let captured = Arc::new(Mutex::new(Captured::default()));
        let progress: Option<Progress> = rt.journal.clone().map(|j| {
            let task = tc.task_id.clone();
            let (base_out, base_err) = (skip_out, skip_err);
            Arc::new(move |o: u64, e: u64| {
                // Counts are of this follow's stream; the journal keeps totals.
                let _ = j.append(
                    &Record::Progress {
                        task: task.clone(),
                        out: o.max(base_out),
                        err: e.max(base_err),
                    },
                    false,
                );
            }) as Progress
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let pumps = [
            (stdout_boxed(stdout), Stream::Stdout, skip_out),
            (stderr_boxed(stderr), Stream::Stderr, skip_err),
        ]
        .map(|(r, s, skip)| {
            let (sink, cap, id, progress) = (
                rt.sink.clone(),
                captured.clone(),
                tc.task_id.clone(),
                progress.clone(),
            );
            tokio::spawn(async move { logs::pump(r, s, &id, &sink, cap, skip, progress).await })
        });
        // The task's own timeout, or what is left of an enclosing flowable's, the sooner.
        let timeout = crate::exec::task_plan::attempt_timeout(self.task.timeout, self.deadline);
        let deadline = async {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        let mut cancel = rt.cancel.clone();
        let mut stopped: Option<Failure> = None;
        let status = loop {
            tokio::select! {
                st = child.wait() => break st,
                _ = &mut deadline, if stopped.is_none() => {
                    stopped = Some(Failure::Timeout { after_ms: timeout.unwrap_or_default().as_millis() as u64 });
                    stop(rt, tc).await;
                }
                _ = wait_cancel(&mut cancel), if stopped.is_none() => {
                    stopped = Some(Failure::Cancelled);
                    stop(rt, tc).await;
                }
            }
        };
        for p in pumps {
            let _ = p.await;
        }
        process::remove_private(&cmd.files);
        let captured = captured.lock().unwrap().clone();
        Ok(Followed {
            code: status.ok().and_then(|s| s.code()),
            stopped,
            captured,
        })
    }

    /// The state from how the run ended, then output files and removal: gathers what
    /// [`outcome::decide`] needs, step by step, and applies its decision.
    async fn conclude(mut self, f: Followed) -> TaskResult {
        let (rt, tc) = (self.rt, self.tc);
        if f.stopped.is_none() && (f.code == Some(0) || f.captured.stdout_lines > 0) {
            // The command ran, or the container printed: the engine was there.
            rt.engine_answered(self.host());
        }
        let mut engine = EngineCheck::NotAsked;
        let mut inspected = None;
        let mut oom_marker = false;
        let decision = loop {
            let observed = Observed {
                stopped: f.stopped.as_ref(),
                client_code: f.code,
                last_stderr: &f.captured.last_stderr,
                engine: engine.clone(),
                inspected: inspected.as_ref(),
                oom_marker,
                memory_limit: self.rendered.runner.memory.memory,
                dialect: rt.engine.dialect,
                container: &tc.container,
            };
            match outcome::decide(&observed) {
                Decision::AskEngine => {
                    engine = match rt.diagnose(self.host()).await {
                        None => EngineCheck::There,
                        Some(e) => EngineCheck::Absent(e),
                    }
                }
                Decision::Inspect => {
                    // Podman's conmon leaves an `oom` file in the client's working directory (a
                    // private directory of the task) when the kernel kills the container for
                    // memory.
                    oom_marker = tc
                        .run
                        .cwd
                        .as_ref()
                        .map(|d| std::path::Path::new(d).join("oom"))
                        .is_some_and(|p| {
                            let found = p.exists();
                            let _ = std::fs::remove_file(&p);
                            found
                        });
                    let i = inspect_patiently(rt, tc, Duration::from_secs(30)).await;
                    if !matches!(i, Inspected::Unreachable(_)) {
                        rt.engine_answered(self.host());
                    }
                    inspected = Some(i);
                }
                d => break d,
            }
        };
        match decision {
            Decision::AskEngine | Decision::Inspect => unreachable!("gathered above"),
            Decision::Cancelled => self.finish_cancelled().await,
            Decision::Reattach => {
                // The client lost the container (engine restart with live-restore, client
                // killed): follow it from where the log left off.
                rt.status(&format!(
                    "{}: the engine client exited but {} is still running: re-attaching",
                    tc.task_id, tc.container
                ));
                let (o, e) = (f.captured.stdout_lines, f.captured.stderr_lines);
                Box::pin(self.attach(o, e)).await
            }
            Decision::Success => {
                self.res.state = State::Success;
                self.res.exit_code = Some(0);
                self.finish(false).await
            }
            Decision::Failed {
                failure,
                exit_code,
                message,
            } => {
                self.res.failure = Some(failure);
                self.res.exit_code = exit_code;
                if message.is_some() {
                    self.res.message = message;
                }
                self.finish(false).await
            }
            Decision::EngineAbsent { message } => {
                self.unreachable = true;
                self.res.failure = Some(Failure::Engine { message });
                self.finish(true).await
            }
            Decision::NotCreated { message, exit_code } => {
                self.never_created = true;
                self.res.failure = Some(Failure::Engine { message });
                self.res.exit_code = exit_code;
                self.finish(false).await
            }
            Decision::Unresolved { failure, exit_code } => {
                self.res.failure = Some(failure);
                self.res.exit_code = exit_code;
                self.res_with_message()
            }
        }
    }

    async fn finish_cancelled(mut self) -> TaskResult {
        self.res.state = State::Killed;
        self.res.failure = Some(Failure::Cancelled);
        self.finish(true).await
    }

    /// Copies outputs back, lists output files, removes the container, sets the message.
    async fn finish(mut self, early: bool) -> TaskResult {
        let (rt, tc) = (self.rt, self.tc);
        // The engine client's private working directory (empty by now, or holding conmon's
        // `oom` marker) goes.
        if let Some(d) = &tc.run.cwd {
            let _ = std::fs::remove_file(std::path::Path::new(d).join("oom"));
            let _ = std::fs::remove_dir(d);
        }
        if !early {
            for cmd in &tc.collect {
                if let Ok(out) = process::run_captured(&rt.engine.program, cmd).await
                    && !out.ok()
                {
                    rt.status(&format!(
                        "{}: copying the working directory back failed: {}",
                        tc.task_id,
                        out.error_line()
                    ));
                }
            }
            let got = crate::exec::blocking::off_worker(|| {
                crate::exec::files::collect(&tc.workdir, &tc.output_files)
            });
            self.res.output_files = got.files.into_iter().map(|p| p.to_string()).collect();
            if !got.refused.is_empty() {
                for r in &got.refused {
                    rt.status(&format!("{}: warning: {r}", tc.task_id));
                }
                let said = got.refused.join("; ");
                self.res.message = Some(match self.res.message.take() {
                    Some(m) => format!("{m}; {said}"),
                    None => said,
                });
            }
        }
        say_failure(&mut self.res);
        // The container goes, and with it the working directory, but for the output files the
        // result hands out. Kept with the container (`delete: false`, or `wait: false`, whose
        // container still runs), and where no engine answered (nothing ran; resume needs it).
        if tc.remove.is_some()
            && !self.unreachable
            && !rt.ctx.shares_workdir(&tc.task_id)
            && let Err(e) = crate::exec::blocking::off_worker(|| {
                crate::exec::files::prune(&tc.workdir, &self.res.output_files)
            })
        {
            rt.status(&format!(
                "{}: cannot remove the working directory {}: {e}",
                tc.task_id, tc.workdir
            ));
        }
        match &tc.remove {
            // Nothing was made where no engine answered, or where the engine made none.
            _ if self.unreachable || self.never_created => {}
            None => self.res.removal = crate::exec::result::Removal::Kept,
            Some(rm) => {
                // Removal overlaps with what runs next, several finished containers to a call
                // (`exec::removals`). The flow waits for the removals that are quick to finish;
                // the last ones go on without it (their `rm` is detached).
                let handle = rt.remover.remove(
                    &rt.engine.program,
                    rt.quiet,
                    rm.clone(),
                    tc.task_id.clone(),
                    tc.container.clone(),
                );
                rt.removals
                    .lock()
                    .unwrap()
                    .push((tc.container.clone(), handle));
            }
        }
        self.res
    }
}

/// Does the engine client say it could not connect to its engine at all (as opposed to losing
/// the connection midway)? Docker: "Cannot connect to the Docker daemon at …" or "error during
/// connect: …"; Podman: "unable to connect to Podman socket" / "Cannot connect to Podman".
pub fn could_not_connect(stderr: &str) -> bool {
    let s = stderr.to_lowercase();
    [
        "cannot connect to the docker daemon",
        "error during connect",
        "cannot connect to podman",
        "unable to connect to podman",
    ]
    .iter()
    .any(|m| s.contains(m))
}

fn stdout_boxed(
    s: tokio::process::ChildStdout,
) -> std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>> {
    Box::pin(s)
}

fn stderr_boxed(
    s: tokio::process::ChildStderr,
) -> std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>> {
    Box::pin(s)
}

/// Before a task's container (or service) is made: its working directory written, and its
/// start journaled (without a journal entry a crash would lose track of it: it is not made).
pub(crate) fn prepare_and_journal(
    rt: &Runtime,
    tc: &TaskCommands,
    rendered: &ScriptTask,
    attempt: u32,
) -> Result<(), String> {
    let open = rendered
        .runner
        .user
        .as_deref()
        .is_some_and(|u| !matches!(u, "root" | "0" | "0:0"));
    crate::exec::files::prepare(&tc.workdir, &tc.input_files, open, &tc.secret_files)
        .map_err(|e| format!("cannot prepare the working directory {}: {e}", tc.workdir))?;
    if let Some(j) = &rt.journal {
        j.append(
            &Record::TaskStart {
                task: tc.task_id.clone(),
                container: tc.container.clone(),
                attempt,
                at: crate::exec::journal::Stamp::now(),
            },
            true,
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A task that did not succeed: its message starts with what went wrong.
pub(crate) fn say_failure(res: &mut TaskResult) {
    if res.state != State::Success
        && let Some(f) = &res.failure
    {
        let extra = res
            .message
            .take()
            .map(|m| format!("; {m}"))
            .unwrap_or_default();
        res.message = Some(format!("{}{extra}", f.describe()));
    }
}

pub(crate) fn setup_failure(mut res: TaskResult, message: String) -> TaskResult {
    res.failure = Some(Failure::Setup {
        message: message.clone(),
    });
    res.message = Some(message);
    res
}

pub(crate) async fn wait_cancel(rx: &mut watch::Receiver<Cancel>) {
    loop {
        if *rx.borrow() != Cancel::No {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Stops the container: `stop -t <killGracePeriod>` or `kill`.
async fn stop(rt: &Runtime, tc: &TaskCommands) {
    if let Ok(out) = process::run_captured(&rt.engine.program, &tc.stop).await
        && !out.ok()
        && !out.stderr.contains("is not running")
    {
        rt.status(&format!(
            "{}: stopping {} failed: {}",
            tc.task_id,
            tc.container,
            out.error_line()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::could_not_connect;

    #[test]
    fn a_refused_connection_is_told_from_one_lost_midway() {
        // What docker 28.2 and podman 4.3 print when there is no engine at the address.
        for said in [
            "docker: Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
            "docker: error during connect: Head \"http://127.0.0.1:1/_ping\": dial tcp 127.0.0.1:1: connect: connection refused",
            "Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`",
            "Error: unable to connect to Podman socket: Get \"http://d/v4.3.1/libpod/_ping\": dial unix /x.sock: connect: no such file or directory",
        ] {
            assert!(could_not_connect(said), "{said}");
        }
        // A restart while the container runs, and ordinary failures, are something else.
        for said in [
            "time=\"2026-11-28T17:36:39Z\" level=error msg=\"error waiting for container: unexpected EOF\"",
            "docker: Error response from daemon: Conflict. The container name \"/x\" is already in use",
            "Error: short-name resolution enforced but cannot prompt without a TTY",
            "",
        ] {
            assert!(!could_not_connect(said), "{said}");
        }
    }
}
