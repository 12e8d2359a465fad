//! The `dockhand` command line: argument parsing, exit codes and printing. The work happens in
//! the library (`dockhand::flow`, `dockhand::plan`, `dockhand::exec`).

// Unsafe code only where a comment says why it is needed (`#[allow(unsafe_code)]` there).
#![deny(unsafe_code)]

#[macro_use]
mod output;
mod cli;

fn main() {
    std::process::exit(cli::main());
}
