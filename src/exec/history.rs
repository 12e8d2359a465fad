//! Past executions, from the journals under the state directory: what `dockhand executions`
//! lists (newest first, filtered) and what `dockhand logs` and `dockhand report` start from.
//! Reading is separate from choosing: [`select`] is a pure function of the summaries.

use camino::Utf8Path;
use serde::Serialize;

use crate::exec::journal::Record;
use crate::exec::maintenance::{JournalFile, journals};

/// One execution as its journal tells it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub id: String,
    pub namespace: String,
    pub flow: String,
    /// Kestra's state when it ended; `RUNNING` while a dockhand process runs it;
    /// `INTERRUPTED` when it did not end and no process runs it (`dockhand resume` continues
    /// it).
    pub state: String,
    /// Unix seconds.
    pub start: u64,
    pub end: Option<u64>,
    /// Seconds from start to end (to now, while it runs or was interrupted at its last write).
    pub duration: u64,
    /// Task runs that ended, and how many of them did not succeed.
    pub tasks: usize,
    pub tasks_failed: usize,
    pub flow_file: String,
    /// The execution's labels: those it started with (its flow's, then those a parent gave
    /// it), then those its tasks added (left out when none).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Which executions to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub flow: Option<String>,
    pub namespace: Option<String>,
    /// Kestra state names, any of them (case-insensitive).
    pub states: Vec<String>,
    pub limit: Option<usize>,
}

/// The summary of one journal (`None` without a start record).
pub fn summarize(j: &JournalFile, now: u64) -> Option<Summary> {
    let records = j.records.as_ref()?;
    let Some(Record::Start {
        flow_file,
        namespace,
        flow,
        at,
        labels,
        ..
    }) = records.iter().find(|r| matches!(r, Record::Start { .. }))
    else {
        return None;
    };
    let end = records.iter().rev().find_map(|r| match r {
        Record::End { state, at } => Some((state.clone(), at.secs())),
        _ => None,
    });
    let mut ended = std::collections::BTreeMap::new();
    let mut labels = labels.clone();
    for r in records {
        if let Record::TaskEnd { task, result, .. } = r {
            ended.insert(task.clone(), result.state);
            labels.extend(result.labels.clone());
        }
    }
    let last_write = now.saturating_sub(j.age.as_secs());
    let (state, end_at, until) = match end {
        Some((s, e)) => (s, Some(e), e),
        None if j.active => ("RUNNING".to_string(), None, now),
        None => ("INTERRUPTED".to_string(), None, last_write),
    };
    Some(Summary {
        id: j.id.clone(),
        namespace: namespace.clone(),
        flow: flow.clone(),
        state,
        start: at.secs(),
        end: end_at,
        duration: until.saturating_sub(at.secs()),
        tasks: ended.len(),
        tasks_failed: ended.values().filter(|s| !s.continues()).count(),
        flow_file: flow_file.clone(),
        labels,
    })
}

/// Every execution under `state_dir`.
pub fn all(state_dir: &Utf8Path, now: u64) -> Vec<Summary> {
    journals(state_dir)
        .iter()
        .filter_map(|j| summarize(j, now))
        .collect()
}

/// The executions `q` asks for, newest first (by start, then id), at most `q.limit`.
pub fn select(mut all: Vec<Summary>, q: &Query) -> Vec<Summary> {
    all.retain(|s| {
        q.flow.as_ref().is_none_or(|f| *f == s.flow)
            && q.namespace.as_ref().is_none_or(|n| *n == s.namespace)
            && (q.states.is_empty() || q.states.iter().any(|x| x.eq_ignore_ascii_case(&s.state)))
    });
    all.sort_by(|a, b| b.start.cmp(&a.start).then_with(|| b.id.cmp(&a.id)));
    if let Some(n) = q.limit {
        all.truncate(n);
    }
    all
}

/// The state names `--state` takes.
pub const STATES: &[&str] = &[
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "RUNNING",
    "INTERRUPTED",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: &str, ns: &str, flow: &str, state: &str, start: u64) -> Summary {
        Summary {
            id: id.into(),
            namespace: ns.into(),
            flow: flow.into(),
            state: state.into(),
            start,
            end: None,
            duration: 0,
            tasks: 0,
            tasks_failed: 0,
            flow_file: String::new(),
            labels: Default::default(),
        }
    }

    #[test]
    fn selection_filters_then_orders_newest_first_then_limits() {
        let all = vec![
            s("a", "dev", "etl", "SUCCESS", 10),
            s("b", "dev", "etl", "FAILED", 30),
            s("c", "prod", "etl", "SUCCESS", 20),
            s("d", "dev", "other", "SUCCESS", 40),
            s("e", "dev", "etl", "SUCCESS", 30),
        ];
        let ids = |q: Query| -> Vec<String> {
            select(all.clone(), &q).into_iter().map(|s| s.id).collect()
        };
        let cases: Vec<(Query, Vec<&str>)> = vec![
            (Query::default(), vec!["d", "e", "b", "c", "a"]),
            (
                Query {
                    flow: Some("etl".into()),
                    ..Default::default()
                },
                vec!["e", "b", "c", "a"],
            ),
            (
                Query {
                    namespace: Some("dev".into()),
                    flow: Some("etl".into()),
                    ..Default::default()
                },
                vec!["e", "b", "a"],
            ),
            (
                Query {
                    states: vec!["failed".into(), "KILLED".into()],
                    ..Default::default()
                },
                vec!["b"],
            ),
            (
                Query {
                    limit: Some(2),
                    ..Default::default()
                },
                vec!["d", "e"],
            ),
        ];
        for (q, want) in cases {
            assert_eq!(ids(q.clone()), want, "{q:?}");
        }
    }
}
