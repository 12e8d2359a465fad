//! Task types dockhand runs itself, without a container: log, debug, output, execution,
//! flow.Sleep, kv, storage, http, namespace files. Their names and properties are Kestra's
//! (`io.kestra.plugin.core.*` in kestra-io/kestra), with the older `io.kestra.core.tasks.*`
//! names Kestra still accepts as aliases. `decode::core` reads them, `exec::core` runs them.

use super::ex;
use super::{
    COMMON_TASK, Execution, Names, Object, Property, TaskType, Ty, ignored, read, refused,
    required, with_default,
};
use crate::flow::core_task::{EXIT_STATES, KvType, LogLevel};

/// The object kind of every core task type (the reader's `known_properties` reads script tasks
/// as `task`; these are checked against the spec through the kitchen sink instead).
const KIND: &str = "coreTask";

/// A core task type: its names, title, doc line and own properties (after the common ones).
macro_rules! core {
    ($name:expr, $aliases:expr, $title:literal, $doc:literal, $($own:expr),+ $(,)?) => {
        TaskType {
            name: $name,
            aliases: $aliases,
            execution: Execution::InProcess,
            object: Object {
                kind: KIND,
                title: $title,
                doc: $doc,
                properties: &[COMMON_TASK, $($own),+],
            },
        }
    };
}

pub const LOG_TYPE: &str = "io.kestra.plugin.core.log.Log";
pub const RETURN_TYPE: &str = "io.kestra.plugin.core.debug.Return";
pub const ECHO_TYPE: &str = "io.kestra.plugin.core.debug.Echo";
pub const FETCH_TYPE: &str = "io.kestra.plugin.core.log.Fetch";
pub const WRITE_TYPE: &str = "io.kestra.plugin.core.storage.Write";
pub const SIZE_TYPE: &str = "io.kestra.plugin.core.storage.Size";
pub const DELETE_TYPE: &str = "io.kestra.plugin.core.storage.Delete";
pub const CONCAT_TYPE: &str = "io.kestra.plugin.core.storage.Concat";
pub const REVERSE_TYPE: &str = "io.kestra.plugin.core.storage.Reverse";
pub const SPLIT_TYPE: &str = "io.kestra.plugin.core.storage.Split";

/// `uri` of Size and Delete.
const STORAGE_URI: Property = ex(
    "\"{{ outputs.write.uri }}\"",
    required(
        "uri",
        Ty::Text,
        "The file: a `kestra://` URI of the local internal storage (rendered).",
    ),
);
pub const OUTPUT_VALUES_TYPE: &str = "io.kestra.plugin.core.output.OutputValues";
pub const FAIL_TYPE: &str = "io.kestra.plugin.core.execution.Fail";
pub const ASSERT_TYPE: &str = "io.kestra.plugin.core.execution.Assert";
pub const LABELS_TYPE: &str = "io.kestra.plugin.core.execution.Labels";
pub const EXIT_TYPE: &str = "io.kestra.plugin.core.execution.Exit";
pub const SLEEP_TYPE: &str = "io.kestra.plugin.core.flow.Sleep";
pub const PURGE_FILES_TYPE: &str = "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles";
pub const LOCAL_FILES_TYPE: &str = "io.kestra.plugin.core.storage.LocalFiles";
pub const HTTP_REQUEST_TYPE: &str = "io.kestra.plugin.core.http.Request";
pub const HTTP_DOWNLOAD_TYPE: &str = "io.kestra.plugin.core.http.Download";

/// Kestra's HTTP methods (Micronaut's `HttpMethod`, less CUSTOM).
pub const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
];

