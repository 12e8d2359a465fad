//! Host-side registry setup: what an engine needs before it pulls from a plain-HTTP
//! ("insecure") registry such as Kestra's `10.10.1.5:5000` example.
//!
//! Kestra's Docker task runner accepts `"insecure-registries"` in the runner's `config`, but an
//! engine only talks plain HTTP to a registry its *host* configuration allows:
//!
//! - Docker: the daemon's `daemon.json` (`"insecure-registries": [...]`), read at start and on
//!   reload (SIGHUP) — [`daemon_json`] edits the file, [`reload`] makes the running dockerd take
//!   it and checks it did.
//! - Podman: a `[[registry]] insecure = true` entry in `registries.conf` or a drop-in under
//!   `registries.conf.d`, read by every podman command — [`podman`] writes and removes
//!   dockhand's own drop-ins. (dockhand also passes `--tls-verify=false` to podman for a task
//!   whose image is on a registry listed in the flow's `insecure-registries`.)
//!
//! [`fragment`] is the pure piece `plan` shows: the `daemon.json` fragment a flow needs.
//! [`cli`] is the `dockhand registry insecure add|remove|list` subcommand.

pub mod cli;
pub mod daemon_json;
pub mod podman;
pub mod precheck;
pub mod reload;

/// Where a registry change reports what it did and what went wrong: the `registry` command
/// prints to stderr; a caller such as `run --configure-insecure-registries` decides itself.
pub trait Say {
    fn error(&mut self, msg: &dyn std::fmt::Display);
    fn note(&mut self, msg: &dyn std::fmt::Display);
}

use std::io::{self, Write};
use std::net::IpAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The `daemon.json` key (and Kestra `config` key) listing plain-HTTP registries.
pub const INSECURE_KEY: &str = "insecure-registries";

/// The `daemon.json` fragment that lets Docker pull from `registries` over plain HTTP:
/// `{"insecure-registries": [...]}`, in the order given, without duplicates.
pub fn fragment(registries: &[String]) -> serde_json::Value {
    let mut seen: Vec<&String> = Vec::new();
    for r in registries {
        if !seen.iter().any(|s| same_registry(s, r)) {
            seen.push(r);
        }
    }
    serde_json::json!({ INSECURE_KEY: seen })
}

/// Whether two `insecure-registries` entries name the same registry, the way dockerd reads
/// them: host names are case-insensitive, and dockerd drops an `http://` or `https://` prefix
/// (with a warning) from entries already in a file.
pub fn same_registry(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        let s = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"))
            .unwrap_or(&lower);
        s.trim_end_matches('/').to_string()
    }
    norm(a) == norm(b)
}

/// A rejected `HOST[:PORT]` argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadHost(pub String);

/// Checks one registry address as `insecure-registries` takes it: `HOST[:PORT]` (a name, an
/// IPv4 address or a bracketed IPv6 address), or for Docker a CIDR block such as `10.10.0.0/16`.
/// Returns it trimmed.
pub fn check_host(s: &str) -> Result<String, BadHost> {
    let t = s.trim();
    if t.is_empty() {
        return Err(BadHost(
            "empty registry address; expected HOST:PORT such as 10.10.1.5:5000".into(),
        ));
    }
    for scheme in ["http://", "https://"] {
        if t.to_ascii_lowercase().starts_with(scheme) {
            let rest = t[scheme.len()..].trim_end_matches('/');
            return Err(BadHost(format!(
                "`{t}`: write the registry without a scheme, as `{rest}`; the engine decides the protocol"
            )));
        }
    }
    if looks_like_cidr(t) {
        let (ip, prefix) = t.split_once('/').unwrap_or((t, ""));
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return Err(BadHost(format!(
                "`{t}`: a CIDR block is IP/PREFIX with an IP address and no port, such as 10.10.0.0/16"
            )));
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix.parse::<u32>().map_or(true, |p| p > max) {
            return Err(BadHost(format!(
                "`{t}`: prefix /{prefix} is out of range (0-{max})"
            )));
        }
        return Ok(t.to_string());
    }
    if t.contains('/') {
        return Err(BadHost(format!(
            "`{t}` is not a registry address: give HOST:PORT only, without a path or repository"
        )));
    }
    let host_part = host_of(t);
    if host_part.ends_with('.') {
        return Err(BadHost(format!(
            "`{t}`: the host ends with a dot (as in the `10.10.1.5.:5000` typo on Kestra's page); write `{}`",
            t.replacen(host_part, host_part.trim_end_matches('.'), 1)
        )));
    }
    crate::registry_host::check(t).map_err(|e| {
        BadHost(format!(
            "{e}, such as 10.10.1.5:5000 or registry.local:5000"
        ))
    })?;
    if let Some(port) = port_of(t) {
        match port.parse::<u32>() {
            Ok(p) if (1..=65535).contains(&p) => {}
            _ => {
                return Err(BadHost(format!(
                    "`{t}`: port {port} is out of range (1-65535)"
                )));
            }
        }
    }
    let octets: Vec<&str> = host_part.split('.').collect();
    if octets.len() == 4
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()))
        && host_part.parse::<std::net::Ipv4Addr>().is_err()
    {
        return Err(BadHost(format!(
            "`{t}`: {host_part} is not a valid IPv4 address"
        )));
    }
    Ok(t.to_string())
}

