//! `dockhand registry insecure add|remove|list`: the command line over [`super::daemon_json`],
//! [`super::podman`] and [`super::reload`]. Messages go to stderr; `list` prints one registry
//! per line on stdout.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::{Say, daemon_json, podman, reload};
use crate::exit::Code;

const INSECURE_HELP: &str = "\
An insecure registry is one the engine reaches over plain HTTP (or HTTPS without a trusted
certificate). Listing it in a flow's runner `config` (\"insecure-registries\") is not enough:
the engine's host configuration must allow it.

  docker  `insecure-registries` in the daemon's daemon.json (default /etc/docker/daemon.json,
          or the --config-file dockerd runs with); dockerd applies it on reload (SIGHUP),
          without a restart: use --reload.
  podman  a drop-in /etc/containers/registries.conf.d/50-dockhand-HOST.conf with
          [[registry]] location = \"HOST:PORT\", insecure = true; every podman command reads it.

Examples:
  dockhand registry insecure add 10.10.1.5:5000 --reload
  dockhand registry insecure add 10.10.1.5:5000 --engine podman
  dockhand registry insecure list
  dockhand registry insecure remove 10.10.1.5:5000 --reload

Exit codes: 0 done (or nothing to change), 2 bad input or a malformed daemon.json (nothing
written), 3 a file could not be written or the engine did not take the change.";

const CHANGE_HELP: &str = "\
HOST:PORT is a registry address as image names use it: 10.10.1.5:5000, registry.local:5000,
[fd00::5]:5000; Docker also takes CIDR blocks (10.10.0.0/16). No scheme, no path.

Docker: daemon.json is edited in place, keeping every other setting and its layout; the
previous content is saved as daemon.json.dockhand-bak next to it (overwritten by each change);
the new file replaces the old one atomically with the same mode and owner. Nothing to change
means no write at all. --reload then sends SIGHUP to dockerd (`systemctl reload docker` under
systemd) and waits until `docker info` shows the change; running containers are not touched.
Podman: the drop-in is written or deleted; --reload only checks `podman info` sees it.

Examples:
  dockhand registry insecure add 10.10.1.5:5000 --reload
  dockhand registry insecure add 10.10.1.5:5000 registry.local:5000 --daemon-json ./daemon.json
  dockhand registry insecure add 10.10.1.5:5000 --engine podman --reload
  dockhand registry insecure remove 10.10.1.5:5000 --reload

Exit codes: 0 done (or nothing to change), 2 bad HOST:PORT, malformed daemon.json or conflicting
options (nothing written), 3 a file could not be written or the engine did not take the change.";

#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Subcommand, Debug, Clone)]
pub enum RegistryCommand {
    /// Let docker or podman pull from plain-HTTP (insecure) registries
    #[command(after_help = INSECURE_HELP)]
    Insecure {
        #[command(subcommand)]
        action: InsecureAction,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum InsecureAction {
    /// Allow registries: add them to daemon.json (docker) or write podman drop-ins
    #[command(after_help = CHANGE_HELP)]
    Add(ChangeArgs),
    /// Undo `add`: take registries out of daemon.json, delete dockhand's podman drop-ins
    #[command(after_help = CHANGE_HELP)]
    Remove(ChangeArgs),
    /// Print the configured insecure registries, one per line
    #[command(
        after_help = "Docker: the entries of daemon.json's `insecure-registries` (a note on stderr for those the
running dockerd has not loaded yet). Podman: the registries of the drop-ins dockhand wrote.

Examples:
  dockhand registry insecure list
  dockhand registry insecure list --engine podman

Exit codes: 0 listed (also when there is no file), 2 malformed daemon.json, 3 unreadable file."
    )]
    List(ListArgs),
}

#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Engine whose configuration to change
    #[arg(long, value_enum, default_value = "docker")]
    pub engine: EngineKind,
    /// Docker's daemon configuration file [default: the running dockerd's --config-file, else /etc/docker/daemon.json]
    #[arg(long, value_name = "PATH")]
    pub daemon_json: Option<PathBuf>,
    /// Podman's drop-in directory
    #[arg(long, value_name = "DIR", default_value = podman::DEFAULT_DIR)]
    pub registries_dir: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct ChangeArgs {
    /// Registries, as HOST:PORT
    #[arg(required = true, value_name = "HOST:PORT")]
    pub registries: Vec<String>,
    #[command(flatten)]
    pub target: Target,
    /// Docker: reload dockerd (SIGHUP) and wait until it shows the change. Podman: check `podman info`
    #[arg(long)]
    pub reload: bool,
    /// How long --reload waits for dockerd, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub reload_timeout: u64,
    /// The engine address whose `docker info` --reload waits on: the run's (`run --host`) when
    /// `run --configure-insecure-registries` asks; the docker CLI's default otherwise.
    #[arg(skip)]
    pub host: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    Docker,
    Podman,
}

