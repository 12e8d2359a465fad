//! Reading the Docker task runner (`taskRunner`): engine address, client config and credentials,
//! container options, resources, devices, and the runner's own switches (delete, wait, resume).
//! Value syntax checks live in [`crate::flow::runner_values`].

use crate::diag::Pos;
use crate::flow::model::*;
use crate::flow::reader::{self, Cx, Obj, as_seq};
use crate::flow::runner_values;
use crate::flow::spec;
use crate::flow::typed_template::{self, TypedTemplate};
use crate::flow::yaml::{self, Node};
use crate::image::ImageRef;
use crate::units;

/// What a `taskRunner` object asks for: the Docker runner with its settings (and the older
/// `image`), or the Process runner.
pub(super) enum ReadRunner {
    Docker(Box<DockerRunner>, Option<ImageRef>),
    Process,
}

pub(super) fn read_runner(cx: &mut Cx, mut o: Obj<'_>) -> Option<ReadRunner> {
    let ty = o.need_string(cx, "type");
    if let Some(t) = &ty
        && (t == PROCESS_RUNNER_TYPE || PROCESS_RUNNER_ALIASES.contains(&t.as_str()))
    {
        o.finish_described(cx, &spec::PROCESS_RUNNER);
        return Some(ReadRunner::Process);
    }
    if let Some(t) = &ty
        && t != DOCKER_RUNNER_TYPE
    {
        let pos = o.get(cx, "type").map_or(o.pos(), |n| n.pos);
        let hint = crate::suggest::hint(t, [DOCKER_RUNNER_TYPE, PROCESS_RUNNER_TYPE]);
        cx.error(pos, &o.key_path("type"), format!("task runner `{t}` is not supported by dockhand{hint}; dockhand runs tasks with `{DOCKER_RUNNER_TYPE}` or `{PROCESS_RUNNER_TYPE}`"));
        return None;
    }
    let (runner, image) = read_settings(cx, &mut o, DockerRunner::default());
    o.finish_described(cx, &spec::RUNNER);
    Some(ReadRunner::Docker(Box::new(runner), image))
}

/// The deprecated `docker` property of a script task: the Docker runner's settings, with
/// `pullPolicy` ALWAYS by default (Kestra's `DockerOptions`).
pub(super) fn read_docker_options(cx: &mut Cx, mut o: Obj<'_>) -> (DockerRunner, Option<ImageRef>) {
    let d = DockerRunner {
        pull_policy: PullPolicy::Always,
        ..DockerRunner::default()
    };
    let r = read_settings(cx, &mut o, d);
    o.finish_described(cx, &spec::DOCKER_OPTIONS);
    r
}

/// The Docker runner's settings in `o`, over the defaults `d`; and `image`, Kestra's older way
/// of naming the image on the runner.
fn read_settings(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    d: DockerRunner,
) -> (DockerRunner, Option<ImageRef>) {
    let image_pos = o.get(cx, spec::LEGACY_IMAGE).map(|n| n.pos);
    let image = o
        .string(cx, spec::LEGACY_IMAGE)
        .and_then(|s| match ImageRef::parse(s.trim()) {
            Ok(i) => Some(i),
            Err(e) => {
                cx.error(
                    image_pos.unwrap_or(o.pos()),
                    &o.key_path(spec::LEGACY_IMAGE),
                    e,
                );
                None
            }
        });
    let host = o.string(cx, "host");
    let config = read_config(cx, o);
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
            // A templated `auth` is known only once rendered (the registry judges it then).
            creds.auth.as_deref().filter(|a| !a.contains("{{")),
            runner_values::auth,
        );
        c.finish_described(cx, &spec::CREDENTIALS);
        creds
    });
    let mut typed = Vec::new();
    let user = text(cx, o, "user", &mut typed);
    check_scalar(cx, o, "user", user.as_deref(), runner_values::user);
    let entry_point = list(cx, o, "entryPoint", &mut typed).unwrap_or(d.entry_point);
    let extra_hosts = list(cx, o, "extraHosts", &mut typed).unwrap_or_default();
    check_items(cx, o, "extraHosts", &extra_hosts, runner_values::extra_host);
    let network_mode = text(cx, o, "networkMode", &mut typed);
    check_scalar(
        cx,
        o,
        "networkMode",
        network_mode.as_deref(),
        runner_values::network_mode,
    );
    let port_bindings = list(cx, o, "portBindings", &mut typed).unwrap_or_default();
    check_items(
        cx,
        o,
        "portBindings",
        &port_bindings,
        runner_values::port_binding,
    );
    let volumes = list(cx, o, "volumes", &mut typed).unwrap_or_default();
    check_items(cx, o, "volumes", &volumes, runner_values::volume);
    let pull_policy = if take_template(cx, o, "pullPolicy", "pullPolicy", &mut typed) {
        d.pull_policy
    } else {
        o.enumeration(cx, "pullPolicy", &PullPolicy::NAMES, PullPolicy::parse)
            .unwrap_or(d.pull_policy)
    };
    let device_requests = o
        .get(cx, "deviceRequests")
        .map(|n| read_devices(cx, n, &o.key_path("deviceRequests")))
        .unwrap_or_default();
    let cpus = o.obj(cx, "cpu").and_then(|mut c| {
        let cpus = if take_template(cx, &mut c, "cpus", "cpu.cpus", &mut typed) {
            None
        } else {
            c.number(cx, "cpus")
        };
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
        c.finish_described(cx, &spec::CPU);
        cpus
    });
    let memory = o
        .obj(cx, "memory")
        .map(|c| read_memory(cx, c, &mut typed))
        .unwrap_or_default();
    let shm_size = if take_template(cx, o, "shmSize", "shmSize", &mut typed) {
        None
    } else {
        o.parsed(cx, "shmSize", units::parse_size)
    };
    let privileged = flag(cx, o, "privileged", "privileged", &mut typed);
    let file_handling = o
        .enumeration(
            cx,
            "fileHandlingStrategy",
            &FileHandling::NAMES,
            FileHandling::parse,
        )
        .unwrap_or_default();
    let delete = flag(cx, o, "delete", "delete", &mut typed).unwrap_or(d.delete);
    let wait = flag(cx, o, "wait", "wait", &mut typed).unwrap_or(d.wait);
    let kill_grace_period = o
        .parsed(cx, "killGracePeriod", units::parse_duration)
        .unwrap_or(d.kill_grace_period);
    let resume = o.bool(cx, "resume").unwrap_or(d.resume);
    let runner = DockerRunner {
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
        typed,
    };
    (runner, image)
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
        // An item written as a template is checked once rendered (`flow::typed_template`).
        if typed_template::is_template(v) {
            continue;
        }
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
        o.finish_described(cx, &spec::DEVICE_REQUEST);
        out.push(d);
    }
    out
}