/// Is this `IP/PREFIX`?
pub fn looks_like_cidr(s: &str) -> bool {
    s.split_once('/').is_some_and(|(ip, p)| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !ip.contains('/')
    })
}

/// The host of `HOST[:PORT]` (an IPv6 address keeps its brackets).
fn host_of(s: &str) -> &str {
    if s.starts_with('[') {
        return s.find(']').map_or(s, |i| &s[..=i]);
    }
    s.rsplit_once(':').map_or(s, |(h, _)| h)
}

/// The port of `HOST:PORT`, if any.
fn port_of(s: &str) -> Option<&str> {
    if s.starts_with('[') {
        return s.find("]:").map(|i| &s[i + 2..]);
    }
    s.rsplit_once(':').map(|(_, p)| p)
}

/// Who owns a file and with which permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Owner {
    /// A new system configuration file: 0644 root:root.
    pub const NEW: Owner = Owner {
        mode: 0o644,
        uid: 0,
        gid: 0,
    };

    pub fn of(meta: &std::fs::Metadata) -> Owner {
        Owner {
            mode: meta.permissions().mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }
}

/// Replaces `path` with `content` atomically: a temporary file in the same directory
/// (created exclusively, mode 0600 while written), fsync, mode and owner set, rename over
/// `path`, fsync of the directory. Readers see the old file or the new one, never a half.
pub fn write_atomic(path: &Path, content: &[u8], owner: Owner) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    // Created exclusively beside `path` (so the rename stays on one file system), 0600 while
    // written; removed again if anything below fails.
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{}.dockhand-tmp-", name.to_string_lossy()))
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    file.write_all(content)?;
    std::os::unix::fs::fchown(file.as_file(), Some(owner.uid), Some(owner.gid))?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(owner.mode))?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// An exclusive lock on a directory (flock on the directory itself), held while a
/// configuration file in it is read, changed and written, so two dockhand runs do not lose
/// each other's change. Released on drop.
pub struct DirLock(#[allow(dead_code)] std::fs::File);

impl DirLock {
    pub fn acquire(dir: &Path) -> io::Result<DirLock> {
        let f = std::fs::File::open(dir)?;
        // flock(2) LOCK_EX on Unix, as std implements it.
        f.lock()?;
        Ok(DirLock(f))
    }
}

/// Creates `dir` (0755, parents too) when missing.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
}

/// An I/O failure on a named file.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct FileError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl FileError {
    pub fn new(action: &'static str, path: &Path, source: io::Error) -> FileError {
        FileError {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_lists_registries_once() {
        let f = fragment(&[
            "10.10.1.5:5000".into(),
            "registry.local".into(),
            "10.10.1.5:5000".into(),
        ]);
        assert_eq!(
            f,
            serde_json::json!({"insecure-registries": ["10.10.1.5:5000", "registry.local"]})
        );
        assert_eq!(
            fragment(&[]),
            serde_json::json!({"insecure-registries": []})
        );
    }

    #[test]
    fn hosts_are_checked() {
        for ok in [
            "10.10.1.5:5000",
            "registry.local",
            "registry.local:5000",
            "localhost:5000",
            "[::1]:5000",
            "10.10.0.0/16",
            "fd00::/8",
            "Registry.Example.COM",
        ] {
            assert_eq!(check_host(ok).as_deref(), Ok(ok), "{ok}");
        }
        assert_eq!(
            check_host(" 10.10.1.5:5000 ").as_deref(),
            Ok("10.10.1.5:5000")
        );
        let err = |s: &str| check_host(s).unwrap_err().0;
        assert!(err("http://10.10.1.5:5000").contains("as `10.10.1.5:5000`"));
        assert!(err("https://reg.local/").contains("as `reg.local`"));
        assert!(
            err("10.10.1.5.:5000").contains("write `10.10.1.5:5000`"),
            "{}",
            err("10.10.1.5.:5000")
        );
        assert!(err("10.10.1.5:99999").contains("out of range"));
        assert!(err("10.10.1.5:0").contains("out of range"));
        assert!(err("10.10.1.500:5000").contains("not a valid IPv4"));
        assert!(err("reg.local:5000/team/img").contains("without a path"));
        assert!(err("reg.local/16").contains("with an IP address"));
        assert!(err("10.0.0.1:5000/16").contains("with an IP address"));
        assert!(err("10.0.0.0/33").contains("out of range"));
        assert!(err("").contains("empty"));
        assert!(err("a b").contains("not a registry address"));
        assert!(err("reg_local:5000").contains("not a registry address"));
    }

    #[test]
    fn same_registry_ignores_case_and_scheme() {
        assert!(same_registry("Reg.Local:5000", "reg.local:5000"));
        assert!(same_registry("http://10.10.1.5:5000", "10.10.1.5:5000"));
        assert!(same_registry("10.10.1.5:5000/", "10.10.1.5:5000"));
        assert!(!same_registry("10.10.1.5:5000", "10.10.1.5"));
    }

    #[test]
    fn atomic_write_keeps_owner_and_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let owner = Owner::of(&std::fs::metadata(&p).unwrap());
        write_atomic(&p, b"new", owner).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(Owner::of(&std::fs::metadata(&p).unwrap()), owner);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
