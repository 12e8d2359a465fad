//! Execution ids name files under the state directory (`executions/ID.jsonl`, `ID.lock`) and
//! the work directory: every command that takes one (`run --execution-id`, `plan
//! --execution-id`, `resume`, `ps --execution-id`, `cleanup --execution-id`) checks it the same
//! way, before anything is read or started: exit code 2 and one clear line. No engine needed.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn dockhand(args: &[&str], state: &Path) -> Out {
    let out = Command::new(BIN)
        .args(args)
        .env("DOCKHAND_STATE_DIR", state)
        .env("XDG_STATE_HOME", state)
        // No engine is ever reached: a bogus one makes sure of it.
        .env("DOCKHAND_ENGINE", "/nonexistent/engine")
        .output()
        .expect("run dockhand");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const BAD: &[&str] = &[
    "../../x",
    "../x",
    "a/b",
    ".hidden",
    "",
    "x y",
    "-dash-first",
];

fn assert_refused(args: &[&str], id: &str, state: &Path) {
    let out = dockhand(args, state);
    assert_eq!(
        out.code,
        Some(2),
        "dockhand {args:?}: exit code\nstdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.contains("is not an execution id")
            && out.stderr.contains("letters, digits, `_` and `-`"),
        "dockhand {args:?} ({id:?}): the message says what an id is\nstderr: {}",
        out.stderr
    );
}

#[test]
fn every_command_refuses_ids_that_are_not_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir_all(state.join("executions")).unwrap();
    // A journal outside the state directory, where `resume ../../x` would look for it.
    let flow = tmp.path().join("f.yaml");
    std::fs::write(
        &flow,
        "id: f\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [echo]\n",
    )
    .unwrap();
    let start = serde_json::json!({"t": "start", "flow_file": flow, "flow_digest": "x",
        "engine": "/nonexistent/engine", "dialect": "docker", "host": null,
        "work_dir": tmp.path().join("work"), "inputs": {}, "at": 0});
    std::fs::write(tmp.path().join("x.jsonl"), format!("{start}\n")).unwrap();
    let flow = flow.display().to_string();
    for id in BAD {
        // clap takes `--execution-id=-x` only in the `=` form; a leading dash is refused as well.
        let eq = format!("--execution-id={id}");
        assert_refused(&["run", &flow, &eq], id, &state);
        assert_refused(&["plan", &flow, &eq], id, &state);
        assert_refused(&["ps", &eq], id, &state);
        assert_refused(&["cleanup", &eq], id, &state);
        assert_refused(&["resume", "--", id], id, &state);
    }
    // The same function accepts what dockhand makes.
    let out = dockhand(&["plan", &flow, "--execution-id", "Ab_9-z"], &state);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}
