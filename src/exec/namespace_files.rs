//! `namespaceFiles`: which files of the local namespace files directory go into a task's
//! working directory (Kestra's include/exclude globs, namespaces in order, ifExists,
//! folderPerNamespace). A script task gets them as input files (so they reach a container the
//! way input files do, with either file handling strategy), before its own `inputFiles`, which
//! win; a WorkingDirectory gets them copied into its shared directory.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use crate::exec::files::glob_match;
use crate::exec::storage::Storage;
use crate::flow::model::{IfExists, NamespaceFiles, ScriptTask};

/// The files chosen: path in the working directory → file on the host; and warnings.
pub type Chosen = (BTreeMap<String, Utf8PathBuf>, Vec<String>);

/// Chooses the namespace files of `nf` for a flow of namespace `flow_ns`.
pub fn choose(storage: &Storage, nf: &NamespaceFiles, flow_ns: &str) -> Result<Chosen, String> {
    let namespaces: Vec<&str> = if nf.namespaces.is_empty() {
        vec![flow_ns]
    } else {
        nf.namespaces.iter().map(String::as_str).collect()
    };
    let mut chosen: BTreeMap<String, Utf8PathBuf> = BTreeMap::new();
    let mut warnings = Vec::new();
    for ns in namespaces {
        let dir = storage.namespace_files.join(ns);
        for (rel, path) in regular_files(&dir) {
            let wanted = nf.include.is_empty() || nf.include.iter().any(|g| glob_match(g, &rel));
            if !wanted || nf.exclude.iter().any(|g| glob_match(g, &rel)) {
                continue;
            }
            let target = if nf.folder_per_namespace {
                format!("{ns}/{rel}")
            } else {
                rel
            };
            match (chosen.contains_key(&target), nf.if_exists) {
                (false, _) | (true, IfExists::Overwrite) => {
                    chosen.insert(target, path);
                }
                (true, IfExists::Fail) => {
                    return Err(format!(
                        "namespace file {target} of {ns} is also in an earlier namespace (ifExists: FAIL)"
                    ));
                }
                (true, IfExists::Warn) => warnings.push(format!(
                    "namespace file {target} of {ns} is also in an earlier namespace: the first is kept (ifExists: WARN)"
                )),
                (true, IfExists::Ignore) => {}
            }
        }
    }
    Ok((chosen, warnings))
}

/// Regular files under `dir` (links skipped), with their paths relative to it, sorted.
pub(crate) fn regular_files(dir: &Utf8Path) -> Vec<(String, Utf8PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = d.read_dir_utf8() else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path().to_path_buf());
            } else if ft.is_file()
                && let Ok(rel) = e.path().strip_prefix(dir)
            {
                out.push((rel.to_string(), e.path().to_path_buf()));
            }
        }
    }
    out.sort();
    out
}

/// The task with its namespace files as input files (its own `inputFiles` of the same name
/// win). Their text is kept as it is: wrapped so that templates in it are not rendered, as
/// Kestra does not render namespace files.
pub fn with_namespace_files(
    storage: &Storage,
    script: &ScriptTask,
    flow_ns: &str,
) -> Result<(ScriptTask, Vec<String>), String> {
    let Some(nf) = &script.namespace_files else {
        return Ok((script.clone(), vec![]));
    };
    let (chosen, warnings) = choose(storage, nf, flow_ns)?;
    let mut s = script.clone();
    for (name, path) in chosen {
        if s.input_files.contains_key(&name) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("namespace file {path}: {e}"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("namespace file {path} is not UTF-8 text, which dockhand cannot pass as an input file yet"))?;
        s.input_files.insert(name, verbatim(&text));
    }
    Ok((s, warnings))
}

/// `text` as a template that renders to itself.
pub(crate) fn verbatim(text: &str) -> String {
    if text.contains('{') && !text.contains("{% endraw %}") {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_string()
    }
}

/// Copies the chosen namespace files into `dir` (a WorkingDirectory's).
pub fn copy_into(chosen: &BTreeMap<String, Utf8PathBuf>, dir: &Utf8Path) -> std::io::Result<()> {
    for (name, from) in chosen {
        let to = dir.join(name);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::copy(from, &to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_exclude_namespaces_and_if_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        for (ns, files) in [
            ("a", &["sql/q.sql", "sql/old.tmp", "readme.md"][..]),
            ("b", &["sql/q.sql", "b.py"][..]),
        ] {
            for f in files {
                let p = root.join("ns").join(ns).join(f);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, format!("{ns}:{f}")).unwrap();
            }
        }
        let storage = Storage::new(&root.join("state"), root.join("ns"), "a", vec![]);
        let nf =
            |include: &[&str], exclude: &[&str], nss: &[&str], if_exists, per_ns| NamespaceFiles {
                include: include.iter().map(|s| s.to_string()).collect(),
                exclude: exclude.iter().map(|s| s.to_string()).collect(),
                namespaces: nss.iter().map(|s| s.to_string()).collect(),
                if_exists,
                folder_per_namespace: per_ns,
            };
        let names = |c: &Chosen| c.0.keys().cloned().collect::<Vec<_>>();
        let all = choose(
            &storage,
            &nf(&[], &[], &[], IfExists::Overwrite, false),
            "a",
        )
        .unwrap();
        assert_eq!(names(&all), ["readme.md", "sql/old.tmp", "sql/q.sql"]);
        let some = choose(
            &storage,
            &nf(&["sql/**"], &["**/*.tmp"], &[], IfExists::Overwrite, false),
            "a",
        )
        .unwrap();
        assert_eq!(names(&some), ["sql/q.sql"]);
        let two = |if_exists| {
            choose(
                &storage,
                &nf(&["sql/*"], &["**/*.tmp"], &["a", "b"], if_exists, false),
                "a",
            )
        };
        let over = two(IfExists::Overwrite).unwrap();
        assert_eq!(over.0["sql/q.sql"], root.join("ns/b/sql/q.sql"));
        let warn = two(IfExists::Warn).unwrap();
        assert_eq!(warn.0["sql/q.sql"], root.join("ns/a/sql/q.sql"));
        assert_eq!(warn.1.len(), 1);
        assert_eq!(
            two(IfExists::Ignore).unwrap().0["sql/q.sql"],
            root.join("ns/a/sql/q.sql")
        );
        assert!(two(IfExists::Fail).unwrap_err().contains("ifExists: FAIL"));
        let per = choose(
            &storage,
            &nf(&["sql/q.sql"], &[], &["a", "b"], IfExists::Fail, true),
            "a",
        )
        .unwrap();
        assert_eq!(names(&per), ["a/sql/q.sql", "b/sql/q.sql"]);
        assert_eq!(
            verbatim("echo {{ x }}"),
            "{% raw %}echo {{ x }}{% endraw %}"
        );
        assert_eq!(verbatim("plain"), "plain");
    }
}
