//! `pluginDefaults` (and the older `taskDefaults`): default property values for every plugin of
//! a type, merged into the YAML tree before the flow is read, so that each task is checked and
//! decoded with its defaults in place, as Kestra's `PluginDefaultService` does.
//!
//! Kestra's rules, kept here:
//! - every map anywhere in the flow (tasks, nested tasks, `taskRunner`, triggers) that has a
//!   `type` gets the defaults whose `type` equals it or is a prefix of it (a default named by
//!   an old alias of a task type also matches the type's current name);
//! - defaults that are not `forced` are applied first, the task's own values winning; then the
//!   `forced` ones, which win over the task's (the last forced one listed applies first);
//! - values merge deeply (`MapUtils.deepMerge`): maps key by key, lists as the first list's
//!   items followed by the other's items it does not hold, a null value keeps the other side.
//!
//! Merged nodes keep the positions they have in the file, so an error in a default's value
//! points at the default's own line and column.

use crate::flow::reader::{Cx, Obj, as_seq};
use crate::flow::spec;
use crate::flow::yaml::{Node, Value};

/// The two names of the property, the current one first.
pub const KEYS: [&str; 2] = ["pluginDefaults", "taskDefaults"];

/// One default, as read from the flow.
#[derive(Debug, Clone)]
pub struct PluginDefault {
    pub ty: String,
    pub forced: bool,
    pub values: Node,
}

/// Reads the flow's defaults (reporting malformed ones) and returns the tree with them merged.
pub fn apply(cx: &mut Cx, root: &Node) -> Node {
    let defaults = read(cx, root);
    if defaults.is_empty() {
        return root.clone();
    }
    merge_all(root, &defaults)
}

/// The flow's defaults in file order: `pluginDefaults`, then `taskDefaults`.
pub fn read(cx: &mut Cx, root: &Node) -> Vec<PluginDefault> {
    let Value::Map(entries) = &root.value else {
        return vec![];
    };
    let mut out = Vec::new();
    for key in KEYS {
        let Some((_, list)) = entries.iter().find(|(k, _)| k.scalar() == Some(key)) else {
            continue;
        };
        if list.is_null() {
            continue;
        }
        let Some(items) = as_seq(cx, list, key) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("{key}[{i}]");
            let Some(mut o) = Obj::new(cx, item, &path) else {
                continue;
            };
            let ty = o.need_string(cx, "type");
            let forced = o.bool(cx, "forced").unwrap_or(false);
            let values = o.need(cx, "values");
            if let Some(v) = values
                && !matches!(v.value, Value::Map(_))
            {
                cx.error(
                    v.pos,
                    &o.key_path("values"),
                    format!("expected a map of properties, found {}", v.kind()),
                );
            }
            let values = values.filter(|v| matches!(v.value, Value::Map(_))).cloned();
            o.finish_described(cx, &spec::PLUGIN_DEFAULT);
            if let (Some(ty), Some(values)) = (ty, values) {
                out.push(PluginDefault { ty, forced, values });
            }
        }
    }
    out
}

/// Whether a default named `default_ty` applies to a plugin of type `plugin_ty`.
pub fn matches(default_ty: &str, plugin_ty: &str) -> bool {
    let canonical = spec::canonical_task_type(default_ty);
    [default_ty, canonical]
        .iter()
        .any(|d| plugin_ty == *d || plugin_ty.starts_with(d))
}

/// The tree with `defaults` merged into every map that has a `type` (the defaults' own list is
/// left as it is).
pub fn merge_all(root: &Node, defaults: &[PluginDefault]) -> Node {
    let (plain, mut forced): (Vec<&PluginDefault>, Vec<&PluginDefault>) =
        defaults.iter().partition(|d| !d.forced);
    // Kestra reverses the forced ones: the one listed first is merged last and wins.
    forced.reverse();
    match &root.value {
        Value::Map(entries) => Node {
            pos: root.pos,
            value: Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        if k.scalar().is_some_and(|k| KEYS.contains(&k)) {
                            (k.clone(), v.clone())
                        } else {
                            (k.clone(), walk(v, &plain, &forced))
                        }
                    })
                    .collect(),
            ),
        },
        _ => root.clone(),
    }
}

