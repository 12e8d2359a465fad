//! The executor's decisions, as pure functions of what it observed: how a task's run ended
//! (its command's exit code, an engine error, an OOM kill confirmed or likely, a timeout, a
//! cancel, a lost connection, a kill from outside, a name clash, a container that was never
//! made), what to do with a task the journal shows as started (re-attach, start afresh, or
//! remove what is left and start a new attempt), and which attempt a task runs as.
//!
//! `exec::task` gathers the observations (the client's exit code, why dockhand stopped it, the
//! engine's `inspect`, Podman's `oom` marker, the client's last stderr line) and applies the
//! decision; nothing here runs a process or reads the clock, so the table of cases below is
//! tested without an engine.

use crate::exec::journal::InFlight;
use crate::exec::result::Failure;
use crate::exec::task::{ContainerState, could_not_connect};
use crate::plan::dialect::Dialect;

/// What `inspect` found.
#[derive(Debug, Clone)]
pub enum Inspected {
    State(ContainerState),
    /// The engine answered: there is no such container.
    Absent,
    /// The engine did not answer (daemon down or restarting).
    Unreachable(String),
}

/// Whether the engine is there at all, asked only when the client said it could not connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineCheck {
    NotAsked,
    /// It answered (in this run, or to the check).
    There,
    /// It cannot be reached: the message says why.
    Absent(String),
}

/// What the executor saw of a followed run (the attached `run`/`start`, or `logs` on
/// re-attach) once the engine client exited.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    /// dockhand stopped the container: `Timeout` or `Cancelled`.
    pub stopped: Option<&'a Failure>,
    /// The engine client's exit code (None for `logs`, which says nothing of the container).
    pub client_code: Option<i32>,
    /// The client's last stderr line.
    pub last_stderr: &'a str,
    pub engine: EngineCheck,
    /// None until inspected.
    pub inspected: Option<&'a Inspected>,
    /// Podman's conmon left an `oom` file in the client's working directory.
    pub oom_marker: bool,
    /// The task's memory limit in bytes.
    pub memory_limit: Option<u64>,
    pub dialect: Dialect,
    pub container: &'a str,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// dockhand cancelled the run: the task is KILLED.
    Cancelled,
    /// Ask whether the engine is there at all, then decide again.
    AskEngine,
    /// Inspect the container (and look for the OOM marker), then decide again.
    Inspect,
    /// The client exited but the container still runs: follow its log from where it left off.
    Reattach,
    Success,
    /// The task failed; its outputs are collected and its container removed as usual.
    Failed {
        failure: Failure,
        exit_code: Option<i32>,
        message: Option<String>,
    },
    /// No engine at the address: nothing was made, nothing to collect or remove.
    EngineAbsent {
        message: String,
    },
    /// The engine made no container: nothing to remove.
    NotCreated {
        message: String,
        exit_code: Option<i32>,
    },
    /// The container is someone else's (a name clash) or its fate is unknown (the engine
    /// stopped answering): reported as it is, nothing collected or removed.
    Unresolved {
        failure: Failure,
        exit_code: Option<i32>,
    },
}

/// The client's last words on stderr, for an engine error's message.
fn engine_words(last_stderr: &str) -> String {
    let l = last_stderr.trim();
    if l.is_empty() {
        "no message from the engine client".to_string()
    } else {
        l.to_string()
    }
}

