//! End-to-end tests of `dockhand run` (and `plan`) against real engines: every behaviour is
//! tested on Docker and on Podman (`NAME::docker`, `NAME::podman`), through the built binary,
//! asserting on exit codes, log lines, the `--json` result, files on the host and `inspect`.
//!
//! Needs a docker daemon, podman and the local test images (`bash scripts/setup-engines.sh &&
//! bash scripts/build-test-images.sh`); nothing is pulled from a registry. Without them the
//! tests print `skipped: <reason>`; with `DOCKHAND_E2E=1` they fail instead.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_run

#[macro_use]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Ctx, IMAGE, flow, indent, random_hex, task};
use serde_json::Value;

// ------------------------------------------------------------------------------ flow helpers

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v:#}"))
}

/// Regular files below `dir`, recursively.
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A duration in milliseconds: `durationMs` (or `duration`, its former name).
fn duration_ms(v: &Value) -> u64 {
    v.get("durationMs")
        .or_else(|| v.get("duration"))
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no durationMs in {v:#}"))
}

fn assert_success(run: &common::Run, id: &str) -> Value {
    let t = run.task(id);
    assert_eq!(
        t["state"],
        "SUCCESS",
        "task {id} did not succeed: {t:#}\n{}",
        run.dump()
    );
    assert_eq!(t["exitCode"], 0, "task {id}: {t:#}");
    assert!(t["failure"].is_null(), "task {id}: {t:#}");
    t
}

// ------------------------------------------------------------------ 1. Kestra's page example

e2e_test!(kestra_centos_fixture, |cx| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kestra-centos.yaml");
    let run = cx.run(&path);
    run.assert_code(0);
    assert!(
        run.stderr.lines().any(|l| l == "shell | Hello World!"),
        "no `shell | Hello World!` line\n{}",
        run.dump()
    );
    assert_eq!(run.json["executionId"], cx.id.as_str());
    assert_eq!(run.json["engine"], cx.eng.name);
    assert_eq!(run.json["state"], "SUCCESS");
    let t = assert_success(&run, "shell");
    assert_eq!(t["container"], cx.container("shell").as_str());
    common::assert_removed(&t);
});

// ------------------------------------------------------------------- 2. resource limits

