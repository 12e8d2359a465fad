//! The JSON Schema (draft-07) of the flow format that dockhand reads, for editor completion and
//! validation (`dockhand schema`, e.g. with the VS Code YAML extension).
//!
//! The schema mirrors `flow::decode`: every object the reader checks for unknown keys has
//! `additionalProperties: false`, and its property names are exactly the ones the reader asks for
//! (`tests/schema.rs` compares them with [`crate::flow::decode::known_properties`]). Kestra
//! properties that dockhand refuses are left out so the editor flags them; the ones it accepts
//! and ignores (a warning) are listed with a description saying so.
//!
//! Strings: the reader takes any scalar where it wants text (`user: 1000`), so values that are
//! often written as numbers (map values, input defaults, user, device ids) accept numbers and
//! booleans too.

use serde_json::{Map, Value, json};

use crate::flow::model::{
    COMMANDS_TYPE, DOCKER_RUNNER_TYPE, FileHandling, PARALLEL_TYPE, PullPolicy, SCRIPT_TYPE,
    SEQUENTIAL_TYPE,
};

pub const SCHEMA_ID: &str = "https://dockhand.dev/schema/flow.json";

/// `decode::INPUT_TYPES`.
const INPUT_TYPES: &[&str] = &[
    "STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME", "DATE", "TIME", "DURATION", "URI",
    "EMAIL", "SECRET", "JSON", "YAML", "SELECT", "ENUM",
];

/// `decode::FLOW_ID`.
const FLOW_ID: &str = "^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$";
/// `decode::NAMESPACE`.
const NAMESPACE: &str = "^[a-z0-9][a-z0-9._-]*$";
/// `decode::TASK_ID` (also input ids).
const TASK_ID: &str = "^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$";
/// `decode::ENV_NAME`.
const ENV_NAME: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
/// `decode::check_registry_host`.
const REGISTRY_HOST: &str = r"^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?(/[0-9]{1,3})?$";

/// `units::parse_size`: a number with an optional 1024-based unit, any letter case.
fn size_pattern(alt: &str) -> String {
    format!(r"^\s*({alt}[0-9]+(\.[0-9]+)?\s*([bB]|[kKmMgGtT]([iI]?[bB])?)?)\s*$")
}

/// `units::parse_duration` (`java.time.Duration.parse` without negatives): `P[nD][T[nH][nM][n[.f]S]]`
/// with at least one component, written without lookaheads so every regex engine takes it.
fn duration_pattern() -> String {
    let n = r"\+?[0-9]+";
    let secs = format!(r"{n}([.,][0-9]{{0,9}})?[sS]");
    let time = format!(r"[tT]({n}[hH]({n}[mM])?({secs})?|{n}[mM]({secs})?|{secs})");
    format!(r"^\s*\+?[pP]({n}[dD]({time})?|{time})\s*$")
}

/// `decode::check_relative`: not empty, not absolute, no `..` component.
fn relative_path_pattern() -> String {
    let first = r"(\.|[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)";
    let any = r"(|\.|[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)";
    format!("^{first}(/{any})*$")
}

/// `decode::check_volume`: `SOURCE:DESTINATION[:OPTIONS]`.
fn volume_pattern() -> String {
    let opt = "(ro|rw|z|Z|shared|rshared|slave|rslave|private|rprivate|nocopy|consistent|cached|delegated|U)";
    format!("^[^:]+:/[^:]*(:{opt}(,{opt})*)?$")
}

/// Attaches a description to a schema.
fn d(description: &str, mut schema: Value) -> Value {
    schema["description"] = Value::String(description.to_string());
    schema
}

/// A reference to a definition, with its own description (draft-07 ignores siblings of `$ref`,
/// hence the `allOf`).
fn r(description: &str, name: &str) -> Value {
    json!({ "description": description, "allOf": [{ "$ref": format!("#/definitions/{name}") }] })
}

/// A string matching `pattern`, with the message editors show instead of the regex
/// (`patternErrorMessage`, understood by the VS Code YAML and JSON extensions).
fn pat(pattern: impl Into<String>, message: &str) -> Value {
    json!({ "type": "string", "pattern": pattern.into(), "patternErrorMessage": message })
}

fn text(description: &str) -> Value {
    d(description, json!({ "type": "string" }))
}

fn boolean(description: &str, default: Option<bool>) -> Value {
    let mut s = d(description, json!({ "type": "boolean" }));
    if let Some(v) = default {
        s["default"] = v.into();
    }
    s
}

