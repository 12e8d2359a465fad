//! dockhand's containers on an engine, found by their labels: what `dockhand ps` lists and
//! `dockhand cleanup` removes.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::exec::engine::Engine;
use crate::exec::process;
use crate::plan::engine_commands;
use crate::plan::labels;

#[derive(Debug, Clone, PartialEq)]
pub struct Managed {
    pub id: String,
    pub name: String,
    pub state: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub labels: BTreeMap<String, String>,
}

impl Managed {
    pub fn label(&self, k: &str) -> &str {
        self.labels.get(k).map(String::as_str).unwrap_or("-")
    }
}

/// Which of dockhand's containers (and executions) `ps` and `cleanup` are about: every one, or
/// those matching all the values given (labels `io.dockhand.execution`, `.namespace`, `.flow`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub execution: Option<String>,
    pub namespace: Option<String>,
    pub flow: Option<String>,
}

impl Filter {
    /// Does an execution with this id, namespace and flow id match?
    pub fn matches_execution(&self, execution: &str, namespace: &str, flow: &str) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        ok(&self.execution, execution) && ok(&self.namespace, namespace) && ok(&self.flow, flow)
    }

    pub fn matches(&self, c: &Managed) -> bool {
        self.matches_execution(
            c.label(labels::EXECUTION),
            c.label(labels::NAMESPACE),
            c.label(labels::FLOW),
        )
    }
}

/// Every container with dockhand's managed label.
pub async fn list(engine: &Engine) -> Result<Vec<Managed>, String> {
    // Podman's `inspect` of several ids fails whole, printing nothing, when one of them was
    // removed after `ps` listed it (another dockhand finishing): list again then.
    let mut tries = 0;
    loop {
        match list_once(engine).await {
            Err(e) if tries < 5 && e.to_lowercase().contains("no such") => tries += 1,
            other => return other,
        }
    }
}

async fn list_once(engine: &Engine) -> Result<Vec<Managed>, String> {
    let limit = Duration::from_secs(30);
    let global = engine.global(None);
    let args = engine_commands::list_managed(&global).argv();
    let out = process::capture(&engine.program, &args, limit)
        .await
        .map_err(|e| e.to_string())?;
    if !out.ok() {
        return Err(out.error_line());
    }
    let ids: Vec<String> = out.stdout.split_whitespace().map(String::from).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let args = engine_commands::inspect_managed(&global, &ids).argv();
    let out = process::capture(&engine.program, &args, limit)
        .await
        .map_err(|e| e.to_string())?;
    if !out.ok() && out.stdout.trim().is_empty() {
        return Err(out.error_line());
    }
    // A container removed between the two calls is simply not listed.
    Ok(out.stdout.lines().filter_map(parse_line).collect())
}

/// One line of `inspect_managed` (or of the swarm's `inspect_services`).
pub fn parse_line(line: &str) -> Option<Managed> {
    let f: Vec<&str> = line.split('\t').collect();
    let [id, name, state, created, labels] = f.as_slice() else {
        return None;
    };
    let s = |x: &str| serde_json::from_str::<String>(x).ok();
    Some(Managed {
        id: id.trim().to_string(),
        name: s(name)?.trim_start_matches('/').to_string(),
        state: s(state)?,
        created: parse_rfc3339(&s(created)?).unwrap_or(0),
        labels: serde_json::from_str(labels).unwrap_or_default(),
    })
}

/// Seconds since the epoch of an RFC 3339 time such as `2026-11-28T15:28:16.5Z` or with an
/// offset `+01:00`.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = days * 86_400 + h * 3600 + mi * 60 + sec;
    let tz = s[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(off) = tz.strip_prefix('+').or_else(|| tz.strip_prefix('-')) {
        let oh: i64 = off.get(0..2)?.parse().ok()?;
        let om: i64 = off.get(3..5)?.parse().ok()?;
        let sign = if tz.starts_with('+') { 1 } else { -1 };
        t -= sign * (oh * 3600 + om * 60);
    }
    u64::try_from(t).ok()
}

/// `5s`, `3m`, `2h`, `4d` for an age.
pub fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-28T15:28:16.248124426Z"),
            Some(1_795_879_696)
        );
        assert_eq!(
            parse_rfc3339("2026-11-28T16:28:16+01:00"),
            Some(1_795_879_696)
        );
        assert_eq!(parse_rfc3339("nonsense"), None);
    }

    #[test]
    fn filters_match_every_value_given() {
        let c = parse_line("abc\t\"/dh-e-t-1\"\t\"exited\"\t\"1970-01-01T00:01:00Z\"\t{\"io.dockhand.execution\":\"e\",\"io.dockhand.namespace\":\"n\",\"io.dockhand.flow\":\"f\"}").unwrap();
        let f = |e: Option<&str>, n: Option<&str>, fl: Option<&str>| Filter {
            execution: e.map(String::from),
            namespace: n.map(String::from),
            flow: fl.map(String::from),
        };
        assert!(f(None, None, None).matches(&c));
        assert!(f(Some("e"), Some("n"), Some("f")).matches(&c));
        assert!(!f(Some("e2"), None, None).matches(&c));
        assert!(!f(Some("e"), Some("n"), Some("other")).matches(&c));
        assert!(!f(None, Some("n.sub"), None).matches(&c));
    }

    #[test]
    fn parses_inspect_lines() {
        let l = "abc\t\"/dh-e-t-1\"\t\"running\"\t\"1970-01-01T00:01:00Z\"\t{\"io.dockhand.task\":\"t\"}";
        let m = parse_line(l).unwrap();
        assert_eq!(
            (
                m.name.as_str(),
                m.state.as_str(),
                m.created,
                m.label("io.dockhand.task")
            ),
            ("dh-e-t-1", "running", 60, "t")
        );
    }
}
