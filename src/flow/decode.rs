//! Reads a flow file into the typed model, checking every property and collecting every error
//! of the file at once (types, unknown and unsupported properties, ids, sizes, durations, images,
//! template expressions).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::diag::{Diags, Pos};
use crate::flow::model::*;
use crate::flow::reader::{self, Cx, Obj, as_seq};
use crate::flow::runner_values;
use crate::flow::spec::{self, ENV_NAME, FLOW_ID, INPUT_TYPES, NAMESPACE, TASK_ID};
use crate::flow::yaml::{self, Node};
use crate::image::ImageRef;
use crate::template::{self, Expr};
use crate::units;

/// The result of reading a file: the flow when it has no errors, and every diagnostic.
pub struct Loaded {
    pub flow: Option<Flow>,
    pub diags: Diags,
}

/// Reads and checks a flow file.
pub fn load(file: &str, text: &str) -> Loaded {
    let mut cx = Cx::new(file);
    let flow = yaml::parse(text, &mut cx.diags).and_then(|root| read_flow(&mut cx, file, &root));
    let flow = flow.filter(|_| !cx.diags.has_errors());
    Loaded {
        flow,
        diags: cx.diags,
    }
}

fn read_flow(cx: &mut Cx, file: &str, root: &Node) -> Option<Flow> {
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
        .map(|n| read_inputs(cx, n))
        .unwrap_or_default();
    let variables = o.string_map(cx, "variables").unwrap_or_default();
    let mut tasks = Vec::new();
    if let Some(n) = o.need(cx, "tasks")
        && let Some(items) = as_seq(cx, n, "tasks")
    {
        if items.is_empty() {
            cx.error(n.pos, "tasks", "a flow needs at least one task");
        }
        tasks = read_tasks(cx, items, "tasks");
    }
    o.finish(cx, &spec::FLOW.unsupported());
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
        spans: std::mem::take(&mut cx.spans),
    };
    check_ids_and_templates(cx, &flow);
    Some(flow)
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

fn read_inputs(cx: &mut Cx, n: &Node) -> Vec<Input> {
    let Some(items) = as_seq(cx, n, "inputs") else {
        return vec![];
    };
    let mut out: Vec<Input> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("inputs[{i}]");
        let Some(mut o) = Obj::new(cx, item, &path) else {
            continue;
        };
        let id = o.need_string(cx, "id");
        let kind = o.enumeration(cx, "type", INPUT_TYPES, |s| {
            INPUT_TYPES.contains(&s).then(|| s.to_string())
        });
        if !o.has("type") {
            cx.error(item.pos, &path, "missing required property `type`");
        }
        let default = o.string(cx, "defaults");
        let required = o.bool(cx, "required").unwrap_or(true);
        let description = o.string(cx, "description");
        o.string(cx, "displayName");
        let read_values = o.strings(cx, "values");
        // `values` that are not a list of strings are reported already: no follow-on errors.
        let values_broken = o.has("values") && read_values.is_none();
        let values = read_values.unwrap_or_default();
        // The default must be a value of the input's type, as `--input` must.
        if let (Some(k), Some(d), Some(n)) = (&kind, &default, o.get(cx, "defaults"))
            && !values_broken
            && let Err(e) = crate::flow::input_types::check(k, &values, d)
        {
            cx.error(n.pos, &o.key_path("defaults"), e);
        }
        o.finish(cx, &[]);
        if let Some(id) = id {
            if !TASK_ID.is_match(&id) {
                cx.error(item.pos, &path, format!("invalid input id `{id}`"));
            }
            if out.iter().any(|x| x.id == id) {
                cx.error(item.pos, &path, format!("duplicate input id `{id}`"));
            }
            out.push(Input {
                id,
                kind: kind.unwrap_or_default(),
                default,
                values,
                required,
                description,
                pos: item.pos,
            });
        }
    }
    out
}

/// What a task holds when its type is missing or not supported (reported already): nothing, but
/// it keeps its place and its id, so that other tasks' references to it and a duplicate of its
/// id are judged as they would be once it is fixed, with no follow-on errors. The flow has errors
/// then, so it never reaches a plan.
fn unread_kind() -> TaskKind {
    TaskKind::Sequential { tasks: vec![] }
}

fn read_tasks(cx: &mut Cx, items: &[Node], path: &str) -> Vec<Task> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| read_task(cx, n, &format!("{path}[{i}]")))
        .collect()
}

