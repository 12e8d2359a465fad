//! End-to-end tests of flow control (README, "Flow control") on real engines, through the built
//! binary: a ForEach whose second value fails, with the flow's `errors` and `finally` (states
//! and logs as Kestra gives them); a task retried until its third attempt succeeds (each attempt
//! a new container and journal attempt); If and Switch branches with outputs across them; and
//! `kill -9` during a ForEach and during a retry delay, then `resume`: no finished run runs
//! again, the running one is re-attached, every log line appears once, and the retry waits only
//! for what is left of its delay.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_flow -- --test-threads 2

#[macro_use]
mod common;

use std::time::Duration;

use common::{Ctx, IMAGE, Run};
use serde_json::Value;

/// A shell task of `IMAGE` with `commands`, indented under a list at `indent` spaces.
fn sh(indent: usize, id: &str, extra: &str, commands: &[&str]) -> String {
    let pad = " ".repeat(indent);
    let mut s = format!(
        "{pad}- id: {id}\n{pad}  type: io.kestra.plugin.scripts.shell.Commands\n{pad}  containerImage: {IMAGE}\n"
    );
    for l in extra.lines().filter(|l| !l.trim().is_empty()) {
        s.push_str(&format!("{pad}  {l}\n"));
    }
    s.push_str(&format!("{pad}  commands:\n"));
    for c in commands {
        s.push_str(&format!(
            "{pad}    - {}\n",
            serde_json::to_string(c).unwrap()
        ));
    }
    s
}

/// The results of task `id`, one per run, as (values, state).
fn runs_of(run: &Run, id: &str) -> Vec<(Vec<String>, String)> {
    run.tasks()
        .into_iter()
        .filter(|t| t["id"] == id)
        .map(|t| {
            let values = t["values"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (values, t["state"].as_str().unwrap_or("?").to_string())
        })
        .collect()
}

fn run_of(values: &[&str], state: &str) -> (Vec<String>, String) {
    (
        values.iter().map(|s| s.to_string()).collect(),
        state.to_string(),
    )
}

/// The journal's records, in order.
fn journal(cx: &Ctx) -> Vec<Value> {
    let text = std::fs::read_to_string(cx.state_journal()).expect("a journal");
    text.lines()
        .map_while(|l| serde_json::from_str(l).ok())
        .collect()
}

fn records<'a>(j: &'a [Value], kind: &str, task: &str) -> Vec<&'a Value> {
    j.iter()
        .filter(|r| r["t"] == kind && r["task"] == task)
        .collect()
}

fn resume(cx: &Ctx) -> Run {
    cx.dockhand(&["resume", &cx.id, "--json"], &[])
}

/// Starts the flow, waits for the stderr line `line`, then kills dockhand with SIGKILL.
fn run_until_line(cx: &Ctx, flow: &std::path::Path, line: &str) -> Run {
    let sp = cx.spawn(flow, &[], &[]);
    let seen = sp.wait_line(Duration::from_secs(90), |l| l.contains(line));
    assert!(seen, "`{line}` never came\n{}", sp.stderr_so_far());
    std::thread::sleep(Duration::from_millis(30));
    sp.signal(libc::SIGKILL);
    let run = sp.finish(Duration::from_secs(20));
    assert_eq!(run.signal, Some(libc::SIGKILL), "{}", run.dump());
    run
}

fn foreach_flow() -> String {
    format!(
        "id: each\nnamespace: e2e.flow\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [a, b, c]\n    tasks:\n{}errors:\n{}finally:\n{}",
        sh(
            6,
            "item",
            "",
            &[
                "echo item {{ taskrun.value }} at {{ taskrun.iteration }}",
                "[ \"{{ taskrun.value }}\" != b ] || exit 3",
            ]
        ),
        sh(2, "on_error", "", &["echo handled"]),
        sh(2, "cleanup", "", &["echo cleanup ran"]),
    )
}

