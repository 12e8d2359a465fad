//! Exit codes end to end, without an engine: every code `--help` and the README name is one of
//! [`dockhand::exit::Code`]'s, and a few kinds of ending exit with theirs through the real
//! binary (a bad flow, no engine, a failed task on the fake engine, a cleanup whose removal
//! cannot run).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dockhand::exit::{self, Code};

fn dockhand() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dockhand"));
    c.env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKHAND_ENGINE")
        .stdin(Stdio::null());
    c
}

fn help(path: &[&str]) -> String {
    let out = dockhand().args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "dockhand {path:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The codes an `Exit codes:` paragraph names: the numbers that start its items (`0 success,
/// 1 a task FAILED, ...`, or one per line in the top-level block).
fn codes_in(text: &str) -> Vec<BTreeSet<i32>> {
    let item = regex::Regex::new(r"(?:Exit codes?:|[,;]|\n)\s*`?(\d+)`?\b").unwrap();
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("Exit code") {
        let para = &rest[i..];
        let end = para.find("\n\n").unwrap_or(para.len());
        let para = &para[..end];
        out.push(
            item.captures_iter(para)
                .map(|c| c[1].parse().unwrap())
                .collect(),
        );
        rest = &rest[i + end..];
    }
    out
}

fn known() -> BTreeSet<i32> {
    Code::ALL.iter().map(|c| c.value()).collect()
}

#[test]
fn every_help_exit_code_is_a_defined_one() {
    let top = help(&[]);
    assert!(top.contains(&exit::help_block()), "{top}");
    let commands: &[&[&str]] = &[
        &["validate"],
        &["plan"],
        &["run"],
        &["resume"],
        &["ps"],
        &["cleanup"],
        &["schema"],
        &["registry", "insecure"],
        &["registry", "insecure", "add"],
        &["registry", "insecure", "remove"],
        &["registry", "insecure", "list"],
    ];
    for path in commands {
        let text = help(path);
        let found = codes_in(&text);
        assert!(
            !found.is_empty(),
            "dockhand {path:?} --help names no exit codes"
        );
        for codes in found {
            assert!(
                !codes.is_empty(),
                "dockhand {path:?}: an empty Exit codes line"
            );
            assert!(
                codes.is_subset(&known()),
                "dockhand {path:?} --help names {codes:?}, not all in {:?}",
                known()
            );
        }
    }
}

/// The parser itself: a paragraph with an unknown code is seen as such.
#[test]
fn the_parser_reads_each_item() {
    let found = codes_in("x\nExit codes: 0 done, 2 bad (nothing), 3 host; 7 odd.\n\nmore");
    assert_eq!(found, [BTreeSet::from([0, 2, 3, 7])]);
    assert_eq!(codes_in("Exit code: 0."), [BTreeSet::from([0])]);
}

#[test]
fn readme_exit_codes_are_the_defined_ones() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table: BTreeSet<i32> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| exit code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .flat_map(|l| {
            l.split('|')
                .nth(1)
                .unwrap()
                .split('/')
                .map(|n| n.trim().parse::<i32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(table, known(), "the README's exit code table");
    for codes in codes_in(&readme) {
        assert!(codes.is_subset(&known()), "README names {codes:?}");
    }
}

fn status(o: &Output) -> i32 {
    o.status.code().expect("killed by a signal")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const FLOW: &str = "id: f\nnamespace: tests.exit\ntasks:\n  - id: only\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: busybox\n    commands:\n      - echo hi\n";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new(flow: &str) -> Dir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("flow.yaml"), flow).unwrap();
        Dir(d)
    }
    fn path(&self, p: &str) -> PathBuf {
        self.0.path().join(p)
    }
    fn run(&self, engine: &Path, case: &str) -> Output {
        dockhand()
            .arg("run")
            .arg(self.path("flow.yaml"))
            .arg("--engine")
            .arg(engine)
            .arg("--state-dir")
            .arg(self.path("state"))
            .arg("--work-dir")
            .arg(self.path("work"))
            .arg("--wait-removal")
            .env("FAKE_ENGINE_DIR", self.0.path())
            .env("FAKE_ENGINE_CASE", case)
            .output()
            .unwrap()
    }
}

fn fake_engine() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-engine/docker")
}

#[test]
fn a_bad_flow_exits_2_and_nothing_runs() {
    let d = Dir::new("id: f\nnamespace: tests.exit\ntasks:\n  - id: only\n    type: nope\n");
    let o = d.run(&fake_engine(), "ok");
    assert_eq!(status(&o), Code::Invalid.value(), "{}", stderr(&o));
    assert!(stderr(&o).contains("flow.yaml:5:"), "{}", stderr(&o));
    assert!(!d.path("calls").exists(), "the engine was called");
    let v = dockhand()
        .arg("validate")
        .arg(d.path("flow.yaml"))
        .output()
        .unwrap();
    assert_eq!(status(&v), 2, "{}", stderr(&v));
}

#[test]
fn no_engine_exits_3_with_one_error_line() {
    let d = Dir::new(FLOW);
    let o = d.run(&d.path("no-such-engine/docker"), "ok");
    assert_eq!(status(&o), Code::Engine.value(), "{}", stderr(&o));
    let errors: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.contains("error"))
        .map(String::from)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("dockhand: error: engine CLI `"),
        "{errors:?}"
    );
}

#[test]
fn a_failed_task_exits_1() {
    let d = Dir::new(FLOW);
    let o = d.run(&fake_engine(), "exit3");
    assert_eq!(status(&o), Code::FlowFailed.value(), "{}", stderr(&o));
    assert!(stderr(&o).contains("FAILED"), "{}", stderr(&o));
    let ok = d.run(&fake_engine(), "ok");
    assert_eq!(status(&ok), Code::Ok.value(), "{}", stderr(&ok));
}

#[test]
fn resume_without_a_journal_exits_2() {
    let d = Dir::new(FLOW);
    let o = dockhand()
        .args(["resume", "nosuchexec1"])
        .arg("--state-dir")
        .arg(d.path("state"))
        .output()
        .unwrap();
    assert_eq!(status(&o), Code::Invalid.value(), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("dockhand: error: no journal for execution nosuchexec1"),
        "{}",
        stderr(&o)
    );
}

/// An engine whose CLI lists one dockhand container and then is gone (it deletes itself), so
/// cleanup's removal cannot even start: that is the engine failing after containers were
/// found, exit 3 with one error line, not "invalid input".
#[test]
fn cleanup_whose_removal_cannot_run_exits_3() {
    let d = Dir::new(FLOW);
    let engine = d.path("engine/docker");
    std::fs::create_dir_all(engine.parent().unwrap()).unwrap();
    std::fs::write(
        &engine,
        r#"#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in --host) shift 2 ;; *) break ;; esac; done
case "$1" in
  version) echo 28.2.2 ;;
  ps) echo c0ffee ;;
  inspect)
    printf 'c0ffee\t"/dh-gone"\t"exited"\t"2026-01-01T00:00:00Z"\t{"io.dockhand.managed":"true","io.dockhand.execution":"gone1","io.dockhand.task":"t"}\n'
    rm -f "$0" ;;
  *) exit 99 ;;
esac
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&engine, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = dockhand()
        .arg("cleanup")
        .arg("--engine")
        .arg(&engine)
        .arg("--state-dir")
        .arg(d.path("state"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("removing dh-gone (execution gone1"), "{out}");
    assert_eq!(status(&o), Code::Engine.value(), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("dockhand: error: removing containers failed: "),
        "{}",
        stderr(&o)
    );
}