fn task_type_names() -> Vec<&'static str> {
    spec::TASK_TYPES.iter().map(|t| t.name).collect()
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
    let kind = match ty.as_deref().map(spec::canonical_task_type) {
        Some(COMMANDS_TYPE | SCRIPT_TYPE) => Some(TaskKind::Script(Box::new(read_script(
            cx,
            &mut o,
            ty.as_deref().map(spec::canonical_task_type) == Some(SCRIPT_TYPE),
        )))),
        Some(PARALLEL_TYPE) => {
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
        Some(SEQUENTIAL_TYPE) => Some(TaskKind::Sequential {
            tasks: read_children(cx, &mut o),
        }),
        Some(other) => {
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
    if kind.is_some() {
        o.finish(cx, &spec::TASK.unsupported());
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

fn read_children(cx: &mut Cx, o: &mut Obj<'_>) -> Vec<Task> {
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
fn read_script(cx: &mut Cx, o: &mut Obj<'_>, is_script: bool) -> ScriptTask {
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
        None => ImageRef::parse("ubuntu").ok(),
    };
    let interpreter = o
        .strings(cx, "interpreter")
        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
    let before_commands = o.strings(cx, "beforeCommands").unwrap_or_default();
    let body = if is_script {
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
    let env = o.string_map(cx, "env").unwrap_or_default();
    for (name, value) in &env {
        if crate::plan::build::client_reads(name) && (value.contains('\n') || value.contains('\r'))
        {
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
    let runner = match o.obj(cx, "taskRunner") {
        Some(r) => read_runner(cx, r),
        None => Some(DockerRunner::default()),
    };
    ScriptTask {
        container_image: image
            .unwrap_or_else(|| ImageRef::parse("ubuntu").expect("a valid image reference")),
        interpreter,
        before_commands,
        body: body.unwrap_or(Body::Commands(vec![])),
        env,
        fail_fast,
        input_files,
        output_files,
        runner: runner.unwrap_or_default(),
    }
}

fn check_relative(p: &str) -> Result<(), &'static str> {
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

fn read_runner(cx: &mut Cx, mut o: Obj<'_>) -> Option<DockerRunner> {
    let d = DockerRunner::default();
    let ty = o.need_string(cx, "type");
    if let Some(t) = &ty
        && t != DOCKER_RUNNER_TYPE
    {
        let pos = o.get(cx, "type").map_or(o.pos(), |n| n.pos);
        let hint = crate::suggest::hint(t, [DOCKER_RUNNER_TYPE]);
        cx.error(pos, &o.key_path("type"), format!("task runner `{t}` is not supported by dockhand{hint}; dockhand runs tasks with `{DOCKER_RUNNER_TYPE}`"));
        return None;
    }
    let host = o.string(cx, "host");
    let config = read_config(cx, &mut o);
    let credentials = o.obj(cx, "credentials").map(|mut c| {
        let creds = Credentials {
            registry: c.string(cx, "registry"),
            username: c.string(cx, "username"),
            password: c.string(cx, "password"),
            registry_token: c.string(cx, "registryToken"),
            identity_token: c.string(cx, "identityToken"),
            auth: c.string(cx, "auth"),
        };
        check_scalar(
            cx,
            &mut c,
            "auth",
            creds.auth.as_deref(),
            runner_values::auth,
        );
        c.finish(cx, &[]);
        creds
    });
    let user = o.string(cx, "user");
    check_scalar(cx, &mut o, "user", user.as_deref(), runner_values::user);
    let entry_point = o.strings(cx, "entryPoint").unwrap_or(d.entry_point);
    let extra_hosts = o.strings(cx, "extraHosts").unwrap_or_default();
    check_items(
        cx,
        &mut o,
        "extraHosts",
        &extra_hosts,
        runner_values::extra_host,
    );
    let network_mode = o.string(cx, "networkMode");
    check_scalar(
        cx,
        &mut o,
        "networkMode",
        network_mode.as_deref(),
        runner_values::network_mode,
    );
    let port_bindings = o.strings(cx, "portBindings").unwrap_or_default();
    check_items(
        cx,
        &mut o,
        "portBindings",
        &port_bindings,
        runner_values::port_binding,
    );
    let volumes = o.strings(cx, "volumes").unwrap_or_default();
    if let Some(n) = o.get(cx, "volumes") {
        for (i, v) in volumes.iter().enumerate() {
            if let Err(e) = check_volume(v) {
                let item = match &n.value {
                    yaml::Value::Seq(items) => items.get(i).map_or(n.pos, |x| x.pos),
                    _ => n.pos,
                };
                cx.error(item, &format!("{}[{i}]", o.key_path("volumes")), e);
            }
        }
    }
    let pull_policy = o
        .enumeration(cx, "pullPolicy", &PullPolicy::NAMES, PullPolicy::parse)
        .unwrap_or_default();
    let device_requests = o
        .get(cx, "deviceRequests")
        .map(|n| read_devices(cx, n, &o.key_path("deviceRequests")))
        .unwrap_or_default();
    let cpus = o.obj(cx, "cpu").and_then(|mut c| {
        let cpus = c.number(cx, "cpus");
        if let Some(v) = cpus
            && v <= 0.0
        {
            let pos = c.get(cx, "cpus").map_or(c.pos(), |n| n.pos);
            cx.error(
                pos,
                &c.key_path("cpus"),
                format!("must be more than 0, found {v}"),
            );
        }
        c.finish(cx, &[]);
        cpus
    });
    let memory = o
        .obj(cx, "memory")
        .map(|c| read_memory(cx, c))
        .unwrap_or_default();
    let shm_size = o.parsed(cx, "shmSize", units::parse_size);
    let privileged = o.bool(cx, "privileged");
    let file_handling = o
        .enumeration(
            cx,
            "fileHandlingStrategy",
            &FileHandling::NAMES,
            FileHandling::parse,
        )
        .unwrap_or_default();
    let delete = o.bool(cx, "delete").unwrap_or(d.delete);
    let wait = o.bool(cx, "wait").unwrap_or(d.wait);
    let kill_grace_period = o
        .parsed(cx, "killGracePeriod", units::parse_duration)
        .unwrap_or(d.kill_grace_period);
    let resume = o.bool(cx, "resume").unwrap_or(d.resume);
    o.finish(cx, &spec::RUNNER.unsupported());
    Some(DockerRunner {
        host,
        config,
        credentials,
        user,
        entry_point,
        extra_hosts,
        network_mode,
        port_bindings,
        volumes,
        pull_policy,
        device_requests,
        cpus,
        memory,
        shm_size,
        privileged,
        file_handling,
        delete,
        wait,
        kill_grace_period,
        resume,
    })
}

/// Reports a scalar property's value that `check` refuses, at the value.
fn check_scalar(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    key: &'static str,
    value: Option<&str>,
    check: fn(&str) -> Result<(), String>,
) {
    if let (Some(v), Some(n)) = (value, o.get(cx, key))
        && let Err(e) = check(v)
    {
        cx.error(n.pos, &o.key_path(key), e);
    }
}

/// Reports each item of a list property that `check` refuses, at the item.
fn check_items(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    key: &'static str,
    items: &[String],
    check: fn(&str) -> Result<(), String>,
) {
    let Some(n) = o.get(cx, key) else {
        return;
    };
    for (i, v) in items.iter().enumerate() {
        if let Err(e) = check(v) {
            let pos = match &n.value {
                yaml::Value::Seq(xs) => xs.get(i).map_or(n.pos, |x| x.pos),
                _ => n.pos,
            };
            cx.error(pos, &format!("{}[{i}]", o.key_path(key)), e);
        }
    }
}

/// `config` is a JSON string (as on Kestra's page) or a YAML map.
fn read_config(cx: &mut Cx, o: &mut Obj<'_>) -> Option<serde_json::Value> {
    let n = o.get(cx, "config")?;
    let path = o.key_path("config");
    let v = match &n.value {
        yaml::Value::Map(_) => n.to_json(),
        yaml::Value::Scalar { text, .. } => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => v,
            Err(e) => {
                // Point at the line inside a block scalar where the JSON breaks.
                let line = n.pos.line
                    + e.line()
                        .saturating_sub(if text.starts_with('\n') { 0 } else { 1 });
                let pos = if matches!(n.value, yaml::Value::Scalar { plain: false, .. })
                    && n.scalar().is_some_and(|t| t.contains('\n'))
                {
                    Pos::new(line + 1, e.column())
                } else {
                    n.pos
                };
                cx.error(pos, &path, format!("`config` is not valid JSON: {e}"));
                return None;
            }
        },
        yaml::Value::Seq(_) => {
            cx.error(
                n.pos,
                &path,
                "expected a JSON object (as a string) or a map, found a list",
            );
            return None;
        }
    };
    let Some(obj) = v.as_object() else {
        cx.error(n.pos, &path, "expected a JSON object");
        return None;
    };
    if let Some(ir) = obj.get("insecure-registries") {
        let ok = ir.as_array().is_some_and(|a| {
            a.iter()
                .all(|x| x.as_str().is_some_and(|s| check_registry_host(s).is_ok()))
        });
        if !ok {
            cx.error(n.pos, &path, "`insecure-registries` must be a list of HOST:PORT strings such as \"10.10.1.5:5000\"");
        }
    }
    if let Some(auths) = obj.get("auths")
        && !auths.is_object()
    {
        cx.error(
            n.pos,
            &path,
            "`auths` must be a map of registry to {\"auth\": ...}",
        );
    }
    Some(v)
}

/// A registry address as `insecure-registries` takes it: `host[:port]` (or a CIDR).
pub fn check_registry_host(s: &str) -> Result<(), String> {
    crate::registry_host::check(s)
}

fn check_volume(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.split(':').collect();
    let bad = |why: &str| {
        Err(format!(
            "volume `{v}`: {why}; expected SOURCE:DESTINATION[:OPTIONS] such as /data:/data:ro"
        ))
    };
    match parts.as_slice() {
        [src, dst] | [src, dst, _] => {
            if src.is_empty() {
                return bad("empty source");
            }
            if let Err(e) = runner_values::volume_source(src) {
                return bad(&e);
            }
            if !dst.starts_with('/') {
                return bad("the destination must be an absolute path in the container");
            }
            if let [_, _, opts] = parts.as_slice() {
                for opt in opts.split(',') {
                    if !spec::VOLUME_OPTIONS.contains(&opt) {
                        return bad(&format!("unknown option `{opt}`"));
                    }
                }
            }
            Ok(())
        }
        _ => bad("missing destination"),
    }
}

fn read_devices(cx: &mut Cx, n: &Node, path: &str) -> Vec<DeviceRequest> {
    let Some(items) = as_seq(cx, n, path) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(mut o) = Obj::new(cx, item, &format!("{path}[{i}]")) else {
            continue;
        };
        let caps = o.get(cx, "capabilities").map(|c| {
            let cp = o.key_path("capabilities");
            match as_seq(cx, c, &cp) {
                Some(groups) => groups
                    .iter()
                    .enumerate()
                    .filter_map(|(j, g)| reader::as_strings(cx, g, &format!("{cp}[{j}]")))
                    .collect(),
                None => vec![],
            }
        });
        let d = DeviceRequest {
            driver: o.string(cx, "driver"),
            count: o.int(cx, "count").filter(|c| {
                let ok = *c == -1 || *c > 0;
                if !ok {
                    cx.error(
                        item.pos,
                        &format!("{path}[{i}].count"),
                        format!("must be -1 (all devices) or a positive number, found {c}"),
                    );
                }
                ok
            }),
            device_ids: o.strings(cx, "deviceIds").unwrap_or_default(),
            capabilities: caps.unwrap_or_default(),
            options: o.string_map(cx, "options").unwrap_or_default(),
        };
        if d.count.is_some() && !d.device_ids.is_empty() {
            cx.error(
                item.pos,
                &o.path,
                "give either `count` or `deviceIds`, not both",
            );
        }
        o.finish(cx, &[]);
        out.push(d);
    }
    out
}

fn read_memory(cx: &mut Cx, mut o: Obj<'_>) -> Memory {
    let memory = o.parsed(cx, "memory", units::parse_size);
    let memory_swap = o.parsed(cx, "memorySwap", |s| {
        if s.trim() == "-1" {
            Ok(-1)
        } else {
            units::parse_size(s).map(|b| b as i64)
        }
    });
    let swappiness = o.int(cx, "memorySwappiness");
    if let Some(s) = swappiness
        && !(0..=100).contains(&s)
    {
        let pos = o.get(cx, "memorySwappiness").map_or(o.pos(), |n| n.pos);
        cx.error(
            pos,
            &o.key_path("memorySwappiness"),
            format!("must be between 0 and 100, found {s}"),
        );
    }
    let m = Memory {
        memory,
        memory_swap,
        memory_swappiness: swappiness
            .and_then(|s| u8::try_from(s).ok())
            .filter(|s| *s <= 100),
        memory_reservation: o.parsed(cx, "memoryReservation", units::parse_size),
        kernel_memory: o.parsed(cx, "kernelMemory", units::parse_size),
        oom_kill_disable: o.bool(cx, "oomKillDisable"),
    };
    if let (Some(mem), Some(swap)) = (m.memory, m.memory_swap)
        && swap >= 0
        && (swap as u64) < mem
    {
        let pos = o.get(cx, "memorySwap").map_or(o.pos(), |n| n.pos);
        cx.error(
            pos,
            &o.key_path("memorySwap"),
            "must be at least `memory` (it is memory plus swap), or -1 for unlimited swap",
        );
    }
    if let (Some(mem), Some(res)) = (m.memory, m.memory_reservation)
        && res > mem
    {
        let pos = o.get(cx, "memoryReservation").map_or(o.pos(), |n| n.pos);
        cx.error(
            pos,
            &o.key_path("memoryReservation"),
            "must not be more than `memory`: the reservation is a soft limit below the hard one",
        );
    }
    o.finish(cx, &[]);
    m
}

/// Task ids are unique across the flow; template expressions name declared inputs and
/// variables, and outputs of tasks that run earlier.
fn check_ids_and_templates(cx: &mut Cx, flow: &Flow) {
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
        for (path, text) in texts {
            let pos = flow.spans.get(&path).copied().unwrap_or(task.pos);
            match template::exprs(text) {
                Err(e) => cx.error(pos, &path, e),
                Ok(exprs) => {
                    for e in exprs {
                        let problem = match &e {
                            Expr::Input(n) if !flow.inputs.iter().any(|i| &i.id == n) => {
                                Some(format!("`{{{{ {e} }}}}`: the flow declares no input `{n}`"))
                            }
                            Expr::Var(n) if !flow.variables.contains_key(n) => Some(format!(
                                "`{{{{ {e} }}}}`: the flow declares no variable `{n}`"
                            )),
                            Expr::Output { task: t, .. } => match first.get(t.as_str()).copied() {
                                None => Some(format!("`{{{{ {e} }}}}`: there is no task `{t}`")),
                                Some(p) if p >= here => Some(format!(
                                    "`{{{{ {e} }}}}`: task `{t}` does not run before `{}`",
                                    task.id
                                )),
                                Some(_) if !ended(t.as_str()) => Some(format!(
                                    "`{{{{ {e} }}}}`: task `{t}` runs in parallel with `{}`, so it has not ended when `{}` starts",
                                    task.id, task.id
                                )),
                                _ => None,
                            },
                            _ => None,
                        };
                        if let Some(p) = problem {
                            cx.error(pos, &path, p);
                        }
                    }
                }
            }
        }
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
            TaskKind::Script(_) => {}
            TaskKind::Parallel { tasks: c, .. } => ended_before(c, true, next, &mine, out),
            TaskKind::Sequential { tasks: c } => ended_before(c, false, next, &mine, out),
        }
    }
}

/// Every property name the reader knows for each kind of object, found by reading a flow that
/// holds every object once: the JSON Schema is checked against this so the two never drift.
pub fn known_properties() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut out: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for body in ["commands: [x]", "script: x"] {
        let text = format!(
            "id: f\nnamespace: n\nlabels: []\ninputs: [{{}}]\ntasks:\n  - id: t\n    type: {}\n    {body}\n    taskRunner: {{type: {DOCKER_RUNNER_TYPE}, credentials: {{}}, cpu: {{}}, memory: {{}}, deviceRequests: [{{}}]}}\n",
            if body.starts_with("script") {
                SCRIPT_TYPE
            } else {
                COMMANDS_TYPE
            }
        );
        let mut cx = Cx::new("");
        if let Some(root) = yaml::parse(&text, &mut cx.diags) {
            read_flow(&mut cx, "", &root);
        }
        for (path, keys) in cx.known {
            let kind = match path.as_str() {
                "" => "flow",
                "inputs[0]" => "input",
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
        let text = "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: echo\n  - id: b\n    type: io.kestra.plugin.core.log.Log\n  - id: c\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['{{ outputs.a.vars.x }} {{ outputs.b.vars.y }}']\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: [x]\n";
        assert_eq!(
            errors(text),
            [
                "f.yaml:6:15: error: `tasks[0].commands`: expected a list of strings, found a string `echo`",
                "f.yaml:8:11: error: `tasks[1].type`: task type `io.kestra.plugin.core.log.Log` is not supported by dockhand; supported: io.kestra.plugin.scripts.shell.Commands, io.kestra.plugin.scripts.shell.Script, io.kestra.plugin.core.flow.Parallel, io.kestra.plugin.core.flow.Sequential",
                "f.yaml:12:5: error: `tasks[3]`: duplicate task id `a` (first used at line 4)",
            ]
        );
    }
}
