//! Reads a flow file into the typed model, checking every property and collecting every error
//! of the file at once (types, unknown and unsupported properties, ids, sizes, durations, images,
//! template expressions). This file reads the flow itself (id, namespace, labels, inputs); the
//! parts have a file each: [`task`] (tasks by their type, script tasks), [`runner`] (the Docker
//! task runner), [`refs`] (checks across tasks: ids, template references, outputs). What each
//! object may hold, its ignored and refused properties, patterns and enumerations come from
//! [`crate::flow::spec`].

mod container_run;
mod core;
mod flowable;
mod image_task;
mod input_files;
mod inputs;
mod legacy_script;
mod namespace_files;
mod namespace_tasks;
mod outputs;
mod refs;
mod runner;
mod script_text;
mod subflow;
mod task;
mod task_cache;
mod task_runner;
mod typed_check;
mod working_directory;

use std::collections::BTreeMap;

use crate::diag::Diags;
use crate::flow::model::*;
use crate::flow::reader::{self, Cx, Obj, as_seq};
use crate::flow::spec::{self, FLOW_ID, NAMESPACE};
use crate::flow::yaml::{self, Node};

pub use input_files::parse_json as input_files_json;
pub use inputs::is_expression;
pub use runner::check_registry_host;

/// Whether an input file's name stays in the working directory (relative, no `..`).
pub fn check_input_file_name(name: &str) -> Result<(), &'static str> {
    task::check_relative(name)
}

/// The result of reading a file: the flow when it has no errors, and every diagnostic.
pub struct Loaded {
    pub flow: Option<Flow>,
    pub diags: Diags,
}

/// Reads and checks a flow file.
pub fn load(file: &str, text: &str) -> Loaded {
    let mut cx = Cx::new(file);
    let flow = yaml::parse(text, &mut cx.diags).and_then(|root| {
        // Defaults are merged first: each task is read with them, errors at their own lines.
        let root = crate::flow::plugin_defaults::apply(&mut cx, &root);
        read_flow(&mut cx, file, text, &root)
    });
    let flow = flow.filter(|_| !cx.diags.has_errors());
    Loaded {
        flow,
        diags: cx.diags,
    }
}

fn read_flow(cx: &mut Cx, file: &str, text: &str, root: &Node) -> Option<Flow> {
    let mut o = Obj::new(cx, root, "")?;
    let id = o.need_string(cx, "id");
    if let (Some(id), Some(n)) = (&id, o.get(cx, "id"))
        && !FLOW_ID.is_match(id)
    {
        cx.error(
            n.pos,
            "id",
            format!("invalid flow id `{id}`: use {}", FLOW_ID.rule),
        );
    }
    let namespace = o.need_string(cx, "namespace");
    if let (Some(ns), Some(n)) = (&namespace, o.get(cx, "namespace"))
        && !NAMESPACE.is_match(ns)
    {
        cx.error(
            n.pos,
            "namespace",
            format!("invalid namespace `{ns}`: use {}", NAMESPACE.rule),
        );
    }
    let description = o.string(cx, "description");
    let labels = o
        .get(cx, "labels")
        .map(|n| read_labels(cx, n))
        .unwrap_or_default();
    let inputs = o
        .get(cx, "inputs")
        .map(|n| inputs::read_inputs(cx, n))
        .unwrap_or_default();
    let variables = o
        .get(cx, "variables")
        .and_then(|n| match n.to_json() {
            serde_json::Value::Object(m) => Some(m.into_iter().collect()),
            _ => {
                cx.error(
                    n.pos,
                    "variables",
                    format!("expected a map of names to values, found {}", n.kind()),
                );
                None
            }
        })
        .unwrap_or_default();
    let flow_outputs = o
        .get(cx, "outputs")
        .map(|n| outputs::read_outputs(cx, n))
        .unwrap_or_default();
    let concurrency = o.obj(cx, "concurrency").map(|mut c| {
        let limit = c.int(cx, "limit");
        if let (Some(l), Some(n)) = (limit, c.get(cx, "limit"))
            && !(1..=i64::from(u32::MAX)).contains(&l)
        {
            cx.error(n.pos, &c.key_path("limit"), "must be 1 or more");
        }
        if !c.has("limit") {
            cx.error(c.pos(), &c.path, "missing required property `limit`");
        }
        let behavior = c
            .enumeration(
                cx,
                "behavior",
                &ConcurrencyBehavior::NAMES,
                ConcurrencyBehavior::parse,
            )
            .unwrap_or_default();
        c.finish_described(cx, &spec::CONCURRENCY);
        Concurrency {
            limit: limit.unwrap_or(1).clamp(1, i64::from(u32::MAX)) as u32,
            behavior,
        }
    });
    if let Some(n) = o.get(cx, "triggers") {
        warn_triggers(cx, n);
    }
    // Read (and merged into the tree) by `plugin_defaults::apply` before this.
    o.get(cx, "pluginDefaults");
    o.get(cx, "taskDefaults");
    let mut tasks = Vec::new();
    if let Some(n) = o.need(cx, "tasks")
        && let Some(items) = as_seq(cx, n, "tasks")
    {
        if items.is_empty() {
            cx.error(n.pos, "tasks", "a flow needs at least one task");
        }
        tasks = task::read_tasks(cx, items, "tasks");
    }
    let control = flowable::read_flow_control(cx, &mut o);
    o.finish_described(cx, &spec::FLOW);
    // Built even when `id` or `namespace` is wrong (and reported), so that the checks across
    // tasks below still run: every independent error of the file is reported in one go. A flow
    // with errors never leaves `load`.
    let flow = Flow {
        file: file.to_string(),
        id: id.unwrap_or_default(),
        namespace: namespace.unwrap_or_default(),
        description,
        labels,
        inputs,
        variables,
        tasks,
        outputs: flow_outputs,
        control,
        concurrency,
        spans: std::mem::take(&mut cx.spans),
        task_types: std::mem::take(&mut cx.task_types),
        values: std::mem::take(&mut cx.values),
    };
    refs::check_ids_and_templates(cx, &flow, text);
    outputs::check_references(cx, &flow);
    Some(flow)
}

