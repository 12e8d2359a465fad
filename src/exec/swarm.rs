//! Running one script task as a Docker Swarm service (`--backend swarm`): configs and secrets
//! first, then `service create --detach`; the task's state polled on the manager while its log
//! is followed; once the task is terminal the follow is ended (`service logs --follow` never
//! ends by itself, moby#36626) and the log is read once more without `--follow`, skipping the
//! lines already printed, so that no line is lost or printed twice. The exit code comes from the
//! task's container status; the service (and its configs and secrets) is removed at the end.
//! Cancel and timeout remove the service, which stops its container with SIGTERM and then
//! SIGKILL after `--stop-grace-period` (killGracePeriod), and wait until the manager reports
//! the task gone. A journaled service found again by `resume` is re-attached to.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::exec::engine::Engine;
use crate::exec::journal::{InFlight, Record};
use crate::exec::logs::{self, Captured, Progress, Stream};
use crate::exec::process;
use crate::exec::result::{Failure, Removal, State, TaskResult};
use crate::exec::swarm_state::{self as st, Ending, Phase};
use crate::exec::task::{setup_failure, wait_cancel};
use crate::exec::task_plan::Attempt;
use crate::exec::{Cancel, Runtime};
use crate::flow::model::{Flow, ScriptTask, Task};
use crate::plan::build::TaskCommands;
use crate::plan::command::EngineCommand;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::Global;
use crate::plan::swarm::{self as sw, Object};

/// How many tasks this process is watching on a swarm right now: each polls less often the more
/// there are (see [`st::poll_interval`]).
static WATCHING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts one watched task while it lives.
struct Watching;

impl Watching {
    fn start() -> Self {
        WATCHING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Watching
    }

