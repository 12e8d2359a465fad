//! The typed model of Kestra's flow control: the flowable task types (If, Switch, ForEach and the
//! legacy EachSequential/EachParallel, Dag, AllowFailure), the properties every task has that
//! steer how it runs (`runIf`, `allowWarning`, `retry`), a flowable's local `errors`/`finally`,
//! and the flow's `errors`, `finally`, `afterExecution` and `retry`. Values only: what they mean
//! at run time is `exec::control` (decisions) and `exec::walk` (the walk of the task tree).

use std::time::Duration;

use crate::flow::model::Task;

/// What steers one task, whatever its type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Control {
    /// `runIf`: rendered when the task is reached; false (Kestra's truthiness) skips it.
    pub run_if: Option<String>,
    /// `allowWarning`: a WARNING of the task counts as SUCCESS.
    pub allow_warning: bool,
    pub retry: Option<Retry>,
    /// `taskCache` (`flow::task_cache`); applied to script tasks.
    pub task_cache: Option<crate::flow::task_cache::TaskCache>,
    /// A flowable's local `errors`: run when one of its children fails.
    pub errors: Vec<Task>,
    /// A flowable's local `finally`: run after its children, however they ended.
    pub finally: Vec<Task>,
    /// The task's own typed properties written as templates (`timeout`, a Pause's `delay`),
    /// rendered and converted when the task starts (`flow::typed_template`).
    pub typed: Vec<crate::flow::typed_template::TypedTemplate>,
}

/// The flow's own handlers and retry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowControl {
    pub errors: Vec<Task>,
    pub finally: Vec<Task>,
    pub after_execution: Vec<Task>,
    pub retry: Option<Retry>,
}

/// `retry` of a task or of the flow, as Kestra's `AbstractRetry` and its three types.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub kind: RetryKind,
    /// `maxAttempts` (or the old `maxAttempt`): attempts in all, the first included.
    pub max_attempts: Option<u32>,
    /// No attempt starts later than this after the first one started.
    pub max_duration: Option<Duration>,
    /// A success after a retry is WARNING.
    pub warning_on_retry: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RetryKind {
    Constant {
        interval: Duration,
    },
    /// Kestra's `nextRetryDate`: `interval × delayFactor × (attempts − 1)`, at most
    /// `maxInterval` (delayFactor defaults to 2 and is taken as a whole number, as Kestra does).
    Exponential {
        interval: Duration,
        max_interval: Duration,
        delay_factor: Option<f64>,
    },
    Random {
        min_interval: Duration,
        max_interval: Duration,
    },
}

/// `values` of a ForEach: a list (each item rendered if it is a string) or one string rendered
/// and read as a JSON array.
#[derive(Debug, Clone, PartialEq)]
pub enum EachValues {
    List(Vec<serde_json::Value>),
    Expression(String),
}

/// A task of a Dag with the ids of the tasks it waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct DagTask {
    pub task: Task,
    pub depends_on: Vec<String>,
}

/// A flowable task beyond Parallel and Sequential.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowTask {
    If {
        condition: String,
        then: Vec<Task>,
        otherwise: Vec<Task>,
    },
    Switch {
        value: String,
        /// In file order; the first key equal to the rendered value wins.
        cases: Vec<(String, Vec<Task>)>,
        defaults: Vec<Task>,
    },
    /// ForEach (and EachSequential: limit 1, EachParallel: its `concurrent`): `tasks` run one
    /// after the other for each value, `concurrency_limit` values at a time (0: no limit).
    ForEach {
        values: EachValues,
        concurrency_limit: usize,
        tasks: Vec<Task>,
    },
    Dag {
        /// At most this many tasks at a time (0: no limit).
        concurrent: usize,
        tasks: Vec<DagTask>,
    },
    /// Its children run in sequence; a failure among them makes it WARNING.
    AllowFailure { tasks: Vec<Task> },
}

impl FlowTask {
    /// The task lists it holds, in file order (a Dag's tasks as one list).
    pub fn branches(&self) -> Vec<Vec<&Task>> {
        match self {
            FlowTask::If {
                then, otherwise, ..
            } => vec![then.iter().collect(), otherwise.iter().collect()],
            FlowTask::Switch {
                cases, defaults, ..
            } => cases
                .iter()
                .map(|(_, t)| t.iter().collect())
                .chain([defaults.iter().collect()])
                .collect(),
            FlowTask::ForEach { tasks, .. } | FlowTask::AllowFailure { tasks } => {
                vec![tasks.iter().collect()]
            }
            FlowTask::Dag { tasks, .. } => vec![tasks.iter().map(|d| &d.task).collect()],
        }
    }

    /// [`FlowTask::branches`], to change them.
    pub fn branches_mut(&mut self) -> Vec<Vec<&mut Task>> {
        match self {
            FlowTask::If {
                then, otherwise, ..
            } => vec![then.iter_mut().collect(), otherwise.iter_mut().collect()],
            FlowTask::Switch {
                cases, defaults, ..
            } => cases
                .iter_mut()
                .map(|(_, t)| t.iter_mut().collect())
                .chain([defaults.iter_mut().collect()])
                .collect(),
            FlowTask::ForEach { tasks, .. } | FlowTask::AllowFailure { tasks } => {
                vec![tasks.iter_mut().collect()]
            }
            FlowTask::Dag { tasks, .. } => vec![tasks.iter_mut().map(|d| &mut d.task).collect()],
        }
    }

    /// The type's short name, for `plan` and status lines.
    pub fn name(&self) -> &'static str {
        match self {
            FlowTask::If { .. } => "If",
            FlowTask::Switch { .. } => "Switch",
            FlowTask::ForEach { .. } => "ForEach",
            FlowTask::Dag { .. } => "Dag",
            FlowTask::AllowFailure { .. } => "AllowFailure",
        }
    }
}
