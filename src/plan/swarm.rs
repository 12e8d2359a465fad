//! The third dialect: one script task as a Docker Swarm service (`--backend swarm`), and every
//! other command the swarm backend sends to the manager (task state, logs, removal, node and
//! swarm checks). Pure: no I/O, no environment reads.
//!
//! A task runs as `service create --detach --mode replicated --replicas 1 --restart-condition
//! none`: on dockerd 20.10 `service rm` of a `replicated-job` leaves its container running
//! (moby#44312), while a one-replica service that is never restarted completes the same way,
//! reports the same exit code, and is stopped by `service rm` with SIGTERM and
//! `--stop-grace-period` (swarm-facts.md). The runner properties that have a service
//! equivalent map to it; those that have none are refused here, as findings, with the reason.
//!
//! [`build`] fills the same [`TaskCommands`] the engine dialects do, so `plan` prints it and the
//! journal records it alike; `exec::swarm` reads its fields as: `prepare` (configs and
//! secrets, then `service create --detach`), `run` (`service logs --follow`, the live log),
//! `logs` (`service logs` without `--follow`, read after the task is terminal so that no line is
//! lost), `inspect` (the service's task ids), `stop` and `remove` (`service rm`).

use camino::Utf8PathBuf;

use crate::flow::model::{FileHandling, PullPolicy, ScriptTask};
use crate::plan::build::{self, Finding, TaskCommands};
use crate::plan::command::{EngineCommand, Secret, Step};
use crate::plan::context::PlanContext;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::Global;
use crate::plan::labels;
use crate::plan::script::container_command;
use crate::units;

/// The most a swarm config or secret holds (the manager refuses more).
pub const OBJECT_LIMIT: usize = 500 * 1024;

/// The label on a task's configs and secrets naming its service: they are removed with it.
pub const SERVICE_LABEL: &str = "io.dockhand.service";

/// What the swarm stores besides services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// Plain input files: readable by anyone with access to the manager (`config inspect`).
    Config,
    /// Input files and commands that hold a secret: encrypted, never shown by the engine.
    Secret,
}

impl Object {
    pub fn name(self) -> &'static str {
        match self {
            Object::Config => "config",
            Object::Secret => "secret",
        }
    }

    /// The `docker service create` option that mounts one: `--config`, `--secret`.
    pub fn flag(self) -> &'static str {
        match self {
            Object::Config => "--config",
            Object::Secret => "--secret",
        }
    }
}

/// The service's name: the container name of the engine dialects
/// (`dh-<execution>-<task>-<attempt>`), made a DNS label as swarm wants (letters, digits, `-`;
/// at most 63 characters: a long task id is cut and a hash of it keeps names apart). The
/// attempt stays the last part, as `exec::task` reads it.
pub fn service_name(ctx: &PlanContext, task_id: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    };
    let full = format!(
        "dh-{}-{}-{}",
        clean(&ctx.execution_id),
        clean(task_id),
        ctx.attempt
    );
    if full.len() <= 63 && clean(task_id) == task_id {
        return full;
    }
    let tail = format!("-{:08x}-{}", fnv(task_id), ctx.attempt);
    let mut head = format!("dh-{}-{}", clean(&ctx.execution_id), clean(task_id));
    head.truncate(63 - tail.len());
    format!("{head}{tail}")
}

