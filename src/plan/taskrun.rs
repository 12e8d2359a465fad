//! The task run an expression is rendered for: Kestra's `taskrun` variable (`id`, `startDate`,
//! `attemptsCount`, and `value`, `iteration`, `parentId` when they exist) and `parents`/`parent`
//! (the enclosing task runs that carry a value or outputs, nearest first). The executor (ForEach,
//! retries) fills a [`TaskRunContext`]; the planner only turns it into the variables.

use serde_json::{Map, Value as Json, json};

/// One run of a task, as the executor knows it when it renders the task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskRunContext {
    /// The task run's id (Kestra: a base-62 id per run).
    pub id: String,
    /// The ForEach value this run is for (`taskrun.value`); none outside a ForEach.
    pub value: Option<Json>,
    /// The 0-based index of the ForEach iteration (`taskrun.iteration`).
    pub iteration: Option<u64>,
    /// Attempts made so far, this one included (`taskrun.attemptsCount`).
    pub attempts_count: u32,
    /// ISO-8601 instant the run started (`taskrun.startDate`).
    pub start_date: Option<String>,
    /// The enclosing task run's id (`taskrun.parentId`).
    pub parent_id: Option<String>,
    /// The enclosing task runs, nearest first (`parents`; `parent` is the first).
    pub parents: Vec<ParentRun>,
    /// A ForEachItem batch's file (`taskrun.items`, a `kestra://` URI).
    pub items: Option<String>,
}

/// An enclosing task run as Kestra's `Execution.parents` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParentRun {
    /// Its ForEach value (`parent.taskrun.value`).
    pub value: Option<Json>,
    /// Its outputs (`parent.outputs`).
    pub outputs: Option<Json>,
}

impl TaskRunContext {
    /// The `taskrun` map: only the keys Kestra sets (`value` and `iteration` exist only inside
    /// a ForEach, so outside one reading them is an error, as under Kestra's strict variables).
    pub fn variables(&self) -> Json {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        if let Some(d) = &self.start_date {
            m.insert("startDate".into(), json!(d));
        }
        m.insert("attemptsCount".into(), json!(self.attempts_count));
        if let Some(p) = &self.parent_id {
            m.insert("parentId".into(), json!(p));
        }
        if let Some(v) = &self.value {
            m.insert("value".into(), v.clone());
        }
        if let Some(i) = self.iteration {
            m.insert("iteration".into(), json!(i));
        }
        if let Some(u) = &self.items {
            m.insert("items".into(), json!(u));
        }
        Json::Object(m)
    }

    /// The `parents` list: a parent with neither value nor outputs is left out, as in Kestra.
    pub fn parents(&self) -> Vec<Json> {
        self.parents
            .iter()
            .filter_map(|p| {
                let mut m = Map::new();
                if let Some(v) = &p.value {
                    m.insert("taskrun".into(), json!({ "value": v }));
                }
                if let Some(o) = &p.outputs {
                    m.insert("outputs".into(), o.clone());
                }
                (!m.is_empty()).then_some(Json::Object(m))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_have_only_the_keys_kestra_sets() {
        let t = TaskRunContext {
            id: "tr1".into(),
            attempts_count: 1,
            ..Default::default()
        };
        assert_eq!(t.variables(), json!({"id": "tr1", "attemptsCount": 1}));
        let t = TaskRunContext {
            value: Some(json!("a")),
            iteration: Some(2),
            parents: vec![
                ParentRun {
                    value: Some(json!("outer")),
                    outputs: None,
                },
                ParentRun::default(),
            ],
            ..t
        };
        assert_eq!(t.variables()["value"], json!("a"));
        assert_eq!(t.variables()["iteration"], json!(2));
        assert_eq!(t.parents(), vec![json!({"taskrun": {"value": "outer"}})]);
    }
}
