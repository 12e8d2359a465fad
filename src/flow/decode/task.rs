//! Reading tasks: the common task properties, then the type's own, dispatched on the task type
//! the spec names ([`crate::flow::spec::task_types`]); script tasks (image, interpreter, body,
//! env, files) and flowable parents (Parallel, Sequential) with their children.

use std::collections::BTreeMap;

use crate::flow::model::*;
use crate::flow::reader::{self, Cx, Obj, as_seq};
use crate::flow::spec::{self, ENV_NAME, Execution, Flowable, ScriptBody, TASK_ID};
use crate::flow::typed_template::TypedTemplate;
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

pub(super) fn read_task(cx: &mut Cx, n: &Node, path: &str) -> Option<Task> {
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
    if let Some(t) = &ty {
        cx.task_types.insert(path.to_string(), t.clone());
    }
    let description = o.string(cx, "description");
    // `timeout` (and a Pause's `delay`) are Kestra's `Property<Duration>`: a template is kept,
    // rendered and converted when the task starts.
    let mut typed = Vec::new();
    let timeout_template =
        super::runner::take_template(cx, &mut o, "timeout", "timeout", &mut typed);
    let timeout = if timeout_template {
        None
    } else {
        o.parsed(cx, "timeout", |s| match units::parse_duration(s)? {
            d if d.is_zero() => Err(
                "a timeout of zero would stop the task at once; remove `timeout` for no limit"
                    .to_string(),
            ),
            d => Ok(d),
        })
    };
    let allow_failure = o.bool(cx, "allowFailure").unwrap_or(false);
    let disabled = o.bool(cx, "disabled").unwrap_or(false);
    let kind = match ty
        .as_deref()
        .map(|t| (t, spec::task_type(t).map(|t| t.execution)))
    {
        Some((name, Some(Execution::ContainerScript { .. }))) => {
            let tt = spec::task_type(name).expect("a described type");
            Some(TaskKind::Script(Box::new(read_script(cx, &mut o, tt))))
        }
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
        Some((_, Some(Execution::Pause))) => {
            let parse = |s: &str| crate::units::parse_duration(s);
            let mut delay = None;
            // `pauseDuration` over `delay` (Kestra's older name), whichever form each has.
            for key in ["pauseDuration", "delay"] {
                let mut t = Vec::new();
                let d = if super::runner::take_template(cx, &mut o, key, "delay", &mut t) {
                    // Errors about the template point at it under either name.
                    if let Some(p) = cx.values.get(&o.key_path(key)).copied() {
                        cx.values.insert(o.key_path("delay"), p);
                    }
                    None
                } else {
                    o.parsed(cx, key, parse)
                };
                if delay.is_none() && !typed.iter().any(|t: &TypedTemplate| t.property == "delay") {
                    delay = d;
                    typed.extend(t);
                }
            }
            // Kestra's Pause still reads its deprecated `tasks`: they run once the pause ends.
            let tasks = match o.get(cx, "tasks") {
                Some(t) => {
                    cx.diags.warning(
                        t.pos,
                        o.key_path("tasks"),
                        "a Pause's `tasks` are deprecated in Kestra; put them after the Pause task",
                    );
                    read_children(cx, &mut o)
                }
                None => vec![],
            };
            Some(TaskKind::Pause { delay, tasks })
        }
        Some((name, Some(Execution::Subflow))) => {
            Some(TaskKind::Subflow(Box::new(super::subflow::read(
                cx,
                &mut o,
                spec::canonical_task_type(name) == spec::tasks_flow::FOR_EACH_ITEM_TYPE,
            ))))
        }
        Some((_, Some(Execution::FlowableParent(f)))) => {
            super::flowable::read_flowable(cx, &mut o, f)
        }
        Some((name, Some(Execution::InProcess))) => {
            super::core::read_core(cx, &mut o, spec::canonical_task_type(name))
                .map(|c| TaskKind::Core(Box::new(c)))
                .or_else(|| Some(unread_kind()))
        }
        Some((name, Some(Execution::HostProcess))) if spec::is_image_task(name) => {
            let tt = spec::task_type(name).expect("a described type");
            if timeout.is_some() || timeout_template {
                let pos = o.get(cx, "timeout").map_or(n.pos, |v| v.pos);
                cx.diags.warning(
                    pos,
                    o.key_path("timeout"),
                    "a docker Build or Push runs to its end: `timeout` is not applied to it",
                );
            }
            Some(TaskKind::Image(Box::new(super::image_task::read(
                cx, &mut o, tt,
            ))))
        }
        // No other task type executes so yet: one that did would need its reader here (and
        // its model and builder) before it could run.
        Some((name, Some(Execution::HostProcess))) => {
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
                // The list of every type (80-odd names) would bury the line; name where it is.
                format!(
                    "task type `{other}` is not supported by dockhand{hint}; the task types it runs are in the README's task table and `dockhand schema`"
                ),
            );
            None
        }
        None => None,
    };
    let flowable = ty
        .as_deref()
        .and_then(spec::task_type)
        .is_some_and(|t| matches!(t.execution, Execution::FlowableParent(_)));
    let mut control = super::flowable::read_control(cx, &mut o, flowable);
    control.typed = typed;
    if control.task_cache.is_some()
        && kind
            .as_ref()
            .is_some_and(|k| !crate::flow::task_cache::cacheable(k))
    {
        let pos = o.get(cx, "taskCache").map_or(n.pos, |v| v.pos);
        cx.diags.warning(
            pos,
            o.key_path("taskCache"),
            "dockhand caches script tasks and the core tasks whose result is their outputs: `taskCache` is not applied to this task, which runs every time",
        );
    }
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
        control,
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
fn read_script(cx: &mut Cx, o: &mut Obj<'_>, tt: &'static spec::TaskType) -> ScriptTask {
    let Execution::ContainerScript {
        body: body_kind,
        default_image,
        interpreter: default_interpreter,
        fail_fast: fail_fast_line,
        env: default_env,
        file,
    } = tt.execution
    else {
        unreachable!("read_script is called for container scripts only")
    };
    // Kestra's pre-0.16 script tasks have properties of their own (`spec::tasks_legacy`).
    if let Some(adapter) = spec::tasks_legacy::legacy_adapter(tt.name) {
        return super::legacy_script::read(cx, o, tt, adapter);
    }
    // The script properties a type's plugin lacks (a CLI task's `interpreter`) are not read.
    let described = |name: &str| {
        tt.object
            .properties()
            .any(|p| p.name == name && p.support == spec::Support::Read)
    };
    let required = |name: &str| tt.object.properties().any(|p| p.name == name && p.required);
    let image_pos = described("containerImage")
        .then(|| o.get(cx, "containerImage").map(|n| n.pos))
        .flatten();
    let image_text = if required("containerImage") {
        o.need_string(cx, "containerImage")
    } else {
        described("containerImage")
            .then(|| o.string(cx, "containerImage"))
            .flatten()
    };
    // `containerImage` is Kestra's Property<String>: a template is rendered when the task starts.
    let image_template = image_text
        .clone()
        .filter(|s| crate::flow::typed_template::is_template(s));
    let image = match image_text.filter(|_| image_template.is_none()) {
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
        // Without one, the type's default (which a CLI task's property may choose) below.
        None => None,
    };
    let interpreter = described("interpreter")
        .then(|| o.strings(cx, "interpreter"))
        .flatten()
        .unwrap_or_else(|| default_interpreter.iter().map(|s| s.to_string()).collect());
    let mut before_commands = described("beforeCommands")
        .then(|| o.strings(cx, "beforeCommands"))
        .flatten()
        .unwrap_or_default();
    let body = if body_kind == ScriptBody::Script {
        let s = super::script_text::read(cx, o);
        if let (Some(s), Some(n)) = (&s, o.get(cx, "script"))
            && s.trim().is_empty()
        {
            cx.error(n.pos, &o.key_path("script"), "the script is empty");
        }
        s.map(Body::Script)
    } else if !required("commands") {
        // Optional commands (docker Run's argv), or none (git Clone's are made from its
        // properties).
        let c = described("commands")
            .then(|| o.strings(cx, "commands"))
            .flatten();
        Some(Body::Commands(c.unwrap_or_default()))
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
    let mut env = described("env")
        .then(|| o.string_map(cx, "env"))
        .flatten()
        .unwrap_or_default();
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
    let fail_fast = described("failFast")
        .then(|| o.bool(cx, "failFast"))
        .flatten()
        .unwrap_or(true);
    let (mut input_files, mut output_files, input_files_json) = read_files(cx, o, &described);
    let python = described("dependencies").then(|| read_python(cx, o));
    // A language's script is a file in the working directory, run by the language's command:
    // it reaches the container as the input files do.
    let mut body = match (file, body) {
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
            // The plugin's own setup runs before the task's beforeCommands.
            before_commands.splice(0..0, f.before.iter().map(|c| c.to_string()));
            Some(Body::Commands(vec![f.command.to_string()]))
        }
        (_, body) => body,
    };
    let chosen = if spec::runner_at_top(tt.name) {
        // docker Run: the runner's options are the task's own properties.
        super::task_runner::Chosen {
            kind: crate::flow::model::RunnerKind::Docker,
            docker: super::container_run::read_top_runner(cx, o, tt).unwrap_or_default(),
            image: None,
            legacy_runner: false,
        }
    } else if described("taskRunner") {
        // Also Kestra's older forms (`runner`, `docker`, `taskRunner.image`).
        super::task_runner::read(cx, o)
    } else {
        super::task_runner::Chosen {
            kind: crate::flow::model::RunnerKind::Docker,
            docker: DockerRunner::default(),
            image: None,
            legacy_runner: false,
        }
    };
    // A CLI task's own properties: env, files, commands (tasks_container's adapters).
    let mut default_image = default_image;
    let mut kv_files = Vec::new();
    if let Some(Body::Commands(commands)) = &mut body {
        // Objects, read before the text properties (`read_own` skips what was read).
        let manifests = [("loadManifest", true), ("storeManifest", false)].map(|(name, load)| {
            (
                described(name).then(|| read_kv_file(cx, o, name)).flatten(),
                load,
            )
        });
        let values = read_own(cx, o, tt);
        // plugin-dbt: `target/manifest.json` under `projectDir` (as written).
        let manifest = match values.get("projectDir") {
            Some(dir) => format!("{}/target/manifest.json", dir.trim_end_matches('/')),
            None => "target/manifest.json".to_string(),
        };
        for (entry, load) in manifests {
            if let Some((namespace, key)) = entry {
                if !load && !output_files.contains(&manifest) {
                    // Kept past the run, so it can be stored (and handed out, as Kestra does).
                    output_files.push(manifest.clone());
                }
                kv_files.push(crate::flow::model::KvFile {
                    load,
                    namespace,
                    key,
                    path: manifest.clone(),
                });
            }
        }
        let mut cli = spec::CliScript {
            commands: std::mem::take(commands),
            ..Default::default()
        };
        spec::adapt_cli(tt.name, &values, &mut cli);
        *commands = cli.commands;
        default_image = cli.default_image.unwrap_or(default_image);
        before_commands.extend(cli.before_commands);
        for (name, content) in cli.files {
            input_files.insert(name.to_string(), content);
        }
        for (k, v) in cli.env {
            env.entry(k.to_string()).or_insert(v);
        }
    }
    for (k, v) in default_env {
        env.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    let namespace_files = described("namespaceFiles")
        .then(|| super::namespace_files::read(cx, o))
        .flatten();
    ScriptTask {
        // A type without a default (docker Run) whose image is missing has an error
        // (reported): `scratch` stands in.
        container_image: chosen
            .image
            .or(image)
            .or_else(|| ImageRef::parse(default_image).ok())
            .unwrap_or_else(|| ImageRef::parse("scratch").expect("a valid image reference")),
        interpreter,
        before_commands,
        body: body.unwrap_or(Body::Commands(vec![])),
        env,
        fail_fast,
        fail_fast_line,
        input_files,
        output_files,
        runner: {
            let mut r = chosen.docker;
            r.typed.extend(image_template.map(|text| TypedTemplate {
                property: "containerImage",
                text,
                item: None,
            }));
            r
        },
        task_runner: chosen.kind,
        output_dir: chosen.legacy_runner,
        python: python.flatten(),
        kv_files,
        namespace_files,
        input_files_json,
        legacy: None,
    }
}

/// Python's dependencies and their options; none when there is nothing to install or check.
fn read_python(cx: &mut Cx, o: &mut Obj<'_>) -> Option<PythonDeps> {
    let requirements = o.strings(cx, "dependencies").unwrap_or_default();
    let uv = o
        .enumeration(cx, "packageManager", &["UV", "PIP"], |s| match s {
            "UV" => Some(true),
            "PIP" => Some(false),
            _ => None,
        })
        .unwrap_or(true);
    let mut version = o.string(cx, "pythonVersion").map(|v| v.trim().to_string());
    let cache = o.bool(cx, "dependencyCacheEnabled").unwrap_or(true);
    // Kestra takes any text and, in a container, uses it only to resolve the dependencies: a
    // value that is no version is not checked (said once, here).
    if let Some(v) = version.clone()
        && !v.contains("{{")
        && !v
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let pos = o.get(cx, "pythonVersion").map_or(o.pos(), |n| n.pos);
        cx.diags.warning(
            pos,
            o.key_path("pythonVersion"),
            format!("`{v}` is not a Python version (digits and dots, e.g. 3.13): the image's Python is not checked against it"),
        );
        version = None;
    }
    // Without dependencies there is nothing to install, and Kestra uses `pythonVersion` for
    // nothing else in a container.
    (!requirements.is_empty()).then_some(PythonDeps {
        requirements,
        uv,
        version,
        cache,
    })
}

