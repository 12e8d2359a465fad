//! Reading YAML nodes into typed values while collecting every error of a file: each getter
//! checks the type, records where the property stands, and remembers which keys are known so
//! that the rest can be reported as unknown, with a "did you mean" hint.

use std::collections::BTreeMap;

use crate::diag::{Diags, Pos};
use crate::flow::spec;
use crate::flow::yaml::{Node, Value};
use crate::suggest;

/// Diagnostics and property positions gathered while reading one file.
pub struct Cx {
    pub diags: Diags,
    pub spans: BTreeMap<String, Pos>,
    /// The keys each finished object knows, by object path.
    pub known: BTreeMap<String, Vec<&'static str>>,
    /// Each task's `type` as written, by task path.
    pub task_types: BTreeMap<String, String>,
    /// Where each string value that may hold an expression (it has a `{`) starts, by dotted
    /// path (list items as `commands[1]`): a template error maps its offset in the value back
    /// into the file from there.
    pub values: BTreeMap<String, Pos>,
}

impl Cx {
    pub fn new(file: &str) -> Self {
        Cx {
            diags: Diags::new(file),
            spans: BTreeMap::new(),
            known: BTreeMap::new(),
            task_types: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }

    pub fn error(&mut self, pos: Pos, path: &str, msg: impl Into<String>) {
        self.diags.error(pos, path, msg);
    }
}

/// Joins a parent path and a key: `tasks[0]` + `id` → `tasks[0].id`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A property Kestra has that dockhand reads but does not act on, or refuses.
pub struct Unsupported {
    pub key: &'static str,
    /// An error when acting without it would change what the flow does; a warning otherwise.
    pub error: bool,
    pub why: &'static str,
}

/// A YAML map being read as an object.
pub struct Obj<'a> {
    pub node: &'a Node,
    pub path: String,
    entries: &'a [(Node, Node)],
    known: Vec<&'static str>,
}

