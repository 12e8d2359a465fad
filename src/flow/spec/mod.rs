//! One description of the flow format: the task types (Kestra names and aliases), every object
//! (flow, input, task, task runner, ...) with its properties, each with its type, default, one
//! doc line, and whether dockhand reads it, ignores it (a warning) or refuses it (an error), with
//! the reason; plus the name patterns and enumerations.
//!
//! Both sides read it: `flow::decode` takes its patterns, enumerations, task type names and the
//! ignored/refused reasons from here, and `schema` generates the JSON Schema (`dockhand schema`)
//! from it, so an editor accepts what dockhand runs and flags what it refuses. The reader is still
//! the authority on what a value means (it parses and checks it); `tests/schema.rs` checks that
//! the properties described here as read are exactly those the reader asks for.
//!
//! A new task type is a [`TaskType`] in [`TASK_TYPES`]: its names, its [`Execution`] (a script
//! language is a `ContainerScript` with its body property and default image, read and built by
//! the existing code) and its own properties as a list of [`Property`]. A new script language is
//! one [`Language`] row (listed in [`LANGUAGES`]) and its `lang_commands!`/`lang_script!` lines
//! in [`TASK_TYPES`]. A new kind of execution
//! also needs its reader in `decode::task` and its builder in `plan`. A new runner property is
//! one [`Property`] in [`RUNNER`] (with its `example` and its README table `rows`), its field
//! in `model::DockerRunner` and reader line in `decode::runner`, and its argv mapping in
//! `plan::build`. The tests build their kitchen-sink flow from the examples and the README's
//! runner table from the rows.

use std::sync::OnceLock;

use regex::Regex;

use crate::flow::model::{
    COMMANDS_TYPE, DOCKER_RUNNER_TYPE, FileHandling, PARALLEL_TYPE, PullPolicy, SCRIPT_TYPE,
    SEQUENTIAL_TYPE,
};
use crate::flow::reader::Unsupported;

/// A name rule: the regex both the reader and the schema apply, and the rule in words (the
/// reader says "use {rule}", the schema's editor message "Use {rule}.").
#[derive(Debug)]
pub struct Pattern {
    pub regex: &'static str,
    pub rule: &'static str,
    compiled: OnceLock<Regex>,
}

impl Pattern {
    const fn new(regex: &'static str, rule: &'static str) -> Pattern {
        Pattern {
            regex,
            rule,
            compiled: OnceLock::new(),
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.compiled
            .get_or_init(|| Regex::new(self.regex).expect("a valid pattern"))
            .is_match(s)
    }
}

pub static FLOW_ID: Pattern = Pattern::new(
    r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$",
    "letters, digits, `.`, `_` and `-`, starting with a letter or digit (at most 100)",
);
pub static NAMESPACE: Pattern = Pattern::new(
    r"^[a-z0-9][a-z0-9._-]*$",
    "lowercase letters, digits, `.`, `_` and `-`",
);
/// Input ids, as Kestra's `Input.id`: a `.` nests the value (`nested.more.int` is
/// `{{ inputs.nested.more.int }}`).
pub static INPUT_ID: Pattern = Pattern::new(
    r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$",
    "letters, digits, `.`, `_` and `-`, starting with a letter or digit",
);
/// Task ids (and output ids).
pub static TASK_ID: Pattern = Pattern::new(
    r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$",
    "letters, digits, `_` and `-`, starting with a letter or digit (at most 100)",
);
pub static ENV_NAME: Pattern = Pattern::new(
    r"^[A-Za-z_][A-Za-z0-9_]*$",
    "letters, digits and `_`, not starting with a digit",
);
/// A registry as `insecure-registries` lists it: `host[:port]`, `[ipv6]:port`, or a CIDR.
pub static REGISTRY_HOST: Pattern =
    Pattern::new(crate::registry_host::REGEX, crate::registry_host::RULE);

/// Kestra's input types.
pub const INPUT_TYPES: &[&str] = &[
    "STRING",
    "INT",
    "FLOAT",
    "BOOLEAN",
    "BOOL",
    "DATETIME",
    "DATE",
    "TIME",
    "DURATION",
    "URI",
    "EMAIL",
    "SECRET",
    "JSON",
    "YAML",
    "SELECT",
    "ENUM",
    "MULTISELECT",
    "ARRAY",
    "FILE",
];

/// The options a `volumes` entry may carry after its destination (`SRC:DST:OPT,OPT`).
pub const VOLUME_OPTIONS: &[&str] = &[
    "ro",
    "rw",
    "z",
    "Z",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "private",
    "rprivate",
    "nocopy",
    "consistent",
    "cached",
    "delegated",
    "U",
];

/// What a property's value is. The reader checks it in code; the schema draws it from this.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Text,
    /// Text, also written as a number or boolean (`user: 1000`).
    Scalar,
    Bool,
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// A number above `above`.
    Number {
        above: i64,
    },
    /// ISO-8601 (`PT5M`).
    Duration,
    /// ISO-8601, or a template rendered to one when the task starts (Kestra's
    /// `Property<Duration>`; `flow::typed_template`).
    RenderedDuration,
    /// Bytes, with Kestra's or Docker's units.
    Size,
    /// A size, or -1 for unlimited.
    SizeOrUnlimited,
    /// Text matching a pattern.
    Matching(&'static Pattern),
    /// A non-blank string.
    NonBlank,
    /// A Script task's `script`: a non-blank string, or (as Kestra's `Property<String>` reads
    /// it) a list or map, which becomes its JSON text.
    ScriptText,
    /// `inputFiles`: a map of names that follow a rule to contents, or a text (a JSON object of
    /// them once rendered).
    FileMap(Names),
    /// An image reference: no whitespace.
    Image,
    Enum(&'static [&'static str]),
    Strings,
    /// A list of at least one string (`commands`).
    NonEmptyStrings,
    /// A list of scalars.
    Scalars,
    /// A map of names to scalars.
    StringMap,
    /// A map of names to scalars whose names follow a rule.
    NamedMap(Names),
    /// A list of strings, each following a rule.
    List(Names),
    /// An object described here.
    Object(&'static Object),
    /// A list of objects described here.
    Objects(&'static Object),
    /// A list of tasks, at least one.
    Tasks,
    /// A map of any properties, checked where it is used (a plugin default's `values`).
    AnyMap,
    /// Any value: a scalar, a list or a map.
    Any,
    /// `labels`: a map, or a list of `{key, value}`.
    Labels,
    /// The Labels task's `labels`: as [`Ty::Labels`], or one template rendered to them.
    RenderedLabels,
    /// The runner's `config`: a client `config.json` as a JSON string or a map.
    ClientConfig,
    /// Lists of capability names (`[[gpu, utility]]`).
    StringLists,
    /// Only `false` is accepted (the flow's `disabled`).
    OnlyFalse,
    /// A task's `type`: one of [`TASK_TYPES`].
    TaskType,
    /// Switch `cases`: a map of values to lists of tasks.
    TaskCases,
    /// Dag `tasks`: a list of `{task, dependsOn}`.
    DagTasks,
    /// ForEach `values`: a list of anything, or a string (a JSON array once rendered).
    EachValues,
    /// One text or a list of them (`Log`'s `message`).
    TextOrStrings,
}

/// Name rules of map keys and list items that are paths or engine syntax.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Names {
    Env,
    /// Relative to the working directory, without `..`.
    RelativePath,
    /// `SOURCE:DESTINATION[:OPTIONS]`.
    Volume,
}

/// What dockhand does with a property.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support {
    Read,
    /// Accepted with a warning: the reason.
    Ignored(&'static str),
    /// An error: acting without it would change what the flow does; the reason.
    Refused(&'static str),
}

#[derive(Debug)]
pub struct Property {
    pub name: &'static str,
    pub ty: Ty,
    /// The default, as JSON text (`"true"`, `"\"ubuntu\""`), when the property has one.
    pub default: Option<&'static str>,
    pub required: bool,
    pub doc: &'static str,
    pub support: Support,
    /// A value of the property as YAML text (`PT30S`, `[/bin/bash, -c]`), valid together with
    /// the examples of the other properties of its object: `tests/schema.rs` builds a flow that
    /// sets every property from these. An object (or list of objects) without one is built from
    /// its own properties' examples.
    pub example: Option<&'static str>,
    /// The property's rows in the README's runner-property table (`tests/readme_spec.rs`
    /// renders the table from these): its default in words and what it becomes on each
    /// engine's command line. A runner property of an object type without rows gets one row
    /// per property of that object (`memory.memory`, ...).
    pub rows: &'static [Row],
}

/// One row of the README's runner-property table.
#[derive(Debug)]
pub struct Row {
    /// Appended to the property's name: a key inside its value (`.insecure-registries`), or "".
    pub key: &'static str,
    /// Words after the name, in parentheses (`JSON string or map`), or "".
    pub note: &'static str,
    pub default: &'static str,
    pub docker: &'static str,
    pub podman: &'static str,
}

const fn row(default: &'static str, docker: &'static str, podman: &'static str) -> Row {
    Row {
        key: "",
        note: "",
        default,
        docker,
        podman,
    }
}

const fn read(name: &'static str, ty: Ty, doc: &'static str) -> Property {
    Property {
        name,
        ty,
        default: None,
        required: false,
        doc,
        support: Support::Read,
        example: None,
        rows: &[],
    }
}

const fn required(name: &'static str, ty: Ty, doc: &'static str) -> Property {
    Property {
        required: true,
        ..read(name, ty, doc)
    }
}

const fn with_default(
    name: &'static str,
    ty: Ty,
    default: &'static str,
    doc: &'static str,
) -> Property {
    Property {
        default: Some(default),
        ..read(name, ty, doc)
    }
}
/// `p` with its `example` (what the kitchen-sink flow of `tests/schema.rs` writes for it).
const fn ex(example: &'static str, p: Property) -> Property {
    Property {
        example: Some(example),
        ..p
    }
}

const fn ignored(name: &'static str, why: &'static str) -> Property {
    Property {
        support: Support::Ignored(why),
        ..read(name, Ty::Text, "")
    }
}

const fn refused(name: &'static str, why: &'static str) -> Property {
    Property {
        support: Support::Refused(why),
        ..read(name, Ty::Text, "")
    }
}

/// A kind of YAML map the reader checks for unknown keys.
#[derive(Debug)]
pub struct Object {
    /// The kind, as `decode::known_properties` names it (`flow`, `taskRunner`, ...).
    pub kind: &'static str,
    pub title: &'static str,
    pub doc: &'static str,
    /// Lists of properties, in order (a task type's are the common ones, then its own).
    pub properties: &'static [&'static [Property]],
}

impl Object {
    pub fn properties(&self) -> impl Iterator<Item = &'static Property> + use<> {
        self.properties.iter().flat_map(|l| l.iter())
    }

