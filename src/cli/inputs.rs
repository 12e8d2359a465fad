//! Input values from the command line: `--input NAME=VALUE`, and the sources that keep a value
//! off every command line (`--input-env`, `--input-file`).

use std::collections::BTreeMap;

use clap::Args;

use dockhand::exit::{self, Code};

use super::args::{PlanArgs, parse_kv};

/// Input values that stay off every command line: read from dockhand's environment or from a
/// file, so neither `ps` nor `/proc/PID/cmdline` shows them.
#[derive(Args, Clone, Default)]
pub struct InputSources {
    /// Input NAME from the environment variable VAR (repeatable), e.g. `--input-env token=API_TOKEN`
    #[arg(long = "input-env", value_name = "NAME=VAR", value_parser = parse_kv)]
    pub input_env: Vec<(String, String)>,
    /// Input NAME from the contents of FILE (repeatable; one trailing newline is dropped),
    /// e.g. `--input-file token=/run/secrets/token`
    #[arg(long = "input-file", value_name = "NAME=FILE", value_parser = parse_kv)]
    pub input_file: Vec<(String, String)>,
}

impl InputSources {
    /// The values, read now; an unset variable or an unreadable file is bad input (exit 2).
    pub fn read(&self) -> exit::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (name, var) in &self.input_env {
            let v = std::env::var(var).map_err(|e| {
                Code::Invalid.error(format!(
                    "--input-env {name}={var}: environment variable `{var}`: {e}"
                ))
            })?;
            out.push((name.clone(), v));
        }
        for (name, file) in &self.input_file {
            let mut v = std::fs::read_to_string(file).map_err(|e| {
                Code::Invalid.error(format!(
                    "--input-file {name}={file}: cannot read `{file}`: {e}"
                ))
            })?;
            // `echo secret > file` adds a newline that is not part of the value.
            if v.ends_with('\n') {
                v.pop();
                if v.ends_with('\r') {
                    v.pop();
                }
            }
            out.push((name.clone(), v));
        }
        Ok(out)
    }
}

/// `--input`, `--input-env` and `--input-file` together (a name given twice: the last wins, in
/// that order).
/// `--trigger` and `--trigger-json`: the `trigger.*` values of the execution (exit 2 if bad).
pub fn given_trigger(args: &PlanArgs) -> exit::Result<serde_json::Map<String, serde_json::Value>> {
    dockhand::plan::run_vars::trigger_from(&args.triggers, args.trigger_json.as_deref())
        .map_err(|e| exit::Code::Invalid.error(e))
}

pub fn given_inputs(args: &PlanArgs) -> exit::Result<BTreeMap<String, String>> {
    let mut given: BTreeMap<String, String> = args.inputs.iter().cloned().collect();
    given.extend(args.sources.read()?);
    Ok(given)
}