// A ForEach over three values whose second fails: Kestra runs `a`, fails on `b`, never starts
// `c`; the ForEach is FAILED, the flow's errors handler runs, then `finally`; the execution is
// FAILED although the handler succeeded.
e2e_test!(foreach_second_value_fails_and_errors_runs, |cx| {
    let flow = cx.flow("each", &foreach_flow());
    let run = cx.run(&flow);
    run.assert_code(1);
    assert_eq!(run.json["state"], "FAILED", "{}", run.dump());
    assert_eq!(
        runs_of(&run, "item"),
        vec![run_of(&["a"], "SUCCESS"), run_of(&["b"], "FAILED")],
        "{}",
        run.dump()
    );
    assert_eq!(run.task("item")["exitCode"], 0);
    assert_eq!(runs_of(&run, "each"), vec![run_of(&[], "FAILED")]);
    assert_eq!(run.task("on_error")["state"], "SUCCESS");
    assert_eq!(run.task("cleanup")["state"], "SUCCESS");
    assert_eq!(run.logs("item.0", '|'), ["item a at 0"]);
    assert_eq!(run.logs("item.1", '|'), ["item b at 1"]);
    assert!(run.logs("item.2", '|').is_empty(), "{}", run.dump());
    assert_eq!(run.logs("on_error", '|'), ["handled"]);
    assert_eq!(run.logs("cleanup", '|'), ["cleanup ran"]);
    // Each run had its own container and attempt in the journal.
    let j = journal(cx);
    assert_eq!(records(&j, "task_start", "item.0").len(), 1);
    assert_eq!(records(&j, "task_start", "item.1").len(), 1);
    assert!(records(&j, "task_start", "item.2").is_empty());
    assert_eq!(
        records(&j, "task_start", "item.1")[0]["container"],
        format!("dh-{}-item.1-1", cx.id)
    );
    assert_eq!(
        records(&j, "decision", "each")[0]["value"],
        serde_json::json!(["a", "b", "c"])
    );
    cx.assert_no_containers();
});

// A task that fails twice and succeeds on its third attempt: three containers, three journal
// attempts, two journaled waits of the constant interval; SUCCESS with `attempts: 3`.
e2e_test!(retry_succeeds_on_the_third_attempt, |cx| {
    let flow = cx.flow(
        "retry",
        &format!(
            "id: retry\nnamespace: e2e.flow\ntasks:\n{}",
            sh(
                2,
                "flaky",
                "retry:\n  type: constant\n  interval: PT1S\n  maxAttempts: 5",
                &[
                    "echo attempt {{ taskrun.attemptsCount }}",
                    "[ {{ taskrun.attemptsCount }} -ge 2 ]",
                ]
            )
        ),
    );
    let run = cx.run(&flow);
    run.assert_code(0);
    let t = run.task("flaky");
    assert_eq!(t["state"], "SUCCESS", "{}", run.dump());
    assert_eq!(t["attempts"], 3);
    assert_eq!(t["container"], format!("dh-{}-flaky-3", cx.id));
    assert_eq!(
        run.logs("flaky", '|'),
        ["attempt 0", "attempt 1", "attempt 2"]
    );
    let j = journal(cx);
    let starts: Vec<(u64, String)> = records(&j, "task_start", "flaky")
        .iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap(),
                r["container"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        starts,
        (1..=3)
            .map(|a| (a, format!("dh-{}-flaky-{a}", cx.id)))
            .collect::<Vec<_>>()
    );
    let waits = records(&j, "retry_wait", "flaky");
    assert_eq!(waits.len(), 2);
    assert!(run.elapsed >= Duration::from_secs(2), "{}", run.dump());
    cx.assert_no_containers();
});

