//! The execution's files: `storage.PurgeCurrentExecutionFiles` removes what the execution
//! stored (everything under `WORK_DIR/EXECUTION/`: output files, downloads, local files), and
//! the legacy `storage.LocalFiles` writes files into its working directory and hands out those
//! its `outputs` globs match; `storage.Write` puts a text into a file of the local internal
//! storage and outputs its `kestra://` URI.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde_json::{Value as Json, json};

use super::Done;
use super::log::print;
use crate::exec::Runtime;
use crate::flow::core_task::{CoreTask, LogLevel};
use crate::plan::scope::TextRenderer;

/// Every regular file (or link) under `dir`, sorted; directories are walked, never followed.
fn files_under(dir: &Utf8Path) -> Vec<camino::Utf8PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = d.read_dir_utf8() else { continue };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path().to_path_buf()),
                Ok(_) => out.push(e.path().to_path_buf()),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

pub(super) fn purge(rt: &Runtime, task: &str) -> Done {
    let dir = rt.ctx.work_root.join(&rt.ctx.execution_id);
    let files = files_under(&dir);
    if files.is_empty() {
        print(
            rt,
            task,
            LogLevel::Info,
            &format!(
                "No file to purge: execution {} has stored none",
                rt.ctx.execution_id
            ),
        );
        return Done::with_outputs(BTreeMap::from([("uris".into(), json!([]))]));
    }
    let mut uris = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match std::fs::remove_file(f) {
            Ok(()) => uris.push(Json::String(format!("file://{f}"))),
            Err(e) => errors.push(format!("{f}: {e}")),
        }
    }
    // The directories left empty go too (the task's own, made on demand, comes back if needed).
    let mut dirs: Vec<_> = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = d.read_dir_utf8() {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path().to_path_buf());
                    dirs.push(e.path().to_path_buf());
                }
            }
        }
    }
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
    print(
        rt,
        task,
        LogLevel::Info,
        &format!(
            "Purged {} file(s) of execution {}",
            uris.len(),
            rt.ctx.execution_id
        ),
    );
    if !errors.is_empty() {
        return Done::failed(format!("cannot remove {}", errors.join("; ")));
    }
    Done::with_outputs(BTreeMap::from([("uris".into(), Json::Array(uris))]))
}

/// Writes `inputs` in the working directory of run `task` (`local`, or `local.1` inside a
/// ForEach: each value its own) and hands out the files `outputs` match.
pub(super) fn local_files(
    rt: &Runtime,
    task: &str,
    inputs: &BTreeMap<String, String>,
    outputs: &[String],
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let workdir = rt.ctx.workdir(task);
    let mut rendered = BTreeMap::new();
    for (name, content) in inputs {
        rendered.insert(name.clone(), r.text(content)?);
    }
    let outputs: Vec<String> = outputs
        .iter()
        .map(|g| r.text(g))
        .collect::<Result<_, _>>()?;
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&workdir)?;
        for (name, content) in &rendered {
            let path = workdir.join(name);
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(&path, content)?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        return Ok(Done::failed(format!(
            "cannot write the files in {workdir}: {e}"
        )));
    }
    let found = crate::exec::files::collect(&workdir, &outputs);
    for why in &found.refused {
        print(rt, task, LogLevel::Warn, why);
    }
    // As a script task's directory: only the files handed out stay; a WorkingDirectory's
    // shared directory is left to it (the next task there reads what this one wrote).
    let keep: Vec<String> = found.files.iter().map(|f| f.to_string()).collect();
    if !rt.ctx.shares_workdir(task)
        && let Err(e) = crate::exec::files::prune(&workdir, &keep)
    {
        print(
            rt,
            task,
            LogLevel::Warn,
            &format!("cannot tidy {workdir}: {e}"),
        );
    }
    let uris: serde_json::Map<String, Json> = found
        .files
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(&workdir).ok()?;
            Some((rel.to_string(), Json::String(format!("file://{f}"))))
        })
        .collect();
    Ok(Done::with_outputs(BTreeMap::from([(
        "uris".into(),
        Json::Object(uris),
    )])))
}

/// The name `storage.Write` gives its file: Kestra's temporary files are `<random><suffix>`,
/// the suffix the extension with a dot added when it has none (`LocalWorkingDir.createTempFile`),
/// `.tmp` without one. dockhand names the file after the task, so that a resumed execution
/// (which takes the task's end from the journal) and the plan name the same file.
pub fn write_name(task: &str, extension: Option<&str>) -> String {
    match extension {
        None => format!("{task}.tmp"),
        Some(e) if e.starts_with('.') => format!("{task}{e}"),
        Some(e) => format!("{task}.{e}"),
    }
}

/// The extension of a stored file's URI, with its dot (Reverse keeps `from`'s).
fn extension_of(uri: &str) -> Option<&str> {
    let name = uri.rsplit('/').next()?;
    name.rfind('.').filter(|&i| i > 0).map(|i| &name[i..])
}

