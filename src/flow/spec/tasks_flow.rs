//! Flow-control task types (`io.kestra.plugin.core.flow.*` beyond Parallel and Sequential):
//! If, Switch, ForEach, the legacy EachSequential and EachParallel, Dag and AllowFailure (read by
//! `decode::flowable`, run by `exec::walk`), WorkingDirectory and Subflow, each also under its
//! old `io.kestra.core.tasks.flows.*` name; their meaning is Kestra's
//! (`core/src/main/java/io/kestra/plugin/core/flow`).

use super::ex;
use super::{
    COMMON_TASK, Execution, Flowable, Names, Object, Property, TaskType, Ty, ignored, read,
    refused, required, with_default,
};

pub const WORKING_DIRECTORY_TYPE: &str = "io.kestra.plugin.core.flow.WorkingDirectory";

const WORKING_DIRECTORY: &[Property] = &[
    required(
        "tasks",
        Ty::Tasks,
        "The child tasks, script tasks only (as in Kestra: runnable tasks); at least one. They run one after the other in the shared directory, which is their `{{ workingDir }}`.",
    ),
    Property {
        example: Some(r#"{query.sql: "SELECT 1", "data/in.txt": "{{ flow.id }}"}"#),
        ..read(
            "inputFiles",
            Ty::NamedMap(Names::RelativePath),
            "Files written into the shared directory before the first child runs: relative path → content (may use `{{ ... }}`).",
        )
    },
    Property {
        example: Some(r#"["out/*.json"]"#),
        ..read(
            "outputFiles",
            Ty::List(Names::RelativePath),
            "Globs, relative to the shared directory, of the files kept as the WorkingDirectory's output files once its children are done.",
        )
    },
    read(
        "namespaceFiles",
        Ty::Object(&super::NAMESPACE_FILES),
        "Namespace files written into the shared directory before the first child runs (before `inputFiles`).",
    ),
    read(
        "cache",
        Ty::Object(&CACHE),
        "Files kept between runs of the flow: those matching `patterns` are saved when the children are done (if any changed) and put back into the directory of the next run of the same flow and task, unless older than `ttl`.",
    ),
];

pub static CACHE: Object = Object {
    kind: "cache",
    title: "WorkingDirectory cache",
    doc: "Files of the working directory kept from one run of the flow to the next (under the state directory, by namespace, flow and task).",
    properties: &[&[
        Property {
            example: Some("[node_modules/**]"),
            ..required(
                "patterns",
                Ty::NonEmptyStrings,
                "Globs, relative to the working directory, of the files cached (`node_modules/**`).",
            )
        },
        Property {
            example: Some("PT1H"),
            ..read(
                "ttl",
                Ty::Duration,
                "How long a cache is used after it was saved (ISO-8601); without it, always.",
            )
        },
    ]],
};

/// Kestra's Subflow task and its old names.
pub const SUBFLOW_TYPE: &str = "io.kestra.plugin.core.flow.Subflow";

/// What Subflow and ForEachItem share: which flow, its labels, the ignored `revision`.
const SUBFLOW_NAMESPACE: Property = Property {
    example: Some("company.team"),
    ..required("namespace", Ty::Text, "The namespace of the flow to run.")
};

const SUBFLOW_FLOW_ID: Property = Property {
    example: Some("child"),
    ..required(
        "flowId",
        Ty::Text,
        "The id of the flow to run: dockhand finds it among the flow files (`*.yaml`, `*.yml`, recursively) of `--flows-dir` (`$DOCKHAND_FLOWS_DIR`; default: the parent flow file's directory).",
    )
};

const SUBFLOW_LABELS: Property = Property {
    example: Some("{team: data}"),
    ..read(
        "labels",
        Ty::Labels,
        "Labels of the subflow's execution(s).",
    )
};

const SUBFLOW_INHERIT_LABELS: Property = Property {
    example: Some("false"),
    ..with_default(
        "inheritLabels",
        Ty::Bool,
        "false",
        "Whether the subflow's execution(s) take the parent's labels.",
    )
};

const SUBFLOW_REVISION: Property = Property {
    example: Some("2"),
    ..ignored(
        "revision",
        "dockhand runs the subflow's file as it is; flow files have no revisions",
    )
};

const SUBFLOW_OWN: &[Property] = &[
    SUBFLOW_NAMESPACE,
    SUBFLOW_FLOW_ID,
    Property {
        example: Some("{name: \"{{ inputs.name }}\"}"),
        ..read(
            "inputs",
            Ty::AnyMap,
            "Inputs of the subflow, rendered with the parent's values; checked against the subflow's inputs before anything starts.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "wait",
            Ty::Bool,
            "true",
            "Whether the task waits for the subflow and gets its outputs. With `false` the subflow runs as its own execution in a detached `dockhand` process (`dockhand executions` lists it) and the task ends at once with the child's `executionId`.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "transmitFailed",
            Ty::Bool,
            "true",
            "Whether a failed, killed or WARNING subflow gives the task its state (Kestra's `ExecutableUtils.guessState`); otherwise the task succeeds whatever the subflow's state. Only with `wait`.",
        )
    },
    SUBFLOW_LABELS,
    SUBFLOW_INHERIT_LABELS,
    Property {
        example: Some("{extracted: \"{{ outputs.t.value }}\"}"),
        ..read(
            "outputs",
            Ty::AnyMap,
            "Deprecated since Kestra 0.15 (use the subflow's flow `outputs`): values rendered in the subflow execution's context when it ends, given as `outputs.ID.outputs.NAME`; used only when the subflow declares no flow `outputs`.",
        )
    },
    SUBFLOW_REVISION,
    ex(
        "RETRY",
        ignored(
            "restartBehavior",
            "a dockhand resume continues the subflow's execution",
        ),
    ),
];

/// Kestra's ForEachItem: a Subflow run once per batch of the lines of a file.
pub const FOR_EACH_ITEM_TYPE: &str = "io.kestra.plugin.core.flow.ForEachItem";

/// `batch` of a ForEachItem (Kestra's `ForEachItem.Batch`): `bytes` first, then `partitions`,
/// then `rows`.
pub static BATCH: Object = Object {
    kind: "batch",
    title: "Batch",
    doc: "How the lines of `items` are split into batches (one subflow execution each).",
    properties: &[&[
        Property {
            example: Some("4"),
            ..with_default(
                "rows",
                Ty::Scalar,
                "1",
                "At most this many lines a batch (may use `{{ ... }}`).",
            )
        },
        Property {
            example: Some("10KB"),
            ..read(
                "bytes",
                Ty::Scalar,
                "A new batch once the current one holds at least this size (`10KB`, `1MB`); before `partitions` and `rows`.",
            )
        },
        Property {
            example: Some("3"),
            ..read(
                "partitions",
                Ty::Scalar,
                "This many batches, the lines dealt in turn (empty ones left out); before `rows`.",
            )
        },
        Property {
            example: Some("\"\\n\""),
            ..with_default(
                "separator",
                Ty::Text,
                "\"\\n\"",
                "Written after each line in a batch's file.",
            )
        },
    ]],
};

const FOR_EACH_ITEM_OWN: &[Property] = &[
    Property {
        example: Some("\"{{ outputs.extract.uri }}\""),
        ..required(
            "items",
            Ty::Text,
            "The file of items, one a line: a `kestra://` URI (a task's output file, a FILE input), rendered when the task runs.",
        )
    },
    Property {
        example: Some("{rows: 10}"),
        ..read(
            "batch",
            Ty::Object(&BATCH),
            "How the items are split into batches.",
        )
    },
    SUBFLOW_NAMESPACE,
    SUBFLOW_FLOW_ID,
    Property {
        example: Some("{file: \"{{ taskrun.items }}\"}"),
        ..read(
            "inputs",
            Ty::AnyMap,
            "Inputs of each subflow execution; `{{ taskrun.items }}` is the `kestra://` URI of the batch's file, `{{ taskrun.iteration }}` its number (from 1).",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "wait",
            Ty::Bool,
            "true",
            "Whether the task waits for the subflow executions (with `false` each runs detached, as a Subflow's).",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "transmitFailed",
            Ty::Bool,
            "true",
            "Whether a failed (else killed, else WARNING) batch gives the task that state; otherwise it succeeds.",
        )
    },
    SUBFLOW_LABELS,
    SUBFLOW_INHERIT_LABELS,
    SUBFLOW_REVISION,
];

const PAUSE_OWN: &[Property] = &[
    Property {
        example: Some("PT1S"),
        ..read(
            "pauseDuration",
            Ty::RenderedDuration,
            "How long the task waits before the flow goes on (ISO-8601); without it (or `delay`) the execution pauses until `dockhand resume EXECUTION` (the run exits 4, the journal says PAUSED).",
        )
    },
    Property {
        example: Some("PT1S"),
        ..read(
            "delay",
            Ty::RenderedDuration,
            "Kestra's old name of `pauseDuration`.",
        )
    },
    read(
        "tasks",
        Ty::Tasks,
        "Deprecated in Kestra (a warning says so): tasks run one after the other once the pause ends (after the delay, or after `dockhand resume`); the Pause ends in their state.",
    ),
    refused(
        "onResume",
        "inputs asked when the execution is resumed (Kestra's resume form) are not asked by `dockhand resume`; make them flow inputs",
    ),
];

/// A flowable's local error handlers.
pub(super) const ERRORS: Property = read(
    "errors",
    Ty::Tasks,
    "Tasks run when one of the children fails; the parent still ends FAILED (as in Kestra).",
);

/// A flowable's local `finally`.
pub(super) const FINALLY: Property = read(
    "finally",
    Ty::Tasks,
    "Tasks run after the children (and errors), however they ended.",
);

const TASKS: Property = required(
    "tasks",
    Ty::Tasks,
    "The child tasks, run one after the other; at least one.",
);

const fn concurrency(name: &'static str, default: &'static str, doc: &'static str) -> Property {
    Property {
        example: Some("2"),
        default: Some(default),
        ..read(
            name,
            Ty::Int {
                min: Some(0),
                max: None,
            },
            doc,
        )
    }
}

/// A flow-control task type: its names, its kind, title, doc and own properties.
macro_rules! flow_type {
    ($name:expr, $alias:expr, $flowable:expr, $title:expr, $doc:expr, $own:expr $(,)?) => {
        TaskType {
            name: $name,
            aliases: $alias,
            execution: Execution::FlowableParent($flowable),
            object: Object {
                kind: "task",
                title: $title,
                doc: $doc,
                properties: &[COMMON_TASK, $own],
            },
        }
    };
}

pub static TASK_TYPES: &[TaskType] = &[
    flow_type!(
        "io.kestra.plugin.core.flow.If",
        &["io.kestra.core.tasks.flows.If"],
        Flowable::If,
        "Branch on a condition",
        "Renders `condition`; runs `then` when it is true, `else` otherwise ('false', '0', '-0', '' and null are false).",
        &[
            Property {
                example: Some(r#""{{ 1 == 1 }}""#),
                ..required(
                    "condition",
                    Ty::Text,
                    "A Pebble expression; the strings `false`, `0`, `-0`, an empty string and null are false, anything else true.",
                )
            },
            required(
                "then",
                Ty::Tasks,
                "The tasks run when the condition is true.",
            ),
            read(
                "else",
                Ty::Tasks,
                "The tasks run when the condition is false.",
            ),
            ERRORS,
            FINALLY,
        ],
    ),
    flow_type!(
        "io.kestra.plugin.core.flow.Switch",
        &["io.kestra.core.tasks.flows.Switch"],
        Flowable::Switch,
        "Branch on a value",
        "Renders `value` and runs the tasks of the case with that key, or `defaults` when none matches.",
        &[
            Property {
                example: Some(r#""{{ 'a' }}""#),
                ..required(
                    "value",
                    Ty::Text,
                    "A Pebble expression; its rendered text picks the case.",
                )
            },
            Property {
                example: Some(
                    "{a: [{id: switch-case-a, type: io.kestra.plugin.scripts.shell.Commands, commands: [echo a]}]}"
                ),
                ..read(
                    "cases",
                    Ty::TaskCases,
                    "A map of case values to the tasks run for them.",
                )
            },
            read("defaults", Ty::Tasks, "The tasks run when no case matches.",),
            ERRORS,
            FINALLY,
        ],
    ),
    flow_type!(
        "io.kestra.plugin.core.flow.ForEach",
        &[],
        Flowable::ForEach,
        "Tasks run for each value",
        "Runs its tasks once per value; children see `{{ taskrun.value }}` and `{{ taskrun.iteration }}`, nested ones `{{ parent.taskrun.value }}`.",
        &[
            Property {
                example: Some("[a, b]"),
                ..required(
                    "values",
                    Ty::EachValues,
                    "A list of values, or a string rendered and read as a JSON array; repeated values run once (as in Kestra).",
                )
            },
            concurrency(
                "concurrencyLimit",
                "1",
                "How many values run at a time; 0 means all at once.",
            ),
            TASKS,
            ERRORS,
            FINALLY,
        ],
    ),
    flow_type!(
        "io.kestra.plugin.core.flow.EachSequential",
        &["io.kestra.core.tasks.flows.EachSequential"],
        Flowable::EachSequential,
        "Tasks run for each value, one value at a time (legacy)",
        "The legacy form of ForEach with `concurrencyLimit: 1`.",
        &[
            Property {
                example: Some("[a, b]"),
                ..required(
                    "value",
                    Ty::EachValues,
                    "A list of values, or a string rendered and read as a JSON array.",
                )
            },
            TASKS,
            ERRORS,
            FINALLY,
        ],
    ),
    flow_type!(
        "io.kestra.plugin.core.flow.EachParallel",
        &["io.kestra.core.tasks.flows.EachParallel"],
        Flowable::EachParallel,
        "Tasks run for each value, values side by side (legacy)",
        "The legacy form of ForEach with `concurrencyLimit` taken from `concurrent`.",
        &[
            Property {
                example: Some("[a, b]"),
                ..required(
                    "value",
                    Ty::EachValues,
                    "A list of values, or a string rendered and read as a JSON array.",
                )
            },
            concurrency(
                "concurrent",
                "0",
                "How many values run at a time; 0 means no limit.",
            ),
            TASKS,
            ERRORS,
            FINALLY,
        ],
    ),
    flow_type!(
        "io.kestra.plugin.core.flow.Dag",
        &["io.kestra.core.tasks.flows.Dag"],
        Flowable::Dag,
        "Tasks run as their dependencies end",
        "Runs each task once every task in its `dependsOn` has ended; tasks that are ready run side by side.",
        &[
            Property {
                example: Some(
                    "[{task: {id: dag-a, type: io.kestra.plugin.scripts.shell.Commands, commands: [echo a]}}, {task: {id: dag-b, type: io.kestra.plugin.scripts.shell.Commands, commands: [echo b]}, dependsOn: [dag-a]}]"
                ),
                ..required(
                    "tasks",
                    Ty::DagTasks,
                    "The tasks, each as `{task, dependsOn}`; a cycle or an unknown id is an error.",
                )
            },
            concurrency(
                "concurrent",
                "0",
                "How many tasks run at a time; 0 means no limit.",
            ),
            ERRORS,
            FINALLY,
        ],
    ),
    flow_type!(
        "io.kestra.plugin.core.flow.AllowFailure",
        &["io.kestra.core.tasks.flows.AllowFailure"],
        Flowable::AllowFailure,
        "Tasks whose failure does not fail the flow",
        "Runs its tasks one after the other; a failure among them makes it WARNING and the flow goes on.",
        &[TASKS, ERRORS, FINALLY],
    ),
    // WorkingDirectory: children share one working directory.
    TaskType {
        name: WORKING_DIRECTORY_TYPE,
        aliases: &[
            "io.kestra.core.tasks.flows.WorkingDirectory",
            "io.kestra.core.tasks.flows.Worker",
        ],
        execution: Execution::FlowableParent(Flowable::WorkingDirectory),
        object: Object {
            kind: "task",
            title: "Tasks run one after the other in one shared working directory",
            doc: "Runs its child tasks (script tasks) one after the other in one working directory they share: what one writes is there for the next.",
            properties: &[COMMON_TASK, WORKING_DIRECTORY, &[ERRORS, FINALLY]],
        },
    },
    // Subflow: another flow as a child execution.
    TaskType {
        name: SUBFLOW_TYPE,
        aliases: &[
            "io.kestra.core.tasks.flows.Subflow",
            "io.kestra.core.tasks.flows.Flow",
        ],
        execution: Execution::Subflow,
        object: Object {
            kind: "task",
            title: "Subflow",
            doc: "Runs another flow as a child execution (its own execution id and journal) and gives its outputs as `outputs.ID.outputs.NAME`.",
            properties: &[COMMON_TASK, SUBFLOW_OWN],
        },
    },
    // ForEachItem: a Subflow per batch of lines.
    TaskType {
        name: FOR_EACH_ITEM_TYPE,
        aliases: &["io.kestra.core.tasks.flows.ForEachItem"],
        execution: Execution::Subflow,
        object: Object {
            kind: "task",
            title: "ForEachItem",
            doc: "Splits a file of lines into batches and runs a flow once per batch, each a child execution; outputs as Kestra's internal tasks give them: `outputs.ID_split.splits`, `outputs.ID_items.iterations` / `numberOfBatches`, `outputs.ID_merge.subflowOutputs`.",
            properties: &[COMMON_TASK, FOR_EACH_ITEM_OWN],
        },
    },
    TaskType {
        name: "io.kestra.plugin.core.flow.Pause",
        aliases: &["io.kestra.core.tasks.flows.Pause"],
        execution: Execution::Pause,
        object: Object {
            kind: "task",
            title: "Pause",
            doc: "Waits `pauseDuration` (`delay`), or until `dockhand resume`; with `timeout`, a resume that comes later fails the task.",
            properties: &[COMMON_TASK, PAUSE_OWN],
        },
    },
];