/// The type's own properties no common reader asked for, as text: booleans as `true`/`false`,
/// enumerations checked, durations in seconds.
/// `storeManifest` / `loadManifest`: `{key, namespace}`, both required (plugin-dbt's
/// `KvStoreManifest`).
fn read_kv_file(cx: &mut Cx, o: &mut Obj<'_>, name: &'static str) -> Option<(String, String)> {
    let mut m = o.obj(cx, name)?;
    let key = m.need_string(cx, "key");
    let namespace = m.need_string(cx, "namespace");
    m.finish_described(cx, &spec::DBT_KV_MANIFEST);
    Some((namespace?, key?))
}

fn read_own(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    tt: &'static spec::TaskType,
) -> std::collections::BTreeMap<&'static str, String> {
    let mut values = std::collections::BTreeMap::new();
    for p in tt.object.properties() {
        // Only the type's own: the common task properties have their own readers.
        if p.support != spec::Support::Read
            || o.asked(p.name)
            || spec::COMMON_TASK.iter().any(|c| c.name == p.name)
            || spec::SCRIPT.iter().any(|c| c.name == p.name)
        {
            continue;
        }
        let v = match p.ty {
            spec::Ty::Bool => o.bool(cx, p.name).map(|b| b.to_string()),
            spec::Ty::Enum(names) => o.enumeration(cx, p.name, names, |s| {
                names.contains(&s).then(|| s.to_string())
            }),
            spec::Ty::Duration => o
                .parsed(cx, p.name, units::parse_duration)
                .map(|d| d.as_secs().to_string()),
            _ => o.string(cx, p.name),
        };
        if let Some(v) = v {
            values.insert(p.name, v);
        }
    }
    values
}