/// Writes `bytes` as a new stored file of the task, `stem` named by [`write_name`]; its URI.
pub(super) fn put(
    st: &crate::exec::storage::Storage,
    (namespace, flow, execution, task, attempt): (&str, &str, &str, &str, u32),
    stem: &str,
    extension: Option<&str>,
    bytes: &[u8],
) -> Result<String, String> {
    let name = write_name(stem, extension);
    if crate::plan::storage::relative_inside(&name).is_err() || name.contains('/') {
        return Err(format!(
            "`extension` {:?} is not a file name's extension",
            extension.unwrap_or_default()
        ));
    }
    let uri = crate::plan::storage::output_uri(namespace, flow, execution, task, attempt, &name);
    let path = crate::plan::storage::storage_path(&st.root, &uri)?;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(uri)
}

/// The storage tasks: Write, Size, Delete, Concat, Reverse, on the local internal storage
/// (`kestra://` URIs only, as Kestra's `StorageInterface`).
pub(super) fn stored_files(
    rt: &Runtime,
    task: &str,
    (namespace, flow, attempt): (&str, &str, u32),
    core: &CoreTask,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let Some(st) = &rt.storage else {
        return Ok(Done::failed("this run has no internal storage"));
    };
    let ids = (namespace, flow, rt.ctx.execution_id.as_str(), task, attempt);
    let path_of = |uri: &str| crate::plan::storage::storage_path(&st.root, uri.trim());
    let uri_out =
        |uri: String| Done::with_outputs(BTreeMap::from([("uri".into(), Json::String(uri))]));
    let done = match core {
        CoreTask::Write { content, extension } => {
            let content = r.text(content)?;
            let extension = extension.as_ref().map(|e| r.text(e)).transpose()?;
            put(st, ids, task, extension.as_deref(), content.as_bytes()).map(uri_out)
        }
        CoreTask::StorageSize { uri } => {
            let uri = r.text(uri)?;
            path_of(&uri).and_then(|p| {
                let size = std::fs::metadata(&p)
                    .map_err(|e| format!("{uri}: {e}"))?
                    .len();
                Ok(Done::with_outputs(BTreeMap::from([(
                    "size".into(),
                    json!(size),
                )])))
            })
        }
        CoreTask::StorageDelete {
            uri,
            error_on_missing,
        } => {
            let uri = r.text(uri)?;
            path_of(&uri).and_then(|p| {
                let deleted = match std::fs::remove_file(&p) {
                    Ok(()) => true,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                    Err(e) => return Err(format!("cannot delete {p}: {e}")),
                };
                if *error_on_missing && !deleted {
                    return Err(format!("Unable to find file '{uri}'"));
                }
                Ok(Done::with_outputs(BTreeMap::from([
                    ("uri".into(), Json::String(uri.clone())),
                    ("deleted".into(), Json::Bool(deleted)),
                ])))
            })
        }
        CoreTask::Concat {
            files,
            files_json,
            separator,
            extension,
        } => {
            let mut list = Vec::new();
            for f in files {
                list.push(r.text(f)?);
            }
            if *files_json {
                let text = list.pop().unwrap_or_default();
                list = serde_json::from_str(&text)
                    .map_err(|e| format!("`files` {text:?} is not a JSON list of URIs: {e}"))?;
            }
            let separator = separator.as_ref().map(|s| r.text(s)).transpose()?;
            let extension = r.text(extension)?;
            let mut bytes = Vec::new();
            let mut failed = None;
            for uri in &list {
                match path_of(uri)
                    .and_then(|p| std::fs::read(&p).map_err(|e| format!("{uri}: {e}")))
                {
                    Ok(b) => bytes.extend(b),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
                if let Some(s) = &separator {
                    bytes.extend(s.as_bytes());
                }
            }
            match failed {
                Some(e) => Err(e),
                None => put(st, ids, task, Some(&extension), &bytes).map(uri_out),
            }
        }
        CoreTask::Reverse { from, separator } => {
            let from = r.text(from)?;
            let separator = r.text(separator)?;
            path_of(&from)
                .and_then(|p| std::fs::read_to_string(&p).map_err(|e| format!("{from}: {e}")))
                .and_then(|text| {
                    let out = reverse_lines(&text, &separator);
                    put(st, ids, task, extension_of(&from), out.as_bytes()).map(uri_out)
                })
        }
        CoreTask::Split {
            from,
            by,
            separator,
        } => {
            let from = r.text(from)?;
            let separator = r.text(separator)?;
            let value = r.text(&by.1)?;
            let how = match by.0 {
                "bytes" => crate::units::parse_size(&value).map(SplitBy::Bytes),
                key => value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| {
                        if key == "rows" {
                            SplitBy::Rows(n)
                        } else {
                            SplitBy::Partitions(n)
                        }
                    })
                    .ok_or_else(|| format!("`{key}` `{value}` is not a whole number above 0")),
            };
            how.and_then(|how| {
                let p = path_of(&from)?;
                let text = std::fs::read_to_string(&p).map_err(|e| format!("{from}: {e}"))?;
                let ext = extension_of(&from);
                let mut uris = Vec::new();
                for (i, part) in split_lines(&text, &separator, how).iter().enumerate() {
                    let stem = format!("{task}_{i}");
                    uris.push(Json::String(put(st, ids, &stem, ext, part.as_bytes())?));
                }
                Ok(Done::with_outputs(BTreeMap::from([(
                    "uris".into(),
                    Json::Array(uris),
                )])))
            })
        }
        other => unreachable!("not a storage task: {other:?}"),
    };
    Ok(done.unwrap_or_else(Done::failed))
}

