//! Running a Pause task (`io.kestra.plugin.core.flow.Pause`). With a delay it waits, and the
//! wait survives a crash: its start is journaled, so `dockhand resume` waits only for the rest.
//! Without one the execution pauses: the start is journaled, the task is PAUSED and the run
//! stops (exit 4, `End` PAUSED in the journal); `dockhand resume EXECUTION` finds the journaled
//! start and the task succeeds, or fails when the resume comes after its `timeout`.

use std::sync::Arc;
use std::time::Duration;

use crate::exec::journal::{self, Record};
use crate::exec::result::{Failure, State, TaskResult};
use crate::exec::{Cancel, Runtime};
use crate::flow::model::Task;

/// When this task's pause began, from the journal (an earlier run of this execution).
fn journaled_start(rt: &Runtime, task: &str) -> Option<u64> {
    let j = rt.journal.as_ref()?;
    let state_dir = j.path().parent()?.parent()?;
    journal::read(state_dir, &rt.ctx.execution_id)
        .ok()?
        .into_iter()
        .rev()
        .find_map(|r| match r {
            Record::TaskStart { task: t, at, .. } if t == task => Some(at.secs()),
            _ => None,
        })
}

/// What a Pause task does now, from its delay, its timeout, when it began (if it did) and the
/// time. Pure.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Wait this long, then succeed.
    Wait(Duration),
    /// Stop the run PAUSED.
    Pause,
    Succeed,
    /// Resumed later than `timeout` after the pause began.
    TimedOut,
}

pub fn step(
    delay: Option<Duration>,
    timeout: Option<Duration>,
    began: Option<u64>,
    now: u64,
) -> Step {
    let elapsed = began.map(|b| Duration::from_secs(now.saturating_sub(b)));
    match (delay, elapsed) {
        (Some(d), None) => Step::Wait(d),
        (Some(d), Some(e)) => Step::Wait(d.saturating_sub(e)),
        (None, None) => Step::Pause,
        (None, Some(e)) if timeout.is_some_and(|t| e > t) => Step::TimedOut,
        (None, Some(_)) => Step::Succeed,
    }
}

/// Runs the task and says how it ended on the status line. `run_id` is the run's (`t.0` inside
/// a ForEach): the journal keys its start and end by it, so each value pauses on its own.
pub async fn run(
    rt: &Arc<Runtime>,
    task: &Task,
    run_id: &str,
    delay: Option<Duration>,
) -> TaskResult {
    let r = run_quiet(rt, task, run_id, delay).await;
    let note = r
        .message
        .as_deref()
        .map_or(String::new(), |m| format!(": {m}"));
    rt.status(&format!("{}: {}{note}", r.id, r.state.name()));
    r
}

async fn run_quiet(
    rt: &Arc<Runtime>,
    task: &Task,
    run_id: &str,
    delay: Option<Duration>,
) -> TaskResult {
    let started = std::time::Instant::now();
    let began = journaled_start(rt, run_id);
    let stamp = journal::Stamp::now();
    let now = stamp.secs();
    if began.is_none()
        && let Some(j) = &rt.journal
        && let Err(e) = j.append(
            &Record::TaskStart {
                task: run_id.to_string(),
                container: String::new(),
                attempt: 1,
                at: stamp,
            },
            true,
        )
    {
        let mut r = TaskResult::new(&task.id, State::Failed);
        r.failure = Some(Failure::Setup {
            message: e.to_string(),
        });
        return r;
    }
    let mut r = match step(delay, task.timeout, began, now) {
        Step::Wait(d) => {
            rt.status(&format!("{}: pausing {:.1} s", task.id, d.as_secs_f64()));
            let mut cancel = rt.cancel.clone();
            let stopped = tokio::select! {
                _ = tokio::time::sleep(d) => false,
                _ = cancel.wait_for(|c| *c != Cancel::No) => true,
            };
            if stopped {
                let mut r = TaskResult::new(&task.id, State::Killed);
                r.failure = Some(Failure::Cancelled);
                r.duration = started.elapsed();
                return r;
            }
            TaskResult::new(&task.id, State::Success)
        }
        Step::Pause => {
            let mut r = TaskResult::new(&task.id, State::Paused);
            r.message = Some(format!(
                "paused: `dockhand resume {}` continues the execution",
                rt.ctx.execution_id
            ));
            // Not journaled as ended: the resume finds the pause's start and goes on.
            return r;
        }
        Step::Succeed => {
            let mut r = TaskResult::new(&task.id, State::Success);
            r.message = Some("resumed".into());
            r
        }
        Step::TimedOut => {
            let mut r = TaskResult::new(&task.id, State::Failed);
            let t = task.timeout.unwrap_or_default();
            r.failure = Some(Failure::Timeout {
                after_ms: t.as_millis() as u64,
            });
            r.message = Some(format!(
                "resumed after its timeout of {}",
                crate::units::format_duration_iso(t)
            ));
            r
        }
    };
    r.duration = started.elapsed();
    if let Some(j) = &rt.journal {
        let _ = j.append(
            &Record::TaskEnd {
                task: run_id.to_string(),
                attempt: 1,
                result: r.clone(),
            },
            true,
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let s = Duration::from_secs;
        let rows = [
            (Some(s(10)), None, None, 100, Step::Wait(s(10))),
            // Resumed after a crash 4 s into a 10 s delay: 6 s are left.
            (Some(s(10)), None, Some(96), 100, Step::Wait(s(6))),
            (Some(s(10)), None, Some(50), 100, Step::Wait(s(0))),
            (None, None, None, 100, Step::Pause),
            (None, None, Some(10), 100, Step::Succeed),
            (None, Some(s(60)), Some(50), 100, Step::Succeed),
            (None, Some(s(60)), Some(10), 100, Step::TimedOut),
        ];
        for (delay, timeout, began, now, want) in rows {
            assert_eq!(
                step(delay, timeout, began, now),
                want,
                "{delay:?} {timeout:?} {began:?}"
            );
        }
    }
}
