//! Kestra's `ForEachItem` (`io.kestra.plugin.core.flow.ForEachItem`, and the old
//! `io.kestra.core.tasks.flows.ForEachItem`) as read: a Subflow task run once per batch of the
//! lines of a file. This file holds what it adds to a Subflow (the items, the batch) and the
//! pure split of a file into batches, as Kestra's `StorageService.split`: lines read as Java's
//! `readLine` reads them (`\n`, `\r\n`, `\r`), each written back followed by `separator`.

/// The items of a ForEachItem and how they are split (`batch`).
#[derive(Debug, Clone, PartialEq)]
pub struct ForEachItems {
    /// `items`: the URI of the file of lines (a template, rendered when the task runs).
    pub items: String,
    /// `batch.rows` (Kestra's default 1), `batch.bytes`, `batch.partitions`: templates.
    pub rows: Option<String>,
    pub bytes: Option<String>,
    pub partitions: Option<String>,
    /// `batch.separator` (default a newline): written after each line.
    pub separator: String,
}

/// Kestra's internal tasks of a ForEachItem, whose outputs expressions read
/// (`outputs.ID_merge.subflowOutputs`): the split, the executions, the merge of their outputs.
pub const SUFFIXES: [&str; 3] = ["_split", "_items", "_merge"];

/// The internal task ids of the ForEachItem tasks among `tasks`, with their index.
pub fn internal_ids(tasks: &[&crate::flow::model::Task]) -> Vec<(String, usize)> {
    tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            matches!(&t.kind, crate::flow::model::TaskKind::Subflow(s) if s.for_each.is_some())
        })
        .flat_map(|(i, t)| SUFFIXES.map(|s| (format!("{}{s}", t.id), i)))
        .collect()
}

/// How the lines are grouped, as Kestra picks it: `bytes` first, then `partitions`, then `rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// At most this many lines a batch.
    Rows(usize),
    /// A new batch once the current one holds at least this many bytes.
    Bytes(u64),
    /// This many batches, lines dealt round-robin (empty ones left out).
    Partitions(usize),
}

/// Java's `BufferedReader.readLine` lines of `text`.
fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\n' => {
                out.push(&text[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                out.push(&text[start..i]);
                i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < b.len() {
        out.push(&text[start..]);
    }
    out
}

/// The batches of `text`, each the content of one file. Pure.
pub fn split(text: &str, how: Split, separator: &str) -> Vec<String> {
    let rows = lines(text);
    match how {
        Split::Partitions(n) => {
            let mut parts = vec![String::new(); n.max(1)];
            for (i, row) in rows.iter().enumerate() {
                let p = &mut parts[i % n.max(1)];
                p.push_str(row);
                p.push_str(separator);
            }
            parts.into_iter().filter(|p| !p.is_empty()).collect()
        }
        Split::Rows(_) | Split::Bytes(_) => {
            let mut out: Vec<String> = Vec::new();
            let (mut bytes, mut count) = (0u64, 0usize);
            for row in rows {
                let full = match how {
                    Split::Rows(n) => count >= n,
                    Split::Bytes(n) => bytes >= n,
                    Split::Partitions(_) => false,
                };
                if out.is_empty() || full {
                    out.push(String::new());
                    bytes = 0;
                    count = 0;
                }
                let cur = out.last_mut().expect("a batch was just pushed");
                cur.push_str(row);
                cur.push_str(separator);
                bytes += (row.len() + separator.len()) as u64;
                count += 1;
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_kestras_storage_service() {
        let rows = [
            ("a\nb\nc\n", Split::Rows(1), "\n", vec!["a\n", "b\n", "c\n"]),
            ("a\nb\nc", Split::Rows(2), "\n", vec!["a\nb\n", "c\n"]),
            ("a\r\nb\rc\n", Split::Rows(5), ";", vec!["a;b;c;"]),
            ("", Split::Rows(1), "\n", vec![]),
            // A new batch once the current one holds at least 4 bytes.
            (
                "ab\ncd\nef\n",
                Split::Bytes(4),
                "\n",
                vec!["ab\ncd\n", "ef\n"],
            ),
            ("abcd\nef\n", Split::Bytes(4), "\n", vec!["abcd\n", "ef\n"]),
            // Round-robin; an empty partition is left out.
            (
                "1\n2\n3\n",
                Split::Partitions(2),
                "\n",
                vec!["1\n3\n", "2\n"],
            ),
            ("1\n", Split::Partitions(3), "\n", vec!["1\n"]),
            // An empty line is a line.
            ("a\n\nb\n", Split::Rows(1), "\n", vec!["a\n", "\n", "b\n"]),
        ];
        for (text, how, sep, want) in rows {
            assert_eq!(split(text, how, sep), want, "{text:?} {how:?}");
        }
    }
}
