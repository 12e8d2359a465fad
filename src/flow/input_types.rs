//! Values of typed flow inputs (`--input NAME=VALUE` and `defaults`), checked against the input's
//! type in the formats Kestra parses them with (`FlowInputOutput.parseType` and the `*Input`
//! classes: `Integer.valueOf`, `Float.valueOf`, `Instant.parse`, `LocalDate.parse`,
//! `LocalTime.parse`, `Duration.parse`, its URI and e-mail patterns, JSON, and a SELECT's
//! `values`), so that a wrong value is refused before anything starts instead of reaching a
//! container as text.
//!
//! STRING, SECRET and YAML take any text. BOOLEAN is stricter than Kestra's `Boolean.valueOf`,
//! which reads every word but `true` as false: a typo such as `ture` is refused, not taken as
//! false.

use std::sync::LazyLock;

use regex::Regex;

/// Checks `value` against an input type; the error says what was expected (the caller names
/// the input). `values` are a SELECT's (or ENUM's) choices.
pub fn check(kind: &str, values: &[String], value: &str) -> Result<(), String> {
    let ok = match kind {
        "INT" => value.parse::<i32>().is_ok(),
        "FLOAT" => FLOAT.is_match(value),
        "BOOLEAN" | "BOOL" => {
            value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
        }
        "DATETIME" => is_instant(value),
        "DATE" => is_date(value),
        "TIME" => is_time(value),
        "DURATION" => is_duration(value),
        "EMAIL" => EMAIL.is_match(value),
        "URI" => URI.is_match(value),
        "JSON" => serde_json::from_str::<serde_json::Value>(value).is_ok(),
        "SELECT" | "ENUM" => values.iter().any(|v| v == value),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        "INT" => "a whole number from -2147483648 to 2147483647".to_string(),
        "FLOAT" => "a number such as 3.14, -2 or 1.5e3".to_string(),
        "BOOLEAN" | "BOOL" => "true or false".to_string(),
        "DATETIME" => {
            "an ISO-8601 instant such as 2024-01-15T10:30:00Z or 2024-01-15T10:30:00.5+02:00"
                .to_string()
        }
        "DATE" => "an ISO-8601 date such as 2024-01-15".to_string(),
        "TIME" => "an ISO-8601 time such as 10:30, 10:30:00 or 10:30:00.250".to_string(),
        "DURATION" => "an ISO-8601 duration such as PT30S, PT5M, PT1H30M or P2D".to_string(),
        "EMAIL" => "an e-mail address such as someone@example.com".to_string(),
        "URI" => "a URI such as https://example.com/path".to_string(),
        "JSON" => "JSON".to_string(),
        _ if values.is_empty() => "one of its `values`, but the input lists none".to_string(),
        _ => format!("one of {}", values.join(", ")),
    };
    Err(format!(
        "`{value}` is not a valid {kind}: expected {expected}"
    ))
}

/// Which input types take each type-specific property (Kestra's `*Input` classes).
pub fn property_applies(property: &str, kind: &str) -> bool {
    let kinds: &[&str] = match property {
        "validator" => &["STRING", "SECRET"],
        "min" | "max" => &["INT", "FLOAT", "DURATION"],
        "after" | "before" => &["DATETIME", "DATE", "TIME"],
        "itemType" => &["ARRAY", "MULTISELECT"],
        "values" => &["SELECT", "ENUM", "MULTISELECT"],
        "options" => &["MULTISELECT"],
        "allowCustomValue" | "autoSelectFirst" => &["SELECT", "MULTISELECT"],
        "allowedFileExtensions" => &["FILE"],
        _ => return true,
    };
    kinds.contains(&kind)
}

/// The types an ARRAY's (or MULTISELECT's) items may have: any but a list or a file.
pub const ITEM_TYPES: &[&str] = &[
    "STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME", "DATE", "TIME", "DURATION", "URI",
    "EMAIL", "SECRET", "JSON", "YAML", "SELECT", "ENUM",
];

pub fn is_item_type(kind: &str) -> bool {
    ITEM_TYPES.contains(&kind)
}

