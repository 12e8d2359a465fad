//! The `dockhand` binary against hostile or unusual input and output: a flow built to exhaust
//! memory is refused quickly under a memory limit, and a reader that closes stdout early (`| head
//! -1`) ends the command quietly instead of a panic.

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{flow, task};

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `dockhand ARGS` from the crate root with its address space limited to `limit_bytes`: an
/// allocation past it fails, and Rust aborts the process (a signal, no exit code).
fn limited(args: &[&str], limit_bytes: u64) -> (Option<i32>, String, Duration) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit_bytes,
                rlim_max: limit_bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let out = cmd.output().expect("run dockhand");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn billion_laughs_is_refused_quickly_with_bounded_memory() {
    // 867 bytes whose aliases would expand to 10^9 strings if copied.
    let (code, stderr, took) = limited(
        &["validate", "fixtures/invalid/billion-laughs.yaml"],
        512 << 20,
    );
    assert_eq!(code, Some(2), "stderr:\n{stderr}");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} to refuse it:\n{stderr}"
    );
    // The alias that crosses the limit is on line 10 (a5's list).
    assert!(
        stderr.starts_with("fixtures/invalid/billion-laughs.yaml:10:"),
        "the error names no line: {stderr}"
    );
    assert!(stderr.contains("billion laughs"), "{stderr}");
    // `plan` and `run` read the file the same way (no engine is needed to refuse it).
    for args in [
        &["plan", "fixtures/invalid/billion-laughs.yaml"][..],
        &[
            "run",
            "fixtures/invalid/billion-laughs.yaml",
            "--engine",
            "/bin/true",
        ][..],
    ] {
        let (code, stderr, took) = limited(args, 512 << 20);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.yaml");
    // 4 GiB on paper (sparse): reading it whole would take minutes and gigabytes.
    std::fs::File::create(&p).unwrap().set_len(4 << 30).unwrap();
    let path = p.to_str().unwrap();
    let (code, stderr, took) = limited(&["validate", path], 512 << 20);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(
        stderr,
        format!(
            "{path}: error: the file is larger than 16 MiB, the most dockhand reads as a flow\n"
        )
    );
}

/// `dockhand ARGS` from the repository root, with no stdin and no engine chosen by the caller's
/// environment.
fn dockhand_cmd(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(root())
        .args(args)
        .envs(env.iter().copied())
        .env_remove("DOCKHAND_ENGINE")
        .stdin(Stdio::null());
    cmd
}

/// Waits for `child` (dockhand run with `args`) for at most [`common::RUN_LIMIT`], killing it
/// and failing the test past that.
fn wait_bounded(child: &mut std::process::Child, args: &[&str]) -> std::process::ExitStatus {
    let deadline = Instant::now() + common::RUN_LIMIT;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("dockhand {args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a reader leaves: before dockhand writes anything, or after reading one line (`| head -1`).
#[derive(Debug, Clone, Copy)]
enum Reader {
    ClosedAtStart,
    HeadOne,
}

/// Runs `dockhand ARGS` with its stdout a pipe that the reader closes early; returns the exit
/// code and stderr.
fn with_closed_stdout(
    args: &[&str],
    env: &[(&str, &str)],
    reader: Reader,
) -> (Option<i32>, String) {
    let mut cmd = dockhand_cmd(args, env);
    cmd.stderr(Stdio::piped());
    let mut child = match reader {
        Reader::ClosedAtStart => {
            // The read end is gone before dockhand starts: its first write fails, every time.
            let (r, w) = std::io::pipe().unwrap();
            drop(r);
            cmd.stdout(w).spawn().unwrap()
        }
        Reader::HeadOne => {
            let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            child
        }
    };
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().unwrap();
    let reading = std::thread::spawn(move || {
        let _ = pipe.read_to_string(&mut stderr);
        stderr
    });
    let status = wait_bounded(&mut child, args);
    (status.code(), reading.join().unwrap())
}

/// A flow whose plan is far more than a pipe holds (64 KiB), so `head -1` closes the pipe while
/// dockhand is still writing.
fn big_flow(dir: &std::path::Path) -> String {
    let mut s = String::from("id: big\nnamespace: hostile.input\ntasks:\n");
    for i in 0..500 {
        s.push_str(&format!(
            "  - id: t{i}\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [echo {i}]\n"
        ));
    }
    let p = dir.join("big.yaml");
    std::fs::write(&p, s).unwrap();
    p.display().to_string()
}

#[test]
fn a_closed_stdout_ends_plan_validate_and_schema_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let big = big_flow(dir.path());
    let daemon_json = dir.path().join("daemon.json").display().to_string();
    let regs: Vec<String> = (0..5000).map(|i| format!("\"r{i}.local:5000\"")).collect();
    std::fs::write(
        &daemon_json,
        format!("{{\"insecure-registries\": [{}]}}", regs.join(", ")),
    )
    .unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["plan", &big], 0),
        (vec!["plan", &big, "--engine", "podman"], 0),
        (vec!["schema"], 0),
        // validate's exit code is its verdict: a closed stdout does not change it.
        (vec!["validate", &big, "fixtures/kestra-centos.yaml"], 0),
        (
            vec!["validate", &big, "fixtures/invalid/wrong-type.yaml"],
            2,
        ),
        (
            vec![
                "registry",
                "insecure",
                "list",
                "--daemon-json",
                &daemon_json,
            ],
            0,
        ),
    ];
    for (args, want) in &cases {
        for reader in [Reader::ClosedAtStart, Reader::HeadOne] {
            let (code, stderr) = with_closed_stdout(args, &[], reader);
            assert_eq!(
                code,
                Some(*want),
                "{args:?} ({reader:?}): stderr:\n{stderr}"
            );
            assert!(
                !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
                "{args:?} ({reader:?}): {stderr}"
            );
            // `registry insecure list` names the file on stderr; the others print nothing there.
            if *want == 0 && args[0] != "registry" {
                assert_eq!(stderr, "", "{args:?} ({reader:?})");
            }
        }
    }
}

