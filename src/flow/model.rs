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
    /// docker Build (and push) or Push: the engine CLI on the host, no container of its own.
    Image(Box<ImageTask>),
}

/// `io.kestra.plugin.docker.cli.Build` (with `build`) or `Push` (without).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTask {
    pub build: Option<ImageBuild>,
    /// The image's names (`tags`), at least one.
    pub tags: Vec<String>,
    /// Push every tag after the build (always, for Push).
    pub push: bool,
    /// `host`, `config` and `credentials`, as the Docker runner reads them.
    pub runner: DockerRunner,
}

/// What a docker Build builds.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBuild {
    /// A file of the working directory (an input file) or, if none has that name, the
    /// Dockerfile's text.
    pub dockerfile: String,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub platform: Option<String>,
    pub pull: bool,
    pub target: Option<String>,
    /// The build context's files besides the Dockerfile.
    pub input_files: BTreeMap<String, String>,
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
            TaskKind::Image(_) => {}
            TaskKind::Parallel { tasks, .. } | TaskKind::Sequential { tasks } => {
                for t in tasks {
                    t.collect_scripts(out);
                }
            }
        }
    }
}

impl Flow {
    /// Every docker Build/Push task of the flow, depth first, in file order.
    pub fn image_tasks(&self) -> Vec<(&Task, &ImageTask)> {
        fn walk<'a>(t: &'a Task, out: &mut Vec<(&'a Task, &'a ImageTask)>) {
            match &t.kind {
                TaskKind::Image(i) => out.push((t, i)),
                TaskKind::Parallel { tasks, .. } | TaskKind::Sequential { tasks } => {
                    tasks.iter().for_each(|c| walk(c, out))
                }
                TaskKind::Script(_) => {}
            }
        }
        let mut out = Vec::new();
        self.tasks.iter().for_each(|t| walk(t, &mut out));
        out
    }

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
    /// Python's `dependencies` and their options (`plan::python_deps` installs them).
    pub python: Option<PythonDeps>,
}

/// Python's `dependencies`, installed once per image and requirement set into a cached
/// directory that the task's container mounts read-only and finds on `PYTHONPATH`.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonDeps {
    pub requirements: Vec<String>,
    /// `packageManager: UV` (Kestra's default): `uv pip install` when the image has `uv`.
    pub uv: bool,
    /// `pythonVersion`: checked against the image's Python.
    pub version: Option<String>,
    /// `dependencyCacheEnabled` (default true); false installs anew for each run.
    pub cache: bool,
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
