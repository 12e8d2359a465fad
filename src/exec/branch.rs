//! Which children of a flow-control task run, and the state it ends in: pure functions of what
//! was rendered and how the children ended, as Kestra decides them (conditions through `exec::truth`,
//! `Switch.childTasks`, `FlowableUtils.resolveEachTasks`, `Execution.guessFinalState`).

use crate::exec::result::State;

/// The case a Switch runs: the first key equal to the rendered value (no trimming, as
/// Kestra's `equals`), or `None` for `defaults`.
pub fn switch_case<'a>(rendered: &str, keys: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    keys.into_iter().position(|k| k == rendered)
}

/// The branch a Switch takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchBranch {
    /// The case at this index of `cases`.
    Case(usize),
    /// Its `defaults`.
    Defaults,
    /// No case matched and there are no `defaults`: Kestra's `FlowableUtils.resolveState` finds
    /// no task and fails the Switch ("No task found on flow ...").
    NoTask,
}

/// Which branch a Switch takes: [`switch_case`]'s case, else `defaults` when it has tasks.
pub fn switch_branch<'a>(
    rendered: &str,
    keys: impl IntoIterator<Item = &'a str>,
    has_defaults: bool,
) -> SwitchBranch {
    match switch_case(rendered, keys) {
        Some(i) => SwitchBranch::Case(i),
        None if has_defaults => SwitchBranch::Defaults,
        None => SwitchBranch::NoTask,
    }
}

