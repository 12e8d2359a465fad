//! End-to-end tests of ForEachItem batches running side by side on Docker and on Podman
//! (`NAME::docker`, `NAME::podman`): every batch's container is seen running at the same time
//! and the merged outputs stay in batch order whatever order the batches end in; the child
//! flow's `concurrency` bounds them (QUEUE: never more than `limit` running; CANCEL: the
//! batches over it end CANCELLED, and a resume does not run them; FAIL: they end FAILED and
//! fail the task); and `kill -9` with several batches in flight, then `resume`: every batch
//! line exactly once.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_for_each_item

#[macro_use]
mod common;

use std::time::Duration;

use common::IMAGE;

/// A flow `id` of namespace `tests.e2e` run once per batch: it prints `batch N start`, sleeps
/// as many seconds as its batch file says, prints `batch N done`, and outputs `n: N`.
fn batch_flow(cx: &common::Ctx, id: &str, rest: &str) {
    cx.flow(
        id,
        &format!(
            r#"id: {id}
namespace: tests.e2e
{rest}inputs:
  - {{id: items, type: STRING}}
  - {{id: iteration, type: INT}}
tasks:
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    inputFiles:
      batch.txt: "{{{{ inputs.items }}}}"
    commands:
      - 'echo "batch {{{{ inputs.iteration }}}} start"'
      - 'sleep $(cat batch.txt)'
      - 'echo "batch {{{{ inputs.iteration }}}} done"'
      - 'echo "::{{\"outputs\":{{\"n\":{{{{ inputs.iteration }}}}}}}}::"'
outputs:
  - {{id: n, type: INT, value: "{{{{ outputs.work.vars.n }}}}"}}
"#
        ),
    );
}

/// A parent flow running `child` once per line of its FILE input, then logging the counts
/// and the merged outputs.
fn parent_flow(cx: &common::Ctx, name: &str, child: &str) -> std::path::PathBuf {
    cx.flow(
        name,
        &format!(
            r#"id: {name}
namespace: tests.e2e
inputs:
  - {{id: file, type: FILE}}
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ inputs.file }}}}"
    namespace: tests.e2e
    flowId: {child}
    inputs:
      items: "{{{{ taskrun.items }}}}"
      iteration: "{{{{ taskrun.iteration }}}}"
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: "merged: {{{{ read(outputs.each_merge.subflowOutputs) | trim | replace({{'\n': ' '}}) }}}}"
  - id: counts
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ outputs.each_items.iterations.SUCCESS ?? 0 }}}} SUCCESS of {{{{ outputs.each_items.numberOfBatches }}}}"
"#
        ),
    )
}

/// The file of batch sleeps, one line (one batch) each.
fn items(cx: &common::Ctx, secs: &[u32]) -> String {
    let data = cx.tmp.path().join("items.txt");
    let text: String = secs.iter().map(|s| format!("{s}\n")).collect();
    std::fs::write(&data, text).unwrap();
    format!("file={}", data.display())
}

