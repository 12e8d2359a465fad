//! The `dockhand` command line: argument parsing, exit codes and printing. The work happens in
//! the library (`dockhand::flow`, `dockhand::plan`, `dockhand::exec`).

// Unsafe code only where a comment says why it is needed (`#[allow(unsafe_code)]` there).
#![deny(unsafe_code)]

#[macro_use]
mod output;
mod cli;

use dockhand::exit;

fn main() {
    std::process::exit(exit_status(cli::main()));
}

/// The one exit path: a command's end turned into its exit status, printing the error's one
/// line (`dockhand: error: …`) unless it was reported already.
fn exit_status(end: exit::Result<exit::Code>) -> i32 {
    match end {
        Ok(code) => code.value(),
        Err(e) => {
            if let Some(line) = e.line() {
                output::err(format_args!("{line}\n"));
            }
            e.code.value()
        }
    }
}
