//! The task working directory on the host: created fresh, filled with `inputFiles`, searched
//! for `outputFiles` globs after the run, and pruned to those output files when the task's
//! container is removed.

use std::io;
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};

use crate::plan::build::SecretFiles;

/// Creates the working directory and writes the input files. With `open` (a non-root `user`)
/// the directory is world-writable so the container user can write outputs into it. Files that
/// hold a secret are written only when `secret.on_host` (MOUNT), mode 0600 before any byte is
/// in them, then given to `secret.owner`.
pub fn prepare(
    workdir: &Utf8Path,
    files: &std::collections::BTreeMap<String, String>,
    open: bool,
    secret: &SecretFiles,
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
        if secret.holds(name) {
            if secret.on_host {
                write_private(&path, content, secret.owner).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("input file {name} (it holds a secret): {e}"),
                    )
                })?;
            }
            continue;
        }
        std::fs::write(&path, content)?;
        if open {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
        }
    }
    Ok(())
}

/// Writes a file only its owner can read: mode 0600 and, with `owner`, that uid (and gid)
/// before the content goes in, so it is never readable by anyone else, not even for a moment.
/// Giving a file away takes privilege (dockhand as root): without it the task cannot start.
fn write_private(
    path: &Utf8Path,
    content: &str,
    owner: Option<(u32, Option<u32>)>,
) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(&f, Some(uid), gid).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot give it to the task's user {uid} ({e}); that takes dockhand running as root, or use fileHandlingStrategy: VOLUME"),
            )
        })?;
    }
    f.set_len(0)?;
    f.write_all(content.as_bytes())
}

/// Does a relative path match a glob? `*` and `?` stay within one path component, `**` spans
/// any number of components, and Kestra's `{a,b}` and `[ab]` work as in Kestra (the `globset`
/// crate, with `/` literal). `./` and doubled slashes are ignored on both sides. A pattern that
/// is not a glob matches nothing.
///
/// As Kestra's (Java's `PathMatcher`), a `glob:` prefix is the default and a `regex:` one
/// makes the rest a regular expression the whole relative path must match.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    if let Some(re) = pattern.strip_prefix("regex:") {
        return regex::Regex::new(&format!("^(?:{re})$"))
            .is_ok_and(|r| r.is_match(&normalize(path)));
    }
    let pattern = pattern.strip_prefix("glob:").unwrap_or(pattern);
    matcher(pattern).is_some_and(|m| m.is_match(normalize(path)))
}

/// The glob with `.` and empty components dropped, compiled.
fn matcher(pattern: &str) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(&normalize(pattern))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Does one path component match one glob component?
fn match_component(p: &[u8], s: &[u8]) -> bool {
    let (Ok(p), Ok(s)) = (std::str::from_utf8(p), std::str::from_utf8(s)) else {
        return false;
    };
    matcher(p).is_some_and(|m| m.is_match(s))
}

/// Could a path below `path` match the glob? True when `path` matches a leading part of it
/// (`d` for `d/passwd`, anything for `**/x`).
fn leads_to(pattern: &str, path: &str) -> bool {
    // A regular expression may match below any directory: links on the way are judged.
    if pattern.starts_with("regex:") {
        return true;
    }
    let pattern = pattern.strip_prefix("glob:").unwrap_or(pattern);
    let p: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    fn go(p: &[&str], s: &[&str]) -> bool {
        if s.is_empty() {
            return !p.is_empty();
        }
        match p.split_first() {
            None => false,
            Some((&"**", _)) => true,
            Some((first, rest)) => {
                match_component(first.as_bytes(), s[0].as_bytes()) && go(rest, &s[1..])
            }
        }
    }
    go(&p, &s)
}

/// The output files of a task, and what matched a glob but is not handed out.
#[derive(Debug, Default, PartialEq)]
pub struct Collected {
    /// Regular files under `workdir` matching a glob, as sorted absolute paths.
    pub files: Vec<Utf8PathBuf>,
    /// Why each refused entry was left out, one sentence each (relative paths).
    pub refused: Vec<String>,
}