/// FNV-1a, 32 bits: a stable short hash for names.
fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Builds the commands of one task as a swarm service. `task` must already be rendered.
pub fn build(
    namespace: &str,
    flow_id: &str,
    task_id: &str,
    task: &ScriptTask,
    ctx: &PlanContext,
) -> TaskCommands {
    let r = &task.runner;
    let mut findings = Vec::new();
    refusals(task, &mut findings);
    let workdir = ctx.workdir(task_id);
    let private = ctx.private_dir(task_id);
    let service = service_name(ctx, task_id);
    let labels = ctx.task_labels(namespace, flow_id, task_id);
    let host = r.host.clone().or_else(|| ctx.host.clone());
    let global = Global::new(Dialect::Docker, host.as_deref());

    // Registry credentials: a private client config, sent on with `--with-registry-auth`.
    let auth = build::registry_auth(task, Dialect::Docker, &private);
    let mut create_global = global.clone();
    if auth.is_some() {
        create_global.config = Some(private.join("docker-config").to_string());
    }
    // Output files come back, and MOUNT works, only through a working directory every node
    // sees at the same path: it is bind-mounted. Otherwise input files travel as configs.
    let shared = r.file_handling == FileHandling::Mount || !task.output_files.is_empty();
    let mut secret_files = build::secret_files(task, ctx, &mut findings);
    secret_files.on_host = shared;
    let secret_env = build::secret_env(task, ctx);
    let plain_command = container_command(task);
    // A command holding a secret (or exporting secret env values) is the one of the engine
    // dialects, put in a swarm secret at the same path instead of copied in.
    let command_file = build::command_file(task, &plain_command, &secret_env, ctx, &mut findings);

    let mut prepare = Vec::new();
    let mut create = service_create(&create_global, &service);
    create.cwd = Some(private.to_string());
    if let Some((_, file)) = &auth {
        create.files.push(file.clone());
        create.arg("--with-registry-auth");
    }
    for (k, v) in &labels {
        create.opt("--label", format!("{k}={v}"));
    }
    for (k, v) in &labels {
        create.opt("--container-label", format!("{k}={v}"));
    }
    create
        .opt("--mode", "replicated")
        .opt("--replicas", "1")
        .opt("--restart-condition", "none");
    match r.pull_policy {
        // The nodes use the image they have (pulling it when they have none); the manager does
        // not ask a registry for its digest first, which a local-only image would fail.
        PullPolicy::IfNotPresent | PullPolicy::Never => {
            create.arg("--no-resolve-image");
        }
        // The manager resolves the tag to the registry's current digest: every node runs it.
        PullPolicy::Always => {}
    }
    create.opt("--workdir", workdir.as_str());
    if shared {
        create.opt(
            "--mount",
            format!(
                "type=bind,{},{}",
                build::csv_field(format!("source={workdir}")),
                build::csv_field(format!("target={workdir}"))
            ),
        );
    } else {
        for (i, (name, content)) in task.input_files.iter().enumerate() {
            let private_file = secret_files.holds(name);
            let kind = if private_file {
                Object::Secret
            } else {
                Object::Config
            };
            if content.len() > OBJECT_LIMIT {
                findings.push(Finding {
                    error: true,
                    property: "inputFiles",
                    message: format!(
                        "`{name}` is {} bytes: on a swarm an input file travels as a swarm {} of at most 500 KB ({OBJECT_LIMIT} bytes); for larger files put the working directory on a filesystem every node mounts at the same path and use `fileHandlingStrategy: MOUNT` (it is then bind-mounted)",
                        content.len(),
                        kind.name()
                    ),
                });
                continue;
            }
            let object = format!("{service}-f{i}");
            let mut c = object_create(&global, kind, &object, &service, &labels);
            c.stdin = Some(Secret::new(content.clone()));
            c.stdin_note = if private_file {
                format!("the content of input file {name} (holds a secret: <redacted>)")
            } else {
                format!("the content of input file {name}")
            };
            prepare.push(c);
            let target = workdir.join(name.trim_start_matches("./"));
            let (mode, owner) = match (private_file, secret_files.owner) {
                (true, Some((u, g))) => ("0400", Some((u, g.unwrap_or(0)))),
                (true, None) => ("0400", None),
                (false, _) => ("0444", None),
            };
            let mut spec = format!(
                "source={object},{},mode={mode}",
                build::csv_field(format!("target={target}"))
            );
            if let Some((u, g)) = owner {
                spec.push_str(&format!(",uid={u},gid={g}"));
            }
            create.opt(kind.flag(), spec);
        }
    }
    resources(&mut create, task, &mut findings);
    if let Some(u) = &r.user {
        create.opt("--user", u);
    }
    // `--add-host` and `-p` of `docker run` are `--host` and `--publish` here.
    let lists = [("--host", &r.extra_hosts), ("--publish", &r.port_bindings)];
    for (flag, values) in lists {
        for v in values {
            create.opt(flag, v);
        }
    }
    for v in &r.volumes {
        match volume_mount(v) {
            Ok(m) => {
                create.opt("--mount", m);
            }
            Err(e) => findings.push(Finding {
                error: true,
                property: "taskRunner.volumes",
                message: e,
            }),
        }
    }
    match r.network_mode.as_deref() {
        // Swarm attaches a service to its default network itself; `bridge` is not a network a
        // service may name.
        None | Some("bridge") | Some("default") => {}
        Some("none") => {} // refused above
        Some(n) => {
            create.opt("--network", n);
        }
    }
    create.opt(
        "--stop-grace-period",
        format!("{}s", r.kill_grace_period.as_secs()),
    );
    for c in ctx.backend_constraints(task_id) {
        create.opt("--constraint", c);
    }
    build::env_options(
        &mut create,
        task,
        &workdir,
        &private,
        &secret_env,
        &mut findings,
    );
    let image = task.container_image.original().to_string();
    match &command_file {
        Some(cf) => {
            let object = format!("{service}-cmd");
            let mut c = object_create(&global, Object::Secret, &object, &service, &labels);
            c.stdin = Some(Secret::new(cf.content.clone()));
            c.stdin_note = "the task's command (holds a secret: <redacted>)".into();
            prepare.push(c);
            create.opt(
                "--secret",
                format!("source={object},target={},mode={:04o}", cf.path, cf.mode),
            );
            create.notes.push(format!(
                "the command holds a secret: it is the swarm secret {object}, at {} in the container, its text <redacted>",
                cf.path
            ));
            for name in &secret_env {
                create.notes.push(format!(
                    "env {name} holds a secret: exported by the command secret, not in the service's environment (service inspect)"
                ));
            }
            entrypoint_and_command(&mut create, task, image, &cf.argv);
        }
        None => entrypoint_and_command(&mut create, task, image, &plain_command),
    }
    prepare.push(create);

    let run = service_logs(&global, &service, true);
    let logs = service_logs(&global, &service, false);
    let inspect = service_tasks(&global, &service);
    let stop = service_rm(&global, &[service.as_str()]);
    let detach = !r.wait;
    let remove = (r.delete && !detach).then(|| service_rm(&global, &[service.as_str()]));
    TaskCommands {
        task_id: task_id.to_string(),
        container: service,
        labels,
        workdir,
        input_files: task.input_files.clone(),
        secret_files,
        output_files: task.output_files.clone(),
        prepare,
        run,
        collect: Vec::new(),
        inspect,
        logs,
        stop,
        remove,
        detach,
        findings,
        host: None,
        deps: None,
    }
}

