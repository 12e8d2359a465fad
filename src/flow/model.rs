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
/// Kestra's Process task runner, and the older class names Kestra took for it.
pub const PROCESS_RUNNER_TYPE: &str = "io.kestra.plugin.core.runner.Process";
pub const PROCESS_RUNNER_ALIASES: &[&str] = &[
    "io.kestra.core.models.tasks.runners.types.ProcessTaskRunner",
    "io.kestra.plugin.core.runner.ProcessTaskRunner",
];

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
    /// `variables`: any YAML value per name, as Kestra keeps them (`{{ vars.NAME }}`).
    pub variables: BTreeMap<String, serde_json::Value>,
    pub tasks: Vec<Task>,
    /// The flow's `outputs`, rendered when its tasks have ended.
    pub outputs: Vec<FlowOutput>,
    /// `errors`, `finally`, `afterExecution` and `retry` of the flow (`flow::control`).
    pub control: crate::flow::control::FlowControl,
    /// `concurrency`: how many executions of the flow may run at once (`exec::concurrency`).
    pub concurrency: Option<Concurrency>,
    /// Where each property was found, by dotted path (`tasks[0].taskRunner.memory.memory`).
    pub spans: BTreeMap<String, Pos>,
    /// Each task's `type` as written, by task path (`tasks[0]`): expressions read it as
    /// `task.type`.
    pub task_types: BTreeMap<String, String>,
    /// Where each string value that may hold an expression starts, by dotted path (list items
    /// as `commands[1]`).
    pub values: BTreeMap<String, Pos>,
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
    /// `runIf`, `allowWarning`, `retry`, and a flowable's local `errors`/`finally`
    /// (`flow::control`).
    pub control: crate::flow::control::Control,
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
    /// `io.kestra.plugin.core.flow.WorkingDirectory`: children run one after the other in one
    /// working directory they share.
    WorkingDirectory(Box<WorkingDir>),
    /// `io.kestra.plugin.core.flow.Subflow`: another flow run as a child execution.
    Subflow(Box<SubflowTask>),
    /// If, Switch, ForEach (and EachSequential/EachParallel), Dag, AllowFailure
    /// (`flow::control`).
    Flow(Box<crate::flow::control::FlowTask>),
    /// A core task dockhand does itself, in process (`crate::flow::core_task`).
    Core(Box<crate::flow::core_task::CoreTask>),
    /// `io.kestra.plugin.core.flow.Pause`: waits `delay`, or (none) until `dockhand resume`;
    /// then its `tasks` (Kestra's deprecated form, empty when not written) run in order.
    Pause {
        delay: Option<Duration>,
        tasks: Vec<Task>,
    },
    /// docker Build (and push) or Push: the engine CLI on the host, no container of its own.
    Image(Box<ImageTask>),
}

/// A WorkingDirectory task: its children and the files of the directory they share.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingDir {
    pub tasks: Vec<Task>,
    /// Written into the directory before the first child runs (content may use templates).
    pub input_files: BTreeMap<String, String>,
    /// Globs kept as the WorkingDirectory's output files once the children are done.
    pub output_files: Vec<String>,
    pub cache: Option<Cache>,
    pub namespace_files: Option<NamespaceFiles>,
}

/// `namespaceFiles` (enabled): which files of which namespaces go into the working directory.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceFiles {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Empty: the flow's namespace.
    pub namespaces: Vec<String>,
    pub if_exists: IfExists,
    pub folder_per_namespace: bool,
}

/// What a namespace file does when a file of an earlier namespace has its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    #[default]
    Overwrite,
    Fail,
    Warn,
    Ignore,
}

