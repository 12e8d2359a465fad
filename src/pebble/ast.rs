//! The syntax tree of a parsed template. Every expression keeps the byte span of its text so
//! errors and static analysis can point inside the template.

use super::value::Value;
use std::ops::Range;

pub type Span = Range<usize>;

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Print(Expr),
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    For {
        key: Option<String>,
        var: String,
        iter: Expr,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    Set {
        name: String,
        value: Expr,
    },
    Filter {
        filters: Vec<FilterCall>,
        body: Vec<Node>,
    },
    Macro(std::rc::Rc<Macro>),
}

#[derive(Debug, Clone)]
pub struct Macro {
    pub name: String,
    pub params: Vec<(String, Option<Expr>)>,
    pub body: Vec<Node>,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Contains,
    In,
    NotIn,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Range,
    /// `??`: the right side when the left is undefined or null.
    NullCoalesce,
    /// `???`: the right side only when the left is undefined.
    UndefinedCoalesce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
    Plus,
}

/// Arguments of a filter, function, test or macro call: positional first, then `name=value`.
#[derive(Debug, Clone, Default)]
pub struct Args {
    pub positional: Vec<Expr>,
    pub named: Vec<(String, Expr)>,
}

#[derive(Debug, Clone)]
pub struct FilterCall {
    pub name: String,
    pub name_span: Span,
    pub args: Args,
}

#[derive(Debug, Clone)]
pub enum StrPiece {
    Lit(String),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Literal(Value),
    /// A string with `#{ }` interpolations.
    Interp(Vec<StrPiece>),
    Var(String),
    Attr(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Filter(Box<Expr>, FilterCall),
    Test {
        input: Box<Expr>,
        name: String,
        name_span: Span,
        args: Args,
        negate: bool,
    },
    Call {
        name: String,
        name_span: Span,
        args: Args,
    },
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
}
