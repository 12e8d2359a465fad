//! The typed model of Kestra's core tasks that dockhand does itself, in process, with no
//! container: logging, returning and asserting values, ending the execution, labels, sleeping,
//! the key-value store, HTTP and execution files. Text properties stay as written (templates
//! are rendered when the task runs, with the outputs of the tasks before it).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::flow::model::{Flow, Task, TaskKind};

/// Kestra's log levels (`io.kestra.plugin.core.log.Log`'s `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub const NAMES: [&'static str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TRACE" => Some(Self::Trace),
            "DEBUG" => Some(Self::Debug),
            "INFO" => Some(Self::Info),
            "WARN" => Some(Self::Warn),
            "ERROR" => Some(Self::Error),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The states `io.kestra.plugin.core.execution.Exit` ends an execution in.
pub const EXIT_STATES: &[&str] = &["SUCCESS", "WARNING", "KILLED", "FAILED", "CANCELED"];

/// Kestra's `kvType` of `kv.Set`: how the rendered value is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvType {
    String,
    Number,
    Boolean,
    DateTime,
    Date,
    Duration,
    Json,
}

impl KvType {
    pub const NAMES: [&'static str; 7] = [
        "STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON",
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "STRING" => Self::String,
            "NUMBER" => Self::Number,
            "BOOLEAN" => Self::Boolean,
            "DATETIME" => Self::DateTime,
            "DATE" => Self::Date,
            "DURATION" => Self::Duration,
            "JSON" => Self::Json,
            _ => return None,
        })
    }
}

/// An HTTP request of `http.Request` / `http.Download` (and `io.kestra.plugin.fs.http.*`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpCall {
    pub uri: String,
    /// Default GET.
    pub method: String,
    pub body: Option<String>,
    /// Default `application/json`.
    pub content_type: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// Sent as `application/x-www-form-urlencoded` (Kestra sends a multipart body when
    /// `contentType` is `multipart/form-data`).
    pub form_data: BTreeMap<String, String>,
    /// `options.connectTimeout`, `options.readTimeout`.
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    /// `options.followRedirects` (default true).
    pub follow_redirects: bool,
    /// `options.basicAuthUser` / `options.basicAuthPassword` (Kestra 0.x names).
    pub basic_auth: Option<(String, String)>,
    /// A response code >= 400 does not fail the task.
    pub allow_failed: bool,
}

