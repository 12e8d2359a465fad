//! Reading the core tasks dockhand does itself (`spec::tasks_core`): each type's own
//! properties into a [`CoreTask`], with Kestra's defaults. Templates are checked for syntax
//! here; they are rendered when the task runs.

use std::collections::BTreeMap;

use crate::flow::core_task::{CoreTask, EXIT_STATES, HttpCall, KvType, LogLevel};
use crate::flow::reader::{self, Cx, Obj};
use crate::flow::spec::tasks_core::*;
use crate::flow::yaml::{Node, Value};
use crate::units;

/// The core task of type `name` (a Kestra name of [`TASK_TYPES`]); `None` when a property has
/// an error (reported). Every property is read before any `?`: one left unread would be
/// reported as described but not read.
pub(super) fn read_core(cx: &mut Cx, o: &mut Obj<'_>, name: &str) -> Option<CoreTask> {
    let task = match name {
        LOG_TYPE => {
            let messages = o.need(cx, "message").and_then(|n| {
                let path = o.key_path("message");
                match &n.value {
                    Value::Seq(_) => reader::as_strings(cx, n, &path),
                    _ => reader::as_string(cx, n, &path).map(|s| vec![s]),
                }
            });
            let level = o
                .enumeration(cx, "level", &LogLevel::NAMES, LogLevel::parse)
                .unwrap_or_default();
            CoreTask::Log {
                messages: messages?,
                level,
            }
        }
        // Kestra's Echo is a Log of one message (`Echo.run` builds a Log and runs it).
        ECHO_TYPE => {
            if let Some(t) = o.get(cx, "type") {
                cx.diags.warning(
                    t.pos,
                    o.key_path("type"),
                    "`io.kestra.plugin.core.debug.Echo` is deprecated in Kestra; write `type: io.kestra.plugin.core.log.Log` with `message`",
                );
            }
            let format = o.need_string(cx, "format");
            let level = o
                .enumeration(cx, "level", &LogLevel::NAMES, LogLevel::parse)
                .unwrap_or_default();
            CoreTask::Log {
                messages: vec![format?],
                level,
            }
        }
        FETCH_TYPE => {
            let execution_id = o.string(cx, "executionId");
            let tasks_id = o.strings(cx, "tasksId").unwrap_or_default();
            let level = o
                .enumeration(cx, "level", &LogLevel::NAMES, LogLevel::parse)
                .unwrap_or_default();
            // Kestra's filters of another execution's flow: one state directory holds them all.
            let _ = (o.string(cx, "namespace"), o.string(cx, "flowId"));
            CoreTask::LogFetch {
                execution_id,
                tasks_id,
                level,
            }
        }
        WRITE_TYPE => {
            let content = o.need_string(cx, "content");
            let extension = o.string(cx, "extension");
            CoreTask::Write {
                content: content?,
                extension,
            }
        }
        SIZE_TYPE => CoreTask::StorageSize {
            uri: o.need_string(cx, "uri")?,
        },
        DELETE_TYPE => {
            let uri = o.need_string(cx, "uri");
            let error_on_missing = o.bool(cx, "errorOnMissing").unwrap_or(false);
            CoreTask::StorageDelete {
                uri: uri?,
                error_on_missing,
            }
        }
        CONCAT_TYPE => {
            let files = o.need(cx, "files").and_then(|n| {
                let path = o.key_path("files");
                match &n.value {
                    Value::Seq(_) => reader::as_strings(cx, n, &path).map(|f| (f, false)),
                    _ => reader::as_string(cx, n, &path).map(|s| (vec![s], true)),
                }
            });
            let separator = o.string(cx, "separator");
            let extension = o.string(cx, "extension").unwrap_or_else(|| ".tmp".into());
            let (files, files_json) = files?;
            CoreTask::Concat {
                files,
                files_json,
                separator,
                extension,
            }
        }
        SPLIT_TYPE => {
            let from = o.need_string(cx, "from");
            let given: Vec<(&'static str, String)> = ["bytes", "partitions", "rows"]
                .into_iter()
                .filter_map(|k| o.string(cx, k).map(|v| (k, v)))
                .collect();
            let separator = o.string(cx, "separator").unwrap_or_else(|| "\n".into());
            // Kestra's StorageService.split takes `bytes`, else `partitions`, else `rows`.
            let Some(by) = given.into_iter().next() else {
                cx.error(
                    o.pos(),
                    &o.key_path("type"),
                    "a Split needs `bytes`, `partitions` or `rows`",
                );
                return None;
            };
            CoreTask::Split {
                from: from?,
                by,
                separator,
            }
        }
        REVERSE_TYPE => {
            let from = o.need_string(cx, "from");
            let separator = o.string(cx, "separator").unwrap_or_else(|| "\n".into());
            if let Some(c) = o.string(cx, "charset")
                && !c.eq_ignore_ascii_case("UTF-8")
                && let Some(n) = o.get(cx, "charset")
            {
                cx.error(
                    n.pos,
                    &o.key_path("charset"),
                    format!("charset `{c}` is not supported: files are read and written as UTF-8"),
                );
            }
            CoreTask::Reverse {
                from: from?,
                separator,
            }
        }
        RETURN_TYPE => CoreTask::Return {
            format: o.string(cx, "format"),
        },
        OUTPUT_VALUES_TYPE => {
            let values = match o.get(cx, "values") {
                None => BTreeMap::new(),
                Some(n) => match n.to_json() {
                    serde_json::Value::Object(m) => m.into_iter().collect(),
                    _ => {
                        cx.error(
                            n.pos,
                            &o.key_path("values"),
                            format!("expected a map of names to values, found {}", n.kind()),
                        );
                        return None;
                    }
                },
            };
            CoreTask::OutputValues { values }
        }
        FAIL_TYPE => CoreTask::Fail {
            condition: o.string(cx, "condition"),
            error_message: o
                .string(cx, "errorMessage")
                .unwrap_or_else(|| "Task failure".into()),
        },
        ASSERT_TYPE => {
            let conditions = o.need(cx, "conditions").and_then(|n| {
                let c = reader::as_strings(cx, n, &o.key_path("conditions"))?;
                if c.is_empty() {
                    cx.error(
                        n.pos,
                        &o.key_path("conditions"),
                        "needs at least one condition",
                    );
                }
                Some(c)
            });
            let error_message = o.string(cx, "errorMessage");
            CoreTask::Assert {
                conditions: conditions?,
                error_message,
            }
        }
        LABELS_TYPE => {
            let n = o.need(cx, "labels")?;
            match &n.value {
                // One template, rendered to the labels when the task runs (Kestra's string form).
                Value::Scalar { text, .. } if text.contains("{{") => CoreTask::Labels {
                    labels: vec![],
                    from: Some(text.clone()),
                },
                _ => CoreTask::Labels {
                    labels: labels(cx, n, &o.key_path("labels"))?,
                    from: None,
                },
            }
        }
        EXIT_TYPE => CoreTask::Exit {
            state: o
                .enumeration(cx, "state", EXIT_STATES, |s| {
                    EXIT_STATES.contains(&s).then(|| s.to_string())
                })
                .unwrap_or_else(|| "SUCCESS".into()),
        },
        SLEEP_TYPE => {
            let d = o.need(cx, "duration")?;
            let path = o.key_path("duration");
            let s = reader::as_string(cx, d, &path)?;
            match units::parse_duration(s.trim()) {
                Ok(duration) => CoreTask::Sleep { duration },
                Err(e) => {
                    cx.error(d.pos, &path, e);
                    return None;
                }
            }
        }
        KV_SET_TYPE => {
            let (namespace, key) = (o.string(cx, "namespace"), o.need_string(cx, "key"));
            let value = o.need(cx, "value").map(Node::to_json);
            let kv_type = o.enumeration(cx, "kvType", &KvType::NAMES, KvType::parse);
            let overwrite = o.bool(cx, "overwrite").unwrap_or(true);
            let ttl = o.parsed(cx, "ttl", units::parse_duration);
            CoreTask::KvSet {
                namespace,
                key: key?,
                value: value?,
                kv_type,
                overwrite,
                ttl,
            }
        }
        KV_GET_TYPE | KV_DELETE_TYPE => {
            let (namespace, key) = (o.string(cx, "namespace"), o.need_string(cx, "key"));
            let error_on_missing = o.bool(cx, "errorOnMissing").unwrap_or(false);
            let key = key?;
            if name == KV_GET_TYPE {
                CoreTask::KvGet {
                    namespace,
                    key,
                    error_on_missing,
                }
            } else {
                CoreTask::KvDelete {
                    namespace,
                    key,
                    error_on_missing,
                }
            }
        }
        KV_GET_KEYS_TYPE => CoreTask::KvGetKeys {
            namespace: o.string(cx, "namespace"),
            prefix: o.string(cx, "prefix"),
        },
        PURGE_FILES_TYPE => CoreTask::PurgeExecutionFiles,
        LOCAL_FILES_TYPE => {
            let inputs = o.string_map(cx, "inputs").unwrap_or_default();
            let outputs = o.strings(cx, "outputs").unwrap_or_default();
            let mut ok = true;
            for name in inputs.keys().chain(outputs.iter()) {
                if let Err(e) = super::task::check_relative(name) {
                    let which = if inputs.contains_key(name) {
                        "inputs"
                    } else {
                        "outputs"
                    };
                    let path = o.key_path(which);
                    let pos = [reader::join(&path, name), path.clone()]
                        .iter()
                        .find_map(|p| cx.spans.get(p).copied())
                        .unwrap_or(o.pos());
                    cx.error(pos, &path, format!("`{name}`: {e}"));
                    ok = false;
                }
            }
            if !ok {
                return None;
            }
            CoreTask::LocalFiles { inputs, outputs }
        }
        HTTP_REQUEST_TYPE => CoreTask::HttpRequest(Box::new(http_call(cx, o)?)),
        HTTP_DOWNLOAD_TYPE => {
            let call = http_call(cx, o);
            let fail_on_empty = o.bool(cx, "failOnEmptyResponse").unwrap_or(true);
            CoreTask::HttpDownload {
                call: Box::new(call?),
                fail_on_empty,
            }
        }
        NS_UPLOAD_TYPE | NS_DOWNLOAD_TYPE | NS_DELETE_TYPE => {
            CoreTask::Namespace(Box::new(super::namespace_tasks::read(cx, o, name)?))
        }
        _ => unreachable!("{name} is a core task type of the spec without a reader"),
    };
    check_templates(cx, o, &task);
    Some(task)
}

/// The properties both http tasks have, and their `options`.
fn http_call(cx: &mut Cx, o: &mut Obj<'_>) -> Option<HttpCall> {
    let uri = o.need_string(cx, "uri");
    let method = o
        .enumeration(cx, "method", HTTP_METHODS, |s| {
            HTTP_METHODS.contains(&s).then(|| s.to_string())
        })
        .unwrap_or_else(|| "GET".into());
    let body = o.string(cx, "body");
    let form_data = o.string_map(cx, "formData").unwrap_or_default();
    let content_type = o.string(cx, "contentType");
    let headers = o.string_map(cx, "headers").unwrap_or_default();
    let allow_failed = o.bool(cx, "allowFailed").unwrap_or(false);
    let (mut connect_timeout, mut read_timeout) = (None, Some(std::time::Duration::from_secs(10)));
    let (mut follow_redirects, mut basic_auth) = (true, None);
    if let Some(mut opts) = o.obj(cx, "options") {
        connect_timeout = opts.parsed(cx, "connectTimeout", units::parse_duration);
        if let Some(t) = opts.parsed(cx, "readTimeout", units::parse_duration) {
            read_timeout = Some(t);
        }
        follow_redirects = opts.bool(cx, "followRedirects").unwrap_or(true);
        let user = opts.string(cx, "basicAuthUser");
        let password = opts.string(cx, "basicAuthPassword");
        basic_auth = user.zip(password);
        opts.finish_described(cx, &HTTP_OPTIONS);
    }
    let call = HttpCall {
        uri: uri?,
        method,
        body,
        content_type,
        headers,
        form_data,
        connect_timeout,
        read_timeout,
        follow_redirects,
        basic_auth,
        allow_failed,
    };
    Some(call)
}

/// `labels`: a map of names to values, or a list of `{key, value}` (Kestra takes both), in
/// order; the values are rendered at run time.
fn labels(cx: &mut Cx, n: &Node, path: &str) -> Option<Vec<(String, String)>> {
    match &n.value {
        Value::Seq(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let mut o = Obj::new(cx, item, &format!("{path}[{i}]"))?;
                let k = o.need_string(cx, "key");
                let v = o.need_string(cx, "value");
                o.finish(cx, &[]);
                out.push((k?, v?));
            }
            Some(out)
        }
        _ => reader::as_string_map(cx, n, path).map(|m| m.into_iter().collect()),
    }
}

/// A template with a syntax error is reported at its property, as for script tasks.
fn check_templates(cx: &mut Cx, o: &Obj<'_>, task: &CoreTask) {
    for (prop, text) in task.texts() {
        if !text.contains('{') {
            continue;
        }
        if let Err(errors) = crate::pebble::Template::parse_all(text) {
            let path = o.key_path(prop);
            let pos = cx.spans.get(&path).copied().unwrap_or(o.pos());
            for e in errors {
                cx.error(pos, &path, format!("{} in `{text}`", e.message));
            }
        }
    }
}
