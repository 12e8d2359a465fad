//! The execution's values that expressions read besides inputs, variables and outputs:
//! `execution.startDate`/`state`/`originalId`, `trigger`, `envs`, `globals` and labels given on
//! the command line. The caller fills a [`RunVars`] (the CLI reads the environment and the
//! globals file); the planner reads nothing itself. Kestra's rules for turning environment
//! variables and configuration into `envs` and `globals` are here, as pure functions.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

/// Kestra's `kestra.variables.env-vars-prefix` as its shipped configuration sets it.
pub const ENV_PREFIX: &str = "ENV_";

/// The environment variable naming the globals file.
pub const GLOBALS_VAR: &str = "DOCKHAND_GLOBALS";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunVars {
    /// ISO-8601 instant the execution started; none before the run (`plan` shows the expression).
    pub start_date: Option<String>,
    /// The execution's current state (`RUNNING` while tasks render); none before the run.
    pub state: Option<String>,
    /// The first execution of a resumed or restarted one; none before the run.
    pub original_id: Option<String>,
    /// Labels from the command line, over the flow's.
    pub labels: BTreeMap<String, String>,
    /// The trigger's variables (`trigger.*`); empty when started by hand.
    pub trigger: Map<String, Json>,
    /// `envs.*`: see [`envs_from`].
    pub envs: BTreeMap<String, String>,
    /// `globals.*`: see [`globals_from`].
    pub globals: Map<String, Json>,
}

/// Kestra's `envs`: every variable whose name starts with `ENV_` (case-sensitive), keyed by
/// the rest of its name in lower case (`ENV_MY_VAR` is `envs.my_var`), as in Kestra's
/// `RunContextCache.envVariables`.
pub fn envs_from(vars: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(ENV_PREFIX)?;
            (!rest.is_empty()).then(|| (rest.to_lowercase(), v))
        })
        .collect()
}

/// Kestra's `globals` from a YAML document: either the map itself, or a Kestra configuration
/// whose `kestra.variables.globals` is the map. Keys written in camel case are hyphenated, as
/// Kestra's configuration loader does (`myKey` is `globals['my-key']`).
pub fn globals_from(doc: &Json) -> Result<Map<String, Json>, String> {
    let inner = doc
        .get("kestra")
        .and_then(|k| k.get("variables"))
        .and_then(|v| v.get("globals"))
        .unwrap_or(doc);
    match kebab_keys(inner) {
        Json::Object(m) => Ok(m),
        Json::Null => Ok(Map::new()),
        _ => Err("the globals file must hold a map (name: value)".into()),
    }
}

fn kebab_keys(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (kebab(k), kebab_keys(v))).collect()),
        Json::Array(a) => Json::Array(a.iter().map(kebab_keys).collect()),
        other => other.clone(),
    }
}

/// `myKey` -> `my-key`; other names unchanged.
fn kebab(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 2);
    for (i, c) in k.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Kestra's `labels`: a label `a.b: x` is nested (`labels.a.b`), as `Label.toNestedMap` does.
pub fn labels_map<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> Json {
    let mut root = Map::new();
    for (k, v) in labels {
        let parts: Vec<&str> = k.split('.').collect();
        let mut at = &mut root;
        for p in &parts[..parts.len() - 1] {
            let e = at
                .entry(p.to_string())
                .or_insert_with(|| Json::Object(Map::new()));
            if !e.is_object() {
                *e = Json::Object(Map::new());
            }
            at = e.as_object_mut().expect("made an object above");
        }
        at.insert(parts[parts.len() - 1].to_string(), Json::String(v.clone()));
    }
    Json::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envs_take_the_prefix_off_and_lower_the_name() {
        let e = envs_from([
            ("ENV_MY_VAR".to_string(), "1".to_string()),
            ("ENV_".to_string(), "no name".to_string()),
            ("env_lower".to_string(), "not ours".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ]);
        assert_eq!(e, BTreeMap::from([("my_var".to_string(), "1".to_string())]));
    }

    #[test]
    fn globals_read_a_map_or_kestras_configuration() {
        let plain = json!({"region": "eu", "dbHost": {"innerKey": 1}});
        let g = globals_from(&plain).unwrap();
        assert_eq!(
            Json::Object(g),
            json!({"region": "eu", "db-host": {"inner-key": 1}})
        );
        let conf = json!({"kestra": {"variables": {"globals": {"a": [1]}}}});
        assert_eq!(
            Json::Object(globals_from(&conf).unwrap()),
            json!({"a": [1]})
        );
        assert!(globals_from(&json!([1])).is_err());
        assert!(globals_from(&Json::Null).unwrap().is_empty());
    }

    #[test]
    fn dotted_labels_nest() {
        let l = BTreeMap::from([
            ("team".to_string(), "data".to_string()),
            ("app.tier".to_string(), "web".to_string()),
        ]);
        assert_eq!(
            labels_map(&l),
            json!({"team": "data", "app": {"tier": "web"}})
        );
    }
}
