//! The executor's decisions driven through the real `dockhand` binary against a fake engine
//! (`tests/fake-engine/docker`, a script that answers as the docker CLI does and records its
//! argv). These run in plain `cargo test`, with no engine on the machine: a command's own
//! failure, an OOM kill, a kill from outside, a refused option, an engine that is not there,
//! one that goes away mid-task, a timeout and a cancel, a name clash; podman's dialect
//! (`tests/fake-engine/podman`); and the resume decisions after a crash (re-attach without
//! repeating lines, an exit code read instead of a rerun, `resume: false`'s new attempt); the
//! VOLUME files path (create, cp in, start --attach, cp back).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fake_named(engine: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fake-engine")
        .join(engine)
}

/// One scratch directory per case: the fake engine's record, state and work directories.
struct Case {
    dir: tempfile::TempDir,
    name: &'static str,
    /// `docker`, or `podman` (the same fake in podman's dialect).
    engine: &'static str,
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
        Case {
            dir,
            name,
            engine: "docker",
        }
    }

    fn podman(name: &'static str) -> Case {
        Case {
            engine: "podman",
            ..Case::new(name)
        }
    }

    fn flow(self, text: &str) -> Case {
        std::fs::write(self.dir.path().join("flow.yaml"), text).unwrap();
        self
    }

    fn command(&self) -> Command {
        self.command_with_engine(fake_named(self.engine).as_os_str())
    }

    fn command_with_engine(&self, engine: &std::ffi::OsStr) -> Command {
        let d = self.dir.path();
        let mut c = Command::new(env!("CARGO_BIN_EXE_dockhand"));
        c.arg("run")
            .arg(d.join("flow.yaml"))
            .args(["--engine".as_ref(), engine])
            .arg("--work-dir")
            .arg(d.join("work"));
        self.common(&mut c);
        c
    }

    /// `dockhand resume ID` in the fake engine's `case`.
    fn resume(&self, id: &str, case: &'static str) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dockhand"));
        c.arg("resume").arg(id);
        self.common(&mut c);
        c.env("FAKE_ENGINE_CASE", case).output().unwrap()
    }

    fn common(&self, c: &mut Command) {
        let d = self.dir.path();
        c.arg("--json")
            .arg("--wait-removal")
            .arg("--state-dir")
            .arg(d.join("state"))
            .env("FAKE_ENGINE_DIR", d)
            .env("FAKE_ENGINE_CASE", self.name)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKHAND_ENGINE")
            .stdin(Stdio::null());
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
fn an_engine_path_relative_to_the_callers_directory_is_found_by_every_task() {
    // Engine commands run in each task's working directory; a relative `--engine` names the
    // file seen from where dockhand was started.
    let c = Case::new("ok");
    let mut cmd = c.command_with_engine("tests/fake-engine/docker".as_ref());
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(task(&out)["state"], "SUCCESS");
    assert_eq!(c.calls(), ["run", "rm"]);
}

#[test]
fn a_script_tasks_outputs_carry_its_exit_code_as_kestras_script_output() {
    let c = Case::new("ok").flow(
        r#"id: code
namespace: tests.fake
tasks:
  - {id: only, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [echo hi]}
  - {id: ret, type: io.kestra.plugin.core.debug.Return, format: "code {{ outputs.only.exitCode }}"}
"#,
    );
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = result(&out);
    assert_eq!(r["tasks"][1]["outputs"]["value"], "code 0", "{r}");
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
    for c in [Case::new("no-daemon"), Case::podman("no-daemon")] {
        no_daemon(c);
    }
}

fn no_daemon(c: Case) {
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
    // (Podman looks the image up first.)
    let calls: Vec<String> = c.calls().into_iter().filter(|s| s != "image").collect();
    assert_eq!(calls, ["run", "version"], "{}", c.engine);
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
        .args(["--engine".as_ref(), fake_named("docker").as_os_str()])
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

#[test]
fn a_name_clash_is_reported_and_the_other_container_left_alone() {
    for c in [Case::new("clash"), Case::podman("clash")] {
        let out = c.run();
        assert_eq!(out.status.code(), Some(1), "{}: {}", c.engine, stderr(&out));
        let t = task(&out);
        assert_eq!(t["failure"]["kind"], "engine", "{t}");
        let msg = t["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("a container named dh-") && msg.contains("already exists"),
            "{}: {msg}",
            c.engine
        );
        // Someone else's container: neither inspected nor removed (podman first looks the
        // image up).
        let calls: Vec<String> = c.calls().into_iter().filter(|s| s != "image").collect();
        assert_eq!(calls, ["run"], "{}", c.engine);
    }
}

/// The flow with a runner block in place of its timeout (`None`: no timeout, no runner).
fn flow_with(runner: Option<&str>) -> String {
    let block = runner.map_or(String::new(), |r| {
        format!("    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n{r}")
    });
    FLOW.replace("    timeout: PT1S\n", &block)
}

#[test]
fn a_sigkill_under_a_memory_limit_is_likely_oom_on_podman_only() {
    // Podman on cgroup v1 does not report OOM kills: the guess is its alone.
    let c = Case::podman("killed").flow(&flow_with(Some("      memory:\n        memory: 64MB\n")));
    let out = c.run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let t = task(&out);
    assert_eq!(t["failure"]["kind"], "outOfMemory", "{t}");
    assert_eq!(t["failure"]["confirmed"], false, "{t}");
    // Docker reports them: the same 137 there is a kill from outside.
    let c = Case::new("killed").flow(&flow_with(Some("      memory:\n        memory: 64MB\n")));
    let t = task(&c.run());
    assert_eq!(t["failure"]["kind"], "exitCode", "{t}");
}

/// Runs the hanging case, then kills dockhand with SIGKILL (a crash): the journal shows the
/// task running. Returns the execution id.
fn crash(c: &Case) -> String {
    let mut child = c.command().stdout(Stdio::null()).spawn().unwrap();
    let pid_file = c.dir.path().join("run.pid");
    let until = Instant::now() + Duration::from_secs(20);
    while !pid_file.exists() {
        assert!(Instant::now() < until, "the fake run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the progress record of the first line reach the journal.
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    let sleeper: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    unsafe { libc::kill(sleeper, libc::SIGKILL) };
    std::fs::remove_file(&pid_file).unwrap();
    std::fs::remove_file(c.dir.path().join("calls")).unwrap();
    let journal = std::fs::read_dir(c.dir.path().join("state/executions"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
        .expect("a journal");
    journal
        .file_name()
        .to_string_lossy()
        .trim_end_matches(".jsonl")
        .to_string()
}

#[test]
fn resume_reattaches_to_a_running_container_without_repeating_lines() {
    let c = Case::new("hang").flow(&flow_with(None));
    let id = crash(&c);
    let out = c.resume(&id, "resume-running");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("re-attaching"), "{err}");
    assert!(err.contains("only | more"), "{err}");
    assert!(
        !err.contains("only | started"),
        "a line shown before the crash is not shown again: {err}"
    );
    let calls = c.calls();
    assert!(
        !calls.contains(&"run".to_string()),
        "not run twice: {calls:?}"
    );
    assert!(calls.contains(&"logs".to_string()), "{calls:?}");
    assert_eq!(task(&out)["state"], "SUCCESS");
}

#[test]
fn resume_reads_the_exit_code_of_a_container_that_ended_meanwhile() {
    let c = Case::new("hang").flow(&flow_with(None));
    let id = crash(&c);
    let out = c.resume(&id, "resume-exited");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let t = task(&out);
    assert_eq!(t["exitCode"], 4, "{t}");
    assert!(!c.calls().contains(&"run".to_string()), "{:?}", c.calls());
}

#[test]
fn resume_false_removes_the_stale_container_and_starts_attempt_2() {
    let c = Case::new("hang").flow(&flow_with(Some("      resume: false\n")));
    let id = crash(&c);
    let out = c.resume(&id, "resume-stale");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The engine is asked for its version first (resume checks the engine it continues on).
    let calls = c.calls();
    assert_eq!(calls, ["version", "ps", "rm", "run", "rm"]);
    assert!(!calls.contains(&"inspect".to_string()), "{calls:?}");
    let t = task(&out);
    assert!(
        t["container"].as_str().unwrap_or_default().ends_with("-2"),
        "{t}"
    );
}

#[test]
fn volume_files_go_in_by_cp_and_come_back_by_cp() {
    let c = Case::new("files").flow(&FLOW.replace(
        "    timeout: PT1S\n",
        "    inputFiles:\n      data.csv: hello input\n    outputFiles:\n      - \"*.txt\"\n",
    ));
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(c.calls(), ["create", "cp", "start", "cp", "rm"]);
    let tar = std::fs::read(c.dir.path().join("in.tar")).unwrap();
    let tar = String::from_utf8_lossy(&tar);
    assert!(
        tar.contains("data.csv") && tar.contains("hello input"),
        "the input file went in the archive"
    );
    let t = task(&out);
    assert!(stderr(&out).contains("only | ran"), "{}", stderr(&out));
    let files = t["outputFiles"].to_string();
    assert!(files.contains("out.txt"), "{t}");
    assert!(!files.contains("data.csv"), "only what the glob names: {t}");
}

// ------------------------------------------------------------------------------ flow control

/// The whole `--json` result.
fn result(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON result ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Each result as `id[values] STATE`, in the order reported.
fn runs(out: &Output) -> Vec<String> {
    result(out)["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let values: String = t["values"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| format!("[{}]", v.as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{}{values} {}",
                t["id"].as_str().unwrap(),
                t["state"].as_str().unwrap()
            )
        })
        .collect()
}

impl Case {
    /// The `--name` of every `run` call, in order.
    fn run_names(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .split('\x1e')
            .filter_map(|l| {
                let args: Vec<&str> = l.split('\x1f').collect();
                let i = args.iter().position(|a| *a == "--name")?;
                args.contains(&"run").then(|| args[i + 1].to_string())
            })
            .collect()
    }
}

const BRANCHES: &str = r#"id: branches
namespace: tests.fake
tasks:
  - id: yes
    type: io.kestra.plugin.core.flow.If
    condition: "{{ 1 == 1 }}"
    then:
      - {id: then_a, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
    else:
      - {id: else_a, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
  - id: no
    type: io.kestra.plugin.core.flow.If
    condition: "0"
    then:
      - {id: then_b, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
    else:
      - {id: else_b, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
  - id: sw
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ 'b' }}"
    cases:
      a: [{id: case_a, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}]
      b: [{id: case_b, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}]
    defaults: [{id: dflt, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}]
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, a, 7]
    tasks:
      - {id: item, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: ["{{ taskrun.value }}"]}
      - {id: odd, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, runIf: "{{ taskrun.value == 'b' }}", commands: [x]}
  - id: graph
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task: {id: last, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
        dependsOn: [first]
      - task: {id: first, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
  - {id: off, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, disabled: true, commands: [x]}
"#;

/// If, Switch, ForEach (repeated values run once), runIf, Dag order and `disabled`, decided
/// without an engine: the containers made are those of the branches Kestra takes.
#[test]
fn flow_control_takes_kestras_branches() {
    let c = Case::new("ok").flow(BRANCHES);
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = result(&out)["executionId"].as_str().unwrap().to_string();
    let names: Vec<String> = c
        .run_names()
        .iter()
        .map(|n| n.trim_start_matches(&format!("dh-{id}-")).to_string())
        .collect();
    assert_eq!(
        names,
        [
            "then_a-1", "else_b-1", "case_b-1", "item.0-1", "item.1-1", "odd.1-1", "item.2-1",
            "first-1", "last-1"
        ]
    );
    assert_eq!(
        runs(&out),
        [
            "then_a SUCCESS",
            "yes SUCCESS",
            "else_b SUCCESS",
            "no SUCCESS",
            "case_b SUCCESS",
            "sw SUCCESS",
            "item[a] SUCCESS",
            "odd[a] SKIPPED",
            "item[b] SUCCESS",
            "odd[b] SUCCESS",
            "item[7] SUCCESS",
            "odd[7] SKIPPED",
            "each SUCCESS",
            "first SUCCESS",
            "last SUCCESS",
            "graph SUCCESS",
            "off SKIPPED",
        ]
    );
}

const FAILING_EACH: &str = r#"id: failing
namespace: tests.fake
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    tasks:
      - {id: item, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
      - {id: bad, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, runIf: "{{ taskrun.value == 'b' }}", commands: [x]}
    errors:
      - {id: local_handler, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
  - {id: after, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
  - id: tolerant
    type: io.kestra.plugin.core.flow.AllowFailure
    tasks:
      - {id: never, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
errors:
  - {id: handler, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
finally:
  - {id: cleanup, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}
"#;

/// The second value fails: the third never starts, the local and the flow's errors run, then
/// finally; the flow is FAILED although every handler succeeded; the tasks after are SKIPPED.
#[test]
fn a_failing_value_stops_the_foreach_and_runs_the_handlers() {
    let c = Case::new("by-name").flow(FAILING_EACH);
    let out = c.run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(result(&out)["state"], "FAILED");
    assert_eq!(
        runs(&out),
        [
            "item[a] SUCCESS",
            "bad[a] SKIPPED",
            "item[b] SUCCESS",
            "bad[b] FAILED",
            "local_handler SUCCESS",
            "each FAILED",
            "handler SUCCESS",
            "cleanup SUCCESS",
            "after SKIPPED",
        ]
    );
}

/// A task failing until its third attempt: three containers (`-1`, `-2`, `-3`), SUCCESS with
/// `attempts: 3`; with `warningOnRetry` the success is WARNING; with `maxAttempts: 2` it stays
/// FAILED after two.
#[test]
fn retry_makes_a_new_attempt_until_one_succeeds() {
    for (retry, state, attempts) in [
        (
            "{type: constant, interval: PT0.1S, maxAttempts: 5}",
            "SUCCESS",
            3,
        ),
        (
            "{type: constant, interval: PT0.1S, maxAttempt: 5, warningOnRetry: true}",
            "WARNING",
            3,
        ),
        (
            "{type: exponential, interval: PT0.1S, maxInterval: PT0.2S, maxAttempts: 2}",
            "FAILED",
            2,
        ),
    ] {
        let c = Case::new("third").flow(&format!(
            "id: retried\nnamespace: tests.fake\ntasks:\n  - {{id: flaky, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, retry: {retry}, commands: [x]}}\n"
        ));
        let out = c.run();
        let t = task(&out);
        assert_eq!(t["state"], state, "{retry}\n{}", stderr(&out));
        assert_eq!(t["attempts"], attempts, "{retry}");
        let names = c.run_names();
        assert_eq!(names.len(), attempts as usize, "{names:?}");
        for (i, n) in names.iter().enumerate() {
            assert!(n.ends_with(&format!("-flaky-{}", i + 1)), "{names:?}");
        }
        assert_eq!(runs(&out).len(), 1, "a retried task is reported once");
    }
}

/// A ForEach over 1,000 values runs each value once and stays quick: the walk itself (runs
/// skipped by `runIf`, no engine) and 100 runs through the fake engine.
#[test]
fn a_foreach_over_many_values_is_quick() {
    let values: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let c = Case::new("ok").flow(&format!(
        "id: many\nnamespace: tests.fake\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [{}]\n    tasks:\n      - {{id: t, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, runIf: \"{{{{ taskrun.value == 'none' }}}}\", commands: [x]}}\n",
        values.join(", ")
    ));
    let started = Instant::now();
    let out = c.run();
    let walk = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(runs(&out).len(), 1001);
    assert!(c.run_names().is_empty());
    let values: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let c = Case::new("ok").flow(&format!(
        "id: many\nnamespace: tests.fake\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [{}]\n    concurrencyLimit: 4\n    tasks:\n      - {{id: t, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}}\n",
        values.join(", ")
    ));
    let started = Instant::now();
    let out = c.run();
    let hundred = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = runs(&out);
    assert_eq!(r.len(), 101);
    assert!(r.iter().all(|r| r.ends_with(" SUCCESS")), "{r:?}");
    eprintln!(
        "ForEach: 1000 skipped runs in {walk:.2?}; 100 fake-engine runs (limit 4) in {hundred:.2?}"
    );
    assert!(walk < Duration::from_secs(5), "{walk:?}");
}

impl Case {
    /// The containers named by each `rm` call, one list per call, in order.
    fn rm_calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .split('\x1e')
            .filter_map(|l| {
                let args: Vec<&str> = l.split('\x1f').collect();
                let i = args.iter().position(|a| *a == "rm")?;
                let mut names = Vec::new();
                let mut rest = args[i + 1..].iter();
                while let Some(a) = rest.next() {
                    if *a == "--time" {
                        rest.next();
                    } else if !a.starts_with("--") {
                        names.push(a.to_string());
                    }
                }
                Some(names)
            })
            .collect()
    }
}

/// 100 containers of a ForEach at `concurrencyLimit: 4` are removed in a few shared `rm` calls
/// (held a short while for others, `exec::removals`), not one client process each; every
/// container is still removed exactly once, each with its own `removed` outcome.
#[test]
fn many_finished_containers_share_a_few_rm_calls() {
    for engine in ["docker", "podman"] {
        let values: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let c = Case {
            engine,
            ..Case::new("ok")
        }
        .flow(&format!(
            "id: many\nnamespace: tests.fake\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [{}]\n    concurrencyLimit: 4\n    tasks:\n      - {{id: t, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}}\n",
            values.join(", ")
        ));
        let out = c.run();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let tasks = result(&out)["tasks"].as_array().unwrap().clone();
        let runs: Vec<&Value> = tasks.iter().filter(|t| t["id"] == "t").collect();
        assert_eq!(runs.len(), 100);
        for t in &runs {
            assert_eq!(t["removal"], "removed", "{engine}: {t}");
        }
        let rms = c.rm_calls();
        let mut removed: Vec<String> = rms.concat();
        removed.sort();
        let mut made = c.run_names();
        made.sort();
        assert_eq!(made.len(), 100, "{engine}");
        assert_eq!(
            removed, made,
            "{engine}: each container removed exactly once"
        );
        assert!(
            rms.len() <= 15,
            "{engine}: {} rm calls for 100 containers: {:?}",
            rms.len(),
            rms.iter().map(Vec::len).collect::<Vec<_>>()
        );
        eprintln!(
            "{engine}: {} rm calls for 100 containers ({:?} each)",
            rms.len(),
            rms.iter().map(Vec::len).collect::<Vec<_>>()
        );
    }
}

/// A flowable's `timeout` bounds what runs below it: the running container is stopped as on its
/// own timeout (FAILED), the tasks after it in the flowable do not start, and the flowable is
/// FAILED.
#[test]
fn a_flowable_timeout_stops_its_children() {
    let c = Case::new("hang").flow(
        "id: bounded\nnamespace: tests.fake\ntasks:\n  - id: group\n    type: io.kestra.plugin.core.flow.AllowFailure\n    timeout: PT1S\n    tasks:\n      - {id: slow, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}\n      - {id: next, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}\n",
    );
    let started = Instant::now();
    let out = c.run();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{}",
        stderr(&out)
    );
    // AllowFailure turns the failure into WARNING, and the flow goes on.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(runs(&out), ["slow FAILED", "group WARNING"]);
    let slow = task(&out);
    assert_eq!(slow["failure"]["kind"], "timeout", "{slow}");
    assert!(c.calls().contains(&"kill".to_string()) || c.calls().contains(&"stop".to_string()));
}

/// The flow's `retry` applies to a task without one of its own (RETRY_FAILED_TASK); a task's
/// own retry wins.
#[test]
fn the_flows_retry_applies_to_tasks_without_their_own() {
    let c = Case::new("third").flow(
        "id: flow_retry\nnamespace: tests.fake\nretry: {type: constant, interval: PT0.1S, maxAttempts: 3}\ntasks:\n  - {id: inherits, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: [x]}\n  - {id: own, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, allowFailure: true, retry: {type: constant, interval: PT0.1S, maxAttempts: 1}, commands: [x]}\n",
    );
    let out = c.run();
    let r = result(&out);
    let tasks = r["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["state"], "SUCCESS", "{}", stderr(&out));
    assert_eq!(tasks[0]["attempts"], 3);
    assert_eq!(tasks[1]["state"], "WARNING");
    assert_eq!(tasks[1]["attempts"], 1);
}

/// `timeout` is Kestra's `Property<Duration>`: a template is rendered when the task starts and
/// bounds the task as a written one does; one that renders to no duration fails the task with
/// an error naming the property, the template and what it rendered as, and starts no container.
#[test]
fn a_templated_timeout_is_rendered_when_the_task_starts() {
    let flow = |t: &str| {
        format!(
            "id: fake\nnamespace: tests.fake\ninputs:\n  - {{id: secs, type: INT, defaults: 1}}\ntasks:\n  - id: only\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: busybox\n    timeout: \"{t}\"\n    commands:\n      - echo hi\n"
        )
    };
    let c = Case::new("hang").flow(&flow("PT{{ inputs.secs }}S"));
    let started = Instant::now();
    let out = c.run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(20));
    let t = task(&out);
    assert_eq!(t["failure"]["kind"], "timeout", "{t}");
    assert!(c.calls().contains(&"kill".to_string()), "{:?}", c.calls());

    let c = Case::new("hang").flow(&flow("{{ inputs.secs }} seconds"));
    let out = c.run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let t = task(&out);
    let message = t["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`timeout`: expected an ISO-8601 duration")
            && message.contains("but `{{ inputs.secs }} seconds` rendered as `1 seconds`"),
        "{t}"
    );
    assert!(!c.calls().contains(&"run".to_string()), "{:?}", c.calls());
}

/// A task that runs many times (inside ForEach, nested too) is reported once per run with its
/// values, in `--json` and in the summary table (`t[x][1]`): container tasks and in-process ones
/// alike, each run under its own id (`echo.0.1` names its container).
#[test]
fn each_run_of_a_task_in_a_foreach_is_reported_once_with_its_values() {
    let c = Case::new("ok").flow(
        r#"id: nested
namespace: tests.fake
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: [x, y]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: ["1", "2"]
        concurrencyLimit: 2
        tasks:
          - {id: echo, type: io.kestra.plugin.scripts.shell.Commands, containerImage: busybox, commands: ["echo {{ parent.taskrun.value }}{{ taskrun.value }}"]}
          - {id: say, type: io.kestra.plugin.core.log.Log, message: "say {{ parent.taskrun.value }}{{ taskrun.value }}"}
          - {id: ret, type: io.kestra.plugin.core.debug.Return, format: "{{ parent.taskrun.value }}-{{ taskrun.value }}"}
  - {id: after, type: io.kestra.plugin.core.log.Log, message: "{{ outputs.ret.x['1'].value }} {{ outputs.ret.y['2'].value }}"}
"#,
    );
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut got = runs(&out);
    // The inner values run side by side: each run once, in either order.
    got.sort();
    let mut want: Vec<String> = ["x", "y"]
        .iter()
        .flat_map(|o| {
            ["1", "2"]
                .iter()
                .flat_map(move |i| ["echo", "say", "ret"].map(|t| format!("{t}[{o}][{i}] SUCCESS")))
        })
        .chain(
            [
                "inner[x] SUCCESS",
                "inner[y] SUCCESS",
                "outer SUCCESS",
                "after SUCCESS",
            ]
            .map(String::from),
        )
        .collect();
    want.sort();
    assert_eq!(got, want);
    let r = result(&out);
    let ret: Vec<(Value, Value)> = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == "ret")
        .map(|t| (t["values"].clone(), t["outputs"]["value"].clone()))
        .collect();
    assert_eq!(ret.len(), 4);
    for (values, value) in ret {
        let v: Vec<&str> = values
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(value, serde_json::json!(v.join("-")));
    }
    let err = stderr(&out);
    for line in ["say.0.0 | say x1", "say.1.1 | say y2", "after | x-1 y-2"] {
        assert!(err.contains(line), "{line}\n{err}");
    }
    let id = r["executionId"].as_str().unwrap().to_string();
    let mut names: Vec<String> = c
        .run_names()
        .iter()
        .map(|n| n.trim_start_matches(&format!("dh-{id}-")).to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["echo.0.0-1", "echo.0.1-1", "echo.1.0-1", "echo.1.1-1"]
    );
}

/// `containerImage` and the runner's `user` written as templates (Kestra's Property<String>)
/// are rendered when the task starts and reach the engine's argv as their values.
#[test]
fn a_templated_image_and_user_reach_the_engine_argv() {
    // docker Run copies its working directory in and out: the fake's `files` case.
    let c = Case::new("files").flow(
        r#"id: fake
namespace: tests.fake
inputs:
  - id: img
    type: STRING
    defaults: busybox
  - id: uid
    type: INT
    defaults: 1234
tasks:
  - id: only
    type: io.kestra.plugin.docker.cli.Run
    containerImage: "{{ inputs.img ~ ':templated' }}"
    user: "{{ inputs.uid }}:{{ 1000 + 1 }}"
    commands:
      - echo hi
"#,
    );
    let out = c.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let calls = std::fs::read_to_string(c.dir.path().join("calls")).unwrap();
    let run: Vec<&str> = calls
        .split('\x1e')
        .find(|l| l.split('\x1f').any(|a| a == "run" || a == "create"))
        .expect("a run or create call")
        .split('\x1f')
        .collect();
    let after = |flag: &str| {
        run.iter()
            .position(|a| *a == flag)
            .map(|i| run[i + 1])
            .unwrap_or_else(|| panic!("no {flag} in {run:?}"))
    };
    assert_eq!(after("--user"), "1234:1001", "{run:?}");
    assert!(run.contains(&"busybox:templated"), "{run:?}");
    assert!(
        !calls.contains("{{"),
        "no template reaches the engine: {run:?}"
    );
}
