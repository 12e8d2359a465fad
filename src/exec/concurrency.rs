//! A flow's `concurrency` (`limit`, `behavior`) across the dockhand processes that share a state
//! directory: `limit` slot files per flow (`STATE_DIR/concurrency/NAMESPACE/FLOW/slot-N.lock`),
//! each held with an exclusive file lock (`flock`) for the whole execution, so the kernel frees
//! it when the process ends, however it ends. An execution that finds every slot taken waits
//! for one (QUEUE, Kestra's default), ends CANCELLED (CANCEL) or ends FAILED (FAIL), as Kestra's
//! executor does with its concurrency limit.

use std::fs::File;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::flow::model::{Concurrency, ConcurrencyBehavior};

/// A held slot: the lock lasts as long as this value (or the process).
#[derive(Debug)]
pub struct Slot {
    _file: File,
    pub path: Utf8PathBuf,
}

/// What to do when no slot is free. Pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Wait,
    Cancel,
    Fail,
}

pub fn when_full(b: ConcurrencyBehavior) -> Full {
    match b {
        ConcurrencyBehavior::Queue => Full::Wait,
        ConcurrencyBehavior::Cancel => Full::Cancel,
        ConcurrencyBehavior::Fail => Full::Fail,
    }
}

pub fn slots_dir(state_dir: &Utf8Path, namespace: &str, flow: &str) -> Utf8PathBuf {
    state_dir.join("concurrency").join(namespace).join(flow)
}

/// Takes a free slot if there is one (`Ok(None)`: all `limit` are held by other executions).
pub fn try_take(dir: &Utf8Path, limit: u32) -> std::io::Result<Option<Slot>> {
    std::fs::create_dir_all(dir)?;
    for i in 0..limit {
        let path = dir.join(format!("slot-{i}.lock"));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match f.try_lock() {
            Ok(()) => return Ok(Some(Slot { _file: f, path })),
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(None)
}

/// Why an execution of `namespace.flow` ended without running: `limit` executions of the flow
/// were running and its behavior is CANCEL (`cancelled`) or FAIL.
pub fn not_run_reason(limit: u32, namespace: &str, flow: &str, cancelled: bool) -> String {
    format!(
        "not run: {limit} execution(s) of {namespace}.{flow} are running (concurrency limit, behavior {})",
        if cancelled { "CANCEL" } else { "FAIL" }
    )
}

/// How the limit was met: a slot, or the execution ends without running.
#[derive(Debug)]
pub enum Admission<S = Slot> {
    Run(S),
    Cancelled,
    Failed,
}

/// Takes a slot for an execution of the flow, waiting as `behavior` says; `waiting` is told
/// once when the execution has to wait.
pub fn admit(c: &Concurrency, dir: &Utf8Path, waiting: impl FnMut()) -> std::io::Result<Admission> {
    admit_with(
        c,
        || try_take(dir, c.limit),
        waiting,
        Duration::from_millis(200),
    )
}

/// [`admit`] with slots taken by `take` (`Ok(None)`: all held), asked again `every` while
/// the execution waits: the slots of a state directory, or of a swarm (`exec::swarm_slots`).
pub fn admit_with<S, E>(
    c: &Concurrency,
    mut take: impl FnMut() -> Result<Option<S>, E>,
    mut waiting: impl FnMut(),
    every: Duration,
) -> Result<Admission<S>, E> {
    let mut told = false;
    loop {
        if let Some(s) = take()? {
            return Ok(Admission::Run(s));
        }
        match when_full(c.behavior) {
            Full::Cancel => return Ok(Admission::Cancelled),
            Full::Fail => return Ok(Admission::Failed),
            Full::Wait => {
                if !told {
                    waiting();
                    told = true;
                }
                std::thread::sleep(every);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviors() {
        assert_eq!(when_full(ConcurrencyBehavior::Queue), Full::Wait);
        assert_eq!(when_full(ConcurrencyBehavior::Cancel), Full::Cancel);
        assert_eq!(when_full(ConcurrencyBehavior::Fail), Full::Fail);
    }

    /// Slots are counted per flow: `limit` can be held at once, a freed one is taken again.
    #[test]
    fn slots_are_held_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap().join("c/n/f");
        let a = try_take(&dir, 2).unwrap().expect("a first slot");
        let b = try_take(&dir, 2).unwrap().expect("a second slot");
        assert_ne!(a.path, b.path);
        assert!(try_take(&dir, 2).unwrap().is_none());
        let c = Concurrency {
            limit: 2,
            behavior: ConcurrencyBehavior::Fail,
        };
        assert!(matches!(admit(&c, &dir, || {}).unwrap(), Admission::Failed));
        let c = Concurrency {
            behavior: ConcurrencyBehavior::Cancel,
            ..c
        };
        assert!(matches!(
            admit(&c, &dir, || {}).unwrap(),
            Admission::Cancelled
        ));
        drop(a);
        assert!(try_take(&dir, 2).unwrap().is_some());
    }
}
