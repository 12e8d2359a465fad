//! The JSON Schema (draft-07) of the flow format that dockhand reads, for editor completion and
//! validation (`dockhand schema`, e.g. with the VS Code YAML extension).
//!
//! It is generated from [`crate::flow::spec`], the description of the flow format the reader
//! (`flow::decode`) also takes its names, patterns, enumerations and ignored/refused reasons from:
//! every object the reader checks for unknown keys has `additionalProperties: false` and the
//! properties the spec lists (`tests/schema.rs` compares them with what the reader asks for,
//! [`crate::flow::decode::known_properties`]). Kestra properties that dockhand refuses are left
//! out so the editor flags them; the ones it accepts and ignores (a warning) are listed with a
//! description saying so. What stays here is how a value type is drawn in JSON Schema: the size
//! and duration grammars of `units`, path and volume rules.
//!
//! Strings: the reader takes any scalar where it wants text (`user: 1000`), so values that are
//! often written as numbers (map values, input defaults, user, device ids) accept numbers and
//! booleans too.

use serde_json::{Map, Value, json};

use crate::flow::spec::{self, Names, Object, Property, Support, Ty};

pub const SCHEMA_ID: &str = "https://dockhand.dev/schema/flow.json";

/// `units::parse_size`: a number with an optional 1024-based unit, any letter case.
fn size_pattern(alt: &str) -> String {
    format!(r"^\s*({alt}[0-9]+(\.[0-9]+)?\s*([bB]|[kKmMgGtT]([iI]?[bB])?)?)\s*$")
}

/// `units::parse_duration` (`java.time.Duration.parse` without negatives): `P[nD][T[nH][nM][n[.f]S]]`
/// with at least one component, written without lookaheads so every regex engine takes it.
fn duration_pattern() -> String {
    let n = r"\+?[0-9]+";
    let secs = format!(r"{n}([.,][0-9]{{0,9}})?[sS]");
    let time = format!(r"[tT]({n}[hH]({n}[mM])?({secs})?|{n}[mM]({secs})?|{secs})");
    format!(r"^\s*\+?[pP]({n}[dD]({time})?|{time})\s*$")
}

/// `decode::check_relative`: not empty, not absolute, no `..` component.
fn relative_path_pattern() -> String {
    let first = r"(\.|[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)";
    let any = r"(|\.|[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)";
    format!("^{first}(/{any})*$")
}

/// `decode::check_volume`: `SOURCE:DESTINATION[:OPTIONS]`.
fn volume_pattern() -> String {
    let opt = format!("({})", spec::VOLUME_OPTIONS.join("|"));
    format!("^[^:]+:/[^:]*(:{opt}(,{opt})*)?$")
}

/// Attaches a description to a schema.
fn d(description: &str, mut schema: Value) -> Value {
    schema["description"] = Value::String(description.to_string());
    schema
}

/// A reference to a definition, with its own description (draft-07 ignores siblings of `$ref`,
/// hence the `allOf`).
fn r(description: &str, name: &str) -> Value {
    json!({ "description": description, "allOf": [{ "$ref": format!("#/definitions/{name}") }] })
}

/// A scalar whose text matches `pattern` (numbers and booleans are read as their text, which
/// the pattern cannot see).
fn scalar_pat(pattern: impl Into<String>, message: &str) -> Value {
    let mut s = pat(pattern, message);
    s["type"] = json!(SCALAR);
    s
}

/// A string matching `pattern`, with the message editors show instead of the regex
/// (`patternErrorMessage`, understood by the VS Code YAML and JSON extensions).
fn pat(pattern: impl Into<String>, message: &str) -> Value {
    json!({ "type": "string", "pattern": pattern.into(), "patternErrorMessage": message })
}

/// A Kestra property that dockhand accepts and ignores (the reader warns).
fn ignored(why: &str) -> Value {
    let msg = format!("Ignored by dockhand: {why}.");
    json!({ "description": msg, "deprecationMessage": msg })
}