/// How a followed run ended. The order of the checks is the order of what is known: why
/// dockhand stopped it, the client's exit code and words, then the engine's `inspect`.
pub fn decide(o: &Observed) -> Decision {
    match o.stopped {
        Some(Failure::Cancelled) => return Decision::Cancelled,
        Some(f) => {
            return Decision::Failed {
                failure: f.clone(),
                exit_code: o.client_code,
                message: None,
            };
        }
        None => {}
    }
    if o.client_code == Some(0) {
        return Decision::Success;
    }
    // 125: the client's own failure. If the engine never answered yet it may not be there at
    // all: one clear line then, not a wait for an engine restart.
    if o.client_code == Some(125) && could_not_connect(o.last_stderr) {
        match &o.engine {
            EngineCheck::NotAsked => return Decision::AskEngine,
            EngineCheck::Absent(m) => return Decision::EngineAbsent { message: m.clone() },
            EngineCheck::There => {}
        }
    }
    if o.last_stderr.contains("already in use") {
        return Decision::Unresolved {
            failure: Failure::Engine {
                message: format!(
                    "a container named {} already exists ({}); remove it or use another execution id",
                    o.container,
                    engine_words(o.last_stderr)
                ),
            },
            exit_code: o.client_code,
        };
    }
    let Some(inspected) = o.inspected else {
        return Decision::Inspect;
    };
    let st = match inspected {
        Inspected::Unreachable(e) => {
            return Decision::Unresolved {
                failure: Failure::Engine {
                    message: format!(
                        "the engine stopped answering during the task ({e}); the container's outcome is unknown"
                    ),
                },
                exit_code: o.client_code,
            };
        }
        Inspected::Absent => {
            let code = o.client_code.map_or("none".into(), |c| c.to_string());
            return Decision::NotCreated {
                message: format!(
                    "the container was not created (client exit code {code}): {}",
                    engine_words(o.last_stderr)
                ),
                exit_code: o.client_code,
            };
        }
        Inspected::State(st) => st,
    };
    // The client lost the container (engine restart with live-restore, client killed).
    if st.status == "running" {
        return Decision::Reattach;
    }
    let failed = |failure, message| Decision::Failed {
        failure,
        exit_code: Some(st.exit_code),
        message,
    };
    if st.oom_killed || o.oom_marker {
        return failed(
            Failure::OutOfMemory {
                confirmed: true,
                limit: o.memory_limit,
            },
            None,
        );
    }
    // Podman on cgroup v1 does not report OOM kills; Docker does, so only Podman gets the guess.
    if st.exit_code == 137 && o.memory_limit.is_some() && o.dialect == Dialect::Podman {
        return failed(
            Failure::OutOfMemory {
                confirmed: false,
                limit: o.memory_limit,
            },
            None,
        );
    }
    if !st.error.is_empty() || st.never_started() {
        let message = if st.error.is_empty() {
            format!(
                "the container did not start: {}",
                engine_words(o.last_stderr)
            )
        } else {
            st.error.clone()
        };
        // An engine that never started the container may say exit code 0: the client's own
        // status is the truth then (125, 126, 127).
        return Decision::Failed {
            failure: Failure::Engine { message },
            exit_code: if st.exit_code != 0 {
                Some(st.exit_code)
            } else {
                o.client_code
            },
            message: None,
        };
    }
    if st.exit_code == 0 {
        return Decision::Success;
    }
    let mut message = None;
    if matches!(st.exit_code, 137 | 143) {
        // dockhand did not stop it (that was decided above).
        let sig = if st.exit_code == 137 {
            "SIGKILL"
        } else {
            "SIGTERM"
        };
        message = Some(format!(
            "killed by {sig}, not by dockhand: something outside the task stopped the container (an engine restart, `docker stop`, the kernel)"
        ));
    }
    if let Some(c) = o.client_code.filter(|c| *c != st.exit_code) {
        message = Some(format!(
            "the engine client exited with {c} (connection lost?)"
        ));
    }
    failed(Failure::ExitCode { code: st.exit_code }, message)
}

/// What to do with a task before it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Resume {
    /// Nothing of it is in flight: start it.
    Fresh,
    /// Its container may still exist and `resume` is on: inspect it, then decide again.
    Inspect,
    /// Its container ran (or runs): follow its log after the lines already shown.
    Reattach { skip_out: u64, skip_err: u64 },
    /// The engine cannot say whether the container exists: fail, touching nothing.
    Unreachable { message: String },
    /// Remove what is left of the task, then start it: as the same attempt (its container was
    /// only created, or is gone) or, with `resume: false`, as the next one.
    RemoveStale { next_attempt: bool },
}

