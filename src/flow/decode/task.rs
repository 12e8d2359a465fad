//! Reading tasks: the common task properties, then the type's own, dispatched on the task type
//! the spec names ([`crate::flow::spec::task_types`]); script tasks (image, interpreter, body,
//! env, files) and flowable parents (Parallel, Sequential) with their children.

use std::collections::BTreeMap;

use crate::flow::model::*;
use crate::flow::reader::{self, Cx, Obj, as_seq};
use crate::flow::spec::{self, ENV_NAME, Execution, Flowable, ScriptBody, TASK_ID};
use crate::flow::yaml::Node;
use crate::image::ImageRef;
use crate::units;

/// What a task holds when its type is missing or not supported (reported already): nothing, but
/// it keeps its place and its id, so that other tasks' references to it and a duplicate of its
/// id are judged as they would be once it is fixed, with no follow-on errors. The flow has errors
/// then, so it never reaches a plan.
fn unread_kind() -> TaskKind {
    TaskKind::Sequential { tasks: vec![] }
}

pub(super) fn read_tasks(cx: &mut Cx, items: &[Node], path: &str) -> Vec<Task> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| read_task(cx, n, &format!("{path}[{i}]")))
        .collect()
}

fn task_type_names() -> Vec<&'static str> {
    spec::task_types().map(|t| t.name).collect()
}

fn read_task(cx: &mut Cx, n: &Node, path: &str) -> Option<Task> {
    let mut o = Obj::new(cx, n, path)?;
    let id = o.need_string(cx, "id");
    if let Some(id) = &id
        && !TASK_ID.is_match(id)
    {
        let pos = o.get(cx, "id").map_or(n.pos, |v| v.pos);
        cx.error(
            pos,
            &o.key_path("id"),
            format!("invalid task id `{id}`: use {}", TASK_ID.rule),
        );
    }
    let ty = o.need_string(cx, "type");
    let description = o.string(cx, "description");
    let timeout = o.parsed(cx, "timeout", |s| match units::parse_duration(s)? {
        d if d.is_zero() => Err(
            "a timeout of zero would stop the task at once; remove `timeout` for no limit"
                .to_string(),
        ),
        d => Ok(d),
    });
    let allow_failure = o.bool(cx, "allowFailure").unwrap_or(false);
    let disabled = o.bool(cx, "disabled").unwrap_or(false);
    let kind = match ty
        .as_deref()
        .map(|t| (t, spec::task_type(t).map(|t| t.execution)))
    {
        Some((
            _,
            Some(
                exec @ Execution::ContainerScript {
                    body,
                    default_image,
                    ..
                },
            ),
        )) => Some(TaskKind::Script(Box::new(read_script(
            cx,
            &mut o,
            body,
            default_image,
            exec,
        )))),
        Some((_, Some(Execution::FlowableParent(Flowable::Parallel)))) => {
            let concurrent = o.int(cx, "concurrent").unwrap_or(0);
            if concurrent < 0 {
                let pos = o.get(cx, "concurrent").map_or(n.pos, |v| v.pos);
                cx.error(
                    pos,
                    &o.key_path("concurrent"),
                    "must be 0 (no limit) or more",
                );
            }
            let tasks = read_children(cx, &mut o);
            Some(TaskKind::Parallel {
                concurrent: concurrent.max(0) as usize,
                tasks,
            })
        }
        Some((_, Some(Execution::FlowableParent(Flowable::Sequential)))) => {
            Some(TaskKind::Sequential {
                tasks: read_children(cx, &mut o),
            })
        }
        Some((_, Some(Execution::FlowableParent(Flowable::WorkingDirectory)))) => {
            Some(super::working_directory::read(cx, &mut o))
        }
        // No task type executes so yet: the spec lists none, and one that did would need its
        // reader here (and its model and builder) before it could run.
        Some((name, Some(Execution::HostProcess | Execution::InProcess))) => {
            let pos = o.get(cx, "type").map_or(n.pos, |v| v.pos);
            cx.error(
                pos,
                &o.key_path("type"),
                format!("task type `{name}` is described but dockhand cannot run it yet"),
            );
            None
        }
        Some((other, None)) => {
            let pos = o.get(cx, "type").map_or(n.pos, |v| v.pos);
            // Type names share long prefixes: only a near miss is a likely typo.
            let hint = match crate::suggest::closest(other, task_type_names()) {
                Some(c) if crate::suggest::distance(other, c) <= 3 => {
                    format!(" (did you mean `{c}`?)")
                }
                _ => String::new(),
            };
            cx.error(
                pos,
                &o.key_path("type"),
                format!(
                    "task type `{other}` is not supported by dockhand{hint}; supported: {}",
                    task_type_names().join(", ")
                ),
            );
            None
        }
        None => None,
    };
    // Without a known type, which properties belong is unknown: they are not reported.
    // The ignored and refused properties are the type's (the common ones, then its own).
    if kind.is_some() {
        let object = ty
            .as_deref()
            .and_then(spec::task_type)
            .map_or(&spec::TASK, |t| &t.object);
        o.finish_described(cx, object);
    }
    // A task with errors (reported) is kept with what could be read: an id that is not a
    // string is empty and takes part in no id check.
    Some(Task {
        id: id.unwrap_or_default(),
        path: path.to_string(),
        pos: n.pos,
        description,
        timeout,
        allow_failure,
        disabled,
        kind: kind.unwrap_or_else(unread_kind),
    })
}

