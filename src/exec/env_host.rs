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
}

impl EnvHost {
    pub fn new(kv: KvStore, namespace: &str) -> EnvHost {
        EnvHost {
            kv: Some((kv, namespace.to_string())),
            before_run: false,
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

impl Host for EnvHost {
    fn secret(&self, name: &str) -> Result<String, String> {
        env_secret(name, |var| std::env::var(var).ok())
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
