//! The execution values dockhand reads from its own host for expressions: `envs` from the
//! environment (Kestra's `ENV_` rule) and `globals` from the globals file. Read here, on the
//! command side, so the planner stays free of environment and file reads.
//!
//! The globals file is `$DOCKHAND_GLOBALS` when set (it must exist), else
//! `$XDG_CONFIG_HOME/dockhand/globals.yaml` (by default `~/.config/dockhand/globals.yaml`) when
//! it exists. It holds a YAML map, or a Kestra configuration whose `kestra.variables.globals`
//! is the map, so a Kestra server's `application.yml` can be used as it is.

use camino::Utf8PathBuf;

use crate::diag::Diags;
use crate::plan::run_vars::{self, GLOBALS_VAR, RunVars};

/// `envs` and `globals` of this host; an error names the globals file and what is wrong in it.
pub fn run_vars() -> Result<RunVars, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Ok(RunVars {
        envs: run_vars::envs_from(std::env::vars()),
        globals: match globals_file(env) {
            Some((path, must)) => read_globals(&path, must)?,
            None => Default::default(),
        },
        ..Default::default()
    })
}

/// Where the globals file is, and whether it must exist (it must when named by the variable).
fn globals_file(env: impl Fn(&str) -> Option<String>) -> Option<(Utf8PathBuf, bool)> {
    if let Some(p) = env(GLOBALS_VAR) {
        return Some((p.into(), true));
    }
    let config = env("XDG_CONFIG_HOME")
        .map(Utf8PathBuf::from)
        .or_else(|| env("HOME").map(|h| Utf8PathBuf::from(h).join(".config")))?;
    Some((config.join("dockhand").join("globals.yaml"), false))
}

fn read_globals(
    path: &Utf8PathBuf,
    must: bool,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if !must && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Default::default());
        }
        Err(e) => return Err(format!("globals file {path} (${GLOBALS_VAR}): {e}")),
    };
    let mut d = Diags::new(path.as_str());
    let doc = crate::flow::yaml::parse(&text, &mut d);
    if d.has_errors() {
        return Err(format!("globals file {path}:\n{d}"));
    }
    let doc = doc.map_or(serde_json::Value::Null, |n| n.to_json());
    run_vars::globals_from(&doc).map_err(|e| format!("globals file {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_names_the_file_else_the_config_directory() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            globals_file(env(&[(GLOBALS_VAR, "/g.yaml"), ("HOME", "/h")])),
            Some(("/g.yaml".into(), true))
        );
        assert_eq!(
            globals_file(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(("/x/dockhand/globals.yaml".into(), false))
        );
        assert_eq!(
            globals_file(env(&[("HOME", "/h")])),
            Some(("/h/.config/dockhand/globals.yaml".into(), false))
        );
    }

    #[test]
    fn globals_are_read_from_yaml_and_a_named_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = Utf8PathBuf::from_path_buf(dir.path().join("g.yaml")).unwrap();
        assert!(read_globals(&p, false).unwrap().is_empty());
        assert!(read_globals(&p, true).unwrap_err().contains("g.yaml"));
        std::fs::write(&p, "region: eu-west-1\nlimits:\n  maxRows: 10\n").unwrap();
        let g = read_globals(&p, true).unwrap();
        assert_eq!(g["region"], "eu-west-1");
        assert_eq!(g["limits"]["max-rows"], 10);
        std::fs::write(&p, "- a\n").unwrap();
        assert!(
            read_globals(&p, true)
                .unwrap_err()
                .contains("must hold a map")
        );
    }
}
