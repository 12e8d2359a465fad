//! The host command of a script task that runs with Kestra's Process task runner
//! (`io.kestra.plugin.core.runner.Process`): the same `interpreter + [script]` argv a container
//! would run ([`container_command`]), given to the host's program directly (an argv, never a
//! shell string dockhand builds), in the task's working directory, with the host's environment
//! (less dockhand's secret store) plus the task's `env` and `WORKING_DIR`, as Kestra's
//! `ProcessBuilder` does. Pure: the executor (`exec::host_process`) runs what this returns.

use camino::Utf8PathBuf;

use crate::flow::model::ScriptTask;
use crate::plan::build::{Finding, SecretFiles, TaskCommands, holds_secret, run_from_file};
use crate::plan::command::{EngineCommand, PrivateFile, Secret, Step};
use crate::plan::context::PlanContext;
use crate::plan::script::container_command;

/// Variables of dockhand's own environment a host process does not inherit: `SECRET_*` is
/// dockhand's secret store (`{{ secret('NAME') }}`), which a task reads through `secret()`, not
/// by inheriting all of it.
pub const NOT_INHERITED_PREFIXES: &[&str] = &["SECRET_"];

/// On cancel or timeout the process group gets SIGTERM, then SIGKILL this long after (Kestra's
/// Process runner has no grace setting; it destroys the process and its descendants).
pub const KILL_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// What runs on the host for one task.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCommand {
    /// The program (looked up on `PATH`, as `execvp` does) and its arguments.
    pub argv: Vec<String>,
    /// The task's working directory: the process starts there.
    pub cwd: Utf8PathBuf,
    /// Set over the inherited environment: the task's `env`, then `WORKING_DIR` (and
    /// `OUTPUT_DIR`). Values may hold secrets: never printed.
    pub env: Vec<(String, Secret)>,
    /// The script, when it holds a secret: written 0600 before the start, removed after, and
    /// run from there so no secret is in the process's argv (`/proc/PID/cmdline`).
    pub command_file: Option<PrivateFile>,
    /// `{{ outputDir }}`, when the task has it on: every file written there is an output file.
    pub output_dir: Option<Utf8PathBuf>,
}

/// The output directory of a task working in `workdir` (Kestra makes one under the working
/// directory; its name is fixed here so that plans are stable).
pub fn output_dir(workdir: &Utf8PathBuf) -> Utf8PathBuf {
    workdir.join("_outputs")
}

/// The commands of a Process task: no engine command (the fields an engine task fills are
/// empty), the host command in `host`.
pub fn build(task_id: &str, task: &ScriptTask, ctx: &PlanContext) -> TaskCommands {
    let workdir = ctx.workdir(task_id);
    let mut findings = Vec::new();
    let plain = container_command(task);
    let output_dir = task.output_dir.then(|| output_dir(&workdir));
    let mut env: Vec<(String, Secret)> = task
        .env
        .iter()
        .filter(|(k, _)| *k != "WORKING_DIR" && *k != "OUTPUT_DIR")
        .map(|(k, v)| (k.clone(), Secret::new(v.clone())))
        .collect();
    env.push(("WORKING_DIR".into(), Secret::new(workdir.to_string())));
    if let Some(d) = &output_dir {
        env.push(("OUTPUT_DIR".into(), Secret::new(d.to_string())));
    }
    let (argv, command_file) = if plain.iter().any(|w| holds_secret(w, ctx)) {
        match from_file(task, &plain, ctx, task_id) {
            Ok((argv, f)) => (argv, Some(f)),
            Err(message) => {
                findings.push(Finding {
                    error: true,
                    property: "interpreter",
                    message,
                });
                (vec![], None)
            }
        }
    } else {
        (plain, None)
    };
    if argv.is_empty() && findings.is_empty() {
        findings.push(Finding {
            error: true,
            property: "commands",
            message: "nothing to run: give commands or an interpreter".into(),
        });
    }
    let empty = || EngineCommand::new(Step::Run);
    TaskCommands {
        task_id: task_id.to_string(),
        container: String::new(),
        labels: vec![],
        workdir: workdir.clone(),
        input_files: task.input_files.clone(),
        // The host process is dockhand's own user: input files holding a secret are written
        // 0600 in the working directory, as with MOUNT.
        secret_files: SecretFiles {
            names: task
                .input_files
                .iter()
                .filter(|(_, v)| holds_secret(v, ctx))
                .map(|(k, _)| k.clone())
                .collect(),
            owner: None,
            on_host: true,
        },
        output_files: task.output_files.clone(),
        prepare: vec![],
        run: empty(),
        collect: vec![],
        inspect: empty(),
        logs: empty(),
        stop: empty(),
        remove: None,
        detach: false,
        findings,
        host: Some(Box::new(HostCommand {
            argv,
            cwd: workdir,
            env,
            command_file,
            output_dir,
        })),
        deps: None,
    }
}

/// The argv that runs the script from a private file: a shell's `-c TEXT` becomes `-c '. FILE'`
/// (same shell, same options, so `set -e` and the exit status are as inline); another
/// interpreter's `-c TEXT` becomes `FILE`; a text that was a last argument becomes the file.
fn from_file(
    task: &ScriptTask,
    plain: &[String],
    ctx: &PlanContext,
    task_id: &str,
) -> Result<(Vec<String>, PrivateFile), String> {
    let interp = &task.interpreter;
    let (Some(_), Some(script)) = (interp.first(), plain.last()) else {
        return Err("the command holds a secret, and with no interpreter the commands are the process's own argv, which other users of the host can read (`/proc/PID/cmdline`); give an interpreter, e.g. [\"/bin/sh\", \"-c\"]".into());
    };
    let path = ctx.private_dir(task_id).join("command");
    let quoted = shell_words::quote(path.as_str()).into_owned();
    let argv = run_from_file(interp, path.as_str(), &quoted).ok_or_else(|| {
        format!(
            "the command holds a secret, so it goes in a file; `{}` is not an interpreter dockhand knows how to hand a file to (end it with `-c`, or use sh/bash)",
            interp.join(" ")
        )
    })?;
    Ok((
        argv,
        PrivateFile {
            path: path.to_string(),
            content: Secret::new(script.clone()),
            shown: "<redacted>".into(),
            docker_client_config: false,
        },
    ))
}

/// The plan's lines for a host command (after the working directory and files).
pub fn describe(h: &HostCommand) -> Vec<String> {
    let mut out = vec![format!(
        "runs on the host (taskRunner {}), no container: the host's environment without {}, plus {}",
        crate::flow::model::PROCESS_RUNNER_TYPE,
        NOT_INHERITED_PREFIXES
            .iter()
            .map(|p| format!("{p}*"))
            .collect::<Vec<_>>()
            .join(", "),
        h.env
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )];
    if let Some(d) = &h.output_dir {
        out.push(format!(
            "output directory {d}: every file written there is an output file"
        ));
    }
    if let Some(f) = &h.command_file {
        out.push(format!(
            "the command holds a secret: it is in {} (mode 0600, removed after), its text <redacted>",
            f.path
        ));
    }
    out
}
