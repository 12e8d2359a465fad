//! Writing to stdout and stderr when the reader may stop reading: in `dockhand plan big.yaml |
//! head -1`, `head` closes the pipe after one line. Rust ignores SIGPIPE, so the next write fails
//! with a broken-pipe error, which `println!` turns into a panic (exit 101). Here it is an
//! ordinary error instead: commands that only report (plan, schema, ps) stop at it and exit 0
//! quietly, as ripgrep does; commands whose exit code is their verdict or that act (validate,
//! run, resume, cleanup) finish their work with that output dropped.

use std::fmt;
use std::io::{self, Write};

/// Writes to stdout (flushed, so a closed pipe is seen at this write and not at exit).
pub fn out(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut o = io::stdout().lock();
    o.write_fmt(args)?;
    o.flush()
}

/// Writes bytes to stdout (flushed), as [`out`] does text.
pub fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut o = io::stdout().lock();
    o.write_all(bytes)?;
    o.flush()
}

/// Writes to stderr; a closed stderr is ignored, as there is nowhere left to say anything.
pub fn err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// `out!("...", args)`: [`out`] with `format!` arguments.
macro_rules! out {
    ($($t:tt)*) => {
        $crate::output::out(format_args!($($t)*))
    };
}

/// `eprintln!` for the binary: dockhand's own [`dockhand::stderr::line`], which ignores a
/// closed stderr where std's `eprintln!` would panic. Shadows std's in every module after this.
macro_rules! eprintln {
    ($($t:tt)*) => {
        dockhand::stderr::line(format_args!($($t)*))
    };
}

/// The end of a command whose stdout failed: the reader went away (`| head -1`), which ends it
/// quietly with exit 0, or stdout cannot be written (the host's fault: exit 3).
pub fn stdout_failed(e: io::Error) -> dockhand::exit::Error {
    use dockhand::exit::Code;
    if e.kind() == io::ErrorKind::BrokenPipe {
        Code::Ok.reported()
    } else {
        Code::Engine.error(e)
    }
}
