//! Checks across the tasks of a flow, once every task is read: task ids are unique, and template
//! expressions name declared inputs and variables, and outputs of tasks that have ended before
//! the task starts (not a sibling in the same Parallel).

use std::collections::HashMap;
use std::ops::Range;

use crate::flow::model::*;
use crate::flow::reader::Cx;
use crate::pebble;

/// Task ids are unique across the flow; template expressions name declared inputs and
/// variables, and outputs of tasks that run earlier.
pub(super) fn check_ids_and_templates(cx: &mut Cx, flow: &Flow) {
    let mut seen: HashMap<&str, &Task> = HashMap::new();
    let mut all: Vec<&Task> = Vec::new();
    fn walk<'a>(t: &'a Task, out: &mut Vec<&'a Task>) {
        out.push(t);
        if let TaskKind::Parallel { tasks, .. } | TaskKind::Sequential { tasks } = &t.kind {
            for c in tasks {
                walk(c, out);
            }
        }
    }
    for t in &flow.tasks {
        walk(t, &mut all);
    }
    // A task whose id could not be read has an empty one (and an error already).
    for t in all.iter().filter(|t| !t.id.is_empty()) {
        if let Some(first) = seen.get(t.id.as_str()) {
            cx.error(
                t.pos,
                &t.path,
                format!(
                    "duplicate task id `{}` (first used at line {})",
                    t.id, first.pos.line
                ),
            );
        } else {
            seen.insert(&t.id, t);
        }
    }
    // Positions in file order (pre-order): the first of each id, and all of them (a duplicate
    // id is reported above); lookups stay cheap however many tasks the flow has.
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in all.iter().enumerate() {
        first.entry(t.id.as_str()).or_insert(i);
        positions.entry(t.id.as_str()).or_default().push(i);
    }
    // The tasks that have ended before each task starts: file order is not enough, as the
    // children of a Parallel run side by side.
    let mut before: HashMap<&str, Vec<Range<usize>>> = HashMap::new();
    ended_before(&flow.tasks, false, &mut 0, &[], &mut before);
    for (task, s) in flow.scripts() {
        let here = first.get(task.id.as_str()).copied().unwrap_or(0);
        let done: &[Range<usize>] = before.get(task.id.as_str()).map_or(&[], Vec::as_slice);
        let ended = |t: &str| {
            positions
                .get(t)
                .is_some_and(|ps| ps.iter().any(|p| done.iter().any(|r| r.contains(p))))
        };
        let mut texts: Vec<(String, &str)> = Vec::new();
        match &s.body {
            Body::Commands(c) => texts.extend(
                c.iter()
                    .map(|x| (format!("{}.commands", task.path), x.as_str())),
            ),
            Body::Script(x) => texts.push((format!("{}.script", task.path), x)),
        }
        texts.extend(
            s.before_commands
                .iter()
                .map(|x| (format!("{}.beforeCommands", task.path), x.as_str())),
        );
        texts.extend(
            s.env
                .iter()
                .map(|(k, v)| (format!("{}.env.{k}", task.path), v.as_str())),
        );
        texts.extend(
            s.input_files
                .iter()
                .map(|(k, v)| (format!("{}.inputFiles.{k}", task.path), v.as_str())),
        );
        // Registry credentials and `config` are rendered too (as Kestra does), with what is
        // known before the run: they are masked from the start, so no task outputs.
        let runner_path = format!("{}.taskRunner", task.path);
        let mut runner_texts: Vec<(String, &str)> = Vec::new();
        if let Some(c) = &s.runner.credentials {
            for (k, v) in credential_fields(c) {
                if let Some(v) = v {
                    runner_texts.push((format!("{runner_path}.credentials.{k}"), v.as_str()));
                }
            }
        }
        if let Some(cfg) = &s.runner.config {
            let mut strings = Vec::new();
            json_strings(cfg, &mut strings);
            runner_texts.extend(
                strings
                    .into_iter()
                    .map(|v| (format!("{runner_path}.config"), v)),
            );
        }
        let in_runner = runner_texts.len();
        texts.extend(runner_texts);
        let first_runner = texts.len() - in_runner;
        for (at, (path, text)) in texts.into_iter().enumerate() {
            let pos = flow.spans.get(&path).copied().unwrap_or(task.pos);
            let tpl = match pebble::Template::parse_all(text) {
                Err(errors) => {
                    for e in errors {
                        cx.error(pos, &path, pebble_error(&e, text));
                    }
                    continue;
                }
                Ok(t) => t,
            };
            for r in tpl.analysis().references.iter().filter(|r| !r.guarded) {
                let shown = format!("`{{{{ {} }}}}`", r.dotted());
                let seg = |i: usize| r.path.get(i).map(String::as_str);
                let problem = match seg(0).unwrap_or_default() {
                    "outputs" if at >= first_runner => Some(format!(
                        "{shown}: registry credentials and `config` can use inputs, variables and ids, not task outputs (they are masked before the run starts)"
                    )),
                    "inputs" => seg(1)
                        .filter(|n| !flow.inputs.iter().any(|i| i.id == *n))
                        .map(|n| format!("{shown}: the flow declares no input `{n}`")),
                    "vars" => seg(1)
                        .filter(|n| !flow.variables.contains_key(*n))
                        .map(|n| format!("{shown}: the flow declares no variable `{n}`")),
                    "outputs" => seg(1).and_then(|t| match first.get(t).copied() {
                        None => Some(format!("{shown}: there is no task `{t}`")),
                        Some(p) if p >= here => Some(format!(
                            "{shown}: task `{t}` does not run before `{}`",
                            task.id
                        )),
                        Some(_) if !ended(t) => Some(format!(
                            "{shown}: task `{t}` runs in parallel with `{}`, so it has not ended when `{}` starts",
                            task.id, task.id
                        )),
                        _ => None,
                    }),
                    root if !ROOTS.contains(&root) => Some(format!(
                        "{shown}: unknown variable `{root}`{}; expressions can read {}",
                        crate::suggest::hint(root, ROOTS.iter().copied()),
                        ROOTS.join(", ")
                    )),
                    _ => None,
                };
                if let Some(p) = problem {
                    cx.error(pos, &path, p);
                }
            }
        }
    }
}

