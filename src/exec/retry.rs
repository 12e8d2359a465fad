//! Retrying a failed task (`retry` of the task, or of the flow): whether another attempt
//! starts and when, as pure functions of the policy and the attempts so far, as Kestra's
//! `AbstractRetry.nextRetryDate` and `TaskRun.shouldBeRetried` decide. Times are milliseconds
//! since the epoch, so that a wait journaled before a crash is resumed for what is left of it.

use crate::exec::result::State;
use crate::flow::control::{Retry, RetryKind};
use crate::flow::model::{Flow, Task};

/// The policy a failed run of `task` is retried under, as Kestra's executor picks it: the
/// task's own `retry`, else that of the closest enclosing flowable that has one (`ancestors`:
/// their ids, closest first), else the flow's.
pub fn policy<'a>(flow: &'a Flow, task: &'a Task, ancestors: &[&str]) -> Option<&'a Retry> {
    fn find<'t>(tasks: &[&'t Task], id: &str) -> Option<&'t Task> {
        tasks.iter().find_map(|t| {
            if t.id == id {
                Some(*t)
            } else {
                find(&t.children(), id)
            }
        })
    }
    let c = &flow.control;
    let top: Vec<&Task> = flow
        .tasks
        .iter()
        .chain(&c.errors)
        .chain(&c.finally)
        .chain(&c.after_execution)
        .collect();
    task.control
        .retry
        .as_ref()
        .or_else(|| {
            ancestors
                .iter()
                .find_map(|id| find(&top, id).and_then(|t| t.control.retry.as_ref()))
        })
        .or(c.retry.as_ref())
}

/// The delay before attempt `attempts + 1`, after `attempts` attempts (≥ 1) ended. `random` is
/// a number in [0, 1) for the random policy.
pub fn delay_ms(r: &Retry, attempts: u32, random: f64) -> u64 {
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    match &r.kind {
        RetryKind::Constant { interval } => ms(*interval),
        RetryKind::Exponential {
            interval,
            max_interval,
            delay_factor,
        } => {
            // Kestra: interval × (int) delayFactor × (attemptCount − 1), at most maxInterval.
            let factor = delay_factor.map_or(2, |f| f as u64);
            let d = ms(*interval)
                .saturating_mul(factor)
                .saturating_mul(u64::from(attempts.saturating_sub(1)));
            d.min(ms(*max_interval))
        }
        RetryKind::Random {
            min_interval,
            max_interval,
        } => {
            let (lo, hi) = (ms(*min_interval), ms(*max_interval).max(ms(*min_interval)));
            lo + ((hi - lo) as f64 * random.clamp(0.0, 1.0)) as u64
        }
    }
}

/// When the next attempt starts (ms since the epoch), or `None` when there is none: the attempt
/// that just ended at `ended_at` was attempt `attempts`, the first started at `first_start`.
pub fn next_attempt_at(
    r: &Retry,
    state: State,
    attempts: u32,
    first_start: u64,
    ended_at: u64,
    random: f64,
) -> Option<u64> {
    if state != State::Failed {
        return None;
    }
    if r.max_attempts.is_some_and(|m| attempts >= m) {
        return None;
    }
    let at = ended_at + delay_ms(r, attempts, random);
    if let Some(d) = r.max_duration
        && at > first_start + d.as_millis() as u64
    {
        return None;
    }
    Some(at)
}

/// The state of a task that ended after `attempts` attempts: a success after a retry is
/// WARNING with `warningOnRetry`.
pub fn final_state(r: Option<&Retry>, state: State, attempts: u32) -> State {
    match r {
        Some(r) if r.warning_on_retry && attempts > 1 && state == State::Success => State::Warning,
        _ => state,
    }
}

