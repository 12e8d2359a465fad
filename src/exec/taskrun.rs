//! Task runs: a task runs once per ForEach value above it (Kestra's `taskrun.value`), and each
//! such run is identified, journaled, reported and given outputs on its own. A [`Frame`] is where
//! a run stands in the tree (its enclosing runs and its own value); [`TaskRunContext`] is what its
//! expressions see as `taskrun`, `parent` and `parents` (rendered by `plan::scope`); outputs are
//! kept as Kestra exposes them, `outputs.ID` for a task outside any ForEach and
//! `outputs.ID[VALUE]...` (one level per ForEach value above it) for one inside.

use serde_json::{Map, Value};

/// One run of a script task as the executor hands it to `exec::task`: its context, the
/// outputs as its expressions see them, its ForEach values, and the attempt a retry asks for
/// (`None`: the journal decides, re-attaching to one in flight).
#[derive(Debug, Clone, Default)]
pub struct TaskRun {
    pub ctx: TaskRunContext,
    pub outputs: Map<String, Value>,
    pub values: Vec<String>,
    pub attempt: Option<u32>,
    /// When the `timeout` of an enclosing flowable runs out.
    pub deadline: Option<std::time::Instant>,
}

/// A run enclosing another: its task and the value it has (if it is a ForEach's child).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParentRun {
    pub task_id: String,
    pub value: Option<String>,
    pub iteration: Option<usize>,
}

/// What a task run's expressions see of it (`taskrun`, `parent`, `parents`): the planner's
/// type, filled here from the run's [`Frame`].
pub use crate::plan::taskrun::TaskRunContext;

/// Where a task run stands: the runs around it, closest first, and its own ForEach value with
/// that value's index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    pub parents: Vec<ParentRun>,
    pub value: Option<(String, usize)>,
    /// When the `timeout` of an enclosing flowable runs out: no task starts after it, and a
    /// container running then is stopped as on its own timeout.
    pub deadline: Option<std::time::Instant>,
    /// The value the run's `taskrun.value`/`iteration` show when it has none of its own: a
    /// WorkingDirectory's children run in its task run, as Kestra's worker runs them.
    pub shown_value: Option<(String, usize)>,
}

impl Frame {
    /// The ForEach values above and at this run, outermost first, with their indices.
    pub fn chain(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = self
            .parents
            .iter()
            .rev()
            .filter_map(|p| p.value.clone().zip(p.iteration))
            .collect();
        out.extend(self.value.clone());
        out
    }

    /// The run's id: the task id, then `.INDEX` for each ForEach value above it (`t.0.2`). Task
    /// ids have no `.`, so this names one run and no task; it is what the journal, container
    /// names and working directories use.
    pub fn run_id(&self, task_id: &str) -> String {
        let mut s = task_id.to_string();
        for (_, i) in self.chain() {
            s.push('.');
            s.push_str(&i.to_string());
        }
        s
    }

    /// The values of [`Frame::chain`] alone: how a run is shown (`t[a][b]`) and reported.
    pub fn values(&self) -> Vec<String> {
        self.chain().into_iter().map(|(v, _)| v).collect()
    }

    /// The frame of a child of `parent` (a task running in this frame), with no value.
    pub fn child(&self, parent: &str) -> Frame {
        let mut parents = vec![ParentRun {
            task_id: parent.to_string(),
            value: self.value.as_ref().map(|(v, _)| v.clone()),
            iteration: self.value.as_ref().map(|(_, i)| *i),
        }];
        parents.extend(self.parents.iter().cloned());
        Frame {
            parents,
            value: None,
            deadline: self.deadline,
            shown_value: None,
        }
    }

    /// The frame of a child of ForEach `parent` for its value `value` at index `i`.
    pub fn iteration(&self, parent: &str, value: &str, i: usize) -> Frame {
        Frame {
            value: Some((value.to_string(), i)),
            ..self.child(parent)
        }
    }

    /// This frame with the deadline `timeout` from now (or the one it has, if sooner).
    pub fn within(&self, timeout: Option<std::time::Duration>) -> Frame {
        let mut f = self.clone();
        if let Some(t) = timeout {
            let d = std::time::Instant::now() + t;
            f.deadline = Some(f.deadline.map_or(d, |e| e.min(d)));
        }
        f
    }

    /// The frame of a WorkingDirectory's children: their expressions see its run's value.
    pub fn worker_child(&self, parent: &str) -> Frame {
        Frame {
            shown_value: self.shown().cloned(),
            ..self.child(parent)
        }
    }

