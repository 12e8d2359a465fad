//! Shell completions and the manual page, checked in the real programs that read them: bash
//! and fish complete subcommands and options from the generated scripts, zsh parses its script,
//! and `man -l` renders the page with a section for every subcommand.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");

fn dockhand(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "dockhand {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// What `shell -c script` prints; the script runs with the completion file's path as `$1`.
fn shell(program: &str, script: &str, completion: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("completion");
    std::fs::write(&file, completion).unwrap();
    let out = Command::new(program)
        .arg("-c")
        .arg(script)
        .arg(program)
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (scripts/setup-engines.sh installs it): {e}")
        });
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

#[test]
fn bash_completes_subcommands_and_their_options() {
    let script = dockhand(&["completions", "bash"]);
    // bash's completion entry point, called as readline would for `dockhand <TAB>` and for
    // `dockhand run --ws<TAB>`.
    let ask = r#"source "$1"
complete_for() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
  COMPREPLY=(); _dockhand dockhand "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; echo "${COMPREPLY[@]}"; }
complete_for dockhand ""
echo ---
complete_for dockhand run --wa
echo ---
complete_for dockhand completions ""
"#;
    let out = shell("bash", ask, &script);
    let parts: Vec<&str> = out.split("---").collect();
    assert_eq!(parts.len(), 3, "{out}");
    let subs = words(parts[0]);
    for s in [
        "validate",
        "plan",
        "run",
        "resume",
        "ps",
        "cleanup",
        "schema",
        "completions",
        "man",
    ] {
        assert!(subs.contains(&s), "`dockhand <TAB>` lacks {s}: {subs:?}");
    }
    assert_eq!(words(parts[1]), ["--wait-removal"], "{out}");
    let shells = words(parts[2]);
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&s), "{shells:?}");
    }
}

#[test]
fn fish_completes_subcommands_and_their_options() {
    let script = dockhand(&["completions", "fish"]);
    let out = shell(
        "fish",
        "source $argv[2]; complete -C 'dockhand '; echo ---; complete -C 'dockhand plan --en'",
        &script,
    );
    let (subs, opts) = out.split_once("---").unwrap();
    let first: Vec<&str> = subs.lines().filter_map(|l| l.split('\t').next()).collect();
    for s in ["validate", "plan", "run", "resume", "completions", "man"] {
        assert!(first.contains(&s), "{first:?}");
    }
    let opts: Vec<&str> = opts
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(opts, ["--engine"], "{out}");
}

#[test]
fn zsh_reads_its_completion_function() {
    let script = dockhand(&["completions", "zsh"]);
    assert!(script.starts_with("#compdef dockhand"), "{}", &script[..80]);
    // Loading the function defines `_dockhand` (a syntax error fails the `source`).
    let out = shell(
        "zsh",
        "autoload -U compinit && compinit -u -D && source $1 && whence -w _dockhand",
        &script,
    );
    assert_eq!(out.trim(), "_dockhand: function");
}

#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tcsh") && err.contains("bash"), "{err}");
}

/// `man -l` renders the page: every subcommand has its section with its options and the
/// examples of its `--help`.
#[test]
fn the_manual_page_renders_every_subcommand() {
    let page = dockhand(&["man"]);
    let mut child = Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "120")
        .env("MAN_KEEP_FORMATTING", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run man (scripts/setup-engines.sh installs man-db)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // `man` overstrikes bold text when not writing to a terminal; strip that.
    let text = regex::Regex::new(".\x08").unwrap().replace_all(&text, "");
    for sub in [
        "validate",
        "plan",
        "run",
        "resume",
        "ps",
        "cleanup",
        "schema",
        "registry",
        "completions",
    ] {
        let heading = format!("DOCKHAND {}", sub.to_uppercase());
        assert!(text.contains(&heading), "no section {heading}:\n{text}");
    }
    for needle in [
        "--wait-removal",
        "--input-env <NAME=VAR>",
        "dockhand run flow.yaml --json > result.json",
        "Exit codes: 0 success, 1 a task FAILED",
    ] {
        assert!(text.contains(needle), "the page lacks `{needle}`");
    }
}