/// Triggers are not run by a one-shot `dockhand run`: one warning naming each (id and type).
fn warn_triggers(cx: &mut Cx, n: &Node) {
    let Some(items) = as_seq(cx, n, "triggers") else {
        return;
    };
    let names: Vec<String> = items
        .iter()
        .map(|t| {
            let field = |k: &str| match &t.value {
                yaml::Value::Map(e) => e
                    .iter()
                    .find(|(key, _)| key.scalar() == Some(k))
                    .and_then(|(_, v)| v.scalar().map(str::to_string)),
                _ => None,
            };
            let id = field("id").unwrap_or_else(|| "?".into());
            match field("type") {
                Some(ty) => format!("`{id}` ({ty})"),
                None => format!("`{id}`"),
            }
        })
        .collect();
    if names.is_empty() {
        return;
    }
    cx.diags.warning(
        n.pos,
        "triggers",
        format!(
            "trigger{} {} {} not started by dockhand: a one-shot `dockhand run` starts no triggers; schedule it with cron or CI",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
        ),
    );
}

pub(crate) fn labels(cx: &mut Cx, n: &Node) -> BTreeMap<String, String> {
    read_labels(cx, n)
}

fn read_labels(cx: &mut Cx, n: &Node) -> BTreeMap<String, String> {
    // Kestra accepts a map or a list of {key, value}.
    if let yaml::Value::Seq(items) = &n.value {
        let mut out = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("labels[{i}]");
            if let Some(mut o) = Obj::new(cx, item, &path) {
                let k = o.need_string(cx, "key");
                let v = o.need_string(cx, "value");
                o.finish(cx, &[]);
                if let (Some(k), Some(v)) = (k, v) {
                    out.insert(k, v);
                }
            }
        }
        return out;
    }
    reader::as_string_map(cx, n, "labels").unwrap_or_default()
}

