//! Kestra's namespace file tasks on the local namespace files directory (namespace `a.b`'s
//! files are `NAMESPACE_FILES/a.b/…`, the directory `namespaceFiles` reads): UploadFiles writes
//! into it, DownloadFiles stores its files as files of the execution (output `files`, path →
//! `kestra://` URI), DeleteFiles removes from it.
//!
//! No path leaves the namespace's directory: a namespace name is a plain name, target paths
//! have no `..` or empty parts, and a symbolic link on the way (or at the target) is refused,
//! never followed. Listing skips links.

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value as Json, json};

use super::Done;
use super::log::print;
use crate::exec::Runtime;
use crate::flow::core_task::LogLevel;
use crate::flow::model::{Flow, Task};
use crate::flow::namespace_tasks::{Conflict, FilesMap, NamespaceTask};
use crate::plan::scope::TextRenderer;
use crate::plan::storage as names;

/// A namespace name that is a single directory name: a letter or digit first, then letters,
/// digits, `.`, `_` and `-`, no `..` (Kestra's namespaces are dotted names).
pub fn check_namespace(ns: &str) -> Result<(), String> {
    let ok = ns.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && ns
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !ns.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "namespace `{ns}` is not a namespace name (letters, digits, `.`, `_`, `-`)"
        ))
    }
}

/// Does a namespace file (`rel`, relative to the namespace's directory) match a pattern of
/// `files`, as Kestra's `PathMatcherPredicate` matches `/rel`: `regex:` is a regular expression
/// of the whole `/rel`; otherwise a glob (`glob:` optional), which, starting with a letter or
/// digit, matches at any depth (`x.txt` is `**/x.txt`); `**` crosses folders.
pub fn matches(pattern: &str, rel: &str) -> bool {
    let rooted = format!("/{rel}");
    if let Some(re) = pattern.strip_prefix("regex:") {
        return regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(&rooted));
    }
    let p = pattern.strip_prefix("glob:").unwrap_or(pattern);
    let p = if p.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        format!("**/{p}")
    } else {
        p.to_string()
    };
    crate::exec::files::glob_match(&java_glob(&p), rel)
}

/// A Java glob as `files::glob_match` reads it: Java's `**` spans folders anywhere, globset's
/// only as a whole part, so `**x` is `**/*x`.
fn java_glob(p: &str) -> String {
    p.split('/')
        .map(|part| match part.strip_prefix("**") {
            Some(rest) if !rest.is_empty() => format!("**/*{rest}"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Does a file of the working directory (`rel`) match an UploadFiles glob? Kestra anchors
/// them at the working directory (`PathMatcherPredicate` with a base path).
fn matches_in_workdir(pattern: &str, rel: &str) -> bool {
    match pattern.strip_prefix("regex:") {
        Some(_) => crate::exec::files::glob_match(pattern, rel),
        None => {
            let p = pattern.strip_prefix("glob:").unwrap_or(pattern);
            crate::exec::files::glob_match(&java_glob(p), rel)
        }
    }
}

/// The path under the namespace's directory a file goes to: `destination` joined with `rel`,
/// with no `..`, `.` or empty part.
pub fn target(destination: &str, rel: &str) -> Result<String, String> {
    let joined = format!(
        "{}/{}",
        destination.trim_matches('/'),
        rel.trim_start_matches('/')
    );
    let joined = joined.trim_start_matches('/');
    names::relative_inside(joined)
        .map(str::to_string)
        .map_err(|_| format!("`{destination}` + `{rel}` is not a path inside the namespace"))
}

/// Regular files under `dir` (links skipped, not followed), relative to it, sorted.
fn regular_files(dir: &Utf8Path) -> Vec<String> {
    crate::exec::namespace_files::regular_files(dir)
        .into_iter()
        .map(|(rel, _)| rel)
        .collect()
}

/// Each text rendered.
fn render_all(r: &mut TextRenderer, texts: &[String]) -> Result<Vec<String>, String> {
    texts.iter().map(|t| r.text(t)).collect()
}

/// `dir/rel`, its folders made; an error when a part on the way (or the file) is a link, or a
/// part is not a folder.
fn safe_path(dir: &Utf8Path, rel: &str) -> Result<Utf8PathBuf, String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let mut at = dir.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let last = i + 1 == parts.len();
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{at} is a symbolic link: namespace files are never written through one"
                ));
            }
            Ok(m) if !last && !m.is_dir() => return Err(format!("{at} is not a folder")),
            Ok(m) if last && m.is_dir() => return Err(format!("{at} is a folder")),
            Ok(_) => {}
            Err(_) if !last => std::fs::create_dir(&at).map_err(|e| format!("{at}: {e}"))?,
            Err(_) => {}
        }
    }
    Ok(at)
}