/// Checks a value for an input: its type, then the input's own properties (`validator`,
/// `min`/`max`, `after`/`before`, `values` with `allowCustomValue`, `itemType`, the extensions
/// of a FILE). Returns the value as the flow sees it: an ARRAY or MULTISELECT as a JSON list
/// (items of a number or boolean type as JSON numbers and booleans), anything else as given.
pub fn check_input(i: &crate::flow::model::Input, value: &str) -> Result<String, String> {
    let p = &i.props;
    let kind = i.kind.as_str();
    match kind {
        "ARRAY" | "MULTISELECT" => {
            let items = list_items(kind, value)?;
            let item_type = p.item_type.as_deref().unwrap_or("STRING");
            let mut out = Vec::new();
            for item in &items {
                if kind == "MULTISELECT" && !p.allow_custom_value && !i.values.contains(item) {
                    return Err(format!(
                        "`{item}` is not a valid MULTISELECT item: expected one of {}",
                        list_or_none(&i.values)
                    ));
                }
                check(item_type, &[], item).map_err(|e| format!("item of the {kind}: {e}"))?;
                out.push(typed_value(item_type, item));
            }
            return Ok(serde_json::Value::Array(out).to_string());
        }
        "SELECT" | "ENUM" if p.allow_custom_value => {}
        "FILE" => {
            if value.is_empty() {
                return Err("a FILE input needs a file path or URI".into());
            }
            if !p.extensions.is_empty()
                && !p.extensions.iter().any(|e| {
                    value
                        .to_ascii_lowercase()
                        .ends_with(&e.to_ascii_lowercase())
                })
            {
                return Err(format!(
                    "`{value}` is not a valid FILE: its extension is not one of {}",
                    p.extensions.join(", ")
                ));
            }
        }
        _ => check(kind, &i.values, value)?,
    }
    if let Some(v) = &p.validator {
        let re = full_match(v).map_err(|e| {
            format!(
                "its validator `{v}` is not a valid regular expression: {}",
                regex_error(&e)
            )
        })?;
        if !re.is_match(value) {
            return Err(format!(
                "`{value}` does not match the input's validator `{v}`"
            ));
        }
    }
    let (low, high) = if matches!(kind, "DATETIME" | "DATE" | "TIME") {
        ("after", "before")
    } else {
        ("min", "max")
    };
    for (bound, name, below) in [(&p.min, low, true), (&p.max, high, false)] {
        let Some(b) = bound else { continue };
        match compare(kind, value, b) {
            Some(std::cmp::Ordering::Less) if below => {
                return Err(format!(
                    "`{value}` is {} the input's {name} `{b}`",
                    if low == "after" { "before" } else { "below" }
                ));
            }
            Some(std::cmp::Ordering::Greater) if !below => {
                return Err(format!(
                    "`{value}` is {} the input's {name} `{b}`",
                    if low == "after" { "after" } else { "above" }
                ));
            }
            _ => {}
        }
    }
    Ok(value.to_string())
}

/// An input's value as Kestra types it in expressions (`FlowInputOutput.parseType`, then the
/// JSON round trip every execution makes through Kestra's queue): INT as a whole number, FLOAT
/// as a `Float` read back as a `Double` (`5` prints `5.0`), BOOLEAN as a boolean, DATETIME as
/// its `Instant` in UTC (`2024-01-15T10:30:00+02:00` is `2024-01-15T08:30:00Z`), ARRAY,
/// MULTISELECT and JSON as JSON, YAML as the document's map or list; everything else as text
/// (DATE, TIME and DURATION as given, FILE as its URI, SECRET as the value the executor masks).
pub fn typed_value(kind: &str, value: &str) -> serde_json::Value {
    let parsed = match kind {
        "INT" => serde_json::from_str::<serde_json::Number>(value.trim_start_matches('+'))
            .ok()
            .map(serde_json::Value::Number),
        "FLOAT" => java_float(value)
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number),
        "DATETIME" => instant_utc(value).map(serde_json::Value::String),
        "BOOLEAN" | "BOOL" => Some(serde_json::Value::Bool(value.eq_ignore_ascii_case("true"))),
        "ARRAY" | "MULTISELECT" | "JSON" => serde_json::from_str(value).ok(),
        "YAML" => {
            crate::pebble::from_yaml(value).and_then(|v| serde_json::from_str(&v.to_json()).ok())
        }
        _ => None,
    };
    parsed.unwrap_or_else(|| serde_json::Value::String(value.to_string()))
}

