//! Podman's side: one drop-in per registry under `/etc/containers/registries.conf.d`,
//! `50-dockhand-<host>.conf`, holding
//!
//! ```toml
//! [[registry]]
//! location = "10.10.1.5:5000"
//! insecure = true
//! ```
//!
//! Podman (containers/image) reads `registries.conf` and then the `.conf` files of
//! `registries.conf.d` in name order on every command, so there is nothing to reload. Drop-ins
//! keep dockhand's change apart from the distribution's `registries.conf`: removing one undoes
//! it exactly. Only files dockhand wrote (the `50-dockhand-` prefix and its header line) are
//! listed, replaced or removed. A write is atomic (temporary file, fsync, rename), 0644 root.
//!
//! Podman takes no CIDR blocks in `location`, so those are Docker-only.

use std::path::{Path, PathBuf};

use super::{BadHost, DirLock, FileError, Owner, looks_like_cidr, same_registry, write_atomic};

/// Where podman reads registry drop-ins (system-wide, rootful and rootless).
pub const DEFAULT_DIR: &str = "/etc/containers/registries.conf.d";
/// File name prefix of dockhand's drop-ins.
pub const PREFIX: &str = "50-dockhand-";
/// First line of every drop-in dockhand writes.
pub const HEADER: &str =
    "# Written by dockhand: lets podman pull from this registry over plain HTTP.";

/// A drop-in dockhand wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropIn {
    pub host: String,
    pub path: PathBuf,
}

/// What `add` / `remove` did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    /// Drop-ins written (add) or deleted (remove).
    pub changed: Vec<DropIn>,
    /// Registries already set up (add) or without a dockhand drop-in (remove).
    pub unchanged: Vec<String>,
}

/// Whether podman can take this address (no CIDR blocks).
pub fn check(host: &str) -> Result<(), BadHost> {
    if looks_like_cidr(host) {
        return Err(BadHost(format!(
            "`{host}`: podman's registries.conf takes no CIDR blocks; give each registry as HOST:PORT"
        )));
    }
    Ok(())
}

/// `50-dockhand-10.10.1.5_5000.conf` for `10.10.1.5:5000`: the host lower-cased, anything but
/// letters, digits, `.` and `-` replaced by `_`.
pub fn file_name(host: &str) -> String {
    let safe: String = host
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{PREFIX}{safe}.conf")
}

/// The drop-in's text.
pub fn content(host: &str) -> String {
    // Hosts are checked (letters, digits, `.-:[]`), so they need no TOML escaping.
    format!(
        "{HEADER}\n# Remove it with: dockhand registry insecure remove --engine podman {host}\n[[registry]]\nlocation = \"{host}\"\ninsecure = true\n"
    )
}

/// The `location` of a drop-in's text, when dockhand wrote it.
fn location(text: &str) -> Option<String> {
    if !text.starts_with(HEADER) {
        return None;
    }
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "location").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The drop-ins dockhand wrote in `dir`, by file name.
pub fn list(dir: &Path) -> Result<Vec<DropIn>, FileError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(FileError::new("cannot read the directory", dir, e)),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|err| FileError::new("cannot read the directory", dir, err))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PREFIX) || !name.ends_with(".conf") {
            continue;
        }
        let path = e.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(host) = location(&text) {
            out.push(DropIn { host, path });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Writes a drop-in for each host that has none (an identical one is left alone, no write).
pub fn add(dir: &Path, hosts: &[String]) -> Result<Change, FileError> {
    super::ensure_dir(dir).map_err(|e| FileError::new("cannot create the directory", dir, e))?;
    let _lock = DirLock::acquire(dir).map_err(|e| FileError::new("cannot lock", dir, e))?;
    let existing = list(dir)?;
    let mut change = Change::default();
    for host in hosts {
        if change.changed.iter().any(|d| same_registry(&d.host, host))
            || change.unchanged.iter().any(|h| same_registry(h, host))
        {
            continue;
        }
        let want = content(host);
        // Already configured by dockhand under any file name: nothing to do.
        if let Some(d) = existing.iter().find(|d| same_registry(&d.host, host))
            && std::fs::read_to_string(&d.path)
                .is_ok_and(|t| t == want || location(&t).is_some_and(|l| l == *host))
        {
            change.unchanged.push(host.clone());
            continue;
        }
        let path = dir.join(file_name(host));
        let owner = match std::fs::symlink_metadata(&path) {
            Ok(m) => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !m.file_type().is_file() || location(&text).is_none() {
                    return Err(FileError::new(
                        "will not replace",
                        &path,
                        std::io::Error::new(
                            std::io::ErrorKind::AlreadyExists,
                            "the file exists and was not written by dockhand",
                        ),
                    ));
                }
                Owner::of(&m)
            }
            Err(_) => Owner::NEW,
        };
        write_atomic(&path, want.as_bytes(), owner)
            .map_err(|e| FileError::new("cannot write", &path, e))?;
        change.changed.push(DropIn {
            host: host.clone(),
            path,
        });
    }
    Ok(change)
}

