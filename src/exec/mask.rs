//! Masking secret values in everything dockhand prints or keeps: task logs, status lines, error
//! messages, outputs (in `--json`, the summary and the journal). As Kestra does
//! (`RunContextLogger`), each secret value and its base64 form is replaced by `******`.
//!
//! Values shorter than [`MIN_LEN`] characters are not masked: replacing every `ab` or `1` in a
//! log would make it unreadable and tell a reader the secret anyway. dockhand warns about them.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::exec::result::{Failure, TaskResult};

/// What a secret value is replaced with (Kestra's mask).
pub const MASK: &str = "******";

/// Shortest value that is masked.
pub const MIN_LEN: usize = 4;

/// Replaces known secret values. Cheap when there are none.
#[derive(Default)]
pub struct Masker {
    finder: Option<AhoCorasick>,
    /// Bytes in the longest pattern: how much of a long line's piece [`Masker::head`] holds
    /// back, at most, for what comes next.
    longest: usize,
}

/// Says how many values, never which (the automaton's own `Debug` would show them).
impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.finder.as_ref().map_or(0, AhoCorasick::patterns_len);
        write!(f, "Masker({n} patterns)")
    }
}

impl Masker {
    /// A masker for these values (and their base64 forms); values under [`MIN_LEN`] are left
    /// out.
    pub fn new<I, S>(values: I) -> Masker
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut patterns: Vec<String> = Vec::new();
        for v in values {
            let v = v.as_ref();
            if v.chars().count() < MIN_LEN {
                continue;
            }
            patterns.push(v.to_string());
            patterns.push(crate::plan::build::base64(v.as_bytes()));
        }
        patterns.sort();
        patterns.dedup();
        if patterns.is_empty() {
            return Masker::default();
        }
        // Longest match first, so a secret that contains another is masked whole.
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        Masker { finder, longest }
    }

    /// A piece of a line too long to keep whole, masked: `(head, cut)`, where `head` is
    /// `data[..cut]` with its secrets masked, and no secret starts before `cut` and ends after
    /// it. The bytes from `cut` on (fewer than one secret's length) may begin a secret that the
    /// next bytes complete: the caller keeps them for the next piece. Without secrets, all of
    /// `data` is the head.
    pub fn head<'a>(&self, data: &'a [u8]) -> (Cow<'a, [u8]>, usize) {
        let Some(f) = &self.finder else {
            return (Cow::Borrowed(data), data.len());
        };
        // A match starting before `len - (longest - 1)` ends within `data`, so leftmost-longest
        // finds it whole (the longest pattern there, not a shorter one it begins with).
        let mut cut = data.len().saturating_sub(self.longest.saturating_sub(1));
        let mut out = Vec::with_capacity(data.len());
        let mut last = 0;
        for m in f.find_iter(data) {
            if m.start() >= cut {
                break;
            }
            out.extend_from_slice(&data[last..m.start()]);
            out.extend_from_slice(MASK.as_bytes());
            last = m.end();
            cut = cut.max(m.end());
        }
        out.extend_from_slice(&data[last..cut]);
        (Cow::Owned(out), cut)
    }

    pub fn is_empty(&self) -> bool {
        self.finder.is_none()
    }

    pub fn bytes<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.finder {
            Some(f) if f.is_match(data) => {
                Cow::Owned(f.replace_all_bytes(data, &vec![MASK.as_bytes(); f.patterns_len()]))
            }
            _ => Cow::Borrowed(data),
        }
    }

    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        match &self.finder {
            Some(f) if f.is_match(s) => Cow::Owned(f.replace_all(s, &vec![MASK; f.patterns_len()])),
            _ => Cow::Borrowed(s),
        }
    }

    fn string(&self, s: &mut String) {
        if let Cow::Owned(m) = self.text(s) {
            *s = m;
        }
    }

    /// Every string in a JSON value, keys included.
    pub fn json(&self, v: &mut serde_json::Value) {
        if self.is_empty() {
            return;
        }
        match v {
            serde_json::Value::String(s) => self.string(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            serde_json::Value::Object(o) => {
                let old = std::mem::take(o);
                for (k, mut x) in old {
                    self.json(&mut x);
                    o.insert(self.text(&k).into_owned(), x);
                }
            }
            _ => {}
        }
    }

    /// A task's result as it may be printed and journaled: message, failure, outputs, metrics
    /// and output file names. Later tasks see outputs masked too (they are what the journal
    /// keeps, so a resumed execution sees the same); a task needing the secret uses the input.
    pub fn result(&self, r: &mut TaskResult) {
        if self.is_empty() {
            return;
        }
        if let Some(m) = &mut r.message {
            self.string(m);
        }
        if let Some(
            Failure::Engine { message } | Failure::Setup { message } | Failure::Task { message },
        ) = &mut r.failure
        {
            self.string(message);
        }
        let outputs = std::mem::take(&mut r.outputs);
        for (k, mut v) in outputs {
            self.json(&mut v);
            r.outputs.insert(self.text(&k).into_owned(), v);
        }
        r.metrics.iter_mut().for_each(|m| self.json(m));
        r.output_files.iter_mut().for_each(|f| self.string(f));
        let labels = std::mem::take(&mut r.labels);
        for (k, v) in labels {
            r.labels
                .insert(self.text(&k).into_owned(), self.text(&v).into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::result::State;

    #[test]
    fn a_long_lines_pieces_mask_as_the_whole_line_would() {
        // A shorter secret that a longer one begins with, and base64 forms: cut anywhere, the
        // pieces put together are the line masked whole (no secret, or rest of one, leaks).
        let m = Masker::new(["hunter22", "hunter22-and-more"]);
        let b64 = crate::plan::build::base64(b"hunter22-and-more");
        let mut line = Vec::new();
        for i in 0..60 {
            line.extend_from_slice(match i % 4 {
                0 => b"hunter22-and-more|".as_slice(),
                1 => b"hunter22|",
                2 => b64.as_bytes(),
                _ => b"hunter2x|",
            });
        }
        let whole = m.bytes(&line).into_owned();
        assert!(!String::from_utf8_lossy(&whole).contains("hunter22"));
        for (chunk, limit) in [(1, 30), (7, 40), (13, 64), (100, 50), (5, 1)] {
            let mut pending: Vec<u8> = Vec::new();
            let mut out: Vec<u8> = Vec::new();
            for piece in line.chunks(chunk) {
                pending.extend_from_slice(piece);
                if pending.len() >= limit {
                    let (head, cut) = m.head(&pending);
                    out.extend_from_slice(&head);
                    drop(head);
                    pending.drain(..cut);
                    assert!(pending.len() < b64.len(), "holds back less than a secret");
                }
            }
            out.extend_from_slice(&m.bytes(&pending));
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&whole),
                "chunk {chunk}, limit {limit}"
            );
        }
        let none = Masker::default();
        assert_eq!(none.head(b"abc"), (Cow::Borrowed(&b"abc"[..]), 3));
    }

    #[test]
    fn values_and_their_base64_are_masked() {
        let m = Masker::new(["hunter22", "ab", "hunter22-long"]);
        assert_eq!(m.text("pw=hunter22!"), "pw=******!");
        assert_eq!(m.text("hunter22-long and hunter22"), "****** and ******");
        // base64 of "hunter22".
        assert_eq!(m.text("aHVudGVyMjI="), "******");
        // Too short to mask.
        assert_eq!(m.text("ab cd"), "ab cd");
        assert!(matches!(m.text("nothing here"), Cow::Borrowed(_)));
        assert_eq!(&*m.bytes(b"x hunter22\xff"), b"x ******\xff");
        assert!(Masker::new(Vec::<String>::new()).is_empty());
        assert!(Masker::new(["abc"]).is_empty());
    }

    #[test]
    fn results_are_masked_everywhere_they_carry_text() {
        let m = Masker::new(["s3cr3t-value"]);
        let mut r = TaskResult::new("t", State::Failed);
        r.message = Some("engine error: bad s3cr3t-value".into());
        r.failure = Some(Failure::Engine {
            message: "bad s3cr3t-value".into(),
        });
        r.outputs.insert(
            "k".into(),
            serde_json::json!({"a": ["s3cr3t-value"], "s3cr3t-value": 1}),
        );
        r.outputs
            .insert("s3cr3t-value".into(), serde_json::json!("x"));
        r.metrics.push(serde_json::json!({"name": "s3cr3t-value"}));
        m.result(&mut r);
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert_eq!(
            r.outputs["k"],
            serde_json::json!({"a": ["******"], "******": 1})
        );
        assert_eq!(r.message.as_deref(), Some("engine error: bad ******"));
    }
}