e2e_test!(a_closed_stdout_ends_ps_quietly, |cx| {
    for reader in [Reader::ClosedAtStart, Reader::HeadOne] {
        let (code, stderr) = with_closed_stdout(&["ps", "--engine", cx.eng.name], &[], reader);
        assert_eq!(code, Some(0), "{reader:?}: {stderr}");
        assert_eq!(stderr, "", "{reader:?}");
    }
});

e2e_test!(a_closed_stdout_leaves_a_run_and_its_exit_code_alone, |cx| {
    let state = cx.tmp.path().join("state").display().to_string();
    let env = [("DOCKHAND_STATE_DIR", state.as_str())];
    let work = cx.work().display().to_string();
    for (n, (command, want)) in [("true", 0), ("false", 1)].into_iter().enumerate() {
        let f = cx.flow(
            &format!("f{n}"),
            &flow(
                "closed_stdout",
                &[task("t", "", "", &["echo hello", command])],
            ),
        );
        let id = format!("{}-{n}", cx.id);
        let f = f.display().to_string();
        let args = [
            "run",
            &f,
            "--engine",
            cx.eng.name,
            "--execution-id",
            &id,
            "--work-dir",
            &work,
        ];
        // --json: the result on stdout; without: the logs on stdout, the summary on stderr.
        for json in [true, false] {
            let id = format!("{id}-{json}");
            let mut a = args.to_vec();
            a[5] = &id;
            if json {
                a.push("--json");
            }
            let (code, stderr) = with_closed_stdout(&a, &env, Reader::ClosedAtStart);
            assert_eq!(code, Some(want), "{a:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{a:?}: {stderr}");
            if !json {
                assert!(
                    stderr.contains("SUCCESS") || stderr.contains("FAILED"),
                    "no summary: {stderr}"
                );
            }
            let left = common::left_after_removals(|| cx.eng.containers_of(&id));
            assert!(left.is_empty(), "left behind: {left:?}");
        }
    }
});

e2e_test!(a_bad_input_value_stops_a_run_before_anything_starts, |cx| {
    let f = cx.flow(
        "typed",
        "id: typed\nnamespace: e2e.tests\ninputs:\n  - {id: when, type: DATE}\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: busybox:latest\n    taskRunner: {type: io.kestra.plugin.scripts.runner.docker.Docker, pullPolicy: NEVER}\n    commands: ['echo {{ inputs.when }}']\n",
    );
    let r = cx.dockhand(
        &[
            "run",
            f.to_str().unwrap(),
            "--engine",
            cx.eng.name,
            "--execution-id",
            &cx.id,
            "--work-dir",
            cx.work().to_str().unwrap(),
            "--input",
            "when=2024-02-30",
        ],
        &[],
    );
    r.assert_code(2);
    assert_eq!(
        common::one_line_error(&r),
        "dockhand: error: invalid --input: --input when: input `when` (line 4): `2024-02-30` is not a valid DATE: expected an ISO-8601 date such as 2024-01-15"
    );
    // Nothing was made: no journal, no work directory, no container.
    assert!(!cx.state_journal().exists());
    assert_eq!(std::fs::read_dir(cx.work()).unwrap().count(), 0);
    assert!(cx.eng.containers_of(&cx.id).is_empty());
});

