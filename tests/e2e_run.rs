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

use common::files_below;
use common::{Ctx, IMAGE, flow, indent, random_hex, task};
use serde_json::Value;

// ------------------------------------------------------------------------------ flow helpers

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v:#}"))
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
                    r#"echo "len={% raw %}${#SECRET_TOKEN}{% endraw %}""#,
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
    // No container was ever made: no removal was handed off or done.
    assert_eq!(t["removal"], "none", "{t:#}\n{}", run.dump());
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

// ----------------------------------------------------------- 16. hardening (issue 10)

e2e_test!(long_lines_split_at_exactly_64_kib, |cx| {
    // 200 KiB of `a`; then 65535 `a`, an `é` (2 bytes) across the 64 KiB mark and 1000 `b`.
    let cmds = [
        "dd if=/dev/zero bs=1024 count=200 2>/dev/null | tr '\\000' a; echo",
        "dd if=/dev/zero bs=65535 count=1 2>/dev/null | tr '\\000' a; printf '\\303\\251'; dd if=/dev/zero bs=1000 count=1 2>/dev/null | tr '\\000' b; echo",
        "echo end",
    ];
    let f = cx.flow("long", &flow("long", &[task("t", "", "", &cmds)]));
    let run = cx.run(&f);
    run.assert_code(0);
    let lines = run.logs("t", '|');
    let lens: Vec<usize> = lines.iter().map(String::len).collect();
    assert_eq!(
        lens,
        vec![65536, 65536, 65536, 8192, 65535, 1002, 3],
        "piece lengths in bytes"
    );
    assert!(lines[..4].iter().all(|l| l.bytes().all(|b| b == b'a')));
    assert!(lines[4].bytes().all(|b| b == b'a'));
    assert!(lines[5].starts_with('é') && lines[5][2..].bytes().all(|b| b == b'b'));
    assert_eq!(lines[6], "end");
});

/// An option value only the engine can judge (docker: more CPUs than the host has; podman: a
/// network that does not exist, which docker only notices at start) fails `create` (with
/// inputFiles) or `run` (without): the task's message is the engine's error line, not docker's
/// `--help` hint.
fn refused_option_case(cx: &Ctx, files: bool) {
    let props = if files {
        "inputFiles:\n  in.txt: hello"
    } else {
        ""
    };
    let (runner, words) = match cx.eng.name {
        "docker" => ("cpu:\n  cpus: 512", "Range of CPUs"),
        _ => ("networkMode: dh-no-such-network", "network not found"),
    };
    let t = task("t", props, runner, &["echo never"]);
    let f = cx.flow("refused", &flow("refused", &[t]));
    let run = cx.run(&f);
    run.assert_code(1);
    let t = run.task("t");
    assert_eq!(t["failure"]["kind"], "engine", "{t:#}\n{}", run.dump());
    let msg = str_of(&t, "message");
    assert!(
        msg.contains(words),
        "the message is not the engine's error line: {msg}\n{}",
        run.dump()
    );
    assert!(!msg.contains("--help"), "{msg}");
    // The engine made no container: nothing to remove.
    assert_eq!(t["removal"], "none", "{t:#}\n{}", run.dump());
}

e2e_test!(refused_create_reports_the_engine_error_line, |cx| {
    refused_option_case(cx, true);
});

e2e_test!(refused_run_reports_the_engine_error_line, |cx| {
    refused_option_case(cx, false);
});

/// The order in which the journal records the tasks' starts.
fn journal_starts(cx: &Ctx) -> Vec<String> {
    let text = std::fs::read_to_string(cx.state_journal()).expect("journal");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["t"] == "task_start")
        .map(|r| str_of(&r, "task").to_string())
        .collect()
}

e2e_test!(parallel_starts_children_in_flow_order, |cx| {
    // Two groups in one flow: no limit (`concurrent: 0`), and three at a time.
    let mut groups = Vec::new();
    let mut ids_of = Vec::new();
    for concurrent in [0, 3] {
        let ids: Vec<String> = (1..=6).map(|i| format!("c{concurrent}x{i}")).collect();
        let children: Vec<String> = ids.iter().map(|id| task(id, "", "", &["true"])).collect();
        groups.push(format!(
            "- id: group{concurrent}\n  type: io.kestra.plugin.core.flow.Parallel\n  concurrent: {concurrent}\n  tasks:\n{}",
            children
                .iter()
                .map(|c| indent(c, 4))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        ids_of.push((concurrent, ids));
    }
    let f = cx.flow("order", &flow("order", &groups));
    let run = cx.run(&f);
    run.assert_code(0);
    let all = journal_starts(cx);
    for (concurrent, ids) in ids_of {
        let starts: Vec<&String> = all.iter().filter(|t| ids.contains(t)).collect();
        assert_eq!(
            starts,
            ids.iter().collect::<Vec<_>>(),
            "concurrent: {concurrent}: tasks started out of flow order\n{}",
            run.dump()
        );
        // The status lines say the same.
        let said: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains(": starting dh-"))
            .filter_map(|l| l.strip_prefix("dockhand: ")?.split(':').next())
            .filter(|t| ids.iter().any(|i| i == t))
            .collect();
        assert_eq!(said, ids, "concurrent: {concurrent}\n{}", run.dump());
    }
});

/// A wrapper in front of the real engine CLI that records each call's argv (one file per call,
/// arguments NUL-separated) and then runs it. Its directory and the directory of the records.
fn recording_engine(cx: &Ctx) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = cx.tmp.path().join("bin");
    let calls = cx.tmp.path().join("calls");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&calls).unwrap();
    let wrapper = bin.join(cx.eng.name);
    // The script names the real CLI: a wrapper naming podman is driven as Podman, as
    // podman-docker's is.
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nf=$(mktemp {}/call.XXXXXX)\nprintf '%s\\0' \"$@\" > \"$f\"\nexec {} \"$@\"\n",
            calls.display(),
            cx.eng.program.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    (wrapper, calls)
}