/// The runner properties a swarm service cannot have, each with the reason.
fn refusals(task: &ScriptTask, findings: &mut Vec<Finding>) {
    let r = &task.runner;
    let mut no = |property: &'static str, why: &str| {
        findings.push(Finding {
            error: true,
            property,
            message: format!("a swarm service cannot have it: {why}"),
        })
    };
    if r.privileged == Some(true) {
        no(
            "taskRunner.privileged",
            "`docker service create` has no --privileged",
        );
    }
    if !r.device_requests.is_empty() {
        no(
            "taskRunner.deviceRequests",
            "services take no devices or GPUs (only --generic-resource, which reserves a node resource by name and passes no device)",
        );
    }
    let m = &r.memory;
    if m.oom_kill_disable == Some(true) {
        no(
            "taskRunner.memory.oomKillDisable",
            "services have no --oom-kill-disable",
        );
    }
    if m.kernel_memory.is_some() {
        no(
            "taskRunner.memory.kernelMemory",
            "services have no kernel memory limit",
        );
    }
    if m.memory_swap.is_some() {
        no(
            "taskRunner.memory.memorySwap",
            "the service API of dockerd 20.10 (1.41) has no swap limit",
        );
    }
    if m.memory_swappiness.is_some() {
        no(
            "taskRunner.memory.memorySwappiness",
            "the service API of dockerd 20.10 (1.41) has no swappiness",
        );
    }
    if r.network_mode.as_deref() == Some("none") {
        no(
            "taskRunner.networkMode",
            "swarm refuses the `none` network for services",
        );
    }
}

/// CPU and memory limits and reservations; `shmSize` as a tmpfs on /dev/shm.
fn resources(c: &mut EngineCommand, task: &ScriptTask, findings: &mut Vec<Finding>) {
    let r = &task.runner;
    if let Some(cpus) = r.cpus {
        c.opt("--limit-cpu", build::format_number(cpus));
    }
    if let Some(v) = r.memory.memory {
        c.opt("--limit-memory", units::format_size_docker(v));
    }
    if let Some(v) = r.memory.memory_reservation {
        c.opt("--reserve-memory", units::format_size_docker(v));
    }
    if let Some(v) = r.shm_size {
        c.opt(
            "--mount",
            format!("type=tmpfs,target=/dev/shm,tmpfs-size={v}"),
        );
        findings.push(Finding {
            error: false,
            property: "taskRunner.shmSize",
            message: "a service has no --shm-size: /dev/shm is a tmpfs mount of that size instead"
                .into(),
        });
    }
}

