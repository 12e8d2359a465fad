//! The live status area on a terminal: a few lines at the bottom of stderr (what runs, what is
//! done, the time, pulls) redrawn as things change and every 100 ms, with the streaming logs
//! and dockhand's status lines printed above it, as cargo and docker compose show progress.
//!
//! Every write to the terminal during a run goes through one lock here: the area is erased,
//! the whole lines of a log batch (or a status line) are written, then the area is drawn again
//! below them. So a log line is never cut by the area, never lost, and the area never lands in
//! the middle of a line. Nothing is installed in plain mode (`--progress plain`, or stderr not
//! a terminal): then [`print`] says so and callers write as they always did.
//!
//! Process-wide, as the terminal is: [`install`] at the start of a run, [`finish`] at its end
//! (which erases the area, so the summary prints on a clean screen).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::exec::progress::{self, Status};
use crate::exec::result::State;

/// Where a batch of lines goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stdout,
    Stderr,
}

struct Inner {
    status: Status,
    /// Lines of the area on the screen now (0: erased).
    drawn: usize,
    area: Box<dyn Write + Send>,
    stdout: Box<dyn Write + Send>,
    /// Set by [`Live::close`]: nothing is drawn again.
    closed: bool,
}

/// The area and the two streams it shares the terminal with.
pub struct Live {
    inner: Mutex<Inner>,
    start: Instant,
    color: bool,
    width: Box<dyn Fn() -> usize + Send + Sync>,
}

impl Live {
    /// An area drawn on `area` (stderr), log batches for stdout written to `stdout`.
    pub fn new(
        flow: &str,
        area: Box<dyn Write + Send>,
        stdout: Box<dyn Write + Send>,
        color: bool,
        width: Box<dyn Fn() -> usize + Send + Sync>,
    ) -> Live {
        Live {
            inner: Mutex::new(Inner {
                status: Status {
                    flow: flow.to_string(),
                    ..Status::default()
                },
                drawn: 0,
                area,
                stdout,
                closed: false,
            }),
            start: Instant::now(),
            color,
            width,
        }
    }

    /// On the process's own stderr and stdout, as wide as the terminal.
    pub fn on_terminal(flow: &str, color: bool) -> Live {
        Live::new(
            flow,
            Box::new(io::stderr()),
            Box::new(io::stdout()),
            color,
            Box::new(terminal_width),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while drawing leaves the terminal as it was; go on with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn erase(g: &mut Inner) {
        if g.drawn > 0 {
            // Up to the area's first line, then clear to the end of the screen.
            let _ = write!(g.area, "\r\x1b[{}A\x1b[J", g.drawn);
            g.drawn = 0;
        }
    }

    fn draw(&self, g: &mut Inner) {
        if g.closed {
            return;
        }
        // One column short of the width: a line that fills it leaves the cursor waiting to
        // wrap, which terminals handle differently.
        let width = (self.width)().saturating_sub(1);
        let lines = progress::render(&g.status, self.start.elapsed(), width, self.color);
        let mut buf = String::new();
        for l in &lines {
            buf.push_str(l);
            buf.push('\n');
        }
        let _ = g.area.write_all(buf.as_bytes());
        let _ = g.area.flush();
        g.drawn = lines.len();
    }

    /// Writes whole lines above the area.
    pub fn print(&self, target: Target, bytes: &[u8]) {
        let mut g = self.lock();
        Self::erase(&mut g);
        match target {
            Target::Stderr => {
                let _ = g.area.write_all(bytes);
            }
            Target::Stdout => {
                let _ = g.area.flush();
                let _ = g.stdout.write_all(bytes);
                let _ = g.stdout.flush();
            }
        }
        self.draw(&mut g);
    }

    /// Changes the status (and redraws the area).
    pub fn update(&self, f: impl FnOnce(&mut Status, Duration) -> bool) {
        let mut g = self.lock();
        let at = self.start.elapsed();
        if f(&mut g.status, at) {
            Self::erase(&mut g);
            self.draw(&mut g);
        }
    }

    /// Redraws the area (the time moved on).
    pub fn tick(&self) {
        let mut g = self.lock();
        if !g.closed {
            Self::erase(&mut g);
            self.draw(&mut g);
        }
    }

    /// Erases the area for good.
    pub fn close(&self) {
        let mut g = self.lock();
        Self::erase(&mut g);
        g.closed = true;
        let _ = g.area.flush();
    }
}

/// The terminal's width (stderr's), else `$COLUMNS`, else 80.
// The terminal's size is only had from the kernel, by ioctl: std has no call for it.
#[allow(unsafe_code)]
pub fn terminal_width() -> usize {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize through the pointer, which points at one.
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 {
        return usize::from(ws.ws_col);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|c: &usize| *c > 0)
        .unwrap_or(80)
}

static LIVE: Mutex<Option<Arc<Live>>> = Mutex::new(None);

fn current() -> Option<Arc<Live>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Makes `live` the process's status area, redrawn every 100 ms until [`finish`].
pub fn install(live: Live) {
    let live = Arc::new(live);
    *LIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(live.clone());
    live.tick();
    let weak = Arc::downgrade(&live);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(100));
            match weak.upgrade() {
                Some(l) if current().is_some_and(|c| Arc::ptr_eq(&c, &l)) => l.tick(),
                _ => return,
            }
        }
    });
}

