//! The `dockhand` command line: parses the arguments and hands each subcommand to the file of
//! its concept, which calls the library and prints. Every command ends with an
//! [`exit::Code`] or an [`exit::Error`]; `main` turns that into the process exit status.

mod args;
mod check;
mod containers;
mod execute;
mod history;
mod inputs;
mod manual;
mod report;

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
        Command::Validate {
            files,
            engine,
            json,
        } => check::validate(&files, engine.map(EngineArg::dialect), json),
        Command::Plan {
            file,
            engine,
            common,
            execution_id,
            json,
            backend,
            state_dir,
            namespace_files,
        } => check::plan(
            &file,
            engine.dialect(),
            &common,
            &execution_id,
            json,
            backend.backend()?,
            (state_dir, namespace_files),
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
        Command::Ps { target, json } => containers::ps(target, json),
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
        Command::Executions {
            state_dir,
            flow,
            namespace,
            states,
            limit,
            json,
        } => history::executions(
            state_dir,
            dockhand::exec::history::Query {
                flow,
                namespace,
                states,
                limit: Some(limit),
            },
            json,
        ),
        Command::Logs {
            execution_id,
            task,
            follow,
            state_dir,
        } => history::logs(state_dir, &execution_id, task.as_deref(), follow),
        Command::Report {
            execution_id,
            output,
            state_dir,
        } => report::write(state_dir, &execution_id, &output),
        Command::Completions { shell } => manual::completions(shell),
        Command::Man => manual::man(),
        Command::Registry(args) => match dockhand::registry::cli::run(args) {
            Code::Ok => Ok(Code::Ok),
            c => Err(c.reported()),
        },
    }
}