/// `options` of the http tasks (Kestra's `RequestOptions`).
pub static HTTP_OPTIONS: Object = Object {
    kind: "httpOptions",
    title: "HTTP request options",
    doc: "Timeouts, redirects and basic authentication of an HTTP task.",
    properties: &[&[
        ex(
            "PT5S",
            read(
                "connectTimeout",
                Ty::Duration,
                "The longest to wait for the connection (ISO-8601).",
            ),
        ),
        ex(
            "PT30S",
            with_default(
                "readTimeout",
                Ty::Duration,
                "\"PT10S\"",
                "The longest to wait for the response (ISO-8601).",
            ),
        ),
        ex(
            "true",
            with_default(
                "followRedirects",
                Ty::Bool,
                "true",
                "Whether redirects are followed (at most 10).",
            ),
        ),
        ex(
            "user",
            read(
                "basicAuthUser",
                Ty::Text,
                "The user of HTTP basic authentication (with `basicAuthPassword`).",
            ),
        ),
        ex(
            "\"{{ secret('HTTP_PASSWORD') }}\"",
            read(
                "basicAuthPassword",
                Ty::Text,
                "The password of HTTP basic authentication; use `{{ secret('NAME') }}`.",
            ),
        ),
        ex(
            "PT5M",
            ignored("readIdleTimeout", "each request has its own connection"),
        ),
        ex(
            "PT30S",
            ignored(
                "connectionPoolIdleTimeout",
                "each request has its own connection",
            ),
        ),
        ex(
            "10485760",
            ignored("maxContentLength", "responses are not limited in size"),
        ),
        ex(
            "UTF-8",
            ignored("defaultCharset", "the response's own charset is used"),
        ),
        ex(
            "[REQUEST_HEADERS]",
            ignored("logLevel", "requests are not logged"),
        ),
        refused("proxyType", "proxies are not supported"),
        refused("proxyAddress", "proxies are not supported"),
        refused("proxyPort", "proxies are not supported"),
        refused("proxyUsername", "proxies are not supported"),
        refused("proxyPassword", "proxies are not supported"),
    ]],
};

/// The properties both http tasks have (Kestra's `AbstractHttp`).
const HTTP_COMMON: &[Property] = &[
    ex(
        "http://127.0.0.1:8080/api/items",
        required(
            "uri",
            Ty::Text,
            "The URL (http or https); may use `{{ ... }}` expressions.",
        ),
    ),
    ex(
        "POST",
        with_default(
            "method",
            Ty::Enum(HTTP_METHODS),
            "\"GET\"",
            "The HTTP method.",
        ),
    ),
    ex(
        "\"{\\\"id\\\": \\\"{{ flow.id }}\\\"}\"",
        read(
            "body",
            Ty::Text,
            "The request body as text (sent as `application/json` unless `contentType` says otherwise).",
        ),
    ),
    ex(
        "{name: \"{{ flow.id }}\"}",
        read(
            "formData",
            Ty::StringMap,
            "Form fields, sent as `application/x-www-form-urlencoded` (instead of `body`).",
        ),
    ),
    ex(
        "application/json",
        read("contentType", Ty::Text, "The request's `Content-Type`."),
    ),
    ex(
        "{X-Team: data}",
        read(
            "headers",
            Ty::StringMap,
            "Request headers; values may use `{{ ... }}` expressions.",
        ),
    ),
    read("options", Ty::Object(&HTTP_OPTIONS), "Request options."),
    ex(
        "false",
        with_default(
            "allowFailed",
            Ty::Bool,
            "false",
            "When true, a response code of 400 or more does not fail the task.",
        ),
    ),
    refused(
        "sslOptions",
        "TLS options are not supported; certificates are checked against the system's roots",
    ),
];

pub const KV_SET_TYPE: &str = "io.kestra.plugin.core.kv.Set";
pub const KV_GET_TYPE: &str = "io.kestra.plugin.core.kv.Get";
pub const KV_DELETE_TYPE: &str = "io.kestra.plugin.core.kv.Delete";
pub const KV_GET_KEYS_TYPE: &str = "io.kestra.plugin.core.kv.GetKeys";

