//! What a report shows, read from an execution's journal and kept log (and, for images, its
//! flow file when it still reads): a row per task run attempt, in the order they started.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde_json::Value;

use crate::exec::journal::{self, JournalError, Record};
use crate::exec::log_store;
use crate::exec::result::TaskResult;

/// One attempt of one task run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The task run as the journal names it (the task id; with ForEach, its value too).
    pub key: String,
    pub attempt: u32,
    /// Kestra's state; `RUNNING` when it started and did not end.
    pub state: String,
    /// Milliseconds since the execution started.
    pub start_ms: u64,
    pub duration_ms: u64,
    pub container: String,
    pub image: String,
    pub exit_code: Option<i32>,
    pub message: String,
    pub outputs: BTreeMap<String, Value>,
    pub output_files: Vec<String>,
    /// Its kept log lines (`TASK | text` as printed), one string.
    pub log: String,
    pub log_lines: usize,
}

/// An execution, for its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: String,
    pub namespace: String,
    pub flow: String,
    pub flow_file: String,
    pub state: String,
    /// Unix milliseconds.
    pub start_ms: u64,
    pub duration_ms: u64,
    pub runs: Vec<Run>,
}

/// Reads execution `id`. `now_ms` (Unix milliseconds) ends runs and executions still open.
pub fn read(state_dir: &Utf8Path, id: &str, now_ms: u64) -> Result<Report, JournalError> {
    let records = journal::read(state_dir, id)?;
    let mut logs: BTreeMap<String, (String, usize)> = BTreeMap::new();
    if let Ok(f) = std::fs::File::open(log_store::path(state_dir, id)) {
        let _ = log_store::scan(std::io::BufReader::new(f), None, |raw, l| {
            let e = logs.entry(l.task.clone()).or_default();
            e.0.push_str(raw);
            e.0.push('\n');
            e.1 += 1;
            Ok(())
        });
    }
    Ok(from_records(id, &records, logs, now_ms))
}

/// The report of journal `records` (pure: `logs` by task, `now_ms` for what is still open).
pub fn from_records(
    id: &str,
    records: &[Record],
    mut logs: BTreeMap<String, (String, usize)>,
    now_ms: u64,
) -> Report {
    let mut r = Report {
        id: id.to_string(),
        namespace: String::new(),
        flow: String::new(),
        flow_file: String::new(),
        state: "RUNNING".into(),
        start_ms: 0,
        duration_ms: 0,
        runs: vec![],
    };
    let mut end_ms = None;
    let mut open: BTreeMap<String, usize> = BTreeMap::new();
    for rec in records {
        match rec {
            Record::Start {
                flow_file,
                namespace,
                flow,
                at,
                ..
            } => {
                r.namespace = namespace.clone();
                r.flow = flow.clone();
                r.flow_file = flow_file.clone();
                // A resumed execution has one start per process: the first is when it began.
                if r.start_ms == 0 {
                    r.start_ms = at.ms();
                }
            }
            Record::TaskStart {
                task,
                container,
                attempt,
                at,
            } => {
                open.insert(task.clone(), r.runs.len());
                r.runs.push(Run {
                    key: task.clone(),
                    attempt: *attempt,
                    state: "RUNNING".into(),
                    start_ms: at.ms().saturating_sub(r.start_ms),
                    duration_ms: 0,
                    container: container.clone(),
                    image: String::new(),
                    exit_code: None,
                    message: String::new(),
                    outputs: BTreeMap::new(),
                    output_files: vec![],
                    log: String::new(),
                    log_lines: 0,
                });
            }
            Record::TaskEnd { task, result, .. } => {
                let i = match open.remove(task) {
                    Some(i) => i,
                    // Ended without a start record (skipped, from an older journal): a row at
                    // the end of what came before.
                    None => {
                        let at = r.runs.iter().map(|x| x.start_ms + x.duration_ms).max();
                        r.runs.push(Run {
                            key: task.clone(),
                            attempt: 0,
                            state: String::new(),
                            start_ms: at.unwrap_or(0),
                            duration_ms: 0,
                            container: String::new(),
                            image: String::new(),
                            exit_code: None,
                            message: String::new(),
                            outputs: BTreeMap::new(),
                            output_files: vec![],
                            log: String::new(),
                            log_lines: 0,
                        });
                        r.runs.len() - 1
                    }
                };
                end(&mut r.runs[i], result);
            }
            Record::End { state, at } => {
                r.state = state.clone();
                end_ms = Some(at.ms());
            }
            Record::Progress { .. } | Record::Decision { .. } | Record::RetryWait { .. } => {}
        }
    }
    let end_ms = end_ms.unwrap_or(now_ms);
    for i in open.into_values() {
        let run = &mut r.runs[i];
        run.duration_ms = end_ms.saturating_sub(r.start_ms + run.start_ms);
    }
    r.duration_ms = r
        .runs
        .iter()
        .map(|x| x.start_ms + x.duration_ms)
        .max()
        .unwrap_or(0)
        .max(end_ms.saturating_sub(r.start_ms));
    // The kept log is by task; it goes with the task's last attempt.
    for run in r.runs.iter_mut().rev() {
        if let Some((log, n)) = logs.remove(&run.key) {
            run.log = log;
            run.log_lines = n;
        }
    }
    r
}

