//! End-to-end tests of what stays after a run, on Docker and on Podman: `dockhand executions`
//! lists it from its journal, `dockhand logs` prints its kept logs (a task's alone, secrets
//! masked as they were printed), and `cleanup` removes them with the journal.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_history

#[macro_use]
mod common;

use common::{Ctx, Run, flow, task};

/// `doc` is valid under docs/json/NAME.schema.json.
fn conforms(name: &str, doc: &serde_json::Value) {
    let path = format!(
        "{}/docs/json/{name}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let v = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{doc:#}");
}

fn cmd(cx: &Ctx, args: &[&str]) -> Run {
    cx.dockhand(args, &[])
}

e2e_test!(executions_and_logs_outlive_the_run, |cx| {
    let secret = "hunter2-e2e-history";
    let f = cx.flow(
        "hist",
        &flow(
            "hist",
            &[
                task(
                    "first",
                    "",
                    "",
                    &["echo one", "echo two >&2", "echo token {{ inputs.pw }}"],
                ),
                task("second", "", "", &["for i in 1 2 3; do echo line $i; done"]),
            ],
        )
        .replace("tasks:", "inputs:\n  - id: pw\n    type: SECRET\ntasks:"),
    );
    let run = cx.run_with(&f, &["--input-env", "pw=HIST_PW"], &[("HIST_PW", secret)]);
    run.assert_code(0);
    // The result of real container runs, as `run --json` printed it.
    conforms("run", &run.json);

    // The history lists it, with its flow, state and task count.
    let list = cmd(cx, &["executions", "--json", "--flow", "hist"]);
    list.assert_code(0);
    let doc: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    conforms("executions", &doc);
    let ps = cmd(
        cx,
        &[
            "ps",
            "--json",
            "--engine",
            cx.eng.name,
            "--execution",
            &cx.id,
        ],
    );
    ps.assert_code(0);
    conforms("ps", &serde_json::from_str(&ps.stdout).unwrap());
    let ours: Vec<&serde_json::Value> = doc["executions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == cx.id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{}", list.dump());
    assert_eq!(ours[0]["state"], "SUCCESS");
    assert_eq!(ours[0]["tasks"], 2);
    assert_eq!(ours[0]["namespace"], "e2e.tests", "{}", list.dump());
    let table = cmd(cx, &["executions", "--state", "success"]);
    table.assert_code(0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(cx.id.as_str()))
        .unwrap_or_else(|| panic!("no row for {}:\n{}", cx.id, table.dump()));
    assert!(row.contains("hist") && row.contains("SUCCESS"), "{row}");
    let none = cmd(cx, &["executions", "--state", "FAILED", "--flow", "hist"]);
    assert!(!none.stdout.contains(cx.id.as_str()), "{}", none.dump());

    // The kept logs are the lines the run printed, in order, secret masked.
    let logs = cmd(cx, &["logs", &cx.id]);
    logs.assert_code(0);
    let kept: Vec<&str> = logs.stdout.lines().collect();
    let printed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("first ") || l.starts_with("second "))
        .collect();
    assert_eq!(kept, printed, "{}", logs.dump());
    assert!(kept.contains(&"first  ! two"), "{kept:?}");
    assert!(kept.contains(&"first  | token ******"), "{kept:?}");
    assert!(!logs.stdout.contains(secret));
    let second = cmd(cx, &["logs", &cx.id, "second"]);
    second.assert_code(0);
    assert_eq!(
        second.stdout,
        "second | line 1\nsecond | line 2\nsecond | line 3\n",
        "{}",
        second.dump()
    );
    let file = cx
        .tmp
        .path()
        .join(format!("state/executions/{}.log", cx.id));
    let raw = std::fs::read_to_string(&file).unwrap();
    assert!(!raw.contains(secret), "the kept log holds the secret");

    // A task that did not run, and an execution that does not exist: exit 2, said.
    let bad = cmd(cx, &["logs", &cx.id, "secnd"]);
    bad.assert_code(2);
    assert!(
        bad.stderr.contains("did you mean `second`"),
        "{}",
        bad.dump()
    );
    cmd(cx, &["logs", "nope-no-such-exec"]).assert_code(2);
    cmd(cx, &["logs", "../etc"]).assert_code(2);

    // cleanup takes the kept logs with the journal.
    let c = cmd(
        cx,
        &["cleanup", "--execution", &cx.id, "--engine", cx.eng.name],
    );
    c.assert_code(0);
    assert!(!file.exists(), "{}", c.dump());
    let after = cmd(cx, &["executions", "--json"]);
    assert!(!after.stdout.contains(cx.id.as_str()), "{}", after.dump());
});

