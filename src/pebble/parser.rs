//! Builds the syntax tree from tokens: tags (`if`/`elseif`/`else`, `for … in … else`, `set`,
//! `raw`, `filter`, `macro`) and expressions by precedence climbing with Pebble's operator
//! table (CoreExtension) plus Kestra's `??`/`???` (precedence 120):
//! `or` 10, `and` 15, `is`/`is not`/`contains` 20, `==` `!=` `<` `>` `<=` `>=` `equals` `in`
//! `not in` 30, `+` `-` 40, `*` `/` `%` 60, `|` 100, `~` 110, `..` `??` `???` 120, unary
//! `not` `-` `+` 500, then the ternary `? :` around a whole expression.

use super::ast::*;
use super::error::{Error, ErrorKind, Result};
use super::lexer::{StrPart, Tok, Token};
use super::value::Value;

/// Deepest nesting of expressions and tags accepted, so no input can overflow the stack.
const MAX_DEPTH: usize = 64;

pub fn parse(tokens: &[Token]) -> Result<Vec<Node>> {
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        depth: 0,
    };
    let (nodes, end) = p.nodes(&[])?;
    if let Some((name, span)) = end {
        return Err(Error::new(
            ErrorKind::Syntax,
            format!("unexpected `{{% {name} %}}`"),
            span,
        ));
    }
    Ok(nodes)
}

/// The closing tag that ended a body (`endif`, `else`, …) and its span.
type EndTag = Option<(String, Span)>;

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    depth: usize,
}

fn binop(word: &str) -> Option<(BinOp, u32)> {
    Some(match word {
        "or" => (BinOp::Or, 10),
        "and" => (BinOp::And, 15),
        "contains" => (BinOp::Contains, 20),
        "==" | "equals" => (BinOp::Eq, 30),
        "!=" => (BinOp::Ne, 30),
        "<" => (BinOp::Lt, 30),
        ">" => (BinOp::Gt, 30),
        "<=" => (BinOp::Le, 30),
        ">=" => (BinOp::Ge, 30),
        "in" => (BinOp::In, 30),
        "+" => (BinOp::Add, 40),
        "-" => (BinOp::Sub, 40),
        "*" => (BinOp::Mul, 60),
        "/" => (BinOp::Div, 60),
        "%" => (BinOp::Mod, 60),
        "~" => (BinOp::Concat, 110),
        ".." => (BinOp::Range, 120),
        "??" => (BinOp::NullCoalesce, 120),
        "???" => (BinOp::UndefinedCoalesce, 120),
        _ => return None,
    })
}