#[test]
fn a_bad_input_is_reported_before_the_engine_is_looked_for() {
    // No engine CLI at all: the bad INT value, and a missing required input, are still bad
    // input (exit 2, naming the input), not an unavailable engine (3).
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("typed.yaml");
    std::fs::write(
        &f,
        "id: typed\nnamespace: e2e.tests\ninputs:\n  - {id: n, type: INT}\n  - {id: must, type: STRING, required: true}\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['echo {{ inputs.n }}']\n",
    )
    .unwrap();
    let work = dir.path().join("work");
    let f = f.display().to_string();
    let work_s = work.display().to_string();
    let run = |extra: &[&str]| {
        let out = Command::new(BIN)
            .args([
                "run",
                &f,
                "--engine",
                "/nonexistent/docker",
                "--work-dir",
                &work_s,
            ])
            .args(extra)
            .env("DOCKHAND_STATE_DIR", dir.path().join("state"))
            .env_remove("DOCKHAND_ENGINE")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["--input", "n=abc", "--input", "must=x"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--input n:") && stderr.contains("INT"),
        "names the input: {stderr}"
    );
    assert!(!stderr.contains("/nonexistent"), "{stderr}");
    let (code, stderr) = run(&["--input", "n=3"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("input `must` is required"), "{stderr}");
    // A good input gets as far as the engine: exit 3, naming it.
    let (code, stderr) = run(&["--input", "n=3", "--input", "must=x"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("/nonexistent/docker"), "{stderr}");
    assert!(!work.exists(), "nothing was made");
}

/// `dockhand ARGS` with stderr a pipe whose read end is closed before it starts (every write to
/// stderr fails with EPIPE), or stderr closed outright (`2>&-`); stdout is read. Returns the
/// exit code and stdout.
fn with_closed_stderr(
    args: &[&str],
    env: &[(&str, &str)],
    closed_fd: bool,
) -> (Option<i32>, String) {
    let mut cmd = dockhand_cmd(args, env);
    cmd.stdout(Stdio::piped());
    if closed_fd {
        // SAFETY: close(2) is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::close(2);
                Ok(())
            });
        }
    } else {
        let (r, w) = std::io::pipe().unwrap();
        drop(r);
        cmd.stderr(w);
    }
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdout.take().unwrap();
    let reading = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let status = wait_bounded(&mut child, args);
    (status.code(), reading.join().unwrap())
}

e2e_test!(a_closed_stderr_leaves_a_run_and_its_exit_code_alone, |cx| {
    let state = cx.tmp.path().join("state").display().to_string();
    let env = [("DOCKHAND_STATE_DIR", state.as_str())];
    let work = cx.work().display().to_string();
    for (n, (command, want)) in [("true", 0), ("false", 1)].into_iter().enumerate() {
        // A warning (ignored property), the status line, logs and the summary all go to stderr.
        let f = cx.flow(
            &format!("f{n}"),
            &flow(
                "closed_stderr",
                &[task(
                    "t",
                    "logLevel: INFO",
                    "",
                    &["echo hello >&2", "echo hello", command],
                )],
            ),
        );
        let f = f.display().to_string();
        for (json, closed_fd) in [(true, false), (false, false), (false, true)] {
            let id = format!("{}-{n}-{json}-{closed_fd}", cx.id);
            let mut a = vec![
                "run",
                &f,
                "--engine",
                cx.eng.name,
                "--execution-id",
                &id,
                "--work-dir",
                &work,
            ];
            if json {
                a.push("--json");
            }
            let (code, stdout) = with_closed_stderr(&a, &env, closed_fd);
            let what = format!(
                "{a:?} (stderr {})",
                if closed_fd { "closed" } else { "a closed pipe" }
            );
            assert_eq!(code, Some(want), "{what}: stdout:\n{stdout}");
            if json {
                let v: serde_json::Value = serde_json::from_str(&stdout)
                    .unwrap_or_else(|e| panic!("{what}: the result on stdout: {e}\n{stdout}"));
                let state = if want == 0 { "SUCCESS" } else { "FAILED" };
                assert_eq!(v["state"], state, "{what}: {v:#}");
            } else {
                assert!(
                    stdout.contains("hello"),
                    "{what}: the log on stdout: {stdout}"
                );
            }
            let left = common::left_after_removals(|| cx.eng.containers_of(&id));
            assert!(left.is_empty(), "{what}: left behind: {left:?}");
        }
    }
});