/// `namespace` of the kv tasks.
const KV_NAMESPACE: Property = ex(
    "company.team",
    with_default(
        "namespace",
        Ty::Text,
        "\"{{ flow.namespace }}\"",
        "The namespace of the key; by default the flow's. Each namespace is a directory of the local store under the state directory.",
    ),
);

const KV_KEY: Property = ex(
    "my_key",
    required(
        "key",
        Ty::Text,
        "The key: a letter or digit, then letters, digits, `.`, `_` and `-` (Kestra's rule); may use `{{ ... }}` expressions.",
    ),
);

const KV_ERROR_ON_MISSING: Property = ex(
    "false",
    with_default(
        "errorOnMissing",
        Ty::Bool,
        "false",
        "When true, a key that does not exist fails the task.",
    ),
);

pub const NS_UPLOAD_TYPE: &str = "io.kestra.plugin.core.namespace.UploadFiles";
pub const NS_DOWNLOAD_TYPE: &str = "io.kestra.plugin.core.namespace.DownloadFiles";
pub const NS_DELETE_TYPE: &str = "io.kestra.plugin.core.namespace.DeleteFiles";

/// `files` of DownloadFiles and DeleteFiles (Kestra's `PathMatcherPredicate`).
const NS_FILES: Property = ex(
    "[\"**.sql\", /scripts/main.py]",
    required(
        "files",
        Ty::TextOrStrings,
        "A glob or a list of globs over the namespace's files, each path starting with `/` (`/scripts/*.py`, `**.csv`); a glob starting with a letter or digit matches at any depth; `regex:` makes the rest a regular expression. May use `{{ ... }}` expressions.",
    ),
);

/// `namespace` of DownloadFiles and DeleteFiles.
const NS_NAMESPACE: Property = ex(
    "company.team",
    required(
        "namespace",
        Ty::Text,
        "The namespace whose files are read: its directory under the namespace files directory (`--namespace-files`).",
    ),
);

