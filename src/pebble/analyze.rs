//! Static analysis of a parsed template, for validation before anything runs: the context
//! paths it reads (`inputs.x`, `outputs['t-1'].vars.k`), whether each read is guarded (under
//! `??`, `???`, `default` or `is defined`, so a missing value is not an error), the filters,
//! functions and tests it calls with their argument counts, and the errors a call already has
//! (unknown name with a "did you mean", wrong number of arguments, not implemented).

use super::ast::*;
use super::error::{Error, ErrorKind};
use super::registry::{self, Family};
use super::value::Value;
use std::collections::HashSet;

/// A read of the context: `root.seg.seg…` as far as the segments are literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The root variable and the literal attribute/index segments after it.
    pub path: Vec<String>,
    /// Span of the whole access expression in the template.
    pub span: Span,
    /// Under `??`, `???`, `default` or `is defined`: a missing value is handled.
    pub guarded: bool,
}

impl Reference {
    /// `outputs.t.vars.k`; segments that are not identifiers in brackets: `inputs['my-file']`.
    pub fn dotted(&self) -> String {
        let mut s = String::new();
        for (i, p) in self.path.iter().enumerate() {
            let ident = !p.is_empty()
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit());
            if i == 0 {
                s.push_str(p);
            } else if ident {
                s.push('.');
                s.push_str(p);
            } else {
                s.push_str(&format!("['{p}']"));
            }
        }
        s
    }
}

/// A call of a filter, function or test.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub family: Family,
    pub name: String,
    /// Positional arguments given.
    pub positional: usize,
    /// Names of the named arguments given.
    pub named: Vec<String>,
    /// Span of the callable's name.
    pub span: Span,
}

/// What a template reads and calls, and what is already wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub references: Vec<Reference>,
    pub calls: Vec<Call>,
    /// Unknown, mis-called or unimplemented filters, functions, tests.
    pub errors: Vec<Error>,
    /// Deprecated forms (the removed `json` filter and function).
    pub warnings: Vec<super::eval::Warning>,
}

impl Analysis {
    /// The distinct root variables read from the context (`inputs`, `outputs`, `secret` is a call).
    pub fn roots(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for r in &self.references {
            if let Some(root) = r.path.first()
                && !seen.contains(&root.as_str())
            {
                seen.push(root.as_str());
            }
        }
        seen
    }
}

pub fn analyze(nodes: &[Node]) -> Analysis {
    let mut macros = HashSet::new();
    let mut dups = Vec::new();
    collect_macro_names(nodes, &mut macros, &mut dups);
    let mut a = Walker {
        out: Analysis::default(),
        bound: vec![HashSet::new()],
        macros,
    };
    for name in dups {
        // Pebble refuses two macros of one name (MacroTest).
        a.out.errors.push(Error::new(
            ErrorKind::Syntax,
            format!("macro `{name}` is defined twice"),
            0..0,
        ));
    }
    a.nodes(nodes);
    a.out
}

fn collect_macro_names(nodes: &[Node], into: &mut HashSet<String>, dups: &mut Vec<String>) {
    for n in nodes {
        match n {
            Node::Macro(m) => {
                if !into.insert(m.name.clone()) {
                    dups.push(m.name.clone());
                }
                collect_macro_names(&m.body, into, dups);
            }
            Node::If {
                branches,
                otherwise,
            } => {
                branches
                    .iter()
                    .for_each(|(_, b)| collect_macro_names(b, into, dups));
                if let Some(b) = otherwise {
                    collect_macro_names(b, into, dups);
                }
            }
            Node::For {
                body, otherwise, ..
            } => {
                collect_macro_names(body, into, dups);
                if let Some(b) = otherwise {
                    collect_macro_names(b, into, dups);
                }
            }
            Node::Filter { body, .. } => collect_macro_names(body, into, dups),
            _ => {}
        }
    }
}

struct Walker {
    out: Analysis,
    /// Names bound by the template itself (`set`, `for`, `loop`, macro parameters).
    bound: Vec<HashSet<String>>,
    macros: HashSet<String>,
}

