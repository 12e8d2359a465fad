//! Values of template expressions for one task, and rendering a script task with them.

use std::collections::BTreeMap;

use camino::Utf8Path;

use crate::flow::model::{Body, ScriptTask};
use crate::template::{self, Expr};

/// What expressions can see. `outputs: None` leaves output expressions as written (plan).
pub struct Scope<'a> {
    pub flow_id: &'a str,
    pub namespace: &'a str,
    pub execution_id: &'a str,
    pub inputs: &'a BTreeMap<String, String>,
    pub vars: &'a BTreeMap<String, String>,
    pub outputs: Option<&'a BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
}

impl Scope<'_> {
    fn value(&self, e: &Expr, task_id: &str, workdir: &Utf8Path) -> Option<String> {
        match e {
            Expr::WorkingDir => Some(workdir.to_string()),
            Expr::FlowId => Some(self.flow_id.to_string()),
            Expr::FlowNamespace => Some(self.namespace.to_string()),
            Expr::ExecutionId => Some(self.execution_id.to_string()),
            Expr::TaskId => Some(task_id.to_string()),
            Expr::Input(n) => self.inputs.get(n).cloned(),
            Expr::Var(n) => self.vars.get(n).cloned(),
            Expr::Output { task, name } => {
                let v = self.outputs?.get(task)?.get(name)?;
                Some(match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }
        }
    }

    /// A copy of the task with every expression replaced. With `strict`, an expression without
    /// a value (a missing input, an output the task did not produce) is an error naming it.
    pub fn render(
        &self,
        task_id: &str,
        workdir: &Utf8Path,
        task: &ScriptTask,
        strict: bool,
    ) -> Result<ScriptTask, String> {
        let missing = std::cell::RefCell::new(None::<String>);
        let f = |e: &Expr| {
            let v = self.value(e, task_id, workdir);
            if v.is_none() && strict && self.outputs.is_some() {
                missing.borrow_mut().get_or_insert_with(|| e.to_string());
            }
            v
        };
        let r = |s: &str| template::render(s, &f);
        let mut t = task.clone();
        t.before_commands = t
            .before_commands
            .iter()
            .map(|s| r(s))
            .collect::<Result<_, _>>()?;
        t.body = match &t.body {
            Body::Commands(c) => Body::Commands(c.iter().map(|s| r(s)).collect::<Result<_, _>>()?),
            Body::Script(s) => Body::Script(r(s)?),
        };
        for v in t.env.values_mut() {
            *v = r(v)?;
        }
        for v in t.input_files.values_mut() {
            *v = r(v)?;
        }
        // Registry credentials and `config` string values, as Kestra renders them.
        if let Some(c) = t.runner.credentials.as_mut() {
            for v in [
                &mut c.registry,
                &mut c.username,
                &mut c.password,
                &mut c.auth,
                &mut c.registry_token,
                &mut c.identity_token,
            ]
            .into_iter()
            .flatten()
            {
                *v = r(v)?;
            }
        }
        if let Some(cfg) = t.runner.config.as_mut() {
            render_json(cfg, &r)?;
        }
        if let Some(m) = missing.into_inner() {
            return Err(match m.split('.').next() {
                Some("inputs") => {
                    format!("`{{{{ {m} }}}}` has no value: give it with --input or a default")
                }
                _ => format!("`{{{{ {m} }}}}` has no value: the task it names did not produce it"),
            });
        }
        Ok(t)
    }
}

/// Renders every string value of a JSON document in place (keys stay as written).
fn render_json(
    v: &mut serde_json::Value,
    r: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), String> {
    match v {
        serde_json::Value::String(s) => *s = r(s)?,
        serde_json::Value::Array(a) => {
            for x in a {
                render_json(x, r)?;
            }
        }
        serde_json::Value::Object(o) => {
            for x in o.values_mut() {
                render_json(x, r)?;
            }
        }
        _ => {}
    }
    Ok(())
}
