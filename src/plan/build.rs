//! The argv builder: turns one validated, rendered script task into the engine commands that run
//! it, for Docker or Podman. Pure: no I/O, no environment reads; everything it needs comes in
//! through the task and the [`PlanContext`].

use std::collections::BTreeMap;

use camino::Utf8PathBuf;

use crate::client_env::client_reads;
use crate::flow::model::{
    Credentials, DeviceRequest, DockerRunner, FileHandling, PullPolicy, ScriptTask,
};
use crate::plan::command::{EngineCommand, PrivateFile, Secret, Step};
use crate::plan::context::PlanContext;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::{self as ec, Global};
use crate::plan::script::container_command;
use crate::units;

/// A builder finding about a property: `error` means the task cannot run on this engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub error: bool,
    /// Property path relative to the task, e.g. `taskRunner.memory.kernelMemory`.
    pub property: &'static str,
    pub message: String,
}

/// Everything needed to run one script task, in the order the executor uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCommands {
    pub task_id: String,
    pub container: String,
    pub labels: Vec<(&'static str, String)>,
    /// Host directory of the task; the same path inside the container.
    pub workdir: Utf8PathBuf,
    /// Files written into `workdir` on the host before anything starts (but see
    /// `secret_files`).
    pub input_files: BTreeMap<String, String>,
    /// Which input files hold a secret, and how they are kept private.
    pub secret_files: SecretFiles,
    /// Globs collected from `workdir` after the run.
    pub output_files: Vec<String>,
    /// `create` and `copy-in` when the working directory is copied (VOLUME with files).
    pub prepare: Vec<EngineCommand>,
    /// `run` (attached), or `start -a` after `create`.
    pub run: EngineCommand,
    /// `copy-out` when output files are declared (VOLUME).
    pub collect: Vec<EngineCommand>,
    /// Reads the exit code and OOM state after the run.
    pub inspect: EngineCommand,
    /// Follows the log of a container dockhand re-attaches to (resume, lost connection).
    pub logs: EngineCommand,
    /// Stops the container on cancel or timeout (`stop -t N`, or `kill` with no grace period).
    pub stop: EngineCommand,
    /// Removes the container (`delete: true`).
    pub remove: Option<EngineCommand>,
    /// `wait: false`: the run returns right after the container starts.
    pub detach: bool,
    /// Python's dependencies: their install, run before `prepare` unless already cached. Boxed,
    /// as `host` is: few tasks have one, and every planned task would carry its size.
    pub deps: Option<Box<crate::plan::python_deps::DepsStep>>,
    pub findings: Vec<Finding>,
    /// A task with the Process runner runs this on the host instead (its engine commands are
    /// empty): `plan::host_process`.
    pub host: Option<Box<crate::plan::host_process::HostCommand>>,
}

impl TaskCommands {
    /// Every command in the order a successful run uses them.
    pub fn steps(&self) -> Vec<&EngineCommand> {
        if self.host.is_some() {
            return vec![];
        }
        let mut v: Vec<&EngineCommand> = self.prepare.iter().collect();
        v.push(&self.run);
        v.extend(self.collect.iter());
        if let Some(r) = &self.remove {
            v.push(r);
        }
        v
    }
}

