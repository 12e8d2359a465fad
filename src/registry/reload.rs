//! Making the running engine take the new registry configuration, and checking that it did.
//!
//! dockerd reads `daemon.json` at start and again on SIGHUP; `insecure-registries` is one of
//! the keys a reload applies (since Docker 1.13; checked on 20.10.24) — no restart, running
//! containers are untouched. dockhand reloads with `systemctl reload docker` when systemd runs
//! docker (its unit sends SIGHUP), else sends SIGHUP itself to the pid in
//! `/var/run/docker.pid` (or the `dockerd` process found in /proc). A reload that fails (say
//! a setting dockerd rejects) is only logged by dockerd, so dockhand then asks
//! `docker info --format '{{json .RegistryConfig}}'` until the registry is listed (in
//! `IndexConfigs` with `"Secure": false`, or for a CIDR block in `InsecureRegistryCIDRs`) and
//! reports an error, with dockerd's log lines, when it is not within the time limit.
//!
//! Podman has no daemon: every podman command reads `registries.conf.d` itself, so
//! [`check_podman`] only confirms with `podman info` that podman sees the drop-in.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::looks_like_cidr;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::{self, Global};

/// Where dockerd writes its pid unless started with `--pidfile`.
pub const PID_FILE: &str = "/var/run/docker.pid";

/// The running dockerd, as seen in /proc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerd {
    pub pid: i32,
    /// How it was found: the pid file or a /proc scan.
    pub found_by: String,
    /// The file it reads (`--config-file`, default /etc/docker/daemon.json).
    pub config_file: PathBuf,
    /// `--insecure-registry` flags on its command line (dockerd refuses a daemon.json that
    /// sets `insecure-registries` too).
    pub flag_registries: Vec<String>,
    /// Where its stderr goes, when that is a file (its log).
    pub log: Option<PathBuf>,
}

fn comm(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The values of `--NAME VALUE` / `--NAME=VALUE` in an argv.
fn flag_values(argv: &[String], name: &str) -> Vec<String> {
    let long = format!("--{name}");
    let eq = format!("--{name}=");
    let mut out = Vec::new();
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if a == &long {
            if let Some(v) = it.next() {
                out.push(v.clone());
            }
        } else if let Some(v) = a.strip_prefix(&eq) {
            out.push(v.to_string());
        }
    }
    out
}

/// Finds the running dockerd: the pid file first (checked to be a live `dockerd`), else the
/// lowest pid whose name is `dockerd`.
pub fn find_dockerd() -> Option<Dockerd> {
    let from_file = std::fs::read_to_string(PID_FILE)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|p| comm(*p).as_deref() == Some("dockerd"));
    let (pid, found_by) = match from_file {
        Some(p) => (p, format!("pid file {PID_FILE}")),
        None => {
            let mut pids: Vec<i32> = std::fs::read_dir("/proc")
                .ok()?
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter(|p| comm(*p).as_deref() == Some("dockerd"))
                .collect();
            pids.sort();
            (*pids.first()?, "/proc (process name dockerd)".to_string())
        }
    };
    let argv = cmdline(pid);
    let config_file = flag_values(&argv, "config-file").pop().map_or_else(
        || PathBuf::from(super::daemon_json::DEFAULT_PATH),
        PathBuf::from,
    );
    let log = std::fs::read_link(format!("/proc/{pid}/fd/2"))
        .ok()
        .filter(|p| p.is_absolute() && p.is_file());
    Some(Dockerd {
        pid,
        found_by,
        config_file,
        flag_registries: flag_values(&argv, "insecure-registry"),
        log,
    })
}

/// Whether systemd is the init system and runs docker.service.
pub fn systemd_runs_docker() -> bool {
    Path::new("/run/systemd/system").is_dir()
        && Command::new("systemctl")
            .args(["is-active", "--quiet", "docker.service"])
            .status()
            .is_ok_and(|s| s.success())
}

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(
        "no running dockerd found (no live pid in {PID_FILE}, no `dockerd` process): start docker; it reads daemon.json when it starts"
    )]
    NoDaemon,
    #[error("cannot send SIGHUP to dockerd (pid {pid}): {source}")]
    Signal { pid: i32, source: std::io::Error },
    #[error("`systemctl reload docker` failed: {0}")]
    Systemctl(String),
    #[error("{0}")]
    NotApplied(String),
}

