//! Flow-control task types (`io.kestra.plugin.core.flow.*` beyond Parallel and Sequential):
//! If, Switch, ForEach, Dag, AllowFailure, Subflow, Pause, ...

use super::{
    COMMON_TASK, Execution, Flowable, Names, Object, Property, TaskType, Ty, ignored, read,
    required, with_default,
};

pub static TASK_TYPES: &[TaskType] = &[
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
            properties: &[COMMON_TASK, WORKING_DIRECTORY],
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
];

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

const SUBFLOW_OWN: &[Property] = &[
    Property {
        example: Some("company.team"),
        ..required("namespace", Ty::Text, "The namespace of the flow to run.")
    },
    Property {
        example: Some("child"),
        ..required(
            "flowId",
            Ty::Text,
            "The id of the flow to run: dockhand finds it among the flow files (`*.yaml`, `*.yml`, recursively) of `--flows-dir` (`$DOCKHAND_FLOWS_DIR`; default: the parent flow file's directory).",
        )
    },
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
            "Whether the task waits for the subflow and gets its outputs. dockhand runs the subflow in its own process either way: with `false` it still runs to its end first, but its outputs are not given.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "transmitFailed",
            Ty::Bool,
            "false",
            "Whether a failed subflow fails the task (otherwise the task succeeds whatever the subflow's state).",
        )
    },
    Property {
        example: Some("{team: data}"),
        ..read("labels", Ty::Labels, "Labels of the subflow's execution.")
    },
    Property {
        example: Some("false"),
        ..with_default(
            "inheritLabels",
            Ty::Bool,
            "false",
            "Whether the subflow's execution takes the parent's labels.",
        )
    },
    Property {
        example: Some("2"),
        ..ignored(
            "revision",
            "dockhand runs the subflow's file as it is; flow files have no revisions",
        )
    },
    Property {
        example: Some("RETRY"),
        ..ignored(
            "restartBehavior",
            "a dockhand resume continues the subflow's execution",
        )
    },
];