/// Builds the commands of one task. `task` must already be rendered (templates replaced).
pub fn build(
    namespace: &str,
    flow_id: &str,
    task_id: &str,
    task: &ScriptTask,
    ctx: &PlanContext,
) -> TaskCommands {
    let r = &task.runner;
    let d = ctx.dialect;
    let mut findings = Vec::new();
    let workdir = ctx.workdir(task_id);
    let private = ctx.private_dir(task_id);
    let container = ctx.container_name(task_id);
    let labels = ctx.task_labels(namespace, flow_id, task_id);

    // Global options every command of the task shares.
    let host = r.host.clone().or_else(|| ctx.host.clone());
    let global = Global::new(d, host.as_deref());

    // Registry auth: a private client config, used only by the command that pulls.
    let auth = registry_auth(task, ctx.dialect, &private);
    if d == Dialect::Podman
        && r.credentials
            .as_ref()
            .is_some_and(|c| c.registry_token.is_some())
    {
        findings.push(Finding {
            error: false,
            property: "taskRunner.credentials.registryToken",
            message: "podman's auth file has no registry tokens, so the pull goes without it; give username and password, auth or identityToken".into(),
        });
    }
    // A command holding a secret goes into a file copied into the container (with the working
    // directory, or alone with MOUNT): the container is created, the file copied, then started.
    let plain_command = container_command(task);
    let secret_env = secret_env(task, ctx);
    let command_file = command_file(task, &plain_command, &secret_env, ctx, &mut findings);
    let secret_files = secret_files(task, ctx, &mut findings);
    // In a WorkingDirectory, VOLUME copies the shared directory in and back out every time, so
    // that each task sees what the ones before it wrote (MOUNT shares it as it is).
    let shared = ctx.shares_workdir(task_id) && r.file_handling == FileHandling::Volume;
    let copy_workdir = needs_copy(task, d) || shared;
    let copy_files = copy_workdir || command_file.is_some();
    let mut create_global = global.clone();
    // Docker reads the private client config as its global `--config`.
    if auth.is_some() && d == Dialect::Docker {
        create_global.config = Some(private.join("docker-config").to_string());
    }
    let mut create = ec::create(&create_global, Step::Create, copy_files || !r.wait);
    create.cwd = Some(private.to_string());
    if let Some((_, file)) = &auth {
        create.files.push(file.clone());
    }
    if let Some((flag, file)) = &auth
        && d == Dialect::Podman
    {
        create.opt(flag, file.path.as_str());
    }
    create_options(
        &mut create,
        task,
        ctx,
        &container,
        &labels,
        &workdir,
        (copy_workdir, copy_files),
        &mut findings,
    );
    if !r.wait && r.delete {
        create.arg("--rm");
    }
    if !r.insecure_registries().is_empty() && d == Dialect::Podman {
        let reg = task.container_image.registry().to_string();
        if r.insecure_registries().iter().any(|x| x == &reg) {
            create.arg("--tls-verify=false");
        }
    }
    env_options(
        &mut create,
        task,
        &workdir,
        &private,
        &secret_env,
        &mut findings,
    );
    let image = image_name(task, d, &ctx.local_images, host.as_deref());
    let deps = crate::plan::python_deps::plan(task, task_id, ctx, &global, &labels, &image);
    if let Some(dep) = &deps {
        // Read-only, at the same place in every run; on PYTHONPATH unless the task sets it.
        create.opt(
            "--volume",
            format!("{}:{}:ro", dep.dir, crate::plan::python_deps::MOUNT),
        );
        if task.env.contains_key("PYTHONPATH") {
            findings.push(Finding {
                error: false,
                property: "env",
                message: format!(
                    "the task sets PYTHONPATH itself: add {} to it for the dependencies",
                    crate::plan::python_deps::MOUNT
                ),
            });
        } else {
            create.opt(
                "--env",
                format!("PYTHONPATH={}", crate::plan::python_deps::MOUNT),
            );
        }
    }
    match &command_file {
        Some(cf) => {
            entrypoint_and_command(&mut create, task, d, image, &cf.argv);
            let why = if plain_command.iter().any(|w| holds_secret(w, ctx)) {
                "the command holds a secret: it"
            } else {
                "an env value holds a secret: the command"
            };
            create.notes.push(format!(
                "{why} is in {} in the container (mode {:04o}, copied in below), its text <redacted>",
                cf.path, cf.mode
            ));
            for name in &secret_env {
                create.notes.push(format!(
                    "env {name} holds a secret: exported by the command file, not in the container's environment (inspect .Config.Env)"
                ));
            }
        }
        None => entrypoint_and_command(&mut create, task, d, image, &plain_command),
    }

    let mut prepare = Vec::new();
    let run;
    let mut collect = Vec::new();
    let detach = !r.wait;
    if copy_files || detach {
        prepare.push(create);
        if copy_files {
            let mut cp = ec::copy_in(&global, &container);
            match workdir_archive(
                task,
                &workdir,
                copy_workdir,
                command_file.as_ref(),
                &secret_files,
            ) {
                Ok(tar) => {
                    cp.stdin = Some(Secret::new(tar));
                    let mut parts: Vec<String> = Vec::new();
                    if copy_workdir {
                        parts.push(format!(
                            "{workdir} (mode {})",
                            if non_root(task) { "0777" } else { "0755" }
                        ));
                        parts.extend(task.input_files.keys().map(|k| {
                            if secret_files.holds(k) {
                                format!(
                                    "{k} (holds a secret: mode 0600{})",
                                    owned_by(&secret_files)
                                )
                            } else {
                                k.clone()
                            }
                        }));
                    }
                    if let Some(cf) = &command_file {
                        parts.push(format!(
                            "the command file {} (mode {:04o}, <redacted>)",
                            cf.path, cf.mode
                        ));
                    }
                    cp.stdin_note = format!("tar archive of {}", parts.join(", "));
                }
                Err(e) => findings.push(Finding {
                    error: true,
                    property: "inputFiles",
                    message: e,
                }),
            }
            prepare.push(cp);
        }
        // After the archive, which makes the directory (podman copies only into one that
        // exists).
        if shared {
            prepare.push(ec::copy_dir_in(&global, &container, workdir.as_str()));
        }
        let mut start = ec::start(&global, &container, !detach);
        start.cwd = Some(private.to_string());
        run = start;
        if copy_workdir && (!task.output_files.is_empty() || shared) {
            collect.push(ec::copy_out(&global, &container, workdir.as_str()));
        }
    } else {
        create.step = Step::Run;
        run = create;
    }

    let inspect = ec::inspect_state(&global, &container);
    let logs = ec::follow_logs(&global, &container);
    let stop = ec::stop(&global, &container, r.kill_grace_period);
    // A detached task (`wait: false`) outlives the run: removing it right after `start` would
    // kill it, so the engine removes it when it exits (`--rm` on create) instead.
    let remove = (r.delete && !detach).then(|| ec::remove(&global, &container));
    TaskCommands {
        task_id: task_id.to_string(),
        container,
        labels,
        workdir,
        input_files: task.input_files.clone(),
        secret_files,
        output_files: task.output_files.clone(),
        prepare,
        run,
        collect,
        inspect,
        logs,
        stop,
        remove,
        detach,
        deps: deps.map(Box::new),
        findings,
        host: None,
    }
}