    fn now() -> usize {
        WATCHING.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        WATCHING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Checks, before anything starts, that the engine is docker and a swarm manager: the one
/// line the run then exits 3 with otherwise.
pub async fn check_manager(engine: &Engine, host: Option<&str>) -> Result<(), String> {
    if engine.dialect == Dialect::Podman {
        return Err(format!(
            "--backend swarm drives Docker Swarm services, and {} is Podman, which has no swarm mode: use docker (--engine docker)",
            engine.program.display()
        ));
    }
    let g = Global::new(Dialect::Docker, host);
    let address = host.map_or_else(|| engine.host_description(), str::to_string);
    let cmd = sw::swarm_state(&g);
    let out = process::capture(&engine.program, &cmd.argv(), Duration::from_secs(10))
        .await
        .map_err(|e| format!("{} cannot be run: {e}", engine.program.display()))?;
    if !out.ok() {
        return Err(format!(
            "{} cannot reach its engine at {address}: {}",
            engine.program.display(),
            out.error_line()
        ));
    }
    st::manager_check(&out.stdout, &address)
}

/// Every service with dockhand's managed label, as `ps` and `cleanup` list containers.
pub async fn list_services(
    engine: &Engine,
) -> Result<Vec<crate::exec::containers::Managed>, String> {
    let g = Global::new(Dialect::Docker, engine.host.as_deref());
    let limit = Duration::from_secs(30);
    let capture = |cmd: EngineCommand| async move {
        let out = process::capture(&engine.program, &cmd.argv(), limit)
            .await
            .map_err(|e| e.to_string())?;
        if out.ok() {
            Ok(out.stdout)
        } else {
            Err(out.error_line())
        }
    };
    let listed = capture(sw::list_managed_services(&g)).await?;
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let inspected = capture(sw::inspect_services(&g, &ids)).await?;
    Ok(inspected
        .lines()
        .filter_map(crate::exec::containers::parse_line)
        .collect())
}

/// Removes services (their containers are stopped on their nodes), then the configs and
/// secrets made for them.
pub async fn remove_services(engine: &Engine, names: &[&str]) -> Result<(), String> {
    let g = Global::new(Dialect::Docker, engine.host.as_deref());
    let limit = Duration::from_secs(120);
    let run = |cmd: EngineCommand| async move {
        process::capture(&engine.program, &cmd.argv(), limit)
            .await
            .map_err(|e| e.to_string())
    };
    let out = run(sw::service_rm(&g, names)).await?;
    if !out.ok() {
        return Err(out.error_line());
    }
    for kind in [Object::Config, Object::Secret] {
        let listed = run(sw::list_managed_objects(&g, kind)).await?;
        let ids: Vec<&str> = listed
            .stdout
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter(|(_, service)| names.contains(service))
            .map(|(id, _)| id)
            .collect();
        if !ids.is_empty() {
            let _ = run(sw::object_rm(&g, kind, &ids)).await?;
        }
    }
    Ok(())
}

/// Runs a planned attempt of a task on the swarm to its end (the caller journals the result).
pub(crate) async fn run(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    mut planned: Attempt,
    in_flight: Option<InFlight>,
    mut start_signal: crate::exec::Started,
    run: &crate::exec::taskrun::TaskRun,
) -> TaskResult {
    let res = TaskResult::new(&task.id, State::Failed);
    let host = planned
        .rendered
        .runner
        .host
        .clone()
        .or_else(|| planned.ctx.host.clone());
    let global = Global::new(Dialect::Docker, host.as_deref());
    let mut job = Job {
        rt,
        task,
        global,
        res,
        deadline: run.deadline,
    };
    // A service from before a crash: re-attach to it when it is still there (and `resume` is
    // not false); otherwise clear this task's services away and start a new attempt.
    let mut skip = (0, 0);
    let mut reattach = false;
    if let Some(f) = &in_flight {
        let there = job.service_there(&f.container).await;
        if there && planned.rendered.runner.resume && f.container == planned.tc.container {
            reattach = true;
            skip = (f.stdout_lines, f.stderr_lines);
            rt.status(&format!(
                "{}: re-attaching to service {}, {} log lines already shown",
                task.id,
                planned.tc.container,
                skip.0 + skip.1
            ));
        } else {
            job.remove_stale(&planned.tc).await;
            let next = planned.ctx.attempt + 1;
            planned.renumbered(flow, run, next);
        }
    }
    let Attempt { ctx, rendered, tc } = &planned;
    job.res.container = Some(tc.container.clone());
    if let Some(s) = start_signal.take() {
        let _ = s.send(());
    }
    if !reattach && let Err(r) = job.create(tc, rendered, ctx.attempt).await {
        return *r;
    }
    if tc.detach {
        job.res.state = State::Success;
        job.res.exit_code = Some(0);
        job.res.message = Some("service created; not waiting (wait: false)".into());
        job.res.removal = Removal::Kept;
        return job.res;
    }
    let (ending, captured) = job.watch(tc, skip).await;
    for (k, v) in &captured.outputs {
        job.res.outputs.insert(k.clone(), v.clone());
    }
    job.res.metrics.extend(captured.metrics.iter().cloned());
    let (state, failure, exit_code) = st::verdict(&ending);
    job.res.state = state;
    job.res.failure = failure;
    job.res.exit_code = exit_code;
    job.finish(tc, &ending).await
}

struct Job<'a> {
    rt: &'a Runtime,
    task: &'a Task,
    global: Global,
    res: TaskResult,
    /// When the `timeout` of a flowable around the task runs out.
    deadline: Option<Instant>,
}

impl Job<'_> {
    fn program(&self) -> &std::path::Path {
        &self.rt.engine.program
    }

    async fn captured(&self, cmd: &EngineCommand) -> Result<process::Output, String> {
        process::run_captured(self.program(), cmd)
            .await
            .map_err(|e| format!("cannot run {}: {e}", self.program().display()))
    }

    /// Does the manager know the service?
    async fn service_there(&self, service: &str) -> bool {
        let cmd = sw::service_tasks(&self.global, service);
        self.captured(&cmd).await.is_ok_and(|o| o.ok())
    }

    /// Removes every service of this execution's task (any attempt), and what was made for it.
    async fn remove_stale(&self, tc: &TaskCommands) {
        let find = sw::list_task_services(&self.global, &self.rt.ctx.execution_id, &tc.task_id);
        let Ok(out) = self.captured(&find).await else {
            return;
        };
        let ids: Vec<&str> = out.stdout.split_whitespace().collect();
        if ids.is_empty() {
            return;
        }
        self.rt.status(&format!(
            "{}: removing {} service(s) of an earlier attempt",
            tc.task_id,
            ids.len()
        ));
        let _ = self.captured(&sw::service_rm(&self.global, &ids)).await;
    }

