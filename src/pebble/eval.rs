//! Renders a parsed template against a context, as Kestra configures Pebble: strict variables
//! (an undefined variable or attribute is an error, except under `??`, `???`, `default` and
//! `is defined`), no autoescaping, maps and lists printed as JSON, and secret taint: a value that
//! came from `secret()` stays tainted through filters, operators and variables, and the output
//! spans it produced are reported to the caller.

use super::ast::*;
use super::error::{Error, ErrorKind, Result};
use super::host::Host;
use super::registry::{self, Family, Sig};
use super::value::{Map, Value};
use super::{filters, functions, predicates};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

/// A value and whether a secret went into it.
pub type Tv = (Value, bool);

/// Output size over which rendering stops (a runaway loop or recursion).
pub const MAX_OUTPUT: usize = 16 << 20;
/// Deepest nesting of `render()` and macro calls.
pub const MAX_CALL_DEPTH: usize = 32;
/// Largest list a range may build.
pub const MAX_RANGE: i64 = 1_000_000;

/// An error raised by a filter, function or test, placed at its call by the evaluator.
#[derive(Debug, Clone)]
pub struct CallError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CallError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CallError {
            kind,
            message: message.into(),
        }
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
    pub fn ty(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Type, message)
    }
}

impl From<String> for CallError {
    fn from(s: String) -> Self {
        CallError::runtime(s)
    }
}

pub type CallResult<T> = std::result::Result<T, CallError>;

/// A call's arguments bound to its signature's names.
pub struct Bound {
    pub sig: &'static Sig,
    pub values: Vec<Option<Value>>,
    /// Positional arguments of a variadic callable.
    pub rest: Vec<Value>,
}

impl Bound {
    pub fn get(&self, name: &str) -> Option<&Value> {
        let i = self.sig.args.iter().position(|a| *a == name)?;
        self.values.get(i)?.as_ref()
    }
    /// A string argument; numbers and booleans are accepted as their text.
    pub fn str(&self, name: &str) -> CallResult<Option<String>> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_string())),
            Some(v @ (Value::Long(_) | Value::Double(_) | Value::Bool(_))) => {
                Ok(Some(v.to_java_string()))
            }
            Some(v) => Err(CallError::ty(format!(
                "{} `{}`: argument `{name}` must be a string, not a {}",
                "filter",
                self.sig.name,
                v.kind()
            ))),
        }
    }
    pub fn req_str(&self, name: &str) -> CallResult<String> {
        self.str(name)?.ok_or_else(|| {
            CallError::new(
                ErrorKind::Arity,
                format!("`{}` needs argument `{name}`", self.sig.name),
            )
        })
    }
    pub fn long(&self, name: &str) -> CallResult<Option<i64>> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => to_long(v)
                .map(Some)
                .map_err(|m| CallError::ty(format!("`{}`: argument `{name}`: {m}", self.sig.name))),
        }
    }
    pub fn req_long(&self, name: &str) -> CallResult<i64> {
        self.long(name)?.ok_or_else(|| {
            CallError::new(
                ErrorKind::Arity,
                format!("`{}` needs argument `{name}`", self.sig.name),
            )
        })
    }
    pub fn bool(&self, name: &str) -> CallResult<Option<bool>> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => Ok(Some(s.eq_ignore_ascii_case("true"))),
            Some(v) => Err(CallError::ty(format!(
                "`{}`: argument `{name}` must be a boolean, not a {}",
                self.sig.name,
                v.kind()
            ))),
        }
    }
}

/// A number as a long (Java's `Number.longValue`, or a numeric string).
pub fn to_long(v: &Value) -> std::result::Result<i64, String> {
    match v {
        Value::Long(n) => Ok(*n),
        Value::Double(d) if d.is_finite() => Ok(*d as i64),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .or_else(|_| s.trim().parse::<f64>().map(|d| d as i64))
            .map_err(|_| format!("`{s}` is not a number")),
        other => Err(format!("expected a number, got a {}", other.kind())),
    }
}

