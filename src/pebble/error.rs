//! Errors of parsing, checking and rendering a template. Every error carries the byte span of the
//! piece of template text it is about (relative to the template string), so a caller can map it
//! into its file and print `file:line:col`.

use std::fmt;
use std::ops::Range;

/// What went wrong, for callers (and conformance tests) that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template text is not well formed.
    Syntax,
    /// A filter, function, test or tag that does not exist.
    Unknown,
    /// A filter, function or test called with the wrong number or names of arguments.
    Arity,
    /// A variable or attribute that does not exist (Kestra's strict variables).
    Undefined,
    /// A value of the wrong kind for an operation or filter.
    Type,
    /// The host (secrets, KV store, files, clock) refused or failed.
    Host,
    /// A Kestra function that dockhand does not implement.
    NotImplemented,
    /// Any other failure while rendering (division by zero, bad date, jq error, ...).
    Runtime,
    /// Recursion or output size over the engine's limits.
    Limit,
}

impl ErrorKind {
    /// The kind's name as conformance data spells it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::Unknown => "unknown",
            ErrorKind::Arity => "arity",
            ErrorKind::Undefined => "undefined",
            ErrorKind::Type => "type",
            ErrorKind::Host => "host",
            ErrorKind::NotImplemented => "not_implemented",
            ErrorKind::Runtime => "runtime",
            ErrorKind::Limit => "limit",
        }
    }
}

/// An error with the span of template text it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Byte offsets in the template text.
    pub span: Range<usize>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>, span: Range<usize>) -> Self {
        Error {
            kind,
            message: message.into(),
            span,
        }
    }

    /// 1-based line and column (in characters) of the error's start in `template`.
    pub fn line_col(&self, template: &str) -> (usize, usize) {
        line_col(template, self.span.start)
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let at = (0..=at)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