    /// The ignored and refused properties, as the reader's `finish` takes them.
    pub fn unsupported(&self) -> Vec<Unsupported> {
        self.properties()
            .filter_map(|p| match p.support {
                Support::Read => None,
                Support::Ignored(why) => Some(Unsupported {
                    key: p.name,
                    error: false,
                    why,
                }),
                Support::Refused(why) => Some(Unsupported {
                    key: p.name,
                    error: true,
                    why,
                }),
            })
            .collect()
    }
}

/// A task type: its Kestra name, the older names Kestra still takes for it, how it executes, and
/// its properties (the common task properties, then its own).
#[derive(Debug)]
pub struct TaskType {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub execution: Execution,
    pub object: Object,
}

/// How a task type executes; the reader dispatches on it (`decode::task`), and so does what
/// runs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Execution {
    /// A script in a container (`plan::script` builds its command): the property holding the
    /// body, and the image used without `containerImage`.
    ContainerScript {
        body: ScriptBody,
        default_image: &'static str,
        /// The interpreter used without `interpreter`.
        interpreter: &'static [&'static str],
        /// The line `failFast` puts first in the script given to the interpreter.
        fail_fast: &'static str,
        /// Environment variables set unless the task sets them itself.
        env: &'static [(&'static str, &'static str)],
        /// For a language's Script task: the file its script is written to and how it is run.
        file: Option<&'static ScriptFile>,
    },
    /// A program run on the host, outside any container (no such type yet).
    HostProcess,
    /// Done by dockhand itself, without a process (`spec::tasks_core`; read by
    /// `decode::core`, run by `exec::core`).
    InProcess,
    /// A parent that runs its child `tasks`.
    FlowableParent(Flowable),
    /// Runs another flow as a child execution (`exec::subflow`).
    Subflow,
    /// Waits: a delay, or until `dockhand resume` (`exec::pause`).
    Pause,
}

/// A script language (Kestra's `io.kestra.plugin.scripts.<lang>` plugins): the image and
/// interpreter its Commands and Script tasks use by default, and how its Script runs. The
/// task types in [`TASK_TYPES`] are built from the [`LANGUAGES`] table by `lang_commands!` and
/// `lang_script!`.
#[derive(Debug, PartialEq)]
pub struct Language {
    /// The plugin's name in the task type: `python` in `io.kestra.plugin.scripts.python.Script`.
    pub name: &'static str,
    pub default_image: &'static str,
    pub interpreter: &'static [&'static str],
    pub fail_fast: &'static str,
    /// Set on both task types unless the task sets the variable itself (Kestra's `addEnv`).
    pub env: &'static [(&'static str, &'static str)],
    pub file: ScriptFile,
}

/// How a language's Script task runs: its script, after `prefix`, is written to `name` in the
/// working directory (as an input file is), and `command` (which runs `name`) is the task's one
/// command, given to the interpreter as a Commands task's.
#[derive(Debug, PartialEq)]
pub struct ScriptFile {
    pub name: &'static str,
    pub command: &'static str,
    pub prefix: &'static str,
    /// Commands the plugin runs before the task's own `beforeCommands` (dotnet installs
    /// `dotnet-script` so).
    pub before: &'static [&'static str],
}

/// Where a script task's body is: `commands` (a list, one line each) or `script` (one text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScriptBody {
    Commands,
    Script,
}

/// How a flowable parent runs its children.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flowable {
    /// Side by side, at most `concurrent` at a time.
    Parallel,
    /// One after the other.
    Sequential,
    /// One after the other, in one working directory they share.
    WorkingDirectory,
    /// The flow-control types of `tasks_flow`.
    If,
    Switch,
    ForEach,
    EachSequential,
    EachParallel,
    Dag,
    AllowFailure,
}

impl Flowable {
    /// The property a parent of this kind cannot do without.
    pub fn required_property(self) -> &'static str {
        match self {
            Flowable::If => "then",
            Flowable::Switch => "value",
            _ => "tasks",
        }
    }
}

mod tasks_container;
pub use tasks_container::{
    CliScript, DBT_KV_MANIFEST, DOCKER_BUILD_PULL, DOCKER_BUILD_TYPE, DOCKER_PUSH_TYPE, adapt_cli,
    is_image_task, runner_at_top,
};
pub mod tasks_core;
pub mod tasks_flow;
pub mod tasks_legacy;

/// Every task type dockhand knows, area by area: shell, the flowables of the first version and
/// the script languages (this file), the flow-control tasks (`tasks_flow`), the tasks dockhand
/// does itself (`tasks_core`), and the other tasks that run a container or a host program
/// (`tasks_container`: CLI, docker and git tasks).
pub fn task_types() -> impl Iterator<Item = &'static TaskType> {
    SCRIPT_TASK_TYPES
        .iter()
        .chain(tasks_flow::TASK_TYPES)
        .chain(tasks_core::TASK_TYPES)
        .chain(tasks_container::TASK_TYPES)
        .chain(tasks_legacy::TASK_TYPES)
}

/// The task type called `name` (its Kestra name or an alias).
pub fn task_type(name: &str) -> Option<&'static TaskType> {
    task_types().find(|t| t.name == name || t.aliases.contains(&name))
}

/// The Kestra name of the task type called `name`, or `name` itself when it is none of them.
pub fn canonical_task_type(name: &str) -> &str {
    task_type(name).map_or(name, |t| t.name)
}

// ------------------------------------------------------------------------------------- flow