/// Keeps `key` of `o` as a typed template when its value is one (the planner renders and
/// converts it), recording where its text starts; false when it is not a template.
pub(super) fn take_template(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    key: &'static str,
    property: &'static str,
    typed: &mut Vec<TypedTemplate>,
) -> bool {
    let Some(n) = o.get(cx, key) else {
        return false;
    };
    let Some(text) = n.scalar().filter(|t| typed_template::is_template(t)) else {
        return false;
    };
    cx.values.insert(o.key_path(key), n.pos);
    typed.push(TypedTemplate {
        property,
        text: text.to_string(),
        item: None,
    });
    true
}

/// A text property that may be a template (kept in `typed`, unset until rendered).
fn text(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    key: &'static str,
    typed: &mut Vec<TypedTemplate>,
) -> Option<String> {
    let t = take_template(cx, o, key, key, typed);
    o.string(cx, key).filter(|_| !t)
}

/// A boolean property that may be a template.
fn flag(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    key: &'static str,
    property: &'static str,
    typed: &mut Vec<TypedTemplate>,
) -> Option<bool> {
    let t = take_template(cx, o, key, property, typed);
    (!t).then(|| o.bool(cx, key)).flatten()
}

/// A list-of-strings property: one template rendering to a JSON list (unset until rendered), or
/// a list whose templated items are kept in `typed` (the item holds its text until rendered).
fn list(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    key: &'static str,
    typed: &mut Vec<TypedTemplate>,
) -> Option<Vec<String>> {
    if take_template(cx, o, key, key, typed) {
        return None;
    }
    let items = o.strings(cx, key)?;
    if let Some(yaml::Value::Seq(nodes)) = o.get(cx, key).map(|n| &n.value) {
        for (i, (v, n)) in items.iter().zip(nodes).enumerate() {
            if typed_template::is_template(v) {
                cx.values.insert(format!("{}[{i}]", o.key_path(key)), n.pos);
                typed.push(TypedTemplate {
                    property: key,
                    text: v.clone(),
                    item: Some(i),
                });
            }
        }
    }
    Some(items)
}

fn read_memory(cx: &mut Cx, mut o: Obj<'_>, typed: &mut Vec<TypedTemplate>) -> Memory {
    let memory = if take_template(cx, &mut o, "memory", "memory.memory", typed) {
        None
    } else {
        o.parsed(cx, "memory", units::parse_size)
    };
    let size = |cx: &mut Cx, o: &mut Obj<'_>, key, property, typed: &mut Vec<TypedTemplate>| {
        if take_template(cx, o, key, property, typed) {
            None
        } else {
            o.parsed(cx, key, units::parse_size)
        }
    };
    let memory_swap = if take_template(cx, &mut o, "memorySwap", "memory.memorySwap", typed) {
        None
    } else {
        o.parsed(cx, "memorySwap", |s| {
            if s.trim() == "-1" {
                Ok(-1)
            } else {
                units::parse_size(s).map(|b| b as i64)
            }
        })
    };
    let swappiness = if take_template(
        cx,
        &mut o,
        "memorySwappiness",
        "memory.memorySwappiness",
        typed,
    ) {
        None
    } else {
        o.int(cx, "memorySwappiness")
    };
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
        memory_reservation: size(
            cx,
            &mut o,
            "memoryReservation",
            "memory.memoryReservation",
            typed,
        ),
        kernel_memory: size(cx, &mut o, "kernelMemory", "memory.kernelMemory", typed),
        oom_kill_disable: flag(cx, &mut o, "oomKillDisable", "memory.oomKillDisable", typed),
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
    o.finish_described(cx, &spec::MEMORY);
    m
}
