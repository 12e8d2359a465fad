//! Tasks with Kestra's Process task runner (`io.kestra.plugin.core.runner.Process`), run by the
//! real binary with no engine at all (`DOCKHAND_ENGINE` names a CLI that does not exist): the
//! environment they get, outputs, input and output files, exit codes, and that a timeout or a
//! Ctrl-C stops the task's whole process group, leaving no process behind.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Run, Spawned, random_hex};

/// A test's directory: flows, work dir and state dir.
struct Host {
    tmp: tempfile::TempDir,
    id: String,
}

impl Host {
    fn new(test: &str) -> Host {
        let id = format!("{test}-{}", random_hex(4));
        let tmp = tempfile::Builder::new()
            .prefix(&format!("dockhand-host-{id}-"))
            .tempdir()
            .unwrap();
        Host { tmp, id }
    }

    /// Writes flow `id` of namespace dev.test with `tasks`; see [`Host::flow`].
    fn flow_of(&self, id: &str, tasks: &str) -> PathBuf {
        self.flow(&format!("id: {id}\nnamespace: dev.test\ntasks:\n{tasks}"))
    }

    /// Writes the flow; a line `    PROCESS` stands for a task's Process `taskRunner`, and
    /// `    ON_HOST` for a shell Commands task with it.
    fn flow(&self, yaml: &str) -> PathBuf {
        let yaml = &yaml
            .replace(
                "    ON_HOST\n",
                "    type: io.kestra.plugin.scripts.shell.Commands\n    PROCESS\n",
            )
            .replace(
                "    PROCESS\n",
                "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n",
            );
        let p = self.tmp.path().join("flow.yaml");
        std::fs::write(&p, yaml).unwrap();
        common::assert_schema_accepts(&p.display().to_string(), yaml);
        p
    }

    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    fn args(&self, flow: &Path) -> Vec<String> {
        vec![
            "run".into(),
            flow.display().to_string(),
            "--execution-id".into(),
            self.id.clone(),
            "--work-dir".into(),
            self.work().display().to_string(),
            "--json".into(),
        ]
    }

    /// No engine CLI exists: a task that needed one could not run.
    fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let state = self.tmp.path().join("state").display().to_string();
        let mut v = vec![
            ("DOCKHAND_STATE_DIR".to_string(), state),
            (
                "DOCKHAND_ENGINE".to_string(),
                "/nonexistent/no-engine/docker".to_string(),
            ),
        ];
        v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
        v
    }

    fn spawn(&self, flow: &Path, extra: &[(&str, &str)]) -> Spawned {
        Spawned::start(&self.args(flow), &self.env(extra))
    }

    fn run(&self, flow: &Path, extra: &[(&str, &str)]) -> Run {
        self.spawn(flow, extra).finish(Duration::from_secs(60))
    }
}

/// A number no other test's `sleep` uses: `sleep TOKEN` finds this test's processes.
fn token(prefix: u32) -> String {
    format!(
        "{prefix}{}",
        u32::from_str_radix(&random_hex(2), 16).unwrap()
    )
}

/// Pids of live processes whose command line holds `token`.
fn processes_with(token: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        // A zombie has an empty command line: it is not running.
        if String::from_utf8_lossy(&cmd).contains(token) {
            found.push(pid);
        }
    }
    found
}

