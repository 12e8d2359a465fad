//! Running engine CLI processes: short commands captured whole, and the environment, stdin and
//! private 0600 files that carry secrets to them. Every child gets its own process group, so a
//! Ctrl-C at the terminal reaches dockhand only, and dockhand decides how to stop containers.

use std::ffi::OsStr;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::plan::command::{EngineCommand, PrivateFile};

/// What a finished short command printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// `None` when it was killed by a signal.
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.status == Some(0)
    }

    /// The last non-empty line of stderr that is not a usage hint: the engine's own error
    /// message (docker follows it with `Usage: …` and `Run 'docker create --help' …`).
    pub fn error_line(&self) -> String {
        let mut lines = self.stderr.lines().rev().filter(|l| !l.trim().is_empty());
        let last = lines.clone().next().unwrap_or("");
        lines
            .find(|l| !is_usage_hint(l))
            .unwrap_or(last)
            .trim()
            .to_string()
    }
}

/// A line an engine CLI prints after its error to point at `--help`, not the error itself:
/// docker's `Run 'docker create --help' for more information`, `See 'docker run --help'.` and
/// the `Usage:  docker create [OPTIONS] …` line before them.
pub fn is_usage_hint(line: &str) -> bool {
    let l = line.trim();
    (l.starts_with("Run '") && l.ends_with("for more information"))
        || (l.starts_with("See '") && l.contains("--help"))
        || l.starts_with("Usage:")
}

fn base_command(program: &Path, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c.process_group(0);
    c.kill_on_drop(true);
    c
}

/// Runs a command without secrets and captures its output, killing it after `limit`.
pub async fn capture(program: &Path, args: &[String], limit: Duration) -> io::Result<Output> {
    let mut c = base_command(program, args);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn()?;
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(out) => {
            let out = out?;
            Ok(Output {
                status: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer within {} s", limit.as_secs_f32()),
        )),
    }
}

/// The user's own docker client config directory (`$DOCKER_CONFIG`, else `~/.docker`).
pub(crate) fn user_docker_config_dir() -> Option<std::path::PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => Some(d.into()),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|h| Path::new(&h).join(".docker")),
    }
}

