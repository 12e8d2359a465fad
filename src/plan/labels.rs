//! The labels that identify a dockhand container: resume and cleanup find containers by them.

pub const MANAGED: &str = "io.dockhand.managed";
pub const NAMESPACE: &str = "io.dockhand.namespace";
pub const FLOW: &str = "io.dockhand.flow";
pub const TASK: &str = "io.dockhand.task";
pub const EXECUTION: &str = "io.dockhand.execution";
pub const ATTEMPT: &str = "io.dockhand.attempt";
pub const OWNER: &str = "io.dockhand.owner";

/// The labels of one task's container, in a fixed order.
pub fn for_task(
    namespace: &str,
    flow: &str,
    task: &str,
    execution: &str,
    attempt: u32,
    owner: Option<u32>,
) -> Vec<(&'static str, String)> {
    let mut v = vec![
        (MANAGED, "true".to_string()),
        (NAMESPACE, namespace.to_string()),
        (FLOW, flow.to_string()),
        (TASK, task.to_string()),
        (EXECUTION, execution.to_string()),
        (ATTEMPT, attempt.to_string()),
    ];
    if let Some(pid) = owner {
        v.push((OWNER, pid.to_string()));
    }
    v
}