/// Reports a daemon.json failure; the exit code says whether the file (2) or the host (3) is at fault.
fn daemon_json_failure(e: daemon_json::Error, say: &mut dyn Say) -> Code {
    let code = if matches!(e, daemon_json::Error::Malformed { .. }) {
        Code::Invalid
    } else {
        Code::Engine
    };
    say.error(&e);
    code
}

fn error(msg: impl std::fmt::Display) {
    eprintln!("dockhand: error: {msg}");
}

fn note(msg: impl std::fmt::Display) {
    eprintln!("dockhand: {msg}");
}

/// The `registry` command's own reporting: stderr, each line `dockhand: ` first.
pub struct Stderr;

impl Say for Stderr {
    fn error(&mut self, msg: &dyn std::fmt::Display) {
        error(msg);
    }
    fn note(&mut self, msg: &dyn std::fmt::Display) {
        note(msg);
    }
}

/// Runs the subcommand; returns the exit code.
/// `registry insecure add HOSTS --reload` for the local Docker daemon, as `run
/// --configure-insecure-registries` asks; the reload waits on the daemon at `host` (the run's
/// engine address). Returns the exit code of that command; what it did goes to `say`, the
/// caller's to print.
pub fn add_insecure_docker(hosts: &[String], host: Option<&str>, say: &mut dyn Say) -> Code {
    let a = ChangeArgs {
        registries: hosts.to_vec(),
        target: Target {
            engine: EngineKind::Docker,
            daemon_json: None,
            registries_dir: PathBuf::from(podman::DEFAULT_DIR),
        },
        reload: true,
        reload_timeout: 10,
        host: host.map(str::to_string),
    };
    change(&a, true, say)
}

/// Runs the subcommand (its messages printed); returns the exit code.
pub fn run(args: RegistryArgs) -> Code {
    match args.command {
        RegistryCommand::Insecure { action } => match action {
            InsecureAction::Add(a) => change(&a, true, &mut Stderr),
            InsecureAction::Remove(a) => change(&a, false, &mut Stderr),
            InsecureAction::List(l) => list(&l.target),
        },
    }
}

fn default_registries_dir(t: &Target) -> bool {
    t.registries_dir == Path::new(podman::DEFAULT_DIR)
}

/// Options that belong to the other engine are mistakes, not silently ignored.
fn check_target(t: &Target) -> Result<(), String> {
    match t.engine {
        EngineKind::Docker if !default_registries_dir(t) => {
            Err("--registries-dir is podman's; add --engine podman".into())
        }
        EngineKind::Podman if t.daemon_json.is_some() => {
            Err("--daemon-json is docker's; leave out --engine podman".into())
        }
        _ => Ok(()),
    }
}

/// The daemon.json to edit, and the running dockerd (if any).
fn daemon_json_path(t: &Target) -> (PathBuf, Option<reload::Dockerd>) {
    let d = reload::find_dockerd();
    let path = t
        .daemon_json
        .clone()
        .or_else(|| d.as_ref().map(|d| d.config_file.clone()))
        .unwrap_or_else(|| PathBuf::from(daemon_json::DEFAULT_PATH));
    (path, d)
}

fn tool(name: &str) -> PathBuf {
    which::which(name).unwrap_or_else(|_| PathBuf::from(name))
}