/// The recorded calls, each as its argv (program name left out).
fn recorded_calls(calls: &Path) -> Vec<Vec<String>> {
    std::fs::read_dir(calls)
        .unwrap()
        .flatten()
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            let mut v: Vec<String> = bytes
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            v.pop(); // after the last NUL
            v
        })
        .collect()
}

/// The argv of the command under `# TITLE` in `plan` output, as a shell would split it.
fn planned_argv(plan: &str, title: &str) -> Vec<String> {
    let head = format!("# {title}\n");
    let at = plan
        .find(&head)
        .unwrap_or_else(|| panic!("no `{head}` in the plan:\n{plan}"));
    let mut text = String::new();
    for l in plan[at + head.len()..].lines() {
        if l.starts_with("# ") || l.starts_with("  # ") {
            break;
        }
        text.push_str(l);
        text.push('\n');
    }
    shell_words::split(&text.replace(" \\\n    ", " ")).expect("plan command is shell words")
}

e2e_test!(plan_shows_the_argv_run_uses, |cx| {
    let (wrapper, calls) = recording_engine(cx);
    // A fully qualified image, so the name is the same with or without a lookup.
    let image = match cx.eng.name {
        "docker" => "dockhand-test/busybox:latest",
        _ => "localhost/dockhand-test/busybox:latest",
    };
    let t = task(
        "t",
        "env:\n  GREETING: hi",
        "cpu:\n  cpus: 1",
        &["echo \"$GREETING\""],
    )
    .replace(IMAGE, image);
    let f = cx.flow("agree", &flow("agree", &[t]));
    let wrapper_s = wrapper.display().to_string();
    let work = cx.work().display().to_string();
    let f_s = f.display().to_string();
    let plan = cx.dockhand(
        &[
            "plan",
            &f_s,
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
    // --wait-removal: the `rm` call is recorded before dockhand returns.
    let mut args = cx.run_args(&f, &["--wait-removal"]);
    args[3] = wrapper_s.clone();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.logs("t", '|'), vec!["hi"], "{}", run.dump());

    let planned = planned_argv(&plan.stdout, "run, streaming the task's output");
    assert_eq!(planned[0], cx.eng.name);
    let container = cx.container("t");
    let calls = recorded_calls(&calls);
    let ran = calls
        .iter()
        .find(|c| c.first().is_some_and(|a| a == "run") && c.contains(&container))
        .unwrap_or_else(|| panic!("no `run` call recorded: {calls:?}"));
    // The owner label carries the pid where the plan shows `<pid>`.
    let owner = ran
        .iter()
        .find_map(|a| a.strip_prefix("io.dockhand.owner="))
        .unwrap_or_else(|| panic!("run has no owner label: {ran:?}"));
    assert!(owner.parse::<u32>().is_ok(), "owner label `{owner}`");
    let expected: Vec<String> = planned[1..]
        .iter()
        .map(|a| {
            a.replace(
                "io.dockhand.owner=<pid>",
                &format!("io.dockhand.owner={owner}"),
            )
        })
        .collect();
    assert_eq!(
        ran, &expected,
        "the run's argv differs from the plan\n{}",
        plan.stdout
    );
    // A fully qualified image needs no lookup: the task costs `run` and `rm`, nothing else.
    assert_eq!(
        calls
            .iter()
            .map(|c| c[0].as_str())
            .collect::<std::collections::BTreeSet<_>>(),
        ["rm", "run"].into_iter().collect(),
        "{calls:?}"
    );
    // The removal the plan shows, too.
    let rm = planned_argv(&plan.stdout, "remove the container (delete: true)");
    assert!(
        calls.iter().any(|c| c[..] == rm[1..]),
        "no recorded call is the plan's rm {rm:?}: {calls:?}"
    );
});

e2e_test!(work_dir_with_a_comma, |cx| {
    // The three ways the working directory gets into the container: the default (podman: an
    // anonymous `--mount` volume), MOUNT (`--volume WD:WD`) and VOLUME with files (`cp`).
    let work = cx.tmp.path().join("work,with comma");
    std::fs::create_dir_all(&work).unwrap();
    let check = "pwd\necho \"$WORKING_DIR\"\necho made > \"$WORKING_DIR/out.txt\"\ncat out.txt";
    let tasks = [
        task("plain", "", "", &[check]),
        task(
            "mounted",
            "outputFiles:\n  - out.txt",
            "fileHandlingStrategy: MOUNT",
            &[check],
        ),
        task(
            "copied",
            "inputFiles:\n  in.txt: hello\noutputFiles:\n  - out.txt",
            "",
            &[check],
        ),
    ];
    let f = cx.flow("comma", &flow("comma", &tasks));
    let mut args = cx.run_args(&f, &[]);
    let at = args.iter().position(|a| a == "--work-dir").unwrap() + 1;
    args[at] = work.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(0);
    for t in ["plain", "mounted", "copied"] {
        assert_success(&run, t);
        let wd = work.join(&cx.id).join(t).display().to_string();
        assert_eq!(
            run.logs(t, '|'),
            vec![wd.clone(), wd.clone(), "made".to_string()],
            "task {t}\n{}",
            run.dump()
        );
    }
    // MOUNT and copied-back files land on the host, in the directory with the comma.
    for t in ["mounted", "copied"] {
        let out = work.join(&cx.id).join(t).join("out.txt");
        assert_eq!(
            std::fs::read_to_string(&out).ok().as_deref(),
            Some("made\n"),
            "{}",
            out.display()
        );
    }
});

/// A tag of the test image that the test makes (as a user's `podman tag` / `docker tag` would)
/// and removes again, even when the test fails.
struct LocalTag<'a> {
    cx: &'a Ctx,
    name: String,
}