/// A task's private docker config (`--config DIR`) replaces the user's whole config, so it
/// starts from the user's: contexts, proxies and other settings keep working, the task's
/// `auths` win, and no credential store or helper shadows the registries the task names.
fn merge_user_docker_config(ours: &str, dir: &Path) -> String {
    let Ok(serde_json::Value::Object(ours)) = serde_json::from_str::<serde_json::Value>(ours)
    else {
        return ours.to_string();
    };
    let Some(user_dir) = user_docker_config_dir() else {
        return serde_json::Value::Object(ours).to_string();
    };
    let mut merged = match std::fs::read_to_string(user_dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
    {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let our_auths: Vec<String> = ours
        .get("auths")
        .and_then(|a| a.as_object())
        .map(|a| a.keys().cloned().collect())
        .unwrap_or_default();
    for (k, v) in ours {
        match (k.as_str(), merged.get_mut(&k)) {
            ("auths", Some(serde_json::Value::Object(existing))) => {
                if let serde_json::Value::Object(v) = v {
                    existing.extend(v);
                }
            }
            _ => {
                merged.insert(k, v);
            }
        }
    }
    if !our_auths.is_empty() {
        merged.remove("credsStore");
        if let Some(serde_json::Value::Object(h)) = merged.get_mut("credHelpers") {
            h.retain(|k, _| !our_auths.contains(k));
        }
    }
    let contexts = user_dir.join("contexts");
    if contexts.is_dir() {
        let _ = std::os::unix::fs::symlink(&contexts, dir.join("contexts"));
    }
    serde_json::Value::Object(merged).to_string()
}

/// Writes a private file: parent directories 0700, the file 0600, created fresh.
pub fn write_private(f: &PrivateFile) -> io::Result<()> {
    let path = Path::new(&f.path);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let _ = std::fs::remove_file(path);
    let content = if f.docker_client_config {
        merge_user_docker_config(f.content.expose(), dir)
    } else {
        f.content.expose().to_string()
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    std::io::Write::write_all(&mut file, content.as_bytes())?;
    Ok(())
}

/// Removes the private files of a command (and their now empty directories).
pub fn remove_private(files: &[PrivateFile]) {
    for f in files {
        let p = Path::new(&f.path);
        let _ = std::fs::remove_file(p);
        if let Some(dir) = p.parent() {
            let _ = std::fs::remove_file(dir.join("contexts"));
            let _ = std::fs::remove_dir(dir);
            if let Some(up) = dir.parent() {
                let _ = std::fs::remove_dir(up);
            }
        }
    }
}

/// Starts an engine command: private files written, secrets in the child's environment, stdin
/// fed. Output is piped when `piped`, else discarded (stderr always piped).
pub async fn spawn(program: &Path, cmd: &EngineCommand, piped: bool) -> io::Result<Child> {
    for f in &cmd.files {
        write_private(f)?;
    }
    let mut c = base_command(program, &cmd.args);
    if let Some(dir) = &cmd.cwd {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        c.current_dir(dir);
    }
    for (k, v) in &cmd.env {
        c.env(k, v.expose());
    }
    c.stdin(if cmd.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(if piped { Stdio::piped() } else { Stdio::null() });
    c.stderr(Stdio::piped());
    // fork/exec blocks until the child execs: under load that can take a while.
    let mut child = crate::exec::blocking::off_worker(|| c.spawn())?;
    if let (Some(s), Some(mut stdin)) = (&cmd.stdin, child.stdin.take()) {
        stdin.write_all(s.expose().as_bytes()).await?;
        drop(stdin);
    }
    Ok(child)
}

/// Starts a command that must finish even if dockhand stops waiting for it (a container's
/// removal): the process exists when this returns, and it is not killed when its `Child` is
/// dropped or dockhand exits, so it carries no private files and no stdin. Its stdout (the
/// removed container's name) is discarded; wait for it with [`wait_detachable`].
pub fn spawn_detachable(program: &Path, cmd: &EngineCommand) -> io::Result<Child> {
    if !cmd.files.is_empty() || cmd.stdin.is_some() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a detachable command cannot carry private files or stdin",
        ));
    }
    let mut c = base_command(program, &cmd.args);
    c.kill_on_drop(false);
    for (k, v) in &cmd.env {
        c.env(k, v.expose());
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    crate::exec::blocking::off_worker(|| c.spawn())
}

/// Waits for a command from [`spawn_detachable`].
pub async fn wait_detachable(child: Child) -> io::Result<Output> {
    let out = child.wait_with_output().await?;
    Ok(Output {
        status: out.status.code(),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs an engine command to completion and captures its output; private files are removed
/// afterwards whatever happens.
pub async fn run_captured(program: &Path, cmd: &EngineCommand) -> io::Result<Output> {
    let result = async {
        let child = spawn(program, cmd, true).await?;
        let out = child.wait_with_output().await?;
        Ok(Output {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
    .await;
    remove_private(&cmd.files);
    result
}

#[cfg(test)]
mod tests {
    use super::Output;

    #[test]
    fn the_error_line_is_not_a_help_hint() {
        // What docker 28.2 prints for a refused option value.
        let out = Output {
            status: Some(125),
            stdout: String::new(),
            stderr: "invalid argument \"bad\" for \"--add-host\" flag: bad format for add-host: \"bad\"\n\nUsage:  docker create [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'docker create --help' for more information\n".into(),
        };
        assert_eq!(
            out.error_line(),
            "invalid argument \"bad\" for \"--add-host\" flag: bad format for add-host: \"bad\""
        );
        let out = Output {
            status: Some(125),
            stdout: String::new(),
            stderr: "docker: invalid containerPort: def\n\nRun 'docker create --help' for more information\n".into(),
        };
        assert_eq!(out.error_line(), "docker: invalid containerPort: def");
        let out = Output {
            status: Some(125),
            stdout: String::new(),
            stderr: "Error: bad format for add-host: \"bad\"\n".into(),
        };
        assert_eq!(out.error_line(), "Error: bad format for add-host: \"bad\"");
    }
}
