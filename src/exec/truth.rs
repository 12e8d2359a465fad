//! Kestra's truthiness of a rendered condition (`TruthUtils.isTruthy` / `isFalsy`), the one
//! rule every condition dockhand renders goes through: If's `condition`, a task's `runIf`, Fail's
//! `condition` and Assert's `conditions` (Kestra's If, JdbcExecutor's runIf, Fail and Assert all
//! call TruthUtils). A text is false when, trimmed as Java's `String.trim` trims (every character
//! up to U+0020: spaces, tabs, line breaks, other control characters), it is `false`, `0`, `-0`
//! or empty; anything else is true, `False` and `null` included.

/// What Kestra counts as false, after trimming.
const FALSE_VALUES: [&str; 4] = ["false", "0", "-0", ""];

/// Whether a rendered condition is true.
pub fn truthy(rendered: &str) -> bool {
    !FALSE_VALUES.contains(&java_trim(rendered))
}

/// `String.trim`: strips the characters at or below U+0020 at both ends (not other Unicode
/// spaces, which `str::trim` would strip too).
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= '\u{20}')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kestra's `TruthUtilsTest` (core/src/test/java/io/kestra/core/utils/TruthUtilsTest.java)
    /// first, then the edges of its rule.
    #[test]
    fn truthiness_is_kestras() {
        for (s, want) in [
            // TruthUtilsTest.isTruthy
            ("true", true),
            ("  true  ", true),
            ("1", true),
            ("This should be true", true),
            // TruthUtilsTest.isFalsy
            ("false", false),
            ("     false ", false),
            ("0", false),
            ("-0", false),
            ("", false),
            // The trim is Java's: line breaks a YAML block leaves, tabs, control characters.
            ("false\n", false),
            ("\t0\r\n", false),
            ("\u{1}-0", false),
            ("  ", false),
            // ... but not other Unicode spaces.
            ("\u{a0}false", true),
            // Only these exact words: case and other spellings of zero are true.
            ("False", true),
            ("FALSE", true),
            ("0.0", true),
            ("00", true),
            ("null", true),
            ("no", true),
        ] {
            assert_eq!(truthy(s), want, "{s:?}");
        }
    }
}
