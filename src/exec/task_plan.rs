//! One attempt of a script task, planned the same way for every backend (one engine, a swarm,
//! a host process): its namespace files and loaded KV entries (DbtCLI's `loadManifest`) added
//! as input files, its texts rendered with the run's context and the outputs so far, input
//! files naming a stored file (a FILE input's URI) given that file's text, and its commands
//! built. The executor then only runs what this returns, so
//! a task reaches a swarm node with exactly the files it would have on one engine.

use crate::exec::Runtime;
use crate::exec::taskrun::TaskRun;
use crate::flow::model::{Flow, ScriptTask, Task};
use crate::plan::build::TaskCommands;
use crate::plan::context::PlanContext;

/// A planned attempt: the context it was planned with (its `attempt` set), the rendered task
/// and its commands.
pub(crate) struct Attempt {
    pub ctx: PlanContext,
    pub rendered: ScriptTask,
    pub tc: TaskCommands,
}

impl Attempt {
    /// The commands of the same rendered task as attempt `attempt` (a resume that cannot
    /// re-attach starts the next one).
    pub fn renumbered(&mut self, flow: &Flow, run: &TaskRun, attempt: u32) {
        self.ctx.attempt = attempt;
        self.tc = crate::plan::rebuild_run(flow, &run.ctx.id, &self.rendered, &self.ctx);
    }
}

/// Plans attempt `attempt` of `task` (its script `script`) in the run `run`. `Err`: why it
/// cannot start (the task fails in setup).
pub(crate) fn plan_attempt(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    script: &ScriptTask,
    outputs: &crate::plan::Outputs,
    attempt: u32,
    run: &TaskRun,
) -> Result<Attempt, String> {
    let mut ctx = rt.ctx.clone();
    ctx.attempt = attempt;
    // Namespace files become input files (before the task's own).
    let with_files;
    let script = match &rt.storage {
        Some(st) if script.namespace_files.is_some() => {
            let (s, warnings) =
                crate::exec::namespace_files::with_namespace_files(st, script, &flow.namespace)?;
            for w in warnings {
                rt.status(&format!("{}: warning: {w}", task.id));
            }
            with_files = s;
            &with_files
        }
        _ => script,
    };
    // DbtCLI's `loadManifest`: a KV entry becomes an input file.
    let with_kv;
    let script = if script.kv_files.iter().any(|f| f.load) {
        let (s, warnings) = crate::exec::kv_files::with_loaded(rt, flow, script, outputs)?;
        for w in warnings {
            rt.status(&format!("{}: warning: {w}", task.id));
        }
        with_kv = s;
        &with_kv
    } else {
        script
    };
    // Kestra's 0-based attempt count, in the run's context.
    let mut run_ctx = run.ctx.clone();
    run_ctx.attempts_count = attempt.saturating_sub(1);
    let (mut rendered, mut tc) = crate::plan::plan_task_run(
        flow,
        task,
        script,
        &ctx,
        &rt.inputs,
        Some(outputs),
        Some((&run_ctx, &run.outputs)),
    )?;
    // An input file naming a FILE input's URI gets the stored file's content, as in Kestra.
    if crate::exec::file_inputs::resolve_input_files(&mut rendered.input_files)? {
        tc = crate::plan::rebuild_run(flow, &run_ctx.id, &rendered, &ctx);
    }
    if let Some(f) = tc.findings.iter().find(|f| f.error) {
        return Err(format!("{}: {}", f.property, f.message));
    }
    Ok(Attempt { ctx, rendered, tc })
}

/// How long an attempt may run: the task's own `timeout`, or what is left of an enclosing
/// flowable's (`deadline`), the sooner.
pub(crate) fn attempt_timeout(
    own: Option<std::time::Duration>,
    deadline: Option<std::time::Instant>,
) -> Option<std::time::Duration> {
    let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
    match (own, left) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::attempt_timeout;
    use std::time::{Duration, Instant};

    #[test]
    fn the_sooner_of_the_task_timeout_and_the_enclosing_deadline() {
        let s = Duration::from_secs;
        let soon = Some(Instant::now() + s(5));
        let late = Some(Instant::now() + s(500));
        for (own, deadline, lo, hi) in [
            (None, None, None, None),
            (Some(s(10)), None, Some(s(10)), Some(s(10))),
            (Some(s(10)), soon, Some(s(4)), Some(s(5))),
            (Some(s(10)), late, Some(s(10)), Some(s(10))),
            (None, soon, Some(s(4)), Some(s(5))),
        ] {
            let got = attempt_timeout(own, deadline);
            assert!(got >= lo && got <= hi, "{own:?} {deadline:?}: {got:?}");
        }
        let past = Some(Instant::now() - s(1));
        assert_eq!(attempt_timeout(Some(s(3)), past), Some(Duration::ZERO));
    }
}