/// How the reload was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    pub how: String,
    pub waited: Duration,
}

/// `docker [--host H] info --format '{{json .RegistryConfig}}'`: the registry settings of the
/// daemon at `host` (None: the docker CLI's default).
pub fn registry_config(docker: &Path, host: Option<&str>) -> Result<Value, String> {
    super::precheck::registry_config_at(docker, host, super::precheck::INFO_LIMIT)
}

/// `10.10.1.7/16` → `10.10.0.0/16`, as Go's net.ParseCIDR prints the network.
fn cidr_network(s: &str) -> Option<String> {
    let (ip, prefix) = s.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if prefix <= 32 => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            Some(format!(
                "{}/{prefix}",
                std::net::Ipv4Addr::from(u32::from(a) & mask)
            ))
        }
        IpAddr::V6(a) if prefix <= 128 => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            Some(format!(
                "{}/{prefix}",
                std::net::Ipv6Addr::from(u128::from(a) & mask)
            ))
        }
        _ => None,
    }
}

/// Whether dockerd's registry configuration lists `host` as insecure.
pub fn docker_lists(cfg: &Value, host: &str) -> bool {
    if looks_like_cidr(host) {
        let want = cidr_network(host);
        return cfg["InsecureRegistryCIDRs"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c.as_str().map(str::to_string) == want));
    }
    cfg["IndexConfigs"].as_object().is_some_and(|m| {
        m.iter()
            .any(|(k, v)| super::same_registry(k, host) && v["Secure"] == Value::Bool(false))
    })
}

/// The last lines of dockerd's log that talk about the reload or the configuration.
fn log_tail(log: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(log) else {
        return vec![];
    };
    let start = bytes.len().saturating_sub(16 * 1024);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| {
            l.contains("reload")
                || l.contains("configuration")
                || l.contains("daemon.json")
                || l.contains("insecure")
        })
        .map(str::to_string)
        .collect();
    let n = lines.len();
    lines.drain(..n.saturating_sub(4));
    lines
}

