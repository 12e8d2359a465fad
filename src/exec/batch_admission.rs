//! How many ForEachItem batches run at once, and the child flow's `concurrency` for each of
//! them. Kestra creates every batch's execution at once (`ForEachItemExecutable`); its executor
//! then admits each as it admits any execution of that flow: with the flow's `concurrency`
//! limit reached, it is QUEUED (waits), CANCELLED or FAILED (`ExecutorService`'s concurrency
//! check). dockhand does the same with the slots top-level runs of the flow take
//! (`exec::concurrency`: the state directory's, or the swarm's with `--backend swarm`), so a
//! batch also counts against runs of that flow in other dockhand processes. The batches are
//! admitted in batch order (Kestra queues them in the order it created them).
//!
//! Besides that, one ForEachItem runs at most [`in_flight`] batches of its own at a time: a
//! file of thousands of lines at `rows: 1` would otherwise start thousands of executions, and
//! containers, in one process at once. Kestra bounds the same work by its worker's threads
//! (8 per processor by default, `WorkerCommand --thread`); dockhand takes that number.

use std::any::Any;
use std::time::Duration;

use crate::exec::concurrency::{Full, not_run_reason, slots_dir, try_take, when_full};
use crate::exec::journal::Record;
use crate::exec::result::State;
use crate::exec::{Cancel, Runtime};
use crate::flow::model::Flow;

/// Kestra's default worker threads per processor.
pub const PER_CPU: usize = 8;

/// How many of `batches` run at once on a machine of `cpus` processors. Pure.
pub fn in_flight(batches: usize, cpus: usize) -> usize {
    batches.min(PER_CPU * cpus.max(1)).max(1)
}

/// The batches this machine runs at once.
pub fn in_flight_here(batches: usize) -> usize {
    in_flight(
        batches,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    )
}

/// What a batch's execution is let do.
pub enum Admitted {
    /// It runs, holding this slot of the child flow (none: the flow has no `concurrency`).
    Run(Option<Box<dyn Any + Send>>),
    /// It ends without running: CANCELLED (CANCEL) or FAILED (FAIL).
    NotRun(State, String),
    /// The execution was stopped while the batch waited for a slot.
    Stopped,
}

/// The batch's end without running, as Kestra's executor gives it when the limit is reached.
/// Pure.
pub fn not_run(full: Full) -> Option<State> {
    match full {
        Full::Wait => None,
        Full::Cancel => Some(State::Cancelled),
        Full::Fail => Some(State::Failed),
    }
}

/// The journal record of a batch's execution ended by the limit (before its end record): a
/// decision under a name no task id can have, so that a resumed parent knows it ended so
/// (and does not run it after all), unlike an execution stopped before its first task.
pub fn ended_by_limit(state: State) -> Record {
    Record::Decision {
        task: MARK.into(),
        value: serde_json::json!(state.name()),
    }
}

/// Not a task id (those start with a letter or digit).
const MARK: &str = "#concurrency";

/// The state of a batch's execution that the concurrency limit ended (CANCELLED or FAILED),
/// from its journal. Pure.
pub fn ended_unrun(records: &[Record]) -> Option<State> {
    records.iter().find_map(|r| match r {
        Record::Decision { task, value } if task == MARK => Some(match value.as_str() {
            Some("CANCELLED") => State::Cancelled,
            _ => State::Failed,
        }),
        _ => None,
    })
}

