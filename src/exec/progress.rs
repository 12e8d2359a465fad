//! The live status area's content: what is running, what is done, how long the execution has
//! taken, and image pulls under way; and its rendering, a pure function from that state (and
//! the time) to the lines shown. Drawing it on the terminal is [`crate::exec::live`]'s.

use std::time::Duration;

use crate::exec::pull_progress::{self, Pull};
use crate::exec::result::State;

/// How progress is shown (`--progress`, `$DOCKHAND_PROGRESS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A status area when stderr is a terminal (and `TERM` is not `dumb`), else plain lines.
    #[default]
    Auto,
    /// The status area even when stderr is not a terminal.
    Tty,
    /// Plain lines only: every status line printed as it comes, nothing redrawn.
    Plain,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Mode::Auto),
            "tty" => Ok(Mode::Tty),
            "plain" => Ok(Mode::Plain),
            other => Err(format!(
                "`{other}` is not a progress mode (auto, tty, plain)"
            )),
        }
    }

    /// Whether the status area is drawn: `stderr_tty` is whether stderr is a terminal, `term`
    /// is `$TERM`, `quiet` is `-q` (no status output at all). Pure.
    pub fn area(self, stderr_tty: bool, term: Option<&str>, quiet: bool) -> bool {
        match self {
            _ if quiet => false,
            Mode::Plain => false,
            Mode::Tty => true,
            Mode::Auto => stderr_tty && term != Some("dumb"),
        }
    }
}

/// A task run under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// Its id as status lines show it (`t`, or `t[a]` inside a ForEach).
    pub id: String,
    /// When it began, since the execution's start.
    pub since: Duration,
    /// An image pull its engine client reports, if any.
    pub pull: Option<Pull>,
}

/// Everything the status area shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// `namespace.flow`.
    pub flow: String,
    pub running: Vec<Running>,
    /// Runs that ended: all of them, and those FAILED or KILLED.
    pub done: usize,
    pub failed: usize,
}

impl Status {
    pub fn started(&mut self, id: &str, at: Duration) {
        self.running.push(Running {
            id: id.to_string(),
            since: at,
            pull: None,
        });
    }

    pub fn ended(&mut self, id: &str, state: State) {
        if let Some(i) = self.running.iter().position(|r| r.id == id) {
            self.running.remove(i);
        }
        self.done += 1;
        if !state.continues() && state != State::Paused {
            self.failed += 1;
        }
    }

    /// A stderr line of `id`'s engine client: a pull's progress, if it is one. Whether the
    /// area changed.
    pub fn stderr_line(&mut self, id: &str, line: &str) -> bool {
        let Some(e) = pull_progress::parse(line) else {
            return false;
        };
        // The log's id is the task's; a run inside a ForEach is shown as `id[value]`.
        let Some(r) = self
            .running
            .iter_mut()
            .find(|r| r.id == id || r.id.strip_prefix(id).is_some_and(|v| v.starts_with('[')))
        else {
            return false;
        };
        let pull = r.pull.get_or_insert_with(Pull::default);
        pull.apply(e);
        true
    }
}

