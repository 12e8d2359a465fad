//! Task types, other than the script languages, that run a container or a host program: the
//! CLI tasks (dbt, terraform, aws, gcp, azure, ansible), docker Run/Build/Push, git Clone.

use super::TaskType;

pub static TASK_TYPES: &[TaskType] = &[];
