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
        let mut outputs: serde_json::Map<String, Json> = self
            .outputs
            .into_iter()
            .flatten()
            .filter(|(t, _)| crate::plan::storage::task_of_files_key(t).is_none())
            .map(|(t, vars)| (t.clone(), json!({ "vars": vars })))
            .collect();
        // Output files (name → kestra:// URI): `outputs.T.outputFiles['name']`.
        for (k, files) in self.outputs.into_iter().flatten() {
            if let Some(t) = crate::plan::storage::task_of_files_key(k) {
                let entry = outputs.entry(t.to_string()).or_insert_with(|| json!({}));
                entry["outputFiles"] = json!(files);
            }
        }
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
            let known = match base[root].get(name) {
                None => false,
                Some(_) if root == "inputs" || r.path.len() < 4 => true,
                // `outputs.T.vars.K` / `outputs.T.outputFiles['name']`.
                Some(t) => t.get(&r.path[2]).and_then(|v| v.get(&r.path[3])).is_some(),
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
        let mut base = self.context(task_id, workdir);
        // `{{ outputDir }}`, for a task that has the output directory on.
        if task.output_dir {
            base["outputDir"] =
                json!(crate::plan::host_process::output_dir(&workdir.to_path_buf()).as_str());
        }
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
        for (name, v) in t.input_files.iter_mut() {
            *v = r(v)?;
            // A value that is a file URI (`kestra://`, `nsfile://`, `file://`) is that file's
            // content, as Kestra's inputFiles read it (the host reads it: none before the run).
            if crate::plan::storage::file_uri(v).is_some() && strict {
                *v = self
                    .host
                    .read(v.trim())
                    .map_err(|e| format!("input file {name}: {e}"))?;
            }
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

impl Scope<'_> {
    /// Renders the values of a map (a WorkingDirectory's `inputFiles`) as the task `task_id`
    /// working in `workdir` sees them; with the plain values of the secrets they read.
    pub fn render_map(
        &self,
        task_id: &str,
        workdir: &Utf8Path,
        map: &BTreeMap<String, String>,
        strict: bool,
    ) -> Result<(BTreeMap<String, String>, Vec<String>), String> {
        let base = self.context(task_id, workdir);
        let mut secrets = Vec::new();
        let mut out = BTreeMap::new();
        for (k, v) in map {
            out.insert(k.clone(), self.render_text(&base, v, strict, &mut secrets)?);
        }
        Ok((out, secrets))
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
