//! dockhand's own lines on stderr (status, warnings, errors) when nobody may be reading: with
//! stderr a pipe whose reader went away, a write fails with EPIPE (Rust ignores SIGPIPE), and
//! std's `eprintln!` panics on that, ending a run half way (containers left, exit 101). Here the
//! line is dropped instead: there is nowhere left to say anything, and the run's exit code and
//! cleanup matter more. The `eprintln!` below shadows std's in the whole crate (it is declared
//! before every other module), so no call site can panic by using the familiar name.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to stderr; any failure (EPIPE, a full disk behind a redirect) is ignored.
pub fn line(args: fmt::Arguments<'_>) {
    if crate::exec::live::active() {
        // Above the live status area, as one whole line.
        let text = format!("{args}\n");
        if crate::exec::live::print(crate::exec::live::Target::Stderr, text.as_bytes()) {
            return;
        }
    }
    let mut e = io::stderr().lock();
    let _ = e.write_fmt(args).and_then(|()| e.write_all(b"\n"));
}

/// `eprintln!` that never panics: [`line`] with `format!` arguments.
macro_rules! eprintln {
    () => {
        $crate::stderr::line(format_args!(""))
    };
    ($($t:tt)*) => {
        $crate::stderr::line(format_args!($($t)*))
    };
}
