//! Running one script task: working directory, create/copy steps, the attached run with live
//! logs, timeout and cancel, the final state from the exit code and `inspect`, output files,
//! and removal of the container.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::exec::logs::{self, Captured, Stream};
use crate::exec::process;
use crate::exec::result::{Failure, State, TaskResult};
use crate::exec::{Cancel, Runtime};
use crate::flow::model::{Flow, ScriptTask, Task};
use crate::plan::build::TaskCommands;
use crate::plan::scope::Scope;

/// The container's final state, from `inspect --format {{json .State}}`.
#[derive(Debug, Default, serde::Deserialize)]
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

pub async fn inspect(rt: &Runtime, tc: &TaskCommands) -> Option<ContainerState> {
    let out = process::run_captured(&rt.engine.program, &tc.inspect).await.ok()?;
    if !out.ok() {
        return None;
    }
    serde_json::from_str(out.stdout.trim()).ok()
}

/// Runs a task to its end. Never panics on engine trouble: everything becomes a state.
pub async fn run(rt: &Runtime, flow: &Flow, task: &Task, script: &ScriptTask, outputs: &BTreeMap<String, BTreeMap<String, serde_json::Value>>) -> TaskResult {
    let started = Instant::now();
    let mut res = run_inner(rt, flow, task, script, outputs).await;
    res.duration = started.elapsed();
    if res.state == State::Failed && task.allow_failure {
        res.state = State::Warning;
    }
    res
}

async fn run_inner(rt: &Runtime, flow: &Flow, task: &Task, script: &ScriptTask, outputs: &BTreeMap<String, BTreeMap<String, serde_json::Value>>) -> TaskResult {
    let mut res = TaskResult::new(&task.id, State::Failed);
    let ctx = &rt.ctx;
    let workdir = ctx.workdir(&task.id);
    let scope = Scope {
        flow_id: &flow.id,
        namespace: &flow.namespace,
        execution_id: &ctx.execution_id,
        inputs: &rt.inputs,
        vars: &flow.variables,
        outputs: Some(outputs),
    };
    let rendered = match scope.render(&task.id, &workdir, script, true) {
        Ok(r) => r,
        Err(e) => return setup_failure(res, e),
    };
    let tc = crate::plan::build::build(&flow.namespace, &flow.id, &task.id, &rendered, ctx);
    if let Some(f) = tc.findings.iter().find(|f| f.error) {
        return setup_failure(res, format!("{}: {}", f.property, f.message));
    }
    res.container = Some(tc.container.clone());
    let open = rendered.runner.user.as_deref().is_some_and(|u| !matches!(u, "root" | "0" | "0:0"));
    if let Err(e) = crate::exec::files::prepare(&tc.workdir, &tc.input_files, open) {
        return setup_failure(res, format!("cannot prepare the working directory {}: {e}", tc.workdir));
    }
    rt.status(&format!("{}: starting {} ({})", task.id, tc.container, rendered.container_image));

    let mut cancel = rt.cancel.clone();
    // Create and copy in.
    for cmd in &tc.prepare {
        if *cancel.borrow() != Cancel::No {
            return finish(rt, &tc, cancelled(res), true).await;
        }
        match process::run_captured(&rt.engine.program, cmd).await {
            Ok(out) if out.ok() => {}
            Ok(out) => {
                for l in out.stderr.lines() {
                    rt.sink.write(format!("{} ! {l}\n", task.id).as_bytes());
                }
                res.failure = Some(Failure::Engine { message: format!("{} failed: {}", cmd.step.name(), out.error_line()) });
                res.exit_code = out.status;
                return finish(rt, &tc, res, true).await;
            }
            Err(e) => {
                res.failure = Some(Failure::Engine { message: format!("cannot run {}: {e}", rt.engine.program.display()) });
                return finish(rt, &tc, res, true).await;
            }
        }
    }

    // The attached run.
    let mut child = match process::spawn(&rt.engine.program, &tc.run, true).await {
        Ok(c) => c,
        Err(e) => {
            process::remove_private(&tc.run.files);
            res.failure = Some(Failure::Engine { message: format!("cannot run {}: {e}", rt.engine.program.display()) });
            return finish(rt, &tc, res, true).await;
        }
    };
    let captured = Arc::new(Mutex::new(Captured::default()));
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let (sink_a, sink_b) = (rt.sink.clone(), rt.sink.clone());
    let (cap_a, cap_b) = (captured.clone(), captured.clone());
    let (id_a, id_b) = (task.id.clone(), task.id.clone());
    let pump_out = tokio::spawn(async move { logs::pump(stdout, Stream::Stdout, &id_a, &sink_a, cap_a, 0).await });
    let pump_err = tokio::spawn(async move { logs::pump(stderr, Stream::Stderr, &id_b, &sink_b, cap_b, 0).await });

    let timeout = task.timeout;
    let deadline = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut stopped: Option<Failure> = None;
    let status = loop {
        tokio::select! {
            st = child.wait() => break st,
            _ = &mut deadline, if stopped.is_none() => {
                stopped = Some(Failure::Timeout { after_ms: timeout.unwrap_or_default().as_millis() as u64 });
                stop(rt, &tc).await;
            }
            _ = wait_cancel(&mut cancel), if stopped.is_none() => {
                stopped = Some(Failure::Cancelled);
                stop(rt, &tc).await;
            }
        }
    };
    let _ = pump_out.await;
    let _ = pump_err.await;
    process::remove_private(&tc.run.files);
    {
        let c = captured.lock().unwrap();
        res.outputs = c.outputs.clone();
        res.metrics = c.metrics.clone();
    }
    let code = status.ok().and_then(|s| s.code());

    if tc.detach {
        if code == Some(0) {
            res.state = State::Success;
            res.exit_code = Some(0);
            res.message = Some("started; not waiting (wait: false)".into());
        } else {
            res.failure = Some(Failure::Engine { message: "the container did not start".into() });
        }
        return res;
    }

    match stopped {
        Some(Failure::Cancelled) => return finish(rt, &tc, cancelled(res), true).await,
        Some(f) => {
            res.failure = Some(f);
            res.exit_code = code;
        }
        None if code == Some(0) => {
            res.state = State::Success;
            res.exit_code = Some(0);
        }
        None => {
            // Tell the command's own failure from the engine's and from an OOM kill.
            match inspect(rt, &tc).await {
                None => {
                    res.failure = Some(Failure::Engine { message: format!("the container was not created (client exit code {})", code.map_or("none".into(), |c| c.to_string())) });
                    res.exit_code = code;
                }
                Some(st) if st.oom_killed => {
                    res.failure = Some(Failure::OutOfMemory { confirmed: true, limit: rendered.runner.memory.memory });
                    res.exit_code = Some(st.exit_code);
                }
                Some(st) if st.exit_code == 137 && rendered.runner.memory.memory.is_some() => {
                    res.failure = Some(Failure::OutOfMemory { confirmed: false, limit: rendered.runner.memory.memory });
                    res.exit_code = Some(st.exit_code);
                }
                Some(st) if !st.error.is_empty() || st.never_started() => {
                    let msg = if st.error.is_empty() { "the container did not start".to_string() } else { st.error.clone() };
                    res.failure = Some(Failure::Engine { message: msg });
                    res.exit_code = Some(st.exit_code);
                }
                Some(st) => {
                    res.failure = Some(Failure::ExitCode { code: st.exit_code });
                    res.exit_code = Some(st.exit_code);
                }
            }
        }
    }
    finish(rt, &tc, res, false).await
}