fn strings(description: &str) -> Value {
    d(
        description,
        json!({ "type": "array", "items": { "type": "string" } }),
    )
}

/// A Kestra property that dockhand accepts and ignores (the reader warns).
fn ignored(why: &str) -> Value {
    let msg = format!("Ignored by dockhand: {why}.");
    json!({ "description": msg, "deprecationMessage": msg })
}

fn object(properties: Value, required: &[&str]) -> Value {
    let mut o =
        json!({ "type": "object", "properties": properties, "additionalProperties": false });
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

fn merge(a: &Value, b: Value) -> Value {
    let mut m: Map<String, Value> = a.as_object().cloned().unwrap_or_default();
    if let Value::Object(b) = b {
        m.extend(b);
    }
    Value::Object(m)
}

/// The JSON Schema of a flow file.
pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "Kestra flow (dockhand)",
        "description": "A Kestra flow as dockhand runs it: script tasks (shell Commands and Script) in containers through docker or podman, grouped by Parallel and Sequential.",
        "type": "object",
        "required": ["id", "namespace", "tasks"],
        "additionalProperties": false,
        "properties": flow_properties(),
        "definitions": definitions(),
    })
}

fn flow_properties() -> Value {
    json!({
        "id": d("The flow id, unique within its namespace: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 100 characters. Available as `{{ flow.id }}`.",
            pat(FLOW_ID, "Use letters, digits, `.`, `_` and `-`, starting with a letter or digit (at most 100).")),
        "namespace": d("The namespace of the flow, e.g. `company.team`: lowercase letters, digits, `.`, `_` and `-`. Available as `{{ flow.namespace }}`.",
            pat(NAMESPACE, "Use lowercase letters, digits, `.`, `_` and `-`.")),
        "description": text("What the flow does (Markdown)."),
        "labels": d("Labels of the flow: a map of names to values, or a list of `{key, value}`.", json!({
            "oneOf": [
                { "$ref": "#/definitions/stringMap" },
                { "type": "array", "items": object(json!({
                    "key": text("The label name."),
                    "value": r("The label value.", "scalar"),
                }), &["key", "value"]) },
            ]
        })),
        "inputs": d("Inputs of the flow, given with `dockhand run --input ID=VALUE` and used as `{{ inputs.ID }}`.",
            json!({ "type": "array", "items": input() })),
        "variables": r("Flow variables, used as `{{ vars.NAME }}` in commands, scripts, beforeCommands, env and inputFiles.", "stringMap"),
        "tasks": d("The tasks of the flow, run one after the other; at least one.",
            json!({ "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/task" } })),
        "disabled": d("Must be `false` (or absent): dockhand refuses disabled flows; leave the file out of the command line instead.",
            json!({ "const": false })),
        "workerGroup": ignored("dockhand has no workers"),
        "revision": ignored("revisions belong to a Kestra server"),
        "tenantId": ignored("tenants belong to a Kestra server"),
        "deleted": ignored("it belongs to a Kestra server"),
    })
}

fn input() -> Value {
    object(
        json!({
            "id": d("The input name, used as `{{ inputs.ID }}` and `--input ID=VALUE`: letters, digits, `_` and `-`, starting with a letter or digit.",
                pat(TASK_ID, "Use letters, digits, `_` and `-`, starting with a letter or digit (at most 100).")),
            "type": d("The Kestra type of the input.", json!({ "type": "string", "enum": INPUT_TYPES })),
            "defaults": r("The value used when `--input ID=VALUE` is not given.", "scalar"),
            "required": boolean("Whether a value (given or `defaults`) is needed to run the flow.", Some(true)),
            "description": text("What the input is for."),
            "displayName": text("A name to show for the input (Kestra's UI)."),
            "values": d("The allowed values of a SELECT or ENUM input (not checked by dockhand).",
                json!({ "type": "array", "items": { "$ref": "#/definitions/scalar" } })),
        }),
        &["id", "type"],
    )
}

fn definitions() -> Value {
    json!({
        "scalar": { "description": "Text; numbers and booleans are taken as their text.", "type": ["string", "number", "boolean"] },
        "stringMap": {
            "description": "A map of names to text values.",
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean", "null"] },
        },
        "duration": {
            "description": "An ISO-8601 duration such as `PT30S`, `PT5M`, `PT1H30M` or `P1DT2H` (days, hours, minutes, seconds).",
            "type": "string",
            "pattern": duration_pattern(),
            "patternErrorMessage": "Expected an ISO-8601 duration such as PT30S, PT5M, PT1H30M or P1D.",
        },
        "size": {
            "description": "A size in bytes: a number, or a number with a 1024-based unit: `512MB`, `1GB`, `10KB`, Docker's `512m`, `1g`, or `512MiB`.",
            "oneOf": [
                pat(size_pattern(""), "Expected a size such as 512MB, 1GB or 512m."),
                { "type": "integer", "minimum": 0 },
            ],
        },
        "task": task(),
        "taskRunner": runner(),
        "deviceRequest": device_request(),
    })
}