fn object(properties: Value, required: &[&str]) -> Value {
    let mut o =
        json!({ "type": "object", "properties": properties, "additionalProperties": false });
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// The JSON Schema of a flow file, drawn from [`spec`]: its objects, properties, docs,
/// defaults, patterns and enumerations, and which properties are ignored (listed, saying so)
/// or refused (left out, so the editor flags them).
pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": spec::FLOW.title,
        "description": spec::FLOW.doc,
        "type": "object",
        "required": required(&spec::FLOW),
        "additionalProperties": false,
        "properties": properties(&spec::FLOW),
        "definitions": definitions(),
    })
}

fn required(o: &Object) -> Vec<&'static str> {
    o.properties()
        .filter(|p| p.required && p.support == Support::Read)
        .map(|p| p.name)
        .collect()
}

/// The schema of each property an object lists: what dockhand reads, what it ignores (with a
/// description saying so); not what it refuses, but for a refused value that may be `false`.
fn properties(o: &Object) -> Value {
    let mut m = Map::new();
    for p in o.properties() {
        let s = match p.support {
            Support::Read => property(p),
            Support::Ignored(why) => ignored(why),
            Support::Refused(_) if matches!(p.ty, Ty::OnlyFalse) => property(p),
            Support::Refused(_) => continue,
        };
        m.insert(p.name.to_string(), s);
    }
    Value::Object(m)
}

fn property(p: &Property) -> Value {
    let mut s = shape(p.ty, p.doc);
    // A typed property Kestra renders may be a template (`flow::typed_template`); a list's items
    // may each be one (checked once rendered).
    let object = matches!(p.ty, Ty::Object(_) | Ty::Objects(_));
    if let Some(kind) = crate::flow::typed_template::kind_of_key(p.name).filter(|_| !object) {
        let template = json!({ "type": "string", "pattern": TEMPLATE_TEXT });
        if kind == crate::flow::typed_template::Kind::List
            && let Some(items) = s.get_mut("items")
        {
            *items = json!({ "anyOf": [items.take(), template.clone()] });
        }
        s = json!({ "description": p.doc, "anyOf": [s, template] });
    }
    // The reader takes `key: null` (or `key:` with nothing) as an absent property.
    if !p.required {
        s = nullable(s);
    }
    if let Some(def) = p.default {
        s["default"] = serde_json::from_str(def).expect("a default is JSON text");
    }
    s
}

/// `s`, or null.
fn nullable(mut s: Value) -> Value {
    let o = s.as_object_mut().expect("a schema object");
    // Sub-schemas would still reject null: wrap those.
    let composed = ["allOf", "anyOf", "oneOf", "$ref"]
        .iter()
        .any(|k| o.contains_key(*k));
    match o.get_mut("type").filter(|_| !composed) {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            o.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(a)) => a.push("null".into()),
        _ => {
            let description = o.remove("description");
            return json!({ "description": description, "anyOf": [s, { "type": "null" }] });
        }
    }
    if let Some(Value::Array(e)) = o.get_mut("enum") {
        e.push(Value::Null);
    }
    s
}

/// The reader reads YAML scalars as text and parses them itself: `cpus: "1.5"`, `delete:
/// "false"`, `user: 1000`, `commands: [42]` all run, so the schema takes them as well. A JSON
/// type keyword (`pattern`, `minimum`) only applies to values of its type.
const SCALAR: [&str; 3] = ["string", "number", "boolean"];

/// The spellings of a boolean the reader takes (`as_bool`); a plain `True` reaches the schema as
/// a string.
fn boolean_spellings(values: &[bool]) -> Value {
    let mut v: Vec<Value> = Vec::new();
    for b in values {
        v.push((*b).into());
        let w = if *b { "true" } else { "false" };
        v.extend([w.to_string(), capitalized(w), w.to_uppercase()].map(Value::String));
    }
    json!({ "enum": v })
}

