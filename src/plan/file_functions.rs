//! What the `path` of Kestra's file functions (`fileExists`, `fileSize`, `isFileEmpty`,
//! `fileURI`, through `AbstractFileFunction`) names, and whether Kestra's open-source edition
//! lets the execution read it; pure, the executor (`exec::storage`) looks at the file.
//!
//! - `kestra:///…`: a file of the internal storage. Allowed when it belongs to the current
//!   execution (`kestra:///NS/AS/PATH/FLOW/executions/ID/…`), is one of the flow's namespace
//!   files (`kestra:///NS/AS/PATH/_files/…`), or is any execution's task file
//!   (`…/executions/…/tasks/…/…`: the namespace check that would follow is Kestra EE's, open in
//!   OSS); anything else is "not an execution file".
//! - `file://…`: a file on the host (under the allowed paths, checked by the executor).
//! - `nsfile://NAMESPACE/path`, `nsfile:///path`: a namespace file; the `namespace` argument and
//!   a namespace in the URI cannot both be given.
//! - any other scheme: "scheme not supported".
//! - no scheme: a namespace file of the `namespace` argument, else the flow's namespace.

/// The execution a file function is called from (Kestra reads them from `flow` and `execution`).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub namespace: &'a str,
    pub flow: &'a str,
    pub execution: &'a str,
}

/// A file a function's `path` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionFile {
    /// A `kestra://` URI of an execution's file (not a namespace file).
    Storage(String),
    /// A namespace file: its namespace and its path inside it (no leading `/`).
    Namespace { namespace: String, path: String },
    /// A host path (`file://` with the scheme taken off).
    Host(String),
}

const KESTRA: &str = "kestra:///";

/// The namespace files' prefix of `namespace` in the internal storage.
fn namespace_prefix(namespace: &str) -> String {
    format!("{KESTRA}{}/_files/", namespace.replace('.', "/"))
}

