//! Task types dockhand runs itself, without a container: log, debug, output, execution,
//! kv, storage, http, ...

use super::TaskType;

pub static TASK_TYPES: &[TaskType] = &[];
