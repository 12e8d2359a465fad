//! Filters that encode values as text: JSON (`toJson`, the removed `json`), YAML, base64,
//! hashes (`sha1`, `sha256`, `sha512`, `md5`, hex), URL encoding (Java's `URLEncoder`), and
//! `numberformat` (a subset of Java's `DecimalFormat`).

use super::text;
use crate::pebble::eval::{Bound, CallError, CallResult};
use crate::pebble::value::{Value, java_double, json_string};
use base64::Engine as _;
use sha2::Digest as _;

pub fn apply(name: &str, input: &Value, args: &Bound) -> CallResult<Option<Value>> {
    let v: Value = match name {
        "toJson" | "json" | "jsonEncode" => Value::from(input.to_json()),
        "yaml" => Value::from(to_yaml(input)),
        "base64encode" => {
            if input.is_null() {
                return Ok(Some(Value::Null));
            }
            Value::from(base64::engine::general_purpose::STANDARD.encode(text(name, input)?))
        }
        "base64decode" => {
            if input.is_null() {
                return Ok(Some(Value::Null));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text(name, input)?.trim())
                .map_err(|e| {
                    CallError::runtime(format!("filter `base64decode`: not valid base64: {e}"))
                })?;
            Value::from(String::from_utf8_lossy(&bytes).into_owned())
        }
        "sha1" | "sha256" | "sha512" | "md5" => {
            if input.is_null() {
                return Ok(Some(Value::Null));
            }
            let t = text(name, input)?;
            let b = t.as_bytes();
            let digest: Vec<u8> = match name {
                "sha1" => sha1::Sha1::digest(b).to_vec(),
                "sha256" => sha2::Sha256::digest(b).to_vec(),
                "sha512" => sha2::Sha512::digest(b).to_vec(),
                _ => md5::Md5::digest(b).to_vec(),
            };
            Value::from(
                digest
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<String>(),
            )
        }
        "urlencode" => {
            if input.is_null() {
                return Ok(Some(Value::Null));
            }
            Value::from(url_encode(&text(name, input)?))
        }
        "urldecode" => {
            if input.is_null() {
                return Ok(Some(Value::Null));
            }
            Value::from(url_decode(&text(name, input)?)?)
        }
        "numberformat" | "numberFormat" => {
            let f = args.req_str("format")?;
            let n = match input {
                Value::Long(n) => *n as f64,
                Value::Double(d) => *d,
                other => {
                    return Err(CallError::ty(format!(
                        "filter `numberformat` needs a number, not a {}",
                        other.kind()
                    )));
                }
            };
            Value::from(decimal_format(n, &f)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// Java's `URLEncoder.encode(s, UTF-8)`: letters, digits, `.-*_` kept, space as `+`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Java's `URLDecoder.decode(s, UTF-8)`.
fn url_decode(s: &str) -> CallResult<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => {
                        return Err(CallError::runtime(format!(
                            "filter `urldecode`: bad escape in `{s}`"
                        )));
                    }
                }
            }
            x => out.push(x),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A `DecimalFormat` subset: `#,##0.00`, `0.###`, `#`, percent and literal prefixes/suffixes.
fn decimal_format(n: f64, pattern: &str) -> CallResult<String> {
    let start = pattern.find(['#', '0', ',', '.']).unwrap_or(pattern.len());
    let end = pattern
        .rfind(['#', '0', ',', '.'])
        .map(|i| i + 1)
        .unwrap_or(start);
    let (prefix, body, suffix) = (&pattern[..start], &pattern[start..end], &pattern[end..]);
    let percent = suffix.contains('%') || prefix.contains('%');
    let n = if percent { n * 100.0 } else { n };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    let min_frac = frac_part.chars().filter(|c| *c == '0').count();
    let max_frac = frac_part.chars().filter(|c| *c == '0' || *c == '#').count();
    let min_int = int_part.chars().filter(|c| *c == '0').count();
    let group = int_part.rfind(',').map(|i| int_part.len() - i - 1);
    // DecimalFormat rounds half-even.
    let scale = 10f64.powi(max_frac as i32);
    let scaled = n.abs() * scale;
    let rounded = {
        let r = scaled.round();
        if (scaled - scaled.trunc() - 0.5).abs() < 1e-9 && r % 2.0 != 0.0 {
            r - 1.0
        } else {
            r
        }
    };
    let digits = format!("{:.0}", rounded);
    let (ip, fp) = if max_frac > 0 {
        let d = format!("{:0>width$}", digits, width = max_frac + 1);
        let (a, b) = d.split_at(d.len() - max_frac);
        (a.to_string(), b.to_string())
    } else {
        (digits, String::new())
    };
    let mut fp = fp;
    while fp.len() > min_frac && fp.ends_with('0') {
        fp.pop();
    }
    let mut ip = ip.trim_start_matches('0').to_string();
    while ip.len()
        < min_int.max(if min_int == 0 && fp.is_empty() && ip.is_empty() {
            1
        } else {
            0
        })
    {
        ip.insert(0, '0');
    }
    if let Some(g) = group.filter(|g| *g > 0) {
        let chars: Vec<char> = ip.chars().collect();
        let mut s = String::new();
        for (i, c) in chars.iter().enumerate() {
            if i > 0 && (chars.len() - i).is_multiple_of(g) {
                s.push(',');
            }
            s.push(*c);
        }
        ip = s;
    }
    let mut out = String::new();
    if n < 0.0 && rounded != 0.0 {
        out.push('-');
    }
    out.push_str(&prefix.replace('\'', ""));
    out.push_str(&ip);
    if !fp.is_empty() {
        out.push('.');
        out.push_str(&fp);
    }
    out.push_str(&suffix.replace('\'', ""));
    Ok(out)
}

/// YAML as Kestra's YAML mapper writes it (block style, strings quoted only when needed).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::List(l) if !l.is_empty() => yaml_block(v, 0, &mut out),
        Value::Map(m) if !m.is_empty() => yaml_block(v, 0, &mut out),
        other => {
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
    out
}

fn yaml_block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Map(m) => {
            for (k, x) in m.iter() {
                out.push_str(&pad);
                out.push_str(&yaml_string(k));
                out.push(':');
                yaml_child(x, indent, out);
            }
        }
        Value::List(l) => {
            // Kestra's YAML mapper indents list items by one space (` - a`).
            for x in l.iter() {
                out.push_str(&pad);
                out.push_str(" -");
                yaml_child(x, indent + 1, out);
            }
        }
        _ => {}
    }
}

fn yaml_child(x: &Value, indent: usize, out: &mut String) {
    match x {
        Value::Map(m) if !m.is_empty() => {
            out.push('\n');
            yaml_block(x, indent + 2, out);
        }
        Value::List(l) if !l.is_empty() => {
            out.push('\n');
            yaml_block(x, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Long(n) => n.to_string(),
        Value::Double(d) => java_double(*d),
        Value::String(s) => yaml_string(s),
        Value::List(_) => "[]".into(),
        Value::Map(_) => "{}".into(),
    }
}

fn yaml_string(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| " -?:,[]{}#&*!|>'\"%@`~".contains(c) || c.is_ascii_digit())
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\t', '\r'])
        && !["true", "false", "null", "yes", "no", "on", "off", "~"]
            .contains(&s.to_ascii_lowercase().as_str())
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        let mut o = String::new();
        json_string(s, &mut o);
        o
    }
}