    /// Journals the start, writes the working directory, and creates the configs, secrets and
    /// the service. `Err` holds the finished result when that failed.
    async fn create(
        &mut self,
        tc: &TaskCommands,
        rendered: &ScriptTask,
        attempt: u32,
    ) -> Result<(), Box<TaskResult>> {
        let rt = self.rt;
        if let Err(e) = crate::exec::task::prepare_and_journal(rt, tc, rendered, attempt) {
            return Err(Box::new(setup_failure(self.res.clone(), e)));
        }
        rt.status(&format!(
            "{}: creating service {} ({})",
            tc.task_id, tc.container, rendered.container_image
        ));
        for cmd in &tc.prepare {
            if *rt.cancel.borrow() != Cancel::No {
                self.res.state = State::Killed;
                self.res.failure = Some(Failure::Cancelled);
                return Err(Box::new(
                    self.finish(tc, &Ending::Lost(String::new())).await,
                ));
            }
            let why = match self.captured(cmd).await {
                Ok(out) if out.ok() => continue,
                Ok(out) => format!("{} failed: {}", cmd.step.name(), out.error_line()),
                Err(e) => e,
            };
            self.res.failure = Some(Failure::Engine { message: why });
            return Err(Box::new(
                self.finish(tc, &Ending::Lost(String::new())).await,
            ));
        }
        Ok(())
    }