/// `SOURCE:TARGET[:ro|rw]` (Kestra's `volumes`, docker's `-v`) as a service `--mount`: an
/// absolute source is a bind mount (it must exist on the node that runs the task), a name a
/// volume (created on that node when missing).
fn volume_mount(v: &str) -> Result<String, String> {
    let parts: Vec<&str> = v.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, None),
        [s, d, m] => (*s, *d, Some(*m)),
        _ => {
            return Err(format!(
                "`{v}`: a swarm mount needs SOURCE:TARGET[:ro|rw] (an anonymous volume has no service form)"
            ));
        }
    };
    let kind = if src.starts_with('/') {
        "bind"
    } else {
        "volume"
    };
    let mut spec = format!(
        "type={kind},{},{}",
        build::csv_field(format!("source={src}")),
        build::csv_field(format!("target={dst}"))
    );
    match mode {
        None | Some("rw") => {}
        Some("ro") => spec.push_str(",readonly"),
        Some(m) => {
            return Err(format!(
                "`{v}`: mount option `{m}` has no service form (only ro or rw)"
            ));
        }
    }
    Ok(spec)
}

/// The image, the entrypoint and the command. A service's `--entrypoint` is one string the
/// CLI splits like a shell, and an empty one keeps the image's: Kestra's default `[""]`
/// (clear the image's entrypoint) becomes the command's first word as the entrypoint, the
/// rest its arguments.
fn entrypoint_and_command(
    c: &mut EngineCommand,
    task: &ScriptTask,
    image: String,
    command: &[String],
) {
    let ep: Vec<&String> = task
        .runner
        .entry_point
        .iter()
        .filter(|w| !w.is_empty())
        .collect();
    let mut args: &[String] = command;
    if !ep.is_empty() {
        c.opt("--entrypoint", shell_words::join(ep));
    } else if let Some((first, rest)) = command.split_first() {
        c.opt("--entrypoint", shell_words::quote(first).into_owned());
        args = rest;
    }
    c.arg(image);
    c.args(args);
}

// The other commands of the swarm backend, each a function (see `fixtures/engine-commands.swarm.txt`).

/// `service create --detach --name NAME`: the caller adds the options, image and command.
pub fn service_create(g: &Global, name: &str) -> EngineCommand {
    let mut c = g.base(Step::Create);
    c.args(["service", "create", "--detach"])
        .opt("--name", name);
    c
}

/// Creates a config or secret from stdin, labelled with the task's labels and its service.
pub fn object_create(
    g: &Global,
    kind: Object,
    name: &str,
    service: &str,
    task_labels: &[(&'static str, String)],
) -> EngineCommand {
    let mut c = g.base(Step::CopyIn);
    c.args([kind.name(), "create"]);
    for (k, v) in task_labels {
        c.opt("--label", format!("{k}={v}"));
    }
    c.opt("--label", format!("{SERVICE_LABEL}={service}"));
    c.args([name, "-"]);
    c
}

/// The ids of the service's tasks (one: a single replica that is never restarted).
pub fn service_tasks(g: &Global, service: &str) -> EngineCommand {
    let mut c = g.base(Step::Inspect);
    c.args(["service", "ps", "--no-trunc", "--quiet", service]);
    c
}

/// A task's status (state, error, container exit code) and node, one tab-separated line.
pub fn inspect_task(g: &Global, task: &str) -> EngineCommand {
    let mut c = g.base(Step::Inspect);
    c.arg("inspect")
        .opt("--type", "task")
        .opt("--format", "{{json .Status}}\t{{.NodeID}}")
        .arg(task);
    c
}

/// A node's hostname and state (`ready`, `down`), tab-separated.
pub fn inspect_node(g: &Global, node: &str) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["node", "inspect"])
        .opt(
            "--format",
            "{{.Description.Hostname}}\t{{.Status.State}}\t{{.Status.Message}}",
        )
        .arg(node);
    c
}

/// The service's log, stdout and stderr apart, as the task printed it; `--follow` never ends
/// by itself (moby#36626).
pub fn service_logs(g: &Global, service: &str, follow: bool) -> EngineCommand {
    let mut c = g.base(Step::Run);
    c.args(["service", "logs", "--raw"]);
    if follow {
        c.arg("--follow");
    }
    c.arg(service);
    c
}