fn common_task_properties() -> Value {
    json!({
        "id": d("The task id, unique in the flow: letters, digits, `_` and `-`, starting with a letter or digit, at most 100 characters. Available as `{{ task.id }}`; outputs are `{{ outputs.ID.vars.NAME }}`.",
            pat(TASK_ID, "Use letters, digits, `_` and `-`, starting with a letter or digit (at most 100).")),
        "description": text("What the task does (Markdown)."),
        "timeout": r("The longest the task may run (ISO-8601, e.g. `PT10M`); the container is then stopped and the task fails.", "duration"),
        "allowFailure": boolean("When true, a failure of the task makes it WARNING instead of failing the flow.", Some(false)),
        "disabled": boolean("When true, the task is skipped.", Some(false)),
        "logLevel": ignored("every log line is shown"),
        "logToFile": ignored("logs go to the terminal and --json"),
        "workerGroup": ignored("dockhand has no workers"),
        "targetOS": ignored("containers run on the engine's OS"),
        "allowWarning": ignored("WARNING is already a success for the flow"),
    })
}

fn type_const(ty: &str, description: &str) -> Value {
    json!({ "type": { "const": ty, "description": description } })
}

fn task() -> Value {
    let common = common_task_properties();
    let script = script_properties();
    let variant = |title: &str, own: Value, required: &[&str]| {
        let mut o = object(merge(&common, own), required);
        o["title"] = title.into();
        o
    };
    let commands = variant(
        "Shell commands in a container",
        merge(
            &script,
            merge(
                &type_const(COMMANDS_TYPE, "Runs shell commands in a container."),
                json!({
                    "commands": d("The commands to run, one per line of the script given to the interpreter; at least one. May use `{{ ... }}` expressions.",
                        json!({ "type": "array", "minItems": 1, "items": { "type": "string" } })),
                }),
            ),
        ),
        &["id", "type", "commands"],
    );
    let script_task = variant(
        "Shell script in a container",
        merge(
            &script,
            merge(
                &type_const(SCRIPT_TYPE, "Runs a shell script in a container."),
                json!({
                    "script": d("The script to run, given to the interpreter; not empty. May use `{{ ... }}` expressions.",
                        pat(r"\S", "The script is empty.")),
                }),
            ),
        ),
        &["id", "type", "script"],
    );
    let children = d(
        "The child tasks; at least one.",
        json!({ "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/task" } }),
    );
    let parallel = variant(
        "Tasks run side by side",
        merge(
            &type_const(PARALLEL_TYPE, "Runs its child tasks side by side."),
            json!({
                "tasks": children.clone(),
                "concurrent": d("How many child tasks run at a time; 0 means no limit.",
                    json!({ "type": "integer", "minimum": 0, "default": 0 })),
            }),
        ),
        &["id", "type", "tasks"],
    );
    let sequential = variant(
        "Tasks run one after the other",
        merge(
            &type_const(SEQUENTIAL_TYPE, "Runs its child tasks one after the other."),
            json!({ "tasks": children }),
        ),
        &["id", "type", "tasks"],
    );
    json!({
        "description": format!("A task: `{COMMANDS_TYPE}`, `{SCRIPT_TYPE}`, `{PARALLEL_TYPE}` or `{SEQUENTIAL_TYPE}`."),
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "type": { "description": "The task type.", "enum": [COMMANDS_TYPE, SCRIPT_TYPE, PARALLEL_TYPE, SEQUENTIAL_TYPE] },
        },
        "oneOf": [commands, script_task, parallel, sequential],
    })
}