// If and Switch take the branch Kestra takes; outputs of a ForEach's runs are read as
// `outputs.ID['VALUE']` and `outputs.ID.VALUE`, an If's as `outputs.ID.evaluationResult`.
e2e_test!(if_and_switch_branches_and_outputs, |cx| {
    let text = format!(
        "id: branches\nnamespace: e2e.flow\ninputs:\n  - id: mode\n    type: STRING\n    defaults: full\ntasks:\n  - id: check\n    type: io.kestra.plugin.core.flow.If\n    condition: \"{{{{ inputs.mode == 'full' }}}}\"\n    then:\n{}    else:\n{}  - id: never\n    type: io.kestra.plugin.core.flow.If\n    condition: \"{{{{ inputs.mode == 'nope' }}}}\"\n    then:\n{}  - id: route\n    type: io.kestra.plugin.core.flow.Switch\n    value: \"{{{{ inputs.mode }}}}\"\n    cases:\n      quick:\n{}      full:\n{}    defaults:\n{}  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: '[\"x\", \"y\"]'\n    concurrencyLimit: 0\n    tasks:\n{}{}",
        sh(6, "then_ran", "", &["echo then"]),
        sh(6, "else_ran", "", &["echo else"]),
        sh(6, "never_ran", "", &["echo never"]),
        sh(8, "quick_ran", "", &["echo quick"]),
        sh(8, "full_ran", "", &["echo full"]),
        sh(6, "default_ran", "", &["echo default"]),
        sh(
            6,
            "produce",
            "",
            &["echo '::{\"outputs\":{\"v\":\"got-{{ taskrun.value }}\"}}::'"]
        ),
        sh(
            2,
            "read",
            "runIf: \"{{ outputs.check.evaluationResult }}\"",
            &[
                "echo {{ outputs.produce['x'].vars.v }} {{ outputs.produce.y.vars.v }} {{ outputs.check.evaluationResult }} {{ outputs.route.value }}"
            ]
        ),
    );
    let flow = cx.flow("branches", &text);
    let run = cx.run(&flow);
    run.assert_code(0);
    assert_eq!(run.json["state"], "SUCCESS", "{}", run.dump());
    for (id, ran) in [
        ("then_ran", true),
        ("else_ran", false),
        ("never_ran", false),
        ("quick_ran", false),
        ("full_ran", true),
        ("default_ran", false),
    ] {
        assert_eq!(run.has_task(id), ran, "{id}\n{}", run.dump());
        assert_eq!(!run.logs(id, '|').is_empty(), ran, "{id}\n{}", run.dump());
    }
    assert_eq!(run.task("check")["message"], "condition true: then");
    assert_eq!(run.task("never")["state"], "SUCCESS");
    assert_eq!(run.task("route")["message"], "value `full`: case `full`");
    // Both values ran side by side (concurrencyLimit 0): in either order.
    let mut produced = runs_of(&run, "produce");
    produced.sort();
    assert_eq!(
        produced,
        vec![run_of(&["x"], "SUCCESS"), run_of(&["y"], "SUCCESS")]
    );
    assert_eq!(run.logs("read", '|'), ["got-x got-y true full"]);
    cx.assert_no_containers();
});