impl Walker {
    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|s| s.contains(name))
    }

    fn nodes(&mut self, nodes: &[Node]) {
        for n in nodes {
            self.node(n);
        }
    }

    fn node(&mut self, n: &Node) {
        match n {
            Node::Text(_) => {}
            Node::Print(e) => self.expr(e, false),
            Node::If {
                branches,
                otherwise,
            } => {
                for (c, b) in branches {
                    self.expr(c, false);
                    self.nodes(b);
                }
                if let Some(b) = otherwise {
                    self.nodes(b);
                }
            }
            Node::For {
                key,
                var,
                iter,
                body,
                otherwise,
            } => {
                self.expr(iter, false);
                let mut s = HashSet::new();
                s.insert(var.clone());
                s.insert("loop".to_string());
                if let Some(k) = key {
                    s.insert(k.clone());
                }
                self.bound.push(s);
                self.nodes(body);
                self.bound.pop();
                if let Some(b) = otherwise {
                    self.nodes(b);
                }
            }
            Node::Set { name, value } => {
                self.expr(value, false);
                if let Some(s) = self.bound.last_mut() {
                    s.insert(name.clone());
                }
            }
            Node::Filter { filters, body } => {
                self.nodes(body);
                for f in filters {
                    self.filter(f, &f.name_span);
                }
            }
            Node::Macro(m) => {
                // A macro body sees only its parameters.
                let saved = std::mem::replace(
                    &mut self.bound,
                    vec![m.params.iter().map(|(p, _)| p.clone()).collect()],
                );
                for (_, d) in &m.params {
                    if let Some(d) = d {
                        self.expr(d, false);
                    }
                }
                self.nodes(&m.body);
                self.bound = saved;
            }
        }
    }

    fn record_call(
        &mut self,
        family: Family,
        name: &str,
        name_span: &Span,
        args: &Args,
        whole: &Span,
    ) {
        self.out.calls.push(Call {
            family,
            name: name.to_string(),
            positional: args.positional.len(),
            named: args.named.iter().map(|(n, _)| n.clone()).collect(),
            span: name_span.clone(),
        });
        if name == "json" && family != Family::Test {
            let msg = if family == Family::Filter {
                "filter `json` was removed from Kestra: use `toJson` (to write JSON) or `fromJson` (to read it)"
            } else {
                "function `json()` was removed from Kestra: use `fromJson()`"
            };
            self.out.warnings.push(super::eval::Warning {
                message: msg.into(),
                span: name_span.clone(),
            });
        }
        if family == Family::Function && self.macros.contains(name) {
            return;
        }
        if let Err(e) = registry::check(family, name, name_span, args, whole) {
            self.out.errors.push(e);
        }
    }

    fn args(&mut self, args: &Args) {
        for a in &args.positional {
            self.expr(a, false);
        }
        for (_, a) in &args.named {
            self.expr(a, false);
        }
    }

    fn filter(&mut self, f: &FilterCall, whole: &Span) {
        self.record_call(Family::Filter, &f.name, &f.name_span, &f.args, whole);
        self.args(&f.args);
    }

    fn expr(&mut self, e: &Expr, guarded: bool) {
        if let Some(path) = literal_path(e) {
            if !self.is_bound(&path[0]) {
                self.out.references.push(Reference {
                    path,
                    span: e.span.clone(),
                    guarded,
                });
            }
            return;
        }
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Var(_) => {}
            ExprKind::Interp(parts) => {
                for p in parts {
                    if let StrPiece::Expr(x) = p {
                        self.expr(x, false);
                    }
                }
            }
            ExprKind::Attr(b, _) => self.expr(b, guarded),
            ExprKind::Index(b, i) => {
                self.expr(b, guarded);
                self.expr(i, false);
            }
            ExprKind::List(items) => items.iter().for_each(|x| self.expr(x, false)),
            ExprKind::Map(items) => {
                for (k, v) in items {
                    self.expr(k, false);
                    self.expr(v, false);
                }
            }
            ExprKind::Unary(_, x) => self.expr(x, false),
            ExprKind::Binary(op, l, r) => {
                let g = matches!(op, BinOp::NullCoalesce | BinOp::UndefinedCoalesce);
                self.expr(l, g);
                self.expr(r, false);
            }
            ExprKind::Filter(input, f) => {
                self.expr(input, f.name == "default");
                self.filter(f, &e.span);
            }
            ExprKind::Test {
                input,
                name,
                name_span,
                args,
                ..
            } => {
                self.expr(input, name == "defined");
                self.record_call(Family::Test, name, name_span, args, &e.span);
                self.args(args);
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => {
                self.record_call(Family::Function, name, name_span, args, &e.span);
                self.args(args);
            }
            ExprKind::Ternary(c, a, b) => {
                self.expr(c, false);
                self.expr(a, false);
                self.expr(b, false);
            }
        }
    }
}

/// `root.a['b'][0]` as `["root", "a", "b", "0"]`, when every segment is literal.
fn literal_path(e: &Expr) -> Option<Vec<String>> {
    match &e.kind {
        ExprKind::Var(n) => Some(vec![n.clone()]),
        ExprKind::Attr(b, n) => {
            let mut p = literal_path(b)?;
            p.push(n.clone());
            Some(p)
        }
        ExprKind::Index(b, i) => {
            let seg = match &i.kind {
                ExprKind::Literal(Value::String(s)) => s.to_string(),
                ExprKind::Literal(Value::Long(n)) => n.to_string(),
                _ => return None,
            };
            let mut p = literal_path(b)?;
            p.push(seg);
            Some(p)
        }
        _ => None,
    }
}