/// Properties of Commands and Script tasks except the body.
fn script_properties() -> Value {
    json!({
        "containerImage": d("The image the task runs in, e.g. `ubuntu:22.04` or `ghcr.io/org/image@sha256:...`.",
            merge(&pat(r"^\s*\S+\s*$", "An image reference has no whitespace, e.g. ubuntu:22.04."), json!({ "default": "ubuntu" }))),
        "interpreter": d("The program and arguments the script is given to, as its last argument. An empty list (with no beforeCommands) runs the commands as the container's argv.",
            json!({ "type": "array", "items": { "type": "string" }, "default": ["/bin/sh", "-c"] })),
        "beforeCommands": strings("Commands run before the commands or script, in the same shell. May use `{{ ... }}` expressions."),
        "env": d("Environment variables of the container (`--env`; values are passed outside the command line). Values may use `{{ ... }}` expressions.",
            json!({ "type": "object", "allOf": [{ "$ref": "#/definitions/stringMap" }], "propertyNames": pat(ENV_NAME, "Use letters, digits and `_`, not starting with a digit.") })),
        "failFast": boolean("When true, the script starts with `set -e`, so the first failing command fails the task.", Some(true)),
        "inputFiles": d("Files written into the working directory before the task runs: relative path → content. Content may use `{{ ... }}` expressions.",
            json!({ "type": "object", "allOf": [{ "$ref": "#/definitions/stringMap" }], "propertyNames": pat(relative_path_pattern(), "Must be a path relative to the working directory, without `..`.") })),
        "outputFiles": d("Globs, relative to the working directory, of the files kept as outputs after the task runs.",
            json!({ "type": "array", "items": pat(relative_path_pattern(), "Must be a path relative to the working directory, without `..`.") })),
        "taskRunner": d("How the container is run: dockhand's Docker runner (`docker run` / `podman run`).",
            json!({ "allOf": [{ "$ref": "#/definitions/taskRunner" }], "default": { "type": DOCKER_RUNNER_TYPE } })),
    })
}

