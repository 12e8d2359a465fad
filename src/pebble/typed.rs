//! Typed rendering: render a template, then read the text as an integer, a float, a boolean, an
//! ISO-8601 duration (`PT5M`, as Kestra's durations) or a JSON list, with an error naming what
//! was expected and what was rendered.

use super::error::{Error, ErrorKind, Result};
use super::host::Host;
use super::value::Value;
use std::time::Duration;

fn rendered(src: &str, ctx: &Value, host: &dyn Host) -> Result<String> {
    Ok(super::render(src, ctx, host)?.text)
}

fn expected(src: &str, what: &str, got: &str) -> Error {
    Error::new(
        ErrorKind::Type,
        format!("expected {what}, but `{src}` rendered as `{got}`"),
        0..src.len(),
    )
}

pub fn render_int(src: &str, ctx: &Value, host: &dyn Host) -> Result<i64> {
    let t = rendered(src, ctx, host)?;
    t.trim()
        .parse::<i64>()
        .map_err(|_| expected(src, "an integer", &t))
}

pub fn render_float(src: &str, ctx: &Value, host: &dyn Host) -> Result<f64> {
    let t = rendered(src, ctx, host)?;
    t.trim()
        .parse::<f64>()
        .map_err(|_| expected(src, "a number", &t))
}

/// `true`/`false` in any case.
pub fn render_bool(src: &str, ctx: &Value, host: &dyn Host) -> Result<bool> {
    let t = rendered(src, ctx, host)?;
    match t.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(expected(src, "a boolean (true or false)", &t)),
    }
}

/// An ISO-8601 duration: `PT30S`, `PT1H30M`, `P1D`, `P1DT2H`, fractions of seconds allowed.
pub fn render_duration(src: &str, ctx: &Value, host: &dyn Host) -> Result<Duration> {
    let t = rendered(src, ctx, host)?;
    parse_iso_duration(t.trim())
        .ok_or_else(|| expected(src, "an ISO-8601 duration (e.g. PT5M)", &t))
}

pub fn parse_iso_duration(s: &str) -> Option<Duration> {
    let rest = s.strip_prefix('P').or_else(|| s.strip_prefix('p'))?;
    let (date, time) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut secs = 0f64;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let (_, mult) = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&c))?;
                secs += num.parse::<f64>().ok()? * mult;
                num.clear();
                any = true;
            }
        }
        num.is_empty().then_some(())
    };
    take(date, &[('W', 604800.0), ('D', 86400.0)])?;
    if let Some(t) = time {
        if t.is_empty() {
            return None;
        }
        take(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    (any && secs.is_finite()).then(|| Duration::from_secs_f64(secs))
}

/// A JSON list (what a list renders as).
pub fn render_list(src: &str, ctx: &Value, host: &dyn Host) -> Result<Vec<Value>> {
    let t = rendered(src, ctx, host)?;
    match Value::from_json(t.trim()) {
        Ok(Value::List(l)) => Ok((*l).clone()),
        _ => Err(expected(src, "a JSON list", &t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_iso_duration("PT5M"), Some(Duration::from_secs(300)));
        assert_eq!(
            parse_iso_duration("P1DT1H"),
            Some(Duration::from_secs(90000))
        );
        assert_eq!(
            parse_iso_duration("PT0.5S"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_iso_duration("5m"), None);
        assert_eq!(parse_iso_duration("PT"), None);
    }
}
