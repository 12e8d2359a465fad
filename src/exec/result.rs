//! Task and flow outcomes: states as Kestra names them, the summary table and the `--json`
//! document.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Success,
    /// Failed with `allowFailure: true`: the flow goes on.
    Warning,
    Failed,
    /// Stopped by Ctrl-C or SIGTERM.
    Killed,
    /// `disabled: true`, or not reached because an earlier task failed.
    Skipped,
    /// An execution that did not run: its flow's `concurrency` limit was reached with
    /// `behavior: CANCEL`.
    Cancelled,
    /// A Pause task without a delay: the execution waits for `dockhand resume`.
    Paused,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Success => "SUCCESS",
            State::Warning => "WARNING",
            State::Failed => "FAILED",
            State::Killed => "KILLED",
            State::Skipped => "SKIPPED",
            State::Cancelled => "CANCELLED",
            State::Paused => "PAUSED",
        }
    }

    /// Does the flow go on after a task in this state?
    pub fn continues(self) -> bool {
        matches!(self, State::Success | State::Warning | State::Skipped)
    }
}

/// Why a task did not succeed, told apart as users need to act differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum Failure {
    /// The command exited non-zero.
    ExitCode {
        code: i32,
    },
    /// The engine could not create or start the container (image, options, runtime).
    Engine {
        message: String,
    },
    /// The kernel killed the container for exceeding its memory limit. `confirmed` is false
    /// when the engine did not say so (Podman on cgroup v1) but the container died of SIGKILL
    /// under a memory limit that dockhand did not stop it for.
    OutOfMemory {
        confirmed: bool,
        limit: Option<u64>,
    },
    Timeout {
        after_ms: u64,
    },
    Cancelled,
    /// Templates, files, or anything else on dockhand's side.
    Setup {
        message: String,
    },
    /// An in-process task reported the failure itself (`execution.Fail`, a failed assertion,
    /// an HTTP error code, a missing KV key).
    Task {
        message: String,
    },
}

impl Failure {
    pub fn describe(&self) -> String {
        match self {
            Failure::ExitCode { code } => format!("command failed with exit code {code}"),
            Failure::Engine { message } => format!("engine error: {message}"),
            Failure::OutOfMemory {
                confirmed: true, ..
            } => {
                "killed: out of memory (the container exceeded its memory limit; OOMKilled)".into()
            }
            Failure::OutOfMemory {
                confirmed: false,
                limit,
            } => format!(
                "killed by SIGKILL (exit 137) under a memory limit of {}: most likely out of memory (the engine did not report OOMKilled)",
                limit.map_or("?".to_string(), crate::units::format_size_docker)
            ),
            Failure::Timeout { after_ms } => format!(
                "timed out after {:.1} s; the container was stopped",
                *after_ms as f64 / 1000.0
            ),
            Failure::Cancelled => "cancelled; the container was stopped".into(),
            Failure::Setup { message } | Failure::Task { message } => message.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub id: String,
    pub state: State,
    pub exit_code: Option<i32>,
    pub failure: Option<Failure>,
    pub message: Option<String>,
    pub container: Option<String>,
    /// What became of the container: removed, handed off to a detached `rm` when dockhand
    /// returned, failed, kept (`delete: false`, `wait: false`), or none (never made).
    #[serde(default)]
    pub removal: Removal,
    #[serde(
        serialize_with = "ms",
        deserialize_with = "from_ms",
        rename = "durationMs"
    )]
    pub duration: Duration,
    pub outputs: BTreeMap<String, serde_json::Value>,
    pub metrics: Vec<serde_json::Value>,
    pub output_files: Vec<String>,
    /// The ForEach values of this run, outermost first (empty outside any ForEach): a task
    /// that runs many times is reported once per run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// How many attempts the task took (retries), when it ran at all.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Labels the task added to the execution (`execution.Labels`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The output files as kept in the local internal storage: each with its name (relative to
    /// the working directory), its `kestra://` URI and the file's path on the host.
    #[serde(default)]
    pub stored_files: Vec<StoredFile>,
    /// Taken from the task cache (`taskCache`): no container ran; outputs and output files
    /// are the cached run's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// An output file in the local internal storage (`crate::exec::storage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    pub name: String,
    pub uri: String,
    pub path: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The end of a task's container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Removal {
    /// No removal was attempted (no container was made, or the task did not get that far).
    #[default]
    None,
    /// `rm` confirmed it gone (or it was gone already).
    Removed,
    /// Its `rm` was still running when dockhand returned; that process finishes on its own
    /// (`run --wait-removal` waits instead). `dockhand cleanup` removes it if it failed.
    HandedOff,
    /// `rm` failed; the reason was printed. `dockhand cleanup` removes it later.
    Failed,
    /// Kept on purpose: `delete: false`, or `wait: false` (the engine removes it on exit).
    Kept,
}

