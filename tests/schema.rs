//! The JSON Schema of the flow format (`dockhand schema`) against the reader (`flow::decode`):
//! the same property names for every object, a description on every property, and the same
//! verdict on flows (through the `jsonschema` crate).

use std::collections::{BTreeMap, BTreeSet};

use dockhand::diag::Diags;
use dockhand::flow::decode::known_properties;
use dockhand::flow::model::{
    COMMANDS_TYPE, DOCKER_RUNNER_TYPE, PARALLEL_TYPE, SCRIPT_TYPE, SEQUENTIAL_TYPE,
};
use dockhand::flow::spec::{self, Support};
use serde_json::Value;

/// Kestra properties that the schema lists although the reader does not read them: the reader
/// accepts them with a warning ("ignored by dockhand"), or, for the flow's `disabled`, only as
/// `false`. Taken from the description both are made from (`flow::spec`); what the reader does
/// with them is checked by `ignored_properties_say_so_and_the_reader_only_warns`.
fn extras(kind: &str) -> BTreeSet<String> {
    // A task's: those every task type has (a type's own ignored ones are its variant's).
    let objects: Vec<&spec::Object> = if kind == "task" {
        vec![&spec::TASK]
    } else {
        spec::objects()
            .into_iter()
            .filter(|o| o.kind == kind)
            .collect()
    };
    objects
        .into_iter()
        .flat_map(|o| o.properties())
        .filter(|p| {
            matches!(p.support, Support::Ignored(_))
                || (matches!(p.support, Support::Refused(_)) && matches!(p.ty, spec::Ty::OnlyFalse))
        })
        .map(|p| p.name.to_string())
        .collect()
}

/// The task types that run a container script, and docker Build/Push (`known_properties` reads
/// one task of each).
fn script_types() -> impl Iterator<Item = &'static spec::TaskType> {
    spec::task_types().filter(|t| {
        matches!(t.execution, spec::Execution::ContainerScript { .. })
            || spec::is_image_task(t.name)
    })
}

/// [`extras`] of one task type.
fn type_extras(t: &spec::TaskType) -> BTreeSet<String> {
    t.object
        .properties()
        .filter(|p| matches!(p.support, Support::Ignored(_)))
        .map(|p| p.name.to_string())
        .collect()
}

/// The properties every task type has (`read_task`), besides the ignored ones.
const COMMON_TASK: &[&str] = &[
    "id",
    "type",
    "description",
    "timeout",
    "allowFailure",
    "disabled",
    "runIf",
    "allowWarning",
    "retry",
    "taskCache",
];

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|s| s.to_string()).collect()
}

/// Follows local `$ref`s, the one-item `allOf` wrappers the schema puts around them and the
/// `anyOf: [X, null]` of optional properties.
fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    loop {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r
                .strip_prefix("#/definitions/")
                .unwrap_or_else(|| panic!("non-local $ref {r}"));
            s = &root["definitions"][name];
            assert!(!s.is_null(), "dangling $ref {r}");
        } else if s.get("properties").is_none()
            && let Some([one]) = s.get("allOf").and_then(Value::as_array).map(Vec::as_slice)
        {
            s = one;
        } else if s.get("properties").is_none()
            && let Some([a, b]) = s.get("anyOf").and_then(Value::as_array).map(Vec::as_slice)
            && (a["type"] == "null" || b["type"] == "null")
        {
            // An optional property may be null (the reader takes it as absent).
            s = if a["type"] == "null" { b } else { a };
        } else {
            return s;
        }
    }
}

fn prop<'a>(root: &'a Value, obj: &'a Value, name: &str) -> &'a Value {
    let p = &resolve(root, obj)["properties"][name];
    assert!(!p.is_null(), "the schema has no property `{name}`");
    resolve(root, p)
}

fn items<'a>(root: &'a Value, array: &'a Value) -> &'a Value {
    resolve(root, &array["items"])
}

fn names(obj: &Value) -> BTreeSet<String> {
    obj["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn task_variant<'a>(root: &'a Value, ty: &str) -> &'a Value {
    root["definitions"]["task"]["oneOf"]
        .as_array()
        .expect("task is a oneOf")
        .iter()
        .find(|v| {
            let t = &v["properties"]["type"];
            t["const"] == ty
                || t["enum"]
                    .as_array()
                    .is_some_and(|names| names.iter().any(|n| n == ty))
        })
        .unwrap_or_else(|| panic!("no task variant for {ty}"))
}

/// The schema object that describes one kind of `known_properties()`.
fn object_of<'a>(root: &'a Value, kind: &str) -> &'a Value {
    let runner = &root["definitions"]["taskRunner"];
    match kind {
        "flow" => root,
        "input" => items(root, prop(root, root, "inputs")),
        "pluginDefault" => items(root, prop(root, root, "pluginDefaults")),
        "flowOutput" => items(root, prop(root, root, "outputs")),
        "concurrency" => prop(root, root, "concurrency"),
        "taskRunner" => runner,
        "credentials" | "cpu" | "memory" => prop(root, runner, kind),
        "deviceRequest" => items(root, prop(root, runner, "deviceRequests")),
        _ => panic!(
            "the reader reads a new kind of object `{kind}`: describe it in src/schema.rs and map it here"
        ),
    }
}

