//! Values of template expressions for one task, and rendering a script task with them through
//! the Pebble engine (`crate::pebble`). What the world gives (secrets) comes through the
//! [`pebble::Host`] the caller passes: this module reads nothing itself.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde_json::{Value as Json, json};

use crate::flow::model::{Body, ScriptTask};
use crate::pebble;

/// What expressions can see. `outputs: None` leaves output expressions as written (plan).
pub struct Scope<'a> {
    pub flow_id: &'a str,
    pub namespace: &'a str,
    pub execution_id: &'a str,
    pub inputs: &'a BTreeMap<String, String>,
    pub vars: &'a BTreeMap<String, String>,
    pub outputs: Option<&'a BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
    /// Answers `secret()` (and the other calls that reach outside).
    pub host: &'a dyn pebble::Host,
}

/// A task with its expressions replaced, and the plain values of the secrets they read (to be
/// masked and kept off argv by the caller).
pub struct RenderedTask {
    pub task: ScriptTask,
    pub secrets: Vec<String>,
}

impl Scope<'_> {
    /// The context every expression of the task sees, as Kestra names it.
    fn context(&self, task_id: &str, workdir: &Utf8Path) -> Json {
        let outputs: serde_json::Map<String, Json> = self
            .outputs
            .into_iter()
            .flatten()
            .map(|(t, vars)| match vars.get(OWN_OUTPUTS) {
                Some(own) if vars.len() == 1 => (t.clone(), own.clone()),
                _ => (t.clone(), json!({ "vars": vars })),
            })
            .collect();
        json!({
            "flow": { "id": self.flow_id, "namespace": self.namespace },
            "execution": { "id": self.execution_id },
            "task": { "id": task_id },
            "inputs": self.inputs,
            "vars": self.vars,
            "outputs": outputs,
            "workingDir": workdir.as_str(),
        })
    }

    /// Renders one text. Before the run (`outputs: None`) a read of an output, or of an input
    /// without a value, renders as the expression itself (`{{ outputs.t.vars.k }}`); at run
    /// time (`strict`) it is an error naming it.
    fn render_text(
        &self,
        base: &Json,
        text: &str,
        strict: bool,
        secrets: &mut Vec<String>,
    ) -> Result<String, String> {
        if !text.contains('{') {
            return Ok(text.to_string());
        }
        let tpl = pebble::Template::parse(text).map_err(|e| e.message)?;
        let mut ctx = std::borrow::Cow::Borrowed(base);
        // Print tags (`{{ … }}`) that read a value unknown before the run, as byte ranges of
        // `text`, each with what it shows instead.
        let mut kept: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        for r in tpl.analysis().references.iter().filter(|r| !r.guarded) {
            let (Some(root @ ("inputs" | "outputs")), Some(name)) =
                (r.path.first().map(String::as_str), r.path.get(1))
            else {
                continue;
            };
            let own = root == "outputs" && self.outputs.is_some_and(|o| is_own(o.get(name)));
            let known = match base[root].get(name) {
                None => false,
                // A core task's outputs are its output object: `outputs.ID.value`.
                Some(t) if own => r.path[2..r.path.len().min(4)]
                    .iter()
                    .try_fold(t, |v, k| v.get(k))
                    .is_some(),
                Some(_) if root == "inputs" || r.path.len() < 4 => true,
                Some(t) => t["vars"].get(&r.path[3]).is_some(),
            };
            if known {
                continue;
            }
            let shown = r.dotted();
            if strict && self.outputs.is_some() {
                return Err(if root == "inputs" {
                    format!("`{{{{ {shown} }}}}` has no value: give it with --input or a default")
                } else {
                    format!(
                        "`{{{{ {shown} }}}}` has no value: the task it names did not produce it"
                    )
                });
            }
            if let Some(tag) = print_tag(text, r.span.clone()) {
                // A tag that is the reference alone shows as `{{ path }}`; any other shows as
                // written, so a filter does not change the expression shown.
                let inner = text[tag.start + 2..tag.end - 2].trim();
                let show = if inner == &text[r.span.clone()] {
                    format!("{{{{ {shown} }}}}")
                } else {
                    text[tag.clone()].to_string()
                };
                if !kept.iter().any(|(k, _)| *k == tag) {
                    kept.push((tag, show));
                }
                continue;
            }
            // Inside a `{% … %}` tag: the expression itself stands for the value.
            let placeholder = Json::String(format!("{{{{ {shown} }}}}"));
            let c = ctx.to_mut();
            if root == "outputs" && r.path.len() >= 4 && r.path[2] == "vars" {
                let t = &mut c[root][name];
                if !t.is_object() {
                    *t = json!({ "vars": {} });
                }
                t["vars"][&r.path[3]] = placeholder;
            } else {
                c[root][name] = placeholder;
            }
        }
        let tpl = if kept.is_empty() {
            tpl
        } else {
            kept.sort_by_key(|(r, _)| r.start);
            let mut src = String::new();
            let mut at = 0;
            let c = ctx.to_mut();
            for (i, (r, show)) in kept.iter().enumerate() {
                if r.start < at {
                    continue;
                }
                src.push_str(&text[at..r.start]);
                let var = format!("dockhand_kept_{i}");
                src.push_str(&format!("{{{{ {var} }}}}"));
                c[var] = Json::String(show.clone());
                at = r.end;
            }
            src.push_str(&text[at..]);
            pebble::Template::parse(&src).map_err(|e| e.message)?
        };
        let out = tpl
            .render(&pebble::Value::from(ctx.as_ref()), self.host)
            .map_err(|e| e.message)?;
        for s in out.secrets {
            if !secrets.contains(&s) {
                secrets.push(s);
            }
        }
        Ok(out.text)
    }

    /// A copy of the task with every expression replaced. With `strict`, an expression without
    /// a value (a missing input, an output the task did not produce) is an error naming it.
    pub fn render(
        &self,
        task_id: &str,
        workdir: &Utf8Path,
        task: &ScriptTask,
        strict: bool,
    ) -> Result<RenderedTask, String> {
        let base = self.context(task_id, workdir);
        let secrets = std::cell::RefCell::new(Vec::new());
        let r = |s: &str| self.render_text(&base, s, strict, &mut secrets.borrow_mut());
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
        Ok(RenderedTask {
            task: t,
            secrets: secrets.into_inner(),
        })
    }
}