/// `copied`: (the working directory is copied in, something is copied in before start).
#[allow(clippy::too_many_arguments)]
fn create_options(
    c: &mut EngineCommand,
    task: &ScriptTask,
    ctx: &PlanContext,
    name: &str,
    labels: &[(&'static str, String)],
    workdir: &Utf8PathBuf,
    copied: (bool, bool),
    findings: &mut Vec<Finding>,
) {
    let r = &task.runner;
    let d = ctx.dialect;
    c.opt("--name", name);
    for (k, v) in labels {
        c.opt("--label", format!("{k}={v}"));
    }
    c.arg(match r.pull_policy {
        PullPolicy::IfNotPresent => "--pull=missing",
        PullPolicy::Always => "--pull=always",
        PullPolicy::Never => "--pull=never",
    });
    let (copy, staged) = copied;
    // The engine must not forward our signals: cancel is a deliberate stop or kill. (`create`
    // has no such option: a staged container is started apart.)
    if r.wait && !staged {
        c.arg("--sig-proxy=false");
    }
    c.opt("--workdir", workdir.as_str());
    if r.file_handling == FileHandling::Mount {
        c.opt("--volume", format!("{workdir}:{workdir}"));
    } else if d == Dialect::Podman && !copy {
        // Podman does not create a missing --workdir: an anonymous volume owned by the
        // container's user stands in (removed with the container). Podman reads --mount as a
        // CSV record: a path with a comma or a quote is quoted as a CSV field.
        c.opt(
            "--mount",
            format!(
                "type=volume,{},U=true",
                csv_field(format!("destination={workdir}"))
            ),
        );
    }
    if let Some(cpus) = r.cpus {
        c.opt("--cpus", format_number(cpus));
    }
    let m = &r.memory;
    if let Some(v) = m.memory {
        c.opt("--memory", units::format_size_docker(v));
    }
    if let Some(v) = m.memory_swap {
        c.opt(
            "--memory-swap",
            if v < 0 {
                "-1".to_string()
            } else {
                units::format_size_docker(v as u64)
            },
        );
    }
    if let Some(v) = m.memory_swappiness {
        c.opt("--memory-swappiness", v.to_string());
    }
    if let Some(v) = m.memory_reservation {
        c.opt("--memory-reservation", units::format_size_docker(v));
    }
    if let Some(v) = m.kernel_memory {
        match d {
            Dialect::Docker => {
                c.opt("--kernel-memory", units::format_size_docker(v));
                findings.push(Finding {
                    error: false,
                    property: "taskRunner.memory.kernelMemory",
                    message: "kernel memory limits are deprecated by Docker and ignored on cgroup v2 hosts".into(),
                });
            }
            Dialect::Podman => findings.push(Finding {
                error: false,
                property: "taskRunner.memory.kernelMemory",
                message: "podman has no kernel memory limit; the option is left out".into(),
            }),
        }
    }
    if let Some(true) = m.oom_kill_disable {
        c.arg("--oom-kill-disable");
    }
    if let Some(v) = r.shm_size {
        c.opt("--shm-size", units::format_size_docker(v));
    }
    if let Some(true) = r.privileged {
        c.arg("--privileged");
    }
    if let Some(n) = &r.network_mode {
        c.opt("--network", n);
    }
    if let Some(u) = &r.user {
        c.opt("--user", u);
    }
    for h in &r.extra_hosts {
        c.opt("--add-host", h);
    }
    for p in &r.port_bindings {
        c.opt("--publish", p);
    }
    for v in &r.volumes {
        c.opt("--volume", v);
    }
    for dr in &r.device_requests {
        devices(c, dr, d, findings);
    }
}

/// Is `user` someone other than root?
pub(crate) fn non_root(task: &ScriptTask) -> bool {
    task.runner
        .user
        .as_deref()
        .is_some_and(|u| !matches!(u, "root" | "0" | "0:0" | "root:root"))
}

/// VOLUME copies the working directory in (and back) when there are files to copy, or when a
/// non-root user on Docker needs a writable directory (Docker creates a missing --workdir owned
/// by root, mode 0755).
fn needs_copy(task: &ScriptTask, d: Dialect) -> bool {
    task.runner.file_handling == FileHandling::Volume
        && (!task.input_files.is_empty()
            || !task.output_files.is_empty()
            || (d == Dialect::Docker && non_root(task)))
}

/// Where the command of a task whose command holds a secret goes in the container: outside the
/// working directory, so neither the copy back nor `outputFiles` can pick it up.
pub const COMMAND_FILE: &str = "/.dockhand/command";

/// Shells that read a file with `.`: their command becomes `. FILE`, run by the same shell with
/// the same options, so `set -e` (failFast) and the exit status behave as with the text inline.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "yash", "busybox",
];

/// The argv that runs a script from a file instead of from the interpreter's last argument:
/// a shell's `-c TEXT` becomes `-c '. FILE'` (the shell and its options as written, so `set -e`
/// and the exit status behave as inline; `quoted` is the file as a shell word), another
/// interpreter's `-c TEXT` becomes `FILE` (interpreters take a script file there), and a text
/// that was a last argument (a script name to it) becomes the file. `None` for an interpreter
/// ending in another option.
pub(crate) fn run_from_file(interp: &[String], path: &str, quoted: &str) -> Option<Vec<String>> {
    let (program, last) = (interp.first()?, interp.last()?);
    let name = program.rsplit('/').next().unwrap_or(program);
    if SHELLS.contains(&name) && last.starts_with('-') && last.ends_with('c') {
        Some(
            interp
                .iter()
                .cloned()
                .chain([format!(". {quoted}")])
                .collect(),
        )
    } else if last == "-c" {
        Some(
            interp[..interp.len() - 1]
                .iter()
                .cloned()
                .chain([path.to_string()])
                .collect(),
        )
    } else if !last.starts_with('-') {
        Some(interp.iter().cloned().chain([path.to_string()]).collect())
    } else {
        None
    }
}

/// A task's command moved into a private file in the container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CommandFile {
    pub(crate) path: &'static str,
    /// The script text (`set -e`, beforeCommands, commands), as it would have been inline.
    pub(crate) content: String,
    /// 0600 for root; readable (0644) for a non-root `user`, as the engine copies files in as
    /// root and the task's user must read it (it is the container's only user).
    pub(crate) mode: u32,
    /// The container command that runs it.
    pub(crate) argv: Vec<String>,
}