pub static FLOW: Object = Object {
    kind: "flow",
    title: "Kestra flow (dockhand)",
    doc: "A Kestra flow as dockhand runs it: script tasks (shell Commands and Script) in containers through docker or podman, grouped by Parallel and Sequential.",
    properties: &[&[
        Property {
            example: Some("kitchen-sink"),
            ..required(
                "id",
                Ty::Matching(&FLOW_ID),
                "The flow id, unique within its namespace: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 100 characters. Available as `{{ flow.id }}`.",
            )
        },
        Property {
            example: Some("company.team"),
            ..required(
                "namespace",
                Ty::Matching(&NAMESPACE),
                "The namespace of the flow, e.g. `company.team`: lowercase letters, digits, `.`, `_` and `-`. Available as `{{ flow.namespace }}`.",
            )
        },
        Property {
            example: Some("Every property dockhand reads."),
            ..read("description", Ty::Text, "What the flow does (Markdown).")
        },
        Property {
            example: Some("{team: data, cost: 3}"),
            ..read(
                "labels",
                Ty::Labels,
                "Labels of the flow: a map of names to values, or a list of `{key, value}`.",
            )
        },
        Property {
            // Some input properties belong to some types only: one input of each kind.
            example: Some(
                r#"[{id: name, type: STRING, defaults: world, required: false, description: Who to greet., displayName: Name, validator: "[a-z]+", prefill: moon}, {name: count, type: INT, min: 1, max: 10, defaults: 3}, {id: day, type: DATE, after: "2024-01-01", before: "2030-01-01", required: false}, {id: pick, type: MULTISELECT, values: [a, b], allowCustomValue: true, autoSelectFirst: true, itemType: STRING, isRadio: false}, {id: old, type: MULTISELECT, options: [a, b], defaults: [a]}, {id: data, type: FILE, allowedFileExtensions: [.csv], required: false, dependsOn: {inputs: [name], condition: "{{ inputs.name == 'x' }}"}}]"#,
            ),
            ..read(
                "inputs",
                Ty::Objects(&INPUT),
                "Inputs of the flow, given with `dockhand run --input ID=VALUE` and used as `{{ inputs.ID }}`.",
            )
        },
        Property {
            example: Some("{greeting: hello, n: 1, hosts: [a, b]}"),
            ..read(
                "variables",
                Ty::AnyMap,
                "Flow variables of any YAML type (text, number, boolean, list, map), used as `{{ vars.NAME }}` with their type (`{{ vars.hosts[0] }}`); a text is not rendered again unless `render(vars.NAME)`.",
            )
        },
        required(
            "tasks",
            Ty::Tasks,
            "The tasks of the flow, run one after the other; at least one.",
        ),
        Property {
            ty: Ty::OnlyFalse,
            example: Some("false"),
            doc: "Must be `false` (or absent): dockhand refuses disabled flows; leave the file out of the command line instead.",
            ..refused(
                "disabled",
                "a disabled flow would not run; remove the file from the command line instead",
            )
        },
        Property {
            example: Some(
                "[{id: daily, type: io.kestra.plugin.core.trigger.Schedule, cron: \"0 9 * * *\"}]",
            ),
            ..read(
                "triggers",
                Ty::Any,
                "Kestra's triggers: a one-shot `dockhand run` starts none; they are accepted with a warning naming each (schedule the run with cron or CI).",
            )
        },
        ex(
            "{title: A blueprint, tags: [Getting Started]}",
            ignored("extend", "it is blueprint catalogue metadata, never run"),
        ),
        Property {
            example: Some(
                "[{id: flow-on-error, type: io.kestra.plugin.scripts.shell.Commands, commands: [echo failed]}]",
            ),
            ..read(
                "errors",
                Ty::Tasks,
                "Tasks run when a task fails; the flow still ends FAILED.",
            )
        },
        Property {
            example: Some(
                "[{id: flow-finally, type: io.kestra.plugin.scripts.shell.Commands, commands: [echo done]}]",
            ),
            ..read(
                "finally",
                Ty::Tasks,
                "Tasks run at the end, however the tasks (and errors) ended; they count in the flow's state.",
            )
        },
        Property {
            example: Some(
                "[{id: flow-after, type: io.kestra.plugin.scripts.shell.Commands, commands: [echo after]}]",
            ),
            ..read(
                "afterExecution",
                Ty::Tasks,
                "Tasks run once the flow's state is known; they do not change it.",
            )
        },
        Property {
            example: Some(
                "[{type: io.kestra.plugin.scripts.shell.Commands, values: {containerImage: \"dockhand-test/busybox\"}}]",
            ),
            ..read(
                "pluginDefaults",
                Ty::Objects(&PLUGIN_DEFAULT),
                "Default property values for every task (or task runner, trigger) whose type is `type` or starts with it, merged into each before the flow is checked: the task's own value wins unless the default is `forced`; maps merge deeply, lists add their missing items.",
            )
        },
        Property {
            example: Some("[]"),
            ..read(
                "taskDefaults",
                Ty::Objects(&PLUGIN_DEFAULT),
                "The old name of `pluginDefaults`, applied after it.",
            )
        },
        refused("listeners", "listeners are not run"),
        Property {
            example: Some(r#"[{id: greeting, type: STRING, value: "{{ vars.greeting }}"}]"#),
            ..read(
                "outputs",
                Ty::Objects(&FLOW_OUTPUT),
                "Outputs of the flow: each `value` is rendered when the tasks have ended (`{{ outputs.TASK.vars.NAME }}`) and typed as its `type`; printed in the summary and in `--json`, and the outputs of a Subflow calling the flow. One that cannot be rendered or typed fails the execution, as in Kestra.",
            )
        },
        Property {
            example: Some("{type: constant, interval: PT1S, maxAttempts: 2}"),
            ..read(
                "retry",
                Ty::Object(&RETRY),
                "The retry of every task that has none of its own (behavior RETRY_FAILED_TASK).",
            )
        },
        ex(
            "[{id: slow, type: MAX_DURATION, duration: PT1H, behavior: FAIL}]",
            ignored(
                "sla",
                "SLAs are not checked yet: a MAX_DURATION `duration` or an EXECUTION_ASSERTION `assert` never fails or cancels the execution, and their `labels` are not added",
            ),
        ),
        read(
            "concurrency",
            Ty::Object(&CONCURRENCY),
            "How many executions of the flow may run at once, across the dockhand processes sharing a state directory.",
        ),
        refused("checks", "flow checks are not evaluated"),
        ex(
            "{key: gpu}",
            ignored("workerGroup", "dockhand has no workers"),
        ),
        ex(
            "3",
            ignored("revision", "revisions belong to a Kestra server"),
        ),
        ex(
            "main",
            ignored("tenantId", "tenants belong to a Kestra server"),
        ),
        ex("false", ignored("deleted", "it belongs to a Kestra server")),
    ]],
};

pub static FLOW_OUTPUT: Object = Object {
    kind: "flowOutput",
    title: "Flow output",
    doc: "An output of the flow.",
    properties: &[&[
        Property {
            example: Some("greeting"),
            ..required(
                "id",
                Ty::Matching(&TASK_ID),
                "The output's name: `outputs.ID` in `--json`, `outputs.SUBFLOW.outputs.ID` in a parent flow.",
            )
        },
        Property {
            example: Some("STRING"),
            ..required(
                "type",
                Ty::Enum(INPUT_TYPES),
                "The Kestra type the rendered value must have (an input type: STRING, INT, JSON, ...).",
            )
        },
        Property {
            example: Some("\"{{ vars.greeting }}\""),
            ..required(
                "value",
                Ty::Any,
                "The value: an expression rendered when the tasks have ended.",
            )
        },
        Property {
            example: Some("What the flow greets with."),
            ..read("description", Ty::Text, "What the output is.")
        },
        Property {
            example: Some("Greeting"),
            ..read(
                "displayName",
                Ty::Text,
                "A name to show for the output (Kestra's UI).",
            )
        },
        Property {
            example: Some("true"),
            ..with_default(
                "required",
                Ty::Bool,
                "true",
                "Whether an empty value fails the execution.",
            )
        },
    ]],
};

pub static CONCURRENCY: Object = Object {
    kind: "concurrency",
    title: "Concurrency limit",
    doc: "How many executions of the flow may run at once.",
    properties: &[&[
        Property {
            example: Some("1"),
            ..required(
                "limit",
                Ty::Int {
                    min: Some(1),
                    max: None,
                },
                "The most executions of the flow running at once (slots held with a file lock under the state directory).",
            )
        },
        Property {
            example: Some("QUEUE"),
            ..with_default(
                "behavior",
                Ty::Enum(&crate::flow::model::ConcurrencyBehavior::NAMES),
                "\"QUEUE\"",
                "When the limit is reached: QUEUE waits for a running execution to end, CANCEL ends the new one CANCELLED, FAIL ends it FAILED.",
            )
        },
    ]],
};

pub static PLUGIN_DEFAULT: Object = Object {
    kind: "pluginDefault",
    title: "Plugin default",
    doc: "Default values for the plugins of a type (`pluginDefaults`).",
    properties: &[&[
        Property {
            example: Some("io.kestra.plugin.scripts"),
            ..required(
                "type",
                Ty::Text,
                "The plugin type the values apply to: a full type name, or a prefix of type names (`io.kestra.plugin.scripts`).",
            )
        },
        Property {
            example: Some("{timeout: PT1H}"),
            ..required(
                "values",
                Ty::AnyMap,
                "The property values, as the plugin takes them; checked on each task they are merged into, with errors at their own line.",
            )
        },
        Property {
            example: Some("false"),
            ..with_default(
                "forced",
                Ty::Bool,
                "false",
                "When true, the values win over the task's own.",
            )
        },
    ]],
};

pub static INPUT: Object = Object {
    kind: "input",
    title: "Input",
    doc: "An input of the flow.",
    properties: &[&[
        Property {
            example: Some("name"),
            ..read(
                "id",
                Ty::Matching(&INPUT_ID),
                "The input name, used as `{{ inputs.ID }}` and `--input ID=VALUE`: letters, digits, `.`, `_` and `-`, starting with a letter or digit; a `.` nests it, as in Kestra (`a.b` is `{{ inputs.a.b }}`). Required (or the legacy `name`).",
            )
        },
        read(
            "name",
            Ty::Matching(&INPUT_ID),
            "Kestra's old name of `id`, taken when `id` is absent.",
        ),
        Property {
            example: Some("STRING"),
            ..required(
                "type",
                Ty::Enum(INPUT_TYPES),
                "The Kestra type of the input.",
            )
        },
        Property {
            example: Some("world"),
            ..read(
                "defaults",
                Ty::Any,
                "The value used when `--input ID=VALUE` is not given (a list for ARRAY and MULTISELECT, any value for JSON and YAML).",
            )
        },
        read(
            "prefill",
            Ty::Any,
            "A value Kestra's form starts with; dockhand takes it when neither `--input` nor `defaults` gives one.",
        ),
        Property {
            example: Some("false"),
            ..with_default(
                "required",
                Ty::Bool,
                "true",
                "Whether a value (given or `defaults`) is needed to run the flow.",
            )
        },
        Property {
            example: Some("Who to greet."),
            ..read("description", Ty::Text, "What the input is for.")
        },
        Property {
            example: Some("Name"),
            ..read(
                "displayName",
                Ty::Text,
                "A name to show for the input (Kestra's UI).",
            )
        },
        read(
            "values",
            Ty::Scalars,
            "The allowed values of a SELECT, ENUM or MULTISELECT input.",
        ),
        read(
            "options",
            Ty::Scalars,
            "Kestra's old name of a MULTISELECT's `values`.",
        ),
        read(
            "allowCustomValue",
            Ty::Bool,
            "SELECT and MULTISELECT: a value outside `values` is taken too.",
        ),
        read(
            "autoSelectFirst",
            Ty::Bool,
            "SELECT and MULTISELECT: without `defaults`, the first of `values` is the default.",
        ),
        read(
            "itemType",
            Ty::Enum(INPUT_TYPES),
            "ARRAY (required) and MULTISELECT: the type of each item, checked on each.",
        ),
        read(
            "validator",
            Ty::Text,
            "STRING and SECRET: a regular expression the whole value must match.",
        ),
        read(
            "min",
            Ty::Scalar,
            "INT, FLOAT and DURATION: the smallest value.",
        ),
        read(
            "max",
            Ty::Scalar,
            "INT, FLOAT and DURATION: the largest value.",
        ),
        read(
            "after",
            Ty::Text,
            "DATETIME, DATE and TIME: the earliest value.",
        ),
        read(
            "before",
            Ty::Text,
            "DATETIME, DATE and TIME: the latest value.",
        ),
        read(
            "allowedFileExtensions",
            Ty::Strings,
            "FILE: the extensions (`.csv`) the given file may have.",
        ),
        read(
            "dependsOn",
            Ty::AnyMap,
            "`inputs` resolved before this one, and a `condition` (an expression over them): when it is false the input is left out, neither needed nor set.",
        ),
        ex(
            "false",
            ignored("isRadio", "it is a choice of Kestra's form"),
        ),
        refused(
            "expression",
            "values computed by an expression are not computed; list them in `values`",
        ),
    ]],
};

// ------------------------------------------------------------------------------------ tasks

/// What every task type has (`decode::read_task`), supported or not.
/// The properties every task type has (`decode::task` reads them for all).
pub const COMMON_TASK: &[Property] = &[
    Property {
        example: Some("t"),
        ..required(
            "id",
            Ty::Matching(&TASK_ID),
            "The task id, unique in the flow: letters, digits, `_` and `-`, starting with a letter or digit, at most 100 characters. Available as `{{ task.id }}`; outputs are `{{ outputs.ID.vars.NAME }}`.",
        )
    },
    required("type", Ty::TaskType, "The task type."),
    Property {
        example: Some("A task."),
        ..read("description", Ty::Text, "What the task does (Markdown).")
    },
    Property {
        example: Some("PT10M"),
        ..read(
            "timeout",
            Ty::RenderedDuration,
            "The longest the task may run (ISO-8601, e.g. `PT10M`); the container is then stopped and the task fails.",
        )
    },
    Property {
        example: Some("false"),
        ..with_default(
            "allowFailure",
            Ty::Bool,
            "false",
            "When true, a failure of the task makes it WARNING instead of failing the flow.",
        )
    },
    Property {
        example: Some("false"),
        ..with_default(
            "disabled",
            Ty::Bool,
            "false",
            "When true, the task is skipped.",
        )
    },
    Property {
        example: Some("{type: constant, interval: PT1S, maxAttempts: 2}"),
        ..read(
            "retry",
            Ty::Object(&RETRY),
            "Retry a failed task: `type` constant, exponential or random, `maxAttempts` (attempts in all), `maxDuration`, `warningOnRetry`; each attempt is a new container.",
        )
    },
    Property {
        example: Some(r#""{{ true }}""#),
        ..read(
            "runIf",
            Ty::Text,
            "A Pebble expression rendered when the task is reached; false ('false', '0', '-0', '') skips the task (SKIPPED).",
        )
    },
    refused("outputDirectory", "declare outputFiles instead"),
    ex(
        "{tags: [gpu]}",
        ignored(
            "workerSelector",
            "worker groups are a Kestra Enterprise feature; dockhand runs every task itself (choose the engine with --host or the runner's `host`)",
        ),
    ),
    ex(
        "false",
        ignored(
            "warningOnStdErr",
            "stderr never changes a task's state (Kestra deprecated the property)",
        ),
    ),
    ex("INFO", ignored("logLevel", "every log line is shown")),
    ex(
        "false",
        ignored("logToFile", "logs go to the terminal and --json"),
    ),
    ex(
        "{key: gpu}",
        ignored("workerGroup", "dockhand has no workers"),
    ),
    ex(
        "LINUX",
        ignored("targetOS", "containers run on the engine's OS"),
    ),
    Property {
        example: Some("{enabled: true, ttl: PT1H}"),
        ..read(
            "taskCache",
            Ty::Object(&TASK_CACHE),
            "Cache the task's result (script tasks, and core tasks whose result is their outputs): `enabled`, `ttl`. A later run of the same rendered task in the same image, with the same input files, takes its outputs and output files from the cache instead of running.",
        )
    },
    Property {
        example: Some("false"),
        ..with_default(
            "allowWarning",
            Ty::Bool,
            "false",
            "When true, a WARNING of the task counts as SUCCESS.",
        )
    },
];

/// `taskCache` of a task (Kestra's `Cache`; `flow::task_cache`).
pub static TASK_CACHE: Object = Object {
    kind: "taskCache",
    title: "Task cache",
    doc: "Whether a task's result is cached under the state directory, and for how long.",
    properties: &[&[
        required(
            "enabled",
            Ty::Bool,
            "Whether the cache is used for this task.",
        ),
        read(
            "ttl",
            Ty::Duration,
            "How long a cached result stands (ISO-8601, e.g. `PT1H`); without it, until the task as rendered, its image or its input files change.",
        ),
    ]],
};

/// `retry` of a task or of the flow (Kestra's `AbstractRetry` and its types).
pub static RETRY: Object = Object {
    kind: "retry",
    title: "Retry",
    doc: "How a failed task is retried.",
    properties: &[&[
        required(
            "type",
            Ty::Enum(&["constant", "exponential", "random"]),
            "constant (`interval`), exponential (`interval`, `maxInterval`, `delayFactor`) or random (`minInterval`, `maxInterval`).",
        ),
        read(
            "interval",
            Ty::Duration,
            "The delay (constant) or its unit (exponential).",
        ),
        read(
            "maxInterval",
            Ty::Duration,
            "The longest delay (exponential, random).",
        ),
        read("minInterval", Ty::Duration, "The shortest delay (random)."),
        read(
            "delayFactor",
            Ty::Number { above: 0 },
            "The factor of an exponential delay (default 2).",
        ),
        read(
            "maxAttempts",
            Ty::Int {
                min: Some(1),
                max: None,
            },
            "Attempts in all, the first included.",
        ),
        read(
            "maxAttempt",
            Ty::Int {
                min: Some(1),
                max: None,
            },
            "The old spelling of `maxAttempts`.",
        ),
        read(
            "maxDuration",
            Ty::Duration,
            "No new attempt starts later than this after the first one started.",
        ),
        with_default(
            "warningOnRetry",
            Ty::Bool,
            "false",
            "A success after a retry is WARNING.",
        ),
        with_default(
            "behavior",
            Ty::Enum(&["RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION"]),
            "\"RETRY_FAILED_TASK\"",
            "RETRY_FAILED_TASK (the only one dockhand runs): the failed task gets a new attempt.",
        ),
    ]],
};

/// The image and interpreter of shell's Commands and Script tasks.
const SHELL_IMAGE: &[Property] = &[
    Property {
        example: Some("ghcr.io/org/image:1.0"),
        ..with_default(
            "containerImage",
            Ty::Image,
            "\"ubuntu\"",
            "The image the task runs in, e.g. `ubuntu:22.04` or `ghcr.io/org/image@sha256:...`.",
        )
    },
    Property {
        example: Some("[/bin/bash, -c]"),
        ..with_default(
            "interpreter",
            Ty::Strings,
            "[\"/bin/sh\", \"-c\"]",
            "The program and arguments the script is given to, as its last argument. An empty list (with no beforeCommands) runs the commands as the container's argv.",
        )
    },
];

/// A language's `containerImage` and `interpreter` properties, with its defaults (literals, so
/// that they can be text; a test checks them against the [`Language`]).
macro_rules! lang_image {
    ($image:literal, $interpreter:expr) => {
        &[
            Property {
                example: Some("ghcr.io/org/image:1.0"),
                ..with_default(
                    "containerImage",
                    Ty::Image,
                    concat!("\"", $image, "\""),
                    "The image the task runs in.",
                )
            },
            Property {
                example: Some("[/bin/bash, -c]"),
                ..with_default(
                    "interpreter",
                    Ty::Strings,
                    $interpreter,
                    "The program and arguments the script is given to, as its last argument.",
                )
            },
        ]
    };
}

/// The properties of Commands and Script tasks besides their body, image and interpreter, one
/// by one (the CLI tasks of `tasks_container` take the ones their plugin has).
const BEFORE_COMMANDS: Property = Property {
    example: Some("[set -u]"),
    ..read(
        "beforeCommands",
        Ty::Strings,
        "Commands run before the commands or script, in the same shell. May use `{{ ... }}` expressions.",
    )
};

const ENV: Property = Property {
    example: Some(r#"{GREETING: "{{ vars.greeting }}", PORT: 8080, EMPTY: null}"#),
    ..read(
        "env",
        Ty::NamedMap(Names::Env),
        "Environment variables of the container (`--env`; values are passed outside the command line). Values may use `{{ ... }}` expressions.",
    )
};

const FAIL_FAST: Property = Property {
    example: Some("true"),
    ..with_default(
        "failFast",
        Ty::Bool,
        "true",
        "When true, the script starts with `set -e`, so the first failing command fails the task.",
    )
};

const INPUT_FILES: Property = Property {
    example: Some(r#"{data/in.txt: "{{ inputs.name }}"}"#),
    ..read(
        "inputFiles",
        Ty::FileMap(Names::RelativePath),
        "Files written into the working directory before the task runs: relative path → content, or a JSON text of that map (rendered when the task starts). Content may use `{{ ... }}` expressions; a content that is a `kestra://`, `nsfile://` or allowed `file://` URI is that file's.",
    )
};

const OUTPUT_FILES: Property = Property {
    example: Some(r#"["out/*.txt"]"#),
    ..read(
        "outputFiles",
        Ty::List(Names::RelativePath),
        "Globs, relative to the working directory, of the files kept as outputs after the task runs.",
    )
};

const TASK_RUNNER: Property = with_default(
    "taskRunner",
    Ty::Object(&RUNNER),
    "{\"type\": \"io.kestra.plugin.scripts.runner.docker.Docker\"}",
    "Where the task runs: dockhand's Docker runner (`docker run` / `podman run`), or `io.kestra.plugin.core.runner.Process` (on the host, in the task's working directory).",
);

/// `namespaceFiles` of a script task (read by `decode::namespace_files`).
pub(super) const NAMESPACE_FILES_PROPERTY: Property = read(
    "namespaceFiles",
    Ty::Object(&NAMESPACE_FILES),
    "Namespace files (from the local namespace files directory) written into the working directory before the task runs; `inputFiles` are written after them.",
);

/// The pre-0.16 `runner` property (read by `decode::task_runner`).
pub(super) const LEGACY_RUNNER: Property = Property {
    example: Some("DOCKER"),
    ..read(
        "runner",
        Ty::Enum(&["DOCKER", "PROCESS"]),
        "Deprecated (Kestra before 0.16; a warning suggests `taskRunner`): DOCKER runs the task with the Docker runner and the `docker` options, PROCESS on the host. When set, `taskRunner` is not used, and `{{ outputDir }}` is on, as in Kestra.",
    )
};

/// The deprecated `docker` options (read by `decode::task_runner`).
pub(super) const LEGACY_DOCKER: Property = read(
    "docker",
    Ty::Object(&DOCKER_OPTIONS),
    "Deprecated (a warning suggests `taskRunner`): the Docker runner's settings, with `image` over `containerImage` and pullPolicy ALWAYS by default, as Kestra's DockerOptions; used unless the task runs with Process.",
);

/// Commands and Script tasks, besides their body, image and interpreter.
pub(crate) const SCRIPT: &[Property] = &[
    BEFORE_COMMANDS,
    ENV,
    FAIL_FAST,
    INPUT_FILES,
    OUTPUT_FILES,
    TASK_RUNNER,
    LEGACY_RUNNER,
    LEGACY_DOCKER,
    NAMESPACE_FILES_PROPERTY,
];

/// `/bin/sh -c`: the default interpreter of shell's tasks and of most languages'.
const SH: &[&str] = &["/bin/sh", "-c"];
const SH_TEXT: &str = "[\"/bin/sh\", \"-c\"]";
/// What `failFast` puts first in a POSIX shell script.
const SET_E: &str = "set -e";

const PWSH: &[&str] = &["pwsh", "-NoProfile", "-NonInteractive", "-Command"];

// The script languages, one row each. A Script's file is `script.<extension>` (Kestra writes a
// temporary file of a random name; a fixed one keeps plans stable), which an input file may not
// also name.
const PYTHON: Language = Language {
    name: "python",
    default_image: "python:3.13-slim",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[
        ("PYTHONUNBUFFERED", "true"),
        ("PIP_ROOT_USER_ACTION", "ignore"),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    ],
    file: ScriptFile {
        name: "script.py",
        command: "python script.py",
        prefix: "true = True\nfalse = False\nnull = None\n",
        before: &[],
    },
};
const NODE: Language = Language {
    name: "node",
    default_image: "node",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.js",
        command: "node script.js",
        prefix: "",
        before: &[],
    },
};
const R: Language = Language {
    name: "r",
    default_image: "r-base",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.R",
        command: "Rscript script.R",
        prefix: "",
        before: &[],
    },
};
const JULIA: Language = Language {
    name: "julia",
    default_image: "julia",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.jl",
        command: "julia script.jl",
        prefix: "",
        before: &[],
    },
};
const RUBY: Language = Language {
    name: "ruby",
    default_image: "ruby",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.rb",
        command: "ruby script.rb",
        prefix: "",
        before: &[],
    },
};
const GO: Language = Language {
    name: "go",
    default_image: "golang",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.go",
        command: "go run script.go",
        prefix: "",
        before: &[],
    },
};
const BUN: Language = Language {
    name: "bun",
    default_image: "oven/bun",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.ts",
        command: "bun run script.ts",
        prefix: "",
        before: &[],
    },
};
const DENO: Language = Language {
    name: "deno",
    default_image: "denoland/deno",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.ts",
        command: "deno run script.ts",
        prefix: "",
        before: &[],
    },
};
const PERL: Language = Language {
    name: "perl",
    default_image: "perl",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.pl",
        command: "perl script.pl",
        prefix: "",
        before: &[],
    },
};
const PHP: Language = Language {
    name: "php",
    default_image: "php",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.php",
        command: "php script.php",
        prefix: "",
        before: &[],
    },
};
const LUA: Language = Language {
    name: "lua",
    default_image: "nickblah/lua",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.lua",
        command: "lua script.lua",
        prefix: "",
        before: &[],
    },
};
const POWERSHELL: Language = Language {
    name: "powershell",
    default_image: "ghcr.io/kestra-io/powershell:latest",
    interpreter: PWSH,
    fail_fast: "$ErrorActionPreference = 'Stop'",
    env: &[],
    file: ScriptFile {
        name: "script.ps1",
        command: "& ./script.ps1",
        prefix: "",
        before: &[],
    },
};
const GROOVY: Language = Language {
    name: "groovy",
    default_image: "groovy",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.groovy",
        command: "groovy script.groovy",
        prefix: "",
        before: &[],
    },
};
const JBANG: Language = Language {
    name: "jbang",
    default_image: "jbangdev/jbang-action",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.java",
        command: "jbang script.java",
        prefix: "",
        before: &[],
    },
};
// kestra-io/plugin-scripts@f1982b24af050f73df8d77035fea3914504d5f34,
// plugin-script-dotnet/…/dotnet/Script.java: DEFAULT_IMAGE, the script written to a `.csx` file
// run by `dotnet-script`, installed first (DOTNET_SCRIPT_INSTALL, before the task's own
// beforeCommands); Commands.java: the same image, commands as shell's.
const DOTNET: Language = Language {
    name: "dotnet",
    default_image: "mcr.microsoft.com/dotnet/sdk:10.0",
    interpreter: SH,
    fail_fast: SET_E,
    env: &[],
    file: ScriptFile {
        name: "script.csx",
        command: "dotnet-script script.csx",
        prefix: "",
        before: &[
            "dotnet tool install -g dotnet-script --ignore-failed-sources || true",
            "export PATH=\"$PATH:$HOME/.dotnet/tools\"",
        ],
    },
};
/// Every script language, in the README's order.
pub static LANGUAGES: &[&Language] = &[
    &PYTHON,
    &NODE,
    &R,
    &JULIA,
    &RUBY,
    &GO,
    &BUN,
    &DENO,
    &PERL,
    &PHP,
    &LUA,
    &POWERSHELL,
    &GROOVY,
    &JBANG,
    &DOTNET,
];