fn walk(n: &Node, plain: &[&PluginDefault], forced: &[&PluginDefault]) -> Node {
    match &n.value {
        Value::Seq(items) => Node {
            pos: n.pos,
            value: Value::Seq(items.iter().map(|i| walk(i, plain, forced)).collect()),
        },
        Value::Map(entries) => {
            // Children first, as Kestra does: a default's own values are not walked again.
            let mut out = Node {
                pos: n.pos,
                value: Value::Map(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), walk(v, plain, forced)))
                        .collect(),
                ),
            };
            let Some(ty) = type_of(&out) else {
                return out;
            };
            for d in plain.iter().filter(|d| matches(&d.ty, &ty)) {
                out = deep_merge(&values_for(d, &ty), &out, n.pos);
            }
            for d in forced.iter().filter(|d| matches(&d.ty, &ty)) {
                out = deep_merge(&out, &values_for(d, &ty), n.pos);
            }
            out
        }
        Value::Scalar { .. } => n.clone(),
    }
}

/// The values of `d` for a plugin of type `ty`. A default that reaches the plugin by a prefix
/// (`io.kestra.plugin.scripts` reaches script tasks and their Docker task runner alike) gives
/// only the properties that type has, as Kestra, which cannot check a prefix default against
/// one plugin, does not fail a plugin over another's property. A default naming the type
/// itself gives everything, and a property the type lacks is an error at its line.
fn values_for(d: &PluginDefault, ty: &str) -> Node {
    let exact = d.ty == ty || spec::canonical_task_type(&d.ty) == ty;
    let known: Option<Vec<&str>> = if ty == crate::flow::model::DOCKER_RUNNER_TYPE {
        Some(spec::RUNNER.properties().map(|p| p.name).collect())
    } else {
        spec::task_type(ty).map(|t| t.object.properties().map(|p| p.name).collect())
    };
    match (&d.values.value, known) {
        (Value::Map(entries), Some(known)) if !exact => Node {
            pos: d.values.pos,
            value: Value::Map(
                entries
                    .iter()
                    .filter(|(k, _)| k.scalar().is_some_and(|k| known.contains(&k)))
                    .cloned()
                    .collect(),
            ),
        },
        _ => d.values.clone(),
    }
}

fn type_of(n: &Node) -> Option<String> {
    let Value::Map(entries) = &n.value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.scalar() == Some("type"))
        .and_then(|(_, v)| match &v.value {
            Value::Scalar { text, .. } if !v.is_null() => Some(text.clone()),
            _ => None,
        })
}

/// Kestra's `MapUtils.deepMerge(a, b)`: `b` wins, maps merge key by key, lists are `a`'s items
/// then `b`'s that `a` lacks; a null in `b` keeps `a`'s value. The result stands at `pos`.
pub fn deep_merge(a: &Node, b: &Node, pos: crate::diag::Pos) -> Node {
    let (Value::Map(ea), Value::Map(eb)) = (&a.value, &b.value) else {
        return b.clone();
    };
    let mut out: Vec<(Node, Node)> = ea.clone();
    for (kb, vb) in eb {
        let found = out
            .iter()
            .position(|(ka, _)| ka.scalar().is_some() && ka.scalar() == kb.scalar());
        match found {
            None => out.push((kb.clone(), vb.clone())),
            Some(_) if vb.is_null() => {}
            Some(i) => {
                let (merged, from_b) = merge_values(&out[i].1, vb);
                // The key of the side whose value is kept: an error points at it.
                let key = if from_b { kb.clone() } else { out[i].0.clone() };
                out[i] = (key, merged);
            }
        }
    }
    Node {
        pos,
        value: Value::Map(out),
    }
}