/// Erases the area and stops drawing it.
pub fn finish() {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(l) = live {
        l.close();
    }
}

/// Whether a status area is drawn now.
pub fn active() -> bool {
    current().is_some()
}

/// Writes whole lines above the area; `false` when there is none (the caller writes them).
pub fn print(target: Target, bytes: &[u8]) -> bool {
    match current() {
        Some(l) => {
            l.print(target, bytes);
            true
        }
        None => false,
    }
}

/// A task run began.
pub fn task_started(id: &str) {
    if let Some(l) = current() {
        l.update(|s, at| {
            s.started(id, at);
            true
        });
    }
}

/// A task run ended.
pub fn task_ended(id: &str, state: State) {
    if let Some(l) = current() {
        l.update(|s, _| {
            s.ended(id, state);
            true
        });
    }
}

/// A stderr line of a task's engine client (a pull's progress, maybe).
pub fn stderr_line(id: &str, line: &[u8]) {
    if let Some(l) = current() {
        let line = String::from_utf8_lossy(line);
        l.update(|s, _| s.stderr_line(id, &line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer into a shared buffer, so both streams' bytes are seen in the order written.
    #[derive(Clone, Default)]
    struct Screen(Arc<Mutex<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Screen {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_go_above_the_area_which_is_erased_and_redrawn_around_them() {
        let screen = Screen::default();
        let live = Live::new(
            "ns.f",
            Box::new(screen.clone()),
            Box::new(screen.clone()),
            false,
            Box::new(|| 80),
        );
        live.update(|s, at| {
            s.started("a", at);
            true
        });
        live.print(Target::Stdout, b"a | one\na | two\n");
        live.print(Target::Stderr, b"dockhand: a: SUCCESS\n");
        live.update(|s, _| {
            s.ended("a", State::Success);
            true
        });
        live.close();
        let t = screen.text();
        // Each redraw: erase the area's 2 lines (head and `a`), write, draw again.
        let erase2 = "\r\x1b[2A\x1b[J";
        let parts: Vec<&str> = t.split(erase2).collect();
        assert_eq!(parts.len(), 4, "{t:?}");
        assert!(
            parts[0].contains("ns.f") && parts[0].contains("  a "),
            "{t:?}"
        );
        assert!(parts[1].starts_with("a | one\na | two\n"), "{t:?}");
        assert!(parts[2].starts_with("dockhand: a: SUCCESS\n"), "{t:?}");
        // After `a` ended the area is one line, which close() erases.
        assert!(parts[3].contains("0 running  1 done"), "{t:?}");
        assert!(t.ends_with("\r\x1b[1A\x1b[J"), "{t:?}");
        // Log lines are whole and each appears once.
        assert_eq!(t.matches("a | one\n").count(), 1);
        // Nothing is drawn once closed.
        live.tick();
        live.print(Target::Stdout, b"late\n");
        assert!(
            screen.text().ends_with("\x1b[Jlate\n"),
            "{:?}",
            screen.text()
        );
    }
}