/// Pebble's `toNumber` for arithmetic: numbers, or strings that parse as one.
pub fn to_number(v: &Value) -> std::result::Result<Value, String> {
    match v {
        Value::Long(_) | Value::Double(_) => Ok(v.clone()),
        Value::String(s) => {
            let t = s.trim();
            if t.contains(['.', 'e', 'E']) {
                t.parse::<f64>()
                    .map(Value::Double)
                    .map_err(|_| format!("`{s}` is not a number"))
            } else {
                t.parse::<i64>()
                    .map(Value::Long)
                    .map_err(|_| format!("`{s}` is not a number"))
            }
        }
        Value::Bool(_) | Value::Null => Err(format!("a {} is not a number", v.kind())),
        other => Err(format!("a {} is not a number", other.kind())),
    }
}

/// The rendered text and which of its bytes came from secrets.
#[derive(Debug, Default, Clone)]
pub struct Out {
    pub text: String,
    pub secret_spans: Vec<Range<usize>>,
}

impl Out {
    fn push(&mut self, s: &str, secret: bool) -> Result<()> {
        let start = self.text.len();
        self.text.push_str(s);
        if secret && !s.is_empty() {
            self.secret_spans.push(start..self.text.len());
        }
        if self.text.len() > MAX_OUTPUT {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("output larger than {MAX_OUTPUT} bytes"),
                0..0,
            ));
        }
        Ok(())
    }
    fn tainted(&self) -> bool {
        !self.secret_spans.is_empty()
    }
}

/// A warning met while rendering (e.g. the removed `json` filter).
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub message: String,
    pub span: Range<usize>,
}

pub struct Eval<'a> {
    pub host: &'a dyn Host,
    root: &'a Map,
    scopes: Vec<IndexMap<String, Tv>>,
    macros: HashMap<String, Rc<Macro>>,
    /// Plain secret values read while rendering, for the caller's log masking.
    pub secrets: Vec<String>,
    pub warnings: Vec<Warning>,
    depth: usize,
    /// Inside a macro: the context's roots are out of sight.
    isolated: bool,
}

fn undefined(msg: String, span: &Span) -> Error {
    Error::new(ErrorKind::Undefined, msg, span.clone())
}

impl<'a> Eval<'a> {
    pub fn new(host: &'a dyn Host, root: &'a Map) -> Self {
        Eval {
            host,
            root,
            scopes: vec![IndexMap::new()],
            macros: HashMap::new(),
            secrets: Vec::new(),
            warnings: Vec::new(),
            depth: 0,
            isolated: false,
        }
    }

    pub fn render(&mut self, nodes: &[Node]) -> Result<Out> {
        collect_macros(nodes, &mut self.macros);
        let mut out = Out::default();
        self.nodes(nodes, &mut out)?;
        Ok(out)
    }

    fn nodes(&mut self, nodes: &[Node], out: &mut Out) -> Result<()> {
        for n in nodes {
            self.node(n, out)?;
        }
        Ok(())
    }