e2e_test!(resource_limits_in_inspect_and_cgroup, |cx| {
    let f = cx.flow(
        "resources",
        &flow(
            "resources",
            &[task(
                "limited",
                "",
                "delete: false\ncpu:\n  cpus: 0.5\nmemory:\n  memory: 64MB\n  memorySwap: 128MB\n  memoryReservation: 32MB\nshmSize: 16MB",
                &[r#"if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
  echo "limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
else
  echo "limit=$(cat /sys/fs/cgroup/memory.max)"
fi"#],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let t = assert_success(&run, "limited");
    assert_eq!(
        t["removal"], "kept",
        "delete: false must keep the container: {t:#}"
    );
    assert!(
        run.logs("limited", '|')
            .contains(&"limit=67108864".to_string()),
        "cgroup memory limit seen inside the container\n{}",
        run.dump()
    );

    let name = cx.container("limited");
    let i = cx.eng.inspect(&name);
    let hc = &i["HostConfig"];
    assert_eq!(hc["NanoCpus"], 500_000_000u64, "NanoCpus: {hc:#}");
    assert_eq!(hc["Memory"], 67_108_864u64, "Memory");
    assert_eq!(hc["MemorySwap"], 134_217_728u64, "MemorySwap");
    assert_eq!(hc["MemoryReservation"], 33_554_432u64, "MemoryReservation");
    assert_eq!(hc["ShmSize"], 16_777_216u64, "ShmSize");
    assert_eq!(i["State"]["Status"], "exited");
    cx.eng.remove(&[name]);
});

// ----------------------------------------------------------------------------- 3. env

e2e_test!(env_values_reach_the_container, |cx| {
    let f = cx.flow(
        "env",
        &flow(
            "env",
            &[task(
                "show",
                "env:\n  PLAIN: hello world\n  MULTI_LINE: |-\n    first line\n    second line\n  HOME: /home/task\n  DOCKER_CONFIG: /cfg/in-container\n  DOCKER_HOST: tcp://203.0.113.7:2375",
                "",
                &[
                    r#"echo "PLAIN=$PLAIN""#,
                    r#"echo "$MULTI_LINE""#,
                    r#"echo "HOME=$HOME""#,
                    r#"echo "DOCKER_CONFIG=$DOCKER_CONFIG""#,
                    r#"echo "DOCKER_HOST=$DOCKER_HOST""#,
                ],
            )],
        ),
    );
    let run = cx.run(&f);
    // The engine was reached although the task sets DOCKER_HOST/DOCKER_CONFIG/HOME: these must not
    // reach the engine client's own environment.
    run.assert_code(0);
    assert_success(&run, "show");
    let logs = run.logs("show", '|');
    let want = [
        "PLAIN=hello world",
        "first line",
        "second line",
        "HOME=/home/task",
        "DOCKER_CONFIG=/cfg/in-container",
        "DOCKER_HOST=tcp://203.0.113.7:2375",
    ];
    assert_eq!(logs, want, "container output\n{}", run.dump());
    // The 0600 env file that carried HOME/DOCKER_* is gone after the run.
    let private = cx.work().join(".private");
    let left = files_below(&private);
    assert!(
        left.is_empty(),
        "private files left after the run: {left:?}"
    );
});

e2e_test!(env_engine_address_vars_stay_in_the_container, |cx| {
    // Variables that point an engine client elsewhere (Podman reads CONTAINER_HOST and
    // CONTAINER_CONNECTION, Docker DOCKER_CONTEXT): a task's values are for the container only.
    let f = cx.flow(
        "env_addr",
        &flow(
            "env_addr",
            &[task(
                "show",
                "env:\n  CONTAINER_HOST: unix:///nonexistent-e2e.sock\n  CONTAINER_CONNECTION: e2e-no-such-connection\n  DOCKER_CONTEXT: e2e-no-such-context",
                "",
                &[r#"echo "CONTAINER_HOST=$CONTAINER_HOST""#, r#"echo "CONTAINER_CONNECTION=$CONTAINER_CONNECTION""#, r#"echo "DOCKER_CONTEXT=$DOCKER_CONTEXT""#],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_success(&run, "show");
    assert_eq!(
        run.logs("show", '|'),
        [
            "CONTAINER_HOST=unix:///nonexistent-e2e.sock",
            "CONTAINER_CONNECTION=e2e-no-such-connection",
            "DOCKER_CONTEXT=e2e-no-such-context"
        ],
        "{}",
        run.dump()
    );
});

// ---------------------------------------------------------------- 4. /proc cmdline secrecy

e2e_test!(secret_env_never_in_any_cmdline, |cx| {
    let secret = format!("e2eSecret{}", random_hex(16));
    let f = cx.flow(
        "secret",
        &flow(
            "secret",
            &[task(
                "sleeper",
                &format!("env:\n  SECRET_TOKEN: {secret}"),
                "",
                &[
                    r#"echo "len=${#SECRET_TOKEN}""#,
                    r#"echo "$SECRET_TOKEN" | sed 's/./&-/g'"#,
                    "sleep 3",
                ],
            )],
        ),
    );
    let mut sp = cx.spawn(&f, &[], &[]);
    let container = cx.container("sleeper");
    let (mut scans, mut saw_engine_process, mut leaks) = (0u32, false, Vec::<String>::new());
    while sp.running() {
        scans += 1;
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if !name.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
                    continue;
                };
                let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
                if cmd.contains(&secret) {
                    leaks.push(format!("pid {name}: {cmd}"));
                }
                if cmd.contains(&container) {
                    saw_engine_process = true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let run = sp.finish(common::RUN_LIMIT);
    assert!(
        leaks.is_empty(),
        "the secret value appeared in process command lines:\n{}",
        leaks.join("\n")
    );
    run.assert_code(0);
    assert_success(&run, "sleeper");
    // Not vacuous: the scan ran during the task, saw the engine's processes, and the container
    // got the value.
    assert!(
        scans >= 15,
        "only {scans} scans of /proc while the task ran"
    );
    assert!(
        saw_engine_process,
        "no process with `{container}` in its command line was seen: the scan missed the run"
    );
    let logs = run.logs("sleeper", '|');
    let dashed: String = secret.chars().map(|c| format!("{c}-")).collect();
    assert!(
        logs.contains(&format!("len={}", secret.len())),
        "{}",
        run.dump()
    );
    assert!(
        logs.contains(&dashed),
        "the container did not see SECRET_TOKEN\n{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains(&secret) && !run.stdout.contains(&secret),
        "the secret was printed\n{}",
        run.dump()
    );

    // Not left in the working directory (it is copied into / mounted in containers) or in a
    // private env file.
    for file in files_below(&cx.work()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&secret),
            "the secret value was left in {}",
            file.display()
        );
    }
    // The execution journal keeps the flow text (for resume), so it holds the value the flow
    // file holds: it must be readable by its owner only.
    {
        use std::os::unix::fs::PermissionsExt;
        for file in files_below(&cx.tmp.path().join("state")) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            if String::from_utf8_lossy(&bytes).contains(&secret) {
                assert_eq!(
                    mode & 0o077,
                    0,
                    "{} holds the secret with mode {mode:o}",
                    file.display()
                );
            }
        }
    }

    let work = cx.work().display().to_string();
    let plan = cx.dockhand(
        &[
            "plan",
            &f.display().to_string(),
            "--engine",
            cx.eng.name,
            "--execution-id",
            &cx.id,
            "--work-dir",
            &work,
        ],
        &[],
    );
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("SECRET_TOKEN"),
        "plan does not mention the variable at all\n{}",
        plan.dump()
    );
    assert!(
        !plan.stdout.contains(&secret) && !plan.stderr.contains(&secret),
        "plan printed the secret value\n{}",
        plan.dump()
    );
});

// --------------------------------------------------------------------------- 5. volumes

e2e_test!(volume_bind_mount_writes_to_host, |cx| {
    let host = cx.tmp.path().join("hostdata");
    std::fs::create_dir_all(&host).unwrap();
    let f = cx.flow(
        "volumes",
        &flow(
            "volumes",
            &[task(
                "writer",
                "",
                &format!("volumes:\n  - \"{}:/data\"", host.display()),
                &["echo \"hello volume\" > /data/x", "echo written"],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_success(&run, "writer");
    let got = std::fs::read_to_string(host.join("x"))
        .unwrap_or_else(|e| panic!("host file {}/x: {e}\n{}", host.display(), run.dump()));
    assert_eq!(got, "hello volume\n");
});

// ----------------------------------------------------------- 6. inputFiles / outputFiles

/// inputFiles read, outputFiles (a plain name and a `**` glob) listed and copied to the host.
fn files_case(cx: &Ctx, strategy: Option<&str>, user: Option<&str>) {
    let mut runner = String::new();
    if let Some(s) = strategy {
        runner.push_str(&format!("fileHandlingStrategy: {s}\n"));
    }
    if let Some(u) = user {
        runner.push_str(&format!("user: \"{u}\"\n"));
    }
    let props = "inputFiles:\n  in.txt: some input\n  sub/data.csv: \"a,b\"\noutputFiles:\n  - out.txt\n  - \"**/*.log\"";
    let f = cx.flow(
        "files",
        &flow(
            "files",
            &[task(
                "files",
                props,
                &runner,
                &[
                    "echo \"uid=$(id -u)\"",
                    "cat in.txt",
                    "tr a-z A-Z < in.txt > out.txt",
                    "mkdir -p logs && cat sub/data.csv > logs/x.log",
                ],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let t = assert_success(&run, "files");
    let logs = run.logs("files", '|');
    let uid = user.unwrap_or("0");
    assert!(
        logs.contains(&format!("uid={uid}")),
        "ran as the wrong user\n{}",
        run.dump()
    );
    assert!(
        logs.contains(&"some input".to_string()),
        "input file not readable\n{}",
        run.dump()
    );

    let wd = cx.workdir("files");
    let want: Vec<String> = vec![
        wd.join("logs/x.log").display().to_string(),
        wd.join("out.txt").display().to_string(),
    ];
    let mut got: Vec<String> = t["outputFiles"]
        .as_array()
        .expect("outputFiles")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want, "outputFiles in the JSON\n{}", run.dump());
    assert_eq!(
        std::fs::read_to_string(wd.join("out.txt")).unwrap(),
        "SOME INPUT"
    );
    assert_eq!(
        std::fs::read_to_string(wd.join("logs/x.log")).unwrap(),
        "a,b"
    );
    // The container is gone, and with it the rest of the working directory (input files).
    let mut left: Vec<String> = files_below(&wd)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    left.sort();
    assert_eq!(left, want, "left in the working directory\n{}", run.dump());
}

e2e_test!(files_volume_default_root, |cx| {
    files_case(cx, None, None)
});
e2e_test!(files_volume_user_nobody, |cx| {
    files_case(cx, Some("VOLUME"), Some("65534"))
});
e2e_test!(files_mount_root, |cx| {
    files_case(cx, Some("MOUNT"), None)
});
e2e_test!(files_mount_user_nobody, |cx| {
    files_case(cx, Some("MOUNT"), Some("65534"))
});

// ------------------------------------------------------------ 7. outputs between tasks

e2e_test!(outputs_pass_between_tasks, |cx| {
    let f = cx.flow(
        "outputs",
        &flow(
            "outputs",
            &[
                task(
                    "a",
                    "",
                    "",
                    &[r#"echo '::{"outputs":{"k":"v1"}}::'"#, "echo visible"],
                ),
                task("b", "", "", &["echo \"got {{ outputs.a.vars.k }}\""]),
            ],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let a = assert_success(&run, "a");
    assert_success(&run, "b");
    assert_eq!(a["outputs"]["k"], "v1", "outputs of a: {a:#}");
    assert_eq!(
        run.logs("a", '|'),
        ["visible"],
        "the `::...::` line must not be printed\n{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains("::{"),
        "an outputs line was printed\n{}",
        run.dump()
    );
    assert_eq!(run.logs("b", '|'), ["got v1"], "{}", run.dump());
});

// ------------------------------------------------------------------- 8. failing tasks

e2e_test!(failing_task_stops_the_flow, |cx| {
    let f = cx.flow(
        "failing",
        &flow(
            "failing",
            &[
                task("fail", "", "", &["echo before", "exit 3"]),
                task("after", "", "", &["echo after ran"]),
            ],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    assert_eq!(run.json["state"], "FAILED");
    let t = run.task("fail");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    assert_eq!(t["exitCode"], 3, "{t:#}");
    assert_eq!(t["failure"]["kind"], "exitCode", "{t:#}");
    assert_eq!(t["failure"]["code"], 3, "{t:#}");
    assert!(str_of(&t, "message").contains("exit code 3"), "{t:#}");
    // Tasks after a failure are listed as SKIPPED, and never started.
    let after = run.task("after");
    assert_eq!(after["state"], "SKIPPED", "{after:#}");
    assert!(after["container"].is_null(), "{after:#}");
    assert!(
        run.logs("after", '|').is_empty(),
        "a task after the failure ran\n{}",
        run.dump()
    );
});

e2e_test!(allow_failure_gives_warning_and_continues, |cx| {
    let f = cx.flow(
        "allowed",
        &flow(
            "allowed",
            &[
                task("fail", "allowFailure: true", "", &["exit 3"]),
                task("after", "", "", &["echo after ran"]),
            ],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(run.json["state"], "WARNING");
    let t = run.task("fail");
    assert_eq!(t["state"], "WARNING", "{t:#}");
    assert_eq!(t["exitCode"], 3);
    assert_eq!(t["failure"]["kind"], "exitCode");
    assert_success(&run, "after");
    assert_eq!(run.logs("after", '|'), ["after ran"]);
});

// ------------------------------------------------------------------------- 9. timeout

e2e_test!(timeout_stops_the_container, |cx| {
    let f = cx.flow(
        "timeout",
        &flow(
            "timeout",
            &[task(
                "slow",
                "timeout: PT2S",
                "",
                &["echo started", "sleep 30"],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}\n{}",
        run.elapsed,
        run.dump()
    );
    let t = run.task("slow");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    assert_eq!(t["failure"]["kind"], "timeout", "{t:#}");
    assert!(str_of(&t, "message").contains("timed out"), "{t:#}");
    common::assert_removed(&t);
});

// ----------------------------------------------------------------------------- 10. OOM

e2e_test!(out_of_memory_is_reported, |cx| {
    let f = cx.flow(
        "oom",
        &flow(
            "oom",
            &[task(
                "hog",
                "",
                "memory:\n  memory: 16MB\n  memorySwap: 16MB",
                &[r#"x=a; while true; do x="$x$x"; done"#],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    let t = run.task("hog");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    assert_eq!(t["exitCode"], 137, "{t:#}");
    let fl = &t["failure"];
    assert_eq!(fl["kind"], "outOfMemory", "{t:#}");
    assert_eq!(fl["limit"], 16_777_216u64, "{t:#}");
    assert!(fl["confirmed"].is_boolean(), "{t:#}");
    if cx.eng.name == "docker" {
        // Docker reports OOMKilled (cgroup v1 and v2).
        assert_eq!(fl["confirmed"], true, "{t:#}");
    }
    assert!(str_of(&t, "message").contains("memory"), "{t:#}");
});

// ---------------------------------------------------------------- 11. engine errors

e2e_test!(missing_image_is_an_engine_error, |cx| {
    let missing =
        task("t", "", "", &["echo never"]).replace(IMAGE, "dockhand-test/does-not-exist:never");
    let f = cx.flow("noimage", &flow("noimage", &[missing]));
    let run = cx.run(&f);
    run.assert_code(1);
    let t = run.task("t");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    assert_eq!(
        t["failure"]["kind"], "engine",
        "a missing image is the engine's error, not the command's: {t:#}"
    );
    let said = format!("{} {}", t["message"], run.all_logs("t").join("\n"));
    assert!(
        said.contains("does-not-exist"),
        "neither the message nor the log names the image\n{}",
        run.dump()
    );
});

e2e_test!(command_not_found_is_reported_clearly, |cx| {
    // No interpreter: `/nonexistent-binary` is the container's argv, the runtime cannot exec it.
    let f = cx.flow(
        "nocmd",
        &flow(
            "nocmd",
            &[task("t", "interpreter: []", "", &["/nonexistent-binary"])],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    let t = run.task("t");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    let kind = t["failure"]["kind"].as_str().unwrap_or_default();
    assert!(
        kind == "engine" || (kind == "exitCode" && t["exitCode"] == 127),
        "expected an engine error or exit code 127: {t:#}"
    );
    // A task that failed never reports exit code 0.
    assert_ne!(
        t["exitCode"],
        0,
        "a FAILED task reports exitCode 0: {t:#}\n{}",
        run.dump()
    );
    let said = format!("{} {}", t["message"], run.all_logs("t").join("\n"));
    assert!(
        said.contains("/nonexistent-binary"),
        "neither the message nor the log names the missing command\n{}",
        run.dump()
    );
});

// -------------------------------------------------------------------------- 12. cancel

/// `files`: with inputFiles, the container is created, filled and started attached (`start
/// --attach`) instead of `run`: the other path a cancel must stop.
fn cancel_case(cx: &Ctx, sig: i32, want_code: i32, files: bool) {
    let grace = 2;
    let props = if files {
        "inputFiles:\n  in.txt: hello"
    } else {
        ""
    };
    let f = cx.flow(
        "cancel",
        &flow(
            "cancel",
            &[
                task(
                    "ticker",
                    props,
                    &format!("killGracePeriod: PT{grace}S"),
                    &["i=0\nwhile [ $i -lt 300 ]; do i=$((i+1)); echo \"line $i\"; sleep 0.2; done"],
                ),
                task("after", "", "", &["echo after ran"]),
            ],
        ),
    );
    let mut sp = cx.spawn(&f, &[], &[]);
    let seen = sp.wait_line(Duration::from_secs(60), |l| {
        l.starts_with("ticker") && l.ends_with("| line 1")
    });
    assert!(
        seen,
        "the first log line never came\n{}",
        sp.stderr_so_far()
    );
    let sent = Instant::now();
    sp.signal(sig);
    // The issue's bound: stopped within killGracePeriod + 2 s of the signal.
    let limit = Duration::from_secs(grace + 2);
    let status = sp.wait_for(limit);
    let took = sent.elapsed();
    assert!(
        status.is_some(),
        "dockhand did not exit within {limit:?} of the signal\n{}",
        sp.stderr_so_far()
    );
    let run = sp.finish(common::RUN_LIMIT);
    run.assert_code(want_code);
    assert!(took <= limit, "{took:?}");
    assert_eq!(run.json["state"], "KILLED", "{}", run.dump());
    let t = run.task("ticker");
    assert_eq!(t["state"], "KILLED", "{t:#}");
    assert_eq!(t["failure"]["kind"], "cancelled", "{t:#}");
    assert_eq!(
        run.task("after")["state"],
        "SKIPPED",
        "a task ran after the cancel\n{}",
        run.dump()
    );
    assert!(
        run.logs("after", '|').is_empty(),
        "a task ran after the cancel\n{}",
        run.dump()
    );
}

e2e_test!(cancel_sigint, |cx| {
    cancel_case(cx, libc::SIGINT, 130, false)
});
e2e_test!(cancel_sigterm, |cx| {
    cancel_case(cx, libc::SIGTERM, 143, false)
});
e2e_test!(cancel_sigint_with_input_files, |cx| {
    cancel_case(cx, libc::SIGINT, 130, true)
});

// --------------------------------------------------------------- 13. delete / wait

e2e_test!(delete_false_keeps_the_container, |cx| {
    let f = cx.flow(
        "kept",
        &flow("kept", &[task("kept", "", "delete: false", &["echo kept"])]),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let t = assert_success(&run, "kept");
    assert_eq!(t["removal"], "kept", "{t:#}");
    let name = cx.container("kept");
    assert_eq!(cx.eng.containers_of(&cx.id), std::slice::from_ref(&name));
    let i = cx.eng.inspect(&name);
    assert_eq!(i["State"]["Status"], "exited", "{:#}", i["State"]);
    assert_eq!(i["State"]["ExitCode"], 0);
    cx.eng.remove(&[name]);
});

e2e_test!(wait_false_returns_while_the_container_runs, |cx| {
    let f = cx.flow(
        "detached",
        &flow("detached", &[task("bg", "", "wait: false", &["sleep 20"])]),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let t = assert_success(&run, "bg");
    let ms = duration_ms(&t);
    assert!(
        ms < 3000,
        "wait: false took {ms} ms for a `sleep 20` task\n{}",
        run.dump()
    );
    assert!(
        run.elapsed < Duration::from_secs(15),
        "the run took {:?}",
        run.elapsed
    );
    let name = cx.container("bg");
    let i = cx.eng.inspect(&name);
    assert_eq!(
        i["State"]["Running"], true,
        "the detached container is not running: {:#}",
        i["State"]
    );
    cx.eng.remove(&[name]);
});

// ------------------------------------------------------------- 14. engine unavailable

e2e_test!(engine_cli_missing_exits_3, |cx| {
    let f = cx.flow("any", &flow("any", &[task("t", "", "", &["echo hi"])]));
    let missing = format!("/nonexistent/{}", cx.eng.name);
    let mut args = cx.run_args(&f, &[]);
    let i = args.iter().position(|a| a == "--engine").unwrap();
    args[i + 1] = missing.clone();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(3);
    let line = common::one_line_error(&run);
    assert!(line.contains(&missing), "{line}");
});

e2e_test!(
    engine_unreachable_remote_host_exits_3_before_anything,
    |cx| {
        let f = cx.flow("any", &flow("any", &[task("t", "", "", &["echo hi"])]));
        // A remote address is asked for its version first: one line, nothing started or written.
        // (Loopback port 1: nothing listens there, the connection is refused at once.)
        let far = "tcp://127.0.0.1:1";
        let run = cx.run_with(&f, &["--host", far], &[]);
        run.assert_code(3);
        assert!(
            run.elapsed < Duration::from_secs(5),
            "took {:?}",
            run.elapsed
        );
        let line = common::one_line_error(&run);
        assert!(
            line.contains(far),
            "the error does not name the host: {line}"
        );
        assert!(
            !cx.state_journal().exists(),
            "a journal was written although nothing could start"
        );
    }
);

e2e_test!(
    engine_unreachable_local_socket_exits_3_and_leaves_nothing,
    |cx| {
        let f = cx.flow("any", &flow("any", &[task("t", "", "", &["echo hi"])]));
        let sock = format!("unix:///nonexistent-{}.sock", cx.id);
        // A local socket is not asked up front: the first command fails at once, and that failure
        // is diagnosed (one `version`) into the same one-line error, exit code 3.
        let var = if cx.eng.name == "docker" {
            "DOCKER_HOST"
        } else {
            "CONTAINER_HOST"
        };
        for (extra, env) in [
            (vec!["--host", sock.as_str()], vec![]),
            (vec![], vec![(var, sock.as_str())]),
        ] {
            let run = cx.run_with(&f, &extra, &env);
            run.assert_code(3);
            assert!(
                run.elapsed < Duration::from_secs(5),
                "took {:?}",
                run.elapsed
            );
            let last = run
                .stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("");
            assert!(
                last.starts_with("dockhand: error: ") && last.contains(&sock),
                "the last line is not the error naming the socket\n{}",
                run.dump()
            );
            assert_eq!(
                run.stderr.matches("dockhand: error: ").count(),
                1,
                "one error line\n{}",
                run.dump()
            );
            assert!(
                !run.stderr.contains("FAILED"),
                "the task's status repeats the error\n{}",
                run.dump()
            );
            assert!(
                run.stdout.trim().is_empty(),
                "no result when nothing ran\n{}",
                run.dump()
            );
            assert!(
                !cx.state_journal().exists(),
                "the journal of an execution that never reached the engine was kept\n{}",
                run.dump()
            );
        }
    }
);

e2e_test!(simple_task_spawns_run_and_rm_only, |cx| {
    // A wrapper in front of the engine CLI logs every call dockhand makes.
    let log = cx.tmp.path().join("calls.log");
    let wrapper = cx.tmp.path().join(format!("{}-logged", cx.eng.name));
    let real = cx.eng.program.display().to_string();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n# logs calls to {real}\necho \"$1\" >> '{}'\nexec {real} \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = cx.flow(
        "hello",
        &flow("hello", &[task("hello", "", "", &["echo hello"])]),
    );
    let mut args = cx.run_args(&f, &["--wait-removal"]);
    let i = args.iter().position(|a| a == "--engine").unwrap();
    args[i + 1] = wrapper.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.json["engine"], cx.eng.name, "{}", run.dump());
    assert_eq!(run.logs("hello", '|'), ["hello"], "{}", run.dump());
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(
        calls,
        ["run", "rm"],
        "engine CLI calls for one simple task\n{}",
        run.dump()
    );
});

e2e_test!(last_removal_is_handed_off_unless_waited_for, |cx| {
    let f = cx.flow(
        "two",
        &flow(
            "two",
            &[
                task("first", "", "", &["echo one"]),
                task("second", "", "", &["echo two"]),
            ],
        ),
    );
    // By default dockhand returns while the last container's `rm` still runs; that detached
    // process finishes on its own. The first container's removal overlapped with `second`.
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(run.task("first")["removal"], "removed", "{}", run.dump());
    assert_eq!(run.task("second")["removal"], "handedOff", "{}", run.dump());
    let left = cx.eng.wait_gone(&cx.id);
    assert!(
        left.is_empty(),
        "the handed-off removal did not finish: {left:?}"
    );

    // --wait-removal: nothing is left the moment dockhand returns.
    let f = cx.flow("one", &flow("one", &[task("only", "", "", &["echo one"])]));
    let id = format!("{}w", cx.id);
    let mut args = cx.run_args(&f, &["--wait-removal"]);
    let i = args.iter().position(|a| a == "--execution-id").unwrap();
    args[i + 1] = id.clone();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.task("only")["removal"], "removed", "{}", run.dump());
    let left = cx.eng.containers_of(&id);
    assert!(
        left.is_empty(),
        "containers left the moment dockhand returned with --wait-removal: {left:?}"
    );
});

// ------------------------------------------------------------------------- 15. Parallel

e2e_test!(parallel_runs_children_concurrently, |cx| {
    // Each child notes the kernel's uptime (one clock for all containers) around a 2 s sleep.
    let probe = "read s _ < /proc/uptime\nsleep 2\nread e _ < /proc/uptime\necho \"::{\\\"outputs\\\":{\\\"start\\\":$s,\\\"end\\\":$e}}::\"";
    let children: Vec<String> = (1..=4)
        .map(|i| task(&format!("c{i}"), "", "", &[probe]))
        .collect();
    let group = format!(
        "- id: group\n  type: io.kestra.plugin.core.flow.Parallel\n  concurrent: 2\n  tasks:\n{}",
        children
            .iter()
            .map(|c| indent(c, 4))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let f = cx.flow("parallel", &flow("parallel", &[group]));
    let run = cx.run(&f);
    run.assert_code(0);
    let mut spans = Vec::new();
    let mut sum_ms = 0;
    for i in 1..=4 {
        let t = assert_success(&run, &format!("c{i}"));
        let (s, e) = (t["outputs"]["start"].as_f64(), t["outputs"]["end"].as_f64());
        let (Some(s), Some(e)) = (s, e) else {
            panic!("c{i} has no start/end outputs: {t:#}\n{}", run.dump())
        };
        spans.push((s, e));
        sum_ms += duration_ms(&t);
    }
    // How many children slept at the same time: exactly `concurrent`.
    let mut events: Vec<(f64, i32)> = spans.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    events.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    let (mut now, mut max) = (0, 0);
    for (_, d) in events {
        now += d;
        max = max.max(now);
    }
    eprintln!(
        "parallel: flow {} ms, children {sum_ms} ms in total, spans {spans:?}",
        duration_ms(&run.json)
    );
    assert_eq!(
        max,
        2,
        "children running at once (concurrent: 2), spans {spans:?}\n{}",
        run.dump()
    );
    // Wall clock: sequential runs would take at least the sum of the children's durations.
    let flow_ms = duration_ms(&run.json);
    assert!(
        (flow_ms as f64) < 0.75 * sum_ms as f64,
        "the flow took {flow_ms} ms for children totalling {sum_ms} ms: not concurrent\n{}",
        run.dump()
    );
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
});