fn capitalized(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A whole number written as text (`as_int`).
const INT_TEXT: &str = r"^\s*[+-]?[0-9]+\s*$";
/// A number written as text (`as_number`).
const NUMBER_TEXT: &str = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$";
/// A Pebble template (`{{ inputs.cpus }}`): typed runner values may be written as one.
const TEMPLATE_TEXT: &str = r"\{\{";

/// The objects that are definitions (referenced) rather than drawn in place.
fn definition_of(o: &Object) -> Option<&'static str> {
    if std::ptr::eq(o, &spec::RUNNER) {
        Some("taskRunner")
    } else if std::ptr::eq(o, &spec::DEVICE_REQUEST) {
        Some("deviceRequest")
    } else {
        None
    }
}

fn object_in_place(o: &Object) -> Value {
    object(properties(o), &required(o))
}

fn names(n: Names) -> Value {
    match n {
        Names::Env => pat(
            spec::ENV_NAME.regex,
            &format!("Use {}.", spec::ENV_NAME.rule),
        ),
        Names::RelativePath => pat(
            relative_path_pattern(),
            "Must be a path relative to the working directory, without `..`.",
        ),
        Names::Volume => pat(
            volume_pattern(),
            "Expected SOURCE:DESTINATION[:OPTIONS] with an absolute destination, such as /data:/data:ro.",
        ),
    }
}