/// The key under which the executor puts the outputs of a core task (Kestra's output object
/// itself, read as `outputs.ID.value`) in the outputs it renders with; a script task's entry
/// holds its vars (`outputs.ID.vars.NAME`). No vars name is this key: it is not text.
pub const OWN_OUTPUTS: &str = "\u{0}own";

/// A core task's outputs, as the outputs map given to [`Scope`] holds them.
pub fn own_outputs(
    outputs: &BTreeMap<String, serde_json::Value>,
) -> BTreeMap<String, serde_json::Value> {
    BTreeMap::from([(
        OWN_OUTPUTS.to_string(),
        Json::Object(outputs.clone().into_iter().collect()),
    )])
}

fn is_own(entry: Option<&BTreeMap<String, serde_json::Value>>) -> bool {
    entry.is_some_and(|v| v.len() == 1 && v.contains_key(OWN_OUTPUTS))
}

/// Renders the texts of one in-process task: the task's context is built once.
pub struct TextRenderer<'s, 'a> {
    scope: &'s Scope<'a>,
    base: Json,
    strict: bool,
    /// The plain values of the secrets read so far (to be masked by the caller).
    pub secrets: Vec<String>,
}

impl TextRenderer<'_, '_> {
    pub fn text(&mut self, text: &str) -> Result<String, String> {
        self.scope
            .render_text(&self.base, text, self.strict, &mut self.secrets)
    }

    /// Every string value of a JSON document rendered (keys stay as written).
    pub fn json(&mut self, v: &Json) -> Result<Json, String> {
        let mut v = v.clone();
        let cell = std::cell::RefCell::new(self);
        render_json(&mut v, &|s| cell.borrow_mut().text(s))?;
        Ok(v)
    }
}

impl<'a> Scope<'a> {
    /// A renderer for the texts of task `task_id` (an in-process task's properties).
    pub fn texts<'s>(
        &'s self,
        task_id: &str,
        workdir: &Utf8Path,
        strict: bool,
    ) -> TextRenderer<'s, 'a> {
        TextRenderer {
            scope: self,
            base: self.context(task_id, workdir),
            strict,
            secrets: Vec::new(),
        }
    }
}

/// The byte range of the `{{ … }}` tag around `span` in `text`, if the span is in one (not in a
/// `{% … %}` tag or a comment).
fn print_tag(text: &str, span: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
    let before = &text[..span.start];
    let open = before.rfind("{{")?;
    if [before.rfind("}}"), before.rfind("{%"), before.rfind("{#")]
        .into_iter()
        .flatten()
        .any(|o| o > open)
    {
        return None;
    }
    let close = span.end + text[span.end..].find("}}")? + 2;
    Some(open..close)
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
