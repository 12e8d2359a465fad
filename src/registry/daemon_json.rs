//! Docker's `daemon.json`: adding and removing `insecure-registries` entries without touching
//! anything else.
//!
//! The file is edited as text, not re-serialised: every other key keeps its value byte for
//! byte (numbers, escapes, nested objects and their key order), keys stay in their order, and
//! only the `insecure-registries` array (or its insertion / removal) changes. The new array
//! follows the file's layout (compact, or one entry per line with the file's indentation and
//! line endings).
//!
//! Rules:
//! - add: each registry ends up in the list exactly once (duplicates of it are dropped,
//!   other entries are left alone); a registry already present (same name ignoring case, or
//!   with an `http://` prefix that dockerd strips) is not added again.
//! - remove: every entry naming the registry goes; an emptied list stays as `[]`, because
//!   dockerd's reload (SIGHUP) only replaces its insecure registries when the key is present:
//!   without the key the removed registries would stay active until dockerd restarts.
//! - Nothing to change means no write at all (the file's mtime stays).
//! - A write keeps the file's mode and owner (0644 root:root for a new file), goes through a
//!   temporary file in the same directory + fsync + rename, and first saves the previous
//!   content next to it as `daemon.json.dockhand-bak` (overwritten by each change).
//! - A malformed file is an error naming the file and the line/column, and is left untouched.
//!   An empty (or whitespace-only) file counts as `{}`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{DirLock, FileError, INSECURE_KEY, Owner, same_registry, write_atomic};

/// Where dockerd reads its configuration unless started with `--config-file`.
pub const DEFAULT_PATH: &str = "/etc/docker/daemon.json";
/// Appended to the file name for the copy of the previous content.
pub const BACKUP_SUFFIX: &str = ".dockhand-bak";

/// Where the JSON is wrong, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// The result of editing the text of a `daemon.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edit {
    /// The new text (equal to the input when nothing changed).
    pub text: String,
    /// Registries added (add) or removed (remove).
    pub changed: Vec<String>,
    /// Registries already present (add) or not there (remove).
    pub unchanged: Vec<String>,
    /// Duplicate entries of the added registries that were dropped.
    pub duplicates_dropped: usize,
}

impl Edit {
    pub fn modified(&self) -> bool {
        !self.changed.is_empty() || self.duplicates_dropped > 0
    }
}

/// One top-level member, with the exact text of its value.
struct Member<'a> {
    key: String,
    value: &'a RawValue,
}

/// The top-level object, members in file order (duplicates kept).
struct Members<'a>(Vec<Member<'a>>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object (daemon.json holds one object of settings)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    v.push(Member { key, value });
                }
                Ok(Members(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// A parsed file: the members and where the object's braces are.
struct Doc<'a> {
    text: &'a str,
    members: Vec<Member<'a>>,
    /// Byte offsets of `{` and `}`; `None` for an empty file.
    braces: Option<(usize, usize)>,
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn offset_in(text: &str, part: &str) -> usize {
    part.as_ptr() as usize - text.as_ptr() as usize
}

fn parse(text: &str) -> Result<Doc<'_>, ParseError> {
    // Some Windows editors save JSON with a byte order mark; serde_json (rightly, RFC 8259 says
    // not to emit one) reads it as an unexpected character. Said plainly, it is quick to fix.
    if text.starts_with('\u{feff}') {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: "the file starts with a UTF-8 byte order mark (bytes EF BB BF, as some editors save it); save it as UTF-8 without a BOM".to_string(),
        });
    }
    if text.trim().is_empty() {
        return Ok(Doc {
            text,
            members: vec![],
            braces: None,
        });
    }
    let members = serde_json::from_str::<Members<'_>>(text).map_err(|e| {
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        let message = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("not valid JSON: {message}")
            }
            _ => message,
        };
        ParseError {
            line: e.line().max(1),
            column: e.column().max(1),
            message,
        }
    })?;
    let open = text.len() - text.trim_start().len();
    let close = text.trim_end().len() - 1;
    Ok(Doc {
        text,
        members: members.0,
        braces: Some((open, close)),
    })
}

impl<'a> Doc<'a> {
    fn value_span(&self, i: usize) -> (usize, usize) {
        let raw = self.members[i].value.get();
        let start = offset_in(self.text, raw);
        (start, start + raw.len())
    }

