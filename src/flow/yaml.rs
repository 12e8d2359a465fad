//! The only module that knows the YAML library: it turns flow text into a tree of nodes that
//! remember where they stand in the file, so every later error can name a line and column.
//!
//! Anchors and aliases are resolved by copying; duplicate keys and multi-document files are
//! reported as errors here.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{Diags, Pos};

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

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'d> {
    diags: &'d mut Diags,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
}

impl Builder<'_> {
    fn finish_node(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node);
    }

    fn push(&mut self, node: Node) {
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

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let p = pos(&mark);
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == TScalarStyle::Plain;
                self.finish_node(
                    Node {
                        pos: p,
                        value: Value::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                pos: p,
                anchor,
                items: vec![],
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                pos: p,
                anchor,
                entries: vec![],
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => self.finish_node(
                    Node {
                        pos,
                        value: Value::Seq(items),
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
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
                    )
                }
                None => {}
            },
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut n) => {
                    n.pos = p;
                    self.push(n)
                }
                None => self.diags.error(p, "", "alias refers to an unknown anchor"),
            },
            _ => {}
        }
    }
}

/// Parses one YAML document. Syntax errors and duplicate keys go to `diags`; `None` when the
/// text could not be read as YAML at all.
pub fn parse(text: &str, diags: &mut Diags) -> Option<Node> {
    let mut b = Builder {
        diags,
        stack: vec![],
        anchors: HashMap::new(),
        docs: vec![],
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut b, true) {
        let m = e.marker();
        b.diags
            .error(pos(m), "", format!("invalid YAML: {}", e.info()));
        return None;
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
}