    fn node(&mut self, n: &Node, out: &mut Out) -> Result<()> {
        match n {
            Node::Text(t) => out.push(t, false),
            Node::Print(e) => {
                let (v, secret) = self.eval(e)?;
                out.push(&v.to_output(), secret).map_err(|err| Error {
                    span: e.span.clone(),
                    ..err
                })
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    let (v, _) = self.eval(cond)?;
                    if condition(&v, "if", &cond.span)? {
                        return self.nodes(body, out);
                    }
                }
                if let Some(body) = otherwise {
                    self.nodes(body, out)?;
                }
                Ok(())
            }
            Node::For {
                key,
                var,
                iter,
                body,
                otherwise,
            } => {
                let (v, secret) = self.eval(iter)?;
                let items: Vec<(Value, Value)> = match &v {
                    Value::Null => Vec::new(),
                    Value::List(l) => l
                        .iter()
                        .enumerate()
                        .map(|(i, x)| (Value::Long(i as i64), x.clone()))
                        .collect(),
                    Value::Map(m) => m
                        .iter()
                        .map(|(k, x)| {
                            let entry: Map = [
                                ("key".to_string(), Value::from(k.as_str())),
                                ("value".to_string(), x.clone()),
                            ]
                            .into_iter()
                            .collect();
                            (
                                Value::from(k.as_str()),
                                if key.is_some() {
                                    x.clone()
                                } else {
                                    Value::from(entry)
                                },
                            )
                        })
                        .collect(),
                    other => {
                        return Err(Error::new(
                            ErrorKind::Type,
                            format!("`for` needs a list or a map, not a {}", other.kind()),
                            iter.span.clone(),
                        ));
                    }
                };
                if items.is_empty() {
                    if let Some(b) = otherwise {
                        self.nodes(b, out)?;
                    }
                    return Ok(());
                }
                let len = items.len();
                self.scopes.push(IndexMap::new());
                let mut r = Ok(());
                for (i, (k, item)) in items.into_iter().enumerate() {
                    let lp: Map = [
                        ("index".to_string(), Value::Long(i as i64)),
                        ("revindex".to_string(), Value::Long((len - i - 1) as i64)),
                        ("first".to_string(), Value::Bool(i == 0)),
                        ("last".to_string(), Value::Bool(i == len - 1)),
                        ("length".to_string(), Value::Long(len as i64)),
                    ]
                    .into_iter()
                    .collect();
                    let scope = self.scopes.last_mut().expect("pushed above");
                    scope.insert("loop".into(), (Value::from(lp), false));
                    scope.insert(var.clone(), (item, secret));
                    if let Some(kname) = key {
                        scope.insert(kname.clone(), (k, secret));
                    }
                    r = self.nodes(body, out);
                    if r.is_err() {
                        break;
                    }
                }
                self.scopes.pop();
                r
            }
            Node::Set { name, value } => {
                let tv = self.eval(value)?;
                if let Some(s) = self.scopes.last_mut() {
                    s.insert(name.clone(), tv);
                }
                Ok(())
            }
            Node::Filter {
                filters: calls,
                body,
            } => {
                let mut inner = Out::default();
                self.nodes(body, &mut inner)?;
                if calls.is_empty() {
                    // raw/verbatim/autoescape: the body as it is, spans kept.
                    let base = out.text.len();
                    out.push(&inner.text, false)?;
                    out.secret_spans.extend(
                        inner
                            .secret_spans
                            .iter()
                            .map(|r| r.start + base..r.end + base),
                    );
                    return Ok(());
                }
                let secret = inner.tainted();
                let mut v: Tv = (Value::from(inner.text), secret);
                for call in calls {
                    v = self.apply_filter(call, v, &call.name_span)?;
                }
                out.push(&v.0.to_output(), v.1)
            }
            Node::Macro(_) => Ok(()),
        }
    }

    pub(super) fn lookup(&self, name: &str) -> Option<Tv> {
        for s in self.scopes.iter().rev() {
            if let Some(v) = s.get(name) {
                return Some(v.clone());
            }
        }
        if self.isolated {
            return None;
        }
        self.root.get(name).map(|v| (v.clone(), false))
    }

    /// Evaluates, turning "undefined" into `None` (for `??`, `???`, `default`, `is defined`).
    fn eval_soft(&mut self, e: &Expr) -> Result<Option<Tv>> {
        match self.eval(e) {
            Ok(v) => Ok(Some(v)),
            Err(err) if err.kind == ErrorKind::Undefined => Ok(None),
            Err(err) => Err(err),
        }
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Tv> {
        match &e.kind {
            ExprKind::Literal(v) => Ok((v.clone(), false)),
            ExprKind::Interp(parts) => {
                let mut s = String::new();
                let mut secret = false;
                for p in parts {
                    match p {
                        StrPiece::Lit(l) => s.push_str(l),
                        StrPiece::Expr(x) => {
                            let (v, t) = self.eval(x)?;
                            secret |= t;
                            s.push_str(&v.to_output());
                        }
                    }
                }
                Ok((Value::from(s), secret))
            }
            ExprKind::Var(name) => self.lookup(name).ok_or_else(|| {
                let mut known: Vec<&str> = self.root.keys().map(String::as_str).collect();
                for s in &self.scopes {
                    known.extend(s.keys().map(String::as_str));
                }
                undefined(
                    format!(
                        "variable `{name}` is not defined{}",
                        crate::suggest::hint(name, known)
                    ),
                    &e.span,
                )
            }),
            ExprKind::Attr(base, name) => {
                let (b, t) = self.eval(base)?;
                Ok((attribute(&b, &Value::from(name.as_str()), &e.span)?, t))
            }
            ExprKind::Index(base, idx) => {
                let (b, t1) = self.eval(base)?;
                let (i, t2) = self.eval(idx)?;
                Ok((attribute(&b, &i, &e.span)?, t1 || t2))
            }
            ExprKind::List(items) => {
                let mut v = Vec::with_capacity(items.len());
                let mut secret = false;
                for x in items {
                    let (y, t) = self.eval(x)?;
                    secret |= t;
                    v.push(y);
                }
                Ok((Value::from(v), secret))
            }
            ExprKind::Map(items) => {
                let mut m = Map::new();
                let mut secret = false;
                for (k, x) in items {
                    let (kv, t1) = self.eval(k)?;
                    let (y, t2) = self.eval(x)?;
                    secret |= t1 || t2;
                    m.insert(kv.to_java_string(), y);
                }
                Ok((Value::from(m), secret))
            }
            ExprKind::Unary(op, x) => {
                let (v, t) = self.eval(x)?;
                let r = match op {
                    UnOp::Not => {
                        if v.is_null() {
                            return Err(Error::new(
                                ErrorKind::Type,
                                "null value given to `not` (strict variables)",
                                e.span.clone(),
                            ));
                        }
                        Value::Bool(!condition(&v, "not", &x.span)?)
                    }
                    UnOp::Neg => arith(BinOp::Mul, &Value::Long(-1), &v)
                        .map_err(|m| Error::new(ErrorKind::Type, m, e.span.clone()))?,
                    UnOp::Plus => arith(BinOp::Mul, &Value::Long(1), &v)
                        .map_err(|m| Error::new(ErrorKind::Type, m, e.span.clone()))?,
                };
                Ok((r, t))
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, &e.span),
            ExprKind::Ternary(c, a, b) => {
                let (cv, t) = self.eval(c)?;
                let (v, t2) = if condition(&cv, "?:", &c.span)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                };
                Ok((v, t || t2))
            }
            ExprKind::Filter(input, call) => {
                let v = if call.name == "default" {
                    self.eval_soft(input)?.unwrap_or((Value::Null, false))
                } else {
                    self.eval(input)?
                };
                self.apply_filter(call, v, &e.span)
            }
            ExprKind::Test {
                input,
                name,
                name_span,
                args,
                negate,
            } => {
                let (v, t) = if name == "defined" {
                    match self.eval_soft(input)? {
                        Some(_) => (Value::Bool(true), false),
                        None => (Value::Bool(false), false),
                    }
                } else {
                    let sig = registry::check(Family::Test, name, name_span, args, &e.span)?;
                    let (input, t) = self.eval(input)?;
                    let (bound, t2) = self.bind(sig, args)?;
                    let r = predicates::apply(name, &input, &bound)
                        .map_err(|c| Error::new(c.kind, c.message, e.span.clone()))?;
                    (Value::Bool(r), t || t2)
                };
                let b = matches!(v, Value::Bool(true));
                Ok((Value::Bool(b != *negate), t))
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => {
                if let Some(m) = self.macros.get(name).cloned() {
                    return self.call_macro(&m, args, &e.span);
                }
                let sig = registry::check(Family::Function, name, name_span, args, &e.span)?;
                let (bound, t) = self.bind(sig, args)?;
                let (v, t2) = functions::call(self, name, &bound, &e.span)
                    .map_err(|c| Error::new(c.kind, c.message, e.span.clone()))?;
                Ok((v, t || t2))
            }
        }
    }

    fn bind(&mut self, sig: &'static Sig, args: &Args) -> Result<(Bound, bool)> {
        let mut values = vec![None; sig.args.len()];
        let mut rest = Vec::new();
        let mut secret = false;
        for (i, a) in args.positional.iter().enumerate() {
            let (v, t) = self.eval(a)?;
            secret |= t;
            if sig.variadic {
                rest.push(v);
            } else if let Some(slot) = values.get_mut(i) {
                *slot = Some(v);
            }
        }
        for (n, a) in &args.named {
            let (v, t) = self.eval(a)?;
            secret |= t;
            if let Some(i) = sig.args.iter().position(|x| x == n) {
                values[i] = Some(v);
            }
        }
        Ok((Bound { sig, values, rest }, secret))
    }

    fn apply_filter(&mut self, call: &FilterCall, (input, t): Tv, span: &Span) -> Result<Tv> {
        let sig = registry::check(
            Family::Filter,
            &call.name,
            &call.name_span,
            &call.args,
            span,
        )?;
        let (bound, t2) = self.bind(sig, &call.args)?;
        if call.name == "json" {
            self.warnings.push(Warning {
                message: "filter `json` was removed from Kestra: use `toJson` (to write JSON) or `fromJson` (to read it)".into(),
                span: call.name_span.clone(),
            });
        }
        let v = filters::apply(self, &call.name, input, &bound)
            .map_err(|c| Error::new(c.kind, c.message, span.clone()))?;
        Ok((v, t || t2))
    }

    fn call_macro(&mut self, m: &Macro, args: &Args, span: &Span) -> Result<Tv> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("macro `{}` nested deeper than {MAX_CALL_DEPTH}", m.name),
                span.clone(),
            ));
        }
        if args.positional.len() > m.params.len() {
            return Err(Error::new(
                ErrorKind::Arity,
                format!("macro `{}` takes {} arguments", m.name, m.params.len()),
                span.clone(),
            ));
        }
        let mut scope = IndexMap::new();
        let mut secret = false;
        for (i, (p, default)) in m.params.iter().enumerate() {
            let given = args
                .positional
                .get(i)
                .or_else(|| args.named.iter().find(|(n, _)| n == p).map(|(_, e)| e));
            let tv = match (given, default) {
                (Some(e), _) => self.eval(e)?,
                (None, Some(d)) => self.eval(d)?,
                (None, None) => (Value::Null, false),
            };
            secret |= tv.1;
            scope.insert(p.clone(), tv);
        }
        // A macro sees only its arguments (and other macros), as in Pebble.
        let saved = std::mem::replace(&mut self.scopes, vec![scope]);
        let floor = std::mem::replace(&mut self.isolated, true);
        self.depth += 1;
        let mut out = Out::default();
        let r = self.nodes(&m.body, &mut out);
        self.depth -= 1;
        self.isolated = floor;
        self.scopes = saved;
        r?;
        let t = out.tainted() || secret;
        Ok((Value::from(out.text), t))
    }

    /// Renders `text` as a template in the current context (Kestra's `render()`).
    pub fn render_string(&mut self, text: &str, span: &Span) -> Result<Tv> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("render() nested deeper than {MAX_CALL_DEPTH}"),
                span.clone(),
            ));
        }
        let t = super::Template::parse(text).map_err(|e| {
            Error::new(
                e.kind,
                format!("in rendered text: {}", e.message),
                span.clone(),
            )
        })?;
        self.depth += 1;
        collect_macros(&t.nodes, &mut self.macros);
        let mut out = Out::default();
        let r = self.nodes(&t.nodes, &mut out);
        self.depth -= 1;
        r.map_err(|e| Error {
            span: span.clone(),
            message: format!("in rendered text: {}", e.message),
            ..e
        })?;
        let tainted = out.tainted();
        Ok((Value::from(out.text), tainted))
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, span: &Span) -> Result<Tv> {
        let ty = |m: String| Error::new(ErrorKind::Type, m, span.clone());
        match op {
            BinOp::NullCoalesce => {
                return match self.eval_soft(l)? {
                    Some((v, t)) if !v.is_null() => Ok((v, t)),
                    _ => self.eval(r),
                };
            }
            BinOp::UndefinedCoalesce => {
                return match self.eval_soft(l)? {
                    Some(v) => Ok(v),
                    None => self.eval(r),
                };
            }
            BinOp::And | BinOp::Or => {
                let (a, t) = self.eval(l)?;
                let av = logic(&a, &l.span)?;
                if (op == BinOp::And) != av {
                    return Ok((Value::Bool(av), t));
                }
                let (b, t2) = self.eval(r)?;
                return Ok((Value::Bool(logic(&b, &r.span)?), t || t2));
            }
            _ => {}
        }
        let (a, t1) = self.eval(l)?;
        let (b, t2) = self.eval(r)?;
        let t = t1 || t2;
        let v = match op {
            BinOp::Eq => Value::Bool(a == b),
            BinOp::Ne => Value::Bool(a != b),
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                Value::Bool(compare(op, &a, &b).map_err(ty)?)
            }
            BinOp::Contains => Value::Bool(contains(&a, &b).map_err(ty)?),
            BinOp::In => Value::Bool(contains(&b, &a).map_err(ty)?),
            BinOp::NotIn => Value::Bool(!contains(&b, &a).map_err(ty)?),
            BinOp::Concat => {
                let mut s = a.to_output();
                s.push_str(&b.to_output());
                Value::from(s)
            }
            BinOp::Range => {
                range(&a, &b, 1).map_err(|m| Error::new(ErrorKind::Runtime, m, span.clone()))?
            }
            _ => arith(op, &a, &b).map_err(|m| Error::new(ErrorKind::Runtime, m, span.clone()))?,
        };
        Ok((v, t))
    }
}