    /// Where member `i`'s key starts (its opening quote).
    fn key_start(&self, i: usize) -> usize {
        let from = if i == 0 {
            self.braces.map_or(0, |(o, _)| o + 1)
        } else {
            self.value_span(i - 1).1
        };
        let b = self.text.as_bytes();
        let mut p = from;
        while p < b.len() && (b[p].is_ascii_whitespace() || b[p] == b',') {
            p += 1;
        }
        p
    }

    /// The index of the `insecure-registries` member (keys match ignoring ASCII case, as
    /// dockerd's Go JSON decoder does).
    fn insecure_index(&self) -> Result<Option<usize>, ParseError> {
        let found: Vec<usize> = (0..self.members.len())
            .filter(|&i| self.members[i].key.eq_ignore_ascii_case(INSECURE_KEY))
            .collect();
        if found.len() > 1 {
            let (line, column) = position(self.text, self.key_start(found[1]));
            return Err(ParseError {
                line,
                column,
                message: format!(
                    "`{INSECURE_KEY}` appears {} times; dockerd would use only one of them, merge them into one list",
                    found.len()
                ),
            });
        }
        Ok(found.first().copied())
    }

    /// The entries of the list: each entry's exact text and its string value.
    fn entries(&self, i: usize) -> Result<Vec<(&'a str, String)>, ParseError> {
        let raw: &'a str = self.members[i].value.get();
        let bad = |at: &str, what: &str| {
            let (line, column) = position(self.text, offset_in(self.text, at));
            ParseError {
                line,
                column,
                message: format!(
                    "`{INSECURE_KEY}` must be a list of \"HOST:PORT\" strings, {what}"
                ),
            }
        };
        let items: Vec<&'a RawValue> =
            serde_json::from_str(raw).map_err(|_| bad(raw, "found something else"))?;
        items
            .into_iter()
            .map(|item| {
                let t: &'a str = item.get();
                serde_json::from_str::<String>(t)
                    .map(|s| (t, s))
                    .map_err(|_| bad(t, &format!("found {t}")))
            })
            .collect()
    }

    fn layout(&self) -> Layout {
        let eol = if self.text.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let compact = self
            .braces
            .is_some_and(|(o, c)| !self.text[o..c].contains('\n'));
        let spaced = !compact || self.text.contains(", ") || self.text.contains(": ");
        Layout {
            eol,
            compact,
            spaced,
        }
    }

    /// The whitespace that starts the line `pos` is on, if only whitespace comes before `pos`.
    fn indent_at(&self, pos: usize) -> Option<&'a str> {
        let start = self.text[..pos].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &self.text[start..pos];
        prefix
            .chars()
            .all(|c| c == ' ' || c == '\t' || c == '\r')
            .then(|| prefix.trim_start_matches('\r'))
    }
}

struct Layout {
    eol: &'static str,
    /// The whole object on one line.
    compact: bool,
    /// `, ` and `: ` rather than `,` and `:` (for one-line arrays).
    spaced: bool,
}

/// Renders the array. `old` is the array's current text (its layout is kept); `indent` is the
/// indentation of the line holding the key.
fn render_array(items: &[String], old: Option<&str>, indent: &str, layout: &Layout) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    let multi_line = old.map_or(!layout.compact, |o| o.contains('\n'));
    if !multi_line {
        let sep = if layout.spaced { ", " } else { "," };
        return format!("[{}]", items.join(sep));
    }
    let unit = if indent.is_empty() { "  " } else { indent };
    // Keep the indentation of the entries already there.
    let item_indent = old
        .and_then(|o| {
            let after = o.split_once('\n')?.1;
            let ws: String = after
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let rest = &after[ws.len()..];
            (!ws.is_empty() && !rest.starts_with(']')).then_some(ws)
        })
        .unwrap_or_else(|| format!("{indent}{unit}"));
    let eol = layout.eol;
    let body: Vec<String> = items.iter().map(|i| format!("{item_indent}{i}")).collect();
    format!("[{eol}{}{eol}{indent}]", body.join(&format!(",{eol}")))
}