fn setup_failure(mut res: TaskResult, message: String) -> TaskResult {
    res.failure = Some(Failure::Setup { message: message.clone() });
    res.message = Some(message);
    res
}

fn cancelled(mut res: TaskResult) -> TaskResult {
    res.state = State::Killed;
    res.failure = Some(Failure::Cancelled);
    res
}

async fn wait_cancel(rx: &mut watch::Receiver<Cancel>) {
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
        rt.status(&format!("{}: stopping {} failed: {}", tc.task_id, tc.container, out.error_line()));
    }
}

/// Copies outputs back, lists output files, removes the container, sets the message.
async fn finish(rt: &Runtime, tc: &TaskCommands, mut res: TaskResult, early: bool) -> TaskResult {
    if !early {
        for cmd in &tc.collect {
            if let Ok(out) = process::run_captured(&rt.engine.program, cmd).await
                && !out.ok()
            {
                rt.status(&format!("{}: copying the working directory back failed: {}", tc.task_id, out.error_line()));
            }
        }
        res.output_files = crate::exec::files::collect(&tc.workdir, &tc.output_files).into_iter().map(|p| p.to_string()).collect();
    }
    if res.state != State::Success
        && let Some(f) = &res.failure
    {
        res.message = Some(f.describe());
    }
    if let Some(rm) = &tc.remove {
        match process::run_captured(&rt.engine.program, rm).await {
            Ok(out) if out.ok() || out.stderr.contains("No such container") || out.stderr.contains("no such container") => {
                res.container_removed = true
            }
            Ok(out) => rt.status(&format!("{}: removing {} failed: {}", tc.task_id, tc.container, out.error_line())),
            Err(e) => rt.status(&format!("{}: removing {} failed: {e}", tc.task_id, tc.container)),
        }
    }
    let _ = Duration::ZERO;
    res
}