#[test]
fn schema_properties_match_the_reader() {
    let root = dockhand::schema::schema();
    let known = known_properties();
    let kinds: BTreeSet<&str> = known.keys().copied().collect();
    assert_eq!(
        kinds,
        [
            "cpu",
            "credentials",
            "deviceRequest",
            "concurrency",
            "flow",
            "flowOutput",
            "input",
            "memory",
            "pluginDefault",
            "task",
            "taskRunner"
        ]
        .into_iter()
        .collect(),
        "known_properties() changed kinds: update the schema and this test"
    );
    for (kind, keys) in &known {
        let reader: BTreeSet<String> = keys.iter().map(|s| s.to_string()).collect();
        if *kind == "task" {
            // Every container script type's variant, less its ignored properties; together
            // they are what the reader reads (`known_properties` reads one task of each).
            let mut union = BTreeSet::new();
            for t in script_types() {
                let v = task_variant(&root, t.name);
                assert_eq!(v["additionalProperties"], false, "{}", t.name);
                let extras = type_extras(t);
                assert!(
                    extras.is_subset(&names(v)),
                    "{}: ignored task properties are listed",
                    t.name
                );
                union.extend(names(v).difference(&extras).cloned());
            }
            assert_eq!(union, reader, "task: schema (every script type) vs reader");
            continue;
        }
        let obj = object_of(&root, kind);
        assert_eq!(
            obj["additionalProperties"], false,
            "{kind}: the reader rejects unknown properties"
        );
        let schema = names(obj);
        assert!(
            extras(kind).is_subset(&schema),
            "{kind}: ignored properties are listed"
        );
        let schema: BTreeSet<String> = schema.difference(&extras(kind)).cloned().collect();
        assert_eq!(schema, reader, "{kind}: schema (left) vs reader (right)");
    }

    // Parallel and Sequential are not in known_properties(): the kitchen-sink test checks the
    // reader accepts every property listed here.
    let mut parallel = set(COMMON_TASK);
    parallel.extend(set(&["tasks", "concurrent", "errors", "finally"]));
    let mut sequential = set(COMMON_TASK);
    sequential.extend(set(&["tasks", "errors", "finally"]));
    for (ty, want) in [(PARALLEL_TYPE, parallel), (SEQUENTIAL_TYPE, sequential)] {
        let v = task_variant(&root, ty);
        assert_eq!(v["additionalProperties"], false);
        let got: BTreeSet<String> = names(v).difference(&extras("task")).cloned().collect();
        assert_eq!(got, want, "{ty}");
    }
    // The label list items of `labels`.
    let labels = &prop(&root, &root, "labels")["oneOf"][1]["items"];
    assert_eq!(names(labels), set(&["key", "value"]));
    assert_eq!(labels["additionalProperties"], false);
}