e2e_test!(a_failed_run_is_listed_failed, |cx| {
    let f = cx.flow(
        "histfail",
        &flow(
            "histfail",
            &[task("boom", "", "", &["echo before", "exit 4"])],
        ),
    );
    cx.run(&f).assert_code(1);
    let list = cmd(cx, &["executions", "--json", "--state", "FAILED"]);
    let doc: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let e = doc["executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == cx.id.as_str())
        .unwrap_or_else(|| panic!("{}", list.dump()))
        .clone();
    assert_eq!(e["tasksFailed"], 1, "{e}");
    assert!(e["end"].as_u64().unwrap() >= e["start"].as_u64().unwrap());
    let logs = cmd(cx, &["logs", &cx.id, "boom"]);
    // With the failure, kept as Kestra logs it (at ERROR, for `errorLogs()`).
    assert_eq!(
        logs.stdout,
        "boom | before\nboom # ERROR command failed with exit code 4\n",
        "{}",
        logs.dump()
    );
});

// `logs --follow` prints lines as another dockhand process writes them and ends with it; a
// run killed with SIGKILL is INTERRUPTED until `resume` ends it, and the kept log then has
// every line exactly once.
e2e_test!(
    follow_a_running_execution_and_resume_an_interrupted_one,
    |cx| {
        let f = cx.flow(
            "histfollow",
            &flow(
                "histfollow",
                &[task(
                    "slow",
                    "",
                    "",
                    &["for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done"],
                )],
            ),
        );
        let run = cx.spawn(&f, &[], &[]);
        assert!(
            run.wait_line(common::RUN_LIMIT, |l| l.contains("tick 1")),
            "{}",
            run.stderr_so_far()
        );
        let follow = cx.dockhand(&["logs", &cx.id, "--follow"], &[]);
        follow.assert_code(0);
        let want: Vec<String> = (1..=6).map(|i| format!("slow | tick {i}")).collect();
        assert_eq!(
            follow.stdout.lines().collect::<Vec<_>>(),
            want,
            "{}",
            follow.dump()
        );
        run.finish(common::RUN_LIMIT).assert_code(0);

        // Killed mid-task: INTERRUPTED, then resumed to SUCCESS with each line kept once.
        let id2 = format!("{}-k", cx.id);
        let work = cx.work().display().to_string();
        let args: Vec<String> = [
            "run",
            &f.display().to_string(),
            "--engine",
            cx.eng.name,
            "--execution-id",
            &id2,
            "--work-dir",
            &work,
            "--state-dir",
            &cx.tmp.path().join("state").display().to_string(),
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let killed = common::Spawned::start(&args, &[]);
        assert!(
            killed.wait_line(common::RUN_LIMIT, |l| l.contains("tick 2")),
            "{}",
            killed.stderr_so_far()
        );
        killed.signal(libc::SIGKILL);
        let state = |id: &str| -> String {
            let l = cmd(cx, &["executions", "--json"]);
            let doc: serde_json::Value = serde_json::from_str(&l.stdout).unwrap();
            doc["executions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == id)
                .map(|e| e["state"].as_str().unwrap().to_string())
                .unwrap_or_default()
        };
        // The killed process's lock goes with it.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while state(&id2) != "INTERRUPTED" && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(state(&id2), "INTERRUPTED");
        let resumed = cx.dockhand(&["resume", &id2], &[]);
        resumed.assert_code(0);
        assert_eq!(state(&id2), "SUCCESS");
        let kept = cmd(cx, &["logs", &id2]);
        assert_eq!(
            kept.stdout.lines().collect::<Vec<_>>(),
            want,
            "{}",
            kept.dump()
        );
        let left = cx.eng.containers_of(&id2);
        cx.eng.remove(&left);
    }
);