impl<'a> LocalTag<'a> {
    fn new(cx: &'a Ctx, name: String) -> Self {
        let source = match cx.eng.name {
            "docker" => "dockhand-test/busybox:latest",
            _ => "localhost/dockhand-test/busybox:latest",
        };
        let out = cx.eng.cli(&["tag", source, &name]);
        assert!(out.ok(), "{} tag failed: {}", cx.eng.name, out.stderr);
        LocalTag { cx, name }
    }
}

impl Drop for LocalTag<'_> {
    fn drop(&mut self) {
        let out = match self.cx.eng.name {
            "docker" => self.cx.eng.cli(&["rmi", &self.name]),
            // `podman untag IMAGE` alone would remove every name of the image: name the one.
            _ => self.cx.eng.cli(&["untag", &self.name, &self.name]),
        };
        if !out.ok() {
            eprintln!(
                "warning: removing the tag {} failed: {}",
                self.name, out.stderr
            );
        }
    }
}

e2e_test!(locally_tagged_short_name_runs_without_a_pull, |cx| {
    // `podman tag … mytool-X:1` names it localhost/mytool-X:1; docker names it mytool-X:1.
    let short = format!("dh-mytool-{}:1", random_hex(4));
    let full = match cx.eng.name {
        "docker" => short.clone(),
        _ => format!("localhost/{short}"),
    };
    let _tag = LocalTag::new(cx, full.clone());
    let (wrapper, calls) = recording_engine(cx);
    let never = task("never", "", "", &["echo never ok"]).replace(IMAGE, &short);
    let present = task("present", "", "", &["echo present ok"])
        .replace(IMAGE, &short)
        .replace("pullPolicy: NEVER", "pullPolicy: IF_NOT_PRESENT");
    // Side by side, so that each runs whatever the other does.
    let group = format!(
        "- id: both\n  type: io.kestra.plugin.core.flow.Parallel\n  tasks:\n{}\n{}",
        indent(&never, 4),
        indent(&present, 4)
    );
    let f = cx.flow("local", &flow("local", &[group]));
    let mut args = cx.run_args(&f, &["--wait-removal"]);
    args[3] = wrapper.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(0);
    assert_eq!(run.logs("never", '|'), vec!["never ok"], "{}", run.dump());
    assert_eq!(
        run.logs("present", '|'),
        vec!["present ok"],
        "{}",
        run.dump()
    );
    assert!(!run.stderr.contains("Trying to pull"), "{}", run.dump());
    let calls = recorded_calls(&calls);
    // The run used the short name as written: podman resolved it to localhost/ itself.
    let ran: Vec<&Vec<String>> = calls.iter().filter(|c| c[0] == "run").collect();
    assert_eq!(ran.len(), 2, "{calls:?}");
    assert!(ran.iter().all(|c| c.contains(&short)), "{ran:?}");
    // One lookup per flow on podman (both tasks' image at once), none on docker.
    let lookups: Vec<&Vec<String>> = calls.iter().filter(|c| c[0] == "image").collect();
    match cx.eng.name {
        "docker" => assert!(lookups.is_empty(), "{lookups:?}"),
        _ => assert_eq!(
            lookups,
            vec![
                &["image", "inspect", "--format", "{{.Id}}", &short]
                    .map(String::from)
                    .to_vec()
            ],
            "{calls:?}"
        ),
    }
});
