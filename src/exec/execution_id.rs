//! What an execution id may be. An id names files (`STATE_DIR/executions/ID.jsonl`, its lock,
//! `WORK_DIR/ID/…`) and container names, so it must never be a path: every command that takes
//! one, and every place that reads one back (container labels, journal file names), checks it
//! with [`check`].

/// Longest id: container names are `dh-ID-TASK-ATTEMPT`.
pub const MAX_LEN: usize = 64;

/// Letters, digits, `_` and `-`, at most [`MAX_LEN`], starting with a letter or digit (so it is
/// neither a hidden file, nor `.`/`..`, nor an option).
pub fn check(id: &str) -> Result<&str, String> {
    let ok = !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(id)
    } else {
        Err(format!(
            "`{id}` is not an execution id: use letters, digits, `_` and `-` (at most {MAX_LEN}, starting with a letter or digit)"
        ))
    }
}

/// Is `id` a valid execution id?
pub fn is_valid(id: &str) -> bool {
    check(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_odd_names_are_not_ids() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "../../x",
            "a/b",
            "/abs",
            ".hidden",
            "-opt",
            "x y",
            "a\nb",
            "é",
            &"x".repeat(65),
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        for good in ["plan", "7k2m9x4q0abc", "Ab_9-z", &"x".repeat(64)] {
            assert_eq!(check(good), Ok(good));
        }
    }
}