/// The variables Kestra gives every expression (anything else is unknown, as Kestra's strict
/// variables make it an error at run time).
const ROOTS: &[&str] = &[
    "flow",
    "execution",
    "task",
    "taskrun",
    "inputs",
    "outputs",
    "vars",
    "labels",
    "envs",
    "globals",
    "workingDir",
    "outputDir",
    "trigger",
    "parent",
    "parents",
];

/// A parse or static error of a template, with where it is inside the text: the diagnostic
/// points at the property (a block scalar's lines are not mapped one by one).
fn pebble_error(e: &pebble::Error, text: &str) -> String {
    let (line, col) = e.line_col(text);
    if text.contains('\n') {
        format!("{} (at line {line}, column {col} of the text)", e.message)
    } else {
        format!("{} (at column {col} of the text)", e.message)
    }
}

/// Records, for each task, the tasks that have ended when it starts, as ranges of positions in
/// file order (pre-order, where a task's subtree is contiguous). `next` is the position of the
/// list's first task and moves past the list; `done` holds the ranges that ended before the list
/// starts. In a sequential list the earlier siblings (and all they hold) have ended when a task
/// starts; in a parallel one, none have. A repeated id keeps the entry of its first occurrence.
fn ended_before<'a>(
    tasks: &'a [Task],
    parallel: bool,
    next: &mut usize,
    done: &[Range<usize>],
    out: &mut HashMap<&'a str, Vec<Range<usize>>>,
) {
    let first = *next;
    for t in tasks {
        let mut mine = done.to_vec();
        if !parallel && first < *next {
            mine.push(first..*next);
        }
        *next += 1;
        out.entry(t.id.as_str()).or_insert_with(|| mine.clone());
        match &t.kind {
            TaskKind::Script(_) | TaskKind::Image(_) => {}
            TaskKind::Parallel { tasks: c, .. } => ended_before(c, true, next, &mine, out),
            TaskKind::Sequential { tasks: c } => ended_before(c, false, next, &mine, out),
        }
    }
}

/// The fields of registry credentials that may hold templates, by property name.
pub fn credential_fields(c: &Credentials) -> [(&'static str, &Option<String>); 6] {
    [
        ("registry", &c.registry),
        ("username", &c.username),
        ("password", &c.password),
        ("auth", &c.auth),
        ("registryToken", &c.registry_token),
        ("identityToken", &c.identity_token),
    ]
}

/// Every string value in a JSON document (not the keys), in order.
fn json_strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}
