//! Flow-control task types (`io.kestra.plugin.core.flow.*` beyond Parallel and Sequential):
//! If, Switch, ForEach, Dag, AllowFailure, Subflow, Pause, ...

use super::{
    COMMON_TASK, Execution, Object, Property, TaskType, Ty, ignored, read, required, with_default,
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

const PAUSE_OWN: &[Property] = &[
    Property {
        example: Some("PT1S"),
        ..read(
            "pauseDuration",
            Ty::Duration,
            "How long the task waits before the flow goes on (ISO-8601); without it (or `delay`) the execution pauses until `dockhand resume EXECUTION` (the run exits 4, the journal says PAUSED).",
        )
    },
    Property {
        example: Some("PT1S"),
        ..read(
            "delay",
            Ty::Duration,
            "Kestra's old name of `pauseDuration`.",
        )
    },
];

pub static TASK_TYPES: &[TaskType] = &[
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
