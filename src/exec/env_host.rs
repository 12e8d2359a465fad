//! The expression host of a run: `secret('NAME')` reads the environment variable `SECRET_NAME`,
//! base64-encoded, as Kestra OSS does; `kv('KEY')` reads the local KV store (`crate::kv_store`)
//! under the state directory, in the flow's namespace unless given one. Made here, on the
//! executor's side, so the planner stays free of environment reads.

use crate::kv_store::{Found, KvStore};
use crate::pebble::{Host, Value, env_secret};

/// Reads secrets from dockhand's own environment, and KV entries from the store.
#[derive(Default)]
pub struct EnvHost {
    /// The store and the flow's namespace (`kv()` without one).
    kv: Option<(KvStore, String)>,
    /// Before the run, a key that an earlier task of the flow may still set is no error: it
    /// reads as `<kv KEY>`, as `plan` shows it.
    before_run: bool,
    /// Internal storage and namespace files, for `read()` (`crate::exec::storage`).
    storage: Option<crate::exec::storage::Storage>,
    /// The execution's kept log, for `errorLogs()` (`crate::exec::error_logs`).
    error_logs: Option<crate::exec::error_logs::ErrorLogs>,
}

impl EnvHost {
    pub fn new(kv: KvStore, namespace: &str) -> EnvHost {
        EnvHost {
            kv: Some((kv, namespace.to_string())),
            before_run: false,
            storage: None,
            error_logs: None,
        }
    }

    /// This host, reading files from `storage` too.
    pub fn with_storage(self, storage: crate::exec::storage::Storage) -> EnvHost {
        EnvHost {
            storage: Some(storage),
            ..self
        }
    }

    /// This host, answering `errorLogs()` from the execution's kept log.
    pub fn with_error_logs(self, logs: crate::exec::error_logs::ErrorLogs) -> EnvHost {
        EnvHost {
            error_logs: Some(logs),
            ..self
        }
    }

    /// The same host for the checks made before the run starts.
    pub fn before_run(kv: KvStore, namespace: &str) -> EnvHost {
        EnvHost {
            before_run: true,
            ..EnvHost::new(kv, namespace)
        }
    }
}

impl EnvHost {
    fn storage(&self) -> Result<&crate::exec::storage::Storage, String> {
        self.storage
            .as_ref()
            .ok_or_else(|| "not available: no storage here".to_string())
    }
}

impl Host for EnvHost {
    fn secret(&self, name: &str) -> Result<String, String> {
        env_secret(name, |var| std::env::var(var).ok())
    }

    fn read(&self, path: &str) -> Result<String, String> {
        match &self.storage {
            Some(s) => s.read(path),
            None => Err(format!(
                "not available: `read('{path}')` has no storage here"
            )),
        }
    }

    fn file_exists(&self, path: &str, namespace: Option<&str>) -> Result<bool, String> {
        // A `file://` outside the allowed paths is an error, not a file that does not exist.
        match self.storage()?.function_path(path, namespace) {
            Ok(p) => Ok(p.exists()),
            Err(e) if e.contains("No such file") => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn file_size(&self, path: &str, namespace: Option<&str>) -> Result<u64, String> {
        self.storage()?.function_size(path, namespace)
    }

    fn file_uri(&self, path: &str, namespace: Option<&str>) -> Result<String, String> {
        self.storage()?.function_uri(path, namespace)
    }

    fn error_logs(&self) -> Result<Vec<Value>, String> {
        match &self.error_logs {
            Some(l) => l.read(),
            None => Err("not available: errorLogs() has no execution log here".into()),
        }
    }

    fn kv(&self, key: &str, namespace: Option<&str>) -> Result<Option<Value>, String> {
        let Some((store, flow_ns)) = &self.kv else {
            return Err(format!("KV key `{key}` cannot be read here: no KV store"));
        };
        match store.get(namespace.unwrap_or(flow_ns), key)? {
            Found::Value(v) => Ok(Some(Value::from(&v))),
            Found::Missing | Found::Expired if self.before_run => {
                Ok(Some(Value::from(format!("<kv {key}>"))))
            }
            Found::Missing | Found::Expired => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::host_functions::HOST_FUNCTIONS;

    /// What `flow::host_functions` says the run host provides is what `EnvHost` answers: a
    /// function marked provided has its method implemented, and every other one refuses with
    /// "not available".
    #[test]
    fn the_functions_validation_allows_are_the_ones_the_run_host_answers() {
        let dir = tempfile::tempdir().unwrap();
        let state = camino::Utf8Path::from_path(dir.path()).unwrap();
        let h = EnvHost::new(KvStore::new(state), "ns")
            .with_storage(crate::exec::storage::Storage::new(
                state,
                state.join("ns-files"),
                "ns",
                vec![],
            ))
            .with_error_logs(crate::exec::error_logs::ErrorLogs {
                log: crate::exec::log_store::path(state, "x1"),
                namespace: "ns".into(),
                flow_id: "f".into(),
                execution_id: "x1".into(),
                in_process: Default::default(),
            });
        for f in HOST_FUNCTIONS {
            let answer: Result<(), String> = match f.name {
                "secret" => h.secret("DOCKHAND_TEST_NO_SUCH_SECRET").map(drop),
                "kv" => h.kv("k", None).map(drop).or_else(|e| {
                    // Answered: a key that is not there is the store's answer, not a refusal.
                    if e.starts_with("not available") {
                        Err(e)
                    } else {
                        Ok(())
                    }
                }),
                "read" => h.read("p").map(drop).or_else(|e| {
                    // Answered: a file that is not there is the storage's answer.
                    if e.starts_with("not available") {
                        Err(e)
                    } else {
                        Ok(())
                    }
                }),
                "fileExists" => h.file_exists("p", None).map(drop),
                // Answered: the size of a file that is not there is the storage's error.
                "fileSize" | "isFileEmpty" => h.file_size("p", None).map(drop).or_else(|e| {
                    if e.starts_with("not available") {
                        Err(e)
                    } else {
                        Ok(())
                    }
                }),
                "fileURI" => h.file_uri("p", None).map(drop),
                "errorLogs" => h.error_logs().map(drop),
                other => panic!("host function `{other}` has no case here"),
            };
            let refused = answer
                .as_ref()
                .is_err_and(|e| e.starts_with("not available"));
            assert_eq!(
                refused, !f.provided,
                "{}: marked provided={} but the host answers {answer:?}",
                f.name, f.provided
            );
        }
    }
}
