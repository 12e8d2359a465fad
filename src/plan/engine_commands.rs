//! The one home of engine command lines: every `docker`/`podman` invocation dockhand makes
//! besides a task's `run`/`create` options (which `build` assembles from the runner) is built
//! here, from the dialect and the global options as data. Pure: no I/O, no environment reads.
//!
//! Callers run what these functions return; none writes a subcommand of its own. A new engine
//! command gets a function here and a line in `tests/golden.rs`' engine-commands test, whose
//! snapshot `fixtures/engine-commands.{docker,podman}.txt` shows every command line per dialect.

use std::time::Duration;

use crate::plan::command::{EngineCommand, Secret, Step};
use crate::plan::dialect::Dialect;
use crate::plan::labels;

/// What every command to one engine takes before its subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub dialect: Dialect,
    /// Engine address (`--host` for docker, `--url` for podman); None: the CLI's default.
    pub host: Option<String>,
    /// Docker only: a client config directory (`--config DIR`) replacing the user's.
    pub config: Option<String>,
}

impl Global {
    pub fn new(dialect: Dialect, host: Option<&str>) -> Self {
        Global {
            dialect,
            host: host.map(str::to_string),
            config: None,
        }
    }

    /// The global options with their values, in the order the engine CLI takes them.
    pub fn options(&self) -> Vec<(&'static str, &str)> {
        let mut v = Vec::new();
        if let Some(h) = &self.host {
            let flag = match self.dialect {
                Dialect::Docker => "--host",
                Dialect::Podman => "--url",
            };
            v.push((flag, h.as_str()));
        }
        if let Some(c) = &self.config {
            v.push(("--config", c.as_str()));
        }
        v
    }

    pub(crate) fn base(&self, step: Step) -> EngineCommand {
        let mut c = EngineCommand::new(step);
        // Each global option takes a value: `opt` marks it so, for `plan`'s layout.
        for (flag, value) in self.options() {
            c.opt(flag, value);
        }
        c
    }
}

// Container lifecycle: a task's container.

/// The start of a task's container command: `create` (started later) or `run` (attached).
/// The caller appends the options and the image.
pub fn create(g: &Global, step: Step, start_later: bool) -> EngineCommand {
    let mut c = g.base(step);
    c.arg(if start_later { "create" } else { "run" });
    c
}

/// Copies a tar archive on stdin into the container's root.
pub fn copy_in(g: &Global, container: &str) -> EngineCommand {
    let mut c = g.base(Step::CopyIn);
    c.args(["cp".to_string(), "-".to_string(), format!("{container}:/")]);
    c
}

/// Copies a host directory's content into a created container, at the same path (a
/// WorkingDirectory's shared directory, with the files earlier tasks left there).
pub fn copy_dir_in(g: &Global, container: &str, dir: &str) -> EngineCommand {
    let mut c = g.base(Step::CopyIn);
    c.args([
        "cp".to_string(),
        format!("{dir}/."),
        format!("{container}:{dir}"),
    ]);
    c
}

/// Starts a created container, attached (its output is the task's log) or not.
pub fn start(g: &Global, container: &str, attach: bool) -> EngineCommand {
    let mut c = g.base(Step::Run);
    c.arg("start");
    if attach {
        c.arg("--attach");
    }
    c.arg(container);
    c
}

/// Copies the working directory back out of the container (same path on both sides).
pub fn copy_out(g: &Global, container: &str, workdir: &str) -> EngineCommand {
    let mut c = g.base(Step::CopyOut);
    c.args([
        "cp".to_string(),
        format!("{container}:{workdir}/."),
        workdir.to_string(),
    ]);
    c
}

/// The container's final state as JSON (`ContainerState`).
pub fn inspect_state(g: &Global, container: &str) -> EngineCommand {
    let mut c = g.base(Step::Inspect);
    c.arg("inspect")
        .opt("--type", "container")
        .opt("--format", "{{json .State}}")
        .arg(container);
    c
}

/// Follows the log of a container dockhand re-attaches to.
pub fn follow_logs(g: &Global, container: &str) -> EngineCommand {
    let mut c = g.base(Step::Run);
    c.args(["logs", "--follow", container]);
    c
}

/// Stops the container: `kill` with no grace period, else `stop` with it (at least 1 s).
pub fn stop(g: &Global, container: &str, grace: Duration) -> EngineCommand {
    let mut c = g.base(Step::Stop);
    if grace.is_zero() {
        c.args(["kill", container]);
    } else {
        // docker 28 deprecates `stop --time` (prints a warning) for `--timeout`; podman 4.3
        // has only `--time`.
        let flag = match g.dialect {
            Dialect::Docker => "--timeout",
            Dialect::Podman => "--time",
        };
        c.arg("stop")
            .opt(flag, grace.as_secs().max(1).to_string())
            .arg(container);
    }
    c
}

/// Removes a task's container after its run (it has ended: no stop timeout to skip).
pub fn remove(g: &Global, container: &str) -> EngineCommand {
    let mut c = g.base(Step::Remove);
    c.args(["rm", "--force", "--volumes", container]);
    c
}

