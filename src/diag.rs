//! Diagnostics: errors and warnings about a flow file, each tied to a file, a line, a column
//! and the property it concerns, so that every report reads `file:line:col: error: ...`.

use std::fmt;

/// A position in a flow file. Lines and columns start at 1; `0` means "unknown".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub fn new(line: usize, col: usize) -> Self {
        Pos { line, col }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a flow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub severity: Severity,
    pub file: String,
    pub pos: Pos,
    /// Dotted property path, e.g. `tasks[0].taskRunner.memory.memory`; empty for the whole file.
    pub property: String,
    pub message: String,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.pos.line == 0 {
            write!(f, "{}: {sev}: ", self.file)?;
        } else {
            write!(
                f,
                "{}:{}:{}: {sev}: ",
                self.file, self.pos.line, self.pos.col
            )?;
        }
        if !self.property.is_empty() {
            write!(f, "`{}`: ", self.property)?;
        }
        f.write_str(&self.message)
    }
}

/// Collects diagnostics for one file.
#[derive(Debug, Clone, Default)]
pub struct Diags {
    file: String,
    items: Vec<Diag>,
}

impl Diags {
    pub fn new(file: impl Into<String>) -> Self {
        Diags {
            file: file.into(),
            items: Vec::new(),
        }
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn error(&mut self, pos: Pos, property: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, pos, property.into(), message.into());
    }

    pub fn warning(&mut self, pos: Pos, property: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, pos, property.into(), message.into());
    }

    fn push(&mut self, severity: Severity, pos: Pos, property: String, message: String) {
        self.items.push(Diag {
            severity,
            file: self.file.clone(),
            pos,
            property,
            message,
        });
    }

    pub fn extend(&mut self, other: Diags) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Diagnostics in file order (errors before warnings at the same place).
    pub fn sorted(&self) -> Vec<Diag> {
        let mut v = self.items.clone();
        v.sort_by_key(|d| (d.pos, d.severity));
        v.dedup();
        v
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diag> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diag> {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}

impl fmt::Display for Diags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.sorted() {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A flow file with errors: what `validate`, `plan` and `run` return before touching anything.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{} error(s) in {}", .0, .0.errors().count(), .0.file())]
pub struct InvalidFlow(pub Diags);
