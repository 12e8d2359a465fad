//! Names in the local internal storage, pure: the `kestra://` URI of a task's output file (as
//! Kestra's `StorageContext` forms it: `kestra:///<namespace as a path>/<flow>/executions/<id>/
//! tasks/<task>/<taskrun>/<file>`), the host path a URI stands for, and the URIs an input file
//! value may be (`kestra://`, `nsfile://`, `file://`). The executor (`exec::storage`) does the
//! copying and reading.

use camino::{Utf8Path, Utf8PathBuf};

/// The URI of output file `name` (relative to the working directory) of a task attempt.
pub fn output_uri(
    namespace: &str,
    flow: &str,
    execution: &str,
    task: &str,
    attempt: u32,
    name: &str,
) -> String {
    format!(
        "kestra:///{}/{flow}/executions/{execution}/tasks/{task}/{attempt}/{name}",
        namespace.replace('.', "/")
    )
}

/// The path under `root` (the storage directory) that a `kestra://` URI names; an error for a
/// URI that is not one, or whose path would leave `root` (`..`, empty parts).
pub fn storage_path(root: &Utf8Path, uri: &str) -> Result<Utf8PathBuf, String> {
    let rest = uri
        .strip_prefix("kestra://")
        .ok_or_else(|| format!("`{uri}` is not a kestra:// URI"))?;
    let rest = rest.trim_start_matches('/');
    relative_inside(rest).map(|r| root.join(r))
}

/// `rel` as a relative path that stays where it is joined: no empty, `.` or `..` part.
pub fn relative_inside(rel: &str) -> Result<&str, String> {
    if rel.is_empty()
        || rel
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(format!("`{rel}` is not a path inside the storage"));
    }
    Ok(rel)
}

/// What a file URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileUri<'a> {
    /// `kestra://…`: a file of the local internal storage.
    Storage(&'a str),
    /// `nsfile:///path` (the flow's namespace) or `nsfile://NAMESPACE/path`.
    Namespace {
        namespace: Option<&'a str>,
        path: &'a str,
    },
    /// `file:///absolute/path` on the host (only under an allowed path).
    Host(&'a str),
}

/// The URI a value is, when the whole value (trimmed) is one; `None` for any other text.
pub fn file_uri(value: &str) -> Option<FileUri<'_>> {
    let v = value.trim();
    if v.is_empty() || v.contains(char::is_whitespace) {
        return None;
    }
    if v.starts_with("kestra://") {
        return Some(FileUri::Storage(v));
    }
    if let Some(rest) = v.strip_prefix("nsfile://") {
        let (ns, path) = rest.split_once('/').unwrap_or((rest, ""));
        return Some(FileUri::Namespace {
            namespace: (!ns.is_empty()).then_some(ns),
            path,
        });
    }
    if let Some(path) = v.strip_prefix("file://") {
        return Some(FileUri::Host(path));
    }
    None
}

/// The key under which a task's output files (name → URI) sit in the outputs map the planner
/// renders with, beside the task's own entry (its `vars`). Task ids hold no `.`, so it never
/// names a task.
pub fn files_key(task: &str) -> String {
    format!("{task}.outputFiles")
}

/// The task whose output files `key` holds, if it is a [`files_key`].
pub fn task_of_files_key(key: &str) -> Option<&str> {
    key.strip_suffix(".outputFiles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_kestras_and_stay_inside_the_storage() {
        let uri = output_uri("company.team", "etl", "e1", "extract", 2, "out/data.csv");
        assert_eq!(
            uri,
            "kestra:///company/team/etl/executions/e1/tasks/extract/2/out/data.csv"
        );
        let root = Utf8Path::new("/state/storage");
        assert_eq!(
            storage_path(root, &uri).unwrap(),
            "/state/storage/company/team/etl/executions/e1/tasks/extract/2/out/data.csv"
        );
        for bad in [
            "kestra:///a/../../etc/passwd",
            "kestra:///",
            "kestra:///a//b",
            "nsfile:///x",
            "kestra:///a/./b",
        ] {
            assert!(storage_path(root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_that_are_uris() {
        let cases = [
            (
                "kestra:///a/b.txt",
                Some(FileUri::Storage("kestra:///a/b.txt")),
            ),
            (
                " kestra:///a/b.txt\n",
                Some(FileUri::Storage("kestra:///a/b.txt")),
            ),
            (
                "nsfile:///scripts/etl.py",
                Some(FileUri::Namespace {
                    namespace: None,
                    path: "scripts/etl.py",
                }),
            ),
            (
                "nsfile://company.team/etl.py",
                Some(FileUri::Namespace {
                    namespace: Some("company.team"),
                    path: "etl.py",
                }),
            ),
            ("file:///data/in.csv", Some(FileUri::Host("/data/in.csv"))),
            ("see kestra:///a/b.txt", None),
            ("SELECT 1", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(file_uri(v), want, "{v:?}");
        }
        assert_eq!(task_of_files_key(&files_key("t1")), Some("t1"));
        assert_eq!(task_of_files_key("t1"), None);
    }
}
