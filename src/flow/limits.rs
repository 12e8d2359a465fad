//! Bounds on what a flow file may hold, so that hostile or broken input is refused quickly and
//! with bounded memory instead of exhausting the host: the file's size, the length of a line, how
//! deep collections nest, and how much YAML aliases may expand (a "billion laughs" document is a
//! few hundred bytes that expand to gigabytes when every alias is copied).
//!
//! The limits are far above what a hand-written or generated flow needs (the 10,000-task flow of
//! the benchmark is about 2 MB, nests 4 levels and uses no alias).

use std::io::Read;

use crate::diag::{Diags, Pos};

/// Largest flow file read, in bytes.
pub const MAX_FILE_BYTES: usize = 16 << 20;
/// Longest line, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Deepest nesting of maps and lists.
pub const MAX_DEPTH: usize = 100;
/// Nodes (scalars, lists, maps) that aliases may add to the document in all.
pub const MAX_ALIAS_NODES: usize = 250_000;
/// Scalar text, in bytes, that aliases may add to the document in all.
pub const MAX_ALIAS_BYTES: usize = 16 << 20;

fn mib(n: usize) -> String {
    format!("{} MiB", n >> 20)
}

/// Reads a flow file, refusing one larger than [`MAX_FILE_BYTES`] without reading it whole.
/// The error is the complete message (`cannot read the file: ...` or the size limit).
pub fn read_file(path: &str) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut buf = Vec::new();
    // One byte past the limit tells "too large" from "exactly at the limit" (a pipe or a
    // special file has no trustworthy size in its metadata).
    f.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if buf.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(buf).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        format!("cannot read the file: line {line} is not valid UTF-8")
    })
}

fn too_large() -> String {
    format!(
        "the file is larger than {}, the most dockhand reads as a flow",
        mib(MAX_FILE_BYTES)
    )
}

/// Checks the size and line lengths of a flow's text; `false` (with an error) when it must not
/// be parsed.
pub fn check_text(text: &str, diags: &mut Diags) -> bool {
    if text.len() > MAX_FILE_BYTES {
        diags.error(Pos::default(), "", too_large());
        return false;
    }
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > MAX_LINE_BYTES {
            diags.error(
                Pos::new(i + 1, 1),
                "",
                format!(
                    "the line is {} bytes long; dockhand reads lines up to {} (use a block scalar `|` for long text)",
                    line.len(),
                    mib(MAX_LINE_BYTES)
                ),
            );
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.yaml");
        let f = std::fs::File::create(&p).unwrap();
        // Sparse: 1 GiB on paper, nothing on disk.
        f.set_len(1 << 30).unwrap();
        let e = read_file(p.to_str().unwrap()).unwrap_err();
        assert_eq!(
            e,
            "the file is larger than 16 MiB, the most dockhand reads as a flow"
        );
        std::fs::write(&p, "id: a\n").unwrap();
        assert_eq!(read_file(p.to_str().unwrap()).unwrap(), "id: a\n");
        std::fs::write(&p, b"id: a\nx: \xff\n").unwrap();
        assert_eq!(
            read_file(p.to_str().unwrap()).unwrap_err(),
            "cannot read the file: line 2 is not valid UTF-8"
        );
    }

    #[test]
    fn a_huge_line_is_refused_with_its_number() {
        let text = format!("id: a\nx: {}\n", "y".repeat(MAX_LINE_BYTES));
        let mut d = Diags::new("f.yaml");
        assert!(!check_text(&text, &mut d));
        assert_eq!(
            d.to_string(),
            format!(
                "f.yaml:2:1: error: the line is {} bytes long; dockhand reads lines up to 1 MiB (use a block scalar `|` for long text)\n",
                MAX_LINE_BYTES + 3
            )
        );
        let mut d = Diags::new("f.yaml");
        assert!(check_text("id: a\n", &mut d));
        assert!(d.is_empty());
    }
}