/// Does `text` hold the value of a SECRET input?
pub(crate) fn holds_secret(text: &str, ctx: &PlanContext) -> bool {
    ctx.secrets
        .iter()
        .filter(|s| !s.expose().is_empty())
        .any(|s| text.contains(s.expose()))
}

/// The names of the task's `env` variables whose value holds a secret. The engine records a
/// container's environment (`inspect` `.Config.Env`), so these are not given to it: the command
/// file exports them, in the task's shell, before the task's own text.
pub(crate) fn secret_env(task: &ScriptTask, ctx: &PlanContext) -> Vec<String> {
    task.env
        .iter()
        .filter(|(name, v)| *name != "WORKING_DIR" && holds_secret(v, ctx))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A word for a POSIX shell: single-quoted, `'` as `'\''` (any byte, line breaks included).
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The command file of a task whose command text or env values hold a secret value (`None` for
/// the others, whose command lines stay as they are).
pub(crate) fn command_file(
    task: &ScriptTask,
    command: &[String],
    secret_env: &[String],
    ctx: &PlanContext,
    findings: &mut Vec<Finding>,
) -> Option<CommandFile> {
    let holds = command.iter().any(|w| holds_secret(w, ctx));
    if !holds && secret_env.is_empty() {
        return None;
    }
    if !secret_env.is_empty() {
        let name = task
            .interpreter
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p));
        if !name.is_some_and(|n| SHELLS.contains(&n)) {
            findings.push(Finding {
                error: true,
                property: "env",
                message: format!(
                    "`{}` holds a SECRET input; the engine records a container's environment (`inspect` .Config.Env), so dockhand exports it in the task's shell instead, but {} (use [\"/bin/sh\", \"-c\"] or bash, or pass the secret another way, e.g. in an input file)",
                    secret_env.join("`, `"),
                    if task.interpreter.is_empty() {
                        "the task has no interpreter".to_string()
                    } else {
                        format!("the interpreter `{}` is not a shell", task.interpreter.join(" "))
                    }
                ),
            });
            return None;
        }
    }
    let body = match task.body {
        crate::flow::model::Body::Commands(_) => "commands",
        crate::flow::model::Body::Script(_) => "script",
    };
    let interp = &task.interpreter;
    let (Some(_), Some(script)) = (interp.first(), command.last()) else {
        findings.push(Finding {
            error: true,
            property: body,
            message: "holds a SECRET input, and with no interpreter the commands are the container's own argv, which the engine records (`inspect`); give an interpreter, e.g. [\"/bin/sh\", \"-c\"]".into(),
        });
        return None;
    };
    let Some(argv) = run_from_file(interp, COMMAND_FILE, COMMAND_FILE) else {
        findings.push(Finding {
            error: true,
            property: "interpreter",
            message: format!(
                "the command holds a SECRET input, so it goes in a file; `{}` is not a shell dockhand knows how to hand a file to (end the interpreter with `-c`, or use sh/bash)",
                interp.join(" ")
            ),
        });
        return None;
    };
    let mut content = String::new();
    for name in secret_env {
        content.push_str(&format!("export {name}={}\n", shell_quote(&task.env[name])));
    }
    content.push_str(script);
    Some(CommandFile {
        path: COMMAND_FILE,
        content,
        mode: if non_root(task) { 0o644 } else { 0o600 },
        argv,
    })
}

