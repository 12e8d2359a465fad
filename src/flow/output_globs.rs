//! Which files of a working directory a task's `outputFiles` pattern names, as Kestra decides
//! it (kestra-io/kestra@58c1ca2d, `LocalWorkingDir.findAllFilesMatching` with
//! `PathMatcherPredicate.matches(workingDir, patterns)`, and Java's `PathMatcher`):
//!
//! - a pattern without a prefix is a glob relative to the working directory: Kestra matches
//!   `glob:WORKING_DIR/PATTERN` against each file's absolute path, so `*.csv` names the files at
//!   the top only and `**/*.csv` those in a subdirectory only (`**/` needs a `/`, as in Java);
//! - `glob:PATTERN` and `regex:PATTERN` are matched, whole, against the file's absolute path
//!   (`glob:**/*.csv` names every `.csv` at any depth; `glob:*.csv` names nothing, since an
//!   absolute path has slashes; `regex:.*\.csv` names every `.csv`). dockhand's absolute path is
//!   the working directory's real path on the host.
//!
//! Globs are Java's (`sun.nio.fs.Globs`): `*` and `?` stay within a path component, `**`
//! crosses them, `[abc]`, `[a-z]`, `[!a]` are classes (no `/` inside), `{a,b}` are
//! alternatives (not nested), `\` escapes the next character. A pattern Java would refuse
//! names nothing (`validate` says so, [`problem`]).

use regex::Regex;

/// A compiled `outputFiles` pattern.
#[derive(Debug)]
pub struct OutputPattern {
    re: Option<Regex>,
    /// Matched against the absolute path (a `glob:` or `regex:` prefix), not the relative one.
    absolute: bool,
}

impl OutputPattern {
    pub fn new(pattern: &str) -> OutputPattern {
        let (absolute, source) = if let Some(re) = pattern.strip_prefix("regex:") {
            (true, Ok(re.to_string()))
        } else if let Some(g) = pattern.strip_prefix("glob:") {
            (true, glob_to_regex(g))
        } else if pattern.starts_with('/') {
            (false, glob_to_regex(pattern))
        } else {
            (false, glob_to_regex(&format!("/{pattern}")))
        };
        let re = source
            .ok()
            .and_then(|s| Regex::new(&format!("^(?:{s})$")).ok());
        OutputPattern { re, absolute }
    }

    /// Does the file at `rel` (relative to the working directory, `/`-separated) match, the
    /// working directory being `root` (absolute)?
    pub fn matches(&self, root: &str, rel: &str) -> bool {
        let Some(re) = &self.re else { return false };
        if self.absolute {
            re.is_match(&format!("{}/{rel}", root.trim_end_matches('/')))
        } else {
            re.is_match(&format!("/{rel}"))
        }
    }

    /// Whether the pattern is matched against the absolute path (so it may name a file below
    /// any directory).
    pub fn is_absolute(&self) -> bool {
        self.absolute
    }
}

/// Why Kestra would refuse `pattern`, or what surprises it holds; None when it is fine.
pub fn problem(pattern: &str) -> Option<String> {
    if let Some(re) = pattern.strip_prefix("regex:") {
        return Regex::new(re)
            .err()
            .map(|e| format!("`{pattern}` is not a regular expression: {e}"));
    }
    let glob = pattern.strip_prefix("glob:");
    if let Err(e) = glob_to_regex(glob.unwrap_or(pattern)) {
        return Some(format!("`{pattern}` is not a glob: {e}"));
    }
    match glob {
        Some(g) if !g.starts_with('/') && !g.starts_with("**") && !g.starts_with('{') => {
            Some(format!(
                "`{pattern}` names no file: as in Kestra, a `glob:` pattern is matched against the file's absolute path; write `{g}` (relative to the working directory) or `glob:**/{g}`"
            ))
        }
        _ => None,
    }
}