/// Reloads the running dockerd and waits (up to `timeout`) until `docker info` lists every
/// registry of `present` and none of `absent`, asking the daemon at `host` (the address the
/// run's commands go to; None: the docker CLI's default).
pub fn reload_docker(
    docker: &Path,
    host: Option<&str>,
    present: &[String],
    absent: &[String],
    timeout: Duration,
) -> Result<Reloaded, ReloadError> {
    let daemon = find_dockerd();
    let how = if systemd_runs_docker() {
        let out = Command::new("systemctl")
            .args(["reload", "docker.service"])
            .output()
            .map_err(|e| ReloadError::Systemctl(e.to_string()))?;
        if !out.status.success() {
            return Err(ReloadError::Systemctl(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        "systemctl reload docker".to_string()
    } else {
        let d = daemon.as_ref().ok_or(ReloadError::NoDaemon)?;
        // SAFETY: kill(2) with a pid checked to be dockerd's. std has no way to signal a process
        // it did not spawn, and SIGHUP (not a kill) is what makes dockerd reload.
        #[allow(unsafe_code)]
        if unsafe { libc::kill(d.pid, libc::SIGHUP) } != 0 {
            return Err(ReloadError::Signal {
                pid: d.pid,
                source: std::io::Error::last_os_error(),
            });
        }
        format!("SIGHUP to dockerd pid {} (found by {})", d.pid, d.found_by)
    };
    let start = Instant::now();
    let mut last;
    loop {
        match registry_config(docker, host) {
            Ok(cfg) => {
                let missing: Vec<&String> =
                    present.iter().filter(|h| !docker_lists(&cfg, h)).collect();
                let still: Vec<&String> = absent.iter().filter(|h| docker_lists(&cfg, h)).collect();
                if missing.is_empty() && still.is_empty() {
                    return Ok(Reloaded {
                        how,
                        waited: start.elapsed(),
                    });
                }
                last = format!(
                    "{}{}; its registry configuration is {cfg}",
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!("dockerd does not list {} as insecure", join(&missing))
                    },
                    if still.is_empty() {
                        String::new()
                    } else {
                        format!("dockerd still lists {} as insecure", join(&still))
                    },
                );
            }
            Err(e) => last = format!("`docker info` failed: {e}"),
        }
        if start.elapsed() >= timeout {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut msg = format!(
        "reloaded dockerd ({how}), but after {:.1} s {last}",
        start.elapsed().as_secs_f32()
    );
    if let Some(d) = &daemon {
        msg.push_str(&format!("\n  dockerd reads {}", d.config_file.display()));
        if !d.flag_registries.is_empty() {
            msg.push_str(&format!(" and was started with --insecure-registry {}; dockerd rejects a daemon.json that sets `insecure-registries` as well", d.flag_registries.join(", ")));
        }
        match &d.log {
            Some(log) => {
                let tail = log_tail(log);
                if tail.is_empty() {
                    msg.push_str(&format!("\n  see dockerd's log: {}", log.display()));
                } else {
                    msg.push_str(&format!(
                        "\n  dockerd's log ({}):\n    {}",
                        log.display(),
                        tail.join("\n    ")
                    ));
                }
            }
            None => msg.push_str("\n  see dockerd's log (journalctl -u docker)"),
        }
    }
    if host.is_none()
        && let Ok(h) = std::env::var("DOCKER_HOST")
        && !h.is_empty()
    {
        msg.push_str(&format!("\n  note: `docker info` asked DOCKER_HOST={h}, which may not be the local dockerd that was reloaded"));
    }
    Err(ReloadError::NotApplied(msg))
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// Checks with `podman info` that podman sees `present` as insecure and not `absent`.
pub fn check_podman(
    podman: &Path,
    present: &[String],
    absent: &[String],
) -> Result<(), ReloadError> {
    let out = Command::new(podman)
        .args(engine_commands::registry_settings(&Global::new(Dialect::Podman, None)).argv())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            ReloadError::NotApplied(format!("cannot run {} info: {e}", podman.display()))
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(ReloadError::NotApplied(format!(
            "`podman info` failed: {}",
            err.trim()
        )));
    }
    let regs: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| ReloadError::NotApplied(format!("unexpected `podman info` output: {e}")))?;
    let insecure = |h: &str| {
        regs.as_object().is_some_and(|m| {
            m.iter()
                .any(|(k, v)| super::same_registry(k, h) && v["Insecure"] == Value::Bool(true))
        })
    };
    let missing: Vec<&String> = present.iter().filter(|h| !insecure(h)).collect();
    let still: Vec<&String> = absent.iter().filter(|h| insecure(h)).collect();
    if !missing.is_empty() {
        return Err(ReloadError::NotApplied(format!(
            "`podman info` does not list {} as insecure: {regs}",
            join(&missing)
        )));
    }
    if !still.is_empty() {
        return Err(ReloadError::NotApplied(format!(
            "`podman info` still lists {} as insecure (another registries.conf entry?)",
            join(&still)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_are_read() {
        let argv: Vec<String> = [
            "dockerd",
            "--config-file",
            "/x.json",
            "--insecure-registry=a:1",
            "--insecure-registry",
            "b:2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(flag_values(&argv, "config-file"), ["/x.json"]);
        assert_eq!(flag_values(&argv, "insecure-registry"), ["a:1", "b:2"]);
    }

    #[test]
    fn registry_config_is_read() {
        // As docker 20.10 prints it.
        let cfg = json!({
            "IndexConfigs": {
                "docker.io": {"Mirrors": [], "Name": "docker.io", "Official": true, "Secure": true},
                "10.10.1.5:5000": {"Mirrors": [], "Name": "10.10.1.5:5000", "Official": false, "Secure": false}
            },
            "InsecureRegistryCIDRs": ["10.20.0.0/16", "127.0.0.0/8"],
            "Mirrors": []
        });
        assert!(docker_lists(&cfg, "10.10.1.5:5000"));
        assert!(!docker_lists(&cfg, "10.10.1.5:5001"));
        assert!(!docker_lists(&cfg, "docker.io"));
        assert!(docker_lists(&cfg, "10.20.3.4/16"));
        assert!(!docker_lists(&cfg, "10.20.0.0/24"));
        assert_eq!(cidr_network("fd00::1/8").as_deref(), Some("fd00::/8"));
    }
}