/// Deletes dockhand's drop-ins for these hosts.
pub fn remove(dir: &Path, hosts: &[String]) -> Result<Change, FileError> {
    let mut change = Change::default();
    if !dir.is_dir() {
        change.unchanged = hosts.to_vec();
        return Ok(change);
    }
    let _lock = DirLock::acquire(dir).map_err(|e| FileError::new("cannot lock", dir, e))?;
    let existing = list(dir)?;
    for host in hosts {
        let mine: Vec<&DropIn> = existing
            .iter()
            .filter(|d| same_registry(&d.host, host))
            .collect();
        if mine.is_empty() {
            if !change.changed.iter().any(|d| same_registry(&d.host, host))
                && !change.unchanged.contains(host)
            {
                change.unchanged.push(host.clone());
            }
            continue;
        }
        for d in mine {
            if change.changed.contains(d) {
                continue;
            }
            std::fs::remove_file(&d.path)
                .map_err(|e| FileError::new("cannot remove", &d.path, e))?;
            change.changed.push(d.clone());
        }
    }
    if !change.changed.is_empty() {
        let _ = std::fs::File::open(dir).and_then(|f| f.sync_all());
    }
    Ok(change)
}

/// A warning when the `registries.conf` next to `dir` uses the old (v1) format: containers/image
/// refuses to mix it with the v2 `[[registry]]` tables of drop-ins.
pub fn v1_warning(dir: &Path) -> Option<String> {
    let main = dir.parent()?.join("registries.conf");
    let text = std::fs::read_to_string(&main).ok()?;
    let v1 = text.lines().map(str::trim).any(|l| {
        l.starts_with("[registries.search]")
            || l.starts_with("[registries.insecure]")
            || l.starts_with("[registries.block]")
    });
    v1.then(|| format!("{} uses the old v1 format ([registries.*] tables); podman refuses to mix it with the [[registry]] drop-ins: convert it to v2 (see `man containers-registries.conf`)", main.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn names_and_content() {
        assert_eq!(
            file_name("10.10.1.5:5000"),
            "50-dockhand-10.10.1.5_5000.conf"
        );
        assert_eq!(file_name("[::1]:5000"), "50-dockhand-___1__5000.conf");
        assert_eq!(file_name("Reg.Local"), "50-dockhand-reg.local.conf");
        let c = content("10.10.1.5:5000");
        assert!(
            c.ends_with("[[registry]]\nlocation = \"10.10.1.5:5000\"\ninsecure = true\n"),
            "{c}"
        );
        assert_eq!(location(&c).as_deref(), Some("10.10.1.5:5000"));
        assert!(check("10.0.0.0/8").is_err());
        assert!(check("10.10.1.5:5000").is_ok());
    }

    #[test]
    fn add_list_remove() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("registries.conf.d");
        assert_eq!(list(&dir).unwrap(), vec![]);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("shortnames.conf"), "[aliases]\n").unwrap();
        let c = add(&dir, &s(&["10.10.1.5:5000", "reg.local"])).unwrap();
        assert_eq!(c.changed.len(), 2);
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("50-dockhand-10.10.1.5_5000.conf");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let hosts: Vec<String> = list(&dir).unwrap().into_iter().map(|d| d.host).collect();
        assert_eq!(hosts, s(&["10.10.1.5:5000", "reg.local"]));
        // Again: nothing written.
        let before = std::fs::metadata(&p).unwrap().modified().unwrap();
        let c = add(&dir, &s(&["10.10.1.5:5000"])).unwrap();
        assert!(c.changed.is_empty());
        assert_eq!(c.unchanged, s(&["10.10.1.5:5000"]));
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
        // A file of the same name not written by dockhand is not replaced.
        std::fs::write(dir.join("50-dockhand-other_1.conf"), "[[registry]]\n").unwrap();
        assert!(
            add(&dir, &s(&["other:1"]))
                .unwrap_err()
                .to_string()
                .contains("not written by dockhand")
        );
        let c = remove(&dir, &s(&["10.10.1.5:5000", "nothere:1", "other:1"])).unwrap();
        assert_eq!(c.changed.len(), 1);
        assert_eq!(c.unchanged, s(&["nothere:1", "other:1"]));
        assert!(!p.exists());
        assert!(dir.join("shortnames.conf").exists());
        assert!(dir.join("50-dockhand-other_1.conf").exists());
    }

    #[test]
    fn v1_registries_conf_is_flagged() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("registries.conf.d");
        std::fs::create_dir(&dir).unwrap();
        assert!(v1_warning(&dir).is_none());
        std::fs::write(
            d.path().join("registries.conf"),
            "[registries.insecure]\nregistries = []\n",
        )
        .unwrap();
        assert!(v1_warning(&dir).unwrap().contains("v1"));
        std::fs::write(
            d.path().join("registries.conf"),
            "unqualified-search-registries = [\"docker.io\"]\n",
        )
        .unwrap();
        assert!(v1_warning(&dir).is_none());
    }
}
