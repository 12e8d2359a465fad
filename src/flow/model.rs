//! The typed flow model: what a Kestra flow file means once it has been read and checked.
//! Values here are already parsed (sizes in bytes, durations, image references) and carry
//! Kestra's defaults, so later stages never look at YAML again.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::diag::Pos;
use crate::image::ImageRef;

pub const COMMANDS_TYPE: &str = "io.kestra.plugin.scripts.shell.Commands";
pub const SCRIPT_TYPE: &str = "io.kestra.plugin.scripts.shell.Script";
pub const PARALLEL_TYPE: &str = "io.kestra.plugin.core.flow.Parallel";
pub const SEQUENTIAL_TYPE: &str = "io.kestra.plugin.core.flow.Sequential";
pub const DOCKER_RUNNER_TYPE: &str = "io.kestra.plugin.scripts.runner.docker.Docker";

/// A whole flow file.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// The file it was read from, as given on the command line.
    pub file: String,
    pub id: String,
    pub namespace: String,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub inputs: Vec<Input>,
    pub variables: BTreeMap<String, String>,
    pub tasks: Vec<Task>,
    /// The flow's `outputs`, rendered when its tasks have ended.
    pub outputs: Vec<FlowOutput>,
    /// `concurrency`: how many executions of the flow may run at once (`exec::concurrency`).
    pub concurrency: Option<Concurrency>,
    /// Where each property was found, by dotted path (`tasks[0].taskRunner.memory.memory`).
    pub spans: BTreeMap<String, Pos>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub id: String,
    pub kind: String,
    pub default: Option<String>,
    /// The choices of a SELECT (or ENUM) input.
    pub values: Vec<String>,
    pub required: bool,
    pub description: Option<String>,
    pub pos: Pos,
    /// What Kestra's input types add (`flow::decode::inputs`, checked by `input_types`).
    pub props: InputProps,
}

/// A flow's `concurrency`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Concurrency {
    pub limit: u32,
    pub behavior: ConcurrencyBehavior,
}

/// What an execution does when `limit` executions of its flow are running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConcurrencyBehavior {
    /// Wait for one to end (Kestra's default).
    #[default]
    Queue,
    /// End CANCELLED without running.
    Cancel,
    /// End FAILED without running.
    Fail,
}

impl ConcurrencyBehavior {
    pub const NAMES: [&'static str; 3] = ["QUEUE", "CANCEL", "FAIL"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "QUEUE" => Some(Self::Queue),
            "CANCEL" => Some(Self::Cancel),
            "FAIL" => Some(Self::Fail),
            _ => None,
        }
    }
}

/// A flow output: `value` (an expression, usually over `outputs.TASK...`) rendered when the
/// tasks have ended and typed as `kind` (an input type).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowOutput {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub required: bool,
    pub pos: Pos,
}

/// The properties of an input beyond its id, type and default, as Kestra has them per type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputProps {
    pub display_name: Option<String>,
    /// The type of each item of an ARRAY (or MULTISELECT) input.
    pub item_type: Option<String>,
    /// STRING and SECRET: a regular expression the whole value must match.
    pub validator: Option<String>,
    /// INT, FLOAT, DURATION `min`/`max`; DATETIME, DATE, TIME `after`/`before`.
    pub min: Option<String>,
    pub max: Option<String>,
    /// SELECT and MULTISELECT: a value outside `values` is taken.
    pub allow_custom_value: bool,
    /// `dependsOn.inputs`: resolved first.
    pub depends_on: Vec<String>,
    /// `dependsOn.condition`: the input is left out (neither needed nor set) when it is false.
    pub condition: Option<String>,
    /// FILE: the extensions (`.csv`) a given file may have; empty: any.
    pub extensions: Vec<String>,
}

/// A task of any supported type.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    /// Dotted path of the task in the file, e.g. `tasks[2]` or `tasks[0].tasks[1]`.
    pub path: String,
    pub pos: Pos,
    pub description: Option<String>,
    pub timeout: Option<Duration>,
    pub allow_failure: bool,
    pub disabled: bool,
    pub kind: TaskKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TaskKind {
    Script(Box<ScriptTask>),
    /// `io.kestra.plugin.core.flow.Parallel`: children run side by side, at most `concurrent`
    /// at a time (0 = no limit).
    Parallel {
        concurrent: usize,
        tasks: Vec<Task>,
    },
    /// `io.kestra.plugin.core.flow.Sequential`: children run one after the other.
    Sequential {
        tasks: Vec<Task>,
    },
    /// `io.kestra.plugin.core.flow.Subflow`: another flow run as a child execution.
    Subflow(Box<SubflowTask>),
    /// `io.kestra.plugin.core.flow.Pause`: waits `delay`, or (none) until `dockhand resume`.
    Pause {
        delay: Option<Duration>,
    },
}

/// A Subflow task: which flow, with which inputs, and the flow once found (`flow::subflows`).
#[derive(Debug, Clone, PartialEq)]
pub struct SubflowTask {
    pub namespace: String,
    pub flow_id: String,
    /// Input values as written (expressions rendered when the task runs), JSON for a list or map.
    pub inputs: BTreeMap<String, String>,
    pub wait: bool,
    pub transmit_failed: bool,
    pub labels: BTreeMap<String, String>,
    pub inherit_labels: bool,
    /// The subflow's file, its text's digest and the flow read from it: set by
    /// `flow::subflows::resolve` before a run (none when the flow was only read).
    pub resolved: Option<Box<ResolvedSubflow>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSubflow {
    pub file: String,
    pub text: String,
    pub flow: Flow,
}

impl Task {
    /// Every script task at or below this one, depth first, in file order.
    pub fn scripts(&self) -> Vec<(&Task, &ScriptTask)> {
        let mut out = Vec::new();
        self.collect_scripts(&mut out);
        out
    }