fn collect_macros(nodes: &[Node], into: &mut HashMap<String, Rc<Macro>>) {
    for n in nodes {
        match n {
            Node::Macro(m) => {
                into.insert(m.name.clone(), m.clone());
            }
            Node::If {
                branches,
                otherwise,
            } => {
                for (_, b) in branches {
                    collect_macros(b, into);
                }
                if let Some(b) = otherwise {
                    collect_macros(b, into);
                }
            }
            Node::For {
                body, otherwise, ..
            } => {
                collect_macros(body, into);
                if let Some(b) = otherwise {
                    collect_macros(b, into);
                }
            }
            Node::Filter { body, .. } => collect_macros(body, into),
            _ => {}
        }
    }
}

/// Pebble's `if` condition: booleans, numbers (non-zero) and strings (non-empty); null is an
/// error with strict variables; lists and maps are refused.
pub fn condition(v: &Value, what: &str, span: &Span) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Long(n) => Ok(*n != 0),
        Value::Double(d) => Ok(!d.is_nan() && *d != 0.0),
        Value::String(s) => Ok(!s.is_empty()),
        Value::Null => Err(Error::new(
            ErrorKind::Type,
            format!("null value given to `{what}` (strict variables)"),
            span.clone(),
        )),
        other => Err(Error::new(
            ErrorKind::Type,
            format!(
                "a {} given to `{what}`: expected a boolean, string or number",
                other.kind()
            ),
            span.clone(),
        )),
    }
}

