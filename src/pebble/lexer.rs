//! Splits template text into tokens, as Pebble's lexer does: text, `{{ }}` print, `{% %}` tag
//! and `{# #}` comment delimiters with whitespace control (`{{-`, `-}}`, `{%-`, `-%}`), the
//! verbatim body of `{% raw %}`/`{% verbatim %}`, and the tokens of expressions (names,
//! numbers, strings with `#{ }` interpolation, operators). Kestra turns Pebble's new-line
//! trimming off, so a newline after a tag is kept.

use super::error::{Error, ErrorKind, Result};
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Text(String),
    PrintOpen,
    PrintClose,
    TagOpen,
    TagClose,
    Name(String),
    Long(i64),
    Double(f64),
    Str(Vec<StrPart>),
    /// An operator or punctuation mark.
    Op(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Lit(String),
    /// The tokens of a `#{ … }` interpolation, ending with `Eof`.
    Interp(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

const OPS: [&str; 28] = [
    "???", "??", "..", "==", "!=", ">=", "<=", ">", "<", "+", "-", "*", "/", "%", "~", "|", "?",
    ":", "=", ".", ",", "(", ")", "[", "]", "{", "}", "!",
];

/// Tokenizes a whole template.
pub fn lex(src: &str) -> Result<Vec<Token>> {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
        trim_next: false,
        interp_depth: 0,
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Token>,
    /// A `-}}`/`-%}` asked to trim the whitespace that starts the next text.
    trim_next: bool,
    /// Nesting of `#{ "#{ … }" }` interpolations, bounded so no input overflows the stack.
    interp_depth: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: start..self.pos,
        });
    }

    fn push_text(&mut self, text: &str, start: usize, end: usize) {
        let mut text = text;
        let mut start = start;
        if self.trim_next {
            let t = text.trim_start();
            start += text.len() - t.len();
            text = t;
            self.trim_next = false;
        }
        if !text.is_empty() {
            self.out.push(Token {
                tok: Tok::Text(text.to_string()),
                span: start..end,
            });
        }
    }

    /// `{{-` or `{%-`: trim the whitespace that ends the text before.
    fn trim_prev(&mut self) {
        if let Some(Token {
            tok: Tok::Text(t),
            span,
        }) = self.out.last_mut()
        {
            let n = t.trim_end().len();
            span.end -= t.len() - n;
            t.truncate(n);
            if t.is_empty() {
                self.out.pop();
            }
        }
    }

    fn run(&mut self) -> Result<()> {
        loop {
            let rest = self.rest();
            let next = find_open(rest);
            let Some(off) = next else {
                let start = self.pos;
                self.pos = self.src.len();
                self.push_text(rest, start, self.pos);
                break;
            };
            let start = self.pos;
            self.push_text(&rest[..off], start, start + off);
            self.pos += off;
            let open = &self.rest()[..2];
            let dstart = self.pos;
            self.pos += 2;
            let trim = self.rest().starts_with('-');
            if trim {
                self.pos += 1;
                // Kestra cuts `{% raw %}` blocks out before Pebble sees them, so whitespace control
                // marks on them do nothing (Kestra's test `raw`); `verbatim` is Pebble's and trims.
                if !(open == "{%" && is_verbatim(self.rest())) {
                    self.trim_prev();
                }
            }
            match open {
                "{#" => self.comment(dstart)?,
                "{{" => {
                    self.push(Tok::PrintOpen, dstart);
                    self.expression("}}")?;
                }
                _ => {
                    self.push(Tok::TagOpen, dstart);
                    if !self.verbatim(dstart)? {
                        self.expression("%}")?;
                    }
                }
            }
        }
        let at = self.pos;
        self.push(Tok::Eof, at);
        Ok(())
    }

    fn comment(&mut self, start: usize) -> Result<()> {
        match self.rest().find("#}") {
            Some(i) => {
                if self.rest()[..i].ends_with('-') {
                    self.trim_next = true;
                }
                self.pos += i + 2;
                Ok(())
            }
            None => Err(Error::new(
                ErrorKind::Syntax,
                "unclosed comment: `{#` without `#}`",
                start..start + 2,
            )),
        }
    }

    /// `{% raw %}…{% endraw %}` (Pebble calls it `verbatim`): the body is text, untouched.
    fn verbatim(&mut self, open: usize) -> Result<bool> {
        let rest = self.rest();
        let body = rest.trim_start();
        let word = if body.starts_with("raw") {
            "raw"
        } else if body.starts_with("verbatim") {
            "verbatim"
        } else {
            return Ok(false);
        };
        let after = body[word.len()..].trim_start();
        let (close_len, trim_after) = if after.starts_with("-%}") {
            (3, true)
        } else if after.starts_with("%}") {
            (2, false)
        } else {
            return Ok(false);
        };
        let name_at = self.pos + (rest.len() - body.len());
        self.out.push(Token {
            tok: Tok::Name(word.to_string()),
            span: name_at..name_at + word.len(),
        });
        self.pos += rest.len() - after.len() + close_len;
        let body_start = self.pos;
        let end_word = format!("end{word}");
        // Find `{%`, optional `-`, spaces, `endraw`, spaces, optional `-`, `%}`.
        let mut search = body_start;
        loop {
            let Some(i) = self.src[search..].find("{%") else {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    format!("`{{% {word} %}}` is never closed by `{{% {end_word} %}}`"),
                    open..body_start,
                ));
            };
            let at = search + i;
            let mut p = at + 2;
            let trim_before = self.src[p..].starts_with('-');
            if trim_before {
                p += 1;
            }
            let t = &self.src[p..];
            let t2 = t.trim_start();
            if let Some(t3) = t2.strip_prefix(end_word.as_str()) {
                let t4 = t3.trim_start();
                let (n, trim_after_end) = if t4.starts_with("-%}") {
                    (3, true)
                } else if t4.starts_with("%}") {
                    (2, false)
                } else {
                    search = at + 2;
                    continue;
                };
                let raw = word == "raw";
                let mut text = &self.src[body_start..at];
                if trim_after && !raw {
                    text = text.trim_start();
                }
                if trim_before && !raw {
                    text = text.trim_end();
                }
                let text_start = body_start;
                self.out.push(Token {
                    tok: Tok::TagClose,
                    span: body_start..body_start,
                });
                if !text.is_empty() {
                    self.out.push(Token {
                        tok: Tok::Text(text.to_string()),
                        span: text_start..at,
                    });
                }
                self.pos = p + (t.len() - t4.len()) + n;
                self.out.push(Token {
                    tok: Tok::TagOpen,
                    span: at..at + 2,
                });
                let end_at = p + (t.len() - t2.len());
                self.out.push(Token {
                    tok: Tok::Name(end_word.clone()),
                    span: end_at..end_at + end_word.len(),
                });
                let close = self.pos - n;
                self.out.push(Token {
                    tok: Tok::TagClose,
                    span: close..self.pos,
                });
                self.trim_next = trim_after_end && !raw;
                return Ok(true);
            }
            search = at + 2;
        }
    }

    /// Tokens up to the closing delimiter `close` (`}}` or `%}`), outside any bracket.
    fn expression(&mut self, close: &'static str) -> Result<()> {
        let mut depth: Vec<char> = Vec::new();
        loop {
            self.skip_ws();
            let rest = self.rest();
            let start = self.pos;
            if rest.is_empty() {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    format!("unclosed expression: expected `{close}`"),
                    start..start,
                ));
            }
            if depth.is_empty() {
                if rest.starts_with('-') && rest[1..].starts_with(close) {
                    self.pos += 1 + close.len();
                    self.trim_next = true;
                    self.push(
                        if close == "}}" {
                            Tok::PrintClose
                        } else {
                            Tok::TagClose
                        },
                        start,
                    );
                    return Ok(());
                }
                if rest.starts_with(close) {
                    self.pos += close.len();
                    self.push(
                        if close == "}}" {
                            Tok::PrintClose
                        } else {
                            Tok::TagClose
                        },
                        start,
                    );
                    return Ok(());
                }
            }
            self.token(&mut depth)?;
        }
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// One expression token; `depth` tracks open brackets so `}}` inside a map is not the end.
    fn token(&mut self, depth: &mut Vec<char>) -> Result<()> {
        let rest = self.rest();
        let start = self.pos;
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_ascii_digit() {
            return self.number();
        }
        if c.is_alphabetic() || c == '_' {
            let n = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            self.pos += n;
            self.push(Tok::Name(rest[..n].to_string()), start);
            return Ok(());
        }
        if c == '"' || c == '\'' {
            return self.string(c);
        }
        for op in OPS {
            if rest.starts_with(op) {
                match op {
                    "(" | "[" | "{" => depth.push(op.chars().next().unwrap_or('(')),
                    ")" | "]" | "}" => {
                        let want = match op {
                            ")" => '(',
                            "]" => '[',
                            _ => '{',
                        };
                        if depth.pop() != Some(want) {
                            return Err(Error::new(
                                ErrorKind::Syntax,
                                format!("unexpected `{op}`"),
                                start..start + 1,
                            ));
                        }
                    }
                    _ => {}
                }
                self.pos += op.len();
                self.push(Tok::Op(op), start);
                return Ok(());
            }
        }
        let len = c.len_utf8();
        Err(Error::new(
            ErrorKind::Syntax,
            format!("unexpected character `{c}`"),
            start..start + len,
        ))
    }

    fn number(&mut self) -> Result<()> {
        let rest = self.rest();
        let start = self.pos;
        let mut n = rest
            .find(|ch: char| !ch.is_ascii_digit())
            .unwrap_or(rest.len());
        let mut double = false;
        // A fraction needs a digit after the dot, so `1..3` is a range.
        if rest[n..].starts_with('.') && rest[n + 1..].starts_with(|ch: char| ch.is_ascii_digit()) {
            double = true;
            n += 1;
            n += rest[n..]
                .find(|ch: char| !ch.is_ascii_digit())
                .unwrap_or(rest.len() - n);
        }
        let text = &rest[..n];
        self.pos += n;
        let tok = if double {
            Tok::Double(text.parse().map_err(|_| self.bad_number(start))?)
        } else {
            match text.parse::<i64>() {
                Ok(v) => Tok::Long(v),
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Syntax,
                        format!("number `{text}` is too large"),
                        start..self.pos,
                    ));
                }
            }
        };
        self.push(tok, start);
        Ok(())
    }

    fn bad_number(&self, start: usize) -> Error {
        Error::new(ErrorKind::Syntax, "bad number", start..self.pos)
    }

    /// A string literal: `'…'` or `"…"` with backslash escapes; `"…#{expr}…"` interpolates.
    fn string(&mut self, quote: char) -> Result<()> {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    "unclosed string literal",
                    start..start + 1,
                ));
            };
            if c == quote {
                self.pos += 1;
                break;
            }
            // Pebble unescapes only the string's own quote (`\'` in '…', `\"` in "…");
            // any other backslash stays as it is (so regexes like '\d' need no doubling).
            if c == '\\' && rest[1..].starts_with(quote) {
                lit.push(quote);
                self.pos += 2;
                continue;
            }
            if quote == '"' && rest.starts_with("#{") {
                if !lit.is_empty() {
                    parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                }
                let istart = self.pos;
                if self.interp_depth >= 8 {
                    return Err(Error::new(
                        ErrorKind::Limit,
                        "string interpolations nested too deeply",
                        istart..istart + 2,
                    ));
                }
                self.interp_depth += 1;
                self.pos += 2;
                let mut toks = Vec::new();
                let mut depth: Vec<char> = Vec::new();
                loop {
                    self.skip_ws();
                    let r = self.rest();
                    if r.is_empty() {
                        return Err(Error::new(
                            ErrorKind::Syntax,
                            "unclosed `#{` interpolation",
                            istart..istart + 2,
                        ));
                    }
                    if depth.is_empty() && r.starts_with('}') {
                        let at = self.pos;
                        self.pos += 1;
                        toks.push(Token {
                            tok: Tok::Eof,
                            span: at..at,
                        });
                        break;
                    }
                    let before = self.out.len();
                    self.token(&mut depth)?;
                    toks.extend(self.out.drain(before..));
                }
                self.interp_depth -= 1;
                parts.push(StrPart::Interp(toks));
                continue;
            }
            lit.push(c);
            self.pos += c.len_utf8();
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        self.push(Tok::Str(parts), start);
        Ok(())
    }
}

fn is_verbatim(rest: &str) -> bool {
    let b = rest.trim_start();
    b.strip_prefix("raw").is_some_and(|a| {
        let a = a.trim_start();
        a.starts_with("%}") || a.starts_with("-%}")
    })
}

/// Offset of the next `{{`, `{%` or `{#`.
fn find_open(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(j) = s[i..].find('{') {
        let at = i + j;
        if let Some(n) = b.get(at + 1)
            && matches!(n, b'{' | b'%' | b'#')
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}
