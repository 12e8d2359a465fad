//! The executor's decisions driven through the real `dockhand` binary against a fake engine
//! (`tests/fake-engine/docker`, a script that answers as the docker CLI does and records its
//! argv). These run in plain `cargo test`, with no engine on the machine: a command's own
//! failure, an OOM kill, a kill from outside, a refused option, an engine that is not there,
//! one that goes away mid-task, a timeout and a cancel.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fake() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-engine/docker")
}

/// One scratch directory per case: the fake engine's record, state and work directories.
struct Case {
    dir: tempfile::TempDir,
    name: &'static str,
}

const FLOW: &str = r#"id: fake
namespace: tests.fake
tasks:
  - id: only
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    timeout: PT1S
    commands:
      - echo hi
"#;

impl Case {
    fn new(name: &'static str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flow.yaml"), FLOW).unwrap();
        Case { dir, name }
    }

    fn command(&self) -> Command {
        let d = self.dir.path();
        let mut c = Command::new(env!("CARGO_BIN_EXE_dockhand"));
        c.arg("run")
            .arg(d.join("flow.yaml"))
            .arg("--json")
            .arg("--wait-removal")
            .args(["--engine".as_ref(), fake().as_os_str()])
            .arg("--state-dir")
            .arg(d.join("state"))
            .arg("--work-dir")
            .arg(d.join("work"))
            .env("FAKE_ENGINE_DIR", d)
            .env("FAKE_ENGINE_CASE", self.name)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKHAND_ENGINE")
            .stdin(Stdio::null());
        c
    }

    fn run(&self) -> Output {
        self.command().output().unwrap()
    }

    /// The engine subcommands dockhand ran, in order (global options left out).
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .split('\x1e')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let args: Vec<&str> = l.split('\x1f').collect();
                let mut i = 0;
                while i < args.len() && args[i].starts_with("--") {
                    i += if args[i].contains('=') { 1 } else { 2 };
                }
                args.get(i).copied().unwrap_or("").to_string()
            })
            .collect()
    }
}

fn task(out: &Output) -> Value {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON result ({e}); stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["tasks"][0].clone()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn success_runs_then_removes() {
    let c = Case::new("ok");
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = task(&out);
    assert_eq!(t["state"], "SUCCESS");
    assert_eq!(t["exitCode"], 0);
    assert_eq!(t["removal"], "removed");
    assert!(stderr(&out).contains("only | hello"), "{}", stderr(&out));
    assert_eq!(
        c.calls(),
        ["run", "rm"],
        "a simple task is two engine calls"
    );
}

#[test]
fn the_commands_own_failure_is_its_exit_code() {
    let c = Case::new("exit3");
    let out = c.run();
    assert_eq!(out.status.code(), Some(1));
    let t = task(&out);
    assert_eq!(t["state"], "FAILED");
    assert_eq!(t["exitCode"], 3);
    assert_eq!(t["failure"]["kind"], "exitCode", "{t}");
    assert!(stderr(&out).contains("only ! about to fail"));
}

#[test]
fn an_oom_kill_is_reported_as_one() {
    let c = Case::new("oom");
    let out = c.run();
    assert_eq!(out.status.code(), Some(1));
    let t = task(&out);
    assert_eq!(t["exitCode"], 137);
    assert_eq!(t["failure"]["kind"], "outOfMemory", "{t}");
    assert!(c.calls().contains(&"inspect".to_string()));
}

#[test]
fn a_kill_from_outside_is_not_the_commands_failure() {
    let c = Case::new("killed");
    let out = c.run();
    assert_eq!(out.status.code(), Some(1));
    let t = task(&out);
    assert_eq!(t["exitCode"], 137);
    let msg = t["message"].as_str().unwrap_or_default();
    assert!(msg.contains("killed by SIGKILL, not by dockhand"), "{msg}");
}

#[test]
fn a_refused_option_is_an_engine_error_in_the_engines_words() {
    let c = Case::new("bad-option");
    let out = c.run();
    assert_eq!(out.status.code(), Some(1));
    let t = task(&out);
    assert_eq!(t["failure"]["kind"], "engine", "{t}");
    let msg = t["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("invalid mount config"),
        "the engine's own line, not its --help hint: {msg}"
    );
}

#[test]
fn no_daemon_is_one_line_and_exit_3() {
    let c = Case::new("no-daemon");
    let out = c.run();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("dockhand: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("cannot reach its engine"), "{err}");
    // The first command failed, one `version` confirmed why; nothing else was tried.
    assert_eq!(c.calls(), ["run", "version"]);
    let entries = |sub: &str| {
        std::fs::read_dir(c.dir.path().join(sub))
            .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        entries("state/executions"),
        Vec::<std::ffi::OsString>::new(),
        "no journal is left for an execution that never reached an engine"
    );
    let work: Vec<_> = entries("work")
        .into_iter()
        .filter(|n| n != ".private")
        .collect();
    assert_eq!(
        work,
        Vec::<std::ffi::OsString>::new(),
        "no work directory is left"
    );
}

#[test]
fn an_engine_that_goes_away_mid_task_leaves_the_outcome_unknown() {
    let c = Case::new("lost");
    let started = Instant::now();
    let out = c.run();
    assert_eq!(out.status.code(), Some(1));
    let t = task(&out);
    assert_eq!(t["failure"]["kind"], "engine", "{t}");
    let msg = t["message"].as_str().unwrap_or_default();
    assert!(msg.contains("stopped answering"), "{msg}");
    // It waited for the engine to come back (30 s), asking again and again.
    assert!(started.elapsed() >= Duration::from_secs(25));
    assert!(c.calls().iter().filter(|s| *s == "inspect").count() > 5);
}

#[test]
fn a_timeout_kills_the_container_and_fails_the_task() {
    let c = Case::new("hang");
    let started = Instant::now();
    let out = c.run();
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(20));
    let t = task(&out);
    assert_eq!(t["failure"]["kind"], "timeout", "{t}");
    let calls = c.calls();
    assert!(
        calls.starts_with(&["run".to_string(), "kill".to_string()]),
        "killGracePeriod 0 means kill: {calls:?}"
    );
    assert_eq!(calls.last().map(String::as_str), Some("rm"));
}

#[test]
fn sigint_stops_the_container_and_exits_130() {
    let c = Case::new("hang");
    // No timeout this time: only the signal ends the run.
    std::fs::write(
        c.dir.path().join("flow.yaml"),
        FLOW.replace("    timeout: PT1S\n", ""),
    )
    .unwrap();
    let child = c.command().stdout(Stdio::piped()).spawn().unwrap();
    let pid_file = c.dir.path().join("run.pid");
    let until = Instant::now() + Duration::from_secs(20);
    while !pid_file.exists() {
        assert!(Instant::now() < until, "the fake run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let t = task(&out);
    assert_eq!(t["state"], "KILLED", "{t}");
    let calls = c.calls();
    assert!(calls.contains(&"kill".to_string()), "{calls:?}");
    assert_eq!(calls.last().map(String::as_str), Some("rm"));
}

#[test]
fn ps_lists_again_when_a_container_goes_between_its_two_calls() {
    let c = Case::new("vanish");
    let d = c.dir.path();
    let out = Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .arg("ps")
        .args(["--engine".as_ref(), fake().as_os_str()])
        .arg("--state-dir")
        .arg(d.join("state"))
        .env("FAKE_ENGINE_DIR", d)
        .env("FAKE_ENGINE_CASE", "vanish")
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dh-x-t-1"), "{text}");
    assert_eq!(c.calls(), ["ps", "inspect", "ps", "inspect"]);
}