/// The merged value, and whether it is `b`'s own (a scalar or a replaced value).
fn merge_values(a: &Node, b: &Node) -> (Node, bool) {
    if a.is_null() {
        return (b.clone(), true);
    }
    match (&a.value, &b.value) {
        (Value::Map(_), Value::Map(_)) => (deep_merge(a, b, a.pos), false),
        (Value::Seq(ia), Value::Seq(ib)) => {
            let json: Vec<serde_json::Value> = ia.iter().map(Node::to_json).collect();
            let mut items = ia.clone();
            items.extend(ib.iter().filter(|x| !json.contains(&x.to_json())).cloned());
            let node = Node {
                pos: a.pos,
                value: Value::Seq(items),
            };
            (node, false)
        }
        _ => (b.clone(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(text: &str) -> (serde_json::Value, Vec<String>) {
        let mut cx = Cx::new("f.yaml");
        let root = crate::flow::yaml::parse(text, &mut cx.diags).expect("yaml");
        let out = apply(&mut cx, &root);
        let mut j = out.to_json();
        for k in KEYS {
            j.as_object_mut().unwrap().remove(k);
        }
        (j, cx.diags.sorted().iter().map(|d| d.to_string()).collect())
    }

    fn tasks(text: &str) -> serde_json::Value {
        let (j, errs) = merged(text);
        assert!(errs.is_empty(), "{errs:?}");
        j["tasks"].clone()
    }

    const SH: &str = "io.kestra.plugin.scripts.shell.Commands";

    #[test]
    fn the_tasks_value_wins_unless_the_default_is_forced() {
        let t = tasks(&format!(
            "tasks:\n  - {{id: a, type: {SH}, containerImage: mine}}\n  - {{id: b, type: {SH}}}\npluginDefaults:\n  - type: {SH}\n    values: {{containerImage: theirs, env: {{A: '1'}}}}\n"
        ));
        assert_eq!(t[0]["containerImage"], "mine");
        assert_eq!(t[1]["containerImage"], "theirs");
        assert_eq!(t[0]["env"]["A"], "1");
        let t = tasks(&format!(
            "tasks:\n  - {{id: a, type: {SH}, containerImage: mine}}\npluginDefaults:\n  - type: {SH}\n    forced: true\n    values: {{containerImage: theirs}}\n"
        ));
        assert_eq!(t[0]["containerImage"], "theirs");
    }

    /// A prefix matches (as a string prefix, as Kestra's `startsWith`); another type does not.
    #[test]
    fn types_match_exactly_or_by_prefix() {
        let cases = [
            (SH, SH, true),
            ("io.kestra.plugin.scripts", SH, true),
            ("io.kestra.plugin.scripts.", SH, true),
            ("io.kestra.plugin.scripts.python", SH, false),
            ("io.kestra.plugin.scripts.shell.Commands.X", SH, false),
        ];
        for (d, p, want) in cases {
            assert_eq!(matches(d, p), want, "{d} on {p}");
        }
        // A default named by an old name of a task type matches the type's current name.
        for t in spec::task_types() {
            for a in t.aliases {
                assert!(matches(a, t.name), "{a} on {}", t.name);
            }
        }
    }

    /// Maps merge deeply; lists concatenate without repeating items, the task's first unless
    /// the default is forced; a null keeps the other side.
    #[test]
    fn values_merge_deeply() {
        let t = tasks(&format!(
            "tasks:\n  - id: a\n    type: {SH}\n    env: {{A: task, B: task}}\n    beforeCommands: [one, two]\n    taskRunner: {{type: io.kestra.plugin.scripts.runner.docker.Docker, memory: {{memory: 1g}}}}\npluginDefaults:\n  - type: {SH}\n    values:\n      env: {{B: default, C: default}}\n      beforeCommands: [zero, one]\n      taskRunner: {{memory: {{memorySwap: 2g}}, cpu: {{cpus: 1}}}}\n"
        ));
        assert_eq!(
            t[0]["env"],
            serde_json::json!({"A": "task", "B": "task", "C": "default"})
        );
        assert_eq!(
            t[0]["beforeCommands"],
            serde_json::json!(["zero", "one", "two"])
        );
        assert_eq!(
            t[0]["taskRunner"]["memory"],
            serde_json::json!({"memory": "1g", "memorySwap": "2g"})
        );
        assert_eq!(t[0]["taskRunner"]["cpu"]["cpus"], 1);
    }

    /// Nested tasks and task runners are plugins too.
    #[test]
    fn nested_plugins_and_task_runners_get_defaults() {
        let t = tasks(&format!(
            "tasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n      - id: a\n        type: {SH}\n        taskRunner: {{type: io.kestra.plugin.scripts.runner.docker.Docker}}\npluginDefaults:\n  - type: io.kestra.plugin.scripts.runner.docker.Docker\n    values: {{pullPolicy: NEVER}}\n  - type: io.kestra.plugin.core.flow.Parallel\n    values: {{concurrent: 2}}\n"
        ));
        assert_eq!(t[0]["concurrent"], 2);
        assert_eq!(t[0]["tasks"][0]["taskRunner"]["pullPolicy"], "NEVER");
        assert!(t[0]["tasks"][0].get("pullPolicy").is_none());
    }

    /// A prefix default gives a plugin only the properties its type has; a default naming the
    /// type gives all of its values (an unknown one is then reported where it is written).
    #[test]
    fn a_prefix_default_gives_only_the_properties_a_type_has() {
        let t = tasks(&format!(
            "tasks:\n  - id: a\n    type: {SH}\n    taskRunner: {{type: io.kestra.plugin.scripts.runner.docker.Docker}}\npluginDefaults:\n  - type: io.kestra.plugin.scripts\n    values: {{timeout: PT1M, pullPolicy: NEVER}}\n  - type: {SH}\n    values: {{bogus: 1}}\n"
        ));
        assert_eq!(t[0]["timeout"], "PT1M");
        assert!(t[0].get("pullPolicy").is_none());
        assert_eq!(t[0]["taskRunner"]["pullPolicy"], "NEVER");
        assert!(t[0]["taskRunner"].get("timeout").is_none());
        assert_eq!(t[0]["bogus"], 1);
    }

    /// The first forced default listed wins; of plain ones, the first listed wins too.
    #[test]
    fn order_among_defaults() {
        let t = tasks(&format!(
            "tasks:\n  - {{id: a, type: {SH}}}\npluginDefaults:\n  - {{type: {SH}, values: {{containerImage: one, user: a}}}}\n  - {{type: io.kestra, values: {{containerImage: two, timeout: PT1M}}}}\n  - {{type: {SH}, forced: true, values: {{user: f1}}}}\n  - {{type: io.kestra, forced: true, values: {{user: f2}}}}\ntaskDefaults:\n  - {{type: {SH}, values: {{description: old}}}}\n"
        ));
        assert_eq!(t[0]["containerImage"], "one");
        assert_eq!(t[0]["timeout"], "PT1M");
        assert_eq!(t[0]["user"], "f1");
        assert_eq!(t[0]["description"], "old");
    }

    #[test]
    fn malformed_defaults_are_reported() {
        let (_, errs) = merged(
            "tasks: []\npluginDefaults:\n  - values: {a: 1}\n  - {type: x, values: [1]}\n  - {type: x, values: {}, force: true}\n",
        );
        assert_eq!(
            errs,
            [
                "f.yaml:3:5: error: `pluginDefaults[0]`: missing required property `type`",
                "f.yaml:4:23: error: `pluginDefaults[1].values`: expected a map of properties, found a list",
                "f.yaml:5:27: error: `pluginDefaults[2].force`: unknown property `force` (did you mean `forced`?)",
            ]
        );
    }
}
