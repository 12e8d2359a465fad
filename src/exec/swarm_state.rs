//! The pure decisions of the swarm backend: what a swarm task's status says (waiting, running,
//! ended and how), what a node's state means for the task on it, and the task's result from
//! how it ended. `exec::swarm` gathers the facts; these functions decide.

use crate::exec::result::{Failure, State};

/// A swarm task's status as `inspect --type task --format '{{json .Status}}\t{{.NodeID}}'`
/// prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskStatus {
    /// swarmkit's state, lower case: new … running, complete, failed, rejected, shutdown, …
    pub state: String,
    /// Why the task failed or was rejected (`task: non-zero exit (7)`, `No such image: …`).
    pub err: String,
    /// The container's exit code, once it started (ContainerStatus is absent before).
    pub exit_code: Option<i32>,
    /// The node it was given to (empty until scheduled).
    pub node: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawStatus {
    #[serde(default)]
    state: String,
    #[serde(default)]
    err: String,
    #[serde(default)]
    container_status: Option<RawContainer>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawContainer {
    #[serde(default, rename = "ExitCode")]
    exit_code: Option<i32>,
    #[serde(default, rename = "ContainerID")]
    container_id: String,
}

/// Reads one `inspect_task` line; `None` when it is not one.
pub fn parse_task(line: &str) -> Option<TaskStatus> {
    let (json, node) = line.trim().split_once('\t').unwrap_or((line.trim(), ""));
    let raw: RawStatus = serde_json::from_str(json).ok()?;
    // Before the container exists, ContainerStatus holds no exit code worth reading.
    let exit_code = raw
        .container_status
        .filter(|c| !c.container_id.is_empty())
        .and_then(|c| c.exit_code);
    Some(TaskStatus {
        state: raw.state.to_ascii_lowercase(),
        err: raw.err,
        exit_code,
        node: node.trim().to_string(),
    })
}

/// Where a task is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Scheduled or not yet, its container not yet running.
    Waiting,
    Running,
    /// Terminal: nothing more will come from it.
    Ended,
}

/// swarmkit's task states (api/types/swarm/task.go), by phase. An unknown state is waited on.
pub fn phase(state: &str) -> Phase {
    match state {
        "running" => Phase::Running,
        "complete" | "failed" | "rejected" | "shutdown" | "remove" | "orphaned" => Phase::Ended,
        _ => Phase::Waiting,
    }
}

/// How the watch of a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The task reached a terminal state by itself.
    Terminal(TaskStatus),
    /// dockhand stopped it (cancel or timeout): the failure to report.
    Stopped(Failure),
    /// The node running it went down (hostname, node id, the manager's message).
    NodeDown {
        hostname: String,
        node: String,
        message: String,
    },
    /// The manager stopped answering about the task, or the service vanished.
    Lost(String),
}

/// What a task's end becomes: state, failure, exit code.
pub type Verdict = (State, Option<Failure>, Option<i32>);

/// The [`Verdict`] of a task's end.
pub fn verdict(e: &Ending) -> Verdict {
    match e {
        Ending::Terminal(st) => match (st.state.as_str(), st.exit_code) {
            ("complete", code) => (State::Success, None, Some(code.unwrap_or(0))),
            ("failed", Some(code)) if code != 0 => {
                (State::Failed, Some(Failure::ExitCode { code }), Some(code))
            }
            (state, code) => {
                let why = if st.err.is_empty() {
                    format!("the swarm task ended {state}")
                } else {
                    format!("the swarm task ended {state}: {}", st.err)
                };
                (State::Failed, Some(Failure::Engine { message: why }), code)
            }
        },
        Ending::Stopped(Failure::Cancelled) => (State::Killed, Some(Failure::Cancelled), None),
        Ending::Stopped(f) => (State::Failed, Some(f.clone()), None),
        Ending::NodeDown {
            hostname,
            node,
            message,
        } => (
            State::Failed,
            Some(Failure::Engine {
                message: format!(
                    "node {hostname} ({node}) went down while the task ran on it{}",
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                ),
            }),
            None,
        ),
        Ending::Lost(why) => (
            State::Failed,
            Some(Failure::Engine {
                message: why.clone(),
            }),
            None,
        ),
    }
}

/// What `info --format '{{.Swarm.LocalNodeState}}\t{{.Swarm.ControlAvailable}}'` says about
/// driving a swarm through this engine: `Ok` for a manager, else why not.
pub fn manager_check(info: &str, address: &str) -> Result<(), String> {
    let mut parts = info.trim().split('\t');
    let (state, control) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    match (state, control) {
        ("active", "true") => Ok(()),
        ("active", _) => Err(format!(
            "the docker engine at {address} is a swarm worker, not a manager: --backend swarm needs a manager (DOCKER_HOST, --host or a context naming one)"
        )),
        ("", _) => Err(format!(
            "the docker engine at {address} did not say whether it is in a swarm"
        )),
        (s, _) => Err(format!(
            "the docker engine at {address} is not a swarm manager (swarm state: {s}): `docker swarm init` there, or point DOCKER_HOST/--host at a manager"
        )),
    }
}