/// A task container's [`remove`] extended to more containers of the same engine: one call
/// removes several finished tasks' containers (`exec::removals`).
pub fn remove_also(rm: &EngineCommand, more: &[&str]) -> EngineCommand {
    let mut c = rm.clone();
    c.args(more.iter().copied());
    c
}

/// Removes containers that may still run (stale attempts, `cleanup`), at once.
pub fn remove_now<S: AsRef<str>>(g: &Global, ids: &[S]) -> EngineCommand {
    let mut c = g.base(Step::Remove);
    c.args(["rm", "--force", "--volumes"]);
    if g.dialect == Dialect::Podman {
        // podman's `rm --force` otherwise waits the stop timeout for each running container.
        c.opt("--time", "0");
    }
    c.args(ids.iter().map(|i| i.as_ref()));
    c
}

// Queries.

/// The ids of every container (any attempt) of one task of an execution.
pub fn list_task_containers(g: &Global, execution: &str, task: &str) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["ps", "--all", "--quiet"]);
    c.opt(
        "--filter",
        format!("label={}={execution}", labels::EXECUTION),
    );
    c.opt("--filter", format!("label={}={task}", labels::TASK));
    c
}

/// The full ids of every container with dockhand's managed label.
pub fn list_managed(g: &Global) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["ps", "--all", "--quiet", "--no-trunc"]);
    c.opt("--filter", format!("label={}=true", labels::MANAGED));
    c
}

/// One tab-separated line per container: id, then name, state, creation time and labels as JSON.
pub fn inspect_managed<S: AsRef<str>>(g: &Global, ids: &[S]) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.arg("inspect").opt("--type", "container");
    // Podman 4.3 rejects a template that starts with `{{json`: the id goes first, plain.
    c.opt(
        "--format",
        "{{.Id}}\t{{json .Name}}\t{{json .State.Status}}\t{{json .Created}}\t{{json .Config.Labels}}",
    );
    c.args(ids.iter().map(|i| i.as_ref()));
    c
}

/// The engine's version: the server's for docker (which needs the daemon), the client's for
/// podman (whose `version` asks the service when there is one).
pub fn version(g: &Global) -> EngineCommand {
    formatted(
        g,
        &["version"],
        "{{.Server.Version}}",
        "{{.Client.Version}}",
    )
}

/// The ids of the local images with these names (`exec::images`, Podman's short names).
pub fn image_ids<S: AsRef<str>>(g: &Global, names: &[S]) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(["image", "inspect"]).opt("--format", "{{.Id}}");
    c.args(names.iter().map(|n| n.as_ref()));
    c
}

/// The daemon's registry settings: docker's `RegistryConfig` (insecure registries, mirrors),
/// podman's `Registries` (what `registries.conf` and its drop-ins say).
pub fn registry_settings(g: &Global) -> EngineCommand {
    formatted(
        g,
        &["info"],
        "{{json .RegistryConfig}}",
        "{{json .Registries}}",
    )
}

/// A query with a Go template that differs per dialect.
fn formatted(g: &Global, sub: &[&str], docker: &str, podman: &str) -> EngineCommand {
    let mut c = g.base(Step::Query);
    c.args(sub).opt(
        "--format",
        match g.dialect {
            Dialect::Docker => docker,
            Dialect::Podman => podman,
        },
    );
    c
}

/// What `docker build` / `podman build` is given (docker Build).
pub struct ImageBuildArgs<'a> {
    pub context: &'a str,
    pub dockerfile: &'a str,
    pub tags: &'a [String],
    /// Names only: the values go in the client's environment (`--build-arg NAME`).
    pub build_args: &'a std::collections::BTreeMap<String, String>,
    pub labels: &'a std::collections::BTreeMap<String, String>,
    pub platform: Option<&'a str>,
    pub target: Option<&'a str>,
    pub pull: bool,
    /// Where the engine writes the image id.
    pub iidfile: &'a str,
}

/// `build --file F --tag T… [--build-arg NAME…] [--label K=V…] [--platform P] [--target S]
/// [--pull] --iidfile FILE CONTEXT`, the build arguments' values in the command's environment.
pub fn build_image(g: &Global, b: &ImageBuildArgs) -> EngineCommand {
    let mut c = g.base(Step::Run);
    c.arg("build");
    c.opt("--file", b.dockerfile);
    for t in b.tags {
        c.opt("--tag", t.as_str());
    }
    for (name, value) in b.build_args {
        c.opt("--build-arg", name.as_str());
        c.env.push((name.clone(), Secret::new(value.clone())));
    }
    for (k, v) in b.labels {
        c.opt("--label", format!("{k}={v}"));
    }
    if let Some(p) = b.platform {
        c.opt("--platform", p);
    }
    if let Some(t) = b.target {
        c.opt("--target", t);
    }
    if b.pull {
        c.arg(match g.dialect {
            Dialect::Docker => "--pull",
            Dialect::Podman => "--pull=always",
        });
    }
    c.opt("--iidfile", b.iidfile);
    c.arg(b.context);
    c
}

/// `push TAG`, with a private auth file for podman (docker's goes in the global `--config`).
pub fn push_image(g: &Global, tag: &str, authfile: Option<&str>) -> EngineCommand {
    let mut c = g.base(Step::Run);
    c.arg("push");
    if let Some(f) = authfile {
        c.opt("--authfile", f);
    }
    c.arg(tag);
    c
}