/// A WorkingDirectory's `cache`: files matching `patterns` are kept after the run and put back
/// into the directory of the next run of the same flow and task, unless older than `ttl`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cache {
    pub patterns: Vec<String>,
    pub ttl: Option<Duration>,
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
    /// The deprecated `outputs` (name → value template), rendered in the child execution's
    /// context when the child flow declares no `outputs`.
    pub outputs: BTreeMap<String, String>,
    /// `ForEachItem`: the items and how they are split; one child execution per batch.
    pub for_each: Option<Box<crate::flow::for_each_item::ForEachItems>>,
    /// The subflow's file, its text's digest and the flow read from it: set by
    /// `flow::subflows::resolve` before a run when the flow is known then (none when it is
    /// only found at run time, or was not found: the task looks again when it runs).
    pub resolved: Option<Box<ResolvedSubflow>>,
    /// The flows directory searched (set by `flow::subflows::resolve`), where the task looks
    /// for its flow at run time when `resolved` is none.
    pub flows_dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSubflow {
    pub file: String,
    pub text: String,
    pub flow: Flow,
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
    /// Namespace files put in the build context before the input files (which win).
    pub namespace_files: Option<NamespaceFiles>,
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
            _ => {
                for t in self.children() {
                    t.collect_scripts(out);
                }
            }
        }
    }

    /// Every child task, in file order: a parent's `tasks` (or branches, cases, DAG nodes),
    /// then its local `errors` and `finally`.
    pub fn children(&self) -> Vec<&Task> {
        let mut out: Vec<&Task> = match &self.kind {
            TaskKind::Script(_) | TaskKind::Core(_) | TaskKind::Image(_) => {
                vec![]
            }
            TaskKind::Parallel { tasks, .. }
            | TaskKind::Sequential { tasks }
            | TaskKind::Pause { tasks, .. } => tasks.iter().collect(),
            TaskKind::WorkingDirectory(w) => w.tasks.iter().collect(),
            TaskKind::Subflow(_) => vec![],
            TaskKind::Flow(f) => f.branches().into_iter().flatten().collect(),
        };
        out.extend(self.control.errors.iter().chain(&self.control.finally));
        out
    }

    /// [`Task::children`], to change them.
    pub fn children_mut(&mut self) -> Vec<&mut Task> {
        let mut out: Vec<&mut Task> = match &mut self.kind {
            TaskKind::Script(_) | TaskKind::Subflow(_) | TaskKind::Core(_) | TaskKind::Image(_) => {
                vec![]
            }
            TaskKind::Parallel { tasks, .. }
            | TaskKind::Sequential { tasks }
            | TaskKind::Pause { tasks, .. } => tasks.iter_mut().collect(),
            TaskKind::WorkingDirectory(w) => w.tasks.iter_mut().collect(),
            TaskKind::Flow(f) => f.branches_mut().into_iter().flatten().collect(),
        };
        out.extend(
            self.control
                .errors
                .iter_mut()
                .chain(self.control.finally.iter_mut()),
        );
        out
    }
}

impl Flow {
    /// Each task that runs inside a WorkingDirectory, by id, with the WorkingDirectory's id:
    /// the child's working directory is the WorkingDirectory's.
    pub fn shared_workdirs(&self) -> BTreeMap<String, String> {
        fn walk(t: &Task, out: &mut BTreeMap<String, String>) {
            match &t.kind {
                TaskKind::WorkingDirectory(w) => {
                    for c in &w.tasks {
                        out.insert(c.id.clone(), t.id.clone());
                    }
                }
                _ => t.children().into_iter().for_each(|c| walk(c, out)),
            }
        }
        let mut out = BTreeMap::new();
        self.tasks.iter().for_each(|t| walk(t, &mut out));
        out
    }

