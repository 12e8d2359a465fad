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
pub(super) fn check_ids_and_templates(cx: &mut Cx, flow: &Flow, src: &str) {
    let mut seen: HashMap<&str, &Task> = HashMap::new();
    let mut all: Vec<&Task> = Vec::new();
    fn walk<'a>(t: &'a Task, out: &mut Vec<&'a Task>) {
        out.push(t);
        for c in t.children() {
            walk(c, out);
        }
    }
    for t in flow.top_level() {
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
    // A ForEachItem's internal tasks (Kestra's `ID_split`, `ID_items`, `ID_merge`) have
    // outputs of their own; they run where the ForEachItem runs.
    let internal = crate::flow::for_each_item::internal_ids(&all);
    for (name, i) in &internal {
        first.entry(name.as_str()).or_insert(*i);
        positions.entry(name.as_str()).or_default().push(*i);
    }
    // The tasks that have ended before each task starts: file order is not enough, as the
    // children of a Parallel run side by side.
    let mut before: HashMap<&str, Vec<Range<usize>>> = HashMap::new();
    let mut next = 0;
    ended_before(&flow.tasks, false, &mut next, &[], &mut before);
    // The flow's handlers run after its tasks (and `finally` after `errors`).
    let mut done: Vec<Range<usize>> = Vec::new();
    done.push(0..next);
    for list in [
        &flow.control.errors,
        &flow.control.finally,
        &flow.control.after_execution,
    ] {
        let start = next;
        ended_before(list, false, &mut next, &done, &mut before);
        done.push(start..next);
    }
    // Tasks that run once per value of a ForEach around them, with that ForEach's id.
    let mut each_of: HashMap<&str, &str> = HashMap::new();
    fn mark<'a>(t: &'a Task, each: Option<&'a str>, out: &mut HashMap<&'a str, &'a str>) {
        if let Some(e) = each {
            out.entry(t.id.as_str()).or_insert(e);
        }
        let is_each = matches!(&t.kind, TaskKind::Flow(f) if matches!(**f, crate::flow::control::FlowTask::ForEach { .. }));
        let inner = if is_each { Some(t.id.as_str()) } else { each };
        for c in t.children() {
            mark(c, inner, out);
        }
    }
    for t in flow.top_level() {
        mark(t, None, &mut each_of);
    }
    for &task in &all {
        super::typed_check::check_task(cx, flow, task);
        let here = first.get(task.id.as_str()).copied().unwrap_or(0);
        let done: &[Range<usize>] = before.get(task.id.as_str()).map_or(&[], Vec::as_slice);
        let ended = |t: &str| {
            positions
                .get(t)
                .is_some_and(|ps| ps.iter().any(|p| done.iter().any(|r| r.contains(p))))
        };
        let mut texts: Vec<(String, &str)> = Vec::new();
        if let Some(r) = &task.control.run_if {
            texts.push((format!("{}.runIf", task.path), r));
        }
        texts.extend(flow_texts(task));
        // The task's own typed properties written as templates (`timeout`, a Pause's `delay`).
        texts.extend(
            task.control
                .typed
                .iter()
                .map(|t| (format!("{}.{}", task.path, t.property), t.text.as_str())),
        );
        let TaskKind::Script(s) = &task.kind else {
            check_texts(
                cx,
                flow,
                src,
                task,
                texts,
                usize::MAX,
                here,
                &first,
                &ended,
                &each_of,
            );
            continue;
        };
        match &s.body {
            Body::Commands(c) => texts.extend(
                c.iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{}.commands[{i}]", task.path), x.as_str())),
            ),
            Body::Script(x) => texts.push((format!("{}.script", task.path), x)),
        }
        texts.extend(
            s.before_commands
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("{}.beforeCommands[{i}]", task.path), x.as_str())),
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
        for f in &s.kv_files {
            let what = if f.load {
                "loadManifest"
            } else {
                "storeManifest"
            };
            texts.push((format!("{}.{what}.key", task.path), f.key.as_str()));
            texts.push((
                format!("{}.{what}.namespace", task.path),
                f.namespace.as_str(),
            ));
        }
        texts.extend(
            s.input_files_json
                .iter()
                .map(|v| (format!("{}.inputFiles", task.path), v.as_str())),
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
        // Typed properties written as templates are rendered when the task starts, as Kestra
        // does, so they can read outputs too.
        texts.extend(
            s.runner
                .typed
                .iter()
                .map(|t| (format!("{runner_path}.{}", t.property), t.text.as_str())),
        );
        let in_runner = runner_texts.len();
        texts.extend(runner_texts);
        let first_runner = texts.len() - in_runner;
        check_texts(
            cx,
            flow,
            src,
            task,
            texts,
            first_runner,
            here,
            &first,
            &ended,
            &each_of,
        );
    }
}