impl<'a> Obj<'a> {
    /// `None` (with an error) when the node is not a map.
    pub fn new(cx: &mut Cx, node: &'a Node, path: &str) -> Option<Obj<'a>> {
        match &node.value {
            Value::Map(entries) => Some(Obj {
                node,
                path: path.to_string(),
                entries,
                known: vec![],
            }),
            _ => {
                cx.error(
                    node.pos,
                    path,
                    format!("expected a map of properties, found {}", node.kind()),
                );
                None
            }
        }
    }

    pub fn pos(&self) -> Pos {
        self.node.pos
    }

    pub fn key_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value of `key` (null counts as absent). Marks the key as known.
    pub fn get(&mut self, cx: &mut Cx, key: &'static str) -> Option<&'a Node> {
        self.known.push(key);
        let (k, v) = self.entries.iter().find(|(k, _)| k.scalar() == Some(key))?;
        cx.spans.insert(self.key_path(key), k.pos);
        if v.is_null() { None } else { Some(v) }
    }

    /// Whether a getter asked for `key` already.
    pub fn asked(&self, key: &str) -> bool {
        self.known.contains(&key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|(k, v)| k.scalar() == Some(key) && !v.is_null())
    }

    /// A required property: reports it missing.
    pub fn need(&mut self, cx: &mut Cx, key: &'static str) -> Option<&'a Node> {
        let v = self.get(cx, key);
        if v.is_none() {
            cx.error(
                self.node.pos,
                &self.path_or_root(),
                format!("missing required property `{key}`"),
            );
        }
        v
    }

    fn path_or_root(&self) -> String {
        self.path.clone()
    }

    pub fn string(&mut self, cx: &mut Cx, key: &'static str) -> Option<String> {
        let n = self.get(cx, key)?;
        as_string(cx, n, &self.key_path(key))
    }

    pub fn need_string(&mut self, cx: &mut Cx, key: &'static str) -> Option<String> {
        let n = self.need(cx, key)?;
        as_string(cx, n, &self.key_path(key))
    }

    pub fn bool(&mut self, cx: &mut Cx, key: &'static str) -> Option<bool> {
        let n = self.get(cx, key)?;
        as_bool(cx, n, &self.key_path(key))
    }

    pub fn number(&mut self, cx: &mut Cx, key: &'static str) -> Option<f64> {
        let n = self.get(cx, key)?;
        as_number(cx, n, &self.key_path(key))
    }

    pub fn int(&mut self, cx: &mut Cx, key: &'static str) -> Option<i64> {
        let n = self.get(cx, key)?;
        as_int(cx, n, &self.key_path(key))
    }

    pub fn strings(&mut self, cx: &mut Cx, key: &'static str) -> Option<Vec<String>> {
        let n = self.get(cx, key)?;
        as_strings(cx, n, &self.key_path(key))
    }

    pub fn string_map(
        &mut self,
        cx: &mut Cx,
        key: &'static str,
    ) -> Option<BTreeMap<String, String>> {
        let n = self.get(cx, key)?;
        as_string_map(cx, n, &self.key_path(key))
    }

    /// A scalar parsed by `parse`, whose error message is reported at the value.
    pub fn parsed<T>(
        &mut self,
        cx: &mut Cx,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let n = self.get(cx, key)?;
        let path = self.key_path(key);
        let s = as_string(cx, n, &path)?;
        match parse(s.trim()) {
            Ok(v) => Some(v),
            Err(e) => {
                cx.error(n.pos, &path, format!("{e}{}", not_rendered(&s)));
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn enumeration<T>(
        &mut self,
        cx: &mut Cx,
        key: &'static str,
        names: &[&'static str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        self.parsed(cx, key, |s| {
            parse(s).ok_or_else(|| {
                format!(
                    "`{s}` is not one of {}{}",
                    names.join(", "),
                    suggest::hint(s, names.iter().copied())
                )
            })
        })
    }

    pub fn obj(&mut self, cx: &mut Cx, key: &'static str) -> Option<Obj<'a>> {
        let n = self.get(cx, key)?;
        Obj::new(cx, n, &self.key_path(key))
    }

    /// Reports every key that no getter asked for: Kestra properties dockhand does not support
    /// by name, anything else as unknown with the closest known name.
    pub fn finish(self, cx: &mut Cx, unsupported: &[Unsupported]) {
        let known = self.known.clone();
        self.report_unread(cx, unsupported, &known);
    }

    /// [`Obj::finish`] for an object of the description (`flow::spec`): the ignored and refused
    /// properties, and the names an unknown key is compared with, are the description's. A key
    /// the reader asked for that the description does not list as read is a defect of the
    /// reader (a test build panics on it); a key the description lists and the reader did not
    /// ask for is an error, never accepted unread.
    pub fn finish_described(self, cx: &mut Cx, object: &'static spec::Object) {
        let described: Vec<&'static str> = object
            .properties()
            .filter(|p| p.support == spec::Support::Read)
            .map(|p| p.name)
            .collect();
        if let Some(k) = self.known.iter().find(|k| !described.contains(k)) {
            debug_assert!(
                false,
                "the reader reads `{k}` of `{}`, which src/flow/spec/ does not describe",
                object.kind
            );
        }
        self.report_unread(cx, &object.unsupported(), &described);
    }

    fn report_unread(self, cx: &mut Cx, unsupported: &[Unsupported], names: &[&'static str]) {
        cx.known.insert(self.path.clone(), self.known.clone());
        for (k, v) in self.entries {
            let Some(key) = k.scalar() else {
                cx.error(k.pos, &self.path, "property names must be strings");
                continue;
            };
            if self.known.contains(&key) {
                continue;
            }
            let path = self.key_path(key);
            if let Some(u) = unsupported.iter().find(|u| u.key == key) {
                // `disabled: false` on a flow says nothing dockhand would ignore; every other
                // refused property is refused whatever its value.
                if u.error && !(key == "disabled" && is_false(v)) {
                    cx.diags.error(
                        k.pos,
                        path,
                        format!(
                            "Kestra property `{key}` is not supported by dockhand: {}",
                            u.why
                        ),
                    );
                } else if !u.error {
                    cx.diags.warning(
                        k.pos,
                        path,
                        format!("Kestra property `{key}` is ignored by dockhand: {}", u.why),
                    );
                }
                continue;
            }
            if names.contains(&key) {
                // Described, but this reader never asked for it: refusing it is better than
                // running the flow without it (`tests/schema.rs` checks no such key is left).
                cx.diags.error(
                    k.pos,
                    path,
                    format!("property `{key}` is described but not read by dockhand"),
                );
                continue;
            }
            let hint = suggest::hint(key, names.iter().copied());
            cx.diags
                .error(k.pos, path, format!("unknown property `{key}`{hint}"));
        }
    }
}

fn is_false(n: &Node) -> bool {
    matches!(n.scalar(), Some("false" | "False" | "FALSE"))
}

fn type_error(cx: &mut Cx, n: &Node, path: &str, want: &str) {
    type_error_noted(cx, n, path, want, "");
}

fn type_error_noted(cx: &mut Cx, n: &Node, path: &str, want: &str, note: &str) {
    let found = match n.scalar() {
        Some(s) if n.kind() != "null" => format!("{} `{s}`", n.kind()),
        _ => n.kind().to_string(),
    };
    cx.error(n.pos, path, format!("expected {want}, found {found}{note}"));
}

/// [`type_error`] for a plain scalar (a boolean, a number): a template there says Kestra does
/// not render it.
fn scalar_type_error(cx: &mut Cx, n: &Node, path: &str, want: &str) {
    let note = n.scalar().map(not_rendered).unwrap_or_default();
    type_error_noted(cx, n, path, want, note);
}

/// Why a template is refused where a plain value is read: the properties Kestra renders
/// (`Property<…>`) are kept as templates by their readers (`flow::typed_template`); the others
/// (`allowFailure`, `retry`, `concurrencyLimit`, …) are plain values in Kestra, which refuses a
/// template there too.
fn not_rendered(text: &str) -> &'static str {
    if crate::flow::typed_template::is_template(text) {
        " (Kestra does not render this property: it takes a plain value, not an expression)"
    } else {
        ""
    }
}

/// Any scalar as text (numbers and booleans too, as Kestra coerces them).
pub fn as_string(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    match &n.value {
        Value::Scalar { text, .. } => {
            // Only a text that can hold an expression needs its position (large flows stay lean).
            if text.contains('{') {
                cx.values.insert(path.to_string(), n.pos);
            }
            Some(text.clone())
        }
        _ => {
            type_error(cx, n, path, "a string");
            None
        }
    }
}

pub fn as_bool(cx: &mut Cx, n: &Node, path: &str) -> Option<bool> {
    match n.scalar() {
        Some("true" | "True" | "TRUE") => Some(true),
        Some("false" | "False" | "FALSE") => Some(false),
        _ => {
            scalar_type_error(cx, n, path, "a boolean (true or false)");
            None
        }
    }
}

pub fn as_number(cx: &mut Cx, n: &Node, path: &str) -> Option<f64> {
    match n
        .scalar()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite())
    {
        Some(f) => Some(f),
        None => {
            scalar_type_error(cx, n, path, "a number");
            None
        }
    }
}

pub fn as_int(cx: &mut Cx, n: &Node, path: &str) -> Option<i64> {
    match n.scalar().and_then(|s| s.trim().parse::<i64>().ok()) {
        Some(i) => Some(i),
        None => {
            scalar_type_error(cx, n, path, "a whole number");
            None
        }
    }
}

pub fn as_strings(cx: &mut Cx, n: &Node, path: &str) -> Option<Vec<String>> {
    match &n.value {
        Value::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                match as_string(cx, item, &format!("{path}[{i}]")) {
                    Some(s) => out.push(s),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
        _ => {
            type_error(cx, n, path, "a list of strings");
            None
        }
    }
}

pub fn as_string_map(cx: &mut Cx, n: &Node, path: &str) -> Option<BTreeMap<String, String>> {
    match &n.value {
        Value::Map(entries) => {
            let mut out = BTreeMap::new();
            let mut ok = true;
            for (k, v) in entries {
                let key = k.scalar().unwrap_or_default().to_string();
                let p = join(path, &key);
                cx.spans.insert(p.clone(), k.pos);
                if v.is_null() {
                    out.insert(key, String::new());
                    continue;
                }
                match as_string(cx, v, &p) {
                    Some(s) => {
                        out.insert(key, s);
                    }
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
        _ => {
            type_error(cx, n, path, "a map of names to strings");
            None
        }
    }
}

/// Items of a list node, or an error.
pub fn as_seq<'a>(cx: &mut Cx, n: &'a Node, path: &str) -> Option<&'a [Node]> {
    match &n.value {
        Value::Seq(items) => Some(items),
        _ => {
            type_error(cx, n, path, "a list");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::spec::{Object, Property, Support, Ty};

    const fn prop(name: &'static str, support: Support) -> Property {
        Property {
            name,
            ty: Ty::Text,
            default: None,
            required: false,
            doc: "",
            support,
            example: None,
            rows: &[],
        }
    }

    static DESCRIBED: Object = Object {
        kind: "test",
        title: "",
        doc: "",
        properties: &[&[
            prop("color", Support::Read),
            prop("shape", Support::Read),
            prop("old", Support::Ignored("it is old")),
        ]],
    };

    /// Reads `text` as a map, asking for the keys `ask`, and finishes it against `DESCRIBED`.
    fn finish(text: &str, ask: &[&'static str]) -> Vec<String> {
        let mut cx = Cx::new("f.yaml");
        let node = crate::flow::yaml::parse(text, &mut cx.diags).unwrap();
        let mut o = Obj::new(&mut cx, &node, "o").unwrap();
        for k in ask {
            o.string(&mut cx, k);
        }
        o.finish_described(&mut cx, &DESCRIBED);
        cx.diags.sorted().iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn a_described_key_the_reader_does_not_ask_for_is_refused_not_accepted() {
        assert_eq!(
            finish("color: red\nshape: round\n", &["color", "shape"]),
            Vec::<String>::new()
        );
        assert_eq!(
            finish("color: red\nshape: round\n", &["color"]),
            [
                "f.yaml:2:1: error: `o.shape`: property `shape` is described but not read by dockhand"
            ]
        );
    }

    #[test]
    fn unknown_keys_are_compared_with_the_described_names() {
        // `shape` is never asked for: the hint still comes from the description.
        assert_eq!(
            finish("shap: x\nold: 1\n", &["color"]),
            [
                "f.yaml:1:1: error: `o.shap`: unknown property `shap` (did you mean `shape`?)",
                "f.yaml:2:1: warning: `o.old`: Kestra property `old` is ignored by dockhand: it is old",
            ]
        );
    }

    #[test]
    #[should_panic(expected = "does not describe")]
    fn reading_a_key_the_description_lacks_is_a_defect() {
        finish("size: 1\n", &["color", "size"]);
    }
}
