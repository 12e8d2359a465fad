//! Flow-control task types (`io.kestra.plugin.core.flow.*` beyond Parallel and Sequential):
//! If, Switch, ForEach, Dag, AllowFailure, Subflow, Pause, ...

use super::TaskType;

pub static TASK_TYPES: &[TaskType] = &[];