/// A fresh document holding only the list.
fn fresh(items: &[String], eol: &str) -> String {
    if items.is_empty() {
        return format!("{{{eol}  \"{INSECURE_KEY}\": []{eol}}}");
    }
    let body: Vec<String> = items.iter().map(|i| format!("    {i}")).collect();
    format!(
        "{{{eol}  \"{INSECURE_KEY}\": [{eol}{}{eol}  ]{eol}}}",
        body.join(&format!(",{eol}"))
    )
}

/// Deduplicates the requested registries (first spelling wins).
fn unique(registries: &[String]) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::new();
    for r in registries {
        if !out.iter().any(|o| same_registry(o, r)) {
            out.push(r);
        }
    }
    out
}

/// The entries of `insecure-registries` in a `daemon.json` text (empty when absent).
pub fn list_text(text: &str) -> Result<Vec<String>, ParseError> {
    let doc = parse(text)?;
    match doc.insecure_index()? {
        Some(i) => Ok(doc.entries(i)?.into_iter().map(|(_, s)| s).collect()),
        None => Ok(vec![]),
    }
}

/// The text with the list set to `items` (entries' exact text): the array replaced in place,
/// or the key added after the last member (a new document for an empty one).
fn set_list(doc: &Doc<'_>, idx: Option<usize>, items: &[String]) -> String {
    let text = doc.text;
    let layout = doc.layout();
    match (idx, doc.braces) {
        (Some(i), _) => {
            let (vs, ve) = doc.value_span(i);
            let indent = doc.indent_at(doc.key_start(i)).unwrap_or("  ");
            let arr = render_array(items, Some(&text[vs..ve]), indent, &layout);
            format!("{}{arr}{}", &text[..vs], &text[ve..])
        }
        (None, None) => fresh(items, layout.eol) + layout.eol,
        (None, Some((open, close))) if doc.members.is_empty() => {
            format!(
                "{}{}{}",
                &text[..open],
                fresh(items, layout.eol),
                &text[close + 1..]
            )
        }
        (None, Some(_)) => {
            let last = doc.members.len() - 1;
            let (_, ve) = doc.value_span(last);
            let key = serde_json::to_string(INSECURE_KEY).unwrap_or_default();
            let insert = if layout.compact {
                let (comma, colon) = if layout.spaced {
                    (", ", ": ")
                } else {
                    (",", ":")
                };
                format!(
                    "{comma}{key}{colon}{}",
                    render_array(items, None, "", &layout)
                )
            } else {
                let indent = doc.indent_at(doc.key_start(last)).unwrap_or("  ");
                format!(
                    ",{}{indent}{key}: {}",
                    layout.eol,
                    render_array(items, None, indent, &layout)
                )
            };
            format!("{}{insert}{}", &text[..ve], &text[ve..])
        }
    }
}

/// Adds `registries` to the `insecure-registries` list of a `daemon.json` text.
pub fn add_text(text: &str, registries: &[String]) -> Result<Edit, ParseError> {
    let doc = parse(text)?;
    let wanted = unique(registries);
    let idx = doc.insecure_index()?;
    let existing = match idx {
        Some(i) => doc.entries(i)?,
        None => vec![],
    };
    let mut satisfied = vec![false; wanted.len()];
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = 0;
    for (raw, value) in &existing {
        match wanted.iter().position(|w| same_registry(w, value)) {
            Some(w) if satisfied[w] => dropped += 1,
            Some(w) => {
                satisfied[w] = true;
                kept.push(raw.to_string());
            }
            None => kept.push(raw.to_string()),
        }
    }
    let mut edit = Edit {
        duplicates_dropped: dropped,
        ..Edit::default()
    };
    for (w, done) in wanted.iter().zip(&satisfied) {
        if *done {
            edit.unchanged.push(w.to_string());
        } else {
            edit.changed.push(w.to_string());
            kept.push(serde_json::to_string(w).unwrap_or_default());
        }
    }
    if !edit.modified() {
        edit.text = text.to_string();
        return Ok(edit);
    }
    edit.text = set_list(&doc, idx, &kept);
    Ok(edit)
}

