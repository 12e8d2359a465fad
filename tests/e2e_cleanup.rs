//! End-to-end tests of what a run leaves behind and what `dockhand ps` / `dockhand cleanup`
//! show and remove, on Docker and on Podman (`NAME::docker`, `NAME::podman`): task working
//! directories, journals, and `--execution` / `--namespace` / `--flow` filters that keep other
//! executions' containers (on a shared engine, other users') alone.
//!
//! These tests run on the shared engines next to other tests: `cleanup` is only ever called
//! with a filter naming this test's own executions.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_cleanup

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

use common::{Ctx, Run, flow, relative_files_below, task};

/// `dockhand ARGS --engine E` with the test's state dir.
fn admin(cx: &Ctx, args: &[&str]) -> Run {
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--engine", cx.eng.name]);
    cx.dockhand(&a, &[])
}

/// Runs `flow` as execution `id` (another than the test's own, or the same).
fn run_as(cx: &Ctx, flow: &Path, id: &str) -> Run {
    let r = cx.run_as(flow, id, &[]);
    r.assert_code(0);
    r
}

fn journal(cx: &Ctx, id: &str) -> PathBuf {
    cx.tmp
        .path()
        .join("state/executions")
        .join(format!("{id}.jsonl"))
}

/// Removes the containers of extra executions (other than the test's own, which the harness
/// handles) when a test fails midway, so none leaks onto the shared engine.
struct Extra<'a>(&'a Ctx, Vec<String>);

impl Drop for Extra<'_> {
    fn drop(&mut self) {
        for id in &self.1 {
            let left = self.0.eng.containers_of(id);
            self.0.eng.remove(&left);
        }
    }
}

fn exists(cx: &Ctx, container: &str) -> bool {
    cx.eng
        .cli(&["container", "inspect", "--format", "{{.Name}}", container])
        .ok()
}

// ------------------------------------------------------------- working directories

e2e_test!(
    work_dirs_go_with_their_containers_and_cleanup_takes_the_rest,
    |cx| {
        let files = "inputFiles:\n  in.txt: some input\n  sub/data.csv: \"a,b\"";
        let f = cx.flow(
            "wd",
            &flow(
                "wd",
                &[
                    // delete: true (the default), with an output file: only that file stays.
                    task(
                        "outs",
                        &format!("{files}\noutputFiles:\n  - out.txt"),
                        "",
                        &["tr a-z A-Z < in.txt > out.txt", "echo scratch > tmp.txt"],
                    ),
                    // delete: true, no outputs: the directory goes.
                    task("plain", files, "", &["cat in.txt"]),
                    // delete: false: container and directory stay for inspection.
                    task("kept", files, "delete: false", &["echo left > left.txt"]),
                ],
            ),
        );
        let run = cx.run_with(&f, &["--wait-removal"], &[]);
        run.assert_code(0);

        let outs = cx.workdir("outs");
        assert_eq!(relative_files_below(&outs), ["out.txt"], "{}", run.dump());
        let listed = run.task("outs")["outputFiles"].clone();
        assert_eq!(
            listed,
            serde_json::json!([outs.join("out.txt").display().to_string()]),
            "{}",
            run.dump()
        );
        assert_eq!(
            std::fs::read_to_string(outs.join("out.txt")).unwrap(),
            "SOME INPUT"
        );
        assert!(
            !cx.workdir("plain").exists(),
            "the working directory of a removed container is still there: {:?}\n{}",
            relative_files_below(&cx.workdir("plain")),
            run.dump()
        );
        assert_eq!(
            relative_files_below(&cx.workdir("kept")),
            // VOLUME (the default): left.txt is in the container, which copies back outputs only.
            ["in.txt", "sub/data.csv"],
            "{}",
            run.dump()
        );
        assert!(exists(cx, &cx.container("kept")), "{}", run.dump());
        assert!(!exists(cx, &cx.container("outs")), "{}", run.dump());

        // cleanup (of this execution only): the kept container, then the ended execution's
        // journal and working directories, output files included.
        let c = admin(cx, &["cleanup", "--execution", &cx.id]);
        c.assert_code(0);
        assert!(!exists(cx, &cx.container("kept")), "{}", c.dump());
        assert!(!cx.state_journal().exists(), "{}", c.dump());
        assert_no_dirs_left(cx, &c.dump());
        assert!(
            c.stdout
                .contains(&format!("removing journal of execution {}", cx.id)),
            "{}",
            c.dump()
        );
    }
);

/// Neither the execution's working directory nor its private one is left on the host.
fn assert_no_dirs_left(cx: &Ctx, dump: &str) {
    let exec_dir = cx.work().join(&cx.id);
    assert!(
        !exec_dir.exists(),
        "left in {}: {:?}\n{dump}",
        exec_dir.display(),
        relative_files_below(&exec_dir),
    );
    let private = cx.work().join(".private").join(&cx.id);
    assert!(!private.exists(), "{} is left\n{dump}", private.display());
}

e2e_test!(a_run_without_outputs_leaves_no_work_dir, |cx| {
    let f = cx.flow(
        "nowd",
        &flow(
            "nowd",
            &[
                task("a", "inputFiles:\n  x.txt: x", "", &["cat x.txt"]),
                task("b", "env:\n  HOME: /elsewhere", "", &["echo $HOME"]),
            ],
        ),
    );
    let run = cx.run_with(&f, &["--wait-removal"], &[]);
    run.assert_code(0);
    assert_no_dirs_left(cx, &run.dump());
});