/// A ForEach's values as its runs see them: strings as they are, anything else as JSON, each
/// once, in order (Kestra drops repeated values). A null value is an error, with Kestra's
/// message (`FlowableUtils.resolveEachTasks`: the values as Java prints a list).
pub fn each_values(items: &[serde_json::Value]) -> Result<Vec<String>, String> {
    if items.iter().any(serde_json::Value::is_null) {
        // Counted after dropping repeats, as Kestra does: any number of nulls is one.
        return Err(format!(
            "Found '1' null values on Each, with values={}",
            java_text(&serde_json::Value::Array(items.to_vec()))
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for v in items {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A value as Java's `toString` prints the list or map Jackson read it into: `[a, null]`,
/// `{key=v}`, strings without quotes.
fn java_text(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::String(s) => s.clone(),
        J::Array(items) => {
            let parts: Vec<String> = items.iter().map(java_text).collect();
            format!("[{}]", parts.join(", "))
        }
        J::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", java_text(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// The values of a rendered `values` string: a JSON array.
pub fn parse_each_values(rendered: &str) -> Result<Vec<String>, String> {
    match serde_json::from_str::<serde_json::Value>(rendered.trim()) {
        Ok(serde_json::Value::Array(items)) => each_values(&items),
        Ok(other) => Err(format!(
            "`values` rendered to {other}, not a JSON array of values"
        )),
        Err(e) => Err(format!(
            "`values` rendered to `{}`, which is not a JSON array: {e}",
            rendered.trim()
        )),
    }
}

/// A Dag's tasks that may start now: not started, and every dependency ended in a state the
/// flow goes on after. `ended[i]` is the state task `i` ended in, `started[i]` whether it has
/// started; `deps[i]` the indices it waits for.
pub fn dag_ready(deps: &[Vec<usize>], started: &[bool], ended: &[Option<State>]) -> Vec<usize> {
    (0..deps.len())
        .filter(|&i| !started[i])
        .filter(|&i| {
            deps[i]
                .iter()
                .all(|&d| ended[d].is_some_and(State::continues))
        })
        .collect()
}

/// The state a flowable ends in from its children's (not its `errors`' or `finally`'s, as
/// Kestra's `guessFinalState` over the children): the worst of KILLED, FAILED, WARNING, else
/// SUCCESS; then `allowFailure` turns FAILED into WARNING, and `allowWarning` WARNING into
/// SUCCESS.
pub fn flowable_state(children: &[State], allow_failure: bool, allow_warning: bool) -> State {
    let worst = if children.contains(&State::Killed) {
        State::Killed
    } else if children.contains(&State::Failed) {
        State::Failed
    } else if children.contains(&State::Paused) {
        // A Pause without a delay stopped the run: the execution waits for `resume`.
        State::Paused
    } else if children.contains(&State::Warning) {
        State::Warning
    } else {
        State::Success
    };
    finish_state(worst, allow_failure, allow_warning)
}

/// `allowFailure` and `allowWarning` applied to a task's own state.
pub fn finish_state(state: State, allow_failure: bool, allow_warning: bool) -> State {
    match state {
        State::Failed if allow_failure && allow_warning => State::Success,
        State::Failed if allow_failure => State::Warning,
        State::Warning if allow_warning => State::Success,
        s => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    #[test]
    fn switch_takes_the_first_equal_key() {
        let keys = ["a", "b", " c", "a"];
        for (v, want) in [
            ("a", Some(0)),
            ("b", Some(1)),
            ("c", None),
            (" c", Some(2)),
            ("A", None),
            ("", None),
        ] {
            assert_eq!(switch_case(v, keys), want, "{v:?}");
        }
    }

    #[test]
    fn a_switch_with_no_case_and_no_defaults_has_no_task() {
        use SwitchBranch::*;
        let keys = ["a", "b"];
        for (v, has_defaults, want) in [
            ("a", false, Case(0)),
            ("b", true, Case(1)),
            ("c", true, Defaults),
            ("c", false, NoTask),
            ("", false, NoTask),
        ] {
            assert_eq!(switch_branch(v, keys, has_defaults), want, "{v:?}");
        }
    }

    #[test]
    fn each_values_are_strings_once_each() {
        use serde_json::json;
        assert_eq!(
            each_values(&[
                json!("a"),
                json!(1),
                json!({"k": "v"}),
                json!("a"),
                json!(true)
            ])
            .unwrap(),
            ["a", "1", "{\"k\":\"v\"}", "true"]
        );
        assert!(each_values(&[json!("a"), json!(null)]).is_err());
        // Kestra's message, the values as Java prints them (EachSequentialTest `eachNull`).
        for (items, want) in [
            (
                json!([1, null, {"key": "my-key", "value": "my-value"}]),
                "Found '1' null values on Each, with values=[1, null, {key=my-key, value=my-value}]",
            ),
            (
                json!([null, "a b", null, [true, 2.5]]),
                "Found '1' null values on Each, with values=[null, a b, null, [true, 2.5]]",
            ),
        ] {
            let items = items.as_array().unwrap().clone();
            assert_eq!(each_values(&items).unwrap_err(), want);
        }
        assert_eq!(parse_each_values("[\"x\", 2]\n").unwrap(), ["x", "2"]);
        assert!(parse_each_values("x, y").is_err());
        assert!(parse_each_values("{\"a\": 1}").is_err());
    }

    #[test]
    fn dag_runs_a_task_once_its_dependencies_went_well() {
        // a; b after a; c after a, b; d after nothing.
        let deps = vec![vec![], vec![0], vec![0, 1], vec![]];
        for (started, ended, want) in [
            (vec![false; 4], vec![None; 4], vec![0, 3]),
            (
                vec![true, false, false, true],
                vec![Some(Success), None, None, None],
                vec![1],
            ),
            (
                vec![true, true, false, true],
                vec![Some(Success), Some(Warning), None, Some(Success)],
                vec![2],
            ),
            (
                vec![true, true, false, true],
                vec![Some(Success), Some(Failed), None, Some(Success)],
                vec![],
            ),
            (
                vec![true, true, false, true],
                vec![Some(Success), Some(Skipped), None, None],
                vec![2],
            ),
        ] {
            assert_eq!(dag_ready(&deps, &started, &ended), want, "{ended:?}");
        }
    }

    #[test]
    fn a_flowable_ends_in_the_worst_state_of_its_children() {
        for (children, af, aw, want) in [
            (vec![], false, false, Success),
            (vec![Success, Skipped], false, false, Success),
            (vec![Success, Warning], false, false, Warning),
            (vec![Success, Warning], false, true, Success),
            (vec![Failed, Warning], false, false, Failed),
            (vec![Failed], true, false, Warning),
            (vec![Failed], true, true, Success),
            (vec![Failed, Killed], true, false, Killed),
            // A Pause that stops the run leaves the execution PAUSED (a failure wins).
            (vec![Success, Paused], false, false, Paused),
            (vec![Paused, Warning], false, false, Paused),
            (vec![Failed, Paused], false, false, Failed),
        ] {
            assert_eq!(
                flowable_state(&children, af, aw),
                want,
                "{children:?} {af} {aw}"
            );
        }
    }
}