/// `scheme:` at the start (Kestra's `^[a-zA-Z][a-zA-Z0-9+.-]*:.*`).
fn has_scheme(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut c = scheme.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// Kestra's `EXECUTION_FILE` pattern, `.*/.*/executions/.*/tasks/.*/.*`, on the part after
/// `kestra:///`.
fn is_execution_file(rest: &str) -> bool {
    let Some(e) = rest.find("/executions/") else {
        return false;
    };
    e > 0
        && rest[..e].contains('/')
        && rest[e + 1..]
            .rfind("/tasks/")
            .is_some_and(|t| rest[e + 1 + t + "/tasks/".len()..].contains('/'))
}

/// What `path` (with the optional `namespace` argument) names when called from `c`.
pub fn resolve(path: &str, namespace: Option<&str>, c: Caller<'_>) -> Result<FunctionFile, String> {
    if let Some(rest) = path.strip_prefix(KESTRA) {
        let own = format!(
            "{KESTRA}{}/{}/executions/{}/",
            c.namespace.replace('.', "/"),
            c.flow,
            c.execution
        );
        if let Some(file) = path.strip_prefix(&namespace_prefix(c.namespace)) {
            return Ok(FunctionFile::Namespace {
                namespace: c.namespace.to_string(),
                path: file.to_string(),
            });
        }
        if path.starts_with(&own) || is_execution_file(rest) {
            return Ok(FunctionFile::Storage(path.to_string()));
        }
        return Err(format!(
            "Unable to read the file '{path}' as it is not an execution file"
        ));
    }
    if let Some(p) = path.strip_prefix("file://") {
        return Ok(FunctionFile::Host(p.to_string()));
    }
    if let Some(rest) = path.strip_prefix("nsfile://") {
        let (authority, p) = rest.split_once('/').unwrap_or((rest, ""));
        if namespace.is_some() && !authority.is_empty() {
            return Err(
                "You cannot set a namespace both as the function argument and inside the URI"
                    .into(),
            );
        }
        let ns = namespace
            .or((!authority.is_empty()).then_some(authority))
            .unwrap_or(c.namespace);
        return Ok(FunctionFile::Namespace {
            namespace: ns.to_string(),
            path: p.trim_start_matches('/').to_string(),
        });
    }
    if has_scheme(path) {
        return Err(format!(
            "Cannot process the URI {path}: scheme not supported."
        ));
    }
    Ok(FunctionFile::Namespace {
        namespace: namespace.unwrap_or(c.namespace).to_string(),
        path: path.trim_start_matches('/').to_string(),
    })
}

/// `fileURI(path)`: a `kestra://` or `file://` URI as given, a namespace file as its URI in the
/// internal storage (`kestra:///NS/AS/PATH/_files/PATH`, Kestra's `NamespaceFile.uri()`).
pub fn file_uri(path: &str, namespace: Option<&str>, c: Caller<'_>) -> Result<String, String> {
    Ok(match resolve(path, namespace, c)? {
        FunctionFile::Storage(u) => u,
        FunctionFile::Host(p) => format!("file://{p}"),
        FunctionFile::Namespace { namespace, path } => {
            if path.split('/').any(|p| p == "..") {
                return Err("Path must not contain '../'".into());
            }
            format!("{}{path}", namespace_prefix(&namespace))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Caller<'static> = Caller {
        namespace: "company.team",
        flow: "etl",
        execution: "e1",
    };

    fn ns(namespace: &str, path: &str) -> Result<FunctionFile, String> {
        Ok(FunctionFile::Namespace {
            namespace: namespace.into(),
            path: path.into(),
        })
    }

    /// Kestra's `AbstractFileFunction` dispatch, case by case (FileExistsFunctionTest,
    /// FileSizeFunctionTest and FileURIFunctionTest use these forms).
    #[test]
    fn paths_are_read_as_kestra_reads_them() {
        let own = "kestra:///company/team/etl/executions/e1/tasks/t/1/out.txt";
        let other = "kestra:///other/ns/flow2/executions/e9/tasks/t/1/x.csv";
        let rows: Vec<(&str, Option<&str>, Result<FunctionFile, String>)> = vec![
            (own, None, Ok(FunctionFile::Storage(own.into()))),
            // Another execution's task file: allowed in OSS (the namespace check is EE's).
            (other, None, Ok(FunctionFile::Storage(other.into()))),
            // The current execution's trigger files are its own.
            (
                "kestra:///company/team/etl/executions/e1/trigger/t/f",
                None,
                Ok(FunctionFile::Storage(
                    "kestra:///company/team/etl/executions/e1/trigger/t/f".into(),
                )),
            ),
            (
                "kestra:///company/team/_files/sql/q.sql",
                None,
                ns("company.team", "sql/q.sql"),
            ),
            (
                "kestra:///elsewhere/file.txt",
                None,
                Err("Unable to read the file 'kestra:///elsewhere/file.txt' as it is not an execution file".into()),
            ),
            (
                "file:///data/in.csv",
                None,
                Ok(FunctionFile::Host("/data/in.csv".into())),
            ),
            ("nsfile:///sql/q.sql", None, ns("company.team", "sql/q.sql")),
            ("nsfile://other.ns/q.sql", None, ns("other.ns", "q.sql")),
            ("nsfile:///q.sql", Some("other.ns"), ns("other.ns", "q.sql")),
            (
                "nsfile://a.b/q.sql",
                Some("other.ns"),
                Err("You cannot set a namespace both as the function argument and inside the URI".into()),
            ),
            ("sql/q.sql", None, ns("company.team", "sql/q.sql")),
            ("/sql/q.sql", Some("other.ns"), ns("other.ns", "sql/q.sql")),
            (
                "s3://bucket/key",
                None,
                Err("Cannot process the URI s3://bucket/key: scheme not supported.".into()),
            ),
            // `kestra://` with two slashes is not Kestra's storage prefix.
            (
                "kestra://x/y",
                None,
                Err("Cannot process the URI kestra://x/y: scheme not supported.".into()),
            ),
        ];
        for (path, namespace, want) in rows {
            assert_eq!(resolve(path, namespace, C), want, "{path} {namespace:?}");
        }
    }

    #[test]
    fn file_uris_are_kestras() {
        for (path, namespace, want) in [
            ("a/b.txt", None, Ok("kestra:///company/team/_files/a/b.txt")),
            (
                "/a/b.txt",
                None,
                Ok("kestra:///company/team/_files/a/b.txt"),
            ),
            ("b.txt", Some("x.y"), Ok("kestra:///x/y/_files/b.txt")),
            ("nsfile://x.y/b.txt", None, Ok("kestra:///x/y/_files/b.txt")),
            (
                "kestra:///company/team/etl/executions/e1/tasks/t/1/o",
                None,
                Ok("kestra:///company/team/etl/executions/e1/tasks/t/1/o"),
            ),
            ("file:///tmp/x", None, Ok("file:///tmp/x")),
            ("../secret", None, Err("Path must not contain '../'")),
        ] {
            assert_eq!(
                file_uri(path, namespace, C),
                want.map(String::from).map_err(String::from),
                "{path}"
            );
        }
    }
}