/// Python's own properties (on both its task types; `useUv` is Commands' only in Kestra,
/// refused on both here). Defaults: kestra-io/plugin-scripts@f1982b24af050f73df8d77035fea3914504d5f34,
/// AbstractPythonExecScript.java (dependencyCacheEnabled true, packageManager UV).
const PYTHON_OWN: &[Property] = &[
    refused("useUv", "`useUv` is deprecated; use `packageManager: UV`"),
    Property {
        example: Some("[six==1.16.0]"),
        ..read(
            "dependencies",
            Ty::Strings,
            "Packages (pip requirement specifiers) installed before the task runs: once per image and requirement set, into a cached directory the container mounts read-only and finds on `PYTHONPATH`.",
        )
    },
    Property {
        example: Some("PIP"),
        ..with_default(
            "packageManager",
            Ty::Enum(&["UV", "PIP"]),
            "\"UV\"",
            "What installs `dependencies`: UV runs `uv pip install` when the image has `uv`, else pip, as PIP does (`python3 -m pip install --target`).",
        )
    },
    Property {
        example: Some("\"3.13\""),
        ..read(
            "pythonVersion",
            Ty::Text,
            "The Python version the `dependencies` are for (`3.13`, `3.13.1`): checked against the image's Python when they are installed; a mismatch fails the task, naming both (pick the version with `containerImage`). Without `dependencies` it has no effect, as in Kestra with a container.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "dependencyCacheEnabled",
            Ty::Bool,
            "true",
            "When true, installed dependencies are kept and reused by later runs; when false, they are installed anew for each run.",
        )
    },
];

