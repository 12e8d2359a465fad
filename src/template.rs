//! Kestra-style `{{ ... }}` expressions in commands, scripts, env values and input files.
//! dockhand understands a fixed set of expressions; anything else is an error at validation,
//! never a silently empty string at run time.

use std::fmt;

/// One expression dockhand can evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    WorkingDir,
    FlowId,
    FlowNamespace,
    ExecutionId,
    TaskId,
    Input(String),
    Var(String),
    Output { task: String, name: String },
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::WorkingDir => f.write_str("workingDir"),
            Expr::FlowId => f.write_str("flow.id"),
            Expr::FlowNamespace => f.write_str("flow.namespace"),
            Expr::ExecutionId => f.write_str("execution.id"),
            Expr::TaskId => f.write_str("task.id"),
            Expr::Input(n) => write!(f, "inputs.{n}"),
            Expr::Var(n) => write!(f, "vars.{n}"),
            Expr::Output { task, name } => write!(f, "outputs.{task}.vars.{name}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Expr(Expr),
}

const KNOWN: &str = "workingDir, flow.id, flow.namespace, execution.id, task.id, inputs.NAME, vars.NAME, outputs.TASK.vars.NAME";

fn ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_expr(raw: &str) -> Result<Expr, String> {
    let parts: Vec<&str> = raw.split('.').collect();
    let e = match parts.as_slice() {
        ["workingDir"] => Expr::WorkingDir,
        ["flow", "id"] => Expr::FlowId,
        ["flow", "namespace"] => Expr::FlowNamespace,
        ["execution", "id"] => Expr::ExecutionId,
        ["task", "id"] => Expr::TaskId,
        ["inputs", n] if ident(n) => Expr::Input(n.to_string()),
        ["vars", n] if ident(n) => Expr::Var(n.to_string()),
        ["outputs", t, "vars", n] if ident(t) && ident(n) => Expr::Output {
            task: t.to_string(),
            name: n.to_string(),
        },
        _ => {
            return Err(format!(
                "unknown expression `{{{{ {raw} }}}}`; dockhand knows {KNOWN}"
            ));
        }
    };
    Ok(e)
}

/// Splits a string into text and expressions.
pub fn parse(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "`{{` without a closing `}}`".to_string())?;
        out.push(Piece::Expr(parse_expr(after[..end].trim())?));
        rest = &after[end + 2..];
    }
    if rest.contains("{%") {
        return Err("Pebble tags (`{% ... %}`) are not supported by dockhand".to_string());
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}

/// Every expression in a string.
pub fn exprs(s: &str) -> Result<Vec<Expr>, String> {
    Ok(parse(s)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Expr(e) => Some(e),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Renders a string; `value` gives each expression's value, `None` leaves it as written
/// (as `plan` does for outputs that only exist at run time).
pub fn render(s: &str, value: &dyn Fn(&Expr) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    for p in parse(s)? {
        match p {
            Piece::Text(t) => out.push_str(&t),
            Piece::Expr(e) => match value(&e) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&format!("{{{{ {e} }}}}")),
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let v = |e: &Expr| match e {
            Expr::WorkingDir => Some("/w".to_string()),
            Expr::Output { .. } => None,
            _ => Some("x".to_string()),
        };
        assert_eq!(
            render("cd {{ workingDir }} && ls", &v).unwrap(),
            "cd /w && ls"
        );
        assert_eq!(
            render("{{outputs.a.vars.b}}!", &v).unwrap(),
            "{{ outputs.a.vars.b }}!"
        );
        assert_eq!(render("no braces", &v).unwrap(), "no braces");
        assert!(
            parse("{{ secret('x') }}")
                .unwrap_err()
                .contains("unknown expression")
        );
        assert!(parse("{{ inputs.a").unwrap_err().contains("closing"));
        assert_eq!(
            exprs("{{ inputs.n }}{{ vars.v }}").unwrap(),
            vec![Expr::Input("n".into()), Expr::Var("v".into())]
        );
    }
}
