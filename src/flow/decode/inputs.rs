//! Reading the flow's `inputs`: every Kestra input type and its properties (`required`,
//! `defaults`, `values`, `validator`, `min`/`max`, `after`/`before`, `itemType`,
//! `allowCustomValue`, `dependsOn`, `prefill`, `displayName`, the legacy `name` in place of
//! `id`), checked when the flow is read: a property of another type, a bound or default that is
//! not a value of the type, an unknown `dependsOn` input. Values are checked by
//! [`crate::flow::input_types::check_input`].

use crate::flow::input_types::{self, check_bound, property_applies};
use crate::flow::model::{Input, InputProps};
use crate::flow::reader::{Cx, Obj, as_seq};
use crate::flow::spec::{self, INPUT_ID, INPUT_TYPES};
use crate::flow::yaml::{Node, Value};

/// Properties only some input types have, in the order they are reported.
const TYPED: &[&str] = &[
    "validator",
    "min",
    "max",
    "after",
    "before",
    "itemType",
    "values",
    "options",
    "allowCustomValue",
    "autoSelectFirst",
    "allowedFileExtensions",
];

pub(super) fn read_inputs(cx: &mut Cx, n: &Node) -> Vec<Input> {
    let Some(items) = as_seq(cx, n, "inputs") else {
        return vec![];
    };
    let mut out: Vec<Input> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("inputs[{i}]");
        let Some(mut o) = Obj::new(cx, item, &path) else {
            continue;
        };
        // Kestra's first inputs had a `name`; it is the id when `id` is absent.
        let id = match (o.string(cx, "id"), o.string(cx, "name")) {
            (Some(id), _) => Some(id),
            (None, Some(name)) => Some(name),
            (None, None) => {
                cx.error(item.pos, &path, "missing required property `id`");
                None
            }
        };
        let kind = o.enumeration(cx, "type", INPUT_TYPES, |s| {
            INPUT_TYPES.contains(&s).then(|| s.to_string())
        });
        if !o.has("type") {
            cx.error(item.pos, &path, "missing required property `type`");
        }
        let required = o.bool(cx, "required").unwrap_or(true);
        let description = o.string(cx, "description");
        let display_name = o.string(cx, "displayName");
        let defaults_node = o.get(cx, "defaults");
        let prefill_node = o.get(cx, "prefill");
        let default = defaults_node.map(value_text);
        let prefill = prefill_node.map(value_text);
        // Properties of some types only: one on another type is an error at its key.
        if let Some(k) = &kind {
            for p in TYPED {
                if !property_applies(p, k) && o.has(p) {
                    let pos = key_pos(item, p);
                    cx.error(
                        pos,
                        &o.key_path(p),
                        format!("a {k} input has no property `{p}`"),
                    );
                }
            }
        }
        let validator = o.string(cx, "validator");
        let mut broken = false;
        if let (Some(v), Some(n)) = (&validator, o.get(cx, "validator"))
            && let Err(e) = input_types::full_match(v)
        {
            broken = true;
            cx.error(
                n.pos,
                &o.key_path("validator"),
                format!(
                    "not a valid regular expression: {}",
                    input_types::regex_error(&e)
                ),
            );
        }
        let mut bounds = Vec::new();
        for key in ["min", "max", "after", "before"] {
            let b = o.string(cx, key);
            if let (Some(b), Some(k), Some(n)) = (&b, &kind, o.get(cx, key))
                && property_applies(key, k)
                && let Err(e) = check_bound(k, b)
            {
                cx.error(n.pos, &o.key_path(key), e);
            }
            bounds.push(b);
        }
        let [min, max, after, before]: [Option<String>; 4] = bounds.try_into().unwrap();
        let item_type = o.enumeration(cx, "itemType", input_types::ITEM_TYPES, |s| {
            input_types::is_item_type(s).then(|| s.to_string())
        });
        if kind.as_deref() == Some("ARRAY") && !o.has("itemType") {
            cx.error(
                item.pos,
                &path,
                "an ARRAY input needs `itemType`, the type of its items",
            );
        }
        let read_values = o.strings(cx, "values");
        let options = o.strings(cx, "options");
        // `values` that are not a list of strings are reported already: no follow-on errors.
        let values_broken =
            (o.has("values") && read_values.is_none()) || (o.has("options") && options.is_none());
        let mut values = read_values.or(options).unwrap_or_default();
        if kind.as_deref() == Some("MULTISELECT") && values.is_empty() && !values_broken {
            cx.error(item.pos, &path, "a MULTISELECT input needs `values`");
        }
        let allow_custom_value = o.bool(cx, "allowCustomValue").unwrap_or(false);
        let auto_select_first = o.bool(cx, "autoSelectFirst").unwrap_or(false);
        let extensions = o.strings(cx, "allowedFileExtensions").unwrap_or_default();
        let (depends_on, condition) = match o.obj(cx, "dependsOn") {
            Some(mut d) => {
                let inputs = d.strings(cx, "inputs").unwrap_or_default();
                let condition = d.string(cx, "condition");
                if let (Some(c), Some(n)) = (&condition, d.get(cx, "condition"))
                    && let Err(e) = crate::pebble::Template::parse(c)
                {
                    cx.error(n.pos, &d.key_path("condition"), e.message);
                }
                d.finish(cx, &[]);
                (inputs, condition)
            }
            None => (vec![], None),
        };
        o.finish_described(cx, &spec::INPUT);
        // Kestra's `autoSelectFirst`: the first value is the default.
        let default = match (default, auto_select_first) {
            (None, true) => values.first().map(|v| {
                if kind.as_deref() == Some("MULTISELECT") {
                    serde_json::json!([v]).to_string()
                } else {
                    v.clone()
                }
            }),
            (d, _) => d,
        };
        values.dedup();
        let input = Input {
            id: id.clone().unwrap_or_default(),
            kind: kind.clone().unwrap_or_default(),
            // `prefill` is a value shown in a form that the user may clear: dockhand takes
            // it as the value when none is given, as a run without a form would.
            default: default.or(prefill),
            values,
            required,
            description,
            pos: item.pos,
            props: InputProps {
                display_name,
                item_type,
                validator,
                min: min.or(after),
                max: max.or(before),
                allow_custom_value,
                depends_on,
                condition,
                extensions,
            },
        };
        // A default written as an expression is rendered when the run starts (Kestra 1.0 renders
        // every input's `defaults`): here only its syntax is checked, its type then.
        let dynamic = input.default.as_deref().is_some_and(is_expression);
        if dynamic
            && let (Some(d), Some(n)) = (&input.default, defaults_node)
            && let Err(e) = crate::pebble::Template::parse(d)
        {
            cx.error(n.pos, &o_key(&path, "defaults"), e.message);
        }
        // The default must be a value of the input's type, as `--input` must.
        if let (Some(_), Some(d)) = (&kind, &input.default)
            && !dynamic
            && !values_broken
            && !broken
            && let Err(e) = input_types::check_input(&input, d)
        {
            let (node, key) = match defaults_node {
                Some(n) => (n, "defaults"),
                None => (prefill_node.unwrap_or(item), "prefill"),
            };
            cx.error(node.pos, &o_key(&path, key), e);
        }
        if let Some(id) = id {
            if !INPUT_ID.is_match(&id) {
                cx.error(item.pos, &path, format!("invalid input id `{id}`"));
            }
            if out.iter().any(|x| x.id == id) {
                cx.error(item.pos, &path, format!("duplicate input id `{id}`"));
            }
            out.push(input);
        }
    }
    // `dependsOn` names inputs of the flow, other than itself.
    for i in &out {
        for d in &i.props.depends_on {
            if d == &i.id || !out.iter().any(|x| &x.id == d) {
                cx.error(
                    i.pos,
                    &format!("inputs.{}.dependsOn", i.id),
                    format!("`dependsOn` names `{d}`, which is not another input of the flow"),
                );
            }
        }
    }
    out
}

/// Whether a default is a Pebble template (rendered at run start) rather than a value.
pub fn is_expression(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

fn o_key(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn key_pos(item: &Node, key: &str) -> crate::diag::Pos {
    match &item.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.scalar() == Some(key))
            .map_or(item.pos, |(k, _)| k.pos),
        _ => item.pos,
    }
}

/// A default as text: a scalar as written, a list or map (ARRAY, MULTISELECT, JSON, YAML) as
/// JSON.
fn value_text(n: &Node) -> String {
    match &n.value {
        Value::Scalar { text, .. } => text.clone(),
        _ => n.to_json().to_string(),
    }
}
