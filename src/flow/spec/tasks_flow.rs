//! Flow-control task types (`io.kestra.plugin.core.flow.*` beyond Parallel and Sequential):
//! If, Switch, ForEach, Dag, AllowFailure, Subflow, Pause, ...

use super::{
    COMMON_TASK, Execution, Flowable, Names, Object, Property, TaskType, Ty, read, required,
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