/// Removes `registries` from the `insecure-registries` list of a `daemon.json` text. An
/// emptied list stays as `[]`: dockerd's reload only replaces its insecure registries when the
/// key is present, so dropping the key would leave the old ones active until a restart.
pub fn remove_text(text: &str, registries: &[String]) -> Result<Edit, ParseError> {
    let doc = parse(text)?;
    let wanted = unique(registries);
    let idx = doc.insecure_index()?;
    let mut edit = Edit::default();
    let Some(i) = idx else {
        edit.unchanged = wanted.iter().map(|w| w.to_string()).collect();
        edit.text = text.to_string();
        return Ok(edit);
    };
    let existing = doc.entries(i)?;
    let mut found = vec![false; wanted.len()];
    let mut kept: Vec<String> = Vec::new();
    for (raw, value) in &existing {
        match wanted.iter().position(|w| same_registry(w, value)) {
            Some(w) => found[w] = true,
            None => kept.push(raw.to_string()),
        }
    }
    for (w, f) in wanted.iter().zip(&found) {
        if *f {
            edit.changed.push(w.to_string())
        } else {
            edit.unchanged.push(w.to_string())
        }
    }
    if !edit.modified() {
        edit.text = text.to_string();
        return Ok(edit);
    }
    edit.text = set_list(&doc, Some(i), &kept);
    Ok(edit)
}

/// Adds `"insecure-registries": []` when the key is missing (so a reload resets dockerd's
/// list); no change otherwise.
pub fn ensure_key_text(text: &str) -> Result<Edit, ParseError> {
    let doc = parse(text)?;
    let mut edit = Edit {
        text: text.to_string(),
        ..Edit::default()
    };
    if doc.insecure_index()?.is_none() {
        edit.text = set_list(&doc, None, &[]);
        edit.changed.push(format!("{INSECURE_KEY}: []"));
    }
    Ok(edit)
}

/// Errors of the file operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}:{}:{}: {} — {} was left unchanged; fix it (or move it away) and run again", path.display(), err.line, err.column, err.message, path.display())]
    Malformed { path: PathBuf, err: ParseError },
    #[error(transparent)]
    File(#[from] FileError),
}

/// What a change did to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The file edited (a symlink's target).
    pub path: PathBuf,
    pub edit: Edit,
    /// Whether the file was written (false: nothing to change).
    pub written: bool,
    /// Whether there was no file before.
    pub created: bool,
    /// Where the previous content was saved, when there was one and the file changed.
    pub backup: Option<PathBuf>,
}

/// `daemon.json` → `daemon.json.dockhand-bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(BACKUP_SUFFIX);
    PathBuf::from(s)
}

/// Reads the file: `None` when it does not exist.
fn read(path: &Path) -> Result<Option<(String, Owner)>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileError::new("cannot read", path, e).into()),
    };
    let meta = std::fs::metadata(path).map_err(|e| FileError::new("cannot read", path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let ok = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..ok]).into_owned();
        let (line, column) = position(&prefix, ok);
        Error::Malformed {
            path: path.to_path_buf(),
            err: ParseError {
                line,
                column,
                message: "not UTF-8 text".into(),
            },
        }
    })?;
    Ok(Some((text, Owner::of(&meta))))
}

