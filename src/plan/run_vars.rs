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
    /// The state the execution ended in, set once its tasks, `errors` and `finally` have
    /// ended: `afterExecution` sees it as `execution.state` (Kestra runs those tasks on the
    /// terminated execution, so `runIf: "{{ execution.state == 'FAILED' }}"` works there).
    /// Shared by every clone of the context, so it can be set while the run goes on.
    pub ended: std::sync::Arc<std::sync::OnceLock<String>>,
    /// The first execution of a resumed or restarted one; none before the run.
    pub original_id: Option<String>,
    /// Labels from the command line, over the flow's.
    pub labels: BTreeMap<String, String>,
    /// Kestra's `system.correlationId` label: the id of the execution that started the chain
    /// of subflows (none: this one's own id).
    pub correlation_id: Option<String>,
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

/// The `trigger.*` values given on the command line (a one-shot run starts no trigger):
/// `--trigger-json` (a JSON object) first, then each `--trigger KEY=VALUE`, a text, over it. A
/// dotted key nests (`--trigger body.id=7` is `trigger.body.id`).
pub fn trigger_from(
    pairs: &[(String, String)],
    json: Option<&str>,
) -> Result<Map<String, Json>, String> {
    let mut out = match json.map(serde_json::from_str::<Json>) {
        None => Map::new(),
        Some(Ok(Json::Object(m))) => m,
        Some(Ok(other)) => {
            return Err(format!(
                "--trigger-json must be a JSON object (NAME: value), not {other}"
            ));
        }
        Some(Err(e)) => return Err(format!("--trigger-json is not JSON: {e}")),
    };
    for (k, v) in pairs {
        let parts: Vec<&str> = k.split('.').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(format!("--trigger {k}=...: the name has an empty part"));
        }
        insert_dotted(&mut out, &parts, Json::String(v.clone()));
    }
    Ok(out)
}

/// Puts `value` at the path `parts` (`a.b` split) of `root`, making the maps on the way (a
/// value on the way that is not a map is replaced by one).
fn insert_dotted(root: &mut Map<String, Json>, parts: &[&str], value: Json) {
    let mut at = root;
    for p in &parts[..parts.len() - 1] {
        let e = at
            .entry(p.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if !e.is_object() {
            *e = Json::Object(Map::new());
        }
        at = e.as_object_mut().expect("made an object above");
    }
    at.insert(parts[parts.len() - 1].to_string(), value);
}

/// Kestra's `labels`: a label `a.b: x` is nested (`labels.a.b`), as `Label.toNestedMap` does.
pub fn labels_map<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> Json {
    let mut root = Map::new();
    for (k, v) in labels {
        let parts: Vec<&str> = k.split('.').collect();
        insert_dotted(&mut root, &parts, Json::String(v.clone()));
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
    fn trigger_values_from_pairs_and_json() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        type Case<'a> = (
            &'a [(String, String)],
            Option<&'a str>,
            Result<Json, &'a str>,
        );
        let cases: &[Case] = &[
            (&[], None, Ok(json!({}))),
            (
                &[p("date", "2026-01-01T00:00:00Z")],
                None,
                Ok(json!({"date": "2026-01-01T00:00:00Z"})),
            ),
            // JSON first, pairs over it; a dotted name nests.
            (
                &[p("date", "d2"), p("body.id", "7")],
                Some(r#"{"date": "d1", "next": "n", "body": {"x": 1}}"#),
                Ok(json!({"date": "d2", "next": "n", "body": {"x": 1, "id": "7"}})),
            ),
            (&[], Some("[1]"), Err("must be a JSON object")),
            (&[], Some("{"), Err("is not JSON")),
            (&[p("a..b", "1")], None, Err("empty part")),
        ];
        for (pairs, js, want) in cases {
            let got = trigger_from(pairs, *js).map(Json::Object);
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(&g, w, "{pairs:?} {js:?}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{e}"),
                (g, w) => panic!("{pairs:?} {js:?}: got {g:?}, want {w:?}"),
            }
        }
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