/// The namespace's directory, its name checked.
fn ns_dir(rt: &Runtime, ns: &str) -> Result<Utf8PathBuf, String> {
    check_namespace(ns)?;
    let st = rt
        .storage
        .as_ref()
        .ok_or("no namespace files directory for this run")?;
    Ok(st.namespace_files.join(ns))
}

/// `run_id` names the run's stored files (`t.0` inside a ForEach, so values do not overwrite
/// each other's).
pub(super) fn run(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    run_id: &str,
    attempt: u32,
    t: &NamespaceTask,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    Ok(match t {
        NamespaceTask::Upload {
            namespace,
            files,
            files_map,
            destination,
            conflict,
        } => {
            let ns = match namespace {
                Some(n) => r.text(n)?,
                None => flow.namespace.clone(),
            };
            let files = render_all(r, files)?;
            let map = match files_map {
                None => BTreeMap::new(),
                Some(FilesMap::Map(m)) => m
                    .iter()
                    .map(|(k, v)| Ok((r.text(k)?, r.text(v)?)))
                    .collect::<Result<_, String>>()?,
                Some(FilesMap::Expression(e)) => {
                    let text = r.text(e)?;
                    match serde_json::from_str::<Json>(&text) {
                        Ok(Json::Object(m)) => m
                            .into_iter()
                            .map(|(k, v)| match v {
                                Json::String(s) => Ok((k, s)),
                                _ => Err("filesMap must be a Map<String, String>".to_string()),
                            })
                            .collect::<Result<_, _>>()?,
                        _ => {
                            return Ok(Done::failed(format!(
                                "filesMap `{text}` is not a JSON map of path to URI"
                            )));
                        }
                    }
                }
            };
            let destination = r.text(destination)?;
            match upload(rt, &task.id, &ns, &files, &map, &destination, *conflict) {
                Ok(()) => Done::success(),
                Err(e) => Done::failed(e),
            }
        }
        NamespaceTask::Download {
            namespace,
            files,
            destination,
        } => {
            let ns = r.text(namespace)?;
            let files = render_all(r, files)?;
            let destination = r.text(destination)?;
            let ids = (flow, rt.ctx.execution_id.as_str(), run_id, attempt);
            match download(rt, ids, &ns, &files, &destination) {
                Ok(out) => Done::with_outputs(BTreeMap::from([("files".into(), out)])),
                Err(e) => Done::failed(e),
            }
        }
        NamespaceTask::Delete {
            namespace,
            files,
            delete_parent_folder,
        } => {
            let ns = r.text(namespace)?;
            let files = render_all(r, files)?;
            match delete(rt, &task.id, &ns, &files, *delete_parent_folder) {
                Ok(()) => Done::success(),
                Err(e) => Done::failed(e),
            }
        }
    })
}