/// Removes services: their running containers get SIGTERM, then SIGKILL after the
/// `--stop-grace-period`, on whatever node they run.
pub fn service_rm<S: AsRef<str>>(g: &Global, services: &[S]) -> EngineCommand {
    let mut c = g.base(Step::Remove);
    c.args(["service", "rm"]);
    c.args(services.iter().map(|s| s.as_ref()));
    c
}

/// The ids of every service (any attempt) of one task of an execution.
pub fn list_task_services(g: &Global, execution: &str, task: &str) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["service", "ls", "--quiet"]);
    c.opt(
        "--filter",
        format!("label={}={execution}", labels::EXECUTION),
    );
    c.opt("--filter", format!("label={}={task}", labels::TASK));
    c
}

/// One line per dockhand service: id, name, then its labels as JSON.
pub fn list_managed_services(g: &Global) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["service", "ls"])
        .opt("--filter", format!("label={}=true", labels::MANAGED))
        .opt("--format", "{{.ID}}\t{{.Name}}");
    c
}

/// One tab-separated line per service, as `engine_commands::inspect_managed` prints one per
/// container: id, then name, state (`service`: a service has no state of its own), creation
/// time and labels as JSON.
pub fn inspect_services<S: AsRef<str>>(g: &Global, ids: &[S]) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["service", "inspect"]).opt(
        "--format",
        "{{.ID}}\t{{json .Spec.Name}}\t{{json \"service\"}}\t{{json .CreatedAt}}\t{{json .Spec.Labels}}",
    );
    c.args(ids.iter().map(|i| i.as_ref()));
    c
}

/// Every dockhand config or secret: id, then the service it was made for.
pub fn list_managed_objects(g: &Global, kind: Object) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args([kind.name(), "ls"])
        .opt("--filter", format!("label={}=true", labels::MANAGED))
        .opt(
            "--format",
            format!("{{{{.ID}}}}\t{{{{.Label \"{SERVICE_LABEL}\"}}}}"),
        );
    c
}

/// The configs or secrets made for one service.
pub fn list_objects(g: &Global, kind: Object, service: &str) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args([kind.name(), "ls", "--quiet"])
        .opt("--filter", format!("label={SERVICE_LABEL}={service}"));
    c
}

/// Removes configs or secrets (once no service uses them).
pub fn object_rm<S: AsRef<str>>(g: &Global, kind: Object, ids: &[S]) -> EngineCommand {
    let mut c = g.base(Step::Remove);
    c.args([kind.name(), "rm"]);
    c.args(ids.iter().map(|s| s.as_ref()));
    c
}

/// The label of a flow's concurrency slots on a swarm (`NAMESPACE/FLOW`).
pub const SLOT_FLOW_LABEL: &str = "io.dockhand.concurrency";
/// The label naming the process that holds a slot: `HOSTNAME:PID`.
pub const SLOT_HOLDER_LABEL: &str = "io.dockhand.holder";

/// The name of slot `k` of a flow's concurrency limit: a swarm config name, unique in the
/// swarm, so that creating it is the atomic claim (FNV-1a of `NAMESPACE/FLOW`, 64 bits).
pub fn slot_name(namespace: &str, flow: &str, k: u32) -> String {
    let h = format!("{namespace}/{flow}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("dh-slot-{h:016x}-{k}")
}

/// Claims a slot: creates the config `name` (its content the execution id, from stdin); fails
/// when the swarm has a config of that name already.
pub fn slot_create(
    g: &Global,
    name: &str,
    namespace: &str,
    flow: &str,
    execution: &str,
    holder: &str,
) -> EngineCommand {
    let mut c = g.base(Step::Create);
    c.args(["config", "create"])
        .opt("--label", format!("{}=true", labels::MANAGED))
        .opt("--label", format!("{SLOT_FLOW_LABEL}={namespace}/{flow}"))
        .opt("--label", format!("{}={execution}", labels::EXECUTION))
        .opt("--label", format!("{SLOT_HOLDER_LABEL}={holder}"))
        .args([name, "-"]);
    c.stdin = Some(Secret::new(execution.to_string()));
    c.stdin_note = "the execution id".into();
    c
}

/// The slots of a flow held now: name, execution, holder, tab-separated.
pub fn list_slots(g: &Global, namespace: &str, flow: &str) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["config", "ls"])
        .opt(
            "--filter",
            format!("label={SLOT_FLOW_LABEL}={namespace}/{flow}"),
        )
        .opt(
            "--format",
            format!(
                "{{{{.Name}}}}\t{{{{.Label \"{}\"}}}}\t{{{{.Label \"{SLOT_HOLDER_LABEL}\"}}}}",
                labels::EXECUTION
            ),
        );
    c
}

