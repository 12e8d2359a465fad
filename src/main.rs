//! The `dockhand` command line: argument parsing, exit codes and printing. The work happens in
//! the library (`dockhand::flow`, `dockhand::plan`, `dockhand::exec`).

#[macro_use]
mod output;
mod cli;

fn main() {
    std::process::exit(cli::main());
}