/// Operand of `and`/`or`: as a condition, with null as false.
fn logic(v: &Value, span: &Span) -> Result<bool> {
    if v.is_null() {
        Ok(false)
    } else {
        condition(v, "and/or", span)
    }
}

/// Attribute or index access, strict: a missing key or index is an error.
pub fn attribute(base: &Value, key: &Value, span: &Span) -> Result<Value> {
    let shown = || match key {
        Value::String(s) => s.to_string(),
        other => other.to_java_string(),
    };
    match base {
        Value::Map(m) => {
            let k = key.to_java_string();
            m.get(&k).cloned().ok_or_else(|| {
                undefined(
                    format!(
                        "attribute `{}` does not exist{}",
                        shown(),
                        crate::suggest::hint(&k, m.keys().map(String::as_str))
                    ),
                    span,
                )
            })
        }
        Value::List(l) => {
            let i = match key {
                Value::Long(n) => Some(*n),
                Value::String(s) => s.parse::<i64>().ok(),
                _ => None,
            };
            match i {
                Some(i) if i >= 0 && (i as usize) < l.len() => Ok(l[i as usize].clone()),
                Some(i) => Err(undefined(
                    format!("index {i} is out of bounds (list of {})", l.len()),
                    span,
                )),
                None => Err(undefined(
                    format!("attribute `{}` does not exist on a list", shown()),
                    span,
                )),
            }
        }
        Value::Null => Err(undefined(
            format!("attribute `{}` of a null value (strict variables)", shown()),
            span,
        )),
        other => Err(undefined(
            format!(
                "attribute `{}` does not exist on a {}",
                shown(),
                other.kind()
            ),
            span,
        )),
    }
}