/// A language's Commands task type: `commands` run by the interpreter, as shell's Commands.
macro_rules! lang_commands {
    ($lang:ident, $name:literal, $title:literal, $image:literal, $interpreter:expr, $own:expr) => {
        TaskType {
            name: concat!("io.kestra.plugin.scripts.", $name, ".Commands"),
            aliases: &[],
            execution: Execution::ContainerScript {
                body: ScriptBody::Commands,
                default_image: $lang.default_image,
                interpreter: $lang.interpreter,
                fail_fast: $lang.fail_fast,
                env: $lang.env,
                file: None,
            },
            object: Object {
                kind: "task",
                title: concat!($title, " commands in a container"),
                doc: concat!("Runs commands (e.g. ", $title, " programs) in a container, given to the interpreter."),
                properties: &[
                    COMMON_TASK,
                    lang_image!($image, $interpreter),
                    SCRIPT,
                    $own,
                    &[Property {
                        example: Some(r#"["echo {{ vars.greeting }}"]"#),
                        ..required(
                        "commands",
                        Ty::NonEmptyStrings,
                        "The commands to run, one per line of the script given to the interpreter; at least one. May use `{{ ... }}` expressions.",
                    )
                    }],
                ],
            },
        }
    };
}

/// A language's Script task type: the script is written to the language's file and run.
macro_rules! lang_script {
    ($lang:ident, $name:literal, $title:literal, $image:literal, $interpreter:expr, $own:expr) => {
        TaskType {
            name: concat!("io.kestra.plugin.scripts.", $name, ".Script"),
            aliases: &[],
            execution: Execution::ContainerScript {
                body: ScriptBody::Script,
                default_image: $lang.default_image,
                interpreter: $lang.interpreter,
                fail_fast: $lang.fail_fast,
                env: $lang.env,
                file: Some(&$lang.file),
            },
            object: Object {
                kind: "task",
                title: concat!($title, " script in a container"),
                doc: concat!("Runs a ", $title, " script in a container: the script is written to a file in the working directory and run."),
                properties: &[
                    COMMON_TASK,
                    lang_image!($image, $interpreter),
                    SCRIPT,
                    $own,
                    &[Property {
                        example: Some(r#""print(1)""#),
                        ..required(
                        "script",
                        Ty::ScriptText,
                        "The script to run, written to a file in the working directory; not empty. May use `{{ ... }}` expressions.",
                    )
                    }],
                ],
            },
        }
    };
}

const CHILDREN: Property = required("tasks", Ty::Tasks, "The child tasks; at least one.");

/// Every task type dockhand runs.
/// The shell, flowable and script-language task types (other areas' types are in the
/// submodules; [`task_types`] lists them all).
pub static SCRIPT_TASK_TYPES: &[TaskType] = &[
    TaskType {
        name: COMMANDS_TYPE,
        aliases: &[],
        execution: Execution::ContainerScript {
            body: ScriptBody::Commands,
            default_image: "ubuntu",
            interpreter: SH,
            fail_fast: SET_E,
            env: &[],
            file: None,
        },
        object: Object {
            kind: "task",
            title: "Shell commands in a container",
            doc: "Runs shell commands in a container.",
            properties: &[
                COMMON_TASK,
                SHELL_IMAGE,
                SCRIPT,
                &[Property {
                    example: Some(r#"["echo {{ vars.greeting }} {{ inputs.name }}"]"#),
                    ..required(
                        "commands",
                        Ty::NonEmptyStrings,
                        "The commands to run, one per line of the script given to the interpreter; at least one. May use `{{ ... }}` expressions.",
                    )
                }],
            ],
        },
    },
    TaskType {
        name: SCRIPT_TYPE,
        aliases: &[],
        execution: Execution::ContainerScript {
            body: ScriptBody::Script,
            default_image: "ubuntu",
            interpreter: SH,
            fail_fast: SET_E,
            env: &[],
            file: None,
        },
        object: Object {
            kind: "task",
            title: "Shell script in a container",
            doc: "Runs a shell script in a container.",
            properties: &[
                COMMON_TASK,
                SHELL_IMAGE,
                SCRIPT,
                &[Property {
                    example: Some(r#""echo {{ vars.greeting }}""#),
                    ..required(
                        "script",
                        Ty::ScriptText,
                        "The script to run, given to the interpreter; not empty. May use `{{ ... }}` expressions.",
                    )
                }],
            ],
        },
    },
    TaskType {
        name: PARALLEL_TYPE,
        // The pre-0.15 name (kestra-io/kestra@58c1ca2d, core/…/flow/Parallel.java `aliases`).
        aliases: &["io.kestra.core.tasks.flows.Parallel"],
        execution: Execution::FlowableParent(Flowable::Parallel),
        object: Object {
            kind: "task",
            title: "Tasks run side by side",
            doc: "Runs its child tasks side by side.",
            properties: &[
                COMMON_TASK,
                &[
                    CHILDREN,
                    tasks_flow::ERRORS,
                    tasks_flow::FINALLY,
                    Property {
                        example: Some("2"),
                        ..with_default(
                            "concurrent",
                            Ty::Int {
                                min: Some(0),
                                max: None,
                            },
                            "0",
                            "How many child tasks run at a time; 0 means no limit.",
                        )
                    },
                ],
            ],
        },
    },
    TaskType {
        name: SEQUENTIAL_TYPE,
        // The pre-0.15 name (kestra-io/kestra@58c1ca2d, core/…/flow/Sequential.java `aliases`).
        aliases: &["io.kestra.core.tasks.flows.Sequential"],
        execution: Execution::FlowableParent(Flowable::Sequential),
        object: Object {
            kind: "task",
            title: "Tasks run one after the other",
            doc: "Runs its child tasks one after the other.",
            properties: &[
                COMMON_TASK,
                &[CHILDREN, tasks_flow::ERRORS, tasks_flow::FINALLY],
            ],
        },
    },
    lang_commands!(
        PYTHON,
        "python",
        "Python",
        "python:3.13-slim",
        SH_TEXT,
        PYTHON_OWN
    ),
    lang_script!(
        PYTHON,
        "python",
        "Python",
        "python:3.13-slim",
        SH_TEXT,
        PYTHON_OWN
    ),
    lang_commands!(NODE, "node", "Node.js", "node", SH_TEXT, &[]),
    lang_script!(NODE, "node", "Node.js", "node", SH_TEXT, &[]),
    lang_commands!(R, "r", "R", "r-base", SH_TEXT, &[]),
    lang_script!(R, "r", "R", "r-base", SH_TEXT, &[]),
    lang_commands!(JULIA, "julia", "Julia", "julia", SH_TEXT, &[]),
    lang_script!(JULIA, "julia", "Julia", "julia", SH_TEXT, &[]),
    lang_commands!(RUBY, "ruby", "Ruby", "ruby", SH_TEXT, &[]),
    lang_script!(RUBY, "ruby", "Ruby", "ruby", SH_TEXT, &[]),
    lang_commands!(GO, "go", "Go", "golang", SH_TEXT, &[]),
    lang_script!(GO, "go", "Go", "golang", SH_TEXT, &[]),
    lang_commands!(BUN, "bun", "Bun", "oven/bun", SH_TEXT, &[]),
    lang_script!(BUN, "bun", "Bun", "oven/bun", SH_TEXT, &[]),
    lang_commands!(DENO, "deno", "Deno", "denoland/deno", SH_TEXT, &[]),
    lang_script!(DENO, "deno", "Deno", "denoland/deno", SH_TEXT, &[]),
    lang_commands!(PERL, "perl", "Perl", "perl", SH_TEXT, &[]),
    lang_script!(PERL, "perl", "Perl", "perl", SH_TEXT, &[]),
    lang_commands!(PHP, "php", "PHP", "php", SH_TEXT, &[]),
    lang_script!(PHP, "php", "PHP", "php", SH_TEXT, &[]),
    lang_commands!(LUA, "lua", "Lua", "nickblah/lua", SH_TEXT, &[]),
    lang_script!(LUA, "lua", "Lua", "nickblah/lua", SH_TEXT, &[]),
    lang_commands!(
        POWERSHELL,
        "powershell",
        "PowerShell",
        "ghcr.io/kestra-io/powershell:latest",
        "[\"pwsh\", \"-NoProfile\", \"-NonInteractive\", \"-Command\"]",
        &[]
    ),
    lang_script!(
        POWERSHELL,
        "powershell",
        "PowerShell",
        "ghcr.io/kestra-io/powershell:latest",
        "[\"pwsh\", \"-NoProfile\", \"-NonInteractive\", \"-Command\"]",
        &[]
    ),
    lang_commands!(GROOVY, "groovy", "Groovy", "groovy", SH_TEXT, &[]),
    lang_script!(GROOVY, "groovy", "Groovy", "groovy", SH_TEXT, &[]),
    lang_commands!(
        JBANG,
        "jbang",
        "JBang",
        "jbangdev/jbang-action",
        SH_TEXT,
        &[]
    ),
    lang_script!(
        JBANG,
        "jbang",
        "JBang",
        "jbangdev/jbang-action",
        SH_TEXT,
        &[]
    ),
    lang_commands!(
        DOTNET,
        "dotnet",
        ".NET",
        "mcr.microsoft.com/dotnet/sdk:10.0",
        SH_TEXT,
        &[]
    ),
    lang_script!(
        DOTNET,
        "dotnet",
        ".NET",
        "mcr.microsoft.com/dotnet/sdk:10.0",
        SH_TEXT,
        &[]
    ),
];

/// What every task type shares, refused and ignored properties included (the reader checks
/// them before it knows the type).
pub static TASK: Object = Object {
    kind: "task",
    title: "Task",
    doc: "A task.",
    properties: &[COMMON_TASK],
};

// ----------------------------------------------------------------------------- task runner

pub static RUNNER: Object = Object {
    kind: "taskRunner",
    title: "Task runner",
    doc: "dockhand's Docker task runner (`io.kestra.plugin.scripts.runner.docker.Docker`) with Kestra's defaults, or Kestra's Process runner (`io.kestra.plugin.core.runner.Process`: no other property).",
    properties: &[
        &[Property {
            example: Some("io.kestra.plugin.scripts.runner.docker.Docker"),
            ..required(
                "type",
                Ty::Enum(RUNNER_TYPES),
                "The task runner: Docker (a container through the engine CLI) or Process (the host, in the task's working directory; it takes no other property).",
            )
        }],
        RUNNER_SETTINGS,
        RUNNER_LEGACY,
    ],
};

/// The task runner types `taskRunner.type` takes: Docker, then Process and its older names.
pub const RUNNER_TYPES: &[&str] = &[
    DOCKER_RUNNER_TYPE,
    crate::flow::model::PROCESS_RUNNER_TYPE,
    "io.kestra.core.models.tasks.runners.types.ProcessTaskRunner",
    "io.kestra.plugin.core.runner.ProcessTaskRunner",
];

/// The Docker runner's settings (shared with the deprecated `docker` task property).
const RUNNER_SETTINGS: &[Property] = &[
    Property {
        example: Some("unix:///var/run/docker.sock"),
        rows: &[row("local engine", "`docker --host H`", "`podman --url H`")],
        ..read(
            "host",
            Ty::Text,
            "The engine's address for every command of the task: docker `--host`, podman `--url` (e.g. `unix:///var/run/docker.sock`, `tcp://host:2376`).",
        )
    },
    Property {
        example: Some(r#"'{"auths": {}, "insecure-registries": ["10.0.0.1:5000"]}'"#),
        rows: &[
            Row {
                key: "",
                note: "JSON string or map",
                ..row(
                    "–",
                    "`docker --config DIR` (private `config.json`, 0600)",
                    "`--authfile FILE`",
                )
            },
            Row {
                key: ".insecure-registries",
                note: "",
                ..row(
                    "–",
                    "`daemon.json` (see Registries)",
                    "`--tls-verify=false`, `registries.conf.d`",
                )
            },
        ],
        ..read(
            "config",
            Ty::ClientConfig,
            "A docker client `config.json` (`auths`, `credHelpers`, ...) as a JSON string or a map, written to a private client config (docker `--config`, podman `--authfile`); Kestra's `insecure-registries` lists registries reached without TLS verification.",
        )
    },
    Property {
        rows: &[row(
            "–",
            "`auths` entry in the private config",
            "the same, in the auth file",
        )],
        ..read(
            "credentials",
            Ty::Object(&CREDENTIALS),
            "Registry credentials for pulling `containerImage`, written to a private client config (docker `--config`, podman `--authfile`), never to the command line.",
        )
    },
    Property {
        example: Some("1000"),
        rows: &[row("image's", "`--user`", "`--user`")],
        ..read(
            "user",
            Ty::Scalar,
            "The user the container runs as: `--user` (`NAME`, `UID`, `UID:GID`).",
        )
    },
    Property {
        example: Some(r#"[""]"#),
        rows: &[row(
            r#"`[""]` (clears the image's)"#,
            "`--entrypoint=X` (extra items go before the command)",
            r#"`--entrypoint='["a","b"]'`"#,
        )],
        ..with_default(
            "entryPoint",
            Ty::Strings,
            "[\"\"]",
            "The container's entrypoint: `--entrypoint`. The default `[\"\"]` clears the image's entrypoint.",
        )
    },
    Property {
        example: Some(r#"["db:10.0.0.2"]"#),
        rows: &[row("–", "`--add-host`", "`--add-host`")],
        ..read(
            "extraHosts",
            Ty::Strings,
            "Extra `/etc/hosts` entries (`HOST:IP`): `--add-host`.",
        )
    },
    Property {
        example: Some("bridge"),
        rows: &[row("engine's", "`--network`", "`--network`")],
        ..read(
            "networkMode",
            Ty::Text,
            "The network the container joins: `--network` (`bridge`, `host`, `none`, a network name).",
        )
    },
    Property {
        example: Some(r#"["8080:80"]"#),
        rows: &[row("–", "`--publish`", "`--publish`")],
        ..read(
            "portBindings",
            Ty::Strings,
            "Published ports (`HOSTPORT:CONTAINERPORT`): `--publish`.",
        )
    },
    Property {
        example: Some(r#"["/data:/data:ro", "cache:/cache"]"#),
        rows: &[row("–", "`--volume`", "`--volume`")],
        ..read(
            "volumes",
            Ty::List(Names::Volume),
            "Bind mounts (`SOURCE:DESTINATION[:OPTIONS]`, e.g. `/data:/data:ro`): `--volume`.",
        )
    },
    Property {
        example: Some("ALWAYS"),
        rows: &[row(
            "`IF_NOT_PRESENT`",
            "`--pull=missing` / `always` / `never`",
            "same",
        )],
        ..with_default(
            "pullPolicy",
            Ty::Enum(&PullPolicy::NAMES),
            "\"IF_NOT_PRESENT\"",
            "When the image is pulled: `--pull=missing` (IF_NOT_PRESENT), `--pull=always` (ALWAYS), `--pull=never` (NEVER).",
        )
    },
    Property {
        rows: &[row(
            "–",
            r#"`--gpus driver=…,count=…,"device=…",capabilities=…`"#,
            r#"`--device nvidia.com/gpu=all\|ID` (CDI); `count: N` is an error"#,
        )],
        ..read(
            "deviceRequests",
            Ty::Objects(&DEVICE_REQUEST),
            "Devices (GPUs) given to the container: docker `--gpus`, podman `--device nvidia.com/gpu=...` (CDI).",
        )
    },
    read("cpu", Ty::Object(&CPU), "CPU limit."),
    read("memory", Ty::Object(&MEMORY), "Memory limits."),
    Property {
        example: Some("1g"),
        rows: &[row("engine's", "`--shm-size`", "`--shm-size`")],
        ..read("shmSize", Ty::Size, "The size of `/dev/shm`: `--shm-size`.")
    },
    Property {
        example: Some("false"),
        rows: &[row("–", "`--privileged`", "`--privileged`")],
        ..read(
            "privileged",
            Ty::Bool,
            "When true, the container runs with extended privileges: `--privileged`.",
        )
    },
    Property {
        example: Some("MOUNT"),
        rows: &[row(
            "`VOLUME`",
            "`VOLUME`: `create` + `cp - CTR:/` (tar) + `start --attach` + `cp` back; `MOUNT`: `--volume WD:WD`",
            r#"same; without files, an anonymous `--mount type=volume,…,U=true` work dir (a path with a comma is CSV-quoted: `"destination=/a,b"`)"#,
        )],
        ..with_default(
            "fileHandlingStrategy",
            Ty::Enum(&FileHandling::NAMES),
            "\"VOLUME\"",
            "How inputFiles and outputFiles reach the container: VOLUME copies them in and out (`docker cp`), MOUNT bind-mounts the working directory (`--volume DIR:DIR`).",
        )
    },
    Property {
        example: Some("true"),
        rows: &[row(
            "`true`",
            "`rm --force --volumes` after the run",
            "same",
        )],
        ..with_default(
            "delete",
            Ty::Bool,
            "true",
            "When true, the container is removed after the task: `rm --force --volumes`.",
        )
    },
    Property {
        example: Some("true"),
        rows: &[row(
            "`true`",
            "`false`: `create` + `start`, returns at once",
            "same",
        )],
        ..with_default(
            "wait",
            Ty::Bool,
            "true",
            "When true, dockhand waits for the container to end; when false, it starts the container detached and the task ends at once.",
        )
    },
    Property {
        example: Some("PT30S"),
        rows: &[row(
            "`PT0S`",
            "cancel: `stop --timeout N`, or `kill` when 0",
            "`stop --time N` / `kill`",
        )],
        ..with_default(
            "killGracePeriod",
            Ty::Duration,
            "\"PT0S\"",
            "On cancel or timeout, how long the container has to stop before it is killed: `stop --time N`; `PT0S` kills at once (`kill`).",
        )
    },
    Property {
        example: Some("true"),
        rows: &[row(
            "`true`",
            "re-attach after a crash (see Failure behaviour)",
            "same",
        )],
        ..with_default(
            "resume",
            Ty::Bool,
            "true",
            "When true, `dockhand resume` re-attaches to the task's container left running by an interrupted execution (found by its labels) instead of starting it afresh.",
        )
    },
    Property {
        example: Some(r#""1""#),
        ..ignored("version", "dockhand has one Docker runner")
    },
];

/// The runner's (and the `docker` options') `image` property: a name, not an engine argv.
pub const LEGACY_IMAGE: &str = "image";

/// Properties Kestra keeps for older flows.
const RUNNER_LEGACY: &[Property] = &[Property {
    example: Some("ubuntu:22.04"),
    rows: &[row(
        "–",
        "the image, over `containerImage` (Kestra's older form; a warning says so)",
        "same",
    )],
    ..read(
        LEGACY_IMAGE,
        Ty::Image,
        "Deprecated (Kestra keeps it for older flows): the image, used instead of the task's `containerImage`.",
    )
}];

/// `namespaceFiles` of script tasks and WorkingDirectory, as Kestra's `NamespaceFiles`.
pub static NAMESPACE_FILES: Object = Object {
    kind: "namespaceFiles",
    title: "Namespace files",
    doc: "Which namespace files go into the working directory: by default every file of the flow's namespace (`NAMESPACE_FILES_DIR/<namespace>/`).",
    properties: &[&[
        Property {
            example: Some("true"),
            ..with_default(
                "enabled",
                Ty::Bool,
                "true",
                "When false, no namespace file is written.",
            )
        },
        Property {
            example: Some("[\"**/*.sql\", \"scripts/**\"]"),
            ..read(
                "include",
                Ty::Strings,
                "Globs (relative to the namespace's directory) of the files written; all without it.",
            )
        },
        Property {
            example: Some("[\"**/*.tmp\"]"),
            ..read("exclude", Ty::Strings, "Globs of files not written.")
        },
        Property {
            example: Some("[company.team]"),
            ..read(
                "namespaces",
                Ty::Strings,
                "The namespaces whose files are written, in order (a later one's file replaces an earlier one's, per `ifExists`); the flow's namespace without it.",
            )
        },
        Property {
            example: Some("OVERWRITE"),
            ..with_default(
                "ifExists",
                Ty::Enum(&["OVERWRITE", "FAIL", "WARN", "IGNORE"]),
                "\"OVERWRITE\"",
                "What happens when a file of one namespace has the path of one already written: OVERWRITE it, FAIL the task, WARN and keep the first, or IGNORE (keep the first).",
            )
        },
        Property {
            example: Some("false"),
            ..with_default(
                "folderPerNamespace",
                Ty::Bool,
                "false",
                "When true, each namespace's files go under a directory named after the namespace.",
            )
        },
    ]],
};

/// The task runner `io.kestra.plugin.core.runner.Process`: only its type.
pub static PROCESS_RUNNER: Object = Object {
    kind: "taskRunner",
    title: "Process task runner",
    doc: "Runs the task's command on the host, in its working directory.",
    properties: &[&[
        required("type", Ty::Enum(RUNNER_TYPES), "The task runner."),
        Property {
            example: Some(r#""1""#),
            ..ignored("version", "dockhand has one Process runner")
        },
    ]],
};

/// The deprecated `docker` property of script tasks (Kestra before 0.16): the Docker runner's
/// settings and `image`; its `pullPolicy` defaults to ALWAYS, as Kestra's `DockerOptions`.
pub static DOCKER_OPTIONS: Object = Object {
    kind: "docker",
    title: "Docker options (deprecated)",
    doc: "Kestra's pre-0.16 `docker` property: read as the Docker task runner's settings (pullPolicy defaults to ALWAYS, as in Kestra).",
    properties: &[RUNNER_SETTINGS, RUNNER_LEGACY],
};

pub static CREDENTIALS: Object = Object {
    kind: "credentials",
    title: "Registry credentials",
    doc: "Registry credentials.",
    properties: &[&[
        Property {
            example: Some("ghcr.io"),
            ..read(
                "registry",
                Ty::Text,
                "The registry to log in to, e.g. `ghcr.io`; default: the registry of `containerImage`.",
            )
        },
        Property {
            example: Some("u"),
            ..read(
                "username",
                Ty::Text,
                "The registry user name (with `password`).",
            )
        },
        Property {
            example: Some("p"),
            ..read(
                "password",
                Ty::Text,
                "The registry password (with `username`).",
            )
        },
        Property {
            example: Some("t"),
            ..read(
                "registryToken",
                Ty::Text,
                "A registry token (`registrytoken` of the auth entry).",
            )
        },
        Property {
            example: Some("i"),
            ..read(
                "identityToken",
                Ty::Text,
                "An identity token (`identitytoken` of the auth entry).",
            )
        },
        Property {
            example: Some("dTpw"),
            ..read(
                "auth",
                Ty::Text,
                "base64 of `username:password`; used instead of `username` and `password`.",
            )
        },
    ]],
};

pub static CPU: Object = Object {
    kind: "cpu",
    title: "CPU limit",
    doc: "CPU limit.",
    properties: &[&[Property {
        example: Some("1.5"),
        rows: &[row("–", "`--cpus`", "`--cpus`")],
        ..read(
            "cpus",
            Ty::Number { above: 0 },
            "How many CPUs the container may use, e.g. `1.5`: `--cpus`.",
        )
    }]],
};

pub static MEMORY: Object = Object {
    kind: "memory",
    title: "Memory limits",
    doc: "Memory limits.",
    properties: &[&[
        Property {
            example: Some("512MB"),
            rows: &[row("–", "`--memory`", "`--memory`")],
            ..read("memory", Ty::Size, "The memory limit: `--memory`.")
        },
        Property {
            example: Some("1GB"),
            rows: &[row(
                "–",
                "`--memory-swap` (`-1` unlimited)",
                "`--memory-swap`",
            )],
            ..read(
                "memorySwap",
                Ty::SizeOrUnlimited,
                "The memory plus swap limit, at least `memory`, or -1 for unlimited swap: `--memory-swap`.",
            )
        },
        Property {
            example: Some("60"),
            rows: &[row("–", "`--memory-swappiness`", "`--memory-swappiness`")],
            ..read(
                "memorySwappiness",
                Ty::Int {
                    min: Some(0),
                    max: Some(100),
                },
                "How readily anonymous pages are swapped out, 0 to 100: `--memory-swappiness`.",
            )
        },
        Property {
            example: Some("256m"),
            rows: &[row("–", "`--memory-reservation`", "`--memory-reservation`")],
            ..read(
                "memoryReservation",
                Ty::Size,
                "A soft memory limit, below `memory`: `--memory-reservation`.",
            )
        },
        Property {
            example: Some("64MB"),
            rows: &[row(
                "–",
                "`--kernel-memory` (warning: deprecated)",
                "left out, with a warning",
            )],
            ..read(
                "kernelMemory",
                Ty::Size,
                "The kernel memory limit: `--kernel-memory` (deprecated by Docker, ignored on cgroup v2 hosts, not supported by podman).",
            )
        },
        Property {
            example: Some("false"),
            rows: &[row("–", "`--oom-kill-disable`", "`--oom-kill-disable`")],
            ..read(
                "oomKillDisable",
                Ty::Bool,
                "When true, the kernel does not kill the container when it runs out of memory: `--oom-kill-disable`.",
            )
        },
    ]],
};

pub static DEVICE_REQUEST: Object = Object {
    kind: "deviceRequest",
    title: "Device request",
    doc: "A request for devices (GPUs).",
    properties: &[&[
        Property {
            example: Some("nvidia"),
            ..read(
                "driver",
                Ty::Text,
                "The device driver, e.g. `nvidia`: `--gpus driver=...`.",
            )
        },
        Property {
            example: Some("-1"),
            ..read(
                "count",
                Ty::Int {
                    min: Some(-1),
                    max: None,
                },
                "How many devices, -1 for all (the default when no deviceIds are given): `--gpus count=...`.",
            )
        },
        Property {
            example: Some("[]"),
            ..read(
                "deviceIds",
                Ty::Scalars,
                "The ids of the devices (instead of `count`): `--gpus device=...`, podman `--device nvidia.com/gpu=ID`.",
            )
        },
        Property {
            example: Some("[[gpu, utility]]"),
            ..read(
                "capabilities",
                Ty::StringLists,
                "Capability sets, e.g. `[[gpu, utility]]`; docker takes one set: `--gpus capabilities=...`.",
            )
        },
        Property {
            example: Some("{a: b}"),
            ..read(
                "options",
                Ty::StringMap,
                "Driver options: `--gpus options=...`.",
            )
        },
    ]],
};

/// Every object, by the kind `decode::known_properties` reports (task types merged as `task`).
pub fn objects() -> Vec<&'static Object> {
    let mut v = vec![
        &FLOW,
        &PLUGIN_DEFAULT,
        &FLOW_OUTPUT,
        &CONCURRENCY,
        &INPUT,
        &RUNNER,
        &CREDENTIALS,
        &RETRY,
        &CPU,
        &MEMORY,
        &DEVICE_REQUEST,
    ];
    v.extend(task_types().map(|t| &t.object));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile_and_match() {
        for p in [
            &FLOW_ID,
            &NAMESPACE,
            &TASK_ID,
            &INPUT_ID,
            &ENV_NAME,
            &REGISTRY_HOST,
        ] {
            assert!(Regex::new(p.regex).is_ok(), "{}", p.regex);
        }
        assert!(FLOW_ID.is_match("a.b-c_d") && !FLOW_ID.is_match("-a"));
        assert!(INPUT_ID.is_match("nested.more.int") && !INPUT_ID.is_match(".a"));
        assert!(!TASK_ID.is_match("a.b"));
        assert!(REGISTRY_HOST.is_match("10.10.1.5:5000") && !REGISTRY_HOST.is_match("http://x"));
    }

    #[test]
    fn names_are_unique_per_object() {
        for o in objects() {
            let mut names: Vec<&str> = o.properties().map(|p| p.name).collect();
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(n, names.len(), "a property listed twice in {}", o.title);
        }
    }

    /// What the reader takes from a task type's execution is there: a script type lists its
    /// body property as required, its default image parses; a parent lists `tasks`.
    #[test]
    fn executions_match_the_properties() {
        for t in task_types() {
            let has = |name: &str| t.object.properties().any(|p| p.name == name && p.required);
            match t.execution {
                Execution::ContainerScript {
                    body,
                    default_image,
                    interpreter,
                    ..
                } => {
                    // The defaults the schema states are those the reader uses.
                    let default = |name: &str| {
                        t.object
                            .properties()
                            .find(|p| p.name == name)
                            .and_then(|p| p.default)
                    };
                    // A pre-0.16 script task has no default image (`dockerOptions.image` is
                    // required with `runner: DOCKER`), and its adapter builds its interpreter
                    // (a text and `interpreterArgs`) and commands (`tasks_legacy`'s tests).
                    if tasks_legacy::legacy_adapter(t.name).is_some() {
                        assert!(default_image.is_empty(), "{}", t.name);
                        continue;
                    }
                    // An image the task must name (docker Run) has no default; one the task
                    // cannot name (git Clone) is the type's.
                    let image = t.object.properties().find(|p| p.name == "containerImage");
                    if !image.is_some_and(|p| p.required) {
                        assert!(
                            image.is_none()
                                || default("containerImage")
                                    == Some(format!("\"{default_image}\"").as_str()),
                            "{}",
                            t.name
                        );
                        assert!(
                            crate::image::ImageRef::parse(default_image).is_ok(),
                            "{}",
                            t.name
                        );
                    }
                    // A CLI task without an `interpreter` property uses its plugin's.
                    if let Some(d) = default("interpreter") {
                        let stated: Vec<String> = serde_json::from_str(d).unwrap();
                        assert_eq!(stated, interpreter, "{}", t.name);
                    }
                    let body = match body {
                        ScriptBody::Commands => "commands",
                        ScriptBody::Script => "script",
                    };
                    // A body the task may leave out (docker Run's argv) or that its own
                    // properties make (git Clone) is not required.
                    let optional = t.object.properties().any(|p| p.name == body && !p.required)
                        || t.object.properties().all(|p| p.name != body);
                    assert!(
                        has(body) || (optional && tasks_container::makes_its_body(t.name)),
                        "{}: no required `{body}`",
                        t.name
                    );
                }
                Execution::FlowableParent(f) => {
                    assert!(has(f.required_property()), "{}", t.name)
                }
                Execution::Subflow => {
                    assert!(has("namespace") && has("flowId"), "{}", t.name)
                }
                Execution::Pause => {}
                Execution::HostProcess | Execution::InProcess => {}
            }
        }
    }

    #[test]
    fn task_types_and_aliases_resolve() {
        for t in task_types() {
            assert_eq!(canonical_task_type(t.name), t.name);
            for a in t.aliases {
                assert_eq!(canonical_task_type(a), t.name);
            }
        }
        assert_eq!(canonical_task_type("x.Y"), "x.Y");
    }

    /// Every language has its Commands and Script task types, built from its row: a Script's
    /// file is in the working directory and run by its command.
    #[test]
    fn every_language_has_its_two_task_types() {
        for l in LANGUAGES {
            let commands = task_type(&format!("io.kestra.plugin.scripts.{}.Commands", l.name))
                .unwrap_or_else(|| panic!("{}: no Commands", l.name));
            let script = task_type(&format!("io.kestra.plugin.scripts.{}.Script", l.name))
                .unwrap_or_else(|| panic!("{}: no Script", l.name));
            let exec = |file: Option<&'static ScriptFile>| Execution::ContainerScript {
                body: if file.is_some() {
                    ScriptBody::Script
                } else {
                    ScriptBody::Commands
                },
                default_image: l.default_image,
                interpreter: l.interpreter,
                fail_fast: l.fail_fast,
                env: l.env,
                file,
            };
            assert_eq!(commands.execution, exec(None), "{}", l.name);
            assert_eq!(script.execution, exec(Some(&l.file)), "{}", l.name);
            assert!(!l.file.name.contains('/'), "{}", l.name);
            assert!(l.file.command.ends_with(l.file.name), "{}", l.name);
        }
        assert_eq!(
            SCRIPT_TASK_TYPES.len(),
            4 + 2 * LANGUAGES.len(),
            "a task type outside shell, the flowables and LANGUAGES"
        );
    }
}