    fn shown(&self) -> Option<&(String, usize)> {
        self.value.as_ref().or(self.shown_value.as_ref())
    }

    /// Whether an enclosing flowable's timeout has run out.
    pub fn timed_out(&self) -> bool {
        self.deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// The context of attempt `attempt` (1 for the first) of the task's run in this frame:
    /// Kestra's `attemptsCount` counts the attempts before this one, and `startDate` is when
    /// the run is rendered (Kestra sets it on every task run, so no task fails for reading it).
    pub fn context(&self, task_id: &str, attempt: u32) -> TaskRunContext {
        TaskRunContext {
            id: self.run_id(task_id),
            start_date: Some(
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
            value: self.shown().map(|(v, _)| Value::String(v.clone())),
            iteration: self.shown().map(|(_, i)| *i as u64),
            attempts_count: attempt.saturating_sub(1),
            parents: self
                .parents
                .iter()
                .filter(|p| p.value.is_some())
                .map(|p| crate::plan::taskrun::ParentRun {
                    value: p.value.clone().map(Value::String),
                    outputs: None,
                })
                .collect(),
            ..Default::default()
        }
    }
}

/// How a run is shown: `t`, or `t[a]`, `t[a][b]` inside ForEach loops.
pub fn display(task_id: &str, values: &[String]) -> String {
    let mut s = task_id.to_string();
    for v in values {
        s.push('[');
        s.push_str(v);
        s.push(']');
    }
    s
}

/// Puts a run's outputs where Kestra's expressions find them: `outputs[ID]`, or
/// `outputs[ID][V1][V2]...` for a run inside ForEach loops (values outermost first).
pub fn insert_outputs(tree: &mut Map<String, Value>, task_id: &str, values: &[String], out: Value) {
    if values.is_empty() {
        tree.insert(task_id.to_string(), out);
        return;
    }
    let mut at = tree
        .entry(task_id.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    for (k, v) in values.iter().enumerate() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let m = at.as_object_mut().expect("an object");
        if k + 1 == values.len() {
            m.insert(v.clone(), out);
            return;
        }
        at = m
            .entry(v.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_are_named_by_their_iterations_and_outputs_nest_by_value() {
        let top = Frame::default();
        assert_eq!(top.run_id("t"), "t");
        let each = top.child("seq");
        let first = each.iteration("each", "a", 0);
        let second = each.iteration("each", "b b", 1);
        assert_eq!(second.run_id("t"), "t.1");
        assert_eq!(second.values(), vec!["b b".to_string()]);
        // A grandchild (inside an If in the ForEach) has no value of its own but its parent's.
        let inner = second.child("if").iteration("inner", "x", 2);
        assert_eq!(inner.run_id("u"), "u.1.2");
        assert_eq!(display("u", &inner.values()), "u[b b][x]");
        let ctx = second.child("if").context("after", 1);
        assert_eq!(ctx.value, None);
        // A WorkingDirectory's child shows the WorkingDirectory run's value, its id unchanged.
        let worker = second.worker_child("wd");
        assert_eq!(worker.context("in-wd", 1).value, Some(json!("b b")));
        assert_eq!(worker.context("in-wd", 1).iteration, Some(1));
        assert_eq!(
            (worker.run_id("in-wd"), worker.values()),
            ("in-wd.1".to_string(), vec!["b b".to_string()])
        );
        assert_eq!(
            worker.worker_child("wd2").context("x", 1).value,
            Some(json!("b b"))
        );
        // The enclosing run with a value (the If has none, so it is not a parent Kestra lists).
        assert_eq!(ctx.parents[0].value, Some(json!("b b")));
        assert_eq!(ctx.parents()[0]["taskrun"]["value"], "b b");
        assert_eq!(
            ctx.attempts_count, 0,
            "Kestra counts the attempts before this one"
        );

        let mut tree = Map::new();
        insert_outputs(&mut tree, "plain", &[], json!({"vars": {"n": 1}}));
        insert_outputs(&mut tree, "t", &first.values(), json!({"vars": {"n": "a"}}));
        insert_outputs(
            &mut tree,
            "t",
            &second.values(),
            json!({"vars": {"n": "b"}}),
        );
        insert_outputs(&mut tree, "u", &inner.values(), json!({"vars": {"n": "x"}}));
        assert_eq!(
            Value::Object(tree),
            json!({
                "plain": {"vars": {"n": 1}},
                "t": {"a": {"vars": {"n": "a"}}, "b b": {"vars": {"n": "b"}}},
                "u": {"b b": {"x": {"vars": {"n": "x"}}}},
            })
        );
    }
}