/// Java's glob syntax as a regular expression (`sun.nio.fs.Globs.toUnixRegexPattern`, written
/// from its documented rules).
pub fn glob_to_regex(glob: &str) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    let mut in_group = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let Some(&n) = chars.get(i) else {
                    return Err("a `\\` ends the pattern".into());
                };
                i += 1;
                out.push_str(&regex::escape(&n.to_string()));
            }
            '/' => out.push('/'),
            '[' => {
                out.push('[');
                if chars.get(i) == Some(&'!') {
                    out.push('^');
                    i += 1;
                } else if chars.get(i) == Some(&'^') {
                    out.push_str("\\^");
                    i += 1;
                }
                let mut closed = false;
                let mut first = true;
                while i < chars.len() {
                    let c = chars[i];
                    i += 1;
                    match c {
                        ']' if !first => {
                            closed = true;
                            break;
                        }
                        '/' => return Err("a `/` inside `[...]`".into()),
                        '\\' | '[' | '&' | '^' => {
                            out.push('\\');
                            out.push(c);
                        }
                        '-' => out.push('-'),
                        c => out.push(c),
                    }
                    first = false;
                }
                if !closed {
                    return Err("a `[` is not closed".into());
                }
                out.push(']');
            }
            '{' => {
                if in_group {
                    return Err("`{...}` groups cannot be nested".into());
                }
                out.push_str("(?:(?:");
                in_group = true;
            }
            '}' if in_group => {
                out.push_str("))");
                in_group = false;
            }
            ',' if in_group => out.push_str(")|(?:"),
            '*' => {
                if chars.get(i) == Some(&'*') {
                    out.push_str(".*");
                    i += 1;
                } else {
                    out.push_str("[^/]*");
                }
            }
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    if in_group {
        return Err("a `{` is not closed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case: pattern, relative path, whether Kestra hands the file out (worked out from
    /// `glob:WORKING_DIR/PATTERN` or the prefixed pattern against `/wd/REL` with Java's rules).
    #[test]
    fn output_patterns_as_kestra() {
        let cases = [
            // Relative globs: `*` and `?` within a component.
            ("*.txt", "a.txt", true),
            ("*.txt", "d/a.txt", false),
            ("out/?.csv", "out/1.csv", true),
            ("out/?.csv", "out/12.csv", false),
            ("result.json", "result.json", true),
            ("result.json", "d/result.json", false),
            ("/result.json", "result.json", true),
            // `**` crosses components, and `**/` needs one.
            ("**/*.txt", "d/e/a.txt", true),
            ("**/*.txt", "a.txt", false),
            ("**", "d/e/a.txt", true),
            ("d/**", "d/e/a.txt", true),
            ("d/**", "e/a.txt", false),
            ("**.txt", "d/a.txt", true),
            // Alternatives and classes.
            ("*.{csv,json}", "a.json", true),
            ("*.{csv,json}", "a.txt", false),
            ("{a,b}.txt", "b.txt", true),
            ("out/{a,b}/*.txt", "out/b/x.txt", true),
            ("report[12].txt", "report2.txt", true),
            ("report[12].txt", "report3.txt", false),
            ("report[!12].txt", "report3.txt", true),
            ("report[0-9].txt", "report7.txt", true),
            ("[ab].txt", "c.txt", false),
            ("\\*.txt", "*.txt", true),
            ("\\*.txt", "a.txt", false),
            // Prefixed: against the absolute path.
            ("glob:**/*.txt", "a.txt", true),
            ("glob:**/*.txt", "d/e/a.txt", true),
            ("glob:*.txt", "a.txt", false),
            ("glob:/wd/*.txt", "a.txt", true),
            ("regex:.*\\.csv", "d/e/a.csv", true),
            ("regex:.*\\.csv", "a.csv.bak", false),
            ("regex:.*/out/[0-9]+\\.json", "out/12.json", true),
            ("regex:out/[0-9]+\\.json", "out/12.json", false),
            // What Java refuses names nothing.
            ("regex:(", "a", false),
            ("{a,{b,c}}", "b", false),
            ("[a/b]", "a", false),
            ("[ab", "a", false),
        ];
        for (p, rel, want) in cases {
            assert_eq!(
                OutputPattern::new(p).matches("/wd", rel),
                want,
                "{p} against {rel}"
            );
        }
    }

    #[test]
    fn problems_are_named() {
        assert!(problem("*.txt").is_none());
        assert!(problem("glob:**/*.txt").is_none());
        assert!(problem("regex:.*\\.csv").is_none());
        assert!(problem("glob:*.txt").unwrap().contains("names no file"));
        assert!(
            problem("regex:(")
                .unwrap()
                .contains("not a regular expression")
        );
        assert!(problem("{a,{b}}").unwrap().contains("nested"));
        assert!(problem("[a").unwrap().contains("not closed"));
    }
}
