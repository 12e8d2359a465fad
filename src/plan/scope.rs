//! Values of template expressions for one task, and rendering a script task with them through
//! the Pebble engine (`crate::pebble`). What the world gives (secrets) comes through the
//! [`pebble::Host`] the caller passes: this module reads nothing itself.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde_json::{Value as Json, json};

use crate::flow::model::{Body, ScriptTask};
use crate::flow::typed_template;
use crate::pebble;
use crate::plan::run_vars::{self, RunVars};
use crate::plan::taskrun::TaskRunContext;

/// What expressions can see. `outputs: None` leaves output expressions as written (plan).
pub struct Scope<'a> {
    pub flow_id: &'a str,
    pub namespace: &'a str,
    pub execution_id: &'a str,
    /// The task's `type` as written (`task.type`).
    pub task_type: &'a str,
    /// The flow's labels (`labels`), under those given in `run`.
    pub labels: &'a BTreeMap<String, String>,
    /// The execution's values: start date, state, trigger, `envs`, `globals`.
    pub run: &'a RunVars,
    /// The task run (`taskrun`, `parent`, `parents`); none before the run.
    pub taskrun: Option<&'a TaskRunContext>,
    /// The attempt being rendered (1 for the first), for `taskrun.attemptsCount` when the
    /// executor gives no task run.
    pub attempt: u32,
    /// The inputs' values as the run keeps them (text), typed by `declared_inputs` for the
    /// expressions (`{{ inputs.year + 1 }}` adds to an INT).
    pub inputs: &'a BTreeMap<String, String>,
    pub declared_inputs: &'a [crate::flow::model::Input],
    pub vars: &'a BTreeMap<String, serde_json::Value>,
    pub outputs: Option<&'a BTreeMap<String, BTreeMap<String, serde_json::Value>>>,
    /// Answers `secret()` (and the other calls that reach outside).
    pub host: &'a dyn pebble::Host,
    /// Outputs as Kestra exposes them (`outputs.ID[VALUE]` inside ForEach), when the executor
    /// has them: then they stand instead of `outputs`' `{vars}` maps.
    pub outputs_tree: Option<&'a serde_json::Map<String, Json>>,
}

/// A task with its expressions replaced, and the plain values of the secrets they read (to be
/// masked and kept off argv by the caller).
pub struct RenderedTask {
    pub task: ScriptTask,
    pub secrets: Vec<String>,
}

/// Kestra's first revision of a flow: dockhand runs a file, which has no revision history.
const REVISION: u64 = 1;