#[test]
fn every_property_has_a_description() {
    let root = dockhand::schema::schema();
    assert_eq!(root["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(root["$id"], dockhand::schema::SCHEMA_ID);
    assert!(root["title"].as_str().is_some_and(|t| !t.is_empty()));

    fn walk(s: &Value, path: &str, missing: &mut Vec<String>, count: &mut usize) {
        match s {
            Value::Object(m) => {
                for key in ["properties", "definitions"] {
                    if let Some(Value::Object(props)) = m.get(key) {
                        for (name, p) in props {
                            *count += 1;
                            if p["description"]
                                .as_str()
                                .is_none_or(|d| d.trim().is_empty())
                            {
                                missing.push(format!("{path}/{key}/{name}"));
                            }
                        }
                    }
                }
                for (k, v) in m {
                    walk(v, &format!("{path}/{k}"), missing, count);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{path}/{i}"), missing, count);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    let mut count = 0;
    walk(&root, "#", &mut missing, &mut count);
    assert!(count > 80, "walked only {count} properties");
    assert!(
        missing.is_empty(),
        "properties without a description: {missing:#?}"
    );
}

#[test]
fn ignored_properties_say_so_and_the_reader_only_warns() {
    let root = dockhand::schema::schema();
    let cases = [
        ("flow", "workerGroup", "workerGroup: {key: gpu}\n"),
        ("flow", "revision", "revision: 3\n"),
        ("flow", "tenantId", "tenantId: main\n"),
        ("flow", "deleted", "deleted: false\n"),
    ];
    for (kind, key, line) in cases {
        let obj = object_of(&root, kind);
        assert!(
            obj["properties"][key]["description"]
                .as_str()
                .unwrap()
                .starts_with("Ignored by dockhand"),
            "{key}"
        );
        let text = format!("{line}{}", flow(&commands_task("")));
        let warned = warnings(&text);
        assert!(
            warned.iter().any(|w| w.contains(&format!("`{key}`"))),
            "{key}: {warned:?}"
        );
    }
    for t in script_types() {
        for key in type_extras(t) {
            let v = task_variant(&root, t.name);
            assert!(
                v["properties"][&key]["description"]
                    .as_str()
                    .unwrap()
                    .starts_with("Ignored by dockhand"),
                "{}: {key}",
                t.name
            );
            // The type's required properties, from their examples.
            let needed: String = t
                .object
                .properties()
                .filter(|p| p.required && p.name != "id" && p.name != "type")
                .map(|p| {
                    // The body's examples read the kitchen sink's inputs and variables.
                    let v = match p.name {
                        "commands" => "[echo hi]",
                        "script" => "x",
                        _ => p.example.unwrap(),
                    };
                    format!("    {}: {v}\n", p.name)
                })
                .collect();
            let text = flow(&format!(
                "  - id: t\n    type: {}\n{needed}    {key}: x\n",
                t.name
            ));
            assert!(
                warnings(&text)
                    .iter()
                    .any(|w| w.contains(&format!("`{key}`"))),
                "{}: {key}",
                t.name
            );
        }
    }
    let runner = &root["definitions"]["taskRunner"];
    assert!(
        runner["properties"]["version"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Ignored by dockhand")
    );
    let text = flow(&commands_task(&format!(
        "taskRunner: {{type: {DOCKER_RUNNER_TYPE}, version: '1'}}\n"
    )));
    assert!(warnings(&text).iter().any(|w| w.contains("`version`")));
}

/// Warnings of a flow the reader accepts.
fn warnings(text: &str) -> Vec<String> {
    let loaded = dockhand::flow::load("x.yaml", text);
    assert!(!loaded.diags.has_errors(), "{}\n{text}", loaded.diags);
    loaded.diags.warnings().map(|d| d.to_string()).collect()
}

/// A flow around the given tasks (each item already indented as a list item at column 3).
fn flow(tasks: &str) -> String {
    format!("id: f\nnamespace: company.team\ntasks:\n{tasks}")
}

/// A Commands task with extra properties (one per line, unindented).
fn commands_task(extra: &str) -> String {
    let mut s = format!("  - id: t\n    type: {COMMANDS_TYPE}\n    commands: [echo hi]\n");
    for line in extra.lines() {
        s.push_str(&format!("    {line}\n"));
    }
    s
}

fn runner_task(extra: &str) -> String {
    let mut lines = format!("taskRunner:\n  type: {DOCKER_RUNNER_TYPE}\n");
    for line in extra.lines() {
        lines.push_str(&format!("  {line}\n"));
    }
    commands_task(&lines)
}

fn to_json(text: &str) -> Value {
    let mut diags = Diags::new("x");
    let node = dockhand::flow::yaml::parse(text, &mut diags)
        .unwrap_or_else(|| panic!("not YAML: {diags}\n{text}"));
    node.to_json()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&dockhand::schema::schema()).expect("the schema compiles")
}

fn schema_errors(v: &jsonschema::Validator, text: &str) -> Vec<String> {
    let instance = to_json(text);
    v.iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn reader_errors(text: &str) -> Vec<String> {
    dockhand::flow::load("x.yaml", text)
        .diags
        .errors()
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn schema_is_valid_draft_07() {
    let root = dockhand::schema::schema();
    if let Err(e) = jsonschema::meta::validate(&root) {
        panic!(
            "the schema is not valid draft-07: {e} at {}",
            e.instance_path()
        );
    }
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn centos_fixture_validates() {
    // Kestra's example (the fixture has been called both names).
    let path = ["kestra-centos.yaml", "centos.yaml"]
        .iter()
        .map(|f| fixtures().join(f))
        .find(|p| p.exists())
        .expect("the centos fixture");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(reader_errors(&text), Vec::<String>::new());
    assert_eq!(schema_errors(&validator(), &text), Vec::<String>::new());
}

/// The editor must not flag a flow dockhand accepts.
#[test]
fn every_fixture_the_reader_accepts_validates() {
    let v = validator();
    let mut checked = 0;
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if !reader_errors(&text).is_empty() {
            continue;
        }
        checked += 1;
        let errors = schema_errors(&v, &text);
        if !errors.is_empty() {
            bad.push(format!("{}: {errors:#?}", path.display()));
        }
    }
    assert!(checked > 0);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_misspelled_runner_property_is_flagged() {
    let text = flow(&runner_task("memroy: {memory: 512MB}\n"));
    let errors = schema_errors(&validator(), &text);
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| e.starts_with("/tasks/0")),
        "{errors:?}"
    );
    assert!(
        reader_errors(&text)
            .iter()
            .any(|e| e.contains("unknown property `memroy`"))
    );
}

/// Every property of every object, with valid values, built from the examples of the
/// description (`flow::spec`): the flow with each of its properties, one task of every task type
/// with each of its properties (a parent's child is a minimal script task), a runner with each
/// of its properties, and so on down. Refused properties are left out, except those with an
/// example (the flow's `disabled: false`).
fn kitchen_sink() -> String {
    let mut out = String::new();
    sink_object(&spec::FLOW, 0, None, &mut out);
    out
}

/// A task of the kitchen sink: its id, and whether it sets every property or only the required.
#[derive(Clone, Copy)]
struct SinkTask<'a> {
    id: &'a str,
    ty: &'static spec::TaskType,
    full: bool,
}

/// The properties of `object` as a YAML block map at `indent`.
fn sink_object(object: &spec::Object, indent: usize, task: Option<SinkTask>, out: &mut String) {
    let pad = " ".repeat(indent);
    for p in object.properties() {
        let set = match p.support {
            Support::Read => task.is_none_or(|t| t.full || p.required),
            Support::Ignored(_) => task.is_none_or(|t| t.full),
            Support::Refused(_) => p.example.is_some(),
        };
        if !set {
            continue;
        }
        let name = p.name;
        match (task, name, p.example, p.ty) {
            (Some(t), "id", _, _) => out.push_str(&format!("{pad}id: {}\n", t.id)),
            (Some(t), "type", _, _) => out.push_str(&format!("{pad}type: {}\n", t.ty.name)),
            (_, _, Some(e), _) => out.push_str(&format!("{pad}{name}: {e}\n")),
            (_, _, None, spec::Ty::Object(o)) => {
                out.push_str(&format!("{pad}{name}:\n"));
                sink_object(o, indent + 2, None, out);
            }
            (_, _, None, spec::Ty::Objects(o)) => {
                out.push_str(&format!("{pad}{name}:\n"));
                sink_item(indent + 2, out, |out| sink_object(o, indent + 4, None, out));
            }
            (_, _, None, spec::Ty::Tasks) => {
                out.push_str(&format!("{pad}{name}:\n"));
                let tasks: Vec<SinkTask> = match task {
                    // Every task type at the top, each with every property.
                    None => spec::task_types()
                        .map(|ty| SinkTask {
                            // The plugin and the type (`shell_Commands`, `python_Script`):
                            // the type alone repeats across the script languages.
                            id: {
                                let mut parts = ty.name.rsplit('.');
                                let (t, plugin) = (parts.next().unwrap(), parts.next().unwrap());
                                Box::leak(format!("{plugin}_{t}").into_boxed_str())
                            },
                            ty,
                            full: true,
                        })
                        .collect(),
                    // A parent's child: the first script type, with what it needs.
                    Some(_) => vec![SinkTask {
                        id: "child",
                        ty: spec::task_types()
                            .find(|t| {
                                matches!(t.execution, spec::Execution::ContainerScript { .. })
                            })
                            .unwrap(),
                        full: false,
                    }],
                };
                for t in tasks {
                    // A parent has several task lists (`then`, `else`, `errors`, ...): the
                    // child is named after its list.
                    let id = match task {
                        Some(parent) if name == "tasks" => format!("{}-{}", parent.id, t.id),
                        Some(parent) => format!("{}-{name}-{}", parent.id, t.id),
                        None => t.id.to_string(),
                    };
                    let t = SinkTask { id: &id, ..t };
                    sink_item(indent + 2, out, |out| {
                        sink_object(&t.ty.object, indent + 4, Some(t), out)
                    });
                }
            }
            _ => panic!("`{}.{name}` has no example in src/flow/spec/", object.kind),
        }
    }
}

/// One list item at `indent` whose map `body` writes at `indent + 2`.
fn sink_item(indent: usize, out: &mut String, body: impl FnOnce(&mut String)) {
    let mut item = String::new();
    body(&mut item);
    let inner = " ".repeat(indent + 2);
    let dash = format!("{}- ", " ".repeat(indent));
    out.push_str(&item.replacen(&inner, &dash, 1));
}

#[test]
fn kitchen_sink_sets_every_property_and_both_accept_it() {
    let text = kitchen_sink();
    assert_eq!(reader_errors(&text), Vec::<String>::new(), "{text}");
    assert_eq!(
        schema_errors(&validator(), &text),
        Vec::<String>::new(),
        "{text}"
    );

    let root = dockhand::schema::schema();
    let sink = to_json(&text);
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let tasks = sink["tasks"].as_array().unwrap();
    let mut checks: Vec<(&str, BTreeSet<String>, BTreeSet<String>)> = vec![
        ("flow", names(&root), keys(&sink)),
        (
            "input",
            names(object_of(&root, "input")),
            // Some properties belong to some input types only: the inputs together set all.
            sink["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(keys)
                .collect(),
        ),
    ];
    assert_eq!(tasks.len(), spec::task_types().count());
    for (t, ty) in tasks.iter().zip(spec::task_types()) {
        checks.push((ty.name, names(task_variant(&root, ty.name)), keys(t)));
    }
    let runner = tasks
        .iter()
        .map(|t| &t["taskRunner"])
        .find(|r| !r.is_null())
        .expect("a task with a runner");
    for (kind, value) in [
        ("taskRunner", runner),
        ("credentials", &runner["credentials"]),
        ("cpu", &runner["cpu"]),
        ("memory", &runner["memory"]),
        ("deviceRequest", &runner["deviceRequests"][0]),
    ] {
        checks.push((kind, names(object_of(&root, kind)), keys(value)));
    }
    for (kind, schema, sink) in checks {
        assert_eq!(
            schema, sink,
            "{kind}: schema (left) vs kitchen sink (right)\n{text}"
        );
    }
}

/// Flows on which the schema and the reader must agree: `true` = valid.
fn cases() -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut add = |text: String, ok: bool| out.push((text, ok));
    let t = |extra: &str| flow(&commands_task(extra));
    let r = |extra: &str| flow(&runner_task(extra));

    // Flow level.
    add(t(""), true);
    add("id: f\nnamespace: n\n".into(), false);
    add("id: f\nnamespace: n\ntasks: []\n".into(), false);
    add(
        format!("id: -f\nnamespace: n\ntasks:\n{}", commands_task("")),
        false,
    );
    add(
        format!("id: a.b_c-1\nnamespace: n\ntasks:\n{}", commands_task("")),
        true,
    );
    add(
        format!(
            "id: {}\nnamespace: n\ntasks:\n{}",
            "a".repeat(101),
            commands_task("")
        ),
        false,
    );
    add(
        format!("id: f\nnamespace: Company\ntasks:\n{}", commands_task("")),
        false,
    );
    add(format!("labels: [{{key: a, value: b}}]\n{}", t("")), true);
    add(format!("labels: [{{key: a}}]\n{}", t("")), false);
    add(
        format!("labels: [{{key: a, value: b, extra: c}}]\n{}", t("")),
        false,
    );
    add(format!("labels: {{a: b, n: 1}}\n{}", t("")), true);
    add(format!("variables: {{a: b, n: 1, e: }}\n{}", t("")), true);
    add(format!("variables: [a]\n{}", t("")), false);
    add(format!("disabled: false\n{}", t("")), true);
    add(format!("disabled: true\n{}", t("")), false);
    // Ignored (a warning), so valid for both.
    add(format!("triggers: [{{id: x}}]\n{}", t("")), true);
    add(format!("extend: {{title: x}}\n{}", t("")), true);
    for unsupported in ["errors: []", "retry: {type: constant}"] {
        add(format!("{unsupported}\n{}", t("")), false);
    }
    add(format!("descripton: x\n{}", t("")), false);
    add(
        format!("outputs: [{{id: o, type: INT, value: \"1\"}}]\n{}", t("")),
        true,
    );
    add(format!("outputs: [{{id: o, type: INT}}]\n{}", t("")), false);
    add(
        format!("concurrency: {{limit: 2, behavior: CANCEL}}\n{}", t("")),
        true,
    );
    add(format!("concurrency: {{limit: 0}}\n{}", t("")), false);
    add(
        format!("concurrency: {{behavior: WAIT, limit: 1}}\n{}", t("")),
        false,
    );
    // Plugin defaults: their own shape is checked by both; their values where they are merged.
    add(
        format!(
            "pluginDefaults: [{{type: io.kestra.plugin.scripts, values: {{timeout: PT1M}}, forced: true}}]\ntaskDefaults: []\n{}",
            t("")
        ),
        true,
    );
    add(
        format!("pluginDefaults: [{{values: {{}}}}]\n{}", t("")),
        false,
    );
    add(
        format!("pluginDefaults: [{{type: x, values: [1]}}]\n{}", t("")),
        false,
    );
    add(
        format!(
            "pluginDefaults: [{{type: x, values: {{}}, force: true}}]\n{}",
            t("")
        ),
        false,
    );

    // Inputs: Kestra's types, some of which dockhand does not take.
    // Kestra's 19 input types, all taken now.
    let kestra_types = spec::INPUT_TYPES;
    assert_eq!(kestra_types.len(), 19);
    for ty in kestra_types {
        let extra = match *ty {
            "MULTISELECT" => ", values: [a]",
            "ARRAY" => ", itemType: INT",
            _ => "",
        };
        add(
            format!("inputs: [{{id: x, type: {ty}{extra}}}]\n{}", t("")),
            true,
        );
    }
    add(
        format!("inputs: [{{name: x, type: STRING}}]\n{}", t("")),
        true,
    );
    add(format!("inputs: [{{id: x}}]\n{}", t("")), false);
    // A dotted input id nests, as Kestra's; a leading dot is not an id.
    add(
        format!("inputs: [{{id: x.y, type: STRING}}]\n{}", t("")),
        true,
    );
    add(
        format!("inputs: [{{id: .x, type: STRING}}]\n{}", t("")),
        false,
    );
    add(
        format!(
            "inputs: [{{id: x, type: SELECT, defaults: 1, required: false, values: [1, 2]}}]\n{}",
            t("")
        ),
        true,
    );
    add(
        format!(
            "inputs: [{{id: x, type: STRING, requird: false}}]\n{}",
            t("")
        ),
        false,
    );

    // Tasks.
    add(
        flow(&format!(
            "  - id: t\n    type: {COMMANDS_TYPE}\n    commands: []\n"
        )),
        false,
    );
    add(
        flow(&format!("  - id: t\n    type: {COMMANDS_TYPE}\n")),
        false,
    );
    add(
        flow(&format!(
            "  - id: t\n    type: {SCRIPT_TYPE}\n    script: \"  \"\n"
        )),
        false,
    );
    add(
        flow(&format!(
            "  - id: t\n    type: {SCRIPT_TYPE}\n    script: echo\n"
        )),
        true,
    );
    add(
        flow(&format!(
            "  - id: t\n    type: {SCRIPT_TYPE}\n    script: echo\n    commands: [echo]\n"
        )),
        false,
    );
    add(flow(&commands_task("script: echo")), false);
    add(
        flow("  - id: t\n    type: io.kestra.plugin.jdbc.duckdb.Query\n    sql: select 1\n"),
        false,
    );
    add(
        flow("  - id: t\n    type: io.kestra.plugin.scripts.python.Script\n    script: print(1)\n"),
        true,
    );
    add(
        flow(
            "  - id: t\n    type: io.kestra.plugin.scripts.python.Script\n    script: print(1)\n    dependencies: [requests]\n",
        ),
        true,
    );
    add(
        flow(
            "  - id: t\n    type: io.kestra.plugin.scripts.python.Script\n    script: print(1)\n    useUv: true\n",
        ),
        false,
    );
    add(flow("  - id: t\n    commands: [echo]\n"), false);
    add(
        flow(&format!(
            "  - type: {COMMANDS_TYPE}\n    commands: [echo]\n"
        )),
        false,
    );
    add(
        flow(&format!(
            "  - id: a.b\n    type: {COMMANDS_TYPE}\n    commands: [echo]\n"
        )),
        false,
    );
    let child = format!("      - id: c\n        type: {COMMANDS_TYPE}\n        commands: [echo]\n");
    add(
        flow(&format!(
            "  - id: p\n    type: {PARALLEL_TYPE}\n    concurrent: 2\n    tasks:\n{child}"
        )),
        true,
    );
    add(
        flow(&format!(
            "  - id: p\n    type: {PARALLEL_TYPE}\n    concurrent: -1\n    tasks:\n{child}"
        )),
        false,
    );
    add(
        flow(&format!(
            "  - id: p\n    type: {PARALLEL_TYPE}\n    tasks: []\n"
        )),
        false,
    );
    add(
        flow(&format!(
            "  - id: p\n    type: {PARALLEL_TYPE}\n    containerImage: x\n    tasks:\n{child}"
        )),
        false,
    );
    add(
        flow(&format!(
            "  - id: s\n    type: {SEQUENTIAL_TYPE}\n    tasks:\n{child}"
        )),
        true,
    );
    add(
        flow(&format!(
            "  - id: s\n    type: {SEQUENTIAL_TYPE}\n    concurrent: 1\n    tasks:\n{child}"
        )),
        false,
    );
    add(
        flow(&format!(
            "  - id: s\n    type: {SEQUENTIAL_TYPE}\n    tasks:\n      - id: c\n        type: {COMMANDS_TYPE}\n        comands: [echo]\n"
        )),
        false,
    );
    // Flow control on a task (a constant retry needs its interval).
    add(t("runIf: x"), true);
    add(
        t("retry: {type: constant, interval: PT1S, maxAttempt: 3}"),
        true,
    );
    add(t("retry: {type: random, minInterval: PT1S}"), false);
    for unsupported in ["retry: {type: constant}", "outputDirectory: true"] {
        add(t(unsupported), false);
    }
    // Kestra's older runner forms (accepted with a warning).
    add(t("docker: {image: x}"), true);
    add(t("runner: DOCKER"), true);
    add(t("runner: PROCESS"), true);
    add(t("runner: SSH"), false);
    add(t("namespaceFiles: {enabled: true, include: [a/**]}"), true);
    add(t("namespaceFiles: {ifExists: SOMETIMES}"), false);
    add(t("docker: {image: \"a b\"}"), false);
    add(t("interpreter: []"), true);
    add(t("failFast: false"), true);
    add(t("failFast: maybe"), false);
    add(t("allowFailure: true"), true);
    add(t("env: {GOOD_1: x, _x: y}"), true);
    add(t("env: {1BAD: x}"), false);
    add(t("env: {A-B: x}"), false);
    add(t("env: [A=1]"), false);
    for (name, ok) in [
        ("a.txt", true),
        ("dir/a.txt", true),
        (".hidden", true),
        ("a/..b/c", true),
        ("...", true),
        ("../a", false),
        ("a/../b", false),
        ("a/..", false),
        ("/abs", false),
        ("..", false),
    ] {
        add(t(&format!("inputFiles: {{\"{name}\": x}}")), ok);
        add(t(&format!("outputFiles: [\"{name}\"]")), ok);
    }
    for (d, ok) in [
        ("PT30S", true),
        ("PT5M", true),
        ("PT1H30M", true),
        ("P1DT2H", true),
        ("pt5m", true),
        ("PT0.5S", true),
        ("PT1,5S", true),
        ("P1D", true),
        ("PT0S", true),
        ("PT1.S", true),
        ("+PT5M", true),
        ("PT", false),
        ("P", false),
        ("5m", false),
        ("P1W", false),
        ("P1M", false),
        ("P1Y", false),
        ("PT1.5M", false),
        ("PT1H1H", false),
        ("PT1M1H", false),
        ("-PT5M", false),
        ("P1DT", false),
        ("PT1.1234567891S", false),
        ("PT1D", false),
        ("P1H", false),
    ] {
        // A zero timeout is refused by the reader only (a pattern cannot say "not zero").
        if d != "PT0S" {
            add(t(&format!("timeout: \"{d}\"")), ok);
        }
        add(r(&format!("killGracePeriod: \"{d}\"")), ok);
    }
    add(t("containerImage: \"ubuntu 22\""), false);

    // Task runner.
    add(r(""), true);
    add(
        flow(&commands_task(
            "taskRunner: {type: io.kestra.plugin.core.runner.Process}",
        )),
        true,
    );
    add(
        flow(&commands_task(
            "taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}",
        )),
        false,
    );
    add(flow(&commands_task("taskRunner: {cpu: {cpus: 1}}")), false);
    add(r("memroy: {memory: 1GB}"), false);
    for (size, ok) in [
        ("512MB", true),
        ("1GB", true),
        ("512m", true),
        ("1g", true),
        ("100k", true),
        ("512MiB", true),
        ("1.5GB", true),
        ("10B", true),
        ("\"1024\"", true),
        ("1024", true),
        ("1 GB", true),
        ("2tb", true),
        ("0", true),
        ("512XB", false),
        ("-1", false),
        ("MB", false),
        ("1..5GB", false),
        (".5GB", false),
        ("1.GB", false),
        ("\"\"", false),
        ("[1]", false),
    ] {
        add(r(&format!("memory: {{memory: {size}}}")), ok);
        add(r(&format!("shmSize: {size}")), ok);
    }
    for (swap, ok) in [
        ("-1", true),
        ("\"-1\"", true),
        ("2GB", true),
        ("-2", false),
        ("-1GB", false),
    ] {
        add(r(&format!("memory: {{memorySwap: {swap}}}")), ok);
    }
    for (v, ok) in [
        ("0", true),
        ("100", true),
        ("101", false),
        ("-1", false),
        ("x", false),
    ] {
        add(r(&format!("memory: {{memorySwappiness: {v}}}")), ok);
    }
    add(
        r("memory: {oomKillDisable: true, kernelMemory: 1GB, memoryReservation: 1g}"),
        true,
    );
    add(r("memory: {swap: 1g}"), false);
    for (v, ok) in [
        ("1", true),
        ("0.5", true),
        ("0", false),
        ("-1", false),
        ("x", false),
    ] {
        add(r(&format!("cpu: {{cpus: {v}}}")), ok);
    }
    add(r("cpu: {cpu: 1}"), false);
    for (v, ok) in [
        ("IF_NOT_PRESENT", true),
        ("ALWAYS", true),
        ("NEVER", true),
        ("always", false),
        ("SOMETIMES", false),
    ] {
        add(r(&format!("pullPolicy: {v}")), ok);
    }
    for (v, ok) in [("VOLUME", true), ("MOUNT", true), ("COPY", false)] {
        add(r(&format!("fileHandlingStrategy: {v}")), ok);
    }
    for (v, ok) in [
        ("/data:/data", true),
        ("/data:/data:ro", true),
        ("vol:/data:ro,z", true),
        ("/data", false),
        ("/a:b", false),
        ("/a:/b:xx", false),
        (":/b", false),
        ("/a:/b:ro:z", false),
    ] {
        add(r(&format!("volumes: [\"{v}\"]")), ok);
    }
    add(
        r("config: '{\"auths\": {\"ghcr.io\": {\"auth\": \"x\"}}}'"),
        true,
    );
    add(
        r(
            "config: {auths: {ghcr.io: {auth: x}}, credHelpers: {gcr.io: gcloud}, insecure-registries: [\"10.0.0.1:5000\", \"[::1]:5000\", reg.local]}",
        ),
        true,
    );
    add(r("config: {insecure-registries: [\"http://reg\"]}"), false);
    add(r("config: [a]"), false);
    add(r("credentials: {username: u, password: p}"), true);
    add(r("credentials: {user: u}"), false);
    add(r("deviceRequests: [{count: 1, deviceIds: [\"0\"]}]"), false);
    add(r("deviceRequests: [{count: 1, deviceIds: []}]"), true);
    // The kitchen sink's `deviceIds` is empty (it sets `count` too): ids of both kinds here.
    add(r("deviceRequests: [{deviceIds: [0, \"1\"]}]"), true);
    add(r("deviceRequests: [{count: all}]"), false);
    add(r("deviceRequests: [{capabilities: [gpu]}]"), false);
    add(
        r("deviceRequests: [{driver: nvidia, count: 2, capabilities: [[gpu]], options: {x: y}}]"),
        true,
    );
    add(r("deviceRequests: [{drivr: nvidia}]"), false);
    add(r("entryPoint: [/bin/sh, -c]"), true);
    add(r("entryPoint: /bin/sh"), false);
    add(r("user: \"1000:1000\""), true);
    add(r("user: [a]"), false);
    add(r("privileged: true"), true);
    add(r("delete: false\nwait: false\nresume: false"), true);
    add(r("delete: nope"), false);
    add(r("version: 2"), true);
    out
}

#[test]
fn schema_and_reader_agree() {
    let v = validator();
    let mut disagree = Vec::new();
    for (text, ok) in cases() {
        let reader = reader_errors(&text);
        let schema = schema_errors(&v, &text);
        if reader.is_empty() != ok || schema.is_empty() != ok {
            disagree.push(format!(
                "expected {}:\n{text}reader: {reader:#?}\nschema: {schema:#?}\n",
                if ok { "valid" } else { "invalid" }
            ));
        }
    }
    assert!(
        disagree.is_empty(),
        "{} case(s) disagree:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
}

#[test]
fn registry_pattern_matches_the_reader() {
    let root = dockhand::schema::schema();
    let config = prop(&root, &root["definitions"]["taskRunner"], "config");
    let pattern = config["oneOf"][1]["properties"]["insecure-registries"]["items"]["pattern"]
        .as_str()
        .unwrap();
    let re = regex::Regex::new(pattern).unwrap();
    for s in [
        "10.10.1.5:5000",
        "reg.local",
        "[::1]:5000",
        "10.0.0.0/8",
        "http://x",
        "a b",
        "-x",
        "x:",
        "",
    ] {
        assert_eq!(
            re.is_match(s),
            dockhand::flow::decode::check_registry_host(s).is_ok(),
            "{s}"
        );
    }
}

#[test]
fn defaults_are_kestras() {
    let root = dockhand::schema::schema();
    let runner = &root["definitions"]["taskRunner"]["properties"];
    let want: BTreeMap<&str, Value> = [
        ("entryPoint", serde_json::json!([""])),
        ("pullPolicy", "IF_NOT_PRESENT".into()),
        ("fileHandlingStrategy", "VOLUME".into()),
        ("delete", true.into()),
        ("wait", true.into()),
        ("killGracePeriod", "PT0S".into()),
        ("resume", true.into()),
    ]
    .into_iter()
    .collect();
    for (k, v) in want {
        assert_eq!(runner[k]["default"], v, "taskRunner.{k}");
    }
    let commands = &task_variant(&root, COMMANDS_TYPE)["properties"];
    assert_eq!(commands["containerImage"]["default"], "ubuntu");
    assert_eq!(
        commands["interpreter"]["default"],
        serde_json::json!(["/bin/sh", "-c"])
    );
    assert_eq!(commands["failFast"]["default"], true);
    assert_eq!(runner["type"]["enum"][0], DOCKER_RUNNER_TYPE);
    assert_eq!(
        runner["type"]["enum"][1],
        dockhand::flow::model::PROCESS_RUNNER_TYPE
    );
    assert_eq!(
        root["definitions"]["taskRunner"]["required"],
        serde_json::json!(["type"])
    );
}

#[test]
fn schema_subcommand_prints_the_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(printed, dockhand::schema::schema());
}

/// The description (`flow::spec`) names exactly the properties the reader reads, for every kind
/// of object, and the ignored/refused ones are those the reader warns about / refuses.
#[test]
fn the_spec_lists_what_the_reader_reads() {
    let known = known_properties();
    for (kind, keys) in &known {
        let reader: BTreeSet<String> = keys.iter().map(|s| s.to_string()).collect();
        let described: BTreeSet<String> = spec::objects()
            .into_iter()
            .filter(|o| o.kind == *kind)
            // Flowable types (Parallel, Sequential, If, ...) and Subflow are not read by
            // known_properties().
            .filter(|o| {
                *kind != "task"
                    || !o.properties().any(|p| {
                        p.name == "flowId"
                            || p.name == "pauseDuration"
                            || matches!(
                                p.ty,
                                spec::Ty::Tasks | spec::Ty::DagTasks | spec::Ty::TaskCases
                            )
                    })
            })
            .flat_map(|o| o.properties())
            .filter(|p| p.support == Support::Read)
            .map(|p| p.name.to_string())
            .collect();
        assert_eq!(described, reader, "{kind}: spec (left) vs reader (right)");
    }
    // Refused properties are errors naming the reason; ignored ones warnings.
    for (p, text) in [
        (
            "checks",
            "id: f\nnamespace: n\nchecks: []\ntasks: [{id: t, type: io.kestra.plugin.scripts.shell.Script, script: x}]\n",
        ),
        (
            "outputDirectory",
            "id: f\nnamespace: n\ntasks: [{id: t, type: io.kestra.plugin.scripts.shell.Script, script: x, outputDirectory: true}]\n",
        ),
    ] {
        let why = spec::FLOW
            .properties()
            .chain(spec::TASK.properties())
            .find_map(|q| match q.support {
                Support::Refused(why) if q.name == p => Some(why),
                _ => None,
            })
            .unwrap();
        assert!(
            reader_errors(text).iter().any(|e| e.contains(why)),
            "{p}: {:?}",
            reader_errors(text)
        );
    }
}

/// The reader reads YAML scalars as text and parses them itself, and takes `key: null` as an
/// absent key: every such flow it runs, the schema accepts too.
#[test]
fn scalars_the_reader_takes_validate() {
    let v = validator();
    let runner = "type: io.kestra.plugin.scripts.runner.docker.Docker";
    let script_task = |extra: &str| {
        format!(
            "id: f\nnamespace: n\ntasks:\n  - id: t\n    type: {COMMANDS_TYPE}\n    commands: [x]\n{extra}"
        )
    };
    let in_runner = |extra: &str| script_task(&format!("    taskRunner: {{{runner}, {extra}}}\n"));
    let mut flows: Vec<String> = [
        "    beforeCommands: [42, true]\n",
        "    beforeCommands: [1]\n    outputFiles: [1, out.txt]\n",
        "    description: 1\n",
        "    containerImage: 1\n",
        "    allowFailure: 'true'\n    disabled: False\n    failFast: TRUE\n",
        "    inputFiles: {a.txt: 1, b.txt: null}\n    env: {A: 1.5, B: true, C: null}\n",
        "    description: null\n    timeout: ~\n    env:\n    taskRunner:\n",
    ]
    .iter()
    .map(|e| script_task(e))
    .collect();
    flows.extend(
        [
            "cpu: {cpus: '1.5'}",
            "memory: {memorySwappiness: '10', memory: 512, memorySwap: '-1'}",
            "delete: 'false', wait: True, privileged: FALSE",
            "portBindings: [8080]",
            "shmSize: 1.5",
            "deviceRequests: [{count: '2', deviceIds: []}]",
            "credentials: {username: 1, password: 2}",
            "networkMode: 1, host: 1, user: 1000",
            "volumes: null, config: null",
        ]
        .iter()
        .map(|e| in_runner(e)),
    );
    flows.extend([
        format!("id: 1\nnamespace: 2\ntasks: [{{id: 3, type: {SEQUENTIAL_TYPE}, tasks: [{{id: u, type: {SCRIPT_TYPE}, script: 1}}]}}]\n"),
        format!("id: f\nnamespace: n\ndescription: 1\nlabels: [{{key: 1, value: 2}}]\nvariables: {{a: 1}}\ntasks: [{{id: t, type: {SCRIPT_TYPE}, script: x}}]\n"),
        format!("id: f\nnamespace: n\ninputs: [{{id: a, type: STRING, defaults: null, required: 'false'}}]\ntasks: [{{id: t, type: {SCRIPT_TYPE}, script: x}}]\n"),
        format!("id: f\nnamespace: n\ntasks: [{{id: t, type: {PARALLEL_TYPE}, concurrent: '2', tasks: [{{id: u, type: {SCRIPT_TYPE}, script: x}}]}}]\n"),
        format!("id: f\nnamespace: n\ndisabled: False\ndescription:\ntasks: [{{id: t, type: {SCRIPT_TYPE}, script: x}}]\n"),
    ]);
    let mut bad = Vec::new();
    for text in &flows {
        assert_eq!(
            reader_errors(text),
            Vec::<String>::new(),
            "the reader takes\n{text}"
        );
        let e = schema_errors(&v, text);
        if !e.is_empty() {
            bad.push(format!("{text}{e:#?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "the reader takes these, the schema does not:\n{}",
        bad.join("\n")
    );
}

/// The runner defaults the description states (and the schema shows) are the model's: a runner
/// that sets every defaulted property to its stated default reads as one that sets none.
#[test]
fn runner_defaults_are_the_models() {
    let mut lines = String::new();
    for p in spec::RUNNER.properties() {
        if let (Some(d), Support::Read, false) = (p.default, p.support, p.required) {
            lines.push_str(&format!("{}: {d}\n", p.name));
        }
    }
    assert!(lines.lines().count() >= 5, "{lines}");
    let runner = |extra: &str| {
        let loaded = dockhand::flow::load("x.yaml", &flow(&runner_task(extra)));
        assert!(!loaded.diags.has_errors(), "{}\n{extra}", loaded.diags);
        match loaded.flow.unwrap().tasks.remove(0).kind {
            dockhand::flow::model::TaskKind::Script(s) => s.runner,
            _ => unreachable!(),
        }
    };
    assert_eq!(runner(&lines), runner(""), "{lines}");
    assert_eq!(runner(""), dockhand::flow::model::DockerRunner::default());
}