/// How Split cuts a file.
#[derive(Debug, Clone, Copy)]
pub enum SplitBy {
    /// A new file once the current one holds this many bytes.
    Bytes(u64),
    Rows(usize),
    /// Lines dealt out to this many files in turn; empty ones are left out.
    Partitions(usize),
}

/// The lines of `text` as Java's `BufferedReader.readLine` reads them (`\n`, `\r\n`, `\r`).
fn java_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            None => {
                out.push(rest);
                break;
            }
            Some(i) => {
                out.push(&rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
        }
    }
    out
}

/// Kestra's `StorageService.split`/`partition`: the files' contents, in order.
pub fn split_lines(text: &str, separator: &str, how: SplitBy) -> Vec<String> {
    let lines = java_lines(text);
    match how {
        SplitBy::Partitions(n) => {
            let mut parts = vec![String::new(); n];
            for (i, l) in lines.iter().enumerate() {
                parts[i % n].push_str(l);
                parts[i % n].push_str(separator);
            }
            parts.into_iter().filter(|p| !p.is_empty()).collect()
        }
        SplitBy::Bytes(_) | SplitBy::Rows(_) => {
            let mut parts: Vec<String> = Vec::new();
            let (mut bytes, mut rows) = (0u64, 0usize);
            for l in lines {
                let full = match how {
                    SplitBy::Bytes(max) => bytes >= max,
                    SplitBy::Rows(max) => rows >= max,
                    SplitBy::Partitions(_) => unreachable!(),
                };
                if parts.is_empty() || full {
                    parts.push(String::new());
                    (bytes, rows) = (0, 0);
                }
                let part = parts.last_mut().expect("one part");
                part.push_str(l);
                part.push_str(separator);
                bytes += (l.len() + separator.len()) as u64;
                rows += 1;
            }
            parts
        }
    }
}

/// The lines of `text`, last first, each followed by `separator` (commons-io's
/// `ReversedLinesFileReader`: `\n`, `\r\n` and `\r` end lines; a final line end adds no line).
pub fn reverse_lines(text: &str, separator: &str) -> String {
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(text);
    if text.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = body.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    lines
        .iter()
        .rev()
        .map(|l| format!("{l}{separator}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{SplitBy, extension_of, reverse_lines, split_lines, write_name};

    #[test]
    fn split_cuts_as_kestras_storage_service() {
        let t = "a\nb\nc\nd\ne\n";
        let rows: [(SplitBy, &[&str]); 5] = [
            (SplitBy::Rows(2), &["a\nb\n", "c\nd\n", "e\n"]),
            (SplitBy::Partitions(2), &["a\nc\ne\n", "b\nd\n"]),
            // Empty partitions are left out.
            (SplitBy::Partitions(9), &["a\n", "b\n", "c\n", "d\n", "e\n"]),
            // A new file once 4 bytes are in one: each holds two 2-byte lines.
            (SplitBy::Bytes(4), &["a\nb\n", "c\nd\n", "e\n"]),
            (SplitBy::Bytes(1), &["a\n", "b\n", "c\n", "d\n", "e\n"]),
        ];
        for (how, want) in rows {
            assert_eq!(split_lines(t, "\n", how), want, "{how:?}");
        }
        assert_eq!(split_lines("x\r\ny\rz", ";", SplitBy::Rows(5)), ["x;y;z;"]);
        assert!(split_lines("", "\n", SplitBy::Rows(1)).is_empty());
    }

    #[test]
    fn reverse_puts_the_last_line_first() {
        let rows = [
            ("a\nb\nc\n", "\n", "c\nb\na\n"),
            ("a\nb\nc", "\n", "c\nb\na\n"),
            ("a\r\nb\r\n", ";", "b;a;"),
            ("", "\n", ""),
            ("only", "\n", "only\n"),
            ("a\n\nb\n", "|", "b||a|"),
        ];
        for (text, sep, want) in rows {
            assert_eq!(reverse_lines(text, sep), want, "{text:?}");
        }
        assert_eq!(extension_of("kestra:///a/b/w/1/w.csv"), Some(".csv"));
        assert_eq!(extension_of("kestra:///a/b/w/1/noext"), None);
    }

    #[test]
    fn write_names_its_file_as_kestra_suffixes_it() {
        let rows = [
            (None, "w.tmp"),
            (Some(".sh"), "w.sh"),
            (Some("json"), "w.json"),
            (Some(".tar.gz"), "w.tar.gz"),
        ];
        for (ext, want) in rows {
            assert_eq!(write_name("w", ext), want, "{ext:?}");
        }
    }
}
