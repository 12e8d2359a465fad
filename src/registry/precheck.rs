//! The check `dockhand run` makes before any task starts on Docker: does the daemon each task
//! pulls through trust the registries the flow lists as insecure? The daemon asked is the one
//! the task's commands go to (its `host`, else `--host`, else the docker CLI's own default:
//! `DOCKER_HOST` or the current context), never the local one in its place.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::{self, Global};

/// How long a daemon may take to tell its registry settings.
pub const INFO_LIMIT: Duration = Duration::from_secs(10);

/// What one pulling task brings to the check: its own engine address (None: the run's), the
/// registry its image comes from, and the registries its runner `config` lists as insecure.
/// The caller reads these from the flow, so that `registry` knows nothing of the flow model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub host: Option<String>,
    pub registry: String,
    pub insecure: Vec<String>,
}

/// The registries each engine address (None: the CLI's default) pulls from that the pulling
/// tasks' runner `config` lists as insecure, in flow order, each once per address.
pub fn insecure_by_host(
    pulls: impl IntoIterator<Item = Pull>,
    default_host: Option<&str>,
) -> BTreeMap<Option<String>, Vec<String>> {
    let mut out: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for p in pulls {
        let host = p.host.or_else(|| default_host.map(str::to_string));
        for r in p.insecure {
            if !super::same_registry(&r, &p.registry) {
                continue;
            }
            let list = out.entry(host.clone()).or_default();
            if !list.iter().any(|o| super::same_registry(o, &r)) {
                list.push(r);
            }
        }
    }
    out
}

/// `docker [--host H] info --format '{{json .RegistryConfig}}'`, within `limit`: the registry
/// settings of the daemon at `host`. A one-line reason otherwise.
pub fn registry_config_at(
    docker: &Path,
    host: Option<&str>,
    limit: Duration,
) -> Result<Value, String> {
    let mut c = Command::new(docker);
    c.args(engine_commands::registry_settings(&Global::new(Dialect::Docker, host)).argv())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot run {} info: {e}", docker.display()))?;
    let until = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= until => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("docker info failed")
            .trim()
            .to_string());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("unexpected `docker info` output: {e}"))
}
