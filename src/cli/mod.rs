//! The `dockhand` command line: parses the arguments and hands each subcommand to the file of
//! its concept, which calls the library and prints. Every command ends with an
//! [`exit::Code`] or an [`exit::Error`]; `main` turns that into the process exit status.

mod args;
mod check;
mod containers;
mod execute;
mod inputs;

use clap::Parser;

use dockhand::exit::{self, Code};

use args::{Cli, Command, EngineArg};

/// Parses the command line and runs the subcommand.
pub fn main() -> exit::Result<Code> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Err(Code::Invalid.reported())
            } else {
                Ok(Code::Ok)
            };
        }
    };
    run(cli)
}

fn run(cli: Cli) -> exit::Result<Code> {
    match cli.command {
        Command::Validate { files, engine } => {
            check::validate(&files, engine.map(EngineArg::dialect))
        }
        Command::Plan {
            file,
            engine,
            common,
            execution_id,
            backend,
        } => check::plan(
            &file,
            engine.dialect(),
            &common,
            &execution_id,
            backend.backend()?,
        ),
        Command::Run {
            file,
            engine,
            host,
            common,
            execution_id,
            exec,
            backend,
            configure_insecure_registries,
        } => execute::run(
            file,
            engine,
            host,
            &common,
            execution_id,
            exec,
            configure_insecure_registries,
            backend.backend()?,
        ),
        Command::Resume {
            execution_id,
            mut inputs,
            sources,
            exec,
            backend,
        } => {
            inputs.extend(sources.read()?);
            execute::resume(&execution_id, inputs, exec, backend.backend()?)
        }
        Command::Ps { target } => containers::ps(target),
        Command::Cleanup {
            target,
            older_than,
            dry_run,
        } => containers::cleanup(target, older_than, dry_run),
        Command::Schema => {
            let s = serde_json::to_string_pretty(&dockhand::schema::schema())
                .map_err(|e| Code::Invalid.error(e))?;
            out!("{s}\n").map_err(crate::output::stdout_failed)?;
            Ok(Code::Ok)
        }
        Command::Registry(args) => match dockhand::registry::cli::run(args) {
            Code::Ok => Ok(Code::Ok),
            c => Err(c.reported()),
        },
    }
}