fn contains(container: &Value, item: &Value) -> std::result::Result<bool, String> {
    Ok(match container {
        Value::Null => false,
        Value::List(l) => match item {
            Value::List(items) => items.iter().all(|x| l.contains(x)),
            x => l.contains(x),
        },
        Value::Map(m) => m.contains_key(&item.to_java_string()),
        Value::String(s) => s.contains(&item.to_java_string()),
        other => {
            return Err(format!(
                "`contains` works on lists, maps and strings, not on a {}",
                other.kind()
            ));
        }
    })
}

/// `<`, `>`, `<=`, `>=`: numbers as doubles; strings by their text (Kestra's comparison
/// expressions accept comparable values); null compares false.
fn compare(op: BinOp, a: &Value, b: &Value) -> std::result::Result<bool, String> {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Null, _) | (_, Value::Null) => return Ok(false),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Long(x), Value::Long(y)) => x.cmp(y),
        _ => {
            let x = num_f64(a)
                .ok_or_else(|| format!("cannot compare a {} with a {}", a.kind(), b.kind()))?;
            let y = num_f64(b)
                .ok_or_else(|| format!("cannot compare a {} with a {}", a.kind(), b.kind()))?;
            match x.partial_cmp(&y) {
                Some(o) => o,
                None => return Ok(false),
            }
        }
    };
    Ok(match op {
        BinOp::Lt => ord == Ordering::Less,
        BinOp::Gt => ord == Ordering::Greater,
        BinOp::Le => ord != Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

fn num_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Long(n) => Some(*n as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

/// Pebble's `OperatorUtils`: `+` concatenates when either side is a string and appends to a
/// list; `-` removes from a list; otherwise long arithmetic unless a double is involved.
pub fn arith(op: BinOp, a: &Value, b: &Value) -> std::result::Result<Value, String> {
    if op == BinOp::Add {
        if matches!(a, Value::String(_)) || matches!(b, Value::String(_)) {
            return Ok(Value::from(a.to_java_string() + &b.to_java_string()));
        }
        if let Value::List(l) = a {
            let mut v = (**l).clone();
            match b {
                Value::List(m) => v.extend(m.iter().cloned()),
                x => v.push(x.clone()),
            }
            return Ok(Value::from(v));
        }
    }
    if op == BinOp::Sub
        && let Value::List(l) = a
    {
        let mut v = (**l).clone();
        match b {
            Value::List(m) => v.retain(|x| !m.contains(x)),
            x => {
                if let Some(i) = v.iter().position(|y| y == x) {
                    v.remove(i);
                }
            }
        }
        return Ok(Value::from(v));
    }
    let x = to_number(a)?;
    let y = to_number(b)?;
    match (x, y) {
        (Value::Long(x), Value::Long(y)) => {
            let r = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div => {
                    if y == 0 {
                        return Err("division by zero".into());
                    }
                    x.checked_div(y)
                }
                _ => {
                    if y == 0 {
                        return Err("division by zero".into());
                    }
                    x.checked_rem(y)
                }
            };
            // Java's long arithmetic wraps around on overflow.
            Ok(Value::Long(r.unwrap_or_else(|| match op {
                BinOp::Add => x.wrapping_add(y),
                BinOp::Sub => x.wrapping_sub(y),
                BinOp::Mul => x.wrapping_mul(y),
                BinOp::Div => x.wrapping_div(y),
                _ => x.wrapping_rem(y),
            })))
        }
        (x, y) => {
            let (x, y) = (
                num_f64(&x).unwrap_or(f64::NAN),
                num_f64(&y).unwrap_or(f64::NAN),
            );
            Ok(Value::Double(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x % y,
            }))
        }
    }
}

/// Pebble's range: inclusive, step `inc`; single characters give a range of characters.
pub fn range(a: &Value, b: &Value, inc: i64) -> std::result::Result<Value, String> {
    if let (Value::String(x), Value::String(y)) = (a, b) {
        let (mut cx, mut cy) = (x.chars(), y.chars());
        if let (Some(s), None, Some(e), None) = (cx.next(), cx.next(), cy.next(), cy.next()) {
            let (s, e) = (s as i64, e as i64);
            let list = range(&Value::Long(s), &Value::Long(e), inc)?;
            if let Value::List(l) = list {
                return Ok(Value::from(
                    l.iter()
                        .filter_map(|v| {
                            if let Value::Long(n) = v {
                                char::from_u32(*n as u32).map(|c| Value::from(c.to_string()))
                            } else {
                                None
                            }
                        })
                        .collect::<Vec<_>>(),
                ));
            }
        }
    }
    let s = to_long(a)?;
    let e = to_long(b)?;
    if inc == 0 {
        return Err("range increment must not be zero".into());
    }
    let count = if inc > 0 {
        if e < s {
            0
        } else {
            (e as i128 - s as i128) / inc as i128 + 1
        }
    } else if e > s {
        0
    } else {
        (s as i128 - e as i128) / (-inc as i128) + 1
    };
    if count > MAX_RANGE as i128 {
        return Err(format!(
            "range of {count} elements is larger than {MAX_RANGE}"
        ));
    }
    Ok(Value::from(
        (0..count as i64)
            .map(|i| Value::Long(s + i * inc))
            .collect::<Vec<_>>(),
    ))
}
