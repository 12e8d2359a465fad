//! Flow-control task types (`io.kestra.plugin.core.flow.*` beyond Parallel and Sequential):
//! If, Switch, ForEach, the legacy EachSequential and EachParallel, Dag and AllowFailure, each
//! also under its old `io.kestra.core.tasks.flows.*` name. Read by `decode::flowable`, run by
//! `exec::walk`; their meaning is Kestra's (`core/src/main/java/io/kestra/plugin/core/flow`).

use super::{COMMON_TASK, Execution, Flowable, Object, Property, TaskType, Ty, read, required};

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
];
