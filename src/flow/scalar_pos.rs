//! Where a character of a YAML string value stands in the file. A template error is found at a
//! byte offset of the decoded value; the file holds that value in one of YAML's styles (plain,
//! single- or double-quoted, literal `|` or folded `>` block), with indentation, folded line
//! breaks, quote doubling and escapes that the decoded text no longer has. [`locate`] walks the
//! file text from the scalar's start and the decoded text side by side, so each decoded
//! character is matched to the source character it came from.

use crate::diag::Pos;

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Block,
}

/// The file position of byte `offset` of `value`, a scalar starting at `start` in `src`. Falls
/// back to `start` when the source does not hold the value as expected.
pub fn locate(src: &str, start: Pos, value: &str, offset: usize) -> Pos {
    walk(src, start, value, offset).unwrap_or(start)
}

fn walk(src: &str, start: Pos, value: &str, offset: usize) -> Option<Pos> {
    // The byte where the scalar starts: `start` is 1-based, its column in characters.
    let mut at = 0;
    for _ in 1..start.line {
        at += src[at..].find('\n')? + 1;
    }
    at += src[at..]
        .char_indices()
        .nth(start.col.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let (mut line, mut col) = (start.line, start.col);
    let rest = &src[at..];
    let style = match rest.chars().next()? {
        '|' | '>' => Style::Block,
        '\'' => Style::Single,
        '"' => Style::Double,
        _ => Style::Plain,
    };
    let mut s = rest.char_indices().peekable();
    // Step past the opening quote, or the block header line (indicators and a comment).
    let advance =
        |s: &mut std::iter::Peekable<std::str::CharIndices>, line: &mut usize, col: &mut usize| {
            let (_, c) = s.next()?;
            if c == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            Some(c)
        };
    match style {
        Style::Single | Style::Double => {
            advance(&mut s, &mut line, &mut col)?;
        }
        Style::Block => while advance(&mut s, &mut line, &mut col)? != '\n' {},
        Style::Plain => {}
    }
    for (i, c) in value.char_indices() {
        loop {
            let (j, sc) = *s.peek()?;
            if style == Style::Double && sc == '\\' {
                let (decoded, len) = escape(&rest[j..])?;
                let here = Pos::new(line, col);
                for _ in 0..len {
                    advance(&mut s, &mut line, &mut col)?;
                }
                match decoded {
                    // An escaped line break (continuation): nothing in the value.
                    None => continue,
                    Some(d) if d == c => {
                        if i >= offset {
                            return Some(here);
                        }
                        break;
                    }
                    Some(_) => continue,
                }
            }
            let matched = sc == c
                // A line break folded into a space.
                || (sc == '\n' && c == ' ' && style != Style::Block)
                || (sc == '\n' && c == ' ' && style == Style::Block && value_is_folded(rest));
            if matched {
                let here = Pos::new(line, col);
                advance(&mut s, &mut line, &mut col)?;
                if style == Style::Single && c == '\'' {
                    // `''` is one quote.
                    if s.peek().map(|p| p.1) == Some('\'') {
                        advance(&mut s, &mut line, &mut col)?;
                    }
                }
                if i >= offset {
                    return Some(here);
                }
                break;
            }
            // Indentation, trailing spaces, a closing quote: not in the value.
            advance(&mut s, &mut line, &mut col)?;
        }
    }
    None
}

fn value_is_folded(rest: &str) -> bool {
    rest.starts_with('>')
}

/// A double-quoted escape at the start of `s` (which starts with `\`): the character it stands
/// for (none for an escaped line break) and its length in characters.
fn escape(s: &str) -> Option<(Option<char>, usize)> {
    let mut it = s.chars().skip(1);
    let c = it.next()?;
    let simple = |d: char| Some((Some(d), 2));
    match c {
        '0' => simple('\0'),
        'a' => simple('\x07'),
        'b' => simple('\x08'),
        't' | '\t' => simple('\t'),
        'n' => simple('\n'),
        'v' => simple('\x0b'),
        'f' => simple('\x0c'),
        'r' => simple('\r'),
        'e' => simple('\x1b'),
        ' ' => simple(' '),
        '"' => simple('"'),
        '/' => simple('/'),
        '\\' => simple('\\'),
        'N' => simple('\u{85}'),
        '_' => simple('\u{a0}'),
        'L' => simple('\u{2028}'),
        'P' => simple('\u{2029}'),
        '\n' => Some((None, 2)),
        'x' | 'u' | 'U' => {
            let n = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex: String = it.take(n).collect();
            let d = u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)?;
            Some((Some(d), 2 + n))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diags;
    use crate::flow::yaml;

    /// Parses `src` (a map of one key), and locates the first `needle` of its value.
    fn at(src: &str, needle: &str) -> (usize, usize) {
        let mut d = Diags::new("t.yaml");
        let root = yaml::parse(src, &mut d).expect("parses");
        let yaml::Value::Map(e) = &root.value else {
            panic!("a map")
        };
        let v = &e[0].1;
        let text = v.scalar().expect("a scalar");
        let off = text.find(needle).expect("needle in value");
        let p = locate(src, v.pos, text, off);
        (p.line, p.col)
    }

    /// The line and column of the first `needle` in the file text itself.
    fn raw(src: &str, needle: &str) -> (usize, usize) {
        let i = src.find(needle).unwrap();
        let line = src[..i].matches('\n').count() + 1;
        let col = src[..i].rsplit('\n').next().unwrap().chars().count() + 1;
        (line, col)
    }

    #[test]
    fn every_style_maps_back_to_the_file() {
        for src in [
            "k: echo {{ bad( }}\n",
            "k: 'it''s {{ bad( }}'\n",
            "k: \"tab\\there \\\"q\\\" {{ bad( }}\"\n",
            "k: \"\\u00e9\\x41 {{ bad( }}\"\n",
            "k: \"one \\\n   two {{ bad( }}\"\n",
            "k: |\n  line one\n    indented\n  x {{ bad( }}\n",
            "k: |-  # comment\n    echo\n\n    {{ bad( }}\n",
            "k: >\n  folded\n  text {{ bad( }}\n",
            "k: plain\n  continued {{ bad( }}\n",
            "k: 'multi\n  line {{ bad( }}'\n",
            "k: \"é ü {{ bad( }}\"\n",
        ] {
            assert_eq!(at(src, "bad("), raw(src, "bad("), "in {src:?}");
        }
    }

    #[test]
    fn a_value_the_source_does_not_hold_falls_back_to_the_start() {
        let p = locate("k: abc\n", Pos::new(1, 4), "xyz", 1);
        assert_eq!(p, Pos::new(1, 4));
    }
}