fn from_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl TaskResult {
    pub fn new(id: &str, state: State) -> Self {
        TaskResult {
            id: id.to_string(),
            state,
            exit_code: None,
            failure: None,
            message: None,
            container: None,
            removal: Removal::None,
            duration: Duration::ZERO,
            outputs: BTreeMap::new(),
            metrics: vec![],
            output_files: vec![],
            values: vec![],
            attempts: 0,
            labels: BTreeMap::new(),
            stored_files: vec![],
            cached: false,
        }
    }

    /// How the run is shown: `t`, or `t[a]` for a run inside a ForEach.
    pub fn display_id(&self) -> String {
        crate::exec::taskrun::display(&self.id, &self.values)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowResult {
    pub execution_id: String,
    pub namespace: String,
    pub flow_id: String,
    pub engine: String,
    pub state: State,
    #[serde(serialize_with = "ms", rename = "durationMs")]
    pub duration: Duration,
    pub tasks: Vec<TaskResult>,
    /// The flow's `outputs`, typed (none declared: left out).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// What failed the execution besides its tasks (its outputs could not be rendered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The execution's labels: the flow's, then those its tasks added, in order.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// The execution's labels: the flow's, overridden by those its tasks added, in task order.
pub fn execution_labels(
    flow: &BTreeMap<String, String>,
    tasks: &[TaskResult],
) -> BTreeMap<String, String> {
    let mut out = flow.clone();
    for t in tasks {
        out.extend(t.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

impl FlowResult {
    /// The flow's state from its tasks': the worst of them.
    pub fn state_of(tasks: &[TaskResult]) -> State {
        if tasks.iter().any(|t| t.state == State::Killed) {
            State::Killed
        } else if tasks.iter().any(|t| t.state == State::Failed) {
            State::Failed
        } else if tasks.iter().any(|t| t.state == State::Paused) {
            State::Paused
        } else if tasks.iter().any(|t| t.state == State::Warning) {
            State::Warning
        } else {
            State::Success
        }
    }

    /// The summary table printed after a run.
    pub fn table(&self) -> String {
        let w = self
            .tasks
            .iter()
            .map(|t| t.display_id().chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut s = format!(
            "{:<w$}  {:<8}  {:>4}  {:>9}  {}\n",
            "TASK", "STATE", "EXIT", "DURATION", "NOTE"
        );
        for t in &self.tasks {
            let exit = t
                .exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into());
            let note = t.message.clone().unwrap_or_default();
            s.push_str(&format!(
                "{:<w$}  {:<8}  {:>4}  {:>8.2}s  {}\n",
                t.display_id(),
                t.state.name(),
                exit,
                t.duration.as_secs_f64(),
                note
            ));
        }
        for (k, v) in &self.outputs {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            s.push_str(&format!("output {k} = {v}\n"));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("error: {e}\n"));
        }
        if !self.labels.is_empty() {
            let l: Vec<String> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            s.push_str(&format!("labels {}\n", l.join(" ")));
        }
        s.push_str(&format!(
            "flow {}.{} {} in {:.2}s (execution {})\n",
            self.namespace,
            self.flow_id,
            self.state.name(),
            self.duration.as_secs_f64(),
            self.execution_id
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary lists a task that ran many times once per run, named with its values.
    #[test]
    fn the_summary_names_each_run_by_its_values() {
        let run = |values: &[&str]| {
            let mut r = TaskResult::new("echo", State::Success);
            r.values = values.iter().map(|v| v.to_string()).collect();
            r
        };
        let result = FlowResult {
            execution_id: "e1".into(),
            namespace: "ns".into(),
            flow_id: "f".into(),
            engine: "docker".into(),
            state: State::Success,
            duration: Duration::ZERO,
            tasks: vec![
                run(&["x", "1"]),
                run(&["x", "2"]),
                run(&["y b", "1"]),
                run(&[]),
            ],
            outputs: BTreeMap::new(),
            error: None,
            labels: BTreeMap::new(),
        };
        let rows: Vec<String> = result
            .table()
            .lines()
            .skip(1)
            .take(4)
            .map(|l| l.split("  ").next().unwrap().trim().to_string())
            .collect();
        assert_eq!(rows, ["echo[x][1]", "echo[x][2]", "echo[y b][1]", "echo"]);
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["tasks"][2]["values"], serde_json::json!(["y b", "1"]));
        assert!(json["tasks"][3].get("values").is_none());
    }
}