/// A symlinked `daemon.json` is edited where it points, so the link stays.
fn resolve(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn apply(path: &Path, f: impl Fn(&str) -> Result<Edit, ParseError>) -> Result<Change, Error> {
    let path = resolve(path);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let old = read(&path)?;
    // Check the edit before touching the disk (not even the directory).
    let malformed = |err| Error::Malformed {
        path: path.clone(),
        err,
    };
    let probe = f(old.as_ref().map_or("", |(t, _)| t.as_str())).map_err(malformed)?;
    if !probe.modified() {
        return Ok(Change {
            path,
            edit: probe,
            written: false,
            created: false,
            backup: None,
        });
    }
    super::ensure_dir(&dir).map_err(|e| FileError::new("cannot create the directory", &dir, e))?;
    let _lock = DirLock::acquire(&dir).map_err(|e| FileError::new("cannot lock", &dir, e))?;
    // Read again under the lock: another writer may have been first.
    let old = read(&path)?;
    let edit = f(old.as_ref().map_or("", |(t, _)| t.as_str())).map_err(|err| Error::Malformed {
        path: path.clone(),
        err,
    })?;
    if !edit.modified() {
        return Ok(Change {
            path,
            edit,
            written: false,
            created: false,
            backup: None,
        });
    }
    let mut backup = None;
    if let Some((text, owner)) = &old {
        let b = backup_path(&path);
        write_atomic(&b, text.as_bytes(), *owner)
            .map_err(|e| FileError::new("cannot save the previous content to", &b, e))?;
        backup = Some(b);
    }
    let owner = old.as_ref().map_or(Owner::NEW, |(_, o)| *o);
    write_atomic(&path, edit.text.as_bytes(), owner)
        .map_err(|e| FileError::new("cannot write", &path, e))?;
    Ok(Change {
        path,
        edit,
        written: true,
        created: old.is_none(),
        backup,
    })
}

/// Adds registries to the file (created if missing).
pub fn add(path: &Path, registries: &[String]) -> Result<Change, Error> {
    apply(path, |t| add_text(t, registries))
}

/// Removes registries from the file.
pub fn remove(path: &Path, registries: &[String]) -> Result<Change, Error> {
    apply(path, |t| remove_text(t, registries))
}

/// Makes sure the file has an `insecure-registries` key (`[]` when it had none).
pub fn ensure_key(path: &Path) -> Result<Change, Error> {
    apply(path, ensure_key_text)
}

/// The `insecure-registries` entries of the file; `None` when there is no file.
pub fn list(path: &Path) -> Result<Option<Vec<String>>, Error> {
    let path = resolve(path);
    match read(&path)? {
        None => Ok(None),
        Some((text, _)) => list_text(&text)
            .map(Some)
            .map_err(|err| Error::Malformed { path, err }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Top-level keys in file order.
    fn keys(text: &str) -> Vec<String> {
        parse(text)
            .unwrap()
            .members
            .into_iter()
            .map(|m| m.key)
            .collect()
    }

    #[test]
    fn adds_to_a_new_file() {
        let e = add_text("", &s(&["10.10.1.5:5000"])).unwrap();
        assert_eq!(
            e.text,
            "{\n  \"insecure-registries\": [\n    \"10.10.1.5:5000\"\n  ]\n}\n"
        );
        assert_eq!(e.changed, s(&["10.10.1.5:5000"]));
    }

    #[test]
    fn keeps_other_keys_byte_for_byte() {
        let text = "{\n    \"log-driver\": \"json-file\",\n    \"log-opts\": {\"max-size\": \"10m\", \"a\": 1.50},\n    \"big\": 123456789012345678901234567890\n}\n";
        let e = add_text(text, &s(&["10.10.1.5:5000"])).unwrap();
        assert_eq!(
            e.text,
            "{\n    \"log-driver\": \"json-file\",\n    \"log-opts\": {\"max-size\": \"10m\", \"a\": 1.50},\n    \"big\": 123456789012345678901234567890,\n    \"insecure-registries\": [\n        \"10.10.1.5:5000\"\n    ]\n}\n"
        );
        // Removing it again leaves an empty list (so a reload clears it), nothing else.
        assert_eq!(
            remove_text(&e.text, &s(&["10.10.1.5:5000"])).unwrap().text,
            text.replace("890\n}", "890,\n    \"insecure-registries\": []\n}")
        );
    }

    #[test]
    fn appends_to_an_existing_list_in_its_layout() {
        let text = "{\n  \"insecure-registries\": [\n      \"a:1\",\n      \"b:2\"\n  ],\n  \"debug\": true\n}";
        let e = add_text(text, &s(&["c:3"])).unwrap();
        assert_eq!(
            e.text,
            "{\n  \"insecure-registries\": [\n      \"a:1\",\n      \"b:2\",\n      \"c:3\"\n  ],\n  \"debug\": true\n}"
        );
        let one_line = "{\"insecure-registries\": [\"a:1\"], \"debug\": true}";
        assert_eq!(
            add_text(one_line, &s(&["c:3"])).unwrap().text,
            "{\"insecure-registries\": [\"a:1\", \"c:3\"], \"debug\": true}"
        );
        let compact = "{\"debug\":true}";
        assert_eq!(
            add_text(compact, &s(&["c:3"])).unwrap().text,
            "{\"debug\":true,\"insecure-registries\":[\"c:3\"]}"
        );
        let one_line = "{\"debug\": true}";
        assert_eq!(
            add_text(one_line, &s(&["c:3"])).unwrap().text,
            "{\"debug\": true, \"insecure-registries\": [\"c:3\"]}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_named() {
        let text = "\u{feff}{\"debug\": true}\n";
        let e = add_text(text, &s(&["a:1"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 column 1: the file starts with a UTF-8 byte order mark (bytes EF BB BF, as some editors save it); save it as UTF-8 without a BOM"
        );
        assert_eq!(list_text(text).unwrap_err(), e);
        assert_eq!(remove_text(text, &s(&["a:1"])).unwrap_err(), e);
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "{\r\n  \"debug\": true\r\n}\r\n";
        let e = add_text(text, &s(&["a:1"])).unwrap();
        assert_eq!(
            e.text,
            "{\r\n  \"debug\": true,\r\n  \"insecure-registries\": [\r\n    \"a:1\"\r\n  ]\r\n}\r\n"
        );
    }

    #[test]
    fn present_entries_are_not_added_again() {
        let text = "{\"insecure-registries\": [\"http://10.10.1.5:5000\", \"Reg.Local:5000\"]}";
        let e = add_text(text, &s(&["10.10.1.5:5000", "reg.local:5000"])).unwrap();
        assert!(!e.modified());
        assert_eq!(e.text, text);
        assert_eq!(e.unchanged, s(&["10.10.1.5:5000", "reg.local:5000"]));
    }

    #[test]
    fn duplicates_of_an_added_registry_are_dropped() {
        let text = "{\"insecure-registries\": [\"a:1\", \"x:9\", \"a:1\", \"x:9\"]}";
        let e = add_text(text, &s(&["a:1"])).unwrap();
        assert_eq!(e.duplicates_dropped, 1);
        assert_eq!(list_text(&e.text).unwrap(), s(&["a:1", "x:9", "x:9"]));
    }

    #[test]
    fn remove_keeps_an_empty_list() {
        for (text, want) in [
            (
                "{\"insecure-registries\": [\"a:1\"]}\n",
                "{\"insecure-registries\": []}\n",
            ),
            (
                "{\n  \"insecure-registries\": [\"a:1\", \"b:2\"],\n  \"debug\": true\n}",
                "{\n  \"insecure-registries\": [\"b:2\"],\n  \"debug\": true\n}",
            ),
            (
                "{\n  \"debug\": true,\n  \"insecure-registries\": [\n    \"a:1\"\n  ]\n}",
                "{\n  \"debug\": true,\n  \"insecure-registries\": []\n}",
            ),
            (
                "{\"a\":1,\"insecure-registries\":[\"a:1\"],\"b\":2}",
                "{\"a\":1,\"insecure-registries\":[],\"b\":2}",
            ),
        ] {
            assert_eq!(
                remove_text(text, &s(&["a:1"])).unwrap().text,
                want,
                "{text}"
            );
        }
        let e = remove_text("{\"debug\": true}", &s(&["a:1"])).unwrap();
        assert!(!e.modified());
        assert_eq!(e.unchanged, s(&["a:1"]));
    }

    #[test]
    fn ensure_key_adds_an_empty_list() {
        assert_eq!(
            ensure_key_text("").unwrap().text,
            "{\n  \"insecure-registries\": []\n}\n"
        );
        assert_eq!(
            ensure_key_text("{}\n").unwrap().text,
            "{\n  \"insecure-registries\": []\n}\n"
        );
        assert_eq!(
            ensure_key_text("{\n  \"debug\": true\n}").unwrap().text,
            "{\n  \"debug\": true,\n  \"insecure-registries\": []\n}"
        );
        let e = ensure_key_text("{\"insecure-registries\": [\"a:1\"]}").unwrap();
        assert!(!e.modified());
    }

    #[test]
    fn malformed_files_are_errors_with_a_position() {
        let e = add_text("{\n  \"debug\": true\n  \"x\": 1\n}", &s(&["a:1"])).unwrap_err();
        assert_eq!((e.line, e.column), (3, 3));
        assert!(e.message.contains("expected `,` or `}`"), "{}", e.message);
        let e = add_text("[1, 2]", &s(&["a:1"])).unwrap_err();
        assert!(e.message.contains("a JSON object"), "{}", e.message);
        let e = add_text("{\"insecure-registries\": \"a:1\"}", &s(&["a:1"])).unwrap_err();
        assert!(e.message.contains("must be a list"), "{}", e.message);
        assert_eq!((e.line, e.column), (1, 25));
        let e = add_text("{\"insecure-registries\": [\"a:1\", 5]}", &s(&["b:1"])).unwrap_err();
        assert!(e.message.contains("found 5"), "{}", e.message);
        let e = add_text(
            "{\"insecure-registries\": [], \"Insecure-Registries\": []}",
            &s(&["b:1"]),
        )
        .unwrap_err();
        assert!(e.message.contains("appears 2 times"), "{}", e.message);
        let e = add_text("{} x", &s(&["b:1"])).unwrap_err();
        assert!(e.message.contains("trailing characters"), "{}", e.message);
    }

    #[test]
    fn file_operations() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("docker/daemon.json");
        assert_eq!(list(&p).unwrap(), None);
        let c = add(&p, &s(&["10.10.1.5:5000"])).unwrap();
        assert!(c.written && c.created && c.backup.is_none());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(list(&p).unwrap(), Some(s(&["10.10.1.5:5000"])));

        // Same add again: no write at all.
        let before = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let c = add(&p, &s(&["10.10.1.5:5000"])).unwrap();
        assert!(!c.written);
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);

        // A change keeps the mode and saves the previous content.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let old = std::fs::read_to_string(&p).unwrap();
        let c = add(&p, &s(&["reg.local:5000"])).unwrap();
        assert!(c.written && !c.created);
        assert_eq!(c.backup.as_deref(), Some(backup_path(&p).as_path()));
        assert_eq!(std::fs::read_to_string(backup_path(&p)).unwrap(), old);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let c = remove(&p, &s(&["10.10.1.5:5000", "reg.local:5000"])).unwrap();
        assert_eq!(c.edit.changed.len(), 2);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "{\n  \"insecure-registries\": []\n}\n"
        );

        // A malformed file is left alone.
        std::fs::write(&p, "{\"debug\": tru}").unwrap();
        let err = add(&p, &s(&["a:1"])).unwrap_err().to_string();
        assert!(err.contains("daemon.json:1:"), "{err}");
        assert!(err.contains("left unchanged"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"debug\": tru}");
        // Only the file and its backup are in the directory (no temporary files).
        let mut names: Vec<String> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["daemon.json", "daemon.json.dockhand-bak"]);
    }

    #[test]
    fn symlinks_are_followed() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        let link = d.path().join("daemon.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        add(&link, &s(&["a:1"])).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            list_text(&std::fs::read_to_string(&real).unwrap()).unwrap(),
            s(&["a:1"])
        );
    }

    // ---- properties ----

    fn registry() -> impl Strategy<Value = String> {
        prop_oneof![
            (1u8..=254, 1u8..=254, 1u16..=65535).prop_map(|(a, b, p)| format!("10.{a}.{b}.5:{p}")),
            ("[a-z][a-z0-9]{0,6}", proptest::option::of(1u16..=65535)).prop_map(|(h, p)| match p {
                Some(p) => format!("{h}.local:{p}"),
                None => format!("{h}.local"),
            }),
        ]
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1.0e9f64..1.0e9).prop_map(Value::from),
            "[ -~\\u{e9}\\u{1F600}\"\\\\\n]{0,12}".prop_map(Value::from),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-zA-Z_-]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A daemon.json: random settings, maybe an existing list (unique entries), rendered
    /// compact or pretty.
    fn document() -> impl Strategy<Value = (Value, String)> {
        (
            proptest::collection::btree_map("[a-z][a-z-]{0,10}", json_value(), 0..6),
            proptest::option::of(proptest::collection::btree_set(registry(), 0..4)),
            any::<bool>(),
            0usize..7,
        )
            .prop_map(|(mut m, existing, pretty, at)| {
                m.retain(|k, _| !k.eq_ignore_ascii_case(INSECURE_KEY));
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                if let Some(list) = existing {
                    let at = at.min(entries.len());
                    entries.insert(
                        at,
                        (
                            INSECURE_KEY.to_string(),
                            json!(list.into_iter().collect::<Vec<_>>()),
                        ),
                    );
                }
                // Render by hand to control the key order.
                let body: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| {
                        let v = if pretty {
                            serde_json::to_string_pretty(v)
                                .unwrap()
                                .replace('\n', "\n  ")
                        } else {
                            v.to_string()
                        };
                        format!("{}:{}{v}", json!(k), if pretty { " " } else { "" })
                    })
                    .collect();
                let text = if entries.is_empty() {
                    if pretty {
                        "{}\n".to_string()
                    } else {
                        String::new()
                    }
                } else if pretty {
                    format!("{{\n  {}\n}}\n", body.join(",\n  "))
                } else {
                    format!("{{{}}}", body.join(","))
                };
                let value = Value::Object(entries.into_iter().collect());
                (value, text)
            })
    }

    fn list_of(v: &Value) -> Vec<String> {
        v.get(INSECURE_KEY)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    fn without_list(v: &Value) -> Value {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove(INSECURE_KEY);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn add_keeps_everything_else((generated, text) in document(), regs in proptest::collection::vec(registry(), 0..4)) {
            // Compare with the text as parsed (floats may not round-trip bit for bit).
            let before: Value = if text.trim().is_empty() { json!({}) } else { serde_json::from_str(&text).unwrap() };
            prop_assert_eq!(list_of(&before), list_of(&generated));
            let e = add_text(&text, &regs).unwrap();
            let after: Value = if e.text.trim().is_empty() { json!({}) } else { serde_json::from_str(&e.text).unwrap() };
            // Every other key and value is kept, in the same order.
            prop_assert_eq!(without_list(&after), without_list(&before));
            let mut want_keys = keys(&text);
            if !want_keys.iter().any(|k| k == INSECURE_KEY) && !e.changed.is_empty() {
                want_keys.push(INSECURE_KEY.to_string());
            }
            prop_assert_eq!(keys(&e.text), want_keys);
            // The old entries stay, in order, and each registry is there exactly once.
            let list = list_of(&after);
            let old = list_of(&before);
            prop_assert_eq!(&list[..old.len()], &old[..]);
            for r in &regs {
                prop_assert_eq!(list.iter().filter(|x| same_registry(x, r)).count(), 1, "{} in {:?}", r, list);
            }
            // Applying twice is applying once (and the second time changes nothing).
            let again = add_text(&e.text, &regs).unwrap();
            prop_assert!(!again.modified());
            prop_assert_eq!(&again.text, &e.text);
            // Nothing new to add: the text is untouched.
            if regs.iter().all(|r| old.iter().any(|o| same_registry(o, r))) {
                prop_assert_eq!(&e.text, &text);
            }
        }

        #[test]
        fn remove_undoes_add((_, text) in document(), regs in proptest::collection::vec(registry(), 0..4)) {
            let before: Value = if text.trim().is_empty() { json!({}) } else { serde_json::from_str(&text).unwrap() };
            let old = list_of(&before);
            let new: Vec<String> = regs.into_iter().filter(|r| !old.iter().any(|o| same_registry(o, r))).collect();
            let added = add_text(&text, &new).unwrap();
            let removed = remove_text(&added.text, &new).unwrap();
            let back: Value = if removed.text.trim().is_empty() { json!({}) } else { serde_json::from_str(&removed.text).unwrap() };
            // An empty list and no list mean the same to dockerd; otherwise exactly as before.
            let norm = |v: &Value| if list_of(v).is_empty() { without_list(v) } else { v.clone() };
            prop_assert_eq!(norm(&back), norm(&before));
            prop_assert_eq!(keys(&removed.text).into_iter().filter(|k| k != INSECURE_KEY).collect::<Vec<_>>(),
                keys(&text).into_iter().filter(|k| k != INSECURE_KEY).collect::<Vec<_>>());
            for r in &new {
                prop_assert!(!list_of(&back).iter().any(|x| same_registry(x, r)));
            }
        }

        #[test]
        fn fragment_merges_like_add(regs in proptest::collection::vec(registry(), 0..5)) {
            let e = add_text("", &regs).unwrap();
            let v: Value = if e.text.is_empty() { json!({}) } else { serde_json::from_str(&e.text).unwrap() };
            if regs.is_empty() {
                prop_assert_eq!(v, json!({}));
            } else {
                prop_assert_eq!(v, super::super::fragment(&regs));
            }
        }
    }
}
