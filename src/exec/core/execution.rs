//! The tasks that act on the execution: `execution.Fail`, `execution.Assert`,
//! `execution.Labels` and `execution.Exit`. What they decide (the assertion
//! message, the exit state, label names) are pure functions with a table of cases.

use std::collections::BTreeMap;

use super::Done;
use super::log::print;
use crate::exec::Runtime;
use crate::exec::result::{Failure, State};
use crate::exec::truth::truthy;
use crate::flow::core_task::LogLevel;
use crate::plan::scope::TextRenderer;

/// The failure of an Assert with `failed` falsy conditions, as Kestra words it.
pub(super) fn assert_failure(failed: usize, error_message: Option<&str>) -> Option<String> {
    (failed > 0).then(|| {
        format!(
            "{failed} assertion{} failed!{}",
            if failed > 1 { "s" } else { "" },
            error_message.map(|m| format!("\n{m}")).unwrap_or_default()
        )
    })
}

/// The state an Exit task ends in (and with it the execution), from Kestra's names. dockhand
/// has no CANCELLED state: CANCELED ends KILLED, and says so.
pub(super) fn exit_state(state: &str) -> Result<(State, Option<String>), String> {
    Ok(match state {
        "SUCCESS" => (State::Success, None),
        "WARNING" => (State::Warning, None),
        "FAILED" => (State::Failed, Some("ended by Exit in state FAILED".into())),
        "KILLED" => (State::Killed, Some("ended by Exit in state KILLED".into())),
        "CANCELED" => (
            State::Killed,
            Some(
                "ended by Exit in state CANCELED (KILLED: dockhand has no CANCELLED state)".into(),
            ),
        ),
        other => {
            return Err(format!(
                "`state` rendered to `{other}`, which is not one of {}",
                crate::flow::core_task::EXIT_STATES.join(", ")
            ));
        }
    })
}

/// Label names Kestra keeps for itself.
pub(super) fn label_refused(key: &str) -> bool {
    key.starts_with("system.")
}

pub(super) fn fail(
    rt: &Runtime,
    task: &str,
    condition: Option<&str>,
    error_message: &str,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    match condition {
        None => Ok(Done::failed(r.text(error_message)?)),
        Some(c) => {
            if !truthy(&r.text(c)?) {
                return Ok(Done::success());
            }
            // Kestra logs the message and fails with "Fail on a condition".
            let m = r.text(error_message)?;
            print(rt, task, LogLevel::Error, &m);
            let mut d = Done::failed("Fail on a condition");
            d.message = Some(m);
            Ok(d)
        }
    }
}

pub(super) fn assert(
    rt: &Runtime,
    task: &str,
    conditions: &[String],
    error_message: Option<&str>,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let mut failed = 0;
    for c in conditions {
        match r.text(c) {
            Ok(v) if truthy(&v) => {}
            Ok(_) => {
                failed += 1;
                print(
                    rt,
                    task,
                    LogLevel::Error,
                    &format!("Assertion `{c}` failed!"),
                );
            }
            Err(e) => {
                failed += 1;
                print(
                    rt,
                    task,
                    LogLevel::Error,
                    &format!("Assertion `{c}` failed, failed to render `{e}`"),
                );
            }
        }
    }
    let error_message = error_message.map(|m| r.text(m)).transpose()?;
    Ok(match assert_failure(failed, error_message.as_deref()) {
        Some(m) => Done::failed(m),
        None => Done::success(),
    })
}

pub(super) fn labels(
    labels: &[(String, String)],
    from: Option<&str>,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let mut pairs = Vec::new();
    for (k, v) in labels {
        pairs.push((r.text(k)?, r.text(v)?));
    }
    if let Some(t) = from {
        match rendered_labels(&r.text(t)?) {
            Ok(p) => pairs.extend(p),
            Err(e) => return Ok(Done::failed(e)),
        }
    }
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if label_refused(&k) {
            return Ok(Done::failed(format!(
                "System labels can only be set by Kestra itself, offending label: {k}={v}"
            )));
        }
        out.insert(k, v);
    }
    Ok(Done {
        labels: out,
        ..Done::success()
    })
}

/// Labels written as one template, once rendered: a JSON object of labels, or a list of
/// `{key, value}` (values that are not strings as JSON prints them, `42`, `true`).
fn rendered_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    let shown = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let bad = || {
        format!(
            "`labels` rendered to `{text}`: expected a JSON object of labels or a list of {{key, value}}"
        )
    };
    match serde_json::from_str::<serde_json::Value>(text).map_err(|_| bad())? {
        serde_json::Value::Object(m) => Ok(m.iter().map(|(k, v)| (k.clone(), shown(v))).collect()),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| match (i.get("key"), i.get("value")) {
                (Some(k), Some(v)) => Ok((shown(k), shown(v))),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

pub(super) fn exit(state: &str) -> Done {
    match exit_state(state) {
        Ok((state, message)) => Done {
            state,
            failure: message
                .clone()
                .filter(|_| state == State::Failed)
                .map(|message| Failure::Task { message }),
            message,
            ..Done::success()
        },
        Err(e) => Done::failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_messages() {
        for (failed, msg, want) in [
            (0, None, None),
            (0, Some("x"), None),
            (1, None, Some("1 assertion failed!")),
            (2, None, Some("2 assertions failed!")),
            (1, Some("checks"), Some("1 assertion failed!\nchecks")),
        ] {
            assert_eq!(
                assert_failure(failed, msg).as_deref(),
                want,
                "{failed} {msg:?}"
            );
        }
    }

    #[test]
    fn exit_states() {
        for (s, want) in [
            ("SUCCESS", State::Success),
            ("WARNING", State::Warning),
            ("FAILED", State::Failed),
            ("KILLED", State::Killed),
            ("CANCELED", State::Killed),
        ] {
            assert_eq!(exit_state(s).unwrap().0, want, "{s}");
        }
        assert!(exit_state("DONE").is_err());
        assert!(exit("FAILED").failure.is_some());
        assert_eq!(exit("KILLED").failure, None);
    }

    #[test]
    fn system_labels_are_refused() {
        assert!(label_refused("system.correlationId"));
        assert!(!label_refused("systematic"));
        assert!(!label_refused("team"));
    }
}