fn end(run: &mut Run, result: &TaskResult) {
    run.state = result.state.name().to_string();
    run.duration_ms = result.duration.as_millis() as u64;
    run.exit_code = result.exit_code;
    run.message = result.message.clone().unwrap_or_default();
    run.outputs = result.outputs.clone();
    run.output_files = result.output_files.clone();
    if let Some(c) = &result.container {
        run.container = c.clone();
    }
}

/// Fills in each run's image from the flow file, when it still reads (best effort: the
/// journal keeps no image).
pub fn add_images(r: &mut Report, flow: &crate::flow::Flow) {
    let images: BTreeMap<String, String> = flow
        .scripts()
        .into_iter()
        .map(|(t, s)| (t.id.clone(), s.container_image.to_string()))
        .collect();
    for run in &mut r.runs {
        if let Some(i) = images.get(&run.key) {
            run.image = i.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::result::State;

    fn start(task: &str, attempt: u32, at_ms: u64) -> Record {
        Record::TaskStart {
            task: task.into(),
            container: format!("c-{task}-{attempt}"),
            attempt,
            at: journal::Stamp::from_ms(at_ms),
        }
    }

    fn end(task: &str, state: State, ms: u64) -> Record {
        let mut r = TaskResult::new(task, state);
        r.duration = std::time::Duration::from_millis(ms);
        r.exit_code = Some(if state == State::Success { 0 } else { 1 });
        Record::TaskEnd {
            task: task.into(),
            attempt: 1,
            result: r,
        }
    }

    fn flow_start(start_ms: u64) -> Record {
        Record::Start {
            flow_file: "f.yaml".into(),
            flow_digest: String::new(),
            engine: "docker".into(),
            dialect: "docker".into(),
            host: None,
            work_dir: "/tmp".into(),
            inputs: Default::default(),
            at: journal::Stamp::from_ms(start_ms),
            namespace: "ns".into(),
            flow: "fl".into(),
            swarm: None,
            trigger: Default::default(),
            labels: Default::default(),
        }
    }

    #[test]
    fn rows_follow_starts_with_offsets_durations_and_logs() {
        let start_ms = 100_000;
        let records = vec![
            flow_start(start_ms),
            start("a", 1, start_ms),
            start("b", 1, start_ms + 1000),
            end("a", State::Success, 2500),
            end("b", State::Failed, 800),
            start("c", 1, start_ms + 3000),
            Record::End {
                state: "FAILED".into(),
                at: journal::Stamp::from_ms(start_ms + 4000),
            },
        ];
        let mut logs = BTreeMap::new();
        logs.insert("a".to_string(), ("a | hi\n".to_string(), 1));
        let r = from_records("x", &records, logs, 999);
        assert_eq!(
            (r.namespace.as_str(), r.flow.as_str(), r.state.as_str()),
            ("ns", "fl", "FAILED")
        );
        assert_eq!(r.start_ms, 100_000);
        let rows: Vec<(&str, &str, u64, u64)> = r
            .runs
            .iter()
            .map(|x| (x.key.as_str(), x.state.as_str(), x.start_ms, x.duration_ms))
            .collect();
        assert_eq!(
            rows,
            [
                ("a", "SUCCESS", 0, 2500),
                ("b", "FAILED", 1000, 800),
                // Started, never ended: running until the execution's end.
                ("c", "RUNNING", 3000, 1000),
            ]
        );
        assert_eq!(r.runs[0].log_lines, 1);
        assert_eq!(r.duration_ms, 4000);
    }

    #[test]
    fn short_tasks_start_to_the_millisecond() {
        // Three tasks of a few milliseconds in the same second: each bar where it ran.
        let t0 = 1_764_583_443_120;
        let records = [
            flow_start(t0),
            start("a", 1, t0 + 3),
            end("a", State::Success, 4),
            start("b", 1, t0 + 9),
            end("b", State::Success, 5),
            start("c", 1, t0 + 17),
            end("c", State::Failed, 2),
            Record::End {
                state: "FAILED".into(),
                at: journal::Stamp::from_ms(t0 + 21),
            },
        ];
        // Through the journal's own text, as `report` reads it.
        let text: Vec<String> = records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        assert!(text[1].contains("\"at\":1764583443.123"), "{}", text[1]);
        let back: Vec<Record> = text
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let r = from_records("x", &back, BTreeMap::new(), 0);
        let rows: Vec<(&str, u64, u64)> = r
            .runs
            .iter()
            .map(|x| (x.key.as_str(), x.start_ms, x.duration_ms))
            .collect();
        assert_eq!(rows, [("a", 3, 4), ("b", 9, 5), ("c", 17, 2)]);
        assert_eq!((r.start_ms, r.duration_ms), (t0, 21));
    }

    #[test]
    fn a_journal_in_whole_seconds_still_reads() {
        // As dockhand wrote journals before it kept milliseconds.
        let old = [
            r#"{"t":"start","flow_file":"f.yaml","flow_digest":"d","engine":"docker","dialect":"docker","host":null,"work_dir":"/w","inputs":{},"at":1764583443,"namespace":"ns","flow":"fl"}"#,
            r#"{"t":"task_start","task":"a","container":"c-a","attempt":1,"at":1764583444}"#,
            r#"{"t":"end","state":"SUCCESS","at":1764583446}"#,
        ];
        let records: Vec<Record> = old
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let r = from_records("x", &records, BTreeMap::new(), 0);
        assert_eq!(r.start_ms, 1_764_583_443_000);
        assert_eq!((r.runs[0].start_ms, r.runs[0].duration_ms), (1000, 2000));
        assert_eq!(r.duration_ms, 3000);
    }
}