/// Every property name the reader knows for each kind of object, found by reading a flow that
/// holds every object once: the JSON Schema is checked against this so the two never drift.
pub fn known_properties() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut out: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    // Every container script type (each reads its own properties besides the common ones).
    let scripts = spec::task_types().filter_map(|t| match t.execution {
        spec::Execution::ContainerScript { body, .. } => Some((t.name, body)),
        _ => None,
    });
    // And docker Build / Push, with what they need.
    let images = [
        (spec::DOCKER_BUILD_TYPE, "dockerfile: x\n    tags: [x]"),
        (spec::DOCKER_PUSH_TYPE, "tags: [x]"),
    ];
    let bodies = scripts
        .map(|(ty, body)| {
            let body = match body {
                spec::ScriptBody::Script => "script: x",
                spec::ScriptBody::Commands => "commands: [x]",
            };
            (ty, body)
        })
        .chain(images);
    for (ty, body) in bodies {
        let text = format!(
            "id: f\nnamespace: n\nlabels: []\ninputs: [{{}}]\npluginDefaults: [{{}}]\noutputs: [{{}}]\nconcurrency: {{}}\ntasks:\n  - id: t\n    type: {ty}\n    {body}\n    taskRunner: {{type: {DOCKER_RUNNER_TYPE}, credentials: {{}}, cpu: {{}}, memory: {{}}, deviceRequests: [{{}}]}}\n",
        );
        let mut cx = Cx::new("");
        if let Some(root) = yaml::parse(&text, &mut cx.diags) {
            crate::flow::plugin_defaults::read(&mut cx, &root);
            read_flow(&mut cx, "", &text, &root);
        }
        for (path, keys) in cx.known {
            let kind = match path.as_str() {
                "" => "flow",
                "inputs[0]" => "input",
                "pluginDefaults[0]" => "pluginDefault",
                "outputs[0]" => "flowOutput",
                "concurrency" => "concurrency",
                "tasks[0]" => "task",
                "tasks[0].taskRunner" => "taskRunner",
                "tasks[0].taskRunner.credentials" => "credentials",
                "tasks[0].taskRunner.cpu" => "cpu",
                "tasks[0].taskRunner.memory" => "memory",
                "tasks[0].taskRunner.deviceRequests[0]" => "deviceRequest",
                _ => continue,
            };
            let v = out.entry(kind).or_default();
            v.extend(keys);
            v.sort();
            v.dedup();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let l = load("f.yaml", text);
        assert!(l.flow.is_none());
        l.diags.sorted().iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn a_task_with_errors_keeps_its_id_for_the_checks_across_tasks() {
        let text = "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: echo\n  - id: b\n    type: io.kestra.plugin.gcp.bigquery.Query\n  - id: c\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['{{ outputs.a.vars.x }} {{ outputs.b.vars.y }}']\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [x]\n";
        assert_eq!(
            errors(text),
            [
                "f.yaml:6:15: error: `tasks[0].commands`: expected a list of strings, found a string `echo`".to_string(),
                "f.yaml:8:11: error: `tasks[1].type`: task type `io.kestra.plugin.gcp.bigquery.Query` is not supported by dockhand; the task types it runs are in the README's task table and `dockhand schema`".to_string(),
                "f.yaml:12:5: error: `tasks[3]`: duplicate task id `a` (first used at line 4)".to_string(),
            ]
        );
    }

    fn only_script_task(text: &str) -> crate::flow::model::ScriptTask {
        let l = load("f.yaml", text);
        let flow = l.flow.unwrap_or_else(|| panic!("{:?}", l.diags.sorted()));
        match &flow.tasks[0].kind {
            crate::flow::model::TaskKind::Script(t) => (**t).clone(),
            other => panic!("{other:?}"),
        }
    }

    /// A Script's `script` given as a list is its JSON text (as Kestra's `Property<String>`
    /// reads it), with a warning; `inputFiles` as a JSON text without expressions is its map.
    #[test]
    fn script_as_a_list_and_input_files_as_text() {
        let text = "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.deno.Script\n    inputFiles: '{\"in.txt\": \"hi\", \"n\": 2}'\n    script:\n      - console.log(\"x\");\n      - 2\n";
        let t = only_script_task(text);
        assert_eq!(
            t.input_files.get("script.ts").map(String::as_str),
            Some(r#"["console.log(\"x\");",2]"#)
        );
        assert_eq!(t.input_files.get("in.txt").map(String::as_str), Some("hi"));
        assert_eq!(t.input_files.get("n").map(String::as_str), Some("2"));
        assert_eq!(t.input_files_json, None);
        let l = load("f.yaml", text);
        assert!(
            l.diags
                .warnings()
                .any(|d| d.to_string().contains("the script is its JSON text")),
            "{:?}",
            l.diags.sorted()
        );
        // With an expression, the text is read when the task starts.
        let t = only_script_task(
            "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    inputFiles: '{{ flow.id | json }}'\n    commands: [ls]\n",
        );
        assert_eq!(t.input_files_json.as_deref(), Some("{{ flow.id | json }}"));
    }

    /// Python's dependencies are read with their options; `pythonVersion` alone installs and
    /// checks nothing (as in Kestra with a container), and a value that is no version is warned
    /// about and not checked.
    #[test]
    fn python_dependencies_and_python_version() {
        let py = |props: &str| {
            let text = format!(
                "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.python.Commands\n    commands: [python x.py]\n{props}"
            );
            let l = load("f.yaml", &text);
            let warnings: Vec<String> = l.diags.warnings().map(|d| d.to_string()).collect();
            (only_script_task(&text).python, warnings)
        };
        let (deps, w) = py(
            "    dependencies: [six, 'pandas>=2']\n    packageManager: PIP\n    pythonVersion: '3.11'\n    dependencyCacheEnabled: false\n",
        );
        assert_eq!(
            deps,
            Some(crate::flow::model::PythonDeps {
                requirements: vec!["six".into(), "pandas>=2".into()],
                uv: false,
                version: Some("3.11".into()),
                cache: false,
            })
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(py("    pythonVersion: '3.11'\n").0, None);
        let (deps, w) = py("    dependencies: [six]\n    pythonVersion: 'python: 3.11'\n");
        assert_eq!(deps.unwrap().version, None);
        assert_eq!(
            w,
            [
                "f.yaml:8:20: warning: `tasks[0].pythonVersion`: `python: 3.11` is not a Python version (digits and dots, e.g. 3.13): the image's Python is not checked against it"
            ]
        );
    }

    /// A python Script is its file (prefixed so that JSON-style literals are Python values)
    /// in the working directory, run by `python`; python's env variables are set, and a task's
    /// own value of one wins.
    #[test]
    fn a_python_script_is_a_prefixed_file_run_by_python() {
        use crate::flow::model::Body;
        let t = only_script_task(
            "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.python.Script\n    env: {PYTHONUNBUFFERED: 'false'}\n    inputFiles: {data.txt: x}\n    script: print(true)\n",
        );
        assert_eq!(t.container_image.to_string(), "python:3.13-slim");
        assert_eq!(t.interpreter, ["/bin/sh", "-c"]);
        assert_eq!(t.body, Body::Commands(vec!["python script.py".into()]));
        assert_eq!(
            t.input_files.get("script.py").map(String::as_str),
            Some("true = True\nfalse = False\nnull = None\nprint(true)")
        );
        assert_eq!(t.input_files.get("data.txt").map(String::as_str), Some("x"));
        assert_eq!(t.env["PYTHONUNBUFFERED"], "false");
        assert_eq!(t.env["PIP_ROOT_USER_ACTION"], "ignore");
        assert_eq!(t.env["PIP_DISABLE_PIP_VERSION_CHECK"], "1");
    }

    /// A language's Commands task is shell's with the language's image; powershell's
    /// interpreter and fail-fast line are its own.
    #[test]
    fn a_language_commands_task_takes_the_languages_defaults() {
        use crate::flow::model::Body;
        let t = only_script_task(
            "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.powershell.Commands\n    commands: [Get-Date]\n",
        );
        assert_eq!(
            t.container_image.to_string(),
            "ghcr.io/kestra-io/powershell:latest"
        );
        assert_eq!(
            t.interpreter,
            ["pwsh", "-NoProfile", "-NonInteractive", "-Command"]
        );
        assert_eq!(t.fail_fast_line, "$ErrorActionPreference = 'Stop'");
        assert_eq!(t.body, Body::Commands(vec!["Get-Date".into()]));
        assert!(t.input_files.is_empty() && t.env.is_empty());
    }

    /// Python's env variables are set on its Commands tasks too, as Kestra's `addEnv` does.
    #[test]
    fn a_python_commands_task_gets_pythons_env() {
        let t = only_script_task(
            "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.python.Commands\n    commands: [python -V]\n",
        );
        assert_eq!(t.env["PYTHONUNBUFFERED"], "true");
        assert_eq!(t.env.len(), 3);
        assert!(t.input_files.is_empty());
    }
}