    fn collect_scripts<'a>(&'a self, out: &mut Vec<(&'a Task, &'a ScriptTask)>) {
        match &self.kind {
            TaskKind::Script(s) => out.push((self, s)),
            TaskKind::Parallel { tasks, .. } | TaskKind::Sequential { tasks } => {
                for t in tasks {
                    t.collect_scripts(out);
                }
            }
            TaskKind::Subflow(_) | TaskKind::Pause { .. } => {}
        }
    }
}

impl Flow {
    /// Every script task of the flow, depth first, in file order.
    pub fn scripts(&self) -> Vec<(&Task, &ScriptTask)> {
        self.tasks.iter().flat_map(Task::scripts).collect()
    }

    /// Where a property stands in the file (the task's own position if it is not found).
    pub fn pos_of(&self, path: &str) -> Option<Pos> {
        self.spans.get(path).copied()
    }
}

/// What the script task runs: a list of commands or one script.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Commands(Vec<String>),
    Script(String),
}

/// A Commands or Script task of shell or a script language (`io.kestra.plugin.scripts.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptTask {
    pub container_image: ImageRef,
    pub interpreter: Vec<String>,
    pub before_commands: Vec<String>,
    pub body: Body,
    pub env: BTreeMap<String, String>,
    pub fail_fast: bool,
    /// The line `failFast` puts first (`set -e` for a POSIX shell; the language's otherwise).
    pub fail_fast_line: &'static str,
    pub input_files: BTreeMap<String, String>,
    pub output_files: Vec<String>,
    pub runner: DockerRunner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    #[default]
    IfNotPresent,
    Always,
    Never,
}

impl PullPolicy {
    pub const NAMES: [&'static str; 3] = ["IF_NOT_PRESENT", "ALWAYS", "NEVER"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "IF_NOT_PRESENT" => Some(Self::IfNotPresent),
            "ALWAYS" => Some(Self::Always),
            "NEVER" => Some(Self::Never),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileHandling {
    /// Copy the working directory into the container before start and back after exit.
    #[default]
    Volume,
    /// Bind-mount the working directory.
    Mount,
}

impl FileHandling {
    pub const NAMES: [&'static str; 2] = ["VOLUME", "MOUNT"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "VOLUME" => Some(Self::Volume),
            "MOUNT" => Some(Self::Mount),
            _ => None,
        }
    }
}

/// Registry credentials (`taskRunner.credentials`). Every field is secret except `registry`
/// and `username`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Credentials {
    pub registry: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub registry_token: Option<String>,
    pub identity_token: Option<String>,
    /// base64 of `user:password`.
    pub auth: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceRequest {
    pub driver: Option<String>,
    /// `-1` means all devices.
    pub count: Option<i64>,
    pub device_ids: Vec<String>,
    pub capabilities: Vec<Vec<String>>,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Memory {
    pub memory: Option<u64>,
    /// Bytes, or `-1` for unlimited swap.
    pub memory_swap: Option<i64>,
    pub memory_swappiness: Option<u8>,
    pub memory_reservation: Option<u64>,
    pub kernel_memory: Option<u64>,
    pub oom_kill_disable: Option<bool>,
}

/// `io.kestra.plugin.scripts.runner.docker.Docker`, with Kestra's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DockerRunner {
    pub host: Option<String>,
    /// A docker client `config.json` (auths, credHelpers, and Kestra's `insecure-registries`).
    pub config: Option<serde_json::Value>,
    pub credentials: Option<Credentials>,
    pub user: Option<String>,
    pub entry_point: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub network_mode: Option<String>,
    pub port_bindings: Vec<String>,
    pub volumes: Vec<String>,
    pub pull_policy: PullPolicy,
    pub device_requests: Vec<DeviceRequest>,
    pub cpus: Option<f64>,
    pub memory: Memory,
    pub shm_size: Option<u64>,
    pub privileged: Option<bool>,
    pub file_handling: FileHandling,
    pub delete: bool,
    pub wait: bool,
    pub kill_grace_period: Duration,
    pub resume: bool,
}

impl Default for DockerRunner {
    fn default() -> Self {
        DockerRunner {
            host: None,
            config: None,
            credentials: None,
            user: None,
            entry_point: vec![String::new()],
            extra_hosts: vec![],
            network_mode: None,
            port_bindings: vec![],
            volumes: vec![],
            pull_policy: PullPolicy::IfNotPresent,
            device_requests: vec![],
            cpus: None,
            memory: Memory::default(),
            shm_size: None,
            privileged: None,
            file_handling: FileHandling::Volume,
            delete: true,
            wait: true,
            kill_grace_period: Duration::ZERO,
            resume: true,
        }
    }
}

impl DockerRunner {
    /// `insecure-registries` from `config`, if any.
    pub fn insecure_registries(&self) -> Vec<String> {
        self.config
            .as_ref()
            .and_then(|c| c.get("insecure-registries"))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}