pub(super) fn read_children(cx: &mut Cx, o: &mut Obj<'_>) -> Vec<Task> {
    let path = o.key_path("tasks");
    match o.need(cx, "tasks") {
        Some(n) => match as_seq(cx, n, &path) {
            Some([]) => {
                cx.error(n.pos, &path, "needs at least one task");
                vec![]
            }
            Some(items) => read_tasks(cx, items, &path),
            None => vec![],
        },
        None => vec![],
    }
}

/// A script task; a property with an error (reported) gets a stand-in so that the task's other
/// properties, templates and id are still checked.
fn read_script(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    body_kind: ScriptBody,
    default_image: &str,
    exec: Execution,
) -> ScriptTask {
    let Execution::ContainerScript {
        interpreter: default_interpreter,
        fail_fast: fail_fast_line,
        env: default_env,
        file,
        ..
    } = exec
    else {
        unreachable!("read_script is called for container scripts only")
    };
    let image_pos = o.get(cx, "containerImage").map(|n| n.pos);
    let image = match o.string(cx, "containerImage") {
        Some(s) => match ImageRef::parse(s.trim()) {
            Ok(i) => Some(i),
            Err(e) => {
                cx.error(
                    image_pos.unwrap_or_default(),
                    &o.key_path("containerImage"),
                    e,
                );
                None
            }
        },
        None => ImageRef::parse(default_image).ok(),
    };
    let interpreter = o
        .strings(cx, "interpreter")
        .unwrap_or_else(|| default_interpreter.iter().map(|s| s.to_string()).collect());
    let before_commands = o.strings(cx, "beforeCommands").unwrap_or_default();
    let body = if body_kind == ScriptBody::Script {
        let s = o.need_string(cx, "script");
        if let (Some(s), Some(n)) = (&s, o.get(cx, "script"))
            && s.trim().is_empty()
        {
            cx.error(n.pos, &o.key_path("script"), "the script is empty");
        }
        s.map(Body::Script)
    } else {
        let c = o.need(cx, "commands").and_then(|n| {
            let c = reader::as_strings(cx, n, &o.key_path("commands"))?;
            if c.is_empty() {
                cx.error(
                    n.pos,
                    &o.key_path("commands"),
                    "`commands` is empty: give at least one command",
                );
            }
            Some(c)
        });
        c.map(Body::Commands)
    };
    let mut env = o.string_map(cx, "env").unwrap_or_default();
    for (name, value) in &env {
        if crate::client_env::client_reads(name) && (value.contains('\n') || value.contains('\r')) {
            let p = reader::join(&o.key_path("env"), name);
            let pos = cx.spans.get(&p).copied().unwrap_or(o.pos());
            cx.error(pos, &p, format!("`{name}` holds a line break, and the engine client reads `{name}` itself, so it can only be passed in an env file, which takes one line per variable"));
        }
        if !ENV_NAME.is_match(name) {
            let p = o.key_path("env");
            let pos = cx
                .spans
                .get(&reader::join(&p, name))
                .copied()
                .unwrap_or(o.pos());
            cx.error(
                pos,
                &reader::join(&p, name),
                format!(
                    "invalid environment variable name `{name}`: use {}",
                    ENV_NAME.rule
                ),
            );
        }
    }
    let fail_fast = o.bool(cx, "failFast").unwrap_or(true);
    let (mut input_files, output_files) = read_files(cx, o);
    // A language's script is a file in the working directory, run by the language's command:
    // it reaches the container as the input files do.
    let body = match (file, body) {
        (Some(f), Some(Body::Script(script))) => {
            if input_files.contains_key(f.name) {
                let p = reader::join(&o.key_path("inputFiles"), f.name);
                let pos = cx.spans.get(&p).copied().unwrap_or(o.pos());
                cx.error(
                    pos,
                    &p,
                    format!(
                        "the script is written to `{}` in the working directory; give this input file another name",
                        f.name
                    ),
                );
            }
            input_files.insert(f.name.to_string(), format!("{}{script}", f.prefix));
            Some(Body::Commands(vec![f.command.to_string()]))
        }
        (_, body) => body,
    };
    for (k, v) in default_env {
        env.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    let chosen = super::task_runner::read(cx, o);
    let namespace_files = super::namespace_files::read(cx, o);
    ScriptTask {
        container_image: chosen
            .image
            .or(image)
            .unwrap_or_else(|| ImageRef::parse(default_image).expect("a valid image reference")),
        interpreter,
        before_commands,
        body: body.unwrap_or(Body::Commands(vec![])),
        env,
        fail_fast,
        fail_fast_line,
        input_files,
        output_files,
        runner: chosen.docker,
        task_runner: chosen.kind,
        output_dir: chosen.legacy_runner,
        namespace_files,
    }
}

/// `inputFiles` (relative path → content) and `outputFiles` (globs), each path relative to
/// the working directory.
pub(super) fn read_files(cx: &mut Cx, o: &mut Obj<'_>) -> (BTreeMap<String, String>, Vec<String>) {
    let input_files = o.string_map(cx, "inputFiles").unwrap_or_default();
    for name in input_files.keys() {
        let p = reader::join(&o.key_path("inputFiles"), name);
        if let Err(e) = check_relative(name) {
            let pos = cx.spans.get(&p).copied().unwrap_or(o.pos());
            cx.error(pos, &p, format!("input file `{name}`: {e}"));
        }
    }
    let output_files = o.strings(cx, "outputFiles").unwrap_or_default();
    if let Some(n) = o.get(cx, "outputFiles") {
        for f in &output_files {
            if let Err(e) = check_relative(f) {
                cx.error(
                    n.pos,
                    &o.key_path("outputFiles"),
                    format!("output file glob `{f}`: {e}"),
                );
            }
        }
    }
    (input_files, output_files)
}

pub(super) fn check_relative(p: &str) -> Result<(), &'static str> {
    if p.is_empty() {
        Err("the name is empty")
    } else if p.starts_with('/') {
        Err("must be relative to the working directory")
    } else if p.split('/').any(|c| c == "..") {
        Err("must not leave the working directory (`..`)")
    } else {
        Ok(())
    }
}