/// How long to wait now for an attempt due at `due` (both ms since the epoch).
pub fn remaining_ms(due: u64, now: u64) -> u64 {
    due.saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn retry(kind: RetryKind, max: Option<u32>, dur: Option<u64>) -> Retry {
        Retry {
            kind,
            max_attempts: max,
            max_duration: dur.map(Duration::from_millis),
            warning_on_retry: false,
        }
    }

    #[test]
    fn delays_are_kestras() {
        let s = Duration::from_secs;
        let constant = retry(RetryKind::Constant { interval: s(2) }, None, None);
        let expo = |f| {
            retry(
                RetryKind::Exponential {
                    interval: s(1),
                    max_interval: s(10),
                    delay_factor: f,
                },
                None,
                None,
            )
        };
        let random = retry(
            RetryKind::Random {
                min_interval: s(1),
                max_interval: s(3),
            },
            None,
            None,
        );
        for (r, attempts, rnd, want) in [
            (&constant, 1, 0.0, 2000),
            (&constant, 5, 0.0, 2000),
            (&expo(None), 1, 0.0, 0),
            (&expo(None), 2, 0.0, 2000),
            (&expo(None), 3, 0.0, 4000),
            (&expo(None), 9, 0.0, 10_000),
            (&expo(Some(3.7)), 2, 0.0, 3000),
            (&random, 1, 0.0, 1000),
            (&random, 1, 0.5, 2000),
            (&random, 1, 0.999_999, 2999),
        ] {
            assert_eq!(delay_ms(r, attempts, rnd), want, "{r:?} {attempts}");
        }
    }

    #[test]
    fn the_policy_is_the_tasks_else_the_closest_flowables_else_the_flows() {
        let f = crate::flow::decode::load(
            "t.yaml",
            r#"id: t
namespace: n
retry: {type: constant, interval: PT9S}
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.Sequential
    retry: {type: constant, interval: PT1S}
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.Sequential
        retry: {type: constant, interval: PT2S}
        tasks:
          - {id: own, type: io.kestra.plugin.core.log.Log, message: m, retry: {type: constant, interval: PT3S}}
          - {id: bare, type: io.kestra.plugin.core.log.Log, message: m}
      - id: plain
        type: io.kestra.plugin.core.flow.Sequential
        tasks: [{id: deep, type: io.kestra.plugin.core.log.Log, message: m}]
  - {id: top, type: io.kestra.plugin.core.log.Log, message: m}
"#,
        )
        .flow
        .unwrap();
        let find = |path: &[usize]| {
            let mut t = &f.tasks[path[0]];
            for &i in &path[1..] {
                t = t.children()[i];
            }
            t
        };
        let secs = |r: Option<&Retry>| match r.map(|r| &r.kind) {
            Some(RetryKind::Constant { interval }) => interval.as_secs(),
            _ => 0,
        };
        for (path, ancestors, want) in [
            (&[0, 0, 0][..], &["inner", "outer"][..], 3),
            (&[0, 0, 1], &["inner", "outer"], 2),
            (&[0, 1, 0], &["plain", "outer"], 1),
            (&[0, 0], &["outer"], 2),
            (&[1], &[], 9),
        ] {
            assert_eq!(secs(policy(&f, find(path), ancestors)), want, "{path:?}");
        }
    }

    #[test]
    fn attempts_stop_at_max_attempts_and_max_duration() {
        let r = retry(
            RetryKind::Constant {
                interval: Duration::from_millis(100),
            },
            Some(3),
            Some(1000),
        );
        for (state, attempts, first, ended, want) in [
            (State::Failed, 1, 0, 50, Some(150)),
            (State::Failed, 2, 0, 300, Some(400)),
            // The third attempt was the last.
            (State::Failed, 3, 0, 500, None),
            // Past maxDuration.
            (State::Failed, 1, 0, 950, None),
            (State::Failed, 1, 0, 900, Some(1000)),
            (State::Success, 1, 0, 10, None),
            (State::Warning, 1, 0, 10, None),
            (State::Killed, 1, 0, 10, None),
        ] {
            assert_eq!(
                next_attempt_at(&r, state, attempts, first, ended, 0.0),
                want,
                "{state:?} {attempts} {ended}"
            );
        }
        let unlimited = Retry {
            max_attempts: None,
            max_duration: None,
            ..r.clone()
        };
        assert_eq!(
            next_attempt_at(&unlimited, State::Failed, 99, 0, 0, 0.0),
            Some(100)
        );
        let warn = Retry {
            warning_on_retry: true,
            ..r
        };
        assert_eq!(final_state(Some(&warn), State::Success, 2), State::Warning);
        assert_eq!(final_state(Some(&warn), State::Success, 1), State::Success);
        assert_eq!(final_state(None, State::Success, 2), State::Success);
        assert_eq!(remaining_ms(1500, 1000), 500);
        assert_eq!(remaining_ms(1500, 2000), 0);
    }
}