/// Waits up to `limit` for no process to hold `token`; the ones still there.
fn gone_within(token: &str, limit: Duration) -> Vec<u32> {
    let until = Instant::now() + limit;
    loop {
        let left = processes_with(token);
        if left.is_empty() || Instant::now() > until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn runs_on_the_host_with_env_outputs_and_files() {
    let h = Host::new("env");
    let flow = h.flow_of(
        "host_env",
        r#"  - id: first
    ON_HOST
    env:
      GREETING: "hello {{ flow.id }}"
    inputFiles:
      in/data.txt: "payload-42"
    outputFiles:
      - "*.txt"
    commands:
      - echo "greeting=$GREETING"
      - echo "wd=$WORKING_DIR pwd=$(pwd) tpl={{ workingDir }}"
      - echo "inherited=$FROM_DOCKHAND secret=${SECRET_API_KEY:-unset}"
      - echo "data=$(cat in/data.txt)"
      - echo '::{"outputs":{"answer":42,"who":"host"}}::'
      - printf 'result' > result.txt
      - printf 'not-an-output' > other.bin
  - id: second
    type: io.kestra.plugin.scripts.shell.Commands
    runner: PROCESS
    commands:
      - echo "answer={{ outputs.first.vars.answer }} who={{ outputs.first.vars.who }}"
"#,
    );
    let r = h.run(
        &flow,
        &[
            ("FROM_DOCKHAND", "yes-inherited"),
            ("SECRET_API_KEY", "c2VjcmV0"),
        ],
    );
    r.assert_code(0);
    let wd = h.work().join(&h.id).join("first");
    let wd = wd.display();
    assert!(r.stderr.contains("greeting=hello host_env"), "{}", r.dump());
    assert!(
        r.stderr.contains(&format!("wd={wd} pwd={wd} tpl={wd}")),
        "{}",
        r.dump()
    );
    // The host's environment is inherited, but not dockhand's secret store.
    assert!(
        r.stderr.contains("inherited=yes-inherited secret=unset"),
        "{}",
        r.dump()
    );
    assert!(r.stderr.contains("data=payload-42"), "{}", r.dump());
    assert!(
        !r.stderr.contains("::{"),
        "an outputs line is not logged\n{}",
        r.dump()
    );
    let first = r.task("first");
    assert_eq!(first["state"], "SUCCESS");
    assert_eq!(first["container"], serde_json::Value::Null);
    assert_eq!(first["outputs"]["answer"], 42);
    let files: Vec<String> = first["outputFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, vec![format!("{wd}/result.txt")], "{}", r.dump());
    assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), "result");
    // The rest of the working directory is gone, as Kestra removes it.
    assert!(!Path::new(&format!("{wd}/other.bin")).exists());
    assert!(!Path::new(&format!("{wd}/in/data.txt")).exists());
    assert!(
        r.stderr.contains("answer=42 who=host"),
        "the next task reads the outputs\n{}",
        r.dump()
    );
    assert_eq!(r.task("second")["state"], "SUCCESS");
}

#[test]
fn a_failing_command_fails_the_task_with_its_exit_code() {
    let h = Host::new("fail");
    let flow = h.flow_of(
        "host_fail",
        r#"  - id: bad
    ON_HOST
    commands:
      - echo before
      - exit 3
      - echo never
  - id: after
    ON_HOST
    commands:
      - echo after
"#,
    );
    let r = h.run(&flow, &[]);
    r.assert_code(1);
    let bad = r.task("bad");
    assert_eq!(bad["state"], "FAILED");
    assert_eq!(bad["exitCode"], 3);
    assert!(r.stderr.contains("before"));
    assert!(!r.stderr.contains("never"), "{}", r.dump());
    assert_eq!(r.task("after")["state"], "SKIPPED");
}

/// A task that starts background processes (one ignoring SIGTERM) and times out: the whole
/// process group is gone when dockhand returns.
#[test]
fn a_timeout_stops_the_whole_process_group() {
    let h = Host::new("timeout");
    let token = token(31);
    let flow = h.flow_of(
        "host_timeout",
        &format!(
            r#"  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    timeout: PT1S
    PROCESS
    commands:
      - sleep {token} &
      - sh -c 'trap "" TERM; sleep {token}.5' &
      - echo started
      - sleep {token}.25
"#
        ),
    );
    let r = h.run(&flow, &[]);
    r.assert_code(1);
    let slow = r.task("slow");
    assert_eq!(slow["state"], "FAILED", "{}", r.dump());
    assert!(
        slow["message"]
            .as_str()
            .unwrap()
            .starts_with("timed out after 1.0 s"),
        "{}",
        r.dump()
    );
    // Even the one ignoring SIGTERM: SIGKILL follows within the grace period, before dockhand
    // returns.
    assert!(
        processes_with(&format!("sleep {token}")).is_empty(),
        "processes left: {:?}\n{}",
        processes_with(&format!("sleep {token}")),
        r.dump()
    );
    assert!(
        r.elapsed < Duration::from_secs(15),
        "took {:?}\n{}",
        r.elapsed,
        r.dump()
    );
}

/// Ctrl-C while a Process task runs: the task is KILLED, dockhand exits 130, nothing is left.
#[test]
fn sigint_cancels_the_task_and_its_children() {
    let h = Host::new("cancel");
    let token = token(32);
    let flow = h.flow_of(
        "host_cancel",
        &format!(
            r#"  - id: long
    ON_HOST
    commands:
      - sleep {token} &
      - echo ready
      - sleep {token}.5
"#
        ),
    );
    let s = h.spawn(&flow, &[]);
    assert!(
        s.wait_line(Duration::from_secs(30), |l| l.ends_with("ready")),
        "{}",
        s.stderr_so_far()
    );
    assert!(!processes_with(&format!("sleep {token}")).is_empty());
    s.signal(libc::SIGINT);
    let r = s.finish(Duration::from_secs(30));
    r.assert_code(130);
    assert_eq!(r.task("long")["state"], "KILLED", "{}", r.dump());
    let left = gone_within(&format!("sleep {token}"), Duration::from_secs(1));
    assert!(left.is_empty(), "processes left: {left:?}\n{}", r.dump());
}

/// A command holding a secret reaches the process through a private file, never its argv.
#[test]
fn a_secret_is_not_in_the_process_argv() {
    let h = Host::new("secret");
    let flow = h.flow(
        r#"id: host_secret
namespace: dev.test
inputs:
  - id: token
    type: SECRET
tasks:
  - id: s
    ON_HOST
    commands:
      - 'test "{{ inputs.token }}" = "tok-5e3c7a91" && echo matched'
      - tr '\0' ' ' < /proc/$$/cmdline; echo
"#,
    );
    let mut args = h.args(&flow);
    args.extend(["--input".to_string(), "token=tok-5e3c7a91".to_string()]);
    let r = Spawned::start(&args, &h.env(&[])).finish(Duration::from_secs(60));
    r.assert_code(0);
    assert!(r.stderr.contains("matched"), "{}", r.dump());
    assert!(r.stderr.contains("/bin/sh -c . "), "{}", r.dump());
    assert!(!r.stderr.contains("tok-5e3c7a91"), "{}", r.dump());
    assert!(!r.stdout.contains("tok-5e3c7a91"), "{}", r.dump());
}

/// dockhand killed (SIGKILL) while a Process task runs: its process group lives on (its own
/// session). `resume` kills what is left of it and runs the task again, as Kestra recreates a
/// Process task after a worker restart; the next task then runs.
#[test]
fn resume_kills_the_leftover_group_and_runs_the_task_again() {
    let h = Host::new("resume");
    let token = token(33);
    let runs = h.tmp.path().join("runs.txt");
    let flow = h.flow_of(
        "host_resume",
        &format!(
            r#"  - id: long
    ON_HOST
    commands:
      - echo run >> {runs}
      - echo ready
      - 'if [ "$(wc -l < {runs})" -eq 1 ]; then sleep {token}; fi'
  - id: after
    ON_HOST
    commands:
      - echo after ran
"#,
            runs = runs.display()
        ),
    );
    let mut s = h.spawn(&flow, &[]);
    assert!(
        s.wait_line(Duration::from_secs(30), |l| l.ends_with("ready")),
        "{}",
        s.stderr_so_far()
    );
    s.signal(libc::SIGKILL);
    s.wait_for(Duration::from_secs(10)).expect("dockhand exits");
    // Not killed with dockhand: its own session.
    assert!(!processes_with(&format!("sleep {token}")).is_empty());
    let args = vec!["resume".to_string(), h.id.clone(), "--json".to_string()];
    let r = Spawned::start(&args, &h.env(&[])).finish(Duration::from_secs(60));
    r.assert_code(0);
    assert!(
        r.stderr
            .contains("cannot be re-attached; it runs again (attempt 2)"),
        "{}",
        r.dump()
    );
    assert!(
        r.stderr.contains("killed the process group"),
        "{}",
        r.dump()
    );
    assert_eq!(r.task("long")["state"], "SUCCESS", "{}", r.dump());
    assert!(r.stderr.contains("after ran"), "{}", r.dump());
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\nrun\n");
    // Journaled as the new attempt.
    let journal = std::fs::read_to_string(
        h.tmp
            .path()
            .join(format!("state/executions/{}.jsonl", h.id)),
    )
    .unwrap();
    assert!(
        journal.lines().any(|l| l.contains(r#""t":"task_end""#)
            && l.contains(r#""task":"long""#)
            && l.contains(r#""attempt":2"#)),
        "{journal}"
    );
    let left = gone_within(&format!("sleep {token}"), Duration::from_secs(2));
    assert!(left.is_empty(), "processes left: {left:?}\n{}", r.dump());
}
