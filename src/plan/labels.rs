//! The labels that identify a dockhand container: resume and cleanup find containers by them.

pub const MANAGED: &str = "io.dockhand.managed";
pub const NAMESPACE: &str = "io.dockhand.namespace";
pub const FLOW: &str = "io.dockhand.flow";
pub const TASK: &str = "io.dockhand.task";
pub const EXECUTION: &str = "io.dockhand.execution";
pub const ATTEMPT: &str = "io.dockhand.attempt";
pub const OWNER: &str = "io.dockhand.owner";

/// What `plan` shows for the owner label's value: the pid of the dockhand process is known only
/// when it runs.
pub const OWNER_PLACEHOLDER: &str = "<pid>";

/// The labels of one task's container, in a fixed order. `owner` is the running dockhand's pid;
/// without one (`plan`) the owner label shows [`OWNER_PLACEHOLDER`], so the plan lists every
/// label a run puts on.
pub fn for_task(
    namespace: &str,
    flow: &str,
    task: &str,
    execution: &str,
    attempt: u32,
    owner: Option<u32>,
) -> Vec<(&'static str, String)> {
    // One literal, so the vector is allocated at its size (a push would double it, per task).
    vec![
        (MANAGED, "true".to_string()),
        (NAMESPACE, namespace.to_string()),
        (FLOW, flow.to_string()),
        (TASK, task.to_string()),
        (EXECUTION, execution.to_string()),
        (ATTEMPT, attempt.to_string()),
        (
            OWNER,
            owner.map_or_else(|| OWNER_PLACEHOLDER.to_string(), |pid| pid.to_string()),
        ),
    ]
}
