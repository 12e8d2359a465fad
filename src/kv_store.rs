//! The local key-value store of Kestra's `kv.*` tasks and the `kv()` function: one directory
//! per namespace under the state directory (`STATE_DIR/kv/NAMESPACE/`), one file per key, each
//! a small JSON document `{"value": …, "expiresAt": ms}`. Writes go to a temporary file in the
//! same directory, fsync'd and renamed over the key's file, so a reader (another dockhand
//! process, or a crash half-way) sees the old value or the new one, never a torn one. Keys and
//! namespaces follow Kestra's rules, which also keep them single path components (no `/`, no
//! `..`).

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

/// Kestra's key rule (`KVStore.KEY_VALIDATOR_PATTERN`), in words.
pub const KEY_RULE: &str = "Key must start with an alphanumeric character (uppercase or lowercase) and can contain alphanumeric characters (uppercase or lowercase), dots (.), underscores (_), and hyphens (-) only.";

/// `[a-zA-Z0-9][a-zA-Z0-9._-]*`, as Kestra checks a key.
pub fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A namespace as a flow's: lowercase letters, digits, `.`, `_`, `-`, not starting with `.`.
fn valid_namespace(ns: &str) -> bool {
    crate::flow::spec::NAMESPACE.is_match(ns)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Entry {
    value: serde_json::Value,
    /// Milliseconds since the epoch after which the entry is gone (`ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
}

/// What reading a key found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Value(serde_json::Value),
    Missing,
    /// Its `ttl` has passed: the entry is removed on this read (as Kestra does).
    Expired,
}

/// The store of all namespaces under one state directory.
#[derive(Debug, Clone)]
pub struct KvStore {
    root: Utf8PathBuf,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl KvStore {
    pub fn new(state_dir: &Utf8Path) -> KvStore {
        KvStore {
            root: state_dir.join("kv"),
        }
    }

    fn dir(&self, ns: &str) -> Result<Utf8PathBuf, String> {
        if !valid_namespace(ns) {
            return Err(format!(
                "invalid namespace `{ns}`: use {}",
                crate::flow::spec::NAMESPACE.rule
            ));
        }
        Ok(self.root.join(ns))
    }

    fn path(&self, ns: &str, key: &str) -> Result<Utf8PathBuf, String> {
        if !valid_key(key) {
            return Err(format!("invalid KV key `{key}`: {KEY_RULE}"));
        }
        Ok(self.dir(ns)?.join(key))
    }

    fn read_entry(&self, path: &Utf8Path) -> Result<Option<Entry>, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("unreadable KV entry {path}: {e}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read KV entry {path}: {e}")),
        }
    }

    /// The value of `key` in namespace `ns`.
    pub fn get(&self, ns: &str, key: &str) -> Result<Found, String> {
        let path = self.path(ns, key)?;
        Ok(match self.read_entry(&path)? {
            None => Found::Missing,
            Some(e) if e.expires_at.is_some_and(|t| t <= now_ms()) => {
                let _ = std::fs::remove_file(&path);
                Found::Expired
            }
            Some(e) => Found::Value(e.value),
        })
    }

    /// Sets `key`; with `overwrite: false` an existing (unexpired) key is an error, in Kestra's
    /// words.
    pub fn set(
        &self,
        ns: &str,
        key: &str,
        value: serde_json::Value,
        overwrite: bool,
        ttl: Option<Duration>,
    ) -> Result<(), String> {
        let path = self.path(ns, key)?;
        if !overwrite && matches!(self.get(ns, key)?, Found::Value(_)) {
            return Err(format!(
                "Cannot set value for key '{key}'. Key already exists and `overwrite` is set to `false`."
            ));
        }
        let dir = self.dir(ns)?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
        let entry = Entry {
            value,
            expires_at: ttl.map(|t| now_ms().saturating_add(t.as_millis() as u64)),
        };
        let bytes = serde_json::to_vec(&entry).expect("a KV entry serializes");
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(|e| format!("cannot write in {dir}: {e}"))?;
        tmp.write_all(&bytes)
            .and_then(|_| tmp.as_file().sync_data())
            .map_err(|e| format!("cannot write KV entry {path}: {e}"))?;
        tmp.persist(&path)
            .map_err(|e| format!("cannot write KV entry {path}: {e}"))?;
        Ok(())
    }

    /// Removes `key`; whether it was there (an expired key counts as absent).
    pub fn delete(&self, ns: &str, key: &str) -> Result<bool, String> {
        let found = self.get(ns, key)?;
        let path = self.path(ns, key)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(matches!(found, Found::Value(_))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(format!("cannot delete KV entry {path}: {e}")),
        }
    }

    /// The unexpired keys of namespace `ns` starting with `prefix`, sorted.
    pub fn keys(&self, ns: &str, prefix: Option<&str>) -> Result<Vec<String>, String> {
        let dir = self.dir(ns)?;
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(format!("cannot list {dir}: {e}")),
        };
        let mut out = Vec::new();
        for e in rd.flatten() {
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // Temporary files of writes under way start with `.`: no key does.
            if !valid_key(&name) || !prefix.is_none_or(|p| name.starts_with(p)) {
                continue;
            }
            let live = self
                .read_entry(&dir.join(&name))?
                .is_some_and(|e| e.expires_at.is_none_or(|t| t > now_ms()));
            if live {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_follow_kestras_rule() {
        for (k, ok) in [
            ("a", true),
            ("my_key-1.v2", true),
            ("A.b", true),
            ("", false),
            ("..", false),
            (".hidden", false),
            ("a/b", false),
            ("-a", false),
            ("a b", false),
            ("é", false),
        ] {
            assert_eq!(valid_key(k), ok, "{k:?}");
        }
    }

    #[test]
    fn set_get_delete_list_and_ttl() {
        let d = tempfile::tempdir().unwrap();
        let s = KvStore::new(Utf8Path::from_path(d.path()).unwrap());
        assert_eq!(s.get("dev", "k").unwrap(), Found::Missing);
        s.set("dev", "k", json!({"a": 1}), true, None).unwrap();
        s.set("dev", "k2", json!("x"), true, None).unwrap();
        s.set("other", "k", json!(3), true, None).unwrap();
        assert_eq!(s.get("dev", "k").unwrap(), Found::Value(json!({"a": 1})));
        assert_eq!(s.get("other", "k").unwrap(), Found::Value(json!(3)));
        let e = s.set("dev", "k", json!(2), false, None).unwrap_err();
        assert!(e.contains("Key already exists"), "{e}");
        assert_eq!(s.keys("dev", None).unwrap(), ["k", "k2"]);
        assert_eq!(s.keys("dev", Some("k2")).unwrap(), ["k2"]);
        assert!(s.delete("dev", "k").unwrap());
        assert!(!s.delete("dev", "k").unwrap());
        s.set("dev", "short", json!(1), true, Some(Duration::ZERO))
            .unwrap();
        assert_eq!(s.keys("dev", None).unwrap(), ["k2"]);
        assert_eq!(s.get("dev", "short").unwrap(), Found::Expired);
        assert_eq!(s.get("dev", "short").unwrap(), Found::Missing);
        // An expired key may be set again with overwrite: false.
        s.set("dev", "short", json!(1), true, Some(Duration::ZERO))
            .unwrap();
        s.set("dev", "short", json!(2), false, None).unwrap();
        assert!(s.get("dev", "../x").unwrap_err().contains("invalid KV key"));
        assert!(
            s.keys("../etc", None)
                .unwrap_err()
                .contains("invalid namespace")
        );
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(d.path().join("kv/dev"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
}