/// Input files whose content holds the value of a SECRET input: private to the container's
/// user (mode 0600, owned by it), never readable by other users of the host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretFiles {
    /// Their names, as in `inputFiles`.
    pub names: Vec<String>,
    /// The owner the files get: the task's `user` as numbers, when it is not root (a gid only
    /// when the user names one). `None`: root's (the container's root reads them).
    pub owner: Option<(u32, Option<u32>)>,
    /// MOUNT: written to the host working directory, which is the container's (mode 0600 from
    /// the start, then given to `owner`). VOLUME: not written to the host at all; they go only
    /// in the archive copied into the container.
    pub on_host: bool,
}

impl SecretFiles {
    pub fn holds(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// `, owned by UID[:GID]` for display, or nothing for root.
pub fn owned_by(s: &SecretFiles) -> String {
    match s.owner {
        Some((u, Some(g))) => format!(", owned by {u}:{g}"),
        Some((u, None)) => format!(", owned by {u}"),
        None => String::new(),
    }
}

/// The task's input files that hold a secret. A non-root `user` must be numeric, for the files
/// to be given to it: a user name means nothing on the host (MOUNT), and `docker cp` sets the
/// owner the archive names, as a number.
pub(crate) fn secret_files(
    task: &ScriptTask,
    ctx: &PlanContext,
    findings: &mut Vec<Finding>,
) -> SecretFiles {
    let names: Vec<String> = task
        .input_files
        .iter()
        .filter(|(_, content)| holds_secret(content, ctx))
        .map(|(name, _)| name.clone())
        .collect();
    let mut owner = None;
    if !names.is_empty()
        && non_root(task)
        && let Some(user) = task.runner.user.as_deref()
    {
        let (u, g) = user.split_once(':').unwrap_or((user, ""));
        match (u.parse::<u32>(), g.parse::<u32>()) {
            (Ok(uid), gid) => owner = Some((uid, gid.ok())),
            (Err(_), _) => findings.push(Finding {
                error: true,
                property: "inputFiles",
                message: format!(
                    "`{}` holds a SECRET input, so it is private to the container's user (mode 0600, owned by that user), and `user: {user}` names the user, which dockhand cannot give a file to; give `user` as a numeric UID[:GID]",
                    names.join("`, `")
                ),
            }),
        }
    }
    SecretFiles {
        names,
        owner,
        on_host: task.runner.file_handling == FileHandling::Mount,
    }
}

/// What `cp - CTR:/` copies in, as a tar archive rooted at `/`: the working directory and input
/// files (`with_workdir`), and the command file, if any.
fn workdir_archive(
    task: &ScriptTask,
    workdir: &Utf8PathBuf,
    with_workdir: bool,
    command: Option<&CommandFile>,
    secret: &SecretFiles,
) -> Result<String, String> {
    let mut entries = Vec::new();
    if let Some(cf) = command {
        let (dir, _) = cf
            .path
            .trim_start_matches('/')
            .rsplit_once('/')
            .unwrap_or(("", ""));
        entries.push(crate::plan::tar::Entry {
            path: dir.to_string(),
            mode: if cf.mode == 0o600 { 0o700 } else { 0o755 },
            owner: (0, 0),
            content: None,
        });
        entries.push(crate::plan::tar::Entry {
            path: cf.path.trim_start_matches('/').to_string(),
            mode: cf.mode,
            owner: (0, 0),
            content: Some(cf.content.as_bytes()),
        });
    }
    if with_workdir {
        workdir_entries(task, workdir, secret, &mut entries);
    }
    let bytes = crate::plan::tar::archive(&entries)?;
    // Headers are ASCII and contents are text, so the archive is valid UTF-8.
    String::from_utf8(bytes).map_err(|_| "input file names must be UTF-8".to_string())
}

/// The working directory and input files, for [`workdir_archive`].
fn workdir_entries<'a>(
    task: &'a ScriptTask,
    workdir: &Utf8PathBuf,
    secret: &SecretFiles,
    entries: &mut Vec<crate::plan::tar::Entry<'a>>,
) {
    let open = non_root(task);
    let root = workdir.as_str().trim_start_matches('/');
    entries.push(crate::plan::tar::Entry {
        path: root.to_string(),
        mode: if open { 0o777 } else { 0o755 },
        owner: (0, 0),
        content: None,
    });
    let mut dirs = std::collections::BTreeSet::new();
    for name in task.input_files.keys() {
        let mut parts: Vec<&str> = name
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        parts.pop();
        for i in 1..=parts.len() {
            dirs.insert(parts[..i].join("/"));
        }
    }
    for d in dirs {
        entries.push(crate::plan::tar::Entry {
            path: format!("{root}/{d}"),
            mode: if open { 0o777 } else { 0o755 },
            owner: (0, 0),
            content: None,
        });
    }
    for (name, content) in &task.input_files {
        let private = secret.holds(name);
        let name = name.trim_start_matches("./");
        let (mode, owner) = match (private, secret.owner) {
            (true, Some((uid, gid))) => (0o600, (uid, gid.unwrap_or(0))),
            (true, None) => (0o600, (0, 0)),
            (false, _) => (if open { 0o666 } else { 0o644 }, (0, 0)),
        };
        entries.push(crate::plan::tar::Entry {
            path: format!("{root}/{name}"),
            mode,
            owner,
            content: Some(content.as_bytes()),
        });
    }
}

pub(crate) fn format_number(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// One CSV field as docker's `--gpus` and podman's `--mount` parsers read it.
pub(crate) fn csv_field(s: String) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn devices(c: &mut EngineCommand, dr: &DeviceRequest, d: Dialect, findings: &mut Vec<Finding>) {
    const P: &str = "taskRunner.deviceRequests";
    match d {
        Dialect::Docker => {
            let mut fields = Vec::new();
            if let Some(drv) = &dr.driver {
                fields.push(csv_field(format!("driver={drv}")));
            }
            match dr.count {
                Some(-1) => fields.push("count=all".into()),
                Some(n) => fields.push(format!("count={n}")),
                None if dr.device_ids.is_empty() => fields.push("count=all".into()),
                None => {}
            }
            if !dr.device_ids.is_empty() {
                fields.push(csv_field(format!("device={}", dr.device_ids.join(","))));
            }
            if dr.capabilities.len() > 1 {
                findings.push(Finding {
                    error: true,
                    property: P,
                    message: "docker's --gpus takes one capability set; give one list under `capabilities`".into(),
                });
            }
            if let Some(caps) = dr.capabilities.first() {
                let caps: Vec<&str> = caps
                    .iter()
                    .map(String::as_str)
                    .filter(|c| *c != "gpu")
                    .collect();
                if !caps.is_empty() {
                    fields.push(csv_field(format!("capabilities={}", caps.join(","))));
                }
            }
            if !dr.options.is_empty() {
                // docker reads `options=` as a CSV record of its own, inside the outer one.
                let opts: Vec<String> = dr
                    .options
                    .iter()
                    .map(|(k, v)| csv_field(format!("{k}={v}")))
                    .collect();
                fields.push(csv_field(format!("options={}", opts.join(","))));
            }
            c.opt("--gpus", fields.join(","));
        }
        Dialect::Podman => {
            if let Some(drv) = &dr.driver
                && drv != "nvidia"
            {
                findings.push(Finding {
                    error: true,
                    property: P,
                    message: format!("podman requests GPUs as CDI devices (nvidia.com/gpu); driver `{drv}` has no equivalent"),
                });
                return;
            }
            match (dr.count, dr.device_ids.is_empty()) {
                (Some(-1), _) | (None, true) => {
                    c.opt("--device", "nvidia.com/gpu=all");
                }
                (None, false) => {
                    for id in &dr.device_ids {
                        c.opt("--device", format!("nvidia.com/gpu={id}"));
                    }
                }
                (Some(n), _) => findings.push(Finding {
                    error: true,
                    property: P,
                    message: format!("podman cannot request a number of GPUs (count: {n}); list them in `deviceIds` or use count: -1 for all"),
                }),
            }
            // `gpu` is the capability every GPU request has; only others are lost.
            let extra_caps = dr.capabilities.iter().flatten().any(|c| c != "gpu");
            if extra_caps || !dr.options.is_empty() {
                findings.push(Finding {
                    error: false,
                    property: P,
                    message:
                        "podman's CDI devices take no capabilities or options; they are left out"
                            .into(),
                });
            }
        }
    }
}

/// `WORKING_DIR` in the arguments (not secret); task env names as `--env NAME` with values in
/// the child's environment; names the client itself reads in a 0600 env file.
pub(crate) fn env_options(
    c: &mut EngineCommand,
    task: &ScriptTask,
    workdir: &Utf8PathBuf,
    private: &Utf8PathBuf,
    secret_env: &[String],
    findings: &mut Vec<Finding>,
) {
    c.opt("--env", format!("WORKING_DIR={workdir}"));
    let mut file_lines = Vec::new();
    let mut shown = Vec::new();
    for (name, value) in &task.env {
        // Exported by the command file (or refused): never in the engine's record.
        if name == "WORKING_DIR" || secret_env.contains(name) {
            continue;
        }
        if client_reads(name) {
            if value.contains('\n') || value.contains('\r') {
                findings.push(Finding {
                    error: true,
                    property: "env",
                    message: format!("`{name}` holds a line break, and the engine client reads `{name}` itself, so it can only be passed in an env file, which takes one line per variable"),
                });
                continue;
            }
            file_lines.push(format!("{name}={value}"));
            shown.push(format!("{name}=<redacted>"));
        } else {
            c.opt("--env", name);
            c.env.push((name.clone(), Secret::new(value.clone())));
        }
    }
    if !file_lines.is_empty() {
        let path = private.join("env");
        c.opt("--env-file", path.as_str());
        c.files.push(PrivateFile {
            path: path.to_string(),
            content: Secret::new(file_lines.join("\n") + "\n"),
            shown: shown.join("\n"),
            docker_client_config: false,
        });
    }
}

/// The image, the entrypoint (Kestra's default `[""]` clears the image's) and the command.
fn entrypoint_and_command(
    c: &mut EngineCommand,
    task: &ScriptTask,
    d: Dialect,
    image: String,
    command: &[String],
) {
    let ep = &task.runner.entry_point;
    let mut extra: Vec<String> = Vec::new();
    match ep.as_slice() {
        [] => {}
        [one] => {
            c.arg(format!("--entrypoint={one}"));
        }
        [first, rest @ ..] => match d {
            // docker's --entrypoint takes one word: the rest go before the command.
            Dialect::Docker => {
                c.arg(format!("--entrypoint={first}"));
                extra.extend(rest.iter().cloned());
            }
            Dialect::Podman => {
                c.arg(format!(
                    "--entrypoint={}",
                    serde_json::to_string(ep).unwrap_or_default()
                ));
            }
        },
    }
    c.arg(image);
    c.args(extra);
    c.args(command);
}

/// The image argument. Docker takes a short name to mean Docker Hub, and finds a local image by
/// it. Podman resolves a short name first among local images (`localhost/NAME` first, then its
/// search registries and aliases), and to pull it goes through its search registries and
/// aliases (it may ask which one, or pick another registry: `centos` is quay.io's in the usual
/// aliases). So on Podman a short name goes as written where no pull can follow (`pullPolicy:
/// NEVER`), or where the pre-run lookup found it locally (`local`, for the task's engine address
/// `host`): podman then uses the local image `podman run` would. Any other short name, and every
/// one under `pullPolicy: ALWAYS`, gets Docker Hub's fully qualified name, so a pull means what
/// it means on Docker.
pub fn image_name(
    task: &ScriptTask,
    d: Dialect,
    local: &std::collections::BTreeSet<(Option<String>, String)>,
    host: Option<&str>,
) -> String {
    let img = &task.container_image;
    let found_locally = || match task.runner.pull_policy {
        PullPolicy::Never => img.digest.is_none(),
        PullPolicy::IfNotPresent => {
            local.contains(&(host.map(str::to_string), img.original().to_string()))
        }
        PullPolicy::Always => false,
    };
    match d {
        Dialect::Docker => img.original().to_string(),
        Dialect::Podman if img.domain.is_none() && found_locally() => img.original().to_string(),
        Dialect::Podman if img.domain.is_none() => {
            let mut s = img.full_name();
            if let Some(t) = &img.tag {
                s.push(':');
                s.push_str(t);
            }
            if let Some(dg) = &img.digest {
                s.push('@');
                s.push_str(dg);
            }
            s
        }
        Dialect::Podman => img.original().to_string(),
    }
}

/// The private client config that holds registry credentials: docker `--config DIR` with a
/// `config.json`, podman `--authfile FILE`. `None` when the task has no credentials.
pub(crate) fn registry_auth(
    task: &ScriptTask,
    d: Dialect,
    private: &Utf8PathBuf,
) -> Option<(&'static str, PrivateFile)> {
    let r: &DockerRunner = &task.runner;
    let mut cfg = r.config.clone().unwrap_or_else(|| serde_json::json!({}));
    if let Some(o) = cfg.as_object_mut() {
        o.remove("insecure-registries");
    }
    if let Some(c) = &r.credentials {
        let key = c
            .registry
            .as_deref()
            .map_or_else(|| task.container_image.auth_key(), auth_key);
        let entry = auth_entry(c);
        let auths = cfg
            .as_object_mut()?
            .entry("auths")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(a) = auths.as_object_mut() {
            a.insert(key, entry);
        }
    }
    let has_auth = cfg.as_object().is_some_and(|o| !o.is_empty());
    if !has_auth {
        return None;
    }
    let content = serde_json::to_string_pretty(&cfg).unwrap_or_default();
    let registries: Vec<String> = cfg
        .get("auths")
        .and_then(|a| a.as_object())
        .map(|a| a.keys().cloned().collect())
        .unwrap_or_default();
    let shown = format!(
        "{{\"auths\": {{{}}}}} (credentials <redacted>)",
        registries
            .iter()
            .map(|k| format!("\"{k}\": <redacted>"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match d {
        Dialect::Docker => Some((
            "--config",
            PrivateFile {
                path: private.join("docker-config/config.json").to_string(),
                content: Secret::new(content),
                shown,
                docker_client_config: true,
            },
        )),
        Dialect::Podman => Some((
            "--authfile",
            PrivateFile {
                path: private.join("auth.json").to_string(),
                content: Secret::new(content),
                shown,
                docker_client_config: false,
            },
        )),
    }
}

/// The `auths` key for an explicit `credentials.registry`: Docker Hub's names (`docker.io`,
/// `index.docker.io`, `registry-1.docker.io`, with or without a scheme) become the key the
/// docker client looks Hub credentials up by; anything else stays as written.
fn auth_key(registry: &str) -> String {
    let host = registry
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or_default();
    if matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

fn auth_entry(c: &Credentials) -> serde_json::Value {
    let mut e = serde_json::Map::new();
    // As docker's config file stores it: `auth` is base64 `user:password`, with an empty
    // password when the user signs in with a token.
    let auth = match (&c.auth, &c.username, &c.password) {
        (Some(a), _, _) => Some(a.clone()),
        (None, Some(u), p) => Some(base64(
            format!("{u}:{}", p.as_deref().unwrap_or_default()).as_bytes(),
        )),
        (None, None, _) => None,
    };
    if let Some(a) = auth {
        e.insert("auth".into(), a.into());
    }
    if let Some(t) = &c.identity_token {
        e.insert("identitytoken".into(), t.clone().into());
    }
    if let Some(t) = &c.registry_token {
        e.insert("registrytoken".into(), t.clone().into());
    }
    serde_json::Value::Object(e)
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    /// A context whose execution has one SECRET input value, `hunter22`.
    fn secret_context(dialect: Dialect) -> PlanContext {
        PlanContext {
            secrets: vec![Secret::new("hunter22")],
            ..PlanContext::new(dialect, "/w".into(), "e")
        }
    }

    #[test]
    fn a_command_holding_a_secret_runs_from_a_file() {
        use crate::flow::model::Body;
        let ctx = secret_context(Dialect::Docker);
        let task = |interpreter: &[&str], cmd: &str| ScriptTask {
            interpreter: interpreter.iter().map(|s| s.to_string()).collect(),
            body: Body::Commands(vec![cmd.into()]),
            env: Default::default(),
            fail_fast: true,
            fail_fast_line: "set -e",
            ..ScriptTask::of_commands(crate::image::ImageRef::parse("busybox").unwrap(), vec![])
        };
        let argv = |t: &ScriptTask| {
            let tc = build("n", "f", "t", t, &ctx);
            let args: Vec<String> = tc
                .prepare
                .first()
                .unwrap_or(&tc.run)
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let at = args.iter().position(|a| a == "busybox").unwrap();
            (args[at + 1..].to_vec(), tc.findings)
        };
        let (a, f) = argv(&task(&["/bin/sh", "-c"], "echo hunter22"));
        assert_eq!(a, ["/bin/sh", "-c", ". /.dockhand/command"]);
        assert!(f.is_empty());
        assert_eq!(
            argv(&task(&["bash", "-ec"], "x hunter22")).0,
            ["bash", "-ec", ". /.dockhand/command"]
        );
        assert_eq!(
            argv(&task(&["python3", "-c"], "hunter22")).0,
            ["python3", "/.dockhand/command"]
        );
        assert_eq!(
            argv(&task(&["/bin/sh"], "hunter22")).0,
            ["/bin/sh", "/.dockhand/command"]
        );
        let (_, f) = argv(&task(&["node", "-e"], "hunter22"));
        assert!(
            f.iter().any(|f| f.error && f.property == "interpreter"),
            "{f:?}"
        );
        // Without the secret: inline, and run at once.
        let tc = build("n", "f", "t", &task(&["/bin/sh", "-c"], "echo hello"), &ctx);
        assert!(tc.prepare.is_empty());
        assert_eq!(
            tc.run.args.last().unwrap().to_string_lossy(),
            "set -e\necho hello"
        );
        // The tar copied in holds the script text, mode 0600, outside the working directory.
        let tc = build(
            "n",
            "f",
            "t",
            &task(&["/bin/sh", "-c"], "echo hunter22"),
            &ctx,
        );
        let tar = tc.prepare[1].stdin.as_ref().unwrap().expose().to_string();
        assert!(tar.starts_with(".dockhand/"));
        assert!(tar.contains("set -e\necho hunter22"));
        assert!(
            !tar.contains("w/e/t"),
            "no working directory entry for a task without files"
        );
    }

    #[test]
    fn an_env_value_holding_a_secret_is_exported_by_the_command_file() {
        use crate::flow::model::Body;
        let ctx = secret_context(Dialect::Podman);
        let mut task = ScriptTask {
            interpreter: vec!["/bin/sh".into(), "-c".into()],
            body: Body::Commands(vec!["echo \"$TOKEN\"".into()]),
            env: [
                ("TOKEN".to_string(), "it's hunter22".to_string()),
                ("PLAIN".to_string(), "x".to_string()),
            ]
            .into(),
            fail_fast: true,
            fail_fast_line: "set -e",
            ..ScriptTask::of_commands(crate::image::ImageRef::parse("busybox").unwrap(), vec![])
        };
        let tc = build("n", "f", "t", &task, &ctx);
        assert!(tc.findings.is_empty(), "{:?}", tc.findings);
        let create = &tc.prepare[0];
        let args: Vec<String> = create
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.contains(&"TOKEN".to_string()), "{args:?}");
        assert!(args.contains(&"PLAIN".to_string()), "{args:?}");
        assert!(create.env.iter().all(|(n, _)| n != "TOKEN"));
        let tar = tc.prepare[1].stdin.as_ref().unwrap().expose().to_string();
        assert!(
            tar.contains("export TOKEN='it'\\''s hunter22'\nset -e\necho \"$TOKEN\""),
            "{tar}"
        );
        task.interpreter = vec!["python3".into(), "-c".into()];
        let tc = build("n", "f", "t", &task, &ctx);
        assert!(
            tc.findings.iter().any(|f| f.error && f.property == "env"),
            "{:?}",
            tc.findings
        );
    }
}
