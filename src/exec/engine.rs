//! Finding the engine CLI and checking that it can reach its daemon before any task starts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::exec::process;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::{self, Global};

/// The engine CLI dockhand drives.
#[derive(Debug, Clone)]
pub struct Engine {
    pub program: PathBuf,
    pub dialect: Dialect,
    /// Engine address given to dockhand (`--host`); tasks may still name their own.
    pub host: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "no container engine CLI found: install docker or podman, or name one with --engine PATH"
    )]
    NotFound,
    #[error("engine CLI `{0}` not found or not executable")]
    Missing(String),
    #[error("{program} cannot reach its engine at {host}: {reason}")]
    Unreachable {
        program: String,
        host: String,
        reason: String,
    },
}

/// Which CLI to use: `--engine` (docker, podman or a path), else `DOCKHAND_ENGINE`, else
/// `docker` on PATH, else `podman`. A `docker` that is Podman in disguise (podman-docker's
/// wrapper script or a symlink) gets the Podman dialect.
pub fn discover(choice: Option<&str>, env_choice: Option<&str>) -> Result<Engine, EngineError> {
    let choice = choice.or(env_choice).filter(|s| !s.is_empty());
    let program = match choice {
        Some(c) if c.contains('/') => {
            // Made absolute here: engine commands run in each task's own working directory,
            // where `./docker` or `bin/docker` would name another file or none.
            let p = std::path::absolute(c).unwrap_or_else(|_| PathBuf::from(c));
            if !is_executable(&p) {
                return Err(EngineError::Missing(c.to_string()));
            }
            p
        }
        Some(c) => which::which(c).map_err(|_| EngineError::Missing(c.to_string()))?,
        None => which::which("docker")
            .or_else(|_| which::which("podman"))
            .map_err(|_| EngineError::NotFound)?,
    };
    let dialect = if choice == Some("podman") || is_podman(&program) {
        Dialect::Podman
    } else {
        Dialect::Docker
    };
    Ok(Engine {
        program,
        dialect,
        host: None,
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Podman behind another name: the binary resolves to `podman`, or is a small script that
/// runs podman (Debian's podman-docker).
fn is_podman(p: &Path) -> bool {
    if let Ok(real) = std::fs::canonicalize(p)
        && real
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("podman"))
    {
        return true;
    }
    use std::io::Read;
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(p)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head.starts_with(b"#!") && String::from_utf8_lossy(&head[..n]).contains("podman")
}

impl Engine {
    pub fn name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.display().to_string())
    }

    /// Where the engine is, in words, for error messages.
    pub fn host_description(&self) -> String {
        if let Some(h) = &self.host {
            return h.clone();
        }
        let var = match self.dialect {
            Dialect::Docker => "DOCKER_HOST",
            Dialect::Podman => "CONTAINER_HOST",
        };
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => format!("{v} (from {var})"),
            _ => match self.dialect {
                Dialect::Docker => match std::env::var("DOCKER_CONTEXT") {
                    Ok(c) if !c.is_empty() => format!("context {c} (from DOCKER_CONTEXT)"),
                    _ => "the default socket (unix:///var/run/docker.sock, or the current docker context)".into(),
                },
                Dialect::Podman => "the local podman service".into(),
            },
        }
    }

    /// The global options of a command to `host` (a task's own), else to the address given to
    /// dockhand.
    pub fn global(&self, host: Option<&str>) -> Global {
        Global::new(self.dialect, host.or(self.host.as_deref()))
    }

    /// Is the engine far away: a TCP or SSH address, a docker context other than the default,
    /// a podman connection? Those are asked for their version before anything starts (within
    /// 5 s), because a command to them can hang on the network. A local engine (a unix socket,
    /// or podman without a service) is not: a missing daemon there fails the first command at
    /// once, and that failure is diagnosed then (see `Runtime::diagnose`).
    pub fn is_remote(&self, host: Option<&str>) -> bool {
        let env = |v: &str| std::env::var(v).ok().filter(|x| !x.is_empty());
        let far = |h: &str| !h.starts_with("unix://");
        if let Some(h) = host.or(self.host.as_deref()) {
            return far(h);
        }
        match self.dialect {
            Dialect::Docker => {
                if let Some(h) = env("DOCKER_HOST") {
                    return far(&h);
                }
                let context = env("DOCKER_CONTEXT").or_else(docker_current_context);
                context.is_some_and(|c| c != "default")
            }
            Dialect::Podman => {
                env("CONTAINER_CONNECTION").is_some()
                    || env("CONTAINER_HOST").is_some_and(|h| far(&h))
            }
        }
    }

    /// Asks the engine for its server version, within `limit`; a one-line error otherwise.
    pub async fn check(&self, host: Option<&str>, limit: Duration) -> Result<String, EngineError> {
        let args = engine_commands::version(&self.global(host)).argv();
        let unreachable = |reason: String| EngineError::Unreachable {
            program: self.program.display().to_string(),
            host: host
                .map(str::to_string)
                .unwrap_or_else(|| self.host_description()),
            reason,
        };
        let out = process::capture(&self.program, &args, limit)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if out.status != Some(0) {
            let msg = out
                .stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no error message")
                .trim()
                .to_string();
            return Err(unreachable(msg));
        }
        Ok(out.stdout.trim().to_string())
    }
}

/// The docker CLI's current context from the user's client config file, if one is set.
fn docker_current_context() -> Option<String> {
    let dir = process::user_docker_config_dir()?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("currentContext")?
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn podman_behind_a_docker_name_is_recognised() {
        let d = tempfile::tempdir().unwrap();
        let wrapper = d.path().join("docker");
        std::fs::write(&wrapper, "#!/bin/sh\nexec /usr/bin/podman \"$@\"\n").unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = discover(Some(wrapper.to_str().unwrap()), None).unwrap();
        assert_eq!(e.dialect, Dialect::Podman);
        let link = d.path().join("docker2");
        let fake_podman = d.path().join("podman");
        std::fs::write(&fake_podman, [0x7f, b'E', b'L', b'F']).unwrap();
        std::fs::set_permissions(&fake_podman, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(&fake_podman, &link).unwrap();
        assert_eq!(
            discover(Some(link.to_str().unwrap()), None)
                .unwrap()
                .dialect,
            Dialect::Podman
        );
        let plain = d.path().join("realdocker");
        std::fs::write(&plain, [0x7f, b'E', b'L', b'F']).unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            discover(Some(plain.to_str().unwrap()), None)
                .unwrap()
                .dialect,
            Dialect::Docker
        );
        assert!(matches!(
            discover(Some("/nonexistent/docker"), None),
            Err(EngineError::Missing(_))
        ));
    }
}