/// Whether the engine is a swarm manager: `LocalNodeState` and `ControlAvailable`.
pub fn swarm_state(g: &Global) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.arg("info").opt(
        "--format",
        "{{.Swarm.LocalNodeState}}\t{{.Swarm.ControlAvailable}}",
    );
    c
}

/// Every node: id, hostname, state, availability.
pub fn nodes(g: &Global) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["node", "ls"]).opt(
        "--format",
        "{{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}",
    );
    c
}

/// The configs and secrets a task's `prepare` creates, by kind and name: removed with its
/// service.
pub fn made_objects(tc: &TaskCommands) -> Vec<(Object, String)> {
    tc.prepare
        .iter()
        .filter(|c| c.step == Step::CopyIn)
        .filter_map(|c| {
            let argv = c.argv();
            let kind = argv.iter().find_map(|a| match a.as_str() {
                "config" => Some(Object::Config),
                "secret" => Some(Object::Secret),
                _ => None,
            })?;
            let name = argv.len().checked_sub(2).map(|i| argv[i].clone())?;
            Some((kind, name))
        })
        .collect()
}

/// The host directory a bind mount of the working directory needs on every node.
pub fn shared_workdir(tc: &TaskCommands) -> Option<&Utf8PathBuf> {
    let wd = tc.workdir.as_str();
    tc.prepare
        .last()
        .filter(|c| {
            c.argv()
                .iter()
                .any(|a| a.starts_with("type=bind") && a.contains(&format!("target={wd}")))
        })
        .map(|_| &tc.workdir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::backend::{Backend, SwarmOptions};

    fn ctx() -> PlanContext {
        PlanContext {
            attempt: 2,
            owner: Some(7),
            secrets: vec![Secret::new("s3cr3t-value")],
            backend: Backend::Swarm(SwarmOptions {
                placement: vec![("t".into(), "node.labels.dockhand.node==n1".into())],
            }),
            ..PlanContext::new(Dialect::Docker, "/w".into(), "e1")
        }
    }

    fn task(yaml_runner: &str, extra: &str) -> ScriptTask {
        let flow = format!(
            "id: f\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: busybox\n{extra}    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n{yaml_runner}    commands:\n      - echo hi\n"
        );
        let loaded = crate::flow::decode::load("f.yaml", &flow);
        let flow = loaded.flow.unwrap_or_else(|| panic!("{}", loaded.diags));
        flow.scripts()[0].1.clone()
    }

    #[test]
    fn names_are_dns_labels_ending_in_the_attempt() {
        let c = ctx();
        assert_eq!(service_name(&c, "t"), "dh-e1-t-2");
        let n = service_name(&c, "my_task");
        assert!(n.starts_with("dh-e1-my-task-") && n.ends_with("-2"), "{n}");
        assert_ne!(n, service_name(&c, "my-task"));
        let long = service_name(&c, &"x".repeat(80));
        assert!(long.len() <= 63 && long.ends_with("-2"), "{long}");
    }

    /// Each property with no service form is refused, naming it, with the reason.
    #[test]
    fn refused_properties() {
        let cases = [
            ("      privileged: true\n", "taskRunner.privileged"),
            ("      networkMode: none\n", "taskRunner.networkMode"),
            (
                "      memory:\n        oomKillDisable: true\n",
                "taskRunner.memory.oomKillDisable",
            ),
            (
                "      memory:\n        kernelMemory: 64MB\n",
                "taskRunner.memory.kernelMemory",
            ),
            (
                "      memory:\n        memorySwap: 64MB\n",
                "taskRunner.memory.memorySwap",
            ),
            (
                "      deviceRequests:\n        - count: 1\n",
                "taskRunner.deviceRequests",
            ),
        ];
        for (runner, property) in cases {
            let tc = build("n", "f", "t", &task(runner, ""), &ctx());
            let errs: Vec<&Finding> = tc.findings.iter().filter(|f| f.error).collect();
            assert_eq!(errs.len(), 1, "{runner}: {:?}", tc.findings);
            assert_eq!(errs[0].property, property);
            assert!(
                errs[0]
                    .message
                    .starts_with("a swarm service cannot have it: ")
            );
        }
        let tc = build("n", "f", "t", &task("", ""), &ctx());
        assert!(tc.findings.is_empty(), "{:?}", tc.findings);
    }

    #[test]
    fn runner_properties_map_to_service_options() {
        let t = task(
            "      cpu:\n        cpus: 1.5\n      memory:\n        memory: 64MB\n        memoryReservation: 32MB\n      user: \"1000\"\n      extraHosts:\n        - db:10.0.0.9\n      volumes:\n        - /data:/data:ro\n        - cache:/cache\n      shmSize: 16MB\n      killGracePeriod: PT5S\n",
            "",
        );
        let tc = build("n", "f", "t", &t, &ctx());
        let argv = tc.prepare.last().unwrap().argv().join(" ");
        for want in [
            "service create --detach --name dh-e1-t-2",
            "--mode replicated --replicas 1 --restart-condition none --no-resolve-image",
            "--label io.dockhand.task=t",
            "--container-label io.dockhand.execution=e1",
            "--limit-cpu 1.5",
            "--limit-memory 64m",
            "--reserve-memory 32m",
            "--user 1000",
            "--host db:10.0.0.9",
            "--mount type=bind,source=/data,target=/data,readonly",
            "--mount type=volume,source=cache,target=/cache",
            "--mount type=tmpfs,target=/dev/shm,tmpfs-size=16777216",
            "--stop-grace-period 5s",
            "--constraint node.labels.dockhand.node==n1",
            "--entrypoint /bin/sh busybox -c",
        ] {
            assert!(argv.contains(want), "{want} not in {argv}");
        }
    }

    /// Secret values never reach argv: the command goes in a swarm secret from stdin.
    #[test]
    fn a_secret_command_is_a_swarm_secret() {
        let t = task(
            "",
            "    env:\n      TOKEN: s3cr3t-value\n      PLAIN: x\n    inputFiles:\n      a.txt: hello\n      key.txt: s3cr3t-value\n",
        );
        let tc = build("n", "f", "t", &t, &ctx());
        let all: String = tc
            .steps()
            .iter()
            .map(|c| c.argv().join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!all.contains("s3cr3t-value"), "{all}");
        assert!(
            all.contains("secret create --label io.dockhand.managed=true"),
            "{all}"
        );
        assert!(all.contains("--secret source=dh-e1-t-2-cmd,target=/.dockhand/command,mode=0600"));
        assert_eq!(
            made_objects(&tc),
            [
                (Object::Config, "dh-e1-t-2-f0".to_string()),
                (Object::Secret, "dh-e1-t-2-f1".to_string()),
                (Object::Secret, "dh-e1-t-2-cmd".to_string())
            ]
        );
        assert!(all.contains("--config source=dh-e1-t-2-f0,target=/w/e1/t/a.txt,mode=0444"));
        assert!(all.contains("--secret source=dh-e1-t-2-f1,target=/w/e1/t/key.txt,mode=0400"));
        assert!(
            all.contains("--entrypoint /bin/sh busybox -c . /.dockhand/command\n"),
            "{all}"
        );
        let cmd = &tc.prepare[2];
        assert!(
            cmd.stdin
                .as_ref()
                .unwrap()
                .expose()
                .starts_with("export TOKEN='s3cr3t-value'\n")
        );
    }

    #[test]
    fn input_files_over_the_config_limit_are_refused() {
        let big = "x".repeat(OBJECT_LIMIT + 1);
        let t = task("", &format!("    inputFiles:\n      big.txt: {big}\n"));
        let tc = build("n", "f", "t", &t, &ctx());
        let e = tc.findings.iter().find(|f| f.error).expect("refused");
        assert_eq!(e.property, "inputFiles");
        assert!(e.message.contains("at most 500 KB"), "{}", e.message);
        // With output files the working directory is bind-mounted instead: no limit.
        let t = task(
            "",
            &format!("    inputFiles:\n      big.txt: {big}\n    outputFiles:\n      - out.txt\n"),
        );
        let tc = build("n", "f", "t", &t, &ctx());
        assert!(!tc.findings.iter().any(|f| f.error));
        assert!(shared_workdir(&tc).is_some());
    }
}
