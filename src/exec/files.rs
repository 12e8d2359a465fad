//! The task working directory on the host: created fresh, filled with `inputFiles`, searched
//! for `outputFiles` globs after the run, and pruned to those output files when the task's
//! container is removed.

use std::io;
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};

/// Creates the working directory and writes the input files. With `open` (a non-root `user`)
/// the directory is world-writable so the container user can write outputs into it.
pub fn prepare(
    workdir: &Utf8Path,
    files: &std::collections::BTreeMap<String, String>,
    open: bool,
) -> io::Result<()> {
    std::fs::create_dir_all(workdir)?;
    if open {
        std::fs::set_permissions(workdir, std::fs::Permissions::from_mode(0o777))?;
    }
    for (name, content) in files {
        let path = workdir.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
            if open {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))?;
            }
        }
        std::fs::write(&path, content)?;
        if open {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
        }
    }
    Ok(())
}

/// Does a relative path match a glob? `*` and `?` stay within one path component, `**` spans
/// any number of components.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match_parts(&p, &s)
}

fn match_parts(p: &[&str], s: &[&str]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((&"**", rest)) => (0..=s.len()).any(|i| match_parts(rest, &s[i..])),
        Some((first, rest)) => {
            !s.is_empty()
                && match_component(first.as_bytes(), s[0].as_bytes())
                && match_parts(rest, &s[1..])
        }
    }
}

fn match_component(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| match_component(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && match_component(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && match_component(rest, &s[1..]),
    }
}

/// Files under `workdir` matching any of the globs, as sorted absolute paths.
pub fn collect(workdir: &Utf8Path, globs: &[String]) -> Vec<Utf8PathBuf> {
    let mut out = Vec::new();
    if globs.is_empty() {
        return out;
    }
    let mut stack = vec![workdir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = dir.read_dir_utf8() else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path().to_path_buf();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(workdir)
                && globs.iter().any(|g| glob_match(g, rel.as_str()))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Removes a task's working directory once its container goes (`delete: true`), except the
/// output files the result hands out (`outputFiles`, absolute paths under `workdir`) and the
/// directories leading to them: those stay readable until `dockhand cleanup` removes the
/// ended execution. Symbolic links are removed, never followed. A missing directory is fine.
pub fn prune(workdir: &Utf8Path, keep: &[String]) -> io::Result<()> {
    let keep: std::collections::BTreeSet<&Utf8Path> =
        keep.iter().map(|k| Utf8Path::new(k.as_str())).collect();
    let gone = |e: io::Error| {
        if e.kind() == io::ErrorKind::NotFound {
            Ok(())
        } else {
            Err(e)
        }
    };
    if keep.is_empty() {
        return std::fs::remove_dir_all(workdir).or_else(gone);
    }
    fn walk(dir: &Utf8Path, keep: &std::collections::BTreeSet<&Utf8Path>) -> io::Result<()> {
        for e in dir.read_dir_utf8()? {
            let e = e?;
            let path = e.path();
            if e.file_type()?.is_dir() {
                walk(path, keep)?;
                // Still holding a kept file: not empty, stays.
                let _ = std::fs::remove_dir(path);
            } else if !keep.contains(path) {
                std::fs::remove_file(path)?;
            }
        }
        Ok(())
    }
    walk(workdir, &keep).or_else(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "d/a.txt"));
        assert!(glob_match("**/*.txt", "d/e/a.txt"));
        assert!(glob_match("**/*.txt", "a.txt"));
        assert!(glob_match("out/?.csv", "out/1.csv"));
        assert!(glob_match("result.json", "result.json"));
        assert!(!glob_match("result.json", "result.jsonx"));
    }

    #[test]
    fn collects_matching_files() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        let mut files = std::collections::BTreeMap::new();
        files.insert("in/a.txt".to_string(), "x".to_string());
        files.insert("b.csv".to_string(), "y".to_string());
        prepare(root, &files, false).unwrap();
        let got = collect(root, &["**/*.txt".to_string()]);
        assert_eq!(got, vec![root.join("in/a.txt")]);
    }

    #[test]
    fn prune_keeps_only_the_output_files() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap().join("task");
        let mut files = std::collections::BTreeMap::new();
        for f in [
            "in.txt",
            "sub/data.csv",
            "out/a.log",
            "out/deep/b.log",
            "out.txt",
        ] {
            files.insert(f.to_string(), "x".to_string());
        }
        prepare(&root, &files, false).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        let keep: Vec<String> = ["out/deep/b.log", "out.txt"]
            .iter()
            .map(|f| root.join(f).to_string())
            .collect();
        prune(&root, &keep).unwrap();
        let mut left: Vec<String> = collect(&root, &["**".to_string()])
            .iter()
            .map(|p| p.strip_prefix(&root).unwrap().to_string())
            .collect();
        left.sort();
        assert_eq!(left, ["out.txt", "out/deep/b.log"]);
        assert!(!root.join("sub").exists() && !root.join("link").exists());
        assert!(std::path::Path::new("/etc/passwd").exists());
        // No outputs: the directory goes; twice is fine.
        prune(&root, &[]).unwrap();
        assert!(!root.exists());
        prune(&root, &[]).unwrap();
    }
}