/// The expressions of a flow-control task: If's condition, Switch's value, ForEach's values.
fn flow_texts(task: &Task) -> Vec<(String, &str)> {
    use crate::flow::control::{EachValues, FlowTask};
    let TaskKind::Flow(f) = &task.kind else {
        return vec![];
    };
    let p = &task.path;
    match &**f {
        FlowTask::If { condition, .. } => vec![(format!("{p}.condition"), condition.as_str())],
        FlowTask::Switch { value, .. } => vec![(format!("{p}.value"), value.as_str())],
        // EachSequential and EachParallel call it `value`.
        FlowTask::ForEach { values, .. } => match values {
            EachValues::Expression(e) => vec![(format!("{p}.values"), e.as_str())],
            EachValues::List(items) => items
                .iter()
                .filter_map(|v| v.as_str())
                .map(|v| (format!("{p}.values"), v))
                .collect(),
        },
        FlowTask::Dag { .. } | FlowTask::AllowFailure { .. } => vec![],
    }
}

/// Checks each template text of `task` (at `here` in file order): it parses, and names declared
/// inputs and variables and outputs of tasks that ended before it starts. Texts from
/// `first_runner` on are registry credentials and `config`, which cannot read outputs.
#[allow(clippy::too_many_arguments)]
fn check_texts(
    cx: &mut Cx,
    flow: &Flow,
    src: &str,
    task: &Task,
    texts: Vec<(String, &str)>,
    first_runner: usize,
    here: usize,
    first: &HashMap<&str, usize>,
    ended: &dyn Fn(&str) -> bool,
    each_of: &HashMap<&str, &str>,
) {
    {
        for (at, (path, text)) in texts.into_iter().enumerate() {
            // Errors point at the offending token in the file: from where the value starts,
            // through its YAML style (a value not read as a string falls back to its key).
            let start = flow.values.get(&path).copied();
            let key = flow.spans.get(&path).copied().unwrap_or(task.pos);
            let pos_of = |offset: usize| {
                start.map_or(key, |p| {
                    crate::flow::scalar_pos::locate(src, p, text, offset)
                })
            };
            let tpl = match pebble::Template::parse_all(text) {
                Err(errors) => {
                    for e in errors {
                        cx.error(pos_of(e.span.start), &path, e.message.clone());
                    }
                    continue;
                }
                Ok(t) => t,
            };
            // The removed `json` filter and function still work, with Kestra's advice.
            for w in &tpl.analysis().warnings {
                cx.diags
                    .warning(pos_of(w.span.start), &path, w.message.clone());
            }
            for c in &tpl.analysis().calls {
                if c.family == pebble::Family::Function
                    && let Some(why) = crate::flow::host_functions::unavailable(&c.name)
                {
                    cx.error(pos_of(c.span.start), &path, why);
                }
            }
            for r in tpl.analysis().references.iter().filter(|r| !r.guarded) {
                let shown = format!("`{{{{ {} }}}}`", r.dotted());
                let seg = |i: usize| r.path.get(i).map(String::as_str);
                let problem = match seg(0).unwrap_or_default() {
                    "outputs" if at >= first_runner => Some(format!(
                        "{shown}: registry credentials and `config` can use inputs, variables and ids, not task outputs (they are masked before the run starts)"
                    )),
                    // `a` of a nested input `a.b` is its object.
                    "inputs" => seg(1)
                        .filter(|n| {
                            !flow.inputs.iter().any(|i| {
                                i.id == *n || i.id.strip_prefix(*n).is_some_and(|r| r.starts_with('.'))
                            })
                        })
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
                        // Kestra keys a ForEach's runs by value: `outputs.t.vars` is no run.
                        Some(_) if seg(2) == Some("vars") && each_of.contains_key(t) => Some(format!(
                            "{shown}: task `{t}` runs once per value of ForEach `{}`; read one run's outputs as `outputs.{t}[VALUE].vars...` (e.g. `outputs.{t}[taskrun.value]`)",
                            each_of[t]
                        )),
                        _ => None,
                    }),
                    root @ ("outputFiles" | "temp" | "outputDirs") if legacy_keys(task, root).is_some() => {
                        let keys = legacy_keys(task, root).unwrap_or_default();
                        seg(1).filter(|k| !keys.iter().any(|x| x == k)).map(|k| {
                            format!(
                                "{shown}: `{root}` has no key `{k}`; the task's keys: {}",
                                if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
                            )
                        })
                    }
                    root if !ROOTS.contains(&root) => Some(format!(
                        "{shown}: unknown variable `{root}`{}; expressions can read {}",
                        crate::suggest::hint(root, ROOTS.iter().copied()),
                        ROOTS.join(", ")
                    )),
                    root => fixed_keys(root).and_then(|keys| {
                        let k = seg(1)?;
                        (!keys.contains(&k)).then(|| {
                            format!(
                                "{shown}: `{root}` has no `{k}`{}; it has {}",
                                crate::suggest::hint(k, keys.iter().copied()),
                                keys.join(", ")
                            )
                        })
                    }),
                };
                if let Some(p) = problem {
                    cx.error(pos_of(r.span.start), &path, p);
                }
            }
        }
    }
}