impl<'t> Parser<'t> {
    fn peek(&self) -> &'t Token {
        // The token list always ends with Eof; stay on it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    fn peek_at(&self, n: usize) -> &'t Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }
    fn bump(&mut self) -> &'t Token {
        let t = self.peek();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(&self.peek().tok, Tok::Op(o) if *o == op)
    }
    fn is_name(&self, n: &str) -> bool {
        matches!(&self.peek().tok, Tok::Name(w) if w == n)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect_op(&mut self, op: &str) -> Result<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{op}`")))
        }
    }
    fn unexpected(&self, wanted: &str) -> Error {
        let t = self.peek();
        let got = match &t.tok {
            Tok::Eof => "end of template".to_string(),
            Tok::PrintClose => "`}}`".to_string(),
            Tok::TagClose => "`%}`".to_string(),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Op(o) => format!("`{o}`"),
            Tok::Long(n) => format!("`{n}`"),
            Tok::Double(n) => format!("`{n}`"),
            Tok::Str(_) => "a string".to_string(),
            Tok::Text(_) => "text".to_string(),
            Tok::PrintOpen => "`{{`".to_string(),
            Tok::TagOpen => "`{%`".to_string(),
        };
        Error::new(
            ErrorKind::Syntax,
            format!("expected {wanted}, found {got}"),
            t.span.clone(),
        )
    }
    fn name(&mut self, what: &str) -> Result<(String, Span)> {
        match &self.peek().tok {
            Tok::Name(n) => {
                let span = self.bump().span.clone();
                Ok((n.clone(), span))
            }
            _ => Err(self.unexpected(what)),
        }
    }
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::new(
                ErrorKind::Limit,
                "template nested too deeply",
                self.peek().span.clone(),
            ));
        }
        Ok(())
    }

    /// Nodes up to one of the `ends` tags (returned with its span) or the end of the template.
    fn nodes(&mut self, ends: &[&str]) -> Result<(Vec<Node>, EndTag)> {
        self.enter()?;
        let mut out = Vec::new();
        loop {
            let t = self.peek();
            match &t.tok {
                Tok::Eof => {
                    self.depth -= 1;
                    return Ok((out, None));
                }
                Tok::Text(s) => {
                    self.bump();
                    out.push(Node::Text(s.clone()));
                }
                Tok::PrintOpen => {
                    self.bump();
                    let e = self.expr()?;
                    if !matches!(self.peek().tok, Tok::PrintClose) {
                        return Err(self.unexpected("`}}`"));
                    }
                    self.bump();
                    out.push(Node::Print(e));
                }
                Tok::TagOpen => {
                    let open = t.span.clone();
                    self.bump();
                    let (tag, span) = self.name("a tag name")?;
                    if ends.contains(&tag.as_str()) || (tag.starts_with("end") && !ends.is_empty())
                    {
                        self.depth -= 1;
                        return Ok((out, Some((tag, span))));
                    }
                    if let Some(n) = self.tag(&tag, open.start..span.end)? {
                        out.push(n);
                    }
                }
                _ => return Err(self.unexpected("text or a delimiter")),
            }
        }
    }

    fn close_tag(&mut self) -> Result<()> {
        if matches!(self.peek().tok, Tok::TagClose) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected("`%}`"))
        }
    }

    fn body(&mut self, tag: &str, span: &Span, ends: &[&str]) -> Result<(Vec<Node>, String)> {
        let (nodes, end) = self.nodes(ends)?;
        match end {
            Some((e, espan)) => {
                if !ends.contains(&e.as_str()) {
                    return Err(Error::new(
                        ErrorKind::Syntax,
                        format!("unexpected `{{% {e} %}}` inside `{{% {tag} %}}`"),
                        espan,
                    ));
                }
                Ok((nodes, e))
            }
            None => Err(Error::new(
                ErrorKind::Syntax,
                format!("`{{% {tag} %}}` is never closed by `{{% end{tag} %}}`"),
                span.clone(),
            )),
        }
    }

    fn tag(&mut self, tag: &str, span: Span) -> Result<Option<Node>> {
        match tag {
            "if" => {
                let mut branches = Vec::new();
                let mut cond = self.expr()?;
                self.close_tag()?;
                loop {
                    let (body, end) = self.body("if", &span, &["elseif", "else", "endif"])?;
                    branches.push((cond, body));
                    match end.as_str() {
                        "elseif" => {
                            cond = self.expr()?;
                            self.close_tag()?;
                        }
                        "else" => {
                            self.close_tag()?;
                            let (body, _) = self.body("if", &span, &["endif"])?;
                            self.close_tag()?;
                            return Ok(Some(Node::If {
                                branches,
                                otherwise: Some(body),
                            }));
                        }
                        _ => {
                            self.close_tag()?;
                            return Ok(Some(Node::If {
                                branches,
                                otherwise: None,
                            }));
                        }
                    }
                }
            }
            "for" => {
                let (mut var, _) = self.name("a loop variable")?;
                let mut key = None;
                if self.eat_op(",") {
                    let (v2, _) = self.name("a loop variable")?;
                    key = Some(var);
                    var = v2;
                }
                if !self.is_name("in") {
                    return Err(self.unexpected("`in`"));
                }
                self.bump();
                let iter = self.expr()?;
                self.close_tag()?;
                let (body, end) = self.body("for", &span, &["else", "endfor"])?;
                self.close_tag()?;
                let otherwise = if end == "else" {
                    let (b, _) = self.body("for", &span, &["endfor"])?;
                    self.close_tag()?;
                    Some(b)
                } else {
                    None
                };
                Ok(Some(Node::For {
                    key,
                    var,
                    iter,
                    body,
                    otherwise,
                }))
            }
            "set" => {
                let (name, _) = self.name("a variable name")?;
                self.expect_op("=")?;
                let value = self.expr()?;
                self.close_tag()?;
                Ok(Some(Node::Set { name, value }))
            }
            "raw" | "verbatim" => {
                self.close_tag()?;
                let (body, _) = self.body(tag, &span, &[&format!("end{tag}")])?;
                self.close_tag()?;
                Ok(Some(Node::Filter {
                    filters: Vec::new(),
                    body,
                }))
            }
            "filter" => {
                let mut filters = vec![self.filter_call()?];
                while self.eat_op("|") {
                    filters.push(self.filter_call()?);
                }
                self.close_tag()?;
                let (body, _) = self.body("filter", &span, &["endfilter"])?;
                self.close_tag()?;
                Ok(Some(Node::Filter { filters, body }))
            }
            "macro" => {
                let (name, _) = self.name("a macro name")?;
                self.expect_op("(")?;
                let mut params = Vec::new();
                while !self.is_op(")") {
                    let (p, _) = self.name("a parameter name")?;
                    let default = if self.eat_op("=") {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    params.push((p, default));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op(")")?;
                self.close_tag()?;
                let (body, _) = self.body("macro", &span, &["endmacro"])?;
                self.close_tag()?;
                Ok(Some(Node::Macro(std::rc::Rc::new(Macro {
                    name,
                    params,
                    body,
                }))))
            }
            "autoescape" => {
                // Kestra turns autoescaping off; the tag's strategy changes nothing here.
                while !matches!(self.peek().tok, Tok::TagClose | Tok::Eof) {
                    self.bump();
                }
                self.close_tag()?;
                let (body, _) = self.body("autoescape", &span, &["endautoescape"])?;
                self.close_tag()?;
                Ok(Some(Node::Filter {
                    filters: Vec::new(),
                    body,
                }))
            }
            _ => {
                let known = super::registry::TAGS;
                let unsupported = super::registry::UNSUPPORTED_TAGS;
                let msg = if unsupported.contains(&tag) {
                    format!(
                        "tag `{tag}` is not supported by dockhand (templates are single strings)"
                    )
                } else {
                    format!(
                        "unknown tag `{tag}`{}",
                        crate::suggest::hint(tag, known.iter().copied())
                    )
                };
                let kind = if unsupported.contains(&tag) {
                    ErrorKind::NotImplemented
                } else {
                    ErrorKind::Unknown
                };
                Err(Error::new(kind, msg, span))
            }
        }
    }

    fn filter_call(&mut self) -> Result<FilterCall> {
        let (name, name_span) = self.name("a filter name")?;
        let args = if self.is_op("(") {
            self.args()?
        } else {
            Args::default()
        };
        Ok(FilterCall {
            name,
            name_span,
            args,
        })
    }

    /// `( a, b, name=c )`.
    fn args(&mut self) -> Result<Args> {
        self.expect_op("(")?;
        let mut args = Args::default();
        while !self.is_op(")") {
            let named = matches!(&self.peek().tok, Tok::Name(_))
                && matches!(self.peek_at(1).tok, Tok::Op("="));
            if named {
                let (n, _) = self.name("an argument name")?;
                self.bump();
                let e = self.expr()?;
                args.named.push((n, e));
            } else {
                let e = self.expr()?;
                if !args.named.is_empty() {
                    return Err(Error::new(
                        ErrorKind::Syntax,
                        "a positional argument after a named one",
                        e.span,
                    ));
                }
                args.positional.push(e);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok(args)
    }

    pub fn expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let cond = self.binary(0)?;
        let r = if self.eat_op("?") {
            let a = self.expr()?;
            self.expect_op(":")?;
            let b = self.expr()?;
            let span = cond.span.start..b.span.end;
            Expr {
                kind: ExprKind::Ternary(Box::new(cond), Box::new(a), Box::new(b)),
                span,
            }
        } else {
            cond
        };
        self.depth -= 1;
        Ok(r)
    }

    fn binary(&mut self, min: u32) -> Result<Expr> {
        self.enter()?;
        let mut left = self.unary()?;
        loop {
            let t = self.peek();
            let word: &str = match &t.tok {
                Tok::Op(o) => o,
                Tok::Name(n) => n.as_str(),
                _ => break,
            };
            if word == "|" {
                if 100 < min {
                    break;
                }
                self.bump();
                let f = self.filter_call()?;
                let span = left.span.start..f.name_span.end.max(self.prev_end());
                left = Expr {
                    kind: ExprKind::Filter(Box::new(left), f),
                    span,
                };
                continue;
            }
            if word == "is" {
                if 20 < min {
                    break;
                }
                self.bump();
                let negate = if self.is_name("not") {
                    self.bump();
                    true
                } else {
                    false
                };
                let (name, name_span) = self.name("a test name")?;
                let args = if self.is_op("(") {
                    self.args()?
                } else {
                    Args::default()
                };
                let span = left.span.start..self.prev_end();
                left = Expr {
                    kind: ExprKind::Test {
                        input: Box::new(left),
                        name,
                        name_span,
                        args,
                        negate,
                    },
                    span,
                };
                continue;
            }
            let (op, prec) =
                if word == "not" && matches!(&self.peek_at(1).tok, Tok::Name(n) if n == "in") {
                    (BinOp::NotIn, 30)
                } else if let Some(x) = binop(word) {
                    x
                } else {
                    break;
                };
            if prec < min {
                break;
            }
            self.bump();
            if op == BinOp::NotIn {
                self.bump();
            }
            let right = self.binary(prec + 1)?;
            let span = left.span.start..right.span.end;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
        }
        self.depth -= 1;
        Ok(left)
    }

    fn prev_end(&self) -> usize {
        self.toks[self.pos.saturating_sub(1)].span.end
    }

    fn unary(&mut self) -> Result<Expr> {
        let t = self.peek();
        let op = match &t.tok {
            Tok::Name(n) if n == "not" => Some(UnOp::Not),
            Tok::Op("-") => Some(UnOp::Neg),
            Tok::Op("+") => Some(UnOp::Plus),
            _ => None,
        };
        if let Some(op) = op {
            let start = self.bump().span.start;
            self.enter()?;
            let e = self.binary(500)?;
            self.depth -= 1;
            let span = start..e.span.end;
            // Fold `-1` to a literal so it prints and compares as the number.
            if let (UnOp::Neg, ExprKind::Literal(Value::Long(n))) = (op, &e.kind) {
                return Ok(Expr {
                    kind: ExprKind::Literal(Value::Long(n.wrapping_neg())),
                    span,
                });
            }
            if let (UnOp::Neg, ExprKind::Literal(Value::Double(n))) = (op, &e.kind) {
                return Ok(Expr {
                    kind: ExprKind::Literal(Value::Double(-n)),
                    span,
                });
            }
            return Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(e)),
                span,
            });
        }
        let p = self.primary()?;
        self.postfix(p)
    }

    fn postfix(&mut self, mut e: Expr) -> Result<Expr> {
        loop {
            if self.is_op(".") {
                self.bump();
                let t = self.peek();
                let attr = match &t.tok {
                    Tok::Name(n) => n.clone(),
                    Tok::Long(n) => n.to_string(),
                    _ => return Err(self.unexpected("an attribute name")),
                };
                self.bump();
                if self.is_op("(") {
                    return Err(Error::new(
                        ErrorKind::NotImplemented,
                        format!(
                            "calling method `{attr}` on a value is not supported (Java methods do not exist here)"
                        ),
                        t.span.clone(),
                    ));
                }
                let span = e.span.start..t.span.end;
                e = Expr {
                    kind: ExprKind::Attr(Box::new(e), attr),
                    span,
                };
            } else if self.is_op("[") {
                self.bump();
                let i = self.expr()?;
                self.expect_op("]")?;
                let span = e.span.start..self.prev_end();
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), Box::new(i)),
                    span,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let t = self.peek();
        let span = t.span.clone();
        let kind = match &t.tok {
            Tok::Long(n) => {
                self.bump();
                ExprKind::Literal(Value::Long(*n))
            }
            Tok::Double(n) => {
                self.bump();
                ExprKind::Literal(Value::Double(*n))
            }
            Tok::Str(parts) => {
                self.bump();
                self.string(parts)?
            }
            Tok::Name(n) => {
                self.bump();
                match n.as_str() {
                    "true" | "TRUE" => ExprKind::Literal(Value::Bool(true)),
                    "false" | "FALSE" => ExprKind::Literal(Value::Bool(false)),
                    "null" | "NULL" | "none" | "NONE" => ExprKind::Literal(Value::Null),
                    _ if self.is_op("(") => {
                        let args = self.args()?;
                        let span = span.start..self.prev_end();
                        return Ok(Expr {
                            kind: ExprKind::Call {
                                name: n.clone(),
                                name_span: t.span.clone(),
                                args,
                            },
                            span,
                        });
                    }
                    _ => ExprKind::Var(n.clone()),
                }
            }
            Tok::Op("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_op(")")?;
                return Ok(Expr {
                    kind: e.kind,
                    span: span.start..self.prev_end(),
                });
            }
            Tok::Op("[") => {
                self.bump();
                let mut items = Vec::new();
                while !self.is_op("]") {
                    items.push(self.expr()?);
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op("]")?;
                ExprKind::List(items)
            }
            Tok::Op("{") => {
                self.bump();
                let mut items = Vec::new();
                while !self.is_op("}") {
                    let k = self.expr()?;
                    self.expect_op(":")?;
                    let v = self.expr()?;
                    items.push((k, v));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op("}")?;
                ExprKind::Map(items)
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(Expr {
            kind,
            span: span.start..self.prev_end().max(span.end),
        })
    }

    fn string(&mut self, parts: &[StrPart]) -> Result<ExprKind> {
        if let [StrPart::Lit(s)] = parts {
            return Ok(ExprKind::Literal(Value::from(s.as_str())));
        }
        let mut out = Vec::new();
        for p in parts {
            match p {
                StrPart::Lit(s) => out.push(StrPiece::Lit(s.clone())),
                StrPart::Interp(toks) => {
                    if toks.len() <= 1 {
                        let at = toks.first().map(|t| t.span.clone()).unwrap_or(0..0);
                        return Err(Error::new(
                            ErrorKind::Syntax,
                            "empty `#{}` interpolation",
                            at,
                        ));
                    }
                    let mut sub = Parser {
                        toks,
                        pos: 0,
                        depth: self.depth,
                    };
                    let e = sub.expr()?;
                    if !matches!(sub.peek().tok, Tok::Eof) {
                        return Err(sub.unexpected("`}`"));
                    }
                    out.push(StrPiece::Expr(e));
                }
            }
        }
        Ok(ExprKind::Interp(out))
    }
}