    /// Every docker Build/Push task of the flow, depth first, in file order.
    pub fn image_tasks(&self) -> Vec<(&Task, &ImageTask)> {
        fn walk<'a>(t: &'a Task, out: &mut Vec<(&'a Task, &'a ImageTask)>) {
            if let TaskKind::Image(i) = &t.kind {
                out.push((t, i));
            }
            t.children().into_iter().for_each(|c| walk(c, out));
        }
        let mut out = Vec::new();
        self.tasks.iter().for_each(|t| walk(t, &mut out));
        out
    }

    /// Every script task of the flow, depth first, in file order: the tasks, then those of
    /// `errors`, `finally` and `afterExecution`.
    pub fn scripts(&self) -> Vec<(&Task, &ScriptTask)> {
        self.top_level().flat_map(Task::scripts).collect()
    }

    /// The flow's top-level tasks, then its `errors`, `finally` and `afterExecution` tasks.
    pub fn top_level(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().chain(
            self.control
                .errors
                .iter()
                .chain(&self.control.finally)
                .chain(&self.control.after_execution),
        )
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

/// A file of a task's working directory and a KV entry: `load`ed into the file before the run,
/// or the file (JSON) stored into the entry after it. Namespace and key are templates.
#[derive(Debug, Clone, PartialEq)]
pub struct KvFile {
    pub load: bool,
    pub namespace: String,
    pub key: String,
    /// Relative to the working directory.
    pub path: String,
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
    /// The Docker runner's settings; used only when `task_runner` is `Docker`.
    pub runner: DockerRunner,
    /// Where the task runs: in a container, or on the host (`taskRunner` Process).
    pub task_runner: RunnerKind,
    /// Namespace files written into the working directory before the input files.
    pub namespace_files: Option<NamespaceFiles>,
    /// Kestra's output directory is on (the legacy `runner` property turns it on): every file
    /// written under `{{ outputDir }}` is an output file.
    pub output_dir: bool,
    /// Python's `dependencies` and their options (`plan::python_deps` installs them).
    pub python: Option<PythonDeps>,
    /// Files of the working directory moved to or from the local KV store around the run
    /// (DbtCLI's `loadManifest` / `storeManifest`).
    pub kv_files: Vec<KvFile>,
    /// `inputFiles` given as one text (a JSON object once rendered, as Kestra accepts it): its
    /// files are added to `input_files` when the task starts.
    pub input_files_json: Option<String>,
    /// What a pre-0.16 script task (`io.kestra.core.tasks.scripts.*`) adds: its output file
    /// and directory keys (`spec::tasks_legacy`).
    pub legacy: Option<LegacyFiles>,
}

/// The `outputFiles` / `outputDirs` keys of a pre-0.16 script task: each key is a file (or
/// directory) of that name in the working directory, made before the run, which the commands
/// reach as `{{ outputFiles.KEY }}` (also `{{ temp.KEY }}`) or `{{ outputDirs.KEY }}`, and which
/// is kept as the output file `KEY` (a directory's files as `KEY/...`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LegacyFiles {
    pub files: Vec<String>,
    pub dirs: Vec<String>,
}

impl ScriptTask {
    /// A task of `image` running `commands` with nothing else set: no interpreter, env, files,
    /// `failFast` or runner options (what a task built in code, not read, starts from).
    pub fn of_commands(image: ImageRef, commands: Vec<String>) -> Self {
        ScriptTask {
            container_image: image,
            interpreter: vec![],
            before_commands: vec![],
            body: Body::Commands(commands),
            env: BTreeMap::new(),
            fail_fast: false,
            fail_fast_line: "",
            input_files: BTreeMap::new(),
            output_files: vec![],
            runner: DockerRunner::default(),
            task_runner: RunnerKind::default(),
            output_dir: false,
            python: None,
            kv_files: vec![],
            namespace_files: None,
            input_files_json: None,
            legacy: None,
        }
    }

    /// Does the task run in a container (through the engine), rather than on the host?
    pub fn in_container(&self) -> bool {
        self.task_runner == RunnerKind::Docker
    }
}

/// A script task's task runner: a container through the engine CLI (with the settings in
/// [`ScriptTask::runner`]), or a process on the host (`io.kestra.plugin.core.runner.Process`,
/// which has no settings of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunnerKind {
    #[default]
    Docker,
    Process,
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
    /// Typed properties written as templates, rendered and converted by the planner.
    pub typed: Vec<crate::flow::typed_template::TypedTemplate>,
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
            typed: vec![],
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