/// A core task and its properties.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreTask {
    /// `log.Log`: each message rendered and printed as a log line at `level`.
    Log {
        messages: Vec<String>,
        level: LogLevel,
    },
    /// `debug.Return`: output `value` is `format` rendered.
    Return { format: Option<String> },
    /// `output.OutputValues`: outputs `values.NAME`, every string in them rendered.
    OutputValues {
        values: BTreeMap<String, serde_json::Value>,
    },
    /// `execution.Fail`: FAILED with `errorMessage`; with `condition`, only when it is truthy.
    Fail {
        condition: Option<String>,
        error_message: String,
    },
    /// `execution.Assert`: FAILED when any condition renders falsy.
    Assert {
        conditions: Vec<String>,
        error_message: Option<String>,
    },
    /// `execution.Labels`: labels added to the execution, keys and values rendered; or
    /// `labels` written as one template (`from`), rendered to a JSON object of labels or a
    /// list of `{key, value}`, as Kestra's `Labels` takes a string.
    Labels {
        labels: Vec<(String, String)>,
        from: Option<String>,
    },
    /// `execution.Exit`: the execution ends here, in `state` (one of [`EXIT_STATES`]).
    Exit { state: String },
    /// `flow.Sleep`.
    Sleep { duration: Duration },
    /// `kv.Set`.
    KvSet {
        namespace: Option<String>,
        key: String,
        value: serde_json::Value,
        kv_type: Option<KvType>,
        overwrite: bool,
        ttl: Option<Duration>,
    },
    /// `kv.Get`: output `value`.
    KvGet {
        namespace: Option<String>,
        key: String,
        error_on_missing: bool,
    },
    /// `kv.Delete`: output `deleted`.
    KvDelete {
        namespace: Option<String>,
        key: String,
        error_on_missing: bool,
    },
    /// `kv.GetKeys`: output `keys`.
    KvGetKeys {
        namespace: Option<String>,
        prefix: Option<String>,
    },
    /// `storage.PurgeCurrentExecutionFiles`.
    PurgeExecutionFiles,
    /// `storage.Write`: `content` written to a stored file; output `uri`.
    Write {
        content: String,
        extension: Option<String>,
    },
    /// `log.Fetch`: the kept log lines of an execution at or above `level` into a stored
    /// file; outputs `uri`, `size`.
    LogFetch {
        execution_id: Option<String>,
        tasks_id: Vec<String>,
        level: LogLevel,
    },
    /// `storage.Size`: output `size`.
    StorageSize { uri: String },
    /// `storage.Delete`: outputs `uri`, `deleted`.
    StorageDelete { uri: String, error_on_missing: bool },
    /// `storage.Concat`: `files` (a list, or one text rendering to a JSON list); output `uri`.
    Concat {
        files: Vec<String>,
        files_json: bool,
        separator: Option<String>,
        extension: String,
    },
    /// `storage.Reverse`: the lines of `from`, last first; output `uri`.
    Reverse { from: String, separator: String },
    /// `storage.Split`: `from`'s lines into files by `bytes`, `partitions` or `rows` (texts,
    /// rendered then parsed; the first given is used); output `uris`.
    Split {
        from: String,
        by: (&'static str, String),
        separator: String,
    },
    /// `storage.LocalFiles` (legacy): `inputs` written as files, `outputs` globs kept.
    LocalFiles {
        inputs: BTreeMap<String, String>,
        outputs: Vec<String>,
    },
    /// `http.Request`: outputs `code`, `headers`, `body`, `uri`.
    HttpRequest(Box<HttpCall>),
    /// `http.Download`: the body stored as a file; outputs `uri`, `code`, `length`, `headers`.
    HttpDownload {
        call: Box<HttpCall>,
        fail_on_empty: bool,
    },
    /// `namespace.UploadFiles` / `DownloadFiles` / `DeleteFiles`.
    Namespace(Box<crate::flow::namespace_tasks::NamespaceTask>),
}

