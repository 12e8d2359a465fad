//! String filters: case, trimming, splitting, replacing, substrings (Apache Commons'
//! `StringUtils` semantics, as Kestra uses), regexes (Java's `$1` group references), prefixes
//! and suffixes, indentation, escaping.

use super::text;
use crate::pebble::eval::{Bound, CallError, CallResult};
use crate::pebble::value::Value;

pub fn apply(name: &str, input: &Value, args: &Bound) -> CallResult<Option<Value>> {
    // Pebble's string filters pass null through.
    let nullable = [
        "upper",
        "lower",
        "trim",
        "capitalize",
        "title",
        "abbreviate",
        "replace",
        "slugify",
        "substringBefore",
        "substringAfter",
        "substringBeforeLast",
        "substringAfterLast",
        "regexReplace",
        "indent",
        "nindent",
        "escapeChar",
        "nl2br",
        "escape",
        "split",
    ];
    if input.is_null() && nullable.contains(&name) {
        return Ok(Some(Value::Null));
    }
    let s = || text(name, input);
    let v: Value = match name {
        "upper" => s()?.to_uppercase().into(),
        "lower" => s()?.to_lowercase().into(),
        "trim" => s()?.trim_matches(|c: char| c <= ' ').to_string().into(),
        "capitalize" => {
            // The first non-blank character is upper-cased (Pebble's CapitalizeFilter).
            let t = s()?;
            match t.char_indices().find(|(_, c)| !c.is_whitespace()) {
                Some((i, c)) => {
                    format!("{}{}{}", &t[..i], c.to_uppercase(), &t[i + c.len_utf8()..]).into()
                }
                None => t.into(),
            }
        }
        "title" => {
            let mut out = String::new();
            let mut start = true;
            for c in s()?.chars() {
                if c.is_whitespace() {
                    start = true;
                    out.push(c);
                } else if start {
                    out.extend(c.to_uppercase());
                    start = false;
                } else {
                    out.push(c);
                }
            }
            out.into()
        }
        "abbreviate" => {
            let t = s()?;
            let max = args.req_long("length")?;
            let n = t.chars().count() as i64;
            if n <= max {
                t.into()
            } else if max < 0 {
                return Err(CallError::runtime(
                    "abbreviate: length must not be negative",
                ));
            } else if max <= 3 {
                t.chars().take(max as usize).collect::<String>().into()
            } else {
                (t.chars().take((max - 3) as usize).collect::<String>() + "...").into()
            }
        }
        "replace" => {
            let mut t = s()?;
            let regexp = args.bool("regexp")?.unwrap_or(false);
            let Some(Value::Map(pairs)) = args.get("replace_pairs") else {
                return Err(CallError::ty(
                    "filter `replace` needs a map of replacements, e.g. replace({'a': 'b'})",
                ));
            };
            for (k, v) in pairs.iter() {
                let to = v.to_java_string();
                if regexp {
                    let re = regex(k)?;
                    t = re
                        .replace_all(&t, java_replacement(&to).as_str())
                        .into_owned();
                } else {
                    t = t.replace(k.as_str(), &to);
                }
            }
            t.into()
        }
        "split" => {
            let t = s()?;
            let d = args.req_str("delimiter")?;
            let limit = args.long("limit")?.unwrap_or(0);
            java_split(&t, &d, limit)?
                .into_iter()
                .map(Value::from)
                .collect::<Vec<_>>()
                .into()
        }
        "slugify" => {
            let mut out = String::new();
            for c in s()?.to_lowercase().chars() {
                let c = fold_accent(c);
                if c.is_ascii_alphanumeric() {
                    out.push(c);
                } else if !out.ends_with('-') {
                    out.push('-');
                }
            }
            out.trim_matches('-').to_string().into()
        }
        "substringBefore" | "substringAfter" | "substringBeforeLast" | "substringAfterLast" => {
            let t = s()?;
            let sep = args.req_str("separator")?;
            substring(name, &t, &sep).into()
        }
        "startsWith" => Value::Bool(s()?.starts_with(&args.req_str("prefix")?)),
        "endsWith" => Value::Bool(s()?.ends_with(&args.req_str("suffix")?)),
        "regexMatch" => {
            let re = regex(&format!("^(?:{})$", args.req_str("regex")?))?;
            Value::Bool(re.is_match(&s()?))
        }
        "regexReplace" => {
            let re = regex(&args.req_str("regex")?)?;
            let to = java_replacement(&args.req_str("replacement")?);
            re.replace_all(&s()?, to.as_str()).into_owned().into()
        }
        "regexExtract" => {
            let re = regex(&args.req_str("regex")?)?;
            let group = args.long("group")?.unwrap_or(0);
            let t = s()?;
            match re.captures(&t) {
                Some(c) => match c.get(group.max(0) as usize) {
                    Some(m) => m.as_str().into(),
                    None if group as usize >= c.len() => {
                        return Err(CallError::runtime(format!(
                            "regexExtract: no group {group} in the regex"
                        )));
                    }
                    None => Value::Null,
                },
                None => Value::Null,
            }
        }
        "indent" | "nindent" => {
            // Kestra indents every line after the first (empty ones too) and keeps the
            // string's own line separator (\r\n, \r or \n); nindent starts with one.
            let t = s()?;
            let amount = args.req_long("amount")?;
            if amount < 0 {
                return Err(CallError::runtime(format!(
                    "{name}: amount must not be negative"
                )));
            }
            let prefix = args
                .str("prefix")?
                .unwrap_or_else(|| " ".into())
                .repeat(amount as usize);
            let sep = if t.contains("\r\n") {
                "\r\n"
            } else if t.contains('\r') {
                "\r"
            } else {
                "\n"
            };
            if t.is_empty() {
                return Ok(Some(Value::from("")));
            }
            let mut out = String::new();
            if name == "nindent" {
                out.push_str(sep);
                out.push_str(&prefix);
            }
            for (i, line) in t.split(sep).enumerate() {
                if i > 0 {
                    out.push_str(sep);
                    out.push_str(&prefix);
                }
                out.push_str(line);
            }
            out.into()
        }
        "escapeChar" => {
            let t = s()?;
            match args.req_str("type")?.as_str() {
                "single" => t.replace('\'', "\\'").into(),
                "double" => t.replace('"', "\\\"").into(),
                "shell" => t.replace('\'', "'\\''").into(),
                other => {
                    return Err(CallError::runtime(format!(
                        "escapeChar: unknown type `{other}` (single, double, shell)"
                    )));
                }
            }
        }
        "nl2br" => s()?.replace('\n', "<br />").into(),
        "escape" => {
            let t = s()?;
            match args.str("strategy")?.as_deref().unwrap_or("html") {
                "html" => html_escape(&t).into(),
                "json" | "js" => {
                    let mut o = String::new();
                    crate::pebble::value::json_string(&t, &mut o);
                    o[1..o.len() - 1].to_string().into()
                }
                "url_param" => super::encoding::url_encode(&t).into(),
                other => {
                    return Err(CallError::runtime(format!(
                        "escape: unknown strategy `{other}` (html, js, json, url_param)"
                    )));
                }
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn regex(re: &str) -> CallResult<regex::Regex> {
    regex::Regex::new(re)
        .map_err(|e| CallError::runtime(format!("bad regular expression `{re}`: {e}")))
}

/// Java's replacement syntax (`$1`, `\$`) in the regex crate's (`${1}`, `$$`).
fn java_replacement(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                if let Some(n) = it.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            '$' => {
                let mut num = String::new();
                while let Some(d) = it.peek().filter(|d| d.is_ascii_digit()) {
                    num.push(*d);
                    it.next();
                }
                if num.is_empty() {
                    out.push('$');
                } else {
                    out.push_str(&format!("${{{num}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Java's `String.split(regex, limit)` (Pebble's split takes a regex): with limit 0, trailing
/// empty strings go.
fn java_split(s: &str, d: &str, limit: i64) -> CallResult<Vec<String>> {
    let re = regex(d)?;
    let mut parts: Vec<String> = if limit > 0 {
        re.splitn(s, limit as usize).map(str::to_string).collect()
    } else {
        re.split(s).map(str::to_string).collect()
    };
    // Java drops a leading empty string produced by a zero-width match at the start.
    if d.is_empty() && parts.first().is_some_and(|p| p.is_empty()) && !s.is_empty() {
        parts.remove(0);
    }
    if limit == 0 {
        while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
    Ok(parts)
}

fn substring(name: &str, s: &str, sep: &str) -> String {
    match name {
        "substringBefore" => {
            if sep.is_empty() {
                return String::new();
            }
            s.find(sep)
                .map(|i| s[..i].to_string())
                .unwrap_or_else(|| s.to_string())
        }
        "substringAfter" => {
            if sep.is_empty() {
                return s.to_string();
            }
            s.find(sep)
                .map(|i| s[i + sep.len()..].to_string())
                .unwrap_or_default()
        }
        "substringBeforeLast" => {
            if sep.is_empty() {
                return s.to_string();
            }
            s.rfind(sep)
                .map(|i| s[..i].to_string())
                .unwrap_or_else(|| s.to_string())
        }
        _ => {
            if sep.is_empty() {
                return String::new();
            }
            s.rfind(sep)
                .map(|i| s[i + sep.len()..].to_string())
                .unwrap_or_default()
        }
    }
}

/// Latin letters with accents to their base letter (for `slugify`).
fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        c => c,
    }
}