/// How long to wait before asking for the task's state again: often at first, when most jobs
/// end, then less; and less often the more tasks this dockhand watches at once (`watching`),
/// since every question is a docker CLI process: together they ask about 10 times a second at
/// most, each task at least every 2 s.
pub fn poll_interval(since_start: std::time::Duration, watching: usize) -> std::time::Duration {
    use std::time::Duration;
    let base = if since_start < Duration::from_secs(3) {
        Duration::from_millis(100)
    } else if since_start < Duration::from_secs(30) {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(1)
    };
    let n = watching.max(1) as u32;
    base.max(Duration::from_millis(100) * n)
        .min(Duration::from_secs(2).max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lines_as_dockerd_prints_them() {
        // Measured on dockerd 20.10.24 (tests/e2e_swarm.rs runs them for real).
        let failed = "{\"Timestamp\":\"2026-12-01T12:13:11.8Z\",\"State\":\"failed\",\"Message\":\"started\",\"Err\":\"task: non-zero exit (7)\",\"ContainerStatus\":{\"ContainerID\":\"17f4\",\"PID\":0,\"ExitCode\":7},\"PortStatus\":{}}\t8zvgnye52osl";
        assert_eq!(
            parse_task(failed),
            Some(TaskStatus {
                state: "failed".into(),
                err: "task: non-zero exit (7)".into(),
                exit_code: Some(7),
                node: "8zvgnye52osl".into(),
            })
        );
        let pending =
            "{\"State\":\"pending\",\"Message\":\"pending task scheduling\",\"PortStatus\":{}}\t";
        let st = parse_task(pending).unwrap();
        assert_eq!(
            (st.state.as_str(), st.exit_code, st.node.as_str()),
            ("pending", None, "")
        );
        let no_container = "{\"State\":\"rejected\",\"Err\":\"No such image: x:1\",\"ContainerStatus\":{\"ContainerID\":\"\",\"ExitCode\":0}}\tn1";
        assert_eq!(parse_task(no_container).unwrap().exit_code, None);
        assert_eq!(parse_task("Error: No such task: abc"), None);
    }

    #[test]
    fn phases() {
        for (s, p) in [
            ("new", Phase::Waiting),
            ("pending", Phase::Waiting),
            ("assigned", Phase::Waiting),
            ("preparing", Phase::Waiting),
            ("starting", Phase::Waiting),
            ("running", Phase::Running),
            ("complete", Phase::Ended),
            ("failed", Phase::Ended),
            ("rejected", Phase::Ended),
            ("shutdown", Phase::Ended),
            ("orphaned", Phase::Ended),
            ("something-new", Phase::Waiting),
        ] {
            assert_eq!(phase(s), p, "{s}");
        }
    }

    #[test]
    fn verdicts() {
        let t = |state: &str, err: &str, code: Option<i32>| {
            Ending::Terminal(TaskStatus {
                state: state.into(),
                err: err.into(),
                exit_code: code,
                node: "n1".into(),
            })
        };
        let engine = |m: &str| Some(Failure::Engine { message: m.into() });
        let cases: Vec<(Ending, Verdict)> = vec![
            (t("complete", "", Some(0)), (State::Success, None, Some(0))),
            (
                t("failed", "task: non-zero exit (3)", Some(3)),
                (State::Failed, Some(Failure::ExitCode { code: 3 }), Some(3)),
            ),
            (
                t("rejected", "No such image: x:1", None),
                (
                    State::Failed,
                    engine("the swarm task ended rejected: No such image: x:1"),
                    None,
                ),
            ),
            (
                t(
                    "failed",
                    "starting container failed: oci runtime error",
                    Some(0),
                ),
                (
                    State::Failed,
                    engine(
                        "the swarm task ended failed: starting container failed: oci runtime error",
                    ),
                    Some(0),
                ),
            ),
            (
                t("shutdown", "", None),
                (State::Failed, engine("the swarm task ended shutdown"), None),
            ),
            (
                Ending::Stopped(Failure::Cancelled),
                (State::Killed, Some(Failure::Cancelled), None),
            ),
            (
                Ending::Stopped(Failure::Timeout { after_ms: 1000 }),
                (
                    State::Failed,
                    Some(Failure::Timeout { after_ms: 1000 }),
                    None,
                ),
            ),
            (
                Ending::NodeDown {
                    hostname: "w1".into(),
                    node: "abc".into(),
                    message: "heartbeat failure".into(),
                },
                (
                    State::Failed,
                    engine("node w1 (abc) went down while the task ran on it: heartbeat failure"),
                    None,
                ),
            ),
        ];
        for (e, want) in cases {
            assert_eq!(verdict(&e), want, "{e:?}");
        }
    }

    #[test]
    fn only_a_manager_will_do() {
        assert_eq!(manager_check("active\ttrue\n", "x"), Ok(()));
        for (info, says) in [
            ("active\tfalse", "is a swarm worker, not a manager"),
            (
                "inactive\tfalse",
                "is not a swarm manager (swarm state: inactive)",
            ),
            (
                "pending\tfalse",
                "is not a swarm manager (swarm state: pending)",
            ),
            ("", "did not say"),
        ] {
            let e = manager_check(info, "unix:///x.sock").unwrap_err();
            assert!(
                e.contains(says) && e.contains("unix:///x.sock"),
                "{info}: {e}"
            );
        }
    }

    #[test]
    fn polls_often_first_and_less_with_many_tasks() {
        use std::time::Duration;
        let ms = Duration::from_millis;
        for (since, watching, want) in [
            (Duration::ZERO, 1, ms(100)),
            (Duration::ZERO, 0, ms(100)),
            (Duration::from_secs(10), 1, ms(250)),
            (Duration::from_secs(60), 1, ms(1000)),
            (Duration::ZERO, 12, ms(1200)),
            (Duration::from_secs(10), 2, ms(250)),
            (Duration::from_secs(10), 4, ms(400)),
            (Duration::ZERO, 60, ms(2000)),
            (Duration::from_secs(60), 60, ms(2000)),
        ] {
            assert_eq!(poll_interval(since, watching), want, "{since:?} {watching}");
        }
    }
}