/// How many containers of the test's child executions (named `dh-PARENT_ID-...`) run now.
fn running_children(cx: &common::Ctx) -> usize {
    let head: String = cx.id.chars().take(51).collect();
    let filter = format!("name=dh-{head}-");
    let out = cx.eng.cli(&[
        "ps",
        "--filter",
        &filter,
        "--filter",
        "status=running",
        "--format",
        "{{.Names}}",
    ]);
    assert!(out.ok(), "{} ps failed: {}", cx.eng.name, out.stderr);
    out.stdout.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Runs the parent to its end, counting the child containers running at once every ~200 ms;
/// the run and the most seen at once.
fn run_watching(cx: &common::Ctx, parent: &std::path::Path, input: &str) -> (common::Run, usize) {
    let mut spawned = cx.spawn(parent, &["--input", input], &[]);
    let mut most = 0;
    while spawned.running() && spawned.started.elapsed() < Duration::from_secs(240) {
        most = most.max(running_children(cx));
        std::thread::sleep(Duration::from_millis(200));
    }
    (spawned.finish(Duration::from_secs(60)), most)
}

/// Whether `l` is the batch task's output line `text` (`work | text`, the prefix padded to
/// the widest task id).
fn is_line(l: &str, text: &str) -> bool {
    l.split_once(" | ")
        .is_some_and(|(task, rest)| task.trim() == "work" && rest == text)
}

/// Where the batch task's line `text` is in `all`.
fn line_at(all: &str, text: &str) -> usize {
    all.lines()
        .position(|l| is_line(l, text))
        .unwrap_or_else(|| panic!("no `{text}` in\n{all}"))
}

/// Every batch's start and done lines are in `all`, each once.
fn each_once(all: &str, n: usize) {
    for i in 1..=n {
        for what in ["start", "done"] {
            let text = format!("batch {i} {what}");
            assert_eq!(
                all.lines().filter(|l| is_line(l, &text)).count(),
                1,
                "`{text}`:\n{all}"
            );
        }
    }
}

/// The ForEachItem `each` of `run` succeeded and its `counts` task logged `counts`.
fn succeeded_with(run: &common::Run, counts: &str) {
    assert_eq!(run.task("each")["state"], "SUCCESS", "{}", run.dump());
    assert!(
        run.stderr.contains(&format!("counts | {counts}")),
        "{}",
        run.dump()
    );
}

e2e_test!(batches_run_side_by_side, |cx| {
    batch_flow(cx, "nap", "");
    let parent = parent_flow(cx, "parent", "nap");
    // Batch 1 sleeps longest: it ends last, batches 3 and 4 first.
    let secs = [8, 6, 4, 4];
    let input = items(cx, &secs);
    let (run, most) = run_watching(cx, &parent, &input);
    run.assert_code(0);
    // All four containers ran at the same time (one after the other, never more than one).
    assert_eq!(
        most, 4,
        "at most {most} batch container(s) seen running at once"
    );
    // And the whole took well under the sum of the sleeps (22 s) that running them in turn
    // takes at least.
    let sum: u32 = secs.iter().sum();
    assert!(
        run.elapsed < Duration::from_secs(sum as u64),
        "{:?}\n{}",
        run.elapsed,
        run.dump()
    );
    each_once(&run.stderr, 4);
    assert!(line_at(&run.stderr, "batch 3 done") < line_at(&run.stderr, "batch 1 done"));
    // The merged outputs are in batch order, not in the order the batches ended.
    assert!(
        run.stderr
            .contains(r#"merged: {"n":1} {"n":2} {"n":3} {"n":4}"#),
        "{}",
        run.dump()
    );
    succeeded_with(&run, "4 SUCCESS of 4");
});

e2e_test!(batches_keep_child_concurrency, |cx| {
    // QUEUE: never more than `limit` batches run; the others wait their turn.
    batch_flow(cx, "queued", "concurrency:\n  limit: 2\n");
    let parent = parent_flow(cx, "parent", "queued");
    let input = items(cx, &[4, 4, 4, 4]);
    let (run, most) = run_watching(cx, &parent, &input);
    run.assert_code(0);
    assert_eq!(most, 2, "{most} batch container(s) seen running at once");
    each_once(&run.stderr, 4);
    assert!(
        run.stderr
            .contains("waits: the concurrency limit of flow tests.e2e.queued"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains(r#"merged: {"n":1} {"n":2} {"n":3} {"n":4}"#),
        "{}",
        run.dump()
    );
    // FAIL: batch 2 ends FAILED without running, which fails the task (transmitFailed).
    batch_flow(
        cx,
        "failing",
        "concurrency:\n  limit: 1\n  behavior: FAIL\n",
    );
    let parent = parent_flow(cx, "parent3", "failing");
    let input = items(cx, &[4, 4]);
    let mut args = cx.run_args(&parent, &["--input", &input]);
    args[5] = format!("{}-f", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&a, &[]);
    run.assert_code(1);
    let each = run.task("each");
    assert_eq!(each["state"], "FAILED", "{}", run.dump());
    assert!(
        each["message"]
            .as_str()
            .unwrap_or_default()
            .contains("2 batch(es) of flow tests.e2e.failing: 1 FAILED, 1 SUCCESS"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("behavior FAIL") && !run.stderr.contains("batch 2 start"),
        "{}",
        run.dump()
    );
    // CANCEL: with the one slot held by batch 1, batches 2 and 3 end CANCELLED at once, and
    // a resume does not run them after all.
    batch_flow(
        cx,
        "cancelling",
        "concurrency:\n  limit: 1\n  behavior: CANCEL\n",
    );
    let parent = cx.flow(
        "parent2",
        "id: parent2\nnamespace: tests.e2e\ninputs:\n  - {id: file, type: FILE}\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEachItem\n    items: \"{{ inputs.file }}\"\n    namespace: tests.e2e\n    flowId: cancelling\n    inputs:\n      items: \"{{ taskrun.items }}\"\n      iteration: \"{{ taskrun.iteration }}\"\n  - id: counts\n    type: io.kestra.plugin.core.log.Log\n    message: \"{{ outputs.each_items.iterations.SUCCESS }} SUCCESS {{ outputs.each_items.iterations.CANCELLED }} CANCELLED\"\n",
    );
    let input = items(cx, &[5, 5, 5]);
    let mut args = cx.run_args(&parent, &["--input", &input]);
    args[5] = format!("{}-c", cx.id);
    // Killed while batch 1 runs, batches 2 and 3 cancelled already; then resumed.
    let first = common::Spawned::start(&args, &cx.env(&[]));
    let cancelled = std::sync::Mutex::new(0);
    assert!(
        first.wait_line(Duration::from_secs(120), |l| {
            let mut n = cancelled.lock().unwrap();
            let why = "not run: 1 execution(s) of tests.e2e.cancelling are running";
            if l.contains(") CANCELLED: ") && l.contains(why) {
                *n += 1;
            }
            *n == 2
        }),
        "{}",
        first.stderr_so_far()
    );
    let (before, resumed) = cx.kill_then_resume(first, &args[5]);
    // The task succeeds (Kestra's terminal state counts FAILED, KILLED and WARNING only).
    succeeded_with(&resumed, "1 SUCCESS 2 CANCELLED");
    // Batch 1 ran once (re-attached), the cancelled ones never.
    let all = format!("{before}{}", resumed.stderr);
    for (text, n) in [
        ("batch 1 start", 1),
        ("batch 1 done", 1),
        ("batch 2 start", 0),
        ("batch 3 start", 0),
    ] {
        assert_eq!(
            all.lines().filter(|l| is_line(l, text)).count(),
            n,
            "`{text}`:\n{all}"
        );
    }
});

e2e_test!(batches_killed_in_flight_resume, |cx| {
    batch_flow(cx, "inflight", "");
    let parent = parent_flow(cx, "parent", "inflight");
    // Batch 1 ends before the kill; batches 2 to 4 are all running when it comes.
    let input = items(cx, &[1, 7, 7, 7]);
    let first = cx.spawn(&parent, &["--input", &input], &[]);
    let seen = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let want = [
        "batch 1 done",
        "batch 2 start",
        "batch 3 start",
        "batch 4 start",
    ];
    assert!(
        first.wait_line(Duration::from_secs(120), |l| {
            let mut s = seen.lock().unwrap();
            if let Some(w) = want.iter().find(|w| is_line(l, w)) {
                s.insert(*w);
            }
            s.len() == want.len()
        }),
        "{}",
        first.stderr_so_far()
    );
    let (before, resumed) = cx.kill_then_resume(first, &cx.id);
    assert!(
        !before.lines().any(|l| is_line(l, "batch 2 done")),
        "{before}"
    );
    succeeded_with(&resumed, "4 SUCCESS of 4");
    // No batch ran twice: each line once, before and after the kill together; batch 1's
    // outputs come from its journal.
    each_once(&format!("{before}{}", resumed.stderr), 4);
    assert!(
        resumed
            .stderr
            .contains(r#"merged: {"n":1} {"n":2} {"n":3} {"n":4}"#),
        "{}",
        resumed.dump()
    );
});
