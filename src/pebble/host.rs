//! The outside world as the engine sees it: secrets, the KV store, files, error logs, the clock
//! and randomness all go through [`Host`], which the caller implements. The engine itself stays
//! pure, and tests fix the clock and the secrets with [`FixedHost`].
//!
//! Kestra OSS reads `secret('NAME')` from the environment variable `SECRET_NAME`, base64-encoded;
//! [`env_secret`] is that lookup for a caller's `Host::secret`.

use super::value::Value;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use std::cell::Cell;
use std::collections::HashMap;

/// What a template can ask of the world. Every method has a default that refuses with a clear
/// message (`not available: …`), except the clock (the system's) and randomness (seeded from it):
/// a host implements what it has, and a call to the rest is an error naming it, never an empty
/// value.
pub trait Host {
    /// The plain value of secret `name` (`subkey` selects a field of a JSON secret in Kestra EE;
    /// callers may ignore it).
    fn secret(&self, name: &str) -> Result<String, String> {
        Err(format!(
            "not available: secret `{name}` cannot be read here"
        ))
    }
    /// A KV-store value, `None` if the key does not exist.
    fn kv(&self, key: &str, namespace: Option<&str>) -> Result<Option<Value>, String> {
        let _ = namespace;
        Err(format!(
            "not available: kv('{key}') needs a KV store, and this host has none"
        ))
    }
    /// The text of a file (internal storage URI, namespace file or working-dir path).
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!(
            "not available: read('{path}') needs internal storage or namespace files, and this host has none"
        ))
    }
    /// `fileExists(path, namespace)`, `fileSize`, `fileURI` (`isFileEmpty` is a size of 0):
    /// `path` as Kestra's file functions take it (`kestra://`, `nsfile://`, `file://`, or a
    /// namespace file's path).
    fn file_exists(&self, path: &str, namespace: Option<&str>) -> Result<bool, String> {
        let _ = namespace;
        Err(format!(
            "not available: fileExists('{path}') needs internal storage or namespace files, and this host has none"
        ))
    }
    fn file_size(&self, path: &str, namespace: Option<&str>) -> Result<u64, String> {
        let _ = namespace;
        Err(format!(
            "not available: fileSize('{path}') needs internal storage or namespace files, and this host has none"
        ))
    }
    fn file_uri(&self, path: &str, namespace: Option<&str>) -> Result<String, String> {
        let _ = namespace;
        Err(format!(
            "not available: fileURI('{path}') needs internal storage or namespace files, and this host has none"
        ))
    }
    /// Error log lines of the current execution, as maps (Kestra's `LogEntry` fields).
    fn error_logs(&self) -> Result<Vec<Value>, String> {
        Err("not available: errorLogs() needs the execution's logs, and this host has none".into())
    }
    /// The current instant.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    /// The time zone used when a date filter is given none (Kestra: the server's default).
    fn time_zone(&self) -> &str {
        "UTC"
    }
    /// 64 random bits (for `uuid`, `id`, `ksuid`, `randomInt`).
    fn random(&self) -> u64 {
        let n = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
        splitmix(n ^ (self as *const Self as *const u8 as u64))
    }
    /// A free TCP port on this machine.
    fn random_port(&self) -> Result<u16, String> {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))
    }
}

pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Kestra OSS's secret lookup: environment variable `SECRET_<NAME>`, base64-decoded. `env` is the
/// caller's environment (so the plan stays free of environment reads).
pub fn env_secret(name: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let var = format!("SECRET_{name}");
    let raw = env(&var)
        .ok_or_else(|| format!("secret `{name}` is not set (environment variable {var})"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|e| format!("environment variable {var} is not valid base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("secret `{name}` ({var}) is not UTF-8 text"))
}

/// A host with fixed answers: a fixed clock, secrets, KV entries and files from maps, and a
/// deterministic random sequence. For tests, and for validation runs that must not touch the world.
#[derive(Debug, Clone)]
pub struct FixedHost {
    pub now: DateTime<Utc>,
    pub time_zone: String,
    pub secrets: HashMap<String, String>,
    pub kv: HashMap<String, Value>,
    pub files: HashMap<String, String>,
    pub error_logs: Vec<Value>,
    seed: Cell<u64>,
}

impl Default for FixedHost {
    fn default() -> Self {
        FixedHost {
            now: DateTime::parse_from_rfc3339("2024-01-15T10:30:45.123456Z")
                .map(|d| d.to_utc())
                .unwrap_or_default(),
            time_zone: "UTC".into(),
            secrets: HashMap::new(),
            kv: HashMap::new(),
            files: HashMap::new(),
            error_logs: Vec::new(),
            seed: Cell::new(42),
        }
    }
}

impl Host for FixedHost {
    fn secret(&self, name: &str) -> Result<String, String> {
        self.secrets
            .get(name)
            .cloned()
            .ok_or_else(|| format!("secret `{name}` does not exist"))
    }
    fn kv(&self, key: &str, _namespace: Option<&str>) -> Result<Option<Value>, String> {
        Ok(self.kv.get(key).cloned())
    }
    fn read(&self, path: &str) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| format!("file `{path}` does not exist"))
    }
    fn file_exists(&self, path: &str, _namespace: Option<&str>) -> Result<bool, String> {
        Ok(self.files.contains_key(path))
    }
    fn file_size(&self, path: &str, _namespace: Option<&str>) -> Result<u64, String> {
        self.files
            .get(path)
            .map(|f| f.len() as u64)
            .ok_or_else(|| format!("file `{path}` does not exist"))
    }
    fn file_uri(&self, path: &str, _namespace: Option<&str>) -> Result<String, String> {
        if self.files.contains_key(path) {
            Ok(format!("file://{path}"))
        } else {
            Err(format!("file `{path}` does not exist"))
        }
    }
    fn error_logs(&self) -> Result<Vec<Value>, String> {
        Ok(self.error_logs.clone())
    }
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn time_zone(&self) -> &str {
        &self.time_zone
    }
    fn random(&self) -> u64 {
        let n = splitmix(self.seed.get());
        self.seed.set(n);
        n
    }
    fn random_port(&self) -> Result<u16, String> {
        Ok(40000 + (self.random() % 20000) as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_secret_decodes_base64() {
        let env = |k: &str| (k == "SECRET_DB").then(|| "cGFzcw==".to_string());
        assert_eq!(env_secret("DB", env), Ok("pass".into()));
        assert!(env_secret("NOPE", env).unwrap_err().contains("SECRET_NOPE"));
    }
}
