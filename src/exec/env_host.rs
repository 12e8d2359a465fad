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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::host_functions::HOST_FUNCTIONS;

    /// What `flow::host_functions` says the run host provides is what `EnvHost` answers: a
    /// function marked provided has its method implemented, and every other one refuses with
    /// "not available".
    #[test]
    fn the_functions_validation_allows_are_the_ones_the_run_host_answers() {
        let h = EnvHost;
        for f in HOST_FUNCTIONS {
            let answer: Result<(), String> = match f.name {
                "secret" => h.secret("DOCKHAND_TEST_NO_SUCH_SECRET").map(drop),
                "kv" => h.kv("k", None).map(drop),
                "read" => h.read("p").map(drop),
                "fileExists" => h.file_exists("p").map(drop),
                "fileSize" | "isFileEmpty" => h.file_size("p").map(drop),
                "fileURI" => h.file_uri("p").map(drop),
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