// ----------------------------------------------------------------------- filters

e2e_test!(filtered_cleanup_leaves_other_executions_alone, |cx| {
    let one = cx.flow(
        "keep_one",
        &flow("keep_one", &[task("t", "", "delete: false", &["echo one"])]),
    );
    let two = cx.flow(
        "keep_two",
        &flow("keep_two", &[task("t", "", "delete: false", &["echo two"])]),
    );
    let (id1, id2) = (cx.id.clone(), format!("{}-2", cx.id));
    let _extra = Extra(cx, vec![id2.clone()]);
    run_as(cx, &one, &id1);
    run_as(cx, &two, &id2);
    let (c1, c2) = (format!("dh-{id1}-t-1"), format!("dh-{id2}-t-1"));
    assert!(exists(cx, &c1) && exists(cx, &c2));

    // ps filters.
    let ps = admin(cx, &["ps", "--execution", &id2]);
    ps.assert_code(0);
    assert!(
        ps.stdout.contains(&c2) && !ps.stdout.contains(&c1),
        "{}",
        ps.dump()
    );
    let ps = admin(
        cx,
        &["ps", "--namespace", "e2e.tests", "--flow", "keep_one"],
    );
    assert!(
        ps.stdout.contains(&c1) && !ps.stdout.contains(&c2),
        "{}",
        ps.dump()
    );

    // A filter nothing matches removes nothing.
    let c = admin(cx, &["cleanup", "--execution", &id1, "--flow", "keep_two"]);
    c.assert_code(0);
    assert!(exists(cx, &c1) && exists(cx, &c2), "{}", c.dump());
    assert!(c.stdout.contains("nothing to remove"), "{}", c.dump());

    // --execution: that execution's container and journal, not the other's.
    let c = admin(cx, &["cleanup", "--execution", &id1]);
    c.assert_code(0);
    assert!(!exists(cx, &c1), "{}", c.dump());
    assert!(
        exists(cx, &c2),
        "cleanup --execution removed another execution's container\n{}",
        c.dump()
    );
    assert!(!journal(cx, &id1).exists(), "{}", c.dump());
    assert!(journal(cx, &id2).exists(), "{}", c.dump());
    assert!(!c.stdout.contains(&id2), "{}", c.dump());

    // --namespace + --flow.
    let c = admin(
        cx,
        &["cleanup", "--namespace", "e2e.tests", "--flow", "keep_two"],
    );
    c.assert_code(0);
    assert!(!exists(cx, &c2), "{}", c.dump());
    assert!(!journal(cx, &id2).exists(), "{}", c.dump());
    assert!(cx.eng.containers_of(&id2).is_empty());
});

// ------------------------------------------------------------------------ ps layout

e2e_test!(ps_columns_stay_aligned_for_long_execution_ids, |cx| {
    // 64 characters, the longest id dockhand takes.
    let long = format!("{}-{}", cx.id, "x".repeat(63 - cx.id.len()));
    assert_eq!(long.len(), 64);
    let _extra = Extra(cx, vec![long.clone()]);
    let f = cx.flow(
        "wide",
        &flow(
            "a_rather_long_flow_id_for_the_column",
            &[task(
                "a_task_with_a_long_id",
                "",
                "delete: false",
                &["echo hi"],
            )],
        ),
    );
    run_as(cx, &f, &long);
    let name = format!("dh-{long}-a_task_with_a_long_id-1");

    let ps = admin(cx, &["ps"]);
    ps.assert_code(0);
    let lines: Vec<&str> = ps.stdout.lines().collect();
    let head = lines[0];
    let cols = [
        "CONTAINER",
        "EXECUTION",
        "FLOW",
        "TASK",
        "STATE",
        "AGE",
        "WATCHED",
    ];
    let starts: Vec<usize> = cols
        .iter()
        .map(|c| {
            head.find(c)
                .unwrap_or_else(|| panic!("no {c} in the header\n{}", ps.dump()))
        })
        .collect();
    let row = lines
        .iter()
        .find(|l| l.starts_with(&name))
        .unwrap_or_else(|| panic!("no row for {name}\n{}", ps.dump()));
    // Every row (this test's and whatever else runs on the engine): each value starts at its
    // heading's column, after at least two spaces.
    for l in &lines[1..] {
        for (c, &s) in cols.iter().zip(&starts).skip(1) {
            assert!(
                l.len() > s && &l[s - 2..s] == "  " && !l[s..].starts_with(' '),
                "column {c} (at {s}) is not aligned in\n{l}\n{head}\n{}",
                ps.dump()
            );
        }
    }
    let values: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        values[..5],
        [
            name.as_str(),
            long.as_str(),
            "e2e.tests.a_rather_long_flow_id_for_the_column",
            "a_task_with_a_long_id",
            "exited"
        ],
        "{}",
        ps.dump()
    );
    assert!(
        lines.iter().all(|l| !l.ends_with(' ')),
        "trailing spaces\n{}",
        ps.dump()
    );

    let c = admin(cx, &["cleanup", "--execution", &long]);
    c.assert_code(0);
    assert!(!exists(cx, &name), "{}", c.dump());
});
