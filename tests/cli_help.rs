//! The command line's own surface, without an engine: every option of every subcommand says
//! what it does in `--help`, and the state directory is never chosen silently.

use std::collections::BTreeSet;
use std::process::{Command, Output};

fn dockhand(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run dockhand")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The lines of a help section (`Options:`, `Arguments:`, `Commands:`), up to the blank line.
fn section<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// The subcommand paths under `path` (from each help's `Commands:` section), `path` first.
fn commands(path: Vec<String>) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = stdout(&dockhand(&args));
    let mut out = vec![path.clone()];
    for line in section(&help, "Commands:") {
        // Entries start with two spaces; wrapped descriptions are indented further.
        if line.starts_with("   ") {
            continue;
        }
        let name = line.split_whitespace().next().unwrap().to_string();
        if name == "help" {
            continue;
        }
        let mut sub = path.clone();
        sub.push(name);
        out.extend(commands(sub));
    }
    out
}

/// Options and arguments (their spec, e.g. `--engine <ENGINE>`) whose help has no description:
/// nothing but the spec and clap's own `[env: …]` / `[default: …]` / `[possible values: …]`.
fn undescribed(help: &str) -> Vec<String> {
    let spec = regex::Regex::new(
        r"^\s*(?:(?:-\w, )?(?:--[\w-]+|-\w)|<[^>]+>|\[[^\]]+\])(?:[ =]?[<\[][^>\]]+[>\]])*(?:\.\.\.)?",
    )
    .unwrap();
    // Entries are indented 2 (`-q, --quiet`, `<FLOW>`) or 6 (`--engine`) spaces; wrapped and
    // next-line descriptions further.
    let entry = |l: &str| {
        let t = l.trim_start();
        l.len() - t.len() <= 6 && t.starts_with(['-', '<', '['])
    };
    let clap_notes =
        regex::Regex::new(r"\[(?:env|default|possible values|aliases?): [^\]]*\]").unwrap();
    let mut out = Vec::new();
    for title in ["Options:", "Arguments:"] {
        let lines = section(help, title);
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let m = spec.find(line).map(|m| m.end()).unwrap_or(0);
            let name = line[..m].trim().to_string();
            let mut text = line[m..].to_string();
            // Continuation lines (a wrapped or next-line description).
            while i + 1 < lines.len() && !entry(lines[i + 1]) {
                i += 1;
                text.push(' ');
                text.push_str(lines[i]);
            }
            if clap_notes.replace_all(&text, "").trim().is_empty() {
                out.push(name);
            }
            i += 1;
        }
    }
    out
}

#[test]
fn every_option_of_every_subcommand_has_a_description() {
    let all = commands(vec![]);
    // The walk itself found the commands (a parse that finds none would pass vacuously).
    let names: BTreeSet<String> = all.iter().map(|p| p.join(" ")).collect();
    for want in ["", "run", "ps", "cleanup", "registry insecure add"] {
        assert!(names.contains(want), "no `{want}` in {names:?}");
    }
    let mut problems = Vec::new();
    for path in &all {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let out = dockhand(&args);
            assert!(out.status.success(), "dockhand {args:?} failed");
            let help = stdout(&out);
            assert!(
                help.contains("Options:"),
                "dockhand {args:?}: no Options section\n{help}"
            );
            for o in undescribed(&help) {
                problems.push(format!(
                    "dockhand {} {flag}: `{o}` has no description",
                    path.join(" ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn the_parser_sees_an_empty_description() {
    let help = "Usage: x\n\nOptions:\n      --engine <ENGINE>  \n      --state-dir <DIR>  [env: DOCKHAND_STATE_DIR=]\n      --older-than <DURATION>  Only containers created at least this long ago\n                               [default: PT0S]\n  -q, --quiet  Print less\n  -h, --help   Print help\n";
    assert_eq!(
        undescribed(help),
        ["--engine <ENGINE>", "--state-dir <DIR>"]
    );
}

/// With neither HOME nor XDG_STATE_HOME the state directory falls back to /var/lib/dockhand:
/// said on stderr, naming the directory and how to choose another.
#[test]
fn the_state_dir_fallback_is_announced() {
    let out = Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .args(["resume", "no-such-execution-h10"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("HOME") && l.contains("XDG_STATE_HOME"))
        .unwrap_or_else(|| panic!("no line about HOME / XDG_STATE_HOME:\n{err}"));
    assert!(
        line.contains("/var/lib/dockhand") && line.contains("--state-dir"),
        "{line}"
    );

    // With HOME set there is nothing to say.
    let out = Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .args(["resume", "no-such-execution-h10"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-h10")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("XDG_STATE_HOME"), "{err}");
    assert!(
        err.contains("/nonexistent-h10/.local/state/dockhand"),
        "{err}"
    );
}

/// Every command has examples in its `--help` (lines `  dockhand COMMAND ...`), is in the
/// README's command table, and the commands around a run (issue 16) have a README section
/// that shows them.
#[test]
fn every_command_has_examples_and_a_readme_entry() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| *l != "## Commands")
        .take_while(|l| !l.starts_with("### "))
        .filter(|l| l.starts_with("| `dockhand "))
        .collect();
    let commands = [
        "validate",
        "plan",
        "run",
        "resume",
        "ps",
        "cleanup",
        "executions",
        "logs",
        "report",
        "schema",
        "registry insecure add",
        "completions",
        "man",
    ];
    let mut problems = vec![];
    for c in commands {
        let mut args: Vec<&str> = c.split(' ').collect();
        args.push("--help");
        let help = stdout(&dockhand(&args));
        let example = format!("  dockhand {c}");
        if !help.contains("Example") || !help.lines().any(|l| l.starts_with(&example)) {
            problems.push(format!(
                "`dockhand {c} --help` shows no example `{example} …`"
            ));
        }
        let first = c.split(' ').next().unwrap();
        if !table
            .iter()
            .any(|row| row.contains(&format!("dockhand {first}")))
        {
            problems.push(format!(
                "`dockhand {c}` is not in the README's command table"
            ));
        }
    }
    // Issue 16's commands: each shown in a README section of its own, not only the table.
    const AFTER: &str = "## After a run: history, logs, machine output";
    for (heading, shown) in [
        (AFTER, "dockhand executions"),
        (AFTER, "dockhand logs"),
        (AFTER, "dockhand report"),
        (AFTER, "validate --json"),
        (AFTER, "plan --json"),
        (AFTER, "ps --json"),
        (AFTER, "run --json"),
        ("### Progress on a terminal", "--progress plain"),
        (
            "### Shell and editor integration",
            "dockhand completions bash",
        ),
        ("### Shell and editor integration", "dockhand man"),
    ] {
        let body: String = readme
            .lines()
            .skip_while(|l| *l != heading)
            .skip(1)
            .take_while(|l| !l.starts_with("## ") && !l.starts_with("### "))
            .collect::<Vec<_>>()
            .join("\n");
        if !body.contains(shown) {
            problems.push(format!(
                "README section `{heading}` does not show `{shown}`"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
