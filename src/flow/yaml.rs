//! The only module that knows the YAML library: it turns flow text into a tree of nodes that
//! remember where they stand in the file, so every later error can name a line and column.
//!
//! Anchors and aliases are resolved by copying, within the limits of `flow::limits` (checked
//! before each copy, so a "billion laughs" document stops at the alias that would exceed them);
//! duplicate keys, multi-document files and nesting deeper than the limit are reported as errors
//! here.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{Diags, Pos};
use crate::flow::limits;

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar; `plain` is false for quoted and block scalars (always strings).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// `null`, `~` or an empty plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The scalar's text, whatever its YAML type.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A word for error messages: "a string", "a list", ...
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
            Value::Scalar { plain: false, .. } => "a string",
            Value::Scalar { text, plain: true } => {
                if self.is_null() {
                    "null"
                } else if matches!(
                    text.as_str(),
                    "true" | "false" | "True" | "False" | "TRUE" | "FALSE"
                ) {
                    "a boolean"
                } else if text.parse::<f64>().is_ok() {
                    "a number"
                } else {
                    "a string"
                }
            }
        }
    }

    /// Converts to JSON (for free-form properties such as the runner `config`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Scalar { text, plain: false } => J::String(text.clone()),
            Value::Scalar { text, plain: true } => {
                if self.is_null() {
                    J::Null
                } else if let Ok(b) = text.parse::<bool>() {
                    J::Bool(b)
                } else if let Ok(i) = text.parse::<i64>() {
                    J::from(i)
                } else if let Some(f) = text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    J::Number(f)
                } else {
                    J::String(text.clone())
                }
            }
        }
    }
}

fn pos(m: &Marker) -> Pos {
    Pos::new(m.line(), m.col() + 1)
}

/// How much a subtree holds: its nodes and the bytes of its scalars.
#[derive(Debug, Clone, Copy, Default)]
struct Weight {
    nodes: usize,
    bytes: usize,
}

impl Weight {
    fn add(&mut self, w: Weight) {
        self.nodes = self.nodes.saturating_add(w.nodes);
        self.bytes = self.bytes.saturating_add(w.bytes);
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
        weight: Weight,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        weight: Weight,
    },
}

struct Builder<'d> {
    diags: &'d mut Diags,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Weight)>,
    docs: Vec<Node>,
    /// What aliases have added so far.
    copied: Weight,
    /// A limit was hit: the rest of the text is not read.
    stopped: bool,
}

impl Builder<'_> {
    fn finish_node(&mut self, node: Node, anchor: usize, weight: Weight) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        self.push(node, weight);
    }

    fn push(&mut self, node: Node, weight: Weight) {
        match self.stack.last_mut() {
            Some(Frame::Seq { weight: w, .. } | Frame::Map { weight: w, .. }) => w.add(weight),
            None => {}
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let dup = entries
                        .iter()
                        .find(|(e, _)| e.scalar().is_some() && e.scalar() == k.scalar());
                    if let Some((first, _)) = dup {
                        let msg = format!(
                            "duplicate key `{}` (first defined at line {})",
                            k.scalar().unwrap_or_default(),
                            first.pos.line
                        );
                        self.diags
                            .error(k.pos, k.scalar().unwrap_or_default().to_string(), msg);
                    } else {
                        entries.push((k, node));
                    }
                }
            },
        }
    }
}

impl Builder<'_> {
    /// Refuses a collection nested deeper than the limit.
    fn enter(&mut self, p: Pos) -> bool {
        if self.stack.len() >= limits::MAX_DEPTH {
            self.diags.error(
                p,
                "",
                format!(
                    "maps and lists nest more than {} levels deep here; dockhand reads flows up to that depth",
                    limits::MAX_DEPTH
                ),
            );
            self.stopped = true;
            return false;
        }
        true
    }

    fn on_event(&mut self, ev: Event, mark: Marker) {
        let p = pos(&mark);
        let own = Weight { nodes: 1, bytes: 0 };
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == TScalarStyle::Plain;
                let weight = Weight {
                    nodes: 1,
                    bytes: text.len(),
                };
                self.finish_node(
                    Node {
                        pos: p,
                        value: Value::Scalar { text, plain },
                    },
                    anchor,
                    weight,
                );
            }
            // Past the depth limit, `enter` has reported it and stopped the parse.
            Event::SequenceStart(anchor, _) if self.enter(p) => self.stack.push(Frame::Seq {
                pos: p,
                anchor,
                items: vec![],
                weight: own,
            }),
            Event::MappingStart(anchor, _) if self.enter(p) => self.stack.push(Frame::Map {
                pos: p,
                anchor,
                entries: vec![],
                key: None,
                weight: own,
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    pos,
                    anchor,
                    items,
                    weight,
                }) => self.finish_node(
                    Node {
                        pos,
                        value: Value::Seq(items),
                    },
                    anchor,
                    weight,
                ),
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    weight,
                    ..
                }) => {
                    // A block map's start mark is the `:` after its first key: the map stands
                    // where that key does (a flow map's `{` comes first and is kept).
                    let pos = entries.first().map_or(pos, |(k, _)| k.pos.min(pos));
                    self.finish_node(
                        Node {
                            pos,
                            value: Value::Map(entries),
                        },
                        anchor,
                        weight,
                    )
                }
                None => {}
            },
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((n, w)) => {
                    // Checked before copying: the copy itself is what would exhaust memory.
                    let mut total = self.copied;
                    total.add(*w);
                    if total.nodes > limits::MAX_ALIAS_NODES
                        || total.bytes > limits::MAX_ALIAS_BYTES
                    {
                        self.diags.error(
                            p,
                            "",
                            format!(
                                "aliases expand to more than {} nodes or {} MiB of text by here (nested aliases that multiply, a \"billion laughs\" document?); dockhand refuses such files",
                                limits::MAX_ALIAS_NODES,
                                limits::MAX_ALIAS_BYTES >> 20
                            ),
                        );
                        self.stopped = true;
                        return;
                    }
                    self.copied = total;
                    let (mut n, w) = (n.clone(), *w);
                    n.pos = p;
                    self.push(n, w)
                }
                None => self.diags.error(p, "", "alias refers to an unknown anchor"),
            },
            _ => {}
        }
    }
}