fn change(a: &ChangeArgs, adding: bool, say: &mut dyn Say) -> Code {
    // Every argument is checked before anything is written.
    let mut hosts = Vec::new();
    let mut bad = false;
    for r in &a.registries {
        let checked = super::check_host(r).and_then(|h| {
            if a.target.engine == EngineKind::Podman {
                podman::check(&h).map(|_| h)
            } else {
                Ok(h)
            }
        });
        match checked {
            Ok(h) => hosts.push(h),
            Err(e) => {
                say.error(&e);
                bad = true;
            }
        }
    }
    if let Err(e) = check_target(&a.target) {
        say.error(&e);
        bad = true;
    }
    if bad {
        say.note(&"nothing was changed");
        return Code::Invalid;
    }
    match a.target.engine {
        EngineKind::Docker => change_docker(a, &hosts, adding, say),
        EngineKind::Podman => change_podman(a, &hosts, adding, say),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

fn change_docker(a: &ChangeArgs, hosts: &[String], adding: bool, say: &mut dyn Say) -> Code {
    let (path, daemon) = daemon_json_path(&a.target);
    let daemon_reads_it = daemon
        .as_ref()
        .is_none_or(|d| same_file(&d.config_file, &path));
    if adding
        && let Some(d) = &daemon
        && daemon_reads_it
        && !d.flag_registries.is_empty()
    {
        say.error(&format!(
            "dockerd (pid {}) runs with --insecure-registry {}: it refuses a daemon.json that also sets `insecure-registries` (and would not start again); add the registry to dockerd's flags instead",
            d.pid,
            d.flag_registries.join(", ")
        ));
        say.note(&"nothing was changed");
        return Code::Invalid;
    }
    let mut result = if adding {
        daemon_json::add(&path, hosts)
    } else {
        daemon_json::remove(&path, hosts)
    };
    let mut reset = false;
    // dockerd's reload keeps its insecure registries when daemon.json has no such key at all:
    // to drop one it still has loaded, the file needs `"insecure-registries": []`.
    if !adding
        && a.reload
        && daemon_reads_it
        && daemon
            .as_ref()
            .is_some_and(|d| d.flag_registries.is_empty())
        && matches!(&result, Ok(c) if !c.written)
        && reload::registry_config(&tool("docker"), None)
            .is_ok_and(|cfg| hosts.iter().any(|h| reload::docker_lists(&cfg, h)))
    {
        match daemon_json::ensure_key(&path) {
            Ok(c) if c.written => {
                say.note(&format!(
                    "dockerd still has {} loaded and {} has no `insecure-registries` key, which a reload leaves alone: set it to []",
                    hosts.join(", "),
                    c.path.display()
                ));
                reset = true;
                result = Ok(c);
            }
            Ok(_) => {}
            Err(e) => result = Err(e),
        }
    }
    let c = match result {
        Ok(c) => c,
        Err(e) => return daemon_json_failure(e, say),
    };
    let file = c.path.display();
    for h in if reset { hosts } else { &c.edit.unchanged } {
        if adding {
            say.note(&format!("{h} is already in {file}"));
        } else {
            say.note(&format!("{h} is not in {file}"));
        }
    }
    if c.written {
        let what = if adding { "added" } else { "removed" };
        let prep = if adding { "to" } else { "from" };
        let list = c.edit.changed.join(", ");
        if reset {
            say.note(&format!("wrote `\"insecure-registries\": []` to {file}"));
        } else if c.edit.changed.is_empty() {
            say.note(&format!(
                "dropped {} duplicate entr{} from {file}",
                c.edit.duplicates_dropped,
                if c.edit.duplicates_dropped == 1 {
                    "y"
                } else {
                    "ies"
                }
            ));
        } else {
            say.note(&format!("{what} {list} {prep} {file}"));
        }
        match (&c.backup, c.created) {
            (Some(b), _) => say.note(&format!("the previous {file} is saved as {}", b.display())),
            (None, true) => say.note(&format!(
                "created {file} (there was none before, so no backup)"
            )),
            _ => {}
        }
    } else {
        say.note(&format!("{file} is unchanged"));
    }
    if !a.reload {
        if c.written {
            say.note(&
                "dockerd reads daemon.json when it starts or reloads: run again with --reload (SIGHUP, running containers keep running), or restart docker",
            );
        }
        return Code::Ok;
    }
    if !daemon_reads_it && let Some(d) = &daemon {
        say.note(&format!(
            "warning: dockerd (pid {}) reads {}, not {file}: the reload will not apply this file",
            d.pid,
            d.config_file.display()
        ));
    }
    let (present, absent): (&[String], &[String]) =
        if adding { (hosts, &[]) } else { (&[], hosts) };
    match reload::reload_docker(
        &tool("docker"),
        a.host.as_deref(),
        present,
        absent,
        Duration::from_secs(a.reload_timeout),
    ) {
        Ok(r) => {
            say.note(&format!(
                "reloaded dockerd ({}); `docker info` {} {} as insecure ({:.1} s)",
                r.how,
                if adding { "lists" } else { "no longer lists" },
                hosts.join(", "),
                r.waited.as_secs_f32()
            ));
            Code::Ok
        }
        Err(e) => {
            say.error(&e);
            Code::Engine
        }
    }
}

fn change_podman(a: &ChangeArgs, hosts: &[String], adding: bool, say: &mut dyn Say) -> Code {
    let dir = &a.target.registries_dir;
    let result = if adding {
        podman::add(dir, hosts)
    } else {
        podman::remove(dir, hosts)
    };
    let c = match result {
        Ok(c) => c,
        Err(e) => {
            say.error(&e);
            return Code::Engine;
        }
    };
    for d in &c.changed {
        if adding {
            say.note(&format!(
                "wrote {} ({} insecure for podman)",
                d.path.display(),
                d.host
            ));
        } else {
            say.note(&format!("deleted {} ({})", d.path.display(), d.host));
        }
    }
    for h in &c.unchanged {
        if adding {
            say.note(&format!(
                "{h} already has a dockhand drop-in in {}",
                dir.display()
            ));
        } else {
            say.note(&format!("{h} has no dockhand drop-in in {}", dir.display()));
        }
    }
    if adding && let Some(w) = podman::v1_warning(dir) {
        say.note(&format!("warning: {w}"));
    }
    if !a.reload {
        return Code::Ok;
    }
    if !default_registries_dir(&a.target) {
        say.note(&format!(
            "podman reads {}, not {}: nothing to check",
            podman::DEFAULT_DIR,
            dir.display()
        ));
        return Code::Ok;
    }
    let (present, absent): (&[String], &[String]) =
        if adding { (hosts, &[]) } else { (&[], hosts) };
    match reload::check_podman(&tool("podman"), present, absent) {
        Ok(()) => {
            say.note(&format!(
                "podman reads registries.conf.d on every command (nothing to reload); `podman info` {} {} as insecure",
                if adding { "lists" } else { "no longer lists" },
                hosts.join(", ")
            ));
            Code::Ok
        }
        Err(e) => {
            say.error(&e);
            Code::Engine
        }
    }
}

fn list(t: &Target) -> Code {
    if let Err(e) = check_target(t) {
        error(e);
        return Code::Invalid;
    }
    match t.engine {
        EngineKind::Docker => {
            let (path, daemon) = daemon_json_path(t);
            let entries = match daemon_json::list(&path) {
                Ok(Some(e)) => e,
                Ok(None) => {
                    note(format!(
                        "no {} (no insecure registries configured there)",
                        path.display()
                    ));
                    return Code::Ok;
                }
                Err(e) => return daemon_json_failure(e, &mut Stderr),
            };
            note(format!("insecure registries in {}:", path.display()));
            for e in &entries {
                // The reader went away (`| head -1`): nothing more to say.
                if writeln!(std::io::stdout(), "{e}").is_err() {
                    return Code::Ok;
                }
            }
            // Which ones the running daemon has not loaded (only when it reads this file).
            if daemon
                .as_ref()
                .is_some_and(|d| same_file(&d.config_file, &path))
                && let Ok(cfg) = reload::registry_config(&tool("docker"), None)
            {
                let pending: Vec<&String> = entries
                    .iter()
                    .filter(|e| !reload::docker_lists(&cfg, e))
                    .collect();
                if !pending.is_empty() {
                    note(format!(
                        "not loaded by the running dockerd yet: {} (dockhand registry insecure add {} --reload)",
                        pending
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        pending
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ));
                }
            }
            Code::Ok
        }
        EngineKind::Podman => match podman::list(&t.registries_dir) {
            Ok(d) => {
                note(format!(
                    "dockhand's drop-ins in {}:",
                    t.registries_dir.display()
                ));
                for x in &d {
                    if writeln!(std::io::stdout(), "{}", x.host).is_err() {
                        return Code::Ok;
                    }
                }
                Code::Ok
            }
            Err(e) => {
                error(e);
                Code::Engine
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what a change reports instead of printing it.
    #[derive(Default)]
    struct Recorded(Vec<String>);

    impl Say for Recorded {
        fn error(&mut self, msg: &dyn std::fmt::Display) {
            self.0.push(format!("error: {msg}"));
        }
        fn note(&mut self, msg: &dyn std::fmt::Display) {
            self.0.push(msg.to_string());
        }
    }

    /// The run path's `--configure-insecure-registries` reports through its caller: a refused
    /// address changes nothing and says so there, with the exit code of bad input.
    #[test]
    fn adding_for_a_run_reports_to_the_caller() {
        let mut said = Recorded::default();
        let code = add_insecure_docker(&["http://10.10.1.5:5000".into()], None, &mut said);
        assert_eq!(code, Code::Invalid);
        assert_eq!(said.0.len(), 2, "{:?}", said.0);
        assert!(said.0[0].starts_with("error: ") && said.0[0].contains("http://10.10.1.5:5000"));
        assert_eq!(said.0[1], "nothing was changed");
    }
}