/// `Float.valueOf` as a Java `Float`, then written to JSON and read back as a `Double`
/// (Jackson writes `Float.toString`'s shortest digits): `5` is 5.0, `1.23456789012` is
/// 1.2345679 (a float's precision). `None` when it is not a finite float.
pub fn java_float(value: &str) -> Option<f64> {
    let f = value.parse::<f32>().ok().filter(|f| f.is_finite())?;
    // Rust's `Display` of an f32 is its shortest round-trip digits, as Java's `Float.toString`.
    f.to_string().parse::<f64>().ok()
}

/// `Instant.parse` then `Instant.toString` (Jackson's `ISO_INSTANT`): the instant in UTC with
/// `Z`, seconds always, a fraction in groups of three digits only when not zero. `None` when
/// the text is not an instant.
pub fn instant_utc(value: &str) -> Option<String> {
    if !is_instant(value) {
        return None;
    }
    let (date, rest) = value.split_once('T')?;
    let (time, offset) = match rest.strip_suffix('Z') {
        Some(t) => (t, 0i64),
        None => {
            let i = rest.rfind(['+', '-'])?;
            let mut secs = 0i64;
            for (part, unit) in rest[i + 1..].split(':').zip([3600, 60, 1]) {
                secs += part.parse::<i64>().ok()? * unit;
            }
            let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
            (&rest[..i], sign * secs)
        }
    };
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let local =
        chrono::NaiveDateTime::parse_from_str(&format!("{date}T{hms}"), "%Y-%m-%dT%H:%M:%S")
            .ok()?;
    let utc = local - chrono::TimeDelta::seconds(offset);
    let nanos: u32 = format!("{frac:0<9}").parse().ok()?;
    let fraction = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    Some(format!("{}{fraction}Z", utc.format("%Y-%m-%dT%H:%M:%S")))
}

/// A bound (`min`, `after`, ...) checked when the flow is read: a value of the input's type.
pub fn check_bound(kind: &str, bound: &str) -> Result<(), String> {
    check(kind, &[], bound)?;
    compare(kind, bound, bound)
        .map(|_| ())
        .ok_or_else(|| format!("`{bound}` cannot be compared as a {kind}"))
}

fn list_or_none(values: &[String]) -> String {
    if values.is_empty() {
        "its `values`, but the input lists none".to_string()
    } else {
        values.join(", ")
    }
}

/// The last line of a regex error (the one that says what is wrong).
pub fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .last()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

/// A regex that must match the whole value, as Java's `String.matches`.
pub fn full_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// The items of an ARRAY or MULTISELECT value: a JSON list; its items as text.
fn list_items(kind: &str, value: &str) -> Result<Vec<String>, String> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(value)
    else {
        return Err(format!(
            "`{value}` is not a valid {kind}: expected a JSON list such as [\"a\", \"b\"]"
        ));
    };
    Ok(items
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .collect())
}

/// Orders two values of a type with bounds; `None` when either does not parse.
fn compare(kind: &str, a: &str, b: &str) -> Option<std::cmp::Ordering> {
    use chrono::{DateTime, NaiveDate, NaiveTime};
    match kind {
        "INT" => Some(a.parse::<i64>().ok()?.cmp(&b.parse::<i64>().ok()?)),
        "FLOAT" => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        "DURATION" => Some(signed_duration(a)?.cmp(&signed_duration(b)?)),
        "DATETIME" => Some(
            DateTime::parse_from_rfc3339(a)
                .ok()?
                .cmp(&DateTime::parse_from_rfc3339(b).ok()?),
        ),
        "DATE" => Some(
            NaiveDate::parse_from_str(a, "%Y-%m-%d")
                .ok()?
                .cmp(&NaiveDate::parse_from_str(b, "%Y-%m-%d").ok()?),
        ),
        "TIME" => {
            let t = |s: &str| {
                NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                    .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
                    .ok()
            };
            Some(t(a)?.cmp(&t(b)?))
        }
        _ => None,
    }
}