/// The output keys a pre-0.16 script task gives its expressions as `root` (`outputFiles`,
/// `temp`, `outputDirs`), or None for other tasks.
fn legacy_keys<'a>(task: &'a Task, root: &str) -> Option<&'a [String]> {
    let TaskKind::Script(s) = &task.kind else {
        return None;
    };
    let l = s.legacy.as_ref()?;
    Some(if root == "outputDirs" {
        &l.dirs
    } else {
        &l.files
    })
}

/// The variables Kestra gives every expression (anything else is unknown, as Kestra's strict
/// variables make it an error at run time).
static ROOTS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| pebble::CONTEXT_ROOTS.iter().map(|(r, _)| *r).collect());

/// The keys of the roots whose shape Kestra fixes (`RunVariables`): reading another is an
/// error at run time there, so it is one at validation here.
fn fixed_keys(root: &str) -> Option<&'static [&'static str]> {
    Some(match root {
        "flow" => &["id", "namespace", "revision", "tenantId"],
        "execution" => &["id", "startDate", "state", "originalId", "outputs"],
        "task" => &["id", "type"],
        "taskrun" => &[
            "id",
            "startDate",
            "attemptsCount",
            "parentId",
            "value",
            "iteration",
        ],
        "parent" => &["taskrun", "outputs"],
        _ => return None,
    })
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
        let body_start = *next;
        match &t.kind {
            TaskKind::Script(_) | TaskKind::Subflow(_) | TaskKind::Core(_) | TaskKind::Image(_) => {
            }
            TaskKind::Parallel { tasks: c, .. } => ended_before(c, true, next, &mine, out),
            TaskKind::Sequential { tasks: c } | TaskKind::Pause { tasks: c, .. } => {
                ended_before(c, false, next, &mine, out)
            }
            TaskKind::WorkingDirectory(w) => ended_before(&w.tasks, false, next, &mine, out),
            TaskKind::Flow(f) => match &**f {
                crate::flow::control::FlowTask::Dag { tasks, .. } => {
                    dag_ended_before(tasks, next, &mine, out)
                }
                // Each branch (case, iteration body) is a sequence of its own.
                other => {
                    for list in flow_lists(other) {
                        ended_before(list, false, next, &mine, out);
                    }
                }
            },
        }
        // Local `errors` and `finally` run once the children have run (or failed).
        let mut after = mine.clone();
        after.push(body_start..*next);
        for list in [&t.control.errors, &t.control.finally] {
            let start = *next;
            ended_before(list, false, next, &after, out);
            after.push(start..*next);
        }
    }
}

/// The task lists of a flow-control task other than a Dag, as slices.
fn flow_lists(f: &crate::flow::control::FlowTask) -> Vec<&[Task]> {
    use crate::flow::control::FlowTask;
    match f {
        FlowTask::If {
            then, otherwise, ..
        } => vec![then, otherwise],
        FlowTask::Switch {
            cases, defaults, ..
        } => cases
            .iter()
            .map(|(_, t)| t.as_slice())
            .chain([defaults.as_slice()])
            .collect(),
        FlowTask::ForEach { tasks, .. } | FlowTask::AllowFailure { tasks } => vec![tasks],
        FlowTask::Dag { .. } => vec![],
    }
}

/// How many tasks a subtree holds (the task itself included), in the order `ended_before`
/// numbers them.
fn subtree_size(t: &Task) -> usize {
    1 + t.children().into_iter().map(subtree_size).sum::<usize>()
}

/// A Dag's tasks: each has seen the tasks it depends on (and theirs) end.
fn dag_ended_before<'a>(
    tasks: &'a [crate::flow::control::DagTask],
    next: &mut usize,
    done: &[Range<usize>],
    out: &mut HashMap<&'a str, Vec<Range<usize>>>,
) {
    let mut ranges: HashMap<&str, Range<usize>> = HashMap::new();
    let mut at = *next;
    for d in tasks {
        let n = subtree_size(&d.task);
        ranges.insert(d.task.id.as_str(), at..at + n);
        at += n;
    }
    for d in tasks {
        let mut mine = done.to_vec();
        let mut stack: Vec<&str> = d.depends_on.iter().map(String::as_str).collect();
        let mut seen: Vec<&str> = Vec::new();
        while let Some(dep) = stack.pop() {
            if seen.contains(&dep) {
                continue;
            }
            seen.push(dep);
            if let Some(r) = ranges.get(dep) {
                mine.push(r.clone());
            }
            if let Some(dd) = tasks.iter().find(|x| x.task.id == dep) {
                stack.extend(dd.depends_on.iter().map(String::as_str));
            }
        }
        // The task itself and what it holds, numbered as `ended_before` does.
        ended_before(std::slice::from_ref(&d.task), false, next, &mine, out);
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