fn runner() -> Value {
    let mut o = object(
        json!({
            "type": d("The task runner: dockhand runs containers with the Docker runner only.", json!({ "const": DOCKER_RUNNER_TYPE })),
            "host": text("The engine's address for every command of the task: docker `--host`, podman `--url` (e.g. `unix:///var/run/docker.sock`, `tcp://host:2376`)."),
            "config": d("A docker client `config.json` (`auths`, `credHelpers`, ...) as a JSON string or a map, written to a private client config (docker `--config`, podman `--authfile`); Kestra's `insecure-registries` lists registries reached without TLS verification.",
                json!({ "oneOf": [
                    { "type": "string", "contentMediaType": "application/json" },
                    { "type": "object", "properties": {
                        "auths": d("Registry address → `{\"auth\": base64(user:password)}`.", json!({ "type": "object" })),
                        "credHelpers": d("Registry address → name of a docker credential helper.", json!({ "type": "object", "additionalProperties": { "type": "string" } })),
                        "insecure-registries": d("Registries (HOST:PORT) reached without TLS verification (podman `--tls-verify=false`).",
                            json!({ "type": "array", "items": pat(REGISTRY_HOST, "Expected HOST[:PORT], such as 10.10.1.5:5000.") })),
                    } },
                ] })),
            "credentials": d("Registry credentials for pulling `containerImage`, written to a private client config (docker `--config`, podman `--authfile`), never to the command line.", object(json!({
                "registry": text("The registry to log in to, e.g. `ghcr.io`; default: the registry of `containerImage`."),
                "username": text("The registry user name (with `password`)."),
                "password": text("The registry password (with `username`)."),
                "registryToken": text("A registry token (`registrytoken` of the auth entry)."),
                "identityToken": text("An identity token (`identitytoken` of the auth entry)."),
                "auth": text("base64 of `username:password`; used instead of `username` and `password`."),
            }), &[])),
            "user": r("The user the container runs as: `--user` (`NAME`, `UID`, `UID:GID`).", "scalar"),
            "entryPoint": d("The container's entrypoint: `--entrypoint`. The default `[\"\"]` clears the image's entrypoint.",
                json!({ "type": "array", "items": { "type": "string" }, "default": [""] })),
            "extraHosts": strings("Extra `/etc/hosts` entries (`HOST:IP`): `--add-host`."),
            "networkMode": text("The network the container joins: `--network` (`bridge`, `host`, `none`, a network name)."),
            "portBindings": strings("Published ports (`HOSTPORT:CONTAINERPORT`): `--publish`."),
            "volumes": d("Bind mounts (`SOURCE:DESTINATION[:OPTIONS]`, e.g. `/data:/data:ro`): `--volume`.",
                json!({ "type": "array", "items": pat(volume_pattern(), "Expected SOURCE:DESTINATION[:OPTIONS] with an absolute destination, such as /data:/data:ro.") })),
            "pullPolicy": d("When the image is pulled: `--pull=missing` (IF_NOT_PRESENT), `--pull=always` (ALWAYS), `--pull=never` (NEVER).",
                json!({ "type": "string", "enum": PullPolicy::NAMES, "default": "IF_NOT_PRESENT" })),
            "deviceRequests": d("Devices (GPUs) given to the container: docker `--gpus`, podman `--device nvidia.com/gpu=...` (CDI).",
                json!({ "type": "array", "items": { "$ref": "#/definitions/deviceRequest" } })),
            "cpu": d("CPU limit.", object(json!({
                "cpus": d("How many CPUs the container may use, e.g. `1.5`: `--cpus`.", json!({ "type": "number", "exclusiveMinimum": 0 })),
            }), &[])),
            "memory": d("Memory limits.", object(json!({
                "memory": r("The memory limit: `--memory`.", "size"),
                "memorySwap": d("The memory plus swap limit, at least `memory`, or -1 for unlimited swap: `--memory-swap`.", json!({ "oneOf": [
                    pat(size_pattern("-1|"), "Expected a size such as 1GB, or -1 for unlimited swap."),
                    { "type": "integer", "minimum": -1 },
                ] })),
                "memorySwappiness": d("How readily anonymous pages are swapped out, 0 to 100: `--memory-swappiness`.",
                    json!({ "type": "integer", "minimum": 0, "maximum": 100 })),
                "memoryReservation": r("A soft memory limit, below `memory`: `--memory-reservation`.", "size"),
                "kernelMemory": json!({
                    "description": "The kernel memory limit: `--kernel-memory` (deprecated by Docker, ignored on cgroup v2 hosts, not supported by podman).",
                    "allOf": [{ "$ref": "#/definitions/size" }],
                }),
                "oomKillDisable": boolean("When true, the kernel does not kill the container when it runs out of memory: `--oom-kill-disable`.", None),
            }), &[])),
            "shmSize": r("The size of `/dev/shm`: `--shm-size`.", "size"),
            "privileged": boolean("When true, the container runs with extended privileges: `--privileged`.", None),
            "fileHandlingStrategy": d("How inputFiles and outputFiles reach the container: VOLUME copies them in and out (`docker cp`), MOUNT bind-mounts the working directory (`--volume DIR:DIR`).",
                json!({ "type": "string", "enum": FileHandling::NAMES, "default": "VOLUME" })),
            "delete": boolean("When true, the container is removed after the task: `rm --force --volumes`.", Some(true)),
            "wait": boolean("When true, dockhand waits for the container to end; when false, it starts the container detached and the task ends at once.", Some(true)),
            "killGracePeriod": d("On cancel or timeout, how long the container has to stop before it is killed: `stop --time N`; `PT0S` kills at once (`kill`).",
                json!({ "allOf": [{ "$ref": "#/definitions/duration" }], "default": "PT0S" })),
            "resume": boolean("When true, `dockhand resume` re-attaches to the task's container left running by an interrupted execution (found by its labels) instead of starting it afresh.", Some(true)),
            "version": ignored("dockhand has one Docker runner"),
        }),
        &["type"],
    );
    o["title"] = "Docker task runner".into();
    o["description"] = "dockhand's Docker task runner (`io.kestra.plugin.scripts.runner.docker.Docker`) with Kestra's defaults.".into();
    o
}

fn device_request() -> Value {
    let mut o = object(
        json!({
            "driver": text("The device driver, e.g. `nvidia`: `--gpus driver=...`."),
            "count": d("How many devices, -1 for all (the default when no deviceIds are given): `--gpus count=...`.",
                json!({ "type": "integer", "minimum": -1 })),
            "deviceIds": d("The ids of the devices (instead of `count`): `--gpus device=...`, podman `--device nvidia.com/gpu=ID`.",
                json!({ "type": "array", "items": { "$ref": "#/definitions/scalar" } })),
            "capabilities": d("Capability sets, e.g. `[[gpu, utility]]`; docker takes one set: `--gpus capabilities=...`.",
                json!({ "type": "array", "items": { "type": "array", "items": { "type": "string" } } })),
            "options": r("Driver options: `--gpus options=...`.", "stringMap"),
        }),
        &[],
    );
    o["title"] = "Device request".into();
    o["description"] = "A request for devices (GPUs).".into();
    // The reader refuses `count` together with a non-empty `deviceIds`.
    o["dependencies"] = json!({ "count": { "properties": { "deviceIds": {
        "description": "Give either `count` or `deviceIds`, not both.",
        "type": "array",
        "maxItems": 0,
    } } } });
    o
}