// kill -9 while the second value of a ForEach runs, then resume: the first value's run is not
// run again, the second's container is re-attached (its log continues where it stopped), the
// third runs once; every line appears exactly once over both runs, the container's and those of
// a Log beside it (an in-process task, journaled per value too).
e2e_test!(kill9_during_foreach_then_resume, |cx| {
    let text = format!(
        "id: crash_each\nnamespace: e2e.flow\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [a, b, c]\n    tasks:\n      - id: say\n        type: io.kestra.plugin.core.log.Log\n        message: \"say {{{{ taskrun.value }}}}\"\n{}",
        sh(
            6,
            "count",
            "",
            &["for i in $(seq 1 20); do echo \"{{ taskrun.value }} $i\"; sleep 0.1; done"]
        )
    );
    let flow = cx.flow("crash_each", &text);
    let first = run_until_line(cx, &flow, "count.1 | b 5");
    let second = resume(cx);
    second.assert_code(0);
    assert_eq!(second.json["state"], "SUCCESS", "{}", second.dump());
    for (i, v) in ["a", "b", "c"].iter().enumerate() {
        let id = format!("count.{i}");
        let mut lines = first.logs(&id, '|');
        lines.extend(second.logs(&id, '|'));
        let want: Vec<String> = (1..=20).map(|n| format!("{v} {n}")).collect();
        assert_eq!(lines, want, "{id}\n{}\n{}", first.dump(), second.dump());
        // The in-process Log of each value, once over both runs (journaled by run, `say.1`).
        let id = format!("say.{i}");
        let mut said = first.logs(&id, '|');
        said.extend(second.logs(&id, '|'));
        assert_eq!(said, [format!("say {v}")], "{id}\n{}", second.dump());
    }
    let j = journal(cx);
    for i in 0..3 {
        assert_eq!(
            records(&j, "task_start", &format!("count.{i}")).len(),
            1,
            "count.{i} started more than once"
        );
    }
    assert!(
        second
            .stderr
            .contains("count[a]: SUCCESS (from the journal, not run again)"),
        "{}",
        second.dump()
    );
    assert!(second.stderr.contains("re-attaching"), "{}", second.dump());
    assert_eq!(
        runs_of(&second, "count"),
        vec![
            run_of(&["a"], "SUCCESS"),
            run_of(&["b"], "SUCCESS"),
            run_of(&["c"], "SUCCESS")
        ]
    );
    assert_eq!(runs_of(&second, "say"), runs_of(&second, "count"));
    cx.assert_no_containers();
});

// kill -9 while a retry waits, then resume: the resumed run waits only for what is left of the
// delay (the wait was journaled with its end time), then starts the next attempt; no attempt
// runs twice and every line appears once.
e2e_test!(kill9_during_retry_delay_then_resume, |cx| {
    let flow = cx.flow(
        "crash_retry",
        &format!(
            "id: crash_retry\nnamespace: e2e.flow\ntasks:\n{}",
            sh(
                2,
                "flaky",
                "retry:\n  type: constant\n  interval: PT8S\n  maxAttempts: 3",
                &[
                    "echo attempt {{ taskrun.attemptsCount }}",
                    "[ {{ taskrun.attemptsCount }} -ge 1 ]",
                ]
            )
        ),
    );
    let first = run_until_line(cx, &flow, "attempt 2 in");
    std::thread::sleep(Duration::from_secs(2));
    let resumed_at = std::time::Instant::now();
    let second = resume(cx);
    second.assert_code(0);
    let t = second.task("flaky");
    assert_eq!(t["state"], "SUCCESS", "{}", second.dump());
    assert_eq!(t["attempts"], 2);
    let mut lines = first.logs("flaky", '|');
    lines.extend(second.logs("flaky", '|'));
    assert_eq!(
        lines,
        ["attempt 0", "attempt 1"],
        "{}\n{}",
        first.dump(),
        second.dump()
    );
    let j = journal(cx);
    let waits = records(&j, "retry_wait", "flaky");
    assert_eq!(waits.len(), 1);
    let until_ms = waits[0]["until_ms"].as_u64().unwrap();
    let starts = records(&j, "task_start", "flaky");
    assert_eq!(starts.len(), 2);
    // The second attempt started when the journaled wait ended (seconds, to the millisecond, in
    // the journal), not a whole interval after the resume.
    let at = starts[1]["at"].as_f64().unwrap();
    assert!(at + 1.0 >= until_ms as f64 / 1000.0, "{at} vs {until_ms}");
    assert!(
        resumed_at.elapsed() < Duration::from_secs(8 + 4),
        "{}",
        second.dump()
    );
    let said = second
        .stderr
        .lines()
        .find(|l| l.contains("attempt 2 starts in"))
        .unwrap_or_else(|| panic!("no resume wait line\n{}", second.dump()));
    let secs: f64 = said
        .rsplit("starts in ")
        .next()
        .and_then(|s| s.trim_end_matches(" s").parse().ok())
        .unwrap();
    assert!(secs < 7.0, "waited {secs} s again: {said}");
    cx.assert_no_containers();
});