/// `inputFiles` (relative path → content) and `outputFiles` (globs), each path relative to
/// the working directory; only those the object's type describes (`described`).
/// A task's input files (a map, or a JSON text: see `decode::input_files`, whose text with
/// expressions is the third value, read when the task starts) and output file patterns.
#[allow(clippy::type_complexity)]
pub(super) fn read_files(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    described: &dyn Fn(&str) -> bool,
) -> (BTreeMap<String, String>, Vec<String>, Option<String>) {
    let (input_files, input_files_json) = if described("inputFiles") {
        super::input_files::read(cx, o)
    } else {
        (BTreeMap::new(), None)
    };
    let output_files = described("outputFiles")
        .then(|| o.strings(cx, "outputFiles"))
        .flatten()
        .unwrap_or_default();
    if let Some(n) = described("outputFiles")
        .then(|| o.get(cx, "outputFiles"))
        .flatten()
    {
        for f in &output_files {
            if let Err(e) = check_relative(f) {
                cx.error(
                    n.pos,
                    &o.key_path("outputFiles"),
                    format!("output file glob `{f}`: {e}"),
                );
            } else if let Some(p) = (!f.contains("{{"))
                .then(|| crate::flow::output_globs::problem(f))
                .flatten()
            {
                cx.diags.warning(n.pos, o.key_path("outputFiles"), p);
            }
        }
    }
    (input_files, output_files, input_files_json)
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