    /// Follows the log while polling the task's state until it is terminal (or stopped, or
    /// its node is down); then reads the log once more to its end.
    async fn watch(&self, tc: &TaskCommands, skip: (u64, u64)) -> (Ending, Captured) {
        let rt = self.rt;
        let started = Instant::now();
        let _counted = Watching::start();
        let follow = self.start_log(&tc.run, skip, true).await;
        // The task's own timeout, or what is left of an enclosing flowable's, the sooner.
        let timeout = crate::exec::task_plan::attempt_timeout(self.task.timeout, self.deadline);
        // No timeout: a deadline that never comes (a century away).
        let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::from_secs(3_155_760_000)));
        tokio::pin!(deadline);
        let mut cancel = rt.cancel.clone();
        let mut task_id: Option<String> = None;
        let mut last_node_check = Instant::now();
        let mut unanswered = 0u32;
        // The node the task was given to is named once, looked up beside the polling so
        // that it costs the task no time.
        let mut naming: Option<
            std::pin::Pin<Box<dyn Future<Output = Option<NodeInfo>> + Send + '_>>,
        > = None;
        let mut named = false;
        let ending = loop {
            let stop_for = tokio::select! {
                _ = tokio::time::sleep(st::poll_interval(started.elapsed(), Watching::now())) => None,
                info = async { naming.as_mut().expect("guarded").await }, if naming.is_some() => {
                    naming = None;
                    self.say_node(tc, info);
                    None
                }
                _ = &mut deadline => Some(Failure::Timeout {
                    after_ms: timeout.unwrap_or_default().as_millis() as u64,
                }),
                _ = wait_cancel(&mut cancel) => Some(Failure::Cancelled),
            };
            if let Some(f) = stop_for {
                self.stop(tc, task_id.as_deref()).await;
                break Ending::Stopped(f);
            }
            if task_id.is_none() {
                match self.captured(&tc.inspect).await {
                    Ok(o) if o.ok() => {
                        task_id = o.stdout.split_whitespace().next().map(str::to_string)
                    }
                    Ok(o) if o.stderr.to_lowercase().contains("no such service") => {
                        break Ending::Lost(format!(
                            "the service {} is gone (removed by someone else?)",
                            tc.container
                        ));
                    }
                    _ => {}
                }
            }
            let Some(id) = &task_id else { continue };
            let status = match self.captured(&sw::inspect_task(&self.global, id)).await {
                Ok(o) if o.ok() => st::parse_task(&o.stdout),
                _ => None,
            };
            let Some(status) = status else {
                unanswered += 1;
                // The manager stopped answering about its task for ~30 s.
                if unanswered > 120 {
                    break Ending::Lost(format!(
                        "the manager no longer reports the task of service {}",
                        tc.container
                    ));
                }
                continue;
            };
            unanswered = 0;
            if !named && !status.node.is_empty() {
                named = true;
                naming = Some(Box::pin(self.node_info(status.node.clone())));
            }
            match st::phase(&status.state) {
                Phase::Ended => break Ending::Terminal(status),
                _ if status.node.is_empty() => {}
                // A node's state, less often than the task's: a down node takes the manager
                // seconds to notice anyway.
                _ if last_node_check.elapsed() >= Duration::from_secs(3) => {
                    last_node_check = Instant::now();
                    if let Some(down) = self.node_down(&status.node).await {
                        // The service goes, without waiting for its task to be reported gone:
                        // only the down node could confirm that, so the manager keeps
                        // reporting it (a retry would wait killGracePeriod + 15 s for nothing).
                        self.stop(tc, None).await;
                        break down;
                    }
                }
                _ => {}
            }
        };
        // A task that ended quickly: its node is named all the same (the lookup is done or
        // nearly so by now).
        if let Some(n) = naming.take()
            && let Ok(info) = tokio::time::timeout(Duration::from_secs(5), n).await
        {
            self.say_node(tc, info);
        }
        // The follow has printed what came so far; it is ended, and the log read again to its
        // end without --follow, skipping the lines already printed.
        let (followed, follow_pumps, mut child) = follow;
        if let Some(c) = child.as_mut() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
        for p in follow_pumps {
            let _ = p.await;
        }
        let seen = {
            let c = followed.lock().unwrap();
            (c.stdout_lines.max(skip.0), c.stderr_lines.max(skip.1))
        };
        if matches!(ending, Ending::Stopped(_) | Ending::NodeDown { .. }) {
            // The service is removed (or its node gone): no log to read again.
            let c = followed.lock().unwrap().clone();
            return (ending, c);
        }
        let (rest, pumps, child) = self.start_log(&tc.logs, seen, false).await;
        if let Some(mut child) = child {
            // A node that went away mid-read must not hold the run up for ever.
            if tokio::time::timeout(Duration::from_secs(30), child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
        for p in pumps {
            let _ = p.await;
        }
        let c = rest.lock().unwrap().clone();
        (ending, c)
    }

    /// Starts a `service logs` command whose lines are printed, `skip` lines per stream taken
    /// as printed already. `whole`: a line cut short when the command is ended is held back,
    /// not printed (the read after it prints it whole).
    async fn start_log(
        &self,
        cmd: &EngineCommand,
        skip: (u64, u64),
        whole: bool,
    ) -> (
        Arc<Mutex<Captured>>,
        Vec<tokio::task::JoinHandle<()>>,
        Option<tokio::process::Child>,
    ) {
        let rt = self.rt;
        let captured = Arc::new(Mutex::new(Captured::default()));
        let mut child = match process::spawn(self.program(), cmd, true).await {
            Ok(c) => c,
            Err(e) => {
                rt.status(&format!("{}: cannot read the log: {e}", self.task.id));
                return (captured, Vec::new(), None);
            }
        };
        let progress = self.progress(skip);
        let out: Box<dyn AsyncRead + Send + Unpin> =
            Box::new(child.stdout.take().expect("piped stdout"));
        let err: Box<dyn AsyncRead + Send + Unpin> =
            Box::new(child.stderr.take().expect("piped stderr"));
        let mut pumps = Vec::new();
        for (r, s, n) in [(out, Stream::Stdout, skip.0), (err, Stream::Stderr, skip.1)] {
            let r: Box<dyn AsyncRead + Send + Unpin> = if whole { whole_lines(r) } else { r };
            let (sink, cap, id, progress) = (
                rt.sink.clone(),
                captured.clone(),
                self.task.id.clone(),
                progress.clone(),
            );
            pumps.push(tokio::spawn(async move {
                let _ = logs::pump(r, s, &id, &sink, cap, n, progress).await;
            }));
        }
        (captured, pumps, Some(child))
    }

    /// Records the lines printed so far in the journal, so a resume skips exactly those.
    fn progress(&self, base: (u64, u64)) -> Option<Progress> {
        let j = self.rt.journal.clone()?;
        let task = self.task.id.clone();
        Some(Arc::new(move |o: u64, e: u64| {
            let _ = j.append(
                &Record::Progress {
                    task: task.clone(),
                    out: o.max(base.0),
                    err: e.max(base.1),
                },
                false,
            );
        }))
    }

    /// Names the node the task was given to, in a status line.
    fn say_node(&self, tc: &TaskCommands, info: Option<NodeInfo>) {
        if let Some(n) = info {
            self.rt.status(&format!(
                "{}: service {} runs on node {} ({})",
                self.task.id, tc.container, n.hostname, n.id
            ));
        }
    }

    /// A node's hostname, state and the manager's message about it.
    async fn node_info(&self, node: String) -> Option<NodeInfo> {
        let out = self
            .captured(&sw::inspect_node(&self.global, &node))
            .await
            .ok()?;
        if !out.ok() {
            return None;
        }
        let mut parts = out.stdout.trim().split('\t');
        let mut next = || parts.next().unwrap_or("").to_string();
        Some(NodeInfo {
            hostname: next(),
            state: next(),
            message: next(),
            id: node,
        })
    }

    /// Is the node down? The ending that says so, naming it.
    async fn node_down(&self, node: &str) -> Option<Ending> {
        let n = self.node_info(node.to_string()).await?;
        (n.state == "down").then_some(Ending::NodeDown {
            hostname: n.hostname,
            node: n.id,
            message: n.message,
        })
    }

    /// Removes the service (its container gets SIGTERM, SIGKILL after the grace period) and
    /// waits, up to the grace period and a margin, until the manager reports its task gone.
    async fn stop(&self, tc: &TaskCommands, task_id: Option<&str>) {
        match self.captured(&tc.stop).await {
            Ok(o) if !o.ok() => self.rt.status(&format!(
                "{}: removing service {} failed: {}",
                tc.task_id,
                tc.container,
                o.error_line()
            )),
            _ => {}
        }
        let Some(id) = task_id else { return };
        let until = Instant::now() + self.task_grace() + Duration::from_secs(15);
        while Instant::now() < until {
            match self.captured(&sw::inspect_task(&self.global, id)).await {
                Ok(o) if !o.ok() => return,
                Err(_) => return,
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        self.rt.status(&format!(
            "{}: the task of service {} is still reported after its removal",
            tc.task_id, tc.container
        ));
    }

    fn task_grace(&self) -> Duration {
        match &self.task.kind {
            crate::flow::model::TaskKind::Script(s) => s.runner.kill_grace_period,
            _ => Duration::ZERO,
        }
    }

    /// Output files, removal of the service and what was made for it, the message.
    async fn finish(&mut self, tc: &TaskCommands, ending: &Ending) -> TaskResult {
        let rt = self.rt;
        if matches!(ending, Ending::Terminal(_)) {
            let got = crate::exec::files::collect(&tc.workdir, &tc.output_files);
            self.res.output_files = got.files.into_iter().map(|p| p.to_string()).collect();
            for r in &got.refused {
                rt.status(&format!("{}: warning: {r}", tc.task_id));
            }
            if !got.refused.is_empty() {
                self.res.message = Some(got.refused.join("; "));
            }
        }
        crate::exec::task::say_failure(&mut self.res);
        let stopped = matches!(ending, Ending::Stopped(_) | Ending::NodeDown { .. });
        let Some(rm) = &tc.remove else {
            self.res.removal = Removal::Kept;
            return self.res.clone();
        };
        let _ = crate::exec::files::prune(&tc.workdir, &self.res.output_files);
        let mut ok = true;
        if !stopped {
            match self.captured(rm).await {
                Ok(o) if o.ok() || o.stderr.to_lowercase().contains("not found") => {}
                Ok(o) => {
                    ok = false;
                    rt.status(&format!(
                        "{}: removing service {} failed: {}",
                        tc.task_id,
                        tc.container,
                        o.error_line()
                    ));
                }
                Err(_) => ok = false,
            }
        }
        for kind in [Object::Config, Object::Secret] {
            let names: Vec<String> = sw::made_objects(tc)
                .into_iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n)
                .collect();
            if !names.is_empty() {
                let _ = self
                    .captured(&sw::object_rm(&self.global, kind, &names))
                    .await;
            }
        }
        self.res.removal = if ok {
            Removal::Removed
        } else {
            Removal::Failed
        };
        self.res.clone()
    }
}

/// What the manager says about a node.
struct NodeInfo {
    id: String,
    hostname: String,
    /// `ready`, `down`, …
    state: String,
    message: String,
}

/// Passes on only whole lines: what follows the last newline when the stream ends is dropped.
fn whole_lines(mut r: Box<dyn AsyncRead + Send + Unpin>) -> Box<dyn AsyncRead + Send + Unpin> {
    let (mut w, reader) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut held: Vec<u8> = Vec::new();
        loop {
            let n = match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            held.extend_from_slice(&buf[..n]);
            if let Some(last) = held.iter().rposition(|b| *b == b'\n') {
                if w.write_all(&held[..=last]).await.is_err() {
                    break;
                }
                held.drain(..=last);
            }
        }
    });
    Box::new(reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line cut short when the follow is ended is not passed on; whole ones are, in order.
    #[tokio::test]
    async fn only_whole_lines_pass() {
        let input: &[u8] = b"one\ntwo\nthr";
        let mut r = whole_lines(Box::new(input));
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"one\ntwo\n");
        let long = format!("{}\n{}", "x".repeat(200_000), "partial");
        let mut r = whole_lines(Box::new(std::io::Cursor::new(long.into_bytes())));
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        assert_eq!(out.len(), 200_001);
    }
}