/// Writes `bytes` at `rel` of the namespace as `conflict` says; false when SKIP kept a file.
fn put(
    dir: &Utf8Path,
    ns: &str,
    rel: &str,
    bytes: &[u8],
    conflict: Conflict,
) -> Result<bool, String> {
    let to = safe_path(dir, rel)?;
    if to.exists() {
        match conflict {
            Conflict::Overwrite => {}
            Conflict::Error => {
                return Err(format!(
                    "File '/{rel}' already exists in namespace '{ns}' and conflict is set to ERROR"
                ));
            }
            Conflict::Skip => return Ok(false),
        }
    }
    // A temporary file renamed into place: a reader never sees half a file.
    let tmp = to.with_file_name(format!(
        ".{}.dockhand-{}",
        to.file_name().unwrap_or("f"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{tmp}: {e}"))?;
    std::fs::rename(&tmp, &to).map_err(|e| format!("{to}: {e}"))?;
    Ok(true)
}

fn upload(
    rt: &Runtime,
    task: &str,
    ns: &str,
    globs: &[String],
    map: &BTreeMap<String, String>,
    destination: &str,
    conflict: Conflict,
) -> Result<(), String> {
    let dir = ns_dir(rt, ns)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{dir}: {e}"))?;
    let mut done = 0;
    let say = |rel: &str, written: bool| {
        let verb = if written {
            "Uploaded"
        } else {
            "Kept (conflict SKIP)"
        };
        print(
            rt,
            task,
            LogLevel::Info,
            &format!("{verb} /{rel} in namespace {ns}"),
        );
    };
    if !globs.is_empty() {
        let wd = rt.ctx.workdir(task);
        for rel in regular_files(&wd) {
            if !globs.iter().any(|g| matches_in_workdir(g, &rel)) {
                continue;
            }
            let bytes = std::fs::read(wd.join(&rel)).map_err(|e| format!("{rel}: {e}"))?;
            let to = target(destination, &rel)?;
            let written = put(&dir, ns, &to, &bytes, conflict)?;
            say(&to, written);
            done += 1;
        }
    }
    let st = rt.storage.as_ref().ok_or("no storage for this run")?;
    for (path, uri) in map {
        let Some(u) = names::file_uri(uri) else {
            return Err(format!(
                "filesMap `{path}`: `{uri}` is not a file URI (kestra://, nsfile://, file://)"
            ));
        };
        let from = st.path_of(&u)?;
        // As Kestra: a URI with no file behind it is skipped.
        let Ok(bytes) = std::fs::read(&from) else {
            print(
                rt,
                task,
                LogLevel::Warn,
                &format!("{uri}: no such file, not uploaded"),
            );
            continue;
        };
        let to = target(destination, path)?;
        let written = put(&dir, ns, &to, &bytes, conflict)?;
        say(&to, written);
        done += 1;
    }
    if done == 0 {
        print(rt, task, LogLevel::Info, "No file to upload");
    }
    Ok(())
}

fn download(
    rt: &Runtime,
    (flow, execution, task, attempt): (&Flow, &str, &str, u32),
    ns: &str,
    globs: &[String],
    destination: &str,
) -> Result<Json, String> {
    let dir = ns_dir(rt, ns)?;
    let st = rt.storage.as_ref().ok_or("no storage for this run")?;
    let mut out = serde_json::Map::new();
    for rel in regular_files(&dir) {
        if !globs.iter().any(|g| matches(g, &rel)) {
            continue;
        }
        let name = target(destination, &rel)?;
        let uri = names::output_uri(&flow.namespace, &flow.id, execution, task, attempt, &name);
        let to = names::storage_path(&st.root, &uri)?;
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("{p}: {e}"))?;
        }
        std::fs::copy(dir.join(&rel), &to).map_err(|e| format!("{rel}: {e}"))?;
        out.insert(format!("/{rel}"), json!(uri));
    }
    print(
        rt,
        task,
        LogLevel::Info,
        &format!("Downloaded {} file(s) of namespace {ns}", out.len()),
    );
    Ok(Json::Object(out))
}

fn delete(
    rt: &Runtime,
    task: &str,
    ns: &str,
    globs: &[String],
    parents: bool,
) -> Result<(), String> {
    let dir = ns_dir(rt, ns)?;
    let mut folders = BTreeSet::new();
    let mut n = 0;
    for rel in regular_files(&dir) {
        if !globs.iter().any(|g| matches(g, &rel)) {
            continue;
        }
        std::fs::remove_file(dir.join(&rel)).map_err(|e| format!("{rel}: {e}"))?;
        n += 1;
        let mut p = Utf8Path::new(&rel).parent();
        while let Some(d) = p.filter(|d| !d.as_str().is_empty()) {
            folders.insert(d.to_string());
            p = d.parent();
        }
    }
    if parents {
        // Deepest first, and only those left empty (`remove_dir` refuses the others).
        let mut fs: Vec<&String> = folders.iter().collect();
        fs.sort_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
        for f in fs {
            let _ = std::fs::remove_dir(dir.join(f));
        }
    }
    print(
        rt,
        task,
        LogLevel::Info,
        &format!("Deleted {n} file(s) of namespace {ns}"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kestras_path_matcher() {
        #[rustfmt::skip]
        let cases = [
            // A glob starting with a name matches at any depth.
            ("input.txt", "input.txt", true),
            ("input.txt", "a/b/input.txt", true),
            ("input.txt", "a/xinput.txt", false),
            // `**x` crosses folders, as Java's `**`.
            ("**input.txt", "a/b/input.txt", true),
            ("**input.txt", "input.txt", true),
            ("**.sql", "q/x.sql", true),
            ("**", "a/b/c", true),
            // A rooted glob is anchored.
            ("/scripts/*.py", "scripts/main.py", true),
            ("/scripts/*.py", "x/scripts/main.py", false),
            ("/scripts/*.py", "scripts/sub/main.py", false),
            ("glob:/scripts/**", "scripts/sub/main.py", true),
            // regex: over `/path`.
            ("regex:/a/.*\\.txt", "a/b.txt", true),
            ("regex:a/.*", "a/b.txt", false),
        ];
        for (p, rel, want) in cases {
            assert_eq!(matches(p, rel), want, "{p} {rel}");
        }
        // UploadFiles' globs are anchored at the working directory.
        for (p, rel, want) in [
            ("**.txt", "sub/b.txt", true),
            ("*.txt", "sub/b.txt", false),
            ("*.txt", "a.txt", true),
            ("sub/*", "sub/b.txt", true),
            ("b.txt", "sub/b.txt", false),
        ] {
            assert_eq!(matches_in_workdir(p, rel), want, "{p} {rel}");
        }
    }

    #[test]
    fn targets_and_namespaces_stay_inside() {
        assert_eq!(target("/", "scripts/main.py").unwrap(), "scripts/main.py");
        assert_eq!(target("/", "/scripts/main.py").unwrap(), "scripts/main.py");
        assert_eq!(target("/dest/", "a.py").unwrap(), "dest/a.py");
        assert_eq!(target("", "a.py").unwrap(), "a.py");
        for (d, r) in [("/", "../x"), ("..", "x"), ("/a/../..", "x"), ("/", "")] {
            assert!(target(d, r).is_err(), "{d} {r}");
        }
        for ok in ["company.team", "dev", "a-b_c.9"] {
            check_namespace(ok).unwrap();
        }
        for bad in ["", "..", "a/b", "../x", ".hidden", "a..b", "a b"] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn writes_never_go_through_links() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        let ns = root.join("ns");
        let outside = root.join("outside");
        std::fs::create_dir_all(&ns).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, ns.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("f"), ns.join("flink")).unwrap();
        assert!(
            put(&ns, "n", "link/x.txt", b"x", Conflict::Overwrite)
                .unwrap_err()
                .contains("symbolic link")
        );
        assert!(
            put(&ns, "n", "flink", b"x", Conflict::Overwrite)
                .unwrap_err()
                .contains("symbolic link")
        );
        assert!(!outside.join("x.txt").exists() && !outside.join("f").exists());
        // Conflicts.
        assert!(put(&ns, "n", "d/a.txt", b"1", Conflict::Error).unwrap());
        assert!(
            put(&ns, "n", "d/a.txt", b"2", Conflict::Error)
                .unwrap_err()
                .contains("already exists")
        );
        assert!(!put(&ns, "n", "d/a.txt", b"3", Conflict::Skip).unwrap());
        assert_eq!(std::fs::read_to_string(ns.join("d/a.txt")).unwrap(), "1");
        assert!(put(&ns, "n", "d/a.txt", b"4", Conflict::Overwrite).unwrap());
        assert_eq!(std::fs::read_to_string(ns.join("d/a.txt")).unwrap(), "4");
        // Listing skips links.
        assert_eq!(regular_files(&ns), ["d/a.txt"]);
    }
}
