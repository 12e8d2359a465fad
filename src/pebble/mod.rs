//! Kestra's expression language: Pebble templates with Kestra's filters, functions, tests and
//! operators, rendered the way Kestra configures Pebble (strict variables, no autoescaping, no
//! new-line trimming, maps and lists printed as JSON). Self-contained: nothing here reads the
//! environment or touches files; the outside world comes through [`Host`].
//!
//! ```
//! use dockhand::pebble::{FixedHost, Template, Value};
//! let t = Template::parse("{{ inputs['my-name'] | upper }}!").unwrap();
//! let ctx = Value::from_json(r#"{"inputs": {"my-name": "ada"}}"#).unwrap();
//! assert_eq!(t.render(&ctx, &FixedHost::default()).unwrap().text, "ADA!");
//! ```
//!
//! - [`Template::parse`] parses and checks statically (unknown filter, wrong argument count):
//!   errors carry byte spans relative to the template text.
//! - [`Template::analysis`] lists the context paths read and the calls made, for validation.
//! - [`Template::render`] renders; [`Rendered`] says which output bytes came from secrets.
//! - [`render_int`], [`render_bool`], … render and convert, naming what was expected.
//!
//! Differences from Kestra are listed in docs/pebble.md.

mod analyze;
mod ast;
mod datetime;
mod error;
mod eval;
mod filters;
mod functions;
mod host;
mod jq;
mod lexer;
mod parser;
mod predicates;
mod registry;
mod typed;
mod value;

pub use analyze::{Analysis, Call, Reference};
pub use error::{Error, ErrorKind, Result, line_col};
pub use eval::Warning;
pub use host::{FixedHost, Host, env_secret};
pub use registry::{CONTEXT_ROOTS, FILTERS, FUNCTIONS, Family, Sig, TAGS, TESTS, UNSUPPORTED_TAGS};
pub use typed::{render_bool, render_duration, render_float, render_int, render_list};
pub use value::{Map, Value};

use std::ops::Range;

/// A parsed, statically checked template.
#[derive(Debug, Clone)]
pub struct Template {
    pub(crate) nodes: Vec<ast::Node>,
    analysis: Analysis,
}

/// The result of rendering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    pub text: String,
    /// Byte ranges of `text` produced by values derived from `secret()`.
    pub secret_spans: Vec<Range<usize>>,
    /// The plain secret values read, so the caller can mask them wherever they appear in logs.
    pub secrets: Vec<String>,
    pub warnings: Vec<Warning>,
}

impl Rendered {
    /// Whether any part of the text came from a secret.
    pub fn is_secret(&self) -> bool {
        !self.secret_spans.is_empty()
    }

    /// The text with secret spans replaced by `******` (Kestra's mask).
    pub fn masked(&self) -> String {
        let mut out = String::new();
        let mut at = 0;
        for r in &self.secret_spans {
            if r.start < at {
                continue;
            }
            out.push_str(&self.text[at..r.start]);
            out.push_str("******");
            at = r.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

impl Template {
    /// Parses `src` and checks every filter, function and test call against the registry.
    /// The first error is returned; [`Template::parse_all`] returns all the static ones.
    pub fn parse(src: &str) -> Result<Template> {
        Self::parse_all(src).map_err(|mut e| e.remove(0))
    }

    /// Parses `src`; on failure every static error found (a syntax error stops parsing, so it
    /// comes alone).
    pub fn parse_all(src: &str) -> std::result::Result<Template, Vec<Error>> {
        let nodes = Self::parse_unchecked(src).map_err(|e| vec![e])?;
        let analysis = analyze::analyze(&nodes);
        if !analysis.errors.is_empty() {
            return Err(analysis.errors);
        }
        Ok(Template { nodes, analysis })
    }

    fn parse_unchecked(src: &str) -> Result<Vec<ast::Node>> {
        // Plain text needs no lexing.
        if !src.contains(['{']) {
            return Ok(if src.is_empty() {
                Vec::new()
            } else {
                vec![ast::Node::Text(src.to_string())]
            });
        }
        let toks = lexer::lex(src)?;
        parser::parse(&toks)
    }

    /// What the template reads and calls.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Whether the template is plain text (nothing to evaluate).
    pub fn is_plain(&self) -> bool {
        self.nodes.iter().all(|n| matches!(n, ast::Node::Text(_)))
    }

    /// Renders with `context` (a map of roots: `inputs`, `outputs`, `vars`, …; anything else
    /// counts as an empty context). The output is not rendered again (Kestra's rule), except
    /// through `render()`.
    pub fn render(&self, context: &Value, host: &dyn Host) -> Result<Rendered> {
        let empty = Map::new();
        let root = match context {
            Value::Map(m) => m.as_ref(),
            _ => &empty,
        };
        let mut ev = eval::Eval::new(host, root);
        let out = ev.render(&self.nodes)?;
        let mut warnings = self.analysis.warnings.clone();
        for w in ev.warnings {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        Ok(Rendered {
            text: out.text,
            secret_spans: out.secret_spans,
            secrets: ev.secrets,
            warnings,
        })
    }
}

/// Parses and renders in one step.
pub fn render(src: &str, context: &Value, host: &dyn Host) -> Result<Rendered> {
    Template::parse(src)?.render(context, host)
}

/// Parses and analyzes in one step; every static error on failure.
pub fn analyze(src: &str) -> std::result::Result<Analysis, Vec<Error>> {
    let nodes = Template::parse_unchecked(src).map_err(|e| vec![e])?;
    let a = analyze::analyze(&nodes);
    if a.errors.is_empty() {
        Ok(a)
    } else {
        Err(a.errors)
    }
}

/// A YAML document as a value, as Kestra's `yaml()` reads it (none when it is not YAML).
pub fn from_yaml(text: &str) -> Option<Value> {
    functions::from_yaml(text).ok()
}