/// The schema of a value of type `ty`, described by `doc`.
fn shape(ty: Ty, doc: &str) -> Value {
    match ty {
        Ty::Text | Ty::Scalar => d(doc, json!({ "type": SCALAR })),
        Ty::Bool => d(doc, boolean_spellings(&[true, false])),
        Ty::Int { min, max } => {
            let mut int = json!({ "type": "integer" });
            if let Some(m) = min {
                int["minimum"] = m.into();
            }
            if let Some(m) = max {
                int["maximum"] = m.into();
            }
            d(
                doc,
                json!({ "anyOf": [int, { "type": "string", "pattern": INT_TEXT }] }),
            )
        }
        Ty::Number { above } => d(
            doc,
            json!({ "anyOf": [
                { "type": "number", "exclusiveMinimum": above },
                { "type": "string", "pattern": NUMBER_TEXT },
                { "type": "string", "pattern": TEMPLATE_TEXT },
            ] }),
        ),
        Ty::Duration => r(doc, "duration"),
        Ty::RenderedDuration => d(
            doc,
            json!({ "anyOf": [
                { "$ref": "#/definitions/duration" },
                { "type": "string", "pattern": TEMPLATE_TEXT },
            ] }),
        ),
        Ty::Size => r(doc, "size"),
        Ty::SizeOrUnlimited => d(
            doc,
            json!({ "oneOf": [
                pat(size_pattern("-1|"), "Expected a size such as 1GB, or -1 for unlimited swap."),
                { "type": "number", "minimum": -1 },
            ] }),
        ),
        Ty::Matching(p) => d(doc, scalar_pat(p.regex, &format!("Use {}.", p.rule))),
        Ty::NonBlank => d(doc, scalar_pat(r"\S", "The script is empty.")),
        Ty::ScriptText => d(
            doc,
            json!({ "oneOf": [
                scalar_pat(r"\S", "The script is empty."),
                { "type": "array" },
                { "type": "object" },
            ] }),
        ),
        Ty::Image => d(
            doc,
            scalar_pat(
                r"^\s*\S+\s*$",
                "An image reference has no whitespace, e.g. ubuntu:22.04.",
            ),
        ),
        Ty::Enum([one]) => d(doc, json!({ "const": one })),
        Ty::Enum(names) => d(doc, json!({ "type": "string", "enum": names })),
        Ty::Strings => d(doc, json!({ "type": "array", "items": { "type": SCALAR } })),
        Ty::NonEmptyStrings => d(
            doc,
            json!({ "type": "array", "minItems": 1, "items": { "type": SCALAR } }),
        ),
        Ty::Scalars => d(
            doc,
            json!({ "type": "array", "items": { "$ref": "#/definitions/scalar" } }),
        ),
        Ty::StringMap => r(doc, "stringMap"),
        Ty::NamedMap(n) => d(
            doc,
            json!({ "type": "object", "allOf": [{ "$ref": "#/definitions/stringMap" }], "propertyNames": names(n) }),
        ),
        Ty::FileMap(n) => d(
            doc,
            json!({ "oneOf": [
                { "type": "object", "allOf": [{ "$ref": "#/definitions/stringMap" }], "propertyNames": names(n) },
                { "type": "string" },
            ] }),
        ),
        Ty::List(n) => {
            let mut item = names(n);
            item["type"] = json!(SCALAR);
            d(doc, json!({ "type": "array", "items": item }))
        }
        Ty::Object(o) if o.kind == "retry" => {
            // The intervals each retry type needs.
            let mut v = object_in_place(o);
            let need = |ty: &str, keys: &[&str]| json!({ "if": { "properties": { "type": { "const": ty, "description": "The retry type." } } }, "then": { "required": keys } });
            v["allOf"] = json!([
                need("constant", &["interval"]),
                need("exponential", &["interval", "maxInterval"]),
                need("random", &["minInterval", "maxInterval"]),
            ]);
            d(doc, v)
        }
        Ty::Object(o) => match definition_of(o) {
            Some(def) => r(doc, def),
            None => d(doc, object_in_place(o)),
        },
        Ty::Objects(o) => {
            let items = match definition_of(o) {
                Some(def) => json!({ "$ref": format!("#/definitions/{def}") }),
                None => object_in_place(o),
            };
            d(doc, json!({ "type": "array", "items": items }))
        }
        Ty::Tasks => d(
            doc,
            json!({ "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/task" } }),
        ),
        Ty::Labels => d(
            doc,
            json!({
                "oneOf": [
                    { "$ref": "#/definitions/stringMap" },
                    { "type": "array", "items": object(json!({
                        "key": d("The label name.", json!({ "type": SCALAR })),
                        "value": r("The label value.", "scalar"),
                    }), &["key", "value"]) },
                ]
            }),
        ),
        Ty::RenderedLabels => d(
            doc,
            json!({ "oneOf": [
                shape(Ty::Labels, "A map or a list of `{key, value}`."),
                { "type": "string", "pattern": "\\{\\{" },
            ] }),
        ),
        Ty::ClientConfig => d(
            doc,
            json!({ "oneOf": [
                { "type": "string", "contentMediaType": "application/json" },
                { "type": "object", "properties": {
                    "auths": d("Registry address → `{\"auth\": base64(user:password)}`.", json!({ "type": "object" })),
                    "credHelpers": d("Registry address → name of a docker credential helper.", json!({ "type": "object", "additionalProperties": { "type": "string" } })),
                    "insecure-registries": d("Registries (HOST:PORT) reached without TLS verification (podman `--tls-verify=false`).",
                        json!({ "type": "array", "items": pat(spec::REGISTRY_HOST.regex, &format!("Expected {}.", spec::REGISTRY_HOST.rule)) })),
                } },
            ] }),
        ),
        Ty::StringLists => d(
            doc,
            json!({ "type": "array", "items": { "type": "array", "items": { "type": SCALAR } } }),
        ),
        Ty::OnlyFalse => d(doc, boolean_spellings(&[false])),
        Ty::AnyMap => d(doc, json!({ "type": "object" })),
        Ty::Any => d(doc, json!({})),
        Ty::TaskType => d(doc, json!({ "enum": task_type_names() })),
        Ty::TaskCases => d(
            doc,
            json!({ "type": "object", "additionalProperties": { "type": "array", "items": { "$ref": "#/definitions/task" } } }),
        ),
        Ty::DagTasks => d(
            doc,
            json!({ "type": "array", "minItems": 1, "items": object(json!({
                "task": r("The task.", "task"),
                "dependsOn": d("Ids of the Dag's tasks that must end first.", json!({ "type": "array", "items": { "type": "string" } })),
            }), &["task"]) }),
        ),
        Ty::EachValues => d(
            doc,
            json!({ "oneOf": [{ "type": "string" }, { "type": "array" }] }),
        ),
        Ty::TextOrStrings => d(
            doc,
            json!({ "oneOf": [
                { "type": SCALAR },
                { "type": "array", "items": { "type": SCALAR } },
            ] }),
        ),
    }
}