impl Scope<'_> {
    /// The context every expression of the task sees, as Kestra's `RunVariables` names it. A
    /// value unknown before the run (the start date, the task run) is left out then, so that
    /// `plan` shows its expression.
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
        let outputs = match self.outputs_tree {
            Some(tree) => Json::Object(tree.clone()),
            None => json!(outputs),
        };
        let mut execution = serde_json::Map::new();
        execution.insert("id".into(), json!(self.execution_id));
        let state = self
            .run
            .ended
            .get()
            .cloned()
            .or_else(|| self.run.state.clone());
        for (k, v) in [
            ("startDate", &self.run.start_date),
            ("state", &state),
            ("originalId", &self.run.original_id),
        ] {
            if let Some(v) = v {
                execution.insert(k.into(), json!(v));
            }
        }
        let mut labels = self.labels.clone();
        labels.extend(self.run.labels.clone());
        // Kestra gives every execution this label, and each subflow the root's.
        let correlation = self.run.correlation_id.as_deref();
        labels.insert(
            "system.correlationId".into(),
            correlation.unwrap_or(self.execution_id).to_string(),
        );
        let mut c = json!({
            "flow": { "id": self.flow_id, "namespace": self.namespace, "revision": REVISION },
            "execution": execution,
            "task": { "id": task_id, "type": self.task_type },
            "inputs": crate::plan::typed_inputs(self.declared_inputs, self.inputs),
            "vars": self.vars,
            "outputs": outputs,
            "labels": run_vars::labels_map(&labels),
            "trigger": self.run.trigger,
            "envs": self.run.envs,
            "globals": self.run.globals,
            "workingDir": workdir.as_str(),
            // Kestra collects the files of its output directory; dockhand collects what
            // `outputFiles` names, so the directory is the working directory.
            "outputDir": workdir.as_str(),
        });
        // At run time there is always a task run; the executor's, or this attempt's own.
        let own;
        let taskrun = match (self.taskrun, self.outputs) {
            (Some(t), _) => Some(t),
            (None, Some(_)) => {
                own = TaskRunContext {
                    id: format!("{}.{task_id}", self.execution_id),
                    attempts_count: self.attempt.saturating_sub(1),
                    ..Default::default()
                };
                Some(&own)
            }
            (None, None) => None,
        };
        if let Some(t) = taskrun {
            c["taskrun"] = t.variables();
            let parents = t.parents();
            if let Some(p) = parents.first() {
                c["parent"] = p.clone();
            }
            c["parents"] = Json::Array(parents);
        }
        c
    }

    /// Renders one expression text of a task (If's condition, ForEach's values, `runIf`) with
    /// what the task sees; a value that is missing is an error naming it.
    pub fn render_expression(
        &self,
        task_id: &str,
        workdir: &Utf8Path,
        text: &str,
    ) -> Result<(String, Vec<String>), String> {
        let base = self.context(task_id, workdir);
        let mut secrets = Vec::new();
        let out = self.render_text(&base, text, true, &mut secrets)?;
        Ok((out, secrets))
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
            let Some(root) = r.path.first().map(String::as_str) else {
                continue;
            };
            let own = root == "outputs"
                && r.path
                    .get(1)
                    .is_some_and(|name| self.outputs.is_some_and(|o| is_own(o.get(name))));
            let known = match (root, r.path.get(1)) {
                ("inputs" | "outputs", None) => continue,
                ("inputs", Some(name)) => base[root].get(name).is_some(),
                ("outputs", Some(name)) => match base[root].get(name) {
                    None => false,
                    // A core task's outputs are its output object: `outputs.ID.value`.
                    Some(t) if own => r.path[2..r.path.len().min(4)]
                        .iter()
                        .try_fold(t, |v, k| v.get(k))
                        .is_some(),
                    Some(_) if r.path.len() < 4 => true,
                    Some(t) => {
                        // Or the whole path is there (`outputs.t['a'].vars.x` of a ForEach's run).
                        t["vars"].get(&r.path[3]).is_some()
                            || r.path[2..].iter().try_fold(t, |v, k| v.get(k)).is_some()
                    }
                },
                (
                    "execution" | "taskrun" | "parent" | "parents" | "trigger" | "envs" | "globals"
                    | "labels",
                    _,
                ) => resolves(base, &r.path),
                _ => continue,
            };
            if known {
                continue;
            }
            let shown = r.dotted();
            if strict && self.outputs.is_some() {
                return Err(no_value(&shown, &r.path));
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
            put_placeholder(ctx.to_mut(), &r.path, placeholder);
        }
        // Before the run, what the file functions answer depends on files the tasks write, and
        // `errorLogs()` on what they log: a print tag calling one is shown as written.
        if !strict {
            for c in &tpl.analysis().calls {
                let files = c.family == pebble::Family::Function
                    && matches!(
                        c.name.as_str(),
                        "fileExists" | "fileSize" | "isFileEmpty" | "fileURI" | "errorLogs"
                    );
                if let Some(tag) = print_tag(text, c.span.clone()).filter(|_| files)
                    && !kept.iter().any(|(k, _)| *k == tag)
                {
                    kept.push((tag.clone(), text[tag].to_string()));
                }
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

    /// Renders one text outside any task (the flow's `outputs`), strictly: an expression
    /// without a value is an error naming it.
    pub fn render_flow_text(&self, text: &str) -> Result<String, String> {
        let base = self.context("", Utf8Path::new(""));
        self.render_text(&base, text, true, &mut Vec::new())
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
        // A pre-0.16 script task's output keys: `{{ outputFiles.KEY }}` (and `temp`, its old
        // name) and `{{ outputDirs.KEY }}` are paths in the working directory.
        if let Some(l) = &task.legacy {
            let paths = |keys: &[String]| -> Json {
                keys.iter()
                    .map(|k| (k.clone(), json!(workdir.join(k).as_str())))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            };
            base["outputFiles"] = paths(&l.files);
            base["temp"] = paths(&l.files);
            base["outputDirs"] = paths(&l.dirs);
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
        // `inputFiles` as a text: rendered, then read as Kestra reads it (a JSON object); its
        // contents are then rendered as the map's are (Kestra's `createInputFiles` does).
        if let Some(text) = t.input_files_json.take() {
            let text = r(&text)?;
            let files = match crate::flow::decode::input_files_json(&text) {
                Ok(f) => f,
                // A plan shows what it cannot know yet (a task's output) as written.
                Err(_) if !strict => {
                    t.input_files_json = Some(text);
                    BTreeMap::new()
                }
                Err(e) => return Err(e),
            };
            for (name, content) in files {
                if crate::flow::decode::check_input_file_name(&name).is_err() {
                    return Err(format!(
                        "input file `{name}` (from `inputFiles`): must be relative to the working directory, without `..`"
                    ));
                }
                t.input_files.insert(name, content);
            }
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
        if let Some(p) = t.python.as_mut() {
            for v in p.requirements.iter_mut().chain(p.version.as_mut()) {
                *v = r(v)?;
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
        // Typed properties written as templates: rendered, then converted to their type. Before
        // the run, one that reads a value known only then stays unset (and is shown as written).
        for tt in &task.runner.typed {
            let text = r(&tt.text)?;
            if !strict && typed_template::is_template(&text) {
                continue;
            }
            typed_template::apply_script(&mut t, tt, &text)?;
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

/// Whether `path` names something in `c`, as far as `c` holds maps and lists (a scalar before
/// the path ends is read by the template, which reports what does not fit).
fn resolves(c: &Json, path: &[String]) -> bool {
    let mut at = c;
    for seg in path {
        at = match at {
            Json::Object(m) => match m.get(seg) {
                Some(v) => v,
                None => return false,
            },
            Json::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return true,
        };
    }
    true
}

/// Puts `v` where `path` first leaves `c` (outputs get their `vars` level), so a `{% … %}` tag
/// that reads an unknown value sees its expression. A list cannot take it: left as it is.
fn put_placeholder(c: &mut Json, path: &[String], v: Json) {
    let mut at = c;
    for (i, seg) in path.iter().enumerate() {
        let Json::Object(m) = at else {
            return;
        };
        if i + 1 == path.len() || !m.contains_key(seg) {
            let mut v = v;
            // `outputs.t.vars.k` with no `t`: `t` becomes `{vars: {k: v}}`.
            for s in path[i + 1..].iter().rev() {
                v = json!({ s.as_str(): v });
            }
            m.insert(seg.clone(), v);
            return;
        }
        at = m.get_mut(seg).expect("checked above");
    }
}

/// Why a value read at run time is not there, by the root it is under.
fn no_value(shown: &str, path: &[String]) -> String {
    let key = path.get(1).map_or("", String::as_str);
    let why = match path[0].as_str() {
        "inputs" => "give it with --input or a default".to_string(),
        "outputs" => "the task it names did not produce it".to_string(),
        "envs" => format!(
            "set the environment variable {}{} (Kestra's `envs` prefix)",
            run_vars::ENV_PREFIX,
            key.to_uppercase()
        ),
        "globals" => format!(
            "the globals file (${} or ~/.config/dockhand/globals.yaml) defines no `{key}`",
            run_vars::GLOBALS_VAR
        ),
        "trigger" => "the execution was not started by a trigger that gives it".to_string(),
        "labels" => format!("the execution has no label `{key}`"),
        "taskrun" if matches!(key, "value" | "iteration" | "parentId") => {
            "it exists only inside a ForEach".to_string()
        }
        "parent" | "parents" => "the task has no enclosing ForEach with that value".to_string(),
        _ => "it is not known when this task runs".to_string(),
    };
    format!("`{{{{ {shown} }}}}` has no value: {why}")
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