impl CoreTask {
    /// What `plan` shows: what the task will do, in a few words, properties as written.
    pub fn describe(&self) -> String {
        let ns = |n: &Option<String>| {
            n.as_ref().map_or("the flow's namespace".to_string(), |n| {
                format!("namespace {n}")
            })
        };
        match self {
            CoreTask::Log { messages, level } => format!(
                "log {} line{} at {}: {}",
                messages.len(),
                if messages.len() == 1 { "" } else { "s" },
                level.name(),
                messages
                    .iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CoreTask::Return { format } => format!(
                "output `value` = {:?}",
                format.as_deref().unwrap_or_default()
            ),
            CoreTask::OutputValues { values } => format!(
                "outputs `values` {}",
                values.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            CoreTask::Fail {
                condition: None,
                error_message,
            } => format!("fail: {error_message:?}"),
            CoreTask::Fail {
                condition: Some(c),
                error_message,
            } => format!("fail when {c:?} is true: {error_message:?}"),
            CoreTask::Assert { conditions, .. } => format!(
                "assert {}",
                conditions
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CoreTask::Labels { labels, from } => format!(
                "add execution labels {}",
                labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .chain(from.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CoreTask::Exit { state } => {
                format!("end the execution here in state {state}; later tasks do not run")
            }
            CoreTask::Sleep { duration } => format!(
                "sleep {} (Ctrl-C stops it)",
                crate::units::format_duration_iso(*duration)
            ),
            CoreTask::KvSet { namespace, key, .. } => {
                format!("set KV key {key:?} in {}", ns(namespace))
            }
            CoreTask::KvGet { namespace, key, .. } => {
                format!(
                    "read KV key {key:?} of {} into output `value`",
                    ns(namespace)
                )
            }
            CoreTask::KvDelete { namespace, key, .. } => {
                format!("delete KV key {key:?} of {}", ns(namespace))
            }
            CoreTask::KvGetKeys { namespace, prefix } => format!(
                "list the KV keys of {}{} into output `keys`",
                ns(namespace),
                prefix
                    .as_ref()
                    .map(|p| format!(" starting with {p:?}"))
                    .unwrap_or_default()
            ),
            CoreTask::PurgeExecutionFiles => {
                "remove this execution's stored files (output files, downloads)".into()
            }
            CoreTask::LogFetch {
                execution_id,
                tasks_id,
                level,
            } => format!(
                "fetch the {} lines at or above {} of {} into a stored file; outputs `uri`, `size`",
                if tasks_id.is_empty() {
                    "log".to_string()
                } else {
                    tasks_id.join(", ")
                },
                level.name(),
                execution_id
                    .as_ref()
                    .map_or("this execution".to_string(), |e| format!("execution {e:?}"))
            ),
            CoreTask::StorageSize { uri } => format!("output `size` of stored file {uri:?}"),
            CoreTask::StorageDelete { uri, .. } => format!("delete stored file {uri:?}"),
            CoreTask::Concat { files, .. } => format!(
                "concatenate {} into a stored file; output `uri`",
                files
                    .iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CoreTask::Split { from, by, .. } => {
                format!("split {from:?} by {} {:?}; output `uris`", by.0, by.1)
            }
            CoreTask::Reverse { from, .. } => {
                format!("reverse the lines of {from:?} into a stored file; output `uri`")
            }
            CoreTask::Write { content, extension } => format!(
                "write {content:?} to a stored file{}; output `uri`",
                extension
                    .as_ref()
                    .map(|e| format!(" ending in {e:?}"))
                    .unwrap_or_default()
            ),
            CoreTask::LocalFiles { inputs, outputs } => format!(
                "write {} file(s) into the execution's shared directory; keep {}",
                inputs.len(),
                if outputs.is_empty() {
                    "no outputs".to_string()
                } else {
                    outputs.join(", ")
                }
            ),
            CoreTask::HttpRequest(c) => format!(
                "HTTP {} {}{}",
                c.method,
                c.uri,
                if c.allow_failed {
                    " (a code >= 400 is allowed)"
                } else {
                    ""
                }
            ),
            CoreTask::HttpDownload { call, .. } => {
                format!("download {} {} to a stored file", call.method, call.uri)
            }
            CoreTask::Namespace(n) => n.describe(),
        }
    }

    /// Does the task change something outside dockhand's own run (a KV entry, a file, a
    /// request)? Its end is then fsync'd before the next task starts.
    pub fn has_effects(&self) -> bool {
        !matches!(
            self,
            CoreTask::Log { .. }
                | CoreTask::Return { .. }
                | CoreTask::OutputValues { .. }
                | CoreTask::Fail { .. }
                | CoreTask::Assert { .. }
                | CoreTask::Labels { .. }
                | CoreTask::Exit { .. }
                | CoreTask::Sleep { .. }
        )
    }

    /// Every text that holds templates, by property (for validation and for the secrets
    /// read before the run).
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = Vec::new();
        match self {
            CoreTask::Log { messages, .. } => {
                out.extend(messages.iter().map(|m| ("message", m.as_str())))
            }
            CoreTask::Return { format } => {
                out.extend(format.iter().map(|f| ("format", f.as_str())))
            }
            CoreTask::OutputValues { values } => {
                let mut s = Vec::new();
                for v in values.values() {
                    json_strings(v, &mut s);
                }
                out.extend(s.into_iter().map(|x| ("values", x)));
            }
            CoreTask::Fail {
                condition,
                error_message,
            } => {
                out.extend(condition.iter().map(|c| ("condition", c.as_str())));
                out.push(("errorMessage", error_message));
            }
            CoreTask::Assert {
                conditions,
                error_message,
            } => {
                out.extend(conditions.iter().map(|c| ("conditions", c.as_str())));
                out.extend(error_message.iter().map(|c| ("errorMessage", c.as_str())));
            }
            CoreTask::Labels { labels, from } => {
                for (k, v) in labels {
                    out.push(("labels", k));
                    out.push(("labels", v));
                }
                out.extend(from.iter().map(|f| ("labels", f.as_str())));
            }
            CoreTask::Exit { state } => out.push(("state", state)),
            CoreTask::Sleep { .. } | CoreTask::PurgeExecutionFiles => {}
            CoreTask::StorageSize { uri } | CoreTask::StorageDelete { uri, .. } => {
                out.push(("uri", uri))
            }
            CoreTask::LogFetch {
                execution_id,
                tasks_id,
                ..
            } => {
                out.extend(execution_id.iter().map(|e| ("executionId", e.as_str())));
                out.extend(tasks_id.iter().map(|t| ("tasksId", t.as_str())));
            }
            CoreTask::Concat {
                files,
                separator,
                extension,
                ..
            } => {
                out.extend(files.iter().map(|f| ("files", f.as_str())));
                out.extend(separator.iter().map(|s| ("separator", s.as_str())));
                out.push(("extension", extension));
            }
            CoreTask::Reverse { from, separator } => {
                out.push(("from", from));
                out.push(("separator", separator));
            }
            CoreTask::Split {
                from,
                by,
                separator,
            } => {
                out.push(("from", from));
                out.push((by.0, &by.1));
                out.push(("separator", separator));
            }
            CoreTask::Write { content, extension } => {
                out.push(("content", content));
                out.extend(extension.iter().map(|e| ("extension", e.as_str())));
            }
            CoreTask::KvSet {
                namespace,
                key,
                value,
                ..
            } => {
                out.extend(namespace.iter().map(|n| ("namespace", n.as_str())));
                out.push(("key", key));
                let mut s = Vec::new();
                json_strings(value, &mut s);
                out.extend(s.into_iter().map(|x| ("value", x)));
            }
            CoreTask::KvGet { namespace, key, .. } | CoreTask::KvDelete { namespace, key, .. } => {
                out.extend(namespace.iter().map(|n| ("namespace", n.as_str())));
                out.push(("key", key));
            }
            CoreTask::KvGetKeys { namespace, prefix } => {
                out.extend(namespace.iter().map(|n| ("namespace", n.as_str())));
                out.extend(prefix.iter().map(|n| ("prefix", n.as_str())));
            }
            CoreTask::LocalFiles { inputs, outputs } => {
                out.extend(inputs.values().map(|v| ("inputs", v.as_str())));
                out.extend(outputs.iter().map(|v| ("outputs", v.as_str())));
            }
            CoreTask::HttpRequest(c) | CoreTask::HttpDownload { call: c, .. } => {
                out.push(("uri", &c.uri));
                out.extend(c.body.iter().map(|b| ("body", b.as_str())));
                out.extend(c.headers.values().map(|v| ("headers", v.as_str())));
                out.extend(c.form_data.values().map(|v| ("formData", v.as_str())));
                if let Some((u, p)) = &c.basic_auth {
                    out.push(("options", u));
                    out.push(("options", p));
                }
            }
            CoreTask::Namespace(n) => out.extend(n.texts()),
        }
        out
    }
}

/// Every core task of the flow, depth first, in file order.
pub fn core_tasks(flow: &Flow) -> Vec<(&Task, &CoreTask)> {
    fn walk<'a>(t: &'a Task, out: &mut Vec<(&'a Task, &'a CoreTask)>) {
        if let TaskKind::Core(c) = &t.kind {
            out.push((t, c));
        }
        t.children().into_iter().for_each(|c| walk(c, out));
    }
    let mut out = Vec::new();
    flow.top_level().for_each(|t| walk(t, &mut out));
    out
}

/// Every string value in a JSON document (not the keys), in order.
pub fn json_strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}