/// Rows of running tasks shown at most; the rest are counted on one more row.
pub const MAX_ROWS: usize = 8;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Cuts `s` to `width` characters (the terminal's; a longer line would wrap and break the
/// count of lines to redraw).
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The status area's lines at `now` (since the execution's start), each at most `width`
/// characters of text, coloured or not. Pure.
pub fn render(s: &Status, now: Duration, width: usize, color: bool) -> Vec<String> {
    let paint = |code: &str, text: String| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let width = width.max(20);
    let spin = SPINNER[(now.as_millis() / 100) as usize % SPINNER.len()];
    let mut head = format!(
        "{spin} {}  {}  {} running  {} done",
        s.flow,
        secs(now),
        s.running.len(),
        s.done
    );
    if s.failed > 0 {
        head.push_str(&format!("  {} failed", s.failed));
    }
    let mut lines = vec![paint(
        if s.failed > 0 { "1;31" } else { "1" },
        fit(&head, width),
    )];
    let id_w = s
        .running
        .iter()
        .take(MAX_ROWS)
        .map(|r| r.id.chars().count())
        .max()
        .unwrap_or(0);
    for r in s.running.iter().take(MAX_ROWS) {
        let mut row = format!(
            "  {:<id_w$}  {:>6}",
            r.id,
            secs(now.saturating_sub(r.since))
        );
        if let Some(p) = &r.pull {
            let (done, all) = p.counts();
            if p.done {
                row.push_str(&format!("  pulled {}", p.image));
            } else if all == 0 {
                // No layer named yet: the engine is still resolving the image.
                row.push_str(&format!("  pulling {}", p.image));
            } else {
                row.push_str(&format!("  pulling {}: {done}/{all} layers", p.image));
            }
        }
        let row = fit(&row, width);
        lines.push(match &r.pull {
            Some(p) if !p.done => paint("36", row),
            _ => row,
        });
    }
    if s.running.len() > MAX_ROWS {
        lines.push(paint(
            "2",
            fit(
                &format!("  … and {} more running", s.running.len() - MAX_ROWS),
                width,
            ),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn modes_decide_whether_the_area_is_drawn() {
        let cases = [
            // mode, stderr a terminal, TERM, quiet -> area
            (Mode::Auto, true, Some("xterm-256color"), false, true),
            (Mode::Auto, true, None, false, true),
            (Mode::Auto, false, Some("xterm"), false, false),
            (Mode::Auto, true, Some("dumb"), false, false),
            (Mode::Auto, true, Some("xterm"), true, false),
            (Mode::Tty, false, None, false, true),
            (Mode::Tty, true, Some("dumb"), false, true),
            (Mode::Tty, true, None, true, false),
            (Mode::Plain, true, Some("xterm"), false, false),
        ];
        for (mode, tty, term, quiet, want) in cases {
            assert_eq!(
                mode.area(tty, term, quiet),
                want,
                "{mode:?} tty={tty} TERM={term:?} quiet={quiet}"
            );
        }
        assert_eq!(Mode::parse("TTY"), Ok(Mode::Tty));
        assert_eq!(Mode::parse("plain"), Ok(Mode::Plain));
        assert_eq!(Mode::parse(""), Ok(Mode::Auto));
        assert!(Mode::parse("fancy").is_err());
    }

    fn sample() -> Status {
        let mut s = Status {
            flow: "company.team.nightly".into(),
            ..Status::default()
        };
        s.started("extract", ms(0));
        s.started("load", ms(1_500));
        s.started("each[a]", ms(2_000));
        s.ended("extract", State::Success);
        s.started("report", ms(2_100));
        s.ended("report", State::Failed);
        s
    }

    #[test]
    fn running_tasks_their_times_and_the_counts() {
        let lines = render(&sample(), ms(4_130), 80, false);
        assert_eq!(
            lines,
            [
                "⠙ company.team.nightly  4.1s  2 running  2 done  1 failed",
                "  load       2.6s",
                "  each[a]    2.1s",
            ]
        );
        // The spinner turns with time; a long run shows minutes.
        let later = render(&sample(), ms(125_200), 80, false);
        assert!(
            later[0].starts_with("⠹ company.team.nightly  2m05s"),
            "{later:?}"
        );
        assert_eq!(later[1], "  load      2m03s");
    }

    #[test]
    fn a_pull_shows_on_its_tasks_row() {
        let mut s = sample();
        assert!(!s.stderr_line("load", "just a line"));
        assert!(s.stderr_line("load", "Unable to find image 'busybox:latest' locally"));
        assert!(s.stderr_line("load", "aaaaaaaaaaaa: Pulling fs layer"));
        assert!(s.stderr_line("load", "bbbbbbbbbbbb: Pulling fs layer"));
        assert!(s.stderr_line("load", "aaaaaaaaaaaa: Pull complete"));
        // Not a running task: nothing to show it on.
        assert!(!s.stderr_line("gone", "aaaaaaaaaaaa: Pull complete"));
        let lines = render(&s, ms(4_130), 80, false);
        assert_eq!(
            lines[1],
            "  load       2.6s  pulling busybox:latest: 1/2 layers"
        );
        s.stderr_line("load", "Status: Downloaded newer image for busybox:latest");
        assert_eq!(
            render(&s, ms(4_130), 80, false)[1],
            "  load       2.6s  pulled busybox:latest"
        );
        // Coloured: the pulling row in cyan, the head in bold red when something failed.
        s.stderr_line("each[a]", "Trying to pull docker.io/library/alpine:3...");
        let c = render(&s, ms(4_130), 80, true);
        assert!(c[0].starts_with("\x1b[1;31m⠙ "), "{c:?}");
        assert_eq!(
            c[2],
            "\x1b[36m  each[a]    2.1s  pulling docker.io/library/alpine:3\x1b[0m"
        );
    }

    #[test]
    fn lines_fit_the_width_and_rows_are_capped() {
        let mut s = Status {
            flow: "a.very.long.namespace.and.a.flow.with.a.long.name".into(),
            ..Status::default()
        };
        for i in 0..12 {
            s.started(&format!("task{i:02}"), ms(0));
        }
        let lines = render(&s, ms(1_000), 30, false);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:#?}");
        assert_eq!(lines[0], "⠋ a.very.long.namespace.and.a…");
        assert_eq!(lines.len(), 1 + MAX_ROWS + 1);
        assert_eq!(lines.last().unwrap(), "  … and 4 more running");
        // Done runs leave the rows; an unknown id ends nothing but is counted.
        for i in 0..12 {
            s.ended(&format!("task{i:02}"), State::Success);
        }
        assert_eq!(render(&s, ms(1_000), 80, false).len(), 1);
        assert_eq!(s.done, 12);
    }
}