/// A `java.time.Duration` as signed nanoseconds (a leading `-` negates it).
fn signed_duration(s: &str) -> Option<i128> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let d = crate::units::parse_duration(rest).ok()?;
    let n = d.as_nanos() as i128;
    Some(if neg { -n } else { n })
}

/// `Float.valueOf` takes decimal numbers with an exponent (and Java's NaN, Infinity and hex
/// forms, which no one types as an input).
static FLOAT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$").unwrap());
/// Kestra's `EmailInput` pattern (it also accepts the empty string).
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^$|^[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$").unwrap());
/// Kestra's `FlowInputOutput.URI_PATTERN`: a scheme, `://`, a host with a dot, an optional path.
static URI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z]+://(?:www\.)?[-a-zA-Z0-9@:%._+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b(?:[-a-zA-Z0-9()@:%_+.~#?&/=]*)$").unwrap()
});
/// `java.time.Duration.parse`: days and time parts only (no years, months or weeks), signs
/// allowed, any case, a fraction on seconds.
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[+-]?P(?:[+-]?[0-9]+D)?(T(?:[+-]?[0-9]+H)?(?:[+-]?[0-9]+M)?(?:[+-]?[0-9]+(?:[.,][0-9]{0,9})?S)?)?$").unwrap()
});

fn is_duration(s: &str) -> bool {
    // The pattern allows `P` and `PT` alone; Duration.parse does not.
    DURATION.is_match(s)
        && !s.trim_start_matches(['+', '-']).eq_ignore_ascii_case("P")
        && !s.to_ascii_uppercase().ends_with('T')
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `LocalDate.parse`: `YYYY-MM-DD`, a real calendar date.
fn is_date(s: &str) -> bool {
    let mut p = s.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (
        p.next().and_then(|x| digits(x, 4)),
        p.next().and_then(|x| digits(x, 2)),
        p.next().and_then(|x| digits(x, 2)),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `LocalTime.parse`: `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction` (1 to 9 digits).
fn is_time(s: &str) -> bool {
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac
        && !(1..=9).contains(&f.len()) | !f.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let parts: Vec<&str> = main.split(':').collect();
    let ok = |i: usize, max: u32| {
        parts
            .get(i)
            .and_then(|x| digits(x, 2))
            .is_some_and(|v| v <= max)
    };
    match parts.len() {
        2 => frac.is_none() && ok(0, 23) && ok(1, 59),
        3 => ok(0, 23) && ok(1, 59) && ok(2, 59),
        _ => false,
    }
}

/// `Instant.parse`: a date, `T`, a time with seconds, and `Z` or an offset (`+02:00`).
fn is_instant(s: &str) -> bool {
    let Some((date, rest)) = s.split_once('T') else {
        return false;
    };
    let (time, offset) = if let Some(t) = rest.strip_suffix('Z') {
        (t, None)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        (&rest[..i], Some(&rest[i + 1..]))
    } else {
        return false;
    };
    let offset_ok = offset.is_none_or(|o| {
        let p: Vec<&str> = o.split(':').collect();
        let n = |i: usize, max: u32| {
            p.get(i)
                .and_then(|x| digits(x, 2))
                .is_some_and(|v| v <= max)
        };
        matches!(p.len(), 2 | 3) && n(0, 18) && n(1, 59) && (p.len() == 2 || n(2, 59))
    });
    is_date(date) && time.matches(':').count() == 2 && is_time(time) && offset_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good(kind: &str, values: &[&str]) {
        for v in values {
            assert_eq!(check(kind, &[], v), Ok(()), "{kind} {v}");
        }
    }

    fn bad(kind: &str, values: &[&str]) {
        for v in values {
            assert!(check(kind, &[], v).is_err(), "{kind} `{v}` was accepted");
        }
    }

    #[test]
    fn int() {
        good("INT", &["0", "42", "-7", "+3", "2147483647", "-2147483648"]);
        bad(
            "INT",
            &["", "1.5", "2147483648", "ten", " 1", "1e3", "0x10"],
        );
        assert_eq!(
            check("INT", &[], "ten"),
            Err(
                "`ten` is not a valid INT: expected a whole number from -2147483648 to 2147483647"
                    .into()
            )
        );
    }

    #[test]
    fn float() {
        good("FLOAT", &["0", "3.14", "-2", "+.5", "1.", "1.5e3", "2E-2"]);
        bad("FLOAT", &["", ".", "1,5", "pi", "1e", "--1", "1.2.3"]);
    }

    /// What a FLOAT and a DATETIME input are in expressions, as Kestra's Java values print.
    #[test]
    fn floats_and_instants_as_kestra_holds_them() {
        use serde_json::json;
        let rows: &[(&str, &str, serde_json::Value)] = &[
            ("FLOAT", "5", json!(5.0)),
            ("FLOAT", "+.5", json!(0.5)),
            ("FLOAT", "1.5e3", json!(1500.0)),
            ("FLOAT", "1.23456789012", json!(1.2345679)),
            ("FLOAT", "0.1", json!(0.1)),
            ("FLOAT", "-2", json!(-2.0)),
            ("INT", "+3", json!(3)),
            (
                "DATETIME",
                "2024-01-15T10:30:00Z",
                json!("2024-01-15T10:30:00Z"),
            ),
            (
                "DATETIME",
                "2024-01-15T10:30:00+02:00",
                json!("2024-01-15T08:30:00Z"),
            ),
            (
                "DATETIME",
                "2024-01-15T22:30:00-05:30",
                json!("2024-01-16T04:00:00Z"),
            ),
            (
                "DATETIME",
                "2024-03-01T00:00:30+00:00:30",
                json!("2024-03-01T00:00:00Z"),
            ),
            (
                "DATETIME",
                "2024-01-15T10:30:00.5Z",
                json!("2024-01-15T10:30:00.500Z"),
            ),
            (
                "DATETIME",
                "2024-01-15T10:30:00.000Z",
                json!("2024-01-15T10:30:00Z"),
            ),
            (
                "DATETIME",
                "2024-01-15T10:30:00.1234Z",
                json!("2024-01-15T10:30:00.123400Z"),
            ),
            (
                "DATETIME",
                "2024-01-15T10:30:00.123456789+01:00",
                json!("2024-01-15T09:30:00.123456789Z"),
            ),
            ("DATE", "2024-01-15", json!("2024-01-15")),
        ];
        for (kind, given, want) in rows {
            assert_eq!(&typed_value(kind, given), want, "{kind} {given}");
        }
        let printed = |v: &serde_json::Value| crate::pebble::Value::from(v).to_output();
        assert_eq!(printed(&typed_value("FLOAT", "5")), "5.0");
        assert_eq!(printed(&typed_value("FLOAT", "1e10")), "1.0E10");
    }

    #[test]
    fn boolean() {
        good("BOOLEAN", &["true", "false", "TRUE", "False"]);
        good("BOOL", &["true"]);
        bad("BOOLEAN", &["", "yes", "1", "ture", "on"]);
    }

    #[test]
    fn datetime() {
        good(
            "DATETIME",
            &[
                "2024-01-15T10:30:00Z",
                "2024-01-15T10:30:00.123456789Z",
                "2024-02-29T23:59:59+02:00",
                "2024-01-15T10:30:00-05:30",
                "2024-01-15T10:30:00+01:00:30",
            ],
        );
        bad(
            "DATETIME",
            &[
                "",
                "2024-01-15",
                "2024-01-15T10:30Z",
                "2024-01-15T10:30:00",
                "2024-01-15 10:30:00Z",
                "2023-02-29T10:30:00Z",
                "2024-01-15T24:00:00Z",
                "2024-01-15T10:30:00.1234567890Z",
                "2024-01-15T10:30:00+19:00",
                "2024-01-15t10:30:00z",
                "yesterday",
            ],
        );
    }

    #[test]
    fn date() {
        good(
            "DATE",
            &["2024-01-15", "2024-02-29", "2000-02-29", "1999-12-31"],
        );
        bad(
            "DATE",
            &[
                "",
                "2024-1-15",
                "2023-02-29",
                "1900-02-29",
                "2024-13-01",
                "2024-04-31",
                "2024-01-15T00:00:00Z",
                "15/01/2024",
            ],
        );
    }

    #[test]
    fn time() {
        good(
            "TIME",
            &[
                "10:30",
                "00:00",
                "23:59:59",
                "10:30:00.250",
                "10:30:00.123456789",
            ],
        );
        bad(
            "TIME",
            &[
                "",
                "10",
                "24:00",
                "10:60",
                "10:30:61",
                "10:30.5",
                "10:30:00.",
                "1:30",
                "10:30:00Z",
            ],
        );
    }

    #[test]
    fn duration() {
        good(
            "DURATION",
            &[
                "PT30S",
                "PT5M",
                "PT1H30M",
                "P2D",
                "P1DT2H",
                "pt1.5s",
                "-PT5M",
                "PT-6H3M",
                "PT0.000000001S",
            ],
        );
        bad(
            "DURATION",
            &[
                "", "P", "PT", "P1DT", "5m", "P1Y", "P1W", "P1M", "PT1.5M", "PT1H 30M",
            ],
        );
    }

    #[test]
    fn email() {
        good("EMAIL", &["someone@example.com", "a.b+c@d-e.f", ""]);
        bad("EMAIL", &["someone", "a@b@c", "a b@c.d", "@"]);
    }

    #[test]
    fn uri() {
        good(
            "URI",
            &[
                "https://example.com",
                "http://www.example.com/a?b=c&d=e#f",
                "ftp://files.example.com/key",
            ],
        );
        bad(
            "URI",
            &[
                "",
                "example.com",
                "https://",
                "http://localhost",
                "HTTP://example.com",
                "https://exa mple.com",
                // Kestra's pattern: a scheme of letters only, and a host with a dot.
                "s3://bucket.example.com/key",
            ],
        );
    }

    #[test]
    fn json() {
        good(
            "JSON",
            &[
                "{}",
                "[1, 2]",
                "\"text\"",
                "3",
                "null",
                "{\"a\": {\"b\": true}}",
            ],
        );
        bad("JSON", &["", "{", "{a: 1}", "'text'"]);
    }

    #[test]
    fn select() {
        let values = ["dev".to_string(), "prod".to_string()];
        assert_eq!(check("SELECT", &values, "prod"), Ok(()));
        assert_eq!(
            check("SELECT", &values, "staging"),
            Err("`staging` is not a valid SELECT: expected one of dev, prod".into())
        );
        assert!(check("ENUM", &values, "Dev").is_err());
        assert_eq!(
            check("SELECT", &[], "x"),
            Err(
                "`x` is not a valid SELECT: expected one of its `values`, but the input lists none"
                    .into()
            )
        );
    }

    #[test]
    fn untyped_kinds_take_any_text() {
        for kind in ["STRING", "SECRET", "YAML"] {
            good(kind, &["", "anything at all", "{"]);
        }
    }

    fn input(
        kind: &str,
        f: impl FnOnce(&mut crate::flow::model::Input),
    ) -> crate::flow::model::Input {
        let mut i = crate::flow::model::Input {
            id: "i".into(),
            kind: kind.into(),
            default: None,
            values: vec![],
            required: true,
            description: None,
            pos: crate::diag::Pos::new(1, 1),
            props: Default::default(),
        };
        f(&mut i);
        i
    }

    /// One row: an input, a value, and what `check_input` answers (`Ok` with the value the flow
    /// sees, or an error containing the text).
    #[test]
    fn input_properties() {
        let abc = |i: &mut crate::flow::model::Input| i.values = vec!["a".into(), "b".into()];
        let rows: Vec<(crate::flow::model::Input, &str, Result<&str, &str>)> = vec![
            (
                input("STRING", |i| i.props.validator = Some("[a-z]+".into())),
                "abc",
                Ok("abc"),
            ),
            (
                input("STRING", |i| i.props.validator = Some("[a-z]+".into())),
                "abc1",
                Err("does not match the input's validator `[a-z]+`"),
            ),
            (
                input("SECRET", |i| i.props.validator = Some("\\d{4}".into())),
                "12345",
                Err("validator"),
            ),
            (
                input("INT", |i| i.props.min = Some("10".into())),
                "10",
                Ok("10"),
            ),
            (
                input("INT", |i| i.props.min = Some("10".into())),
                "9",
                Err("below the input's min `10`"),
            ),
            (
                input("INT", |i| i.props.max = Some("10".into())),
                "11",
                Err("above the input's max `10`"),
            ),
            (
                input("FLOAT", |i| i.props.max = Some("1.5".into())),
                "1.25",
                Ok("1.25"),
            ),
            (
                input("DURATION", |i| i.props.min = Some("PT1M".into())),
                "PT30S",
                Err("below"),
            ),
            (
                input("DURATION", |i| i.props.max = Some("PT1H".into())),
                "PT59M",
                Ok("PT59M"),
            ),
            (
                input("DATETIME", |i| {
                    i.props.min = Some("2024-01-01T00:00:00Z".into())
                }),
                "2023-12-31T23:59:59Z",
                Err("before the input's after"),
            ),
            (
                input("DATETIME", |i| {
                    i.props.max = Some("2024-01-01T00:00:00Z".into())
                }),
                "2024-01-01T01:00:00+02:00",
                Ok("2024-01-01T01:00:00+02:00"),
            ),
            (
                input("DATE", |i| i.props.max = Some("2024-01-01".into())),
                "2024-01-02",
                Err("after the input's before"),
            ),
            (
                input("TIME", |i| i.props.min = Some("08:00".into())),
                "07:59:59",
                Err("before"),
            ),
            (input("SELECT", abc), "c", Err("one of a, b")),
            (
                input("SELECT", |i| {
                    abc(i);
                    i.props.allow_custom_value = true
                }),
                "c",
                Ok("c"),
            ),
            (
                input("MULTISELECT", abc),
                "[\"a\", \"b\"]",
                Ok("[\"a\",\"b\"]"),
            ),
            (
                input("MULTISELECT", abc),
                "[\"a\", \"c\"]",
                Err("`c` is not a valid MULTISELECT item"),
            ),
            (
                input("MULTISELECT", |i| {
                    abc(i);
                    i.props.allow_custom_value = true
                }),
                "[\"c\"]",
                Ok("[\"c\"]"),
            ),
            (input("MULTISELECT", abc), "a", Err("expected a JSON list")),
            (
                input("ARRAY", |i| i.props.item_type = Some("INT".into())),
                "[1, \"2\"]",
                Ok("[1,2]"),
            ),
            (
                input("ARRAY", |i| i.props.item_type = Some("INT".into())),
                "[1, \"x\"]",
                Err("`x` is not a valid INT"),
            ),
            (
                input("ARRAY", |i| i.props.item_type = Some("STRING".into())),
                "[\"x\", 2]",
                Ok("[\"x\",\"2\"]"),
            ),
            (input("FILE", |_| {}), "/tmp/data.csv", Ok("/tmp/data.csv")),
            (
                input("FILE", |i| i.props.extensions = vec![".csv".into()]),
                "/tmp/data.txt",
                Err("extension"),
            ),
            (input("FILE", |_| {}), "", Err("needs a file")),
        ];
        for (i, value, want) in rows {
            let got = check_input(&i, value);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{} {value}", i.kind),
                Err(w) => assert!(
                    got.as_ref().is_err_and(|e| e.contains(w)),
                    "{} {value}: {got:?}, expected an error with {w}",
                    i.kind
                ),
            }
        }
    }

    #[test]
    fn properties_apply_to_their_types_only() {
        assert!(property_applies("validator", "STRING") && !property_applies("validator", "INT"));
        assert!(property_applies("after", "DATE") && !property_applies("min", "DATE"));
        assert!(property_applies("itemType", "ARRAY") && !property_applies("values", "ARRAY"));
        assert!(property_applies("description", "FILE"));
        assert!(is_item_type("INT") && !is_item_type("ARRAY") && !is_item_type("FILE"));
    }
}
