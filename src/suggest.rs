//! "Did you mean" suggestions for misspelled property names and enum values.

/// Edit distance between two strings (Levenshtein, case-insensitive).
pub fn distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)` or the empty string.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_matched() {
        assert_eq!(distance("memroy", "memory"), 2);
        assert_eq!(
            closest("memroy", ["memory", "cpu", "volumes"]),
            Some("memory")
        );
        assert_eq!(
            closest("pullpolicy", ["pullPolicy", "user"]),
            Some("pullPolicy")
        );
        assert_eq!(closest("zzzzzz", ["memory", "cpu"]), None);
        assert_eq!(hint("cpus", ["cpu"]), " (did you mean `cpu`?)");
    }
}