/// Every name a task's `type` may have: Kestra names and aliases.
fn task_type_names() -> Vec<&'static str> {
    spec::task_types()
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .collect()
}

fn definitions() -> Value {
    let mut runner = object_in_place(&spec::RUNNER);
    runner["title"] = spec::RUNNER.title.into();
    runner["description"] = spec::RUNNER.doc.into();
    json!({
        "scalar": { "description": "Text; numbers and booleans are taken as their text.", "type": ["string", "number", "boolean"] },
        "stringMap": {
            "description": "A map of names to text values.",
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean", "null"] },
        },
        "duration": {
            "description": "An ISO-8601 duration such as `PT30S`, `PT5M`, `PT1H30M` or `P1DT2H` (days, hours, minutes, seconds).",
            "type": "string",
            "pattern": duration_pattern(),
            "patternErrorMessage": "Expected an ISO-8601 duration such as PT30S, PT5M, PT1H30M or P1D.",
        },
        "size": {
            "description": "A size in bytes: a number, or a number with a 1024-based unit: `512MB`, `1GB`, `10KB`, Docker's `512m`, `1g`, or `512MiB`.",
            "oneOf": [
                pat(size_pattern(""), "Expected a size such as 512MB, 1GB or 512m."),
                // A bare number of bytes; the reader takes `1.5` too.
                { "type": "number", "minimum": 0 },
                // A template, rendered and checked when the task starts (`flow::typed_template`).
                { "type": "string", "pattern": TEMPLATE_TEXT },
            ],
        },
        "task": task(),
        "taskRunner": runner,
        "deviceRequest": device_request(),
    })
}

/// A task: one variant per task type (its `type` a constant), chosen by `type`.
fn task() -> Value {
    let variants: Vec<Value> = spec::task_types()
        .map(|t| {
            let mut props = properties(&t.object);
            props["type"] = if t.aliases.is_empty() {
                json!({ "const": t.name, "description": t.object.doc })
            } else {
                let mut all = vec![t.name];
                all.extend(t.aliases);
                json!({ "enum": all, "description": t.object.doc })
            };
            let mut o = object(props, &required(&t.object));
            o["title"] = t.object.title.into();
            o
        })
        .collect();
    let names: Vec<String> = spec::task_types()
        .map(|t| format!("`{}`", t.name))
        .collect();
    let (last, rest) = names.split_last().expect("task types");
    json!({
        "description": format!("A task: {} or {last}.", rest.join(", ")),
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "type": { "description": "The task type.", "enum": task_type_names() },
        },
        "oneOf": variants,
    })
}

fn device_request() -> Value {
    let mut o = object_in_place(&spec::DEVICE_REQUEST);
    o["title"] = spec::DEVICE_REQUEST.title.into();
    o["description"] = spec::DEVICE_REQUEST.doc.into();
    // The reader refuses `count` together with a non-empty `deviceIds`.
    o["dependencies"] = json!({ "count": { "properties": { "deviceIds": {
        "description": "Give either `count` or `deviceIds`, not both.",
        "type": "array",
        "maxItems": 0,
    } } } });
    o
}