/// The resume decision for a task, from the journal's record of it and the runner's `resume`.
pub fn resume(
    in_flight: Option<&InFlight>,
    resume: bool,
    inspected: Option<&Inspected>,
    container: &str,
) -> Resume {
    let Some(f) = in_flight else {
        return Resume::Fresh;
    };
    if !resume {
        return Resume::RemoveStale { next_attempt: true };
    }
    match inspected {
        None => Resume::Inspect,
        Some(Inspected::State(st)) if st.status != "created" => Resume::Reattach {
            skip_out: f.stdout_lines,
            skip_err: f.stderr_lines,
        },
        Some(Inspected::Unreachable(e)) => Resume::Unreachable {
            message: format!("cannot look for container {container}: {e}"),
        },
        // Created but never started, or gone: nothing ran that could be followed.
        Some(_) => Resume::RemoveStale {
            next_attempt: false,
        },
    }
}

/// The attempt a task runs as: the one in flight (it is resumed), the one after the last that
/// ended (a resumed execution re-runs a task that failed), or the first.
pub fn attempt(running: Option<&InFlight>, last_ended: Option<u32>) -> u32 {
    match (running, last_ended) {
        (Some(f), _) => f.attempt,
        (None, Some(a)) => a + 1,
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(status: &str, exit_code: i32, oom: bool) -> Inspected {
        Inspected::State(ContainerState {
            status: status.into(),
            exit_code,
            oom_killed: oom,
            error: String::new(),
            started_at: "2026-12-01T10:00:00Z".into(),
        })
    }

    fn obs<'a>(
        code: Option<i32>,
        stderr: &'a str,
        inspected: Option<&'a Inspected>,
    ) -> Observed<'a> {
        Observed {
            stopped: None,
            client_code: code,
            last_stderr: stderr,
            engine: EngineCheck::NotAsked,
            inspected,
            oom_marker: false,
            memory_limit: None,
            dialect: Dialect::Docker,
            container: "c-1",
        }
    }

    fn failure(d: &Decision) -> (&Failure, Option<i32>, Option<&str>) {
        match d {
            Decision::Failed {
                failure,
                exit_code,
                message,
            } => (failure, *exit_code, message.as_deref()),
            other => panic!("not a failure: {other:?}"),
        }
    }

    const NO_DAEMON: &str = "docker: Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?";

    #[test]
    fn what_dockhand_stopped_comes_first() {
        // A cancel is KILLED whatever the client said.
        let cancel = Failure::Cancelled;
        let o = Observed {
            stopped: Some(&cancel),
            ..obs(Some(0), "", None)
        };
        assert_eq!(decide(&o), Decision::Cancelled);
        // A timeout keeps the client's code; no inspect is needed to know why it ended.
        let timeout = Failure::Timeout { after_ms: 1000 };
        let o = Observed {
            stopped: Some(&timeout),
            ..obs(Some(137), "", None)
        };
        let d = decide(&o);
        assert_eq!(failure(&d), (&timeout, Some(137), None));
    }

    #[test]
    fn exit_code_zero_is_success_without_inspect() {
        assert_eq!(decide(&obs(Some(0), "", None)), Decision::Success);
    }

    #[test]
    fn a_refused_connection_asks_whether_the_engine_is_there() {
        let mut o = obs(Some(125), NO_DAEMON, None);
        assert_eq!(decide(&o), Decision::AskEngine);
        o.engine = EngineCheck::Absent("cannot reach its engine".into());
        assert_eq!(
            decide(&o),
            Decision::EngineAbsent {
                message: "cannot reach its engine".into()
            }
        );
        // The engine is there (it answered earlier): a restart, so inspect as usual.
        o.engine = EngineCheck::There;
        assert_eq!(decide(&o), Decision::Inspect);
        // Only 125 is the client's own failure; a command exiting 1 with such words is not.
        assert_eq!(decide(&obs(Some(1), NO_DAEMON, None)), Decision::Inspect);
    }

    #[test]
    fn a_name_clash_is_not_ours_to_inspect_or_remove() {
        let said = "docker: Error response from daemon: Conflict. The container name \"/c-1\" is already in use";
        match decide(&obs(Some(125), said, None)) {
            Decision::Unresolved {
                failure: Failure::Engine { message },
                exit_code: Some(125),
            } => {
                assert!(
                    message.starts_with("a container named c-1 already exists"),
                    "{message}"
                );
                assert!(message.contains("is already in use"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_run_is_inspected_before_it_is_judged() {
        assert_eq!(decide(&obs(Some(3), "", None)), Decision::Inspect);
        assert_eq!(decide(&obs(Some(137), "", None)), Decision::Inspect);
        // `logs` after re-attach: no client code, always inspect.
        assert_eq!(decide(&obs(None, "", None)), Decision::Inspect);
    }

    #[test]
    fn an_engine_that_stopped_answering_leaves_the_outcome_unknown() {
        let i = Inspected::Unreachable("connection refused".into());
        match decide(&obs(Some(125), "unexpected EOF", Some(&i))) {
            Decision::Unresolved {
                failure: Failure::Engine { message },
                exit_code: Some(125),
            } => assert!(message.contains("stopped answering"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_container_means_not_created_with_the_engines_words() {
        let d = decide(&obs(
            Some(125),
            "invalid mount config",
            Some(&Inspected::Absent),
        ));
        assert_eq!(
            d,
            Decision::NotCreated {
                message:
                    "the container was not created (client exit code 125): invalid mount config"
                        .into(),
                exit_code: Some(125)
            }
        );
        let d = decide(&obs(None, "", Some(&Inspected::Absent)));
        assert!(
            matches!(&d, Decision::NotCreated { message, exit_code: None } if message.contains("code none): no message from the engine client")),
            "{d:?}"
        );
    }

    #[test]
    fn a_container_still_running_is_reattached_to() {
        let i = st("running", 0, false);
        assert_eq!(decide(&obs(Some(125), "", Some(&i))), Decision::Reattach);
    }

    #[test]
    fn oom_confirmed_by_the_engine_or_by_conmons_marker() {
        let i = st("exited", 137, true);
        let d = decide(&Observed {
            memory_limit: Some(8 << 20),
            ..obs(Some(137), "", Some(&i))
        });
        assert_eq!(
            failure(&d),
            (
                &Failure::OutOfMemory {
                    confirmed: true,
                    limit: Some(8 << 20)
                },
                Some(137),
                None
            )
        );
        // Podman with conmon's `oom` file, although inspect says no.
        let i = st("exited", 137, false);
        let d = decide(&Observed {
            oom_marker: true,
            dialect: Dialect::Podman,
            ..obs(Some(137), "", Some(&i))
        });
        assert!(matches!(
            failure(&d).0,
            Failure::OutOfMemory {
                confirmed: true,
                ..
            }
        ));
    }

    #[test]
    fn oom_is_only_guessed_for_podman_under_a_limit() {
        let i = st("exited", 137, false);
        let base = Observed {
            memory_limit: Some(8 << 20),
            dialect: Dialect::Podman,
            ..obs(Some(137), "", Some(&i))
        };
        let d = decide(&base);
        assert!(matches!(
            failure(&d).0,
            Failure::OutOfMemory {
                confirmed: false,
                limit: Some(_)
            }
        ));
        // Docker reports OOM kills: a 137 there without OOMKilled is a kill from outside.
        let d = decide(&Observed {
            dialect: Dialect::Docker,
            ..base.clone()
        });
        let (f, code, msg) = failure(&d);
        assert_eq!((f, code), (&Failure::ExitCode { code: 137 }, Some(137)));
        assert!(
            msg.unwrap()
                .starts_with("killed by SIGKILL, not by dockhand")
        );
        // Without a limit there is nothing to run out of.
        let d = decide(&Observed {
            memory_limit: None,
            ..base
        });
        assert_eq!(failure(&d).0, &Failure::ExitCode { code: 137 });
    }

    #[test]
    fn an_engine_error_or_a_container_that_never_started() {
        let cases = [
            // The engine's own error, with the container's code.
            (
                ContainerState {
                    status: "created".into(),
                    exit_code: 127,
                    error: "exec: \"sh\": executable file not found".into(),
                    ..Default::default()
                },
                (Some(127), ""),
                "exec: \"sh\": executable file not found",
                Some(127),
            ),
            // Never started, the engine saying exit 0: the client's status is the truth.
            (
                ContainerState {
                    status: "created".into(),
                    started_at: "0001-01-01T00:00:00Z".into(),
                    ..Default::default()
                },
                (Some(126), "permission denied"),
                "the container did not start: permission denied",
                Some(126),
            ),
        ];
        for (state, (code, said), message, exit_code) in cases {
            let i = Inspected::State(state);
            let d = decide(&obs(code, said, Some(&i)));
            let want = Failure::Engine {
                message: message.into(),
            };
            assert_eq!(failure(&d), (&want, exit_code, None));
        }
    }

    #[test]
    fn the_containers_exit_code_decides_the_rest() {
        // The client failed (a lost connection) but the container succeeded.
        let i = st("exited", 0, false);
        assert_eq!(decide(&obs(Some(125), "", Some(&i))), Decision::Success);
        // The command's own failure.
        let i = st("exited", 3, false);
        let d = decide(&obs(Some(3), "", Some(&i)));
        assert_eq!(failure(&d), (&Failure::ExitCode { code: 3 }, Some(3), None));
        // SIGTERM from outside.
        let i = st("exited", 143, false);
        let d = decide(&obs(Some(143), "", Some(&i)));
        assert!(
            failure(&d)
                .2
                .unwrap()
                .starts_with("killed by SIGTERM, not by dockhand")
        );
        // The client's code differs from the container's: the connection was lost; that
        // message wins over the signal's.
        let i = st("exited", 137, false);
        let d = decide(&obs(Some(125), "", Some(&i)));
        assert_eq!(
            failure(&d).2,
            Some("the engine client exited with 125 (connection lost?)")
        );
        // After re-attach (`logs`, no client code) the container's code alone.
        let i = st("exited", 3, false);
        assert_eq!(failure(&decide(&obs(None, "", Some(&i)))).2, None);
    }

    fn in_flight() -> InFlight {
        InFlight {
            container: "c-2".into(),
            attempt: 2,
            stdout_lines: 5,
            stderr_lines: 1,
        }
    }

    #[test]
    fn resume_decisions() {
        let f = in_flight();
        // Nothing in flight: start.
        assert_eq!(resume(None, true, None, "c"), Resume::Fresh);
        assert_eq!(resume(None, false, None, "c"), Resume::Fresh);
        // `resume: false`: never inspect, clear away, next attempt.
        assert_eq!(
            resume(Some(&f), false, None, "c"),
            Resume::RemoveStale { next_attempt: true }
        );
        // Resume: look first.
        assert_eq!(resume(Some(&f), true, None, "c"), Resume::Inspect);
        // Running or exited: follow its log after the lines shown (an exited one's code is
        // read by the inspect after its log ends, not run again).
        for s in ["running", "exited"] {
            assert_eq!(
                resume(Some(&f), true, Some(&st(s, 0, false)), "c"),
                Resume::Reattach {
                    skip_out: 5,
                    skip_err: 1
                }
            );
        }
        // Created but never started, or gone: same attempt, afresh.
        for i in [st("created", 0, false), Inspected::Absent] {
            assert_eq!(
                resume(Some(&f), true, Some(&i), "c"),
                Resume::RemoveStale {
                    next_attempt: false
                }
            );
        }
        // No engine: touch nothing.
        assert_eq!(
            resume(
                Some(&f),
                true,
                Some(&Inspected::Unreachable("down".into())),
                "c"
            ),
            Resume::Unreachable {
                message: "cannot look for container c: down".into()
            }
        );
    }

    #[test]
    fn attempts() {
        assert_eq!(attempt(None, None), 1);
        assert_eq!(attempt(None, Some(1)), 2);
        // In flight wins over an earlier ended attempt.
        assert_eq!(attempt(Some(&in_flight()), Some(1)), 2);
    }
}