/// Takes a slot of `child`'s concurrency for its execution `execution`, waiting (QUEUE) as
/// long as all are held and the parent is not stopped; `waiting` is told once when it waits.
pub async fn admit(
    rt: &Runtime,
    child: &Flow,
    state_dir: &camino::Utf8Path,
    execution: &str,
    waiting: impl FnOnce(),
) -> Result<Admitted, String> {
    let Some(c) = child.concurrency else {
        return Ok(Admitted::Run(None));
    };
    let swarm = rt.ctx.backend.is_swarm();
    let mut waiting = Some(waiting);
    loop {
        let taken = take(rt, child, state_dir, execution, c.limit, swarm).await?;
        if let Some(slot) = taken {
            return Ok(Admitted::Run(Some(slot)));
        }
        let full = when_full(c.behavior);
        if let Some(state) = not_run(full) {
            return Ok(Admitted::NotRun(
                state,
                not_run_reason(
                    c.limit,
                    &child.namespace,
                    &child.id,
                    state == State::Cancelled,
                ),
            ));
        }
        if let Some(w) = waiting.take() {
            w();
        }
        let mut cancel = rt.cancel.clone();
        let every = Duration::from_millis(if swarm { 1000 } else { 200 });
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = cancel.wait_for(|c| *c != Cancel::No) => {}
        }
        if *rt.cancel.borrow() != Cancel::No {
            return Ok(Admitted::Stopped);
        }
    }
}

/// One try at a free slot: a state directory's lock file, or a swarm config (engine calls,
/// made off the async threads).
async fn take(
    rt: &Runtime,
    child: &Flow,
    state_dir: &camino::Utf8Path,
    execution: &str,
    limit: u32,
    swarm: bool,
) -> Result<Option<Box<dyn Any + Send>>, String> {
    if !swarm {
        let dir = slots_dir(state_dir, &child.namespace, &child.id);
        return try_take(&dir, limit)
            .map(|s| s.map(|s| Box::new(s) as Box<dyn Any + Send>))
            .map_err(|e| format!("concurrency slots in {dir}: {e}"));
    }
    let (program, host) = (rt.engine.program.clone(), rt.ctx.host.clone());
    let (namespace, flow, execution) = (
        child.namespace.clone(),
        child.id.clone(),
        execution.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        crate::exec::swarm_slots::Slots {
            program: &program,
            host: host.as_deref(),
            namespace: &namespace,
            flow: &flow,
            execution: &execution,
            limit,
        }
        .try_take()
        .map(|s| s.map(|s| Box::new(s) as Box<dyn Any + Send>))
    })
    .await
    .map_err(|e| format!("taking a concurrency slot: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_in_flight_are_bounded_by_the_processors() {
        // (batches, cpus) -> at once
        let rows = [
            (0, 2, 1),
            (1, 2, 1),
            (4, 2, 4),
            (16, 2, 16),
            (17, 2, 16),
            (10_000, 2, 16),
            (10_000, 0, 8),
            (100, 16, 100),
        ];
        for (batches, cpus, want) in rows {
            assert_eq!(in_flight(batches, cpus), want, "{batches} {cpus}");
        }
    }

    #[test]
    fn a_batch_the_limit_ended_stays_so() {
        let end = |s: &str| Record::End {
            state: s.into(),
            at: crate::exec::journal::Stamp::from_secs(1),
        };
        let task = Record::TaskStart {
            task: "work".into(),
            container: "c".into(),
            attempt: 1,
            at: crate::exec::journal::Stamp::from_secs(1),
        };
        let rows: Vec<(Vec<Record>, Option<State>)> = vec![
            (vec![], None),
            (
                vec![ended_by_limit(State::Cancelled), end("CANCELLED")],
                Some(State::Cancelled),
            ),
            (
                vec![ended_by_limit(State::Failed), end("FAILED")],
                Some(State::Failed),
            ),
            // Stopped or failed before its first task, not by the limit: it runs again.
            (vec![end("KILLED")], None),
            (vec![end("FAILED")], None),
            (vec![task.clone(), end("FAILED")], None),
            (vec![task], None),
        ];
        for (records, want) in rows {
            assert_eq!(ended_unrun(&records), want, "{records:?}");
        }
    }

    #[test]
    fn a_full_limit_queues_cancels_or_fails() {
        assert_eq!(not_run(Full::Wait), None);
        assert_eq!(not_run(Full::Cancel), Some(State::Cancelled));
        assert_eq!(not_run(Full::Fail), Some(State::Failed));
    }
}
