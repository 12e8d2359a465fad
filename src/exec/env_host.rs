//! The expression host of a run: `secret('NAME')` reads the environment variable `SECRET_NAME`,
//! base64-encoded, as Kestra OSS does. Made here, on the executor's side, so the planner stays
//! free of environment reads.

use crate::pebble::{Host, env_secret};

/// Reads secrets from dockhand's own environment.
pub struct EnvHost;

impl Host for EnvHost {
    fn secret(&self, name: &str) -> Result<String, String> {
        env_secret(name, |var| std::env::var(var).ok())
    }
}