pub static TASK_TYPES: &[TaskType] = &[
    core!(
        LOG_TYPE,
        &["io.kestra.core.tasks.log.Log"],
        "Log a message",
        "Prints one or more messages as the task's log lines, at a log level.",
        &[
            ex(
                "[\"hello {{ flow.id }}\", second line]",
                required(
                    "message",
                    Ty::TextOrStrings,
                    "The message, or a list of messages, each printed as log lines; may use `{{ ... }}` expressions.",
                ),
            ),
            ex(
                "WARN",
                with_default(
                    "level",
                    Ty::Enum(&LogLevel::NAMES),
                    "\"INFO\"",
                    "The log level: TRACE, DEBUG, INFO, WARN or ERROR. Lines other than INFO show the level first; WARN and ERROR are marked `!` as stderr lines are.",
                ),
            ),
        ],
    ),
    core!(
        RETURN_TYPE,
        &["io.kestra.core.tasks.debugs.Return"],
        "Return a value",
        "Renders `format` into the output `value` (`{{ outputs.ID.value }}`).",
        &[ex(
            "\"{{ flow.namespace }}\"",
            read(
                "format",
                Ty::Text,
                "The text to render; its result is the output `value`.",
            ),
        )],
    ),
    core!(
        ECHO_TYPE,
        &["io.kestra.core.tasks.debugs.Echo"],
        "Echo a message (deprecated)",
        "Kestra's deprecated form of `log.Log`: prints `format` rendered as one log line at `level` (a warning suggests `io.kestra.plugin.core.log.Log`).",
        &[
            ex(
                "\"{{ task.id }} > {{ taskrun.startDate }}\"",
                required(
                    "format",
                    Ty::Text,
                    "The message; may use `{{ ... }}` expressions.",
                ),
            ),
            ex(
                "WARN",
                with_default(
                    "level",
                    Ty::Enum(&LogLevel::NAMES),
                    "\"INFO\"",
                    "The log level, as `log.Log`'s.",
                ),
            ),
        ],
    ),
    core!(
        FETCH_TYPE,
        &["io.kestra.core.tasks.log.Fetch"],
        "Fetch the execution's logs",
        "Writes the kept log lines of an execution (this one by default) at or above `level` into a stored file, one JSON object a line (Kestra writes ION rows; JSON is ION text); outputs `uri` and `size` (the number of lines). Container stdout lines are INFO and stderr lines WARN, as Kestra logs them; a Log task's lines have their own level.",
        &[
            ex(
                "\"{{ execution.id }}\"",
                read(
                    "executionId",
                    Ty::Text,
                    "The execution whose logs are read (rendered): this one when not set, else one kept in the same state directory.",
                ),
            ),
            ex(
                "[hello]",
                read(
                    "tasksId",
                    Ty::Strings,
                    "Only the lines of these tasks (all tasks when not set).",
                ),
            ),
            ex(
                "ERROR",
                with_default(
                    "level",
                    Ty::Enum(&LogLevel::NAMES),
                    "\"INFO\"",
                    "The lowest level fetched: TRACE, DEBUG, INFO, WARN or ERROR.",
                ),
            ),
            ex(
                "company.team",
                read(
                    "namespace",
                    Ty::Text,
                    "Kestra's filter of the execution's namespace with `executionId`: read, not checked (one state directory holds the executions).",
                ),
            ),
            ex(
                "hello",
                read(
                    "flowId",
                    Ty::Text,
                    "Kestra's filter of the execution's flow with `executionId`: read, not checked.",
                ),
            ),
        ],
    ),
    core!(
        WRITE_TYPE,
        &[],
        "Write a file",
        "Writes `content` rendered to a file of the local internal storage; output `uri` is its `kestra://` URI (`read()` and a later task's `inputFiles` take it).",
        &[
            ex(
                "\"hello {{ flow.id }}\"",
                required(
                    "content",
                    Ty::Text,
                    "The file's content; may use `{{ ... }}` expressions.",
                ),
            ),
            ex(
                ".txt",
                with_default(
                    "extension",
                    Ty::Text,
                    "\".tmp\"",
                    "The file name's extension, with or without its dot (Kestra's temporary files end in `.tmp` without one).",
                ),
            ),
        ],
    ),
    core!(
        SIZE_TYPE,
        &["io.kestra.core.tasks.storages.Size"],
        "Size of a stored file",
        "Output `size`: the size in bytes of a file of the local internal storage.",
        &[STORAGE_URI],
    ),
    core!(
        DELETE_TYPE,
        &["io.kestra.core.tasks.storages.Delete"],
        "Delete a stored file",
        "Removes a file of the local internal storage; outputs `uri` and `deleted` (whether it was there).",
        &[
            STORAGE_URI,
            ex(
                "false",
                with_default(
                    "errorOnMissing",
                    Ty::Bool,
                    "false",
                    "When true, a file that is not there fails the task (`Unable to find file 'URI'`).",
                ),
            ),
        ],
    ),
    core!(
        CONCAT_TYPE,
        &["io.kestra.core.tasks.storages.Concat"],
        "Concatenate stored files",
        "Writes the `files` one after the other (with `separator` after each) to a new file of the local internal storage; output `uri`.",
        &[
            ex(
                "[\"{{ outputs.a.uri }}\", \"{{ outputs.b.uri }}\"]",
                required(
                    "files",
                    Ty::TextOrStrings,
                    "The `kestra://` URIs: a list, or a text that renders to a JSON list.",
                ),
            ),
            ex(
                "\"\\n\"",
                read(
                    "separator",
                    Ty::Text,
                    "Written after each file; none by default.",
                ),
            ),
            ex(
                ".csv",
                with_default(
                    "extension",
                    Ty::Text,
                    "\".tmp\"",
                    "The new file's extension.",
                ),
            ),
        ],
    ),
    core!(
        REVERSE_TYPE,
        &["io.kestra.core.tasks.storages.Reverse"],
        "Reverse a stored file's lines",
        "Writes the lines of `from` last first, each followed by `separator`, to a new file of the local internal storage (with `from`'s extension); output `uri`.",
        &[
            ex(
                "\"{{ outputs.write.uri }}\"",
                required("from", Ty::Text, "The file: a `kestra://` URI (rendered).",),
            ),
            ex(
                "\"\\n\"",
                with_default("separator", Ty::Text, "\"\\n\"", "Written after each line.",),
            ),
            ex(
                "UTF-8",
                with_default(
                    "charset",
                    Ty::Text,
                    "\"UTF-8\"",
                    "The file's charset: only UTF-8 is supported.",
                ),
            ),
        ],
    ),
    core!(
        SPLIT_TYPE,
        &["io.kestra.core.tasks.storages.Split"],
        "Split a stored file",
        "Splits the lines of `from` into new files of the local internal storage (with `from`'s extension), each line followed by `separator`: every `rows` lines, every `bytes`, or round-robin into `partitions` (empty ones left out); output `uris`, in order.",
        &[
            ex(
                "\"{{ outputs.write.uri }}\"",
                required("from", Ty::Text, "The file: a `kestra://` URI (rendered).",),
            ),
            ex(
                "1MB",
                read(
                    "bytes",
                    Ty::Scalar,
                    "A new file starts once one holds this many bytes (`10KB`, `1MB`: 1024-based).",
                ),
            ),
            ex(
                "4",
                read(
                    "partitions",
                    Ty::Scalar,
                    "This many files, the lines dealt out in turn.",
                ),
            ),
            ex(
                "1000",
                read("rows", Ty::Scalar, "A new file every this many lines.",),
            ),
            ex(
                "\"\\n\"",
                with_default("separator", Ty::Text, "\"\\n\"", "Written after each line.",),
            ),
        ],
    ),
    core!(
        OUTPUT_VALUES_TYPE,
        &[],
        "Output values",
        "Outputs `values` as they are written, every string in them rendered (`{{ outputs.ID.values.NAME }}`).",
        &[ex(
            "{a: \"{{ flow.id }}\", n: 3, list: [1, 2]}",
            read(
                "values",
                Ty::AnyMap,
                "The values, by name: strings, numbers, lists or maps; strings may use `{{ ... }}` expressions.",
            ),
        )],
    ),
    core!(
        FAIL_TYPE,
        &["io.kestra.core.tasks.executions.Fail"],
        "Fail the execution",
        "Ends the task FAILED with `errorMessage` (with `condition`, only when it renders truthy), which stops the flow.",
        &[
            ex(
                "\"{{ 1 == 2 }}\"",
                read(
                    "condition",
                    Ty::Text,
                    "When set, the task fails only if this renders truthy (anything but `false`, `0`, `-0` and the empty text, once trimmed).",
                ),
            ),
            ex(
                "Something went wrong",
                with_default(
                    "errorMessage",
                    Ty::Text,
                    "\"Task failure\"",
                    "Why the task fails; may use `{{ ... }}` expressions.",
                ),
            ),
        ],
    ),
    core!(
        ASSERT_TYPE,
        &[],
        "Assert conditions",
        "Renders each condition; the task fails (after an error line per falsy one) when any is falsy.",
        &[
            ex(
                "[\"{{ 1 + 1 == 2 }}\"]",
                required(
                    "conditions",
                    Ty::NonEmptyStrings,
                    "The conditions, each an expression that must render truthy (not `false`, `0`, `-0` or empty, once trimmed).",
                ),
            ),
            ex(
                "The checks failed",
                read(
                    "errorMessage",
                    Ty::Text,
                    "Added to the failure message on a line of its own.",
                ),
            ),
        ],
    ),
    core!(
        LABELS_TYPE,
        &["io.kestra.core.tasks.executions.Labels"],
        "Add execution labels",
        "Adds labels to the execution (shown in the result and `--json` as the execution's `labels`).",
        &[ex(
            "{stage: \"{{ flow.id }}\"}",
            required(
                "labels",
                Ty::RenderedLabels,
                "A map of names to values, or a list of `{key, value}`; keys and values may use `{{ ... }}` expressions. Or one template (Kestra's string form) rendered to a JSON object of labels or a list of `{key, value}`. Names starting with `system.` are refused, as Kestra does.",
            ),
        )],
    ),
    core!(
        EXIT_TYPE,
        &[],
        "Exit the execution",
        "Ends the execution at this task, in `state`; the tasks after it do not run.",
        &[ex(
            "WARNING",
            with_default(
                "state",
                Ty::Enum(EXIT_STATES),
                "\"SUCCESS\"",
                "The state the task and the execution end in: SUCCESS, WARNING, FAILED, KILLED, or CANCELED (KILLED in dockhand, which has no CANCELLED state).",
            ),
        )],
    ),
    core!(
        SLEEP_TYPE,
        &[],
        "Sleep",
        "Waits for `duration`; Ctrl-C or SIGTERM stops it (KILLED).",
        &[ex(
            "PT0.1S",
            required(
                "duration",
                Ty::Duration,
                "How long to wait (ISO-8601, e.g. `PT5S`).",
            ),
        )],
    ),
    core!(
        HTTP_REQUEST_TYPE,
        &["io.kestra.plugin.fs.http.Request"],
        "HTTP request",
        "Sends an HTTP request; outputs `code`, `headers` (name to list of values), `body` (text) and `uri`.",
        HTTP_COMMON,
        &[refused(
            "encryptBody",
            "the body is kept in the outputs as it is; there is no encryption key",
        )],
    ),
    core!(
        HTTP_DOWNLOAD_TYPE,
        &["io.kestra.plugin.fs.http.Download"],
        "HTTP download",
        "Downloads the response body to a file of the execution (under the work directory); outputs `uri` (its `file://` URL), `code`, `length` and `headers`.",
        HTTP_COMMON,
        &[ex(
            "true",
            with_default(
                "failOnEmptyResponse",
                Ty::Bool,
                "true",
                "When true, an empty body fails the task (unless `allowFailed`).",
            ),
        )],
    ),
    core!(
        PURGE_FILES_TYPE,
        &[
            "io.kestra.core.tasks.storages.PurgeExecution",
            "io.kestra.plugin.core.storage.PurgeExecution",
        ],
        "Purge the execution's files",
        "Removes the files this execution stored (output files, downloads: everything under `WORK_DIR/EXECUTION/`); output `uris` lists them.",
        &[],
    ),
    core!(
        LOCAL_FILES_TYPE,
        &["io.kestra.core.tasks.storages.LocalFiles"],
        "Local files (legacy)",
        "Writes `inputs` as files in the task's working directory and hands out the files matching `outputs` (output `uris`: name to `file://` URL).",
        &[
            ex(
                "{data.txt: \"{{ flow.id }}\"}",
                read(
                    "inputs",
                    Ty::NamedMap(Names::RelativePath),
                    "The files to write: path relative to the working directory to content; contents may use `{{ ... }}` expressions.",
                ),
            ),
            ex(
                "[\"*.txt\"]",
                read(
                    "outputs",
                    Ty::List(Names::RelativePath),
                    "Globs of the files to hand out, relative to the working directory (`*.csv`, `out/**`).",
                ),
            ),
        ],
    ),
    core!(
        NS_UPLOAD_TYPE,
        &[],
        "Upload namespace files",
        "Writes files of the working directory (`files` globs) and files named by URI (`filesMap`) into a namespace's files, the local namespace files directory.",
        &[
            ex(
                "company.team",
                with_default(
                    "namespace",
                    Ty::Text,
                    "\"{{ flow.namespace }}\"",
                    "The namespace the files go to (its directory under `--namespace-files`).",
                ),
            ),
            ex(
                "[\"**.py\"]",
                read(
                    "files",
                    Ty::Strings,
                    "Globs over the task's working directory (a WorkingDirectory's shared one); each file keeps its path under `destination`.",
                ),
            ),
            ex(
                "{/scripts/main.py: \"{{ outputs.t.outputFiles['main.py'] }}\"}",
                read(
                    "filesMap",
                    Ty::Any,
                    "Target path to file URI (`kestra://`, `nsfile://`, `file://` under an allowed path), or one expression rendering such a map as JSON; a URI with no file is skipped.",
                ),
            ),
            ex(
                "/scripts",
                with_default(
                    "destination",
                    Ty::Text,
                    "\"/\"",
                    "The folder of the namespace the files go under.",
                ),
            ),
            ex(
                "SKIP",
                with_default(
                    "conflict",
                    Ty::Enum(&crate::flow::namespace_tasks::Conflict::NAMES),
                    "\"OVERWRITE\"",
                    "When the file exists: OVERWRITE it, fail (ERROR), or keep it (SKIP).",
                ),
            ),
        ],
    ),
    core!(
        NS_DOWNLOAD_TYPE,
        &[],
        "Download namespace files",
        "Stores a namespace's files matching `files` as files of the execution; output `files`: each file's path (with a leading `/`) to its `kestra://` URI.",
        &[
            NS_NAMESPACE,
            NS_FILES,
            ex(
                "downloaded",
                with_default(
                    "destination",
                    Ty::Text,
                    "\"\"",
                    "A folder of the execution's storage the files are stored under.",
                ),
            ),
        ],
    ),
    core!(
        NS_DELETE_TYPE,
        &[],
        "Delete namespace files",
        "Removes a namespace's files matching `files` from the local namespace files directory.",
        &[
            NS_NAMESPACE,
            NS_FILES,
            ex(
                "true",
                with_default(
                    "deleteParentFolder",
                    Ty::Bool,
                    "false",
                    "Also remove the folders the deleted files leave empty.",
                ),
            ),
        ],
    ),
    core!(
        KV_SET_TYPE,
        &[],
        "Set a KV entry",
        "Stores a value under a key of the local key-value store (one file per key under the state directory), read back by `kv.Get` and `{{ kv('KEY') }}`.",
        &[
            KV_NAMESPACE,
            KV_KEY,
            ex(
                "\"{{ flow.id }}\"",
                required(
                    "value",
                    Ty::Any,
                    "The value; a text is rendered, then converted as `kvType` says.",
                ),
            ),
            ex(
                "STRING",
                read(
                    "kvType",
                    Ty::Enum(&KvType::NAMES),
                    "How a text value is stored: STRING (as it is), NUMBER, BOOLEAN, JSON (parsed), DATETIME, DATE, DURATION (checked, kept as text).",
                ),
            ),
            ex(
                "true",
                with_default(
                    "overwrite",
                    Ty::Bool,
                    "true",
                    "When false, a key that exists already fails the task.",
                ),
            ),
            ex(
                "P30D",
                read(
                    "ttl",
                    Ty::Duration,
                    "How long the entry lives (ISO-8601); then it reads as missing.",
                ),
            ),
        ],
    ),
    core!(
        KV_GET_TYPE,
        &[],
        "Get a KV entry",
        "Reads a key of the local key-value store into the output `value` (null when missing).",
        &[KV_NAMESPACE, KV_KEY, KV_ERROR_ON_MISSING],
    ),
    core!(
        KV_DELETE_TYPE,
        &[],
        "Delete a KV entry",
        "Removes a key of the local key-value store; output `deleted` says whether it was there.",
        &[KV_NAMESPACE, KV_KEY, KV_ERROR_ON_MISSING],
    ),
    core!(
        KV_GET_KEYS_TYPE,
        &[],
        "List KV keys",
        "Lists the keys of a namespace of the local key-value store into the output `keys` (sorted).",
        &[
            KV_NAMESPACE,
            ex(
                "my_",
                read("prefix", Ty::Text, "Only keys starting with this text.",),
            ),
        ],
    ),
];