/// Parses one YAML document. Syntax errors and duplicate keys go to `diags`; `None` when the
/// text could not be read as YAML at all.
/// Text over the limits of `flow::limits` is refused before or while parsing.
pub fn parse(text: &str, diags: &mut Diags) -> Option<Node> {
    if !limits::check_text(text, diags) {
        return None;
    }
    let mut b = Builder {
        diags,
        stack: vec![],
        anchors: HashMap::new(),
        docs: vec![],
        copied: Weight::default(),
        stopped: false,
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((ev, mark)) => {
                b.on_event(ev, mark);
                if b.stopped {
                    return None;
                }
            }
            Err(e) => {
                let m = e.marker();
                b.diags
                    .error(pos(m), "", format!("invalid YAML: {}", e.info()));
                return None;
            }
        }
    }
    let mut docs = std::mem::take(&mut b.docs);
    match docs.len() {
        0 => {
            diags.error(
                Pos::new(1, 1),
                "",
                "the file is empty: a flow needs `id`, `namespace` and `tasks`",
            );
            None
        }
        1 => docs.pop(),
        _ => {
            diags.error(
                docs[1].pos,
                "",
                "a flow file holds one YAML document; found more than one (`---`)",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let mut d = Diags::new("f.yml");
        let n = parse("id: a\ntasks:\n  - id: b\n    x: 'q'\n", &mut d).unwrap();
        let Value::Map(entries) = &n.value else {
            panic!()
        };
        assert_eq!(entries[0].0.pos, Pos::new(1, 1));
        let Value::Seq(items) = &entries[1].1.value else {
            panic!()
        };
        let Value::Map(t) = &items[0].value else {
            panic!()
        };
        assert_eq!(t[1].0.pos, Pos::new(4, 5));
        assert_eq!(
            t[1].1.value,
            Value::Scalar {
                text: "q".into(),
                plain: false
            }
        );
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_are_reported() {
        let mut d = Diags::new("f.yml");
        parse("id: a\nid: b\n", &mut d);
        assert_eq!(
            d.sorted()[0].to_string(),
            "f.yml:2:1: error: `id`: duplicate key `id` (first defined at line 1)"
        );
        let mut d = Diags::new("f.yml");
        assert!(parse("id: [a\n", &mut d).is_none());
        assert!(d.sorted()[0].to_string().starts_with("f.yml:2:"), "{}", d);
    }

    #[test]
    fn aliases_are_copied() {
        let mut d = Diags::new("f.yml");
        let n = parse("a: &x [1, 2]\nb: *x\n", &mut d).unwrap();
        assert_eq!(n.to_json(), serde_json::json!({"a": [1, 2], "b": [1, 2]}));
    }

    /// Nested aliases that would copy 10^9 strings: refused at the alias that crosses the limit,
    /// having copied no more than the limit.
    fn laughs() -> String {
        let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            t.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        t.push_str("b: *a9\n");
        t
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut d = Diags::new("f.yml");
        let start = std::time::Instant::now();
        assert!(parse(&laughs(), &mut d).is_none());
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let errs = d.sorted();
        assert_eq!(errs.len(), 1, "{d}");
        // Up to a4, aliases have copied 123,440 nodes; a5 (line 6) copies a4's 111,111 ten
        // times, and its second alias would pass 250,000.
        assert_eq!(errs[0].pos, Pos::new(6, 15), "{d}");
        assert!(errs[0].message.contains("billion laughs"), "{d}");
    }

    #[test]
    fn aliases_within_the_limit_still_expand() {
        // 1,000 copies of a 3-node list.
        let mut t = String::from("r: &r {type: x, cpu: 1}\nl:\n");
        for _ in 0..1000 {
            t.push_str("  - *r\n");
        }
        let mut d = Diags::new("f.yml");
        let n = parse(&t, &mut d).unwrap();
        assert!(d.is_empty(), "{d}");
        assert_eq!(n.to_json()["l"][999]["cpu"], 1);
    }

    #[test]
    fn deep_nesting_is_refused_with_its_line() {
        let mut t = String::from("x:\n");
        for i in 0..150 {
            t.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
        }
        t.push_str(&format!("{}v\n", "  ".repeat(151)));
        let mut d = Diags::new("f.yml");
        assert!(parse(&t, &mut d).is_none());
        let errs = d.sorted();
        assert_eq!(errs.len(), 1, "{d}");
        assert!(errs[0].message.contains("more than 100 levels"), "{d}");
        // The root map is level 1: the 101st level is the map of key k99, on line 101.
        assert_eq!(errs[0].pos.line, 101, "{d}");
        // Flow-style nesting far deeper than that ends as quickly, with a line too.
        let t = format!("x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let mut d = Diags::new("f.yml");
        assert!(parse(&t, &mut d).is_none());
        assert_eq!(d.sorted()[0].pos.line, 1, "{d}");
        // 99 levels are fine.
        let t = format!("x: {}{}\n", "[".repeat(98), "]".repeat(98));
        let mut d = Diags::new("f.yml");
        assert!(parse(&t, &mut d).is_some(), "{d}");
    }
}