/// Files under `workdir` matching any of the globs. Only regular files inside the working
/// directory are handed out: the container wrote this directory, so a symbolic link in it (to
/// `/etc/shadow`, or a directory link to `/etc`) would hand a host file to whoever reads the
/// outputs. Such a link that a glob names (or leads through) is refused and removed from the
/// host's copy; other non-regular files (fifos, devices) are refused and left alone.
pub fn collect(workdir: &Utf8Path, globs: &[String]) -> Collected {
    let mut out = Collected::default();
    if globs.is_empty() {
        return out;
    }
    let Ok(root) = workdir.canonicalize_utf8() else {
        return out;
    };
    // Kestra's matching of output patterns (`flow::output_globs`); a prefixed pattern is
    // matched against the absolute path, so it may name a file below any directory.
    let patterns: Vec<_> = globs
        .iter()
        .map(|g| crate::flow::output_globs::OutputPattern::new(g))
        .collect();
    let wanted = |rel: &str| patterns.iter().any(|p| p.matches(root.as_str(), rel));
    let leads = |rel: &str| {
        globs
            .iter()
            .zip(&patterns)
            .any(|(g, p)| p.is_absolute() || leads_to(g, rel))
    };
    let mut stack = vec![workdir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = dir.read_dir_utf8() else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path().to_path_buf();
            // The entry itself, not what a link points to.
            let Ok(ft) = e.file_type() else { continue };
            let Ok(rel) = path.strip_prefix(workdir).map(|r| r.as_str().to_string()) else {
                continue;
            };
            if ft.is_symlink() {
                if wanted(&rel) || leads(&rel) {
                    let to = std::fs::read_link(&path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_else(|_| "?".into());
                    let gone = std::fs::remove_file(&path).is_ok();
                    out.refused.push(format!(
                        "output file {rel} is a symbolic link (to {to}): not handed out{}",
                        if gone {
                            ", and removed from the working directory"
                        } else {
                            ""
                        }
                    ));
                }
            } else if ft.is_dir() {
                stack.push(path);
            } else if wanted(&rel) {
                // A regular file whose real path is inside the working directory.
                let inside = path
                    .canonicalize_utf8()
                    .is_ok_and(|real| real.starts_with(&root));
                if !ft.is_file() {
                    out.refused.push(format!(
                        "output file {rel} is not a regular file: not handed out"
                    ));
                } else if !inside {
                    out.refused.push(format!(
                        "output file {rel} resolves outside the working directory: not handed out"
                    ));
                } else {
                    out.files.push(path);
                }
            }
        }
    }
    out.files.sort();
    out.refused.sort();
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
    #[test]
    fn glob_and_regex_prefixes_as_kestra() {
        use super::glob_match;
        let cases = [
            ("glob:*.txt", "a.txt", true),
            ("glob:*.txt", "d/a.txt", false),
            ("glob:**/*.txt", "d/e/a.txt", true),
            ("regex:.*\\.csv", "d/e/a.csv", true),
            ("regex:.*\\.csv", "d/e/a.csv.bak", false),
            ("regex:out/[0-9]+\\.json", "out/12.json", true),
            ("regex:out/[0-9]+\\.json", "out/x.json", false),
            ("regex:(", "a", false),
            ("{a,b}.txt", "b.txt", true),
            ("[ab].txt", "c.txt", false),
        ];
        for (p, path, want) in cases {
            assert_eq!(glob_match(p, path), want, "{p} {path}");
        }
    }

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
        assert!(glob_match("./out//?.csv", "out/1.csv"));
        // Kestra's alternatives and character classes.
        assert!(glob_match("*.{csv,json}", "a.json"));
        assert!(glob_match("out/{a,b}/*.txt", "out/b/x.txt"));
        assert!(!glob_match("*.{csv,json}", "a.txt"));
        assert!(glob_match("report[12].txt", "report2.txt"));
        assert!(!glob_match("report[12].txt", "report3.txt"));
        assert!(glob_match("**/*.[ct]sv", "d/e/a.tsv"));
        // `*` still stops at a slash inside alternatives.
        assert!(!glob_match("{*.txt,x}", "d/a.txt"));
    }

    #[test]
    fn collects_matching_files() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        let mut files = std::collections::BTreeMap::new();
        files.insert("in/a.txt".to_string(), "x".to_string());
        files.insert("b.csv".to_string(), "y".to_string());
        prepare(root, &files, false, &SecretFiles::default()).unwrap();
        let got = collect(root, &["**/*.txt".to_string()]);
        assert_eq!(got.files, vec![root.join("in/a.txt")]);
        assert!(got.refused.is_empty());
    }

    #[test]
    fn files_holding_a_secret_are_private_or_not_written() {
        use std::os::unix::fs::MetadataExt;
        let files: std::collections::BTreeMap<String, String> = [
            ("tok.txt".to_string(), "hunter22".to_string()),
            ("plain.txt".to_string(), "x".to_string()),
        ]
        .into();
        for on_host in [true, false] {
            let d = tempfile::tempdir().unwrap();
            let root = Utf8Path::from_path(d.path()).unwrap();
            // An earlier, readable copy is made private before it gets the content.
            std::fs::write(root.join("tok.txt"), "old").unwrap();
            std::fs::set_permissions(root.join("tok.txt"), std::fs::Permissions::from_mode(0o644))
                .unwrap();
            let secret = SecretFiles {
                names: vec!["tok.txt".into()],
                owner: None,
                on_host,
            };
            prepare(root, &files, true, &secret).unwrap();
            let m = std::fs::metadata(root.join("tok.txt")).unwrap();
            if on_host {
                assert_eq!(m.mode() & 0o777, 0o600);
                assert_eq!(
                    std::fs::read_to_string(root.join("tok.txt")).unwrap(),
                    "hunter22"
                );
            } else {
                assert_eq!(
                    std::fs::read_to_string(root.join("tok.txt")).unwrap(),
                    "old"
                );
            }
            let p = std::fs::metadata(root.join("plain.txt")).unwrap();
            assert_eq!(p.mode() & 0o777, 0o666);
        }
    }

    #[test]
    fn links_out_of_the_working_directory_are_refused_and_removed() {
        let d = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(d.path()).unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("shadow");
        std::fs::write(&secret, "host secret").unwrap();
        std::os::unix::fs::symlink(&secret, root.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("d")).unwrap();
        std::fs::write(root.join("ok.txt"), "fine").unwrap();
        // A link to a file inside is refused too: only regular files are handed out.
        std::os::unix::fs::symlink(root.join("ok.txt"), root.join("alias.txt")).unwrap();
        let globs = ["*.txt", "d/shadow", "unrelated/x"].map(String::from);
        let got = collect(root, &globs);
        assert_eq!(got.files, vec![root.join("ok.txt")]);
        assert_eq!(got.refused.len(), 3, "{:?}", got.refused);
        assert!(
            got.refused
                .iter()
                .any(|r| r.starts_with("output file leak.txt is a symbolic link"))
        );
        assert!(
            got.refused
                .iter()
                .any(|r| r.starts_with("output file d is a symbolic link"))
        );
        for l in ["leak.txt", "d", "alias.txt"] {
            assert!(
                std::fs::symlink_metadata(root.join(l)).is_err(),
                "{l} removed"
            );
        }
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host secret");
        // A link no glob names is left alone.
        std::os::unix::fs::symlink(&secret, root.join("other")).unwrap();
        assert!(collect(root, &globs).refused.is_empty());
        assert!(
            leads_to("**/x", "a/b")
                && leads_to("d/*", "d")
                && !leads_to("d", "d")
                && !leads_to("e/x", "d")
        );
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
        prepare(&root, &files, false, &SecretFiles::default()).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        let keep: Vec<String> = ["out/deep/b.log", "out.txt"]
            .iter()
            .map(|f| root.join(f).to_string())
            .collect();
        prune(&root, &keep).unwrap();
        let mut left: Vec<String> = collect(&root, &["**".to_string()])
            .files
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
