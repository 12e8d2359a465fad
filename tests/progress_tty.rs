//! The live status area on a real terminal: `dockhand run` on a pseudo-terminal (util-linux's
//! `script`, which gives the command a pty and copies everything written to it), asserting on
//! the bytes the terminal got: the area drawn and erased around the logs, never inside a line,
//! every log line whole and once, a pull's layers counted, colour off with NO_COLOR, and plain
//! lines with `--progress plain` or when stderr is not a terminal. Container tasks go to the
//! fake engine (tests/fake-engine/docker, case `pull`), so no engine is needed.

use std::path::Path;
use std::process::{Command, Stdio};

const FLOW: &str = "id: tty
namespace: tests.progress
tasks:
  - id: pulled
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox:latest
    commands:
      - echo hi
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.4S
  - id: said
    type: io.kestra.plugin.core.log.Log
    message: all done
";

/// Single-quoted for `sh -c` (the command `script` runs is a shell line).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

struct Terminal {
    code: Option<i32>,
    /// Everything the terminal received.
    raw: String,
}

/// `dockhand run flow.yaml EXTRA...` on a 100-column pseudo-terminal (stdout and stderr both
/// on it), in `dir`, with `env`.
fn on_pty(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Terminal {
    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-engine/docker");
    let mut line = format!(
        "stty cols 100 rows 40; exec {} run flow.yaml --engine {} --wait-removal --state-dir {} --work-dir {}",
        quote(env!("CARGO_BIN_EXE_dockhand")),
        quote(fake.to_str().unwrap()),
        quote(dir.join("state").to_str().unwrap()),
        quote(dir.join("work").to_str().unwrap()),
    );
    for a in extra {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let out = Command::new("script")
        .args(["-q", "-f", "-e", "-c", &line, "/dev/null"])
        .current_dir(dir)
        .env("FAKE_ENGINE_DIR", dir)
        .env("FAKE_ENGINE_CASE", "pull")
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("DOCKHAND_PROGRESS")
        .env_remove("DOCKER_HOST")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("script (bsdutils) runs");
    Terminal {
        code: out.status.code(),
        raw: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// `dockhand run flow.yaml EXTRA...` with stdout and stderr pipes, not a terminal.
fn off_terminal(dir: &Path, extra: &[&str]) -> std::process::Output {
    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-engine/docker");
    Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .args(["run", "flow.yaml"])
        .args(extra)
        .arg("--engine")
        .arg(&fake)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .current_dir(dir)
        .env("FAKE_ENGINE_DIR", dir)
        .env("FAKE_ENGINE_CASE", "pull")
        .env_remove("NO_COLOR")
        .env_remove("DOCKHAND_PROGRESS")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.yaml"), FLOW).unwrap();
    dir
}

/// The area's erase: back to its first line, clear to the end of the screen.
fn erases(raw: &str) -> Vec<usize> {
    let mut at = vec![];
    let mut from = 0;
    while let Some(i) = raw[from..].find("\r\x1b[") {
        let s = from + i;
        let rest = &raw[s + 3..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with("A\x1b[J") {
            at.push(s);
        }
        from = s + 3;
    }
    at
}

/// The text with every CSI sequence left out, as lines (the pty ends lines with \r\n).
fn lines(raw: &str) -> Vec<String> {
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if c != '\r' {
            text.push(c);
        }
    }
    text.lines().map(str::to_string).collect()
}

const LOG_LINES: [&str; 6] = [
    "pulled ! Unable to find image 'busybox:latest' locally",
    "pulled ! aaaaaaaaaaaa: Pull complete",
    "pulled ! bbbbbbbbbbbb: Pull complete",
    "pulled | hello",
    "pulled | again",
    "said   | all done",
];

#[test]
fn the_area_is_drawn_around_whole_log_lines() {
    let dir = scratch();
    let t = on_pty(dir.path(), &[], &[("NO_COLOR", "1")]);
    let raw = &t.raw;
    assert_eq!(t.code, Some(0), "{raw:?}");
    let at = erases(raw);
    assert!(
        at.len() >= 5,
        "the area is redrawn as the run goes: {raw:?}"
    );
    // The area is only ever erased from the start of a line: never inside a log line.
    for &i in &at {
        assert!(
            i == 0 || raw[..i].ends_with('\n'),
            "erase inside a line at {i}: {:?}",
            &raw[i.saturating_sub(60)..i + 10]
        );
    }
    // Every log line reached the terminal whole (one write, nothing inside it) and once.
    for l in LOG_LINES {
        let whole = format!("{l}\r\n");
        assert_eq!(raw.matches(&whole).count(), 1, "{l:?} in {raw:?}");
        let i = raw.find(&whole).unwrap();
        assert!(
            raw[..i].ends_with('\n') || raw[..i].ends_with("\x1b[J"),
            "{l:?} does not start a line: {:?}",
            &raw[i.saturating_sub(40)..i]
        );
    }
    let text = lines(raw);
    let line_at = |l: &str| {
        text.iter()
            .position(|x| x == l)
            .unwrap_or_else(|| panic!("{l:?} is not a line of its own: {text:#?}"))
    };
    // In order within each stream; across stdout and stderr (two pipes, read side by side) only
    // where the fake engine waits between them: `Pull complete` of the first layer comes 0.6 s
    // before `hello`, and the next task's line after the first task's last.
    let [unable, first, second, hello, again, done] = LOG_LINES.map(line_at);
    assert!(
        unable < first && first < second,
        "stderr out of order: {text:#?}"
    );
    assert!(
        hello < again && again < done,
        "stdout out of order: {text:#?}"
    );
    assert!(
        first < hello,
        "a line 0.6 s earlier printed later: {text:#?}"
    );
    // The area: the flow, what runs with its time, the pull's layers, the counts.
    assert!(raw.contains("tests.progress.tty  "), "{raw:?}");
    assert!(
        raw.contains("pulling busybox:latest: 1/2 layers"),
        "the pull's progress on its task's row: {raw:?}"
    );
    assert!(
        text.iter()
            .any(|l| l.starts_with("  nap ") && l.ends_with('s')),
        "{text:#?}"
    );
    assert!(raw.contains("1 running  2 done"), "{raw:?}");
    // No colour with NO_COLOR: neither in the logs nor in the area.
    for c in ["\x1b[1m", "\x1b[36m", "\x1b[2m", "\x1b[31m", "\x1b[0m"] {
        assert!(!raw.contains(c), "colour {c:?} with NO_COLOR: {raw:?}");
    }
    // Erased at the end: the summary follows the last erase, with no area after it.
    let last = *at.last().unwrap();
    let tail = &raw[last..];
    assert!(
        tail.contains("TASK") && tail.contains("flow tests.progress.tty SUCCESS"),
        "{tail:?}"
    );
    assert!(!tail.contains(" running  "), "{tail:?}");
}

#[test]
fn the_area_is_coloured_on_a_terminal_without_no_color() {
    let dir = scratch();
    let t = on_pty(dir.path(), &[], &[]);
    assert_eq!(t.code, Some(0), "{:?}", t.raw);
    assert!(!erases(&t.raw).is_empty());
    // The pulling row in cyan, and the logs' coloured prefixes.
    assert!(
        t.raw.contains("\x1b[36m  pulled    ") && t.raw.contains("pulling busybox:latest"),
        "{:?}",
        t.raw
    );
    assert!(
        t.raw
            .contains("\x1b[36mpulled\x1b[0m \x1b[2m|\x1b[0m hello\r\n"),
        "{:?}",
        t.raw
    );
}

#[test]
fn plain_lines_when_asked_or_when_stderr_is_not_a_terminal() {
    for (extra, env) in [
        (&["--progress", "plain"][..], &[][..]),
        (&[][..], &[("DOCKHAND_PROGRESS", "plain")][..]),
        (&[][..], &[("TERM", "dumb")][..]),
    ] {
        let dir = scratch();
        let t = on_pty(dir.path(), extra, env);
        assert_eq!(t.code, Some(0), "{:?}", t.raw);
        assert!(erases(&t.raw).is_empty(), "{extra:?} {env:?}: {:?}", t.raw);
        assert!(!t.raw.contains(" running  "), "{:?}", t.raw);
        let text = lines(&t.raw);
        assert!(
            text.iter().any(|l| l == "dockhand: pulled: SUCCESS"),
            "{text:#?}"
        );
    }
    // Not a terminal at all: plain, and no colour.
    let dir = scratch();
    let out = off_terminal(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains('\x1b'), "{all:?}");
    assert!(all.contains("pulled | hello\n"), "{all:?}");
    // And `--progress tty` draws the area even so.
    let out = off_terminal(dir.path(), &["--progress", "tty"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!erases(&err).is_empty(), "{err:?}");
    // Off a terminal, the area has no colour either.
    assert!(!err.contains("\x1b[1m"), "{err:?}");
}
