//! Conformance of dockhand's Pebble engine: runs every case in tests/pebble/*.json. Each case
//! has a `template`, a `context` (JSON), and either `expected` (the output) or `error` (an
//! error kind, or "any"), plus its `source` (repository, path, commit, test method), and what
//! the host holds: `secrets`, `files`, `kv` (key to JSON value), `errorLogs`. A case
//! A case may give `expected_contains` (substrings the output must contain) where the source
//! test only checks parts of the output. A case marked `difference` is where dockhand intentionally differs: it is checked against
//! `dockhand` (dockhand's own expected output or error kind) instead. A case marked `gap` is
//! a known missing piece: it is run (it must not panic) but not asserted, and listed.

use dockhand::pebble::{FixedHost, Template, Value};
use serde_json::Value as Json;
use std::path::Path;

fn host(case: &Json) -> FixedHost {
    let mut h = FixedHost::default();
    if let Some(z) = case.get("timeZone").and_then(Json::as_str) {
        h.time_zone = z.to_string();
    }
    if let Some(Json::Object(s)) = case.get("secrets") {
        for (k, v) in s {
            h.secrets
                .insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    if let Some(Json::Object(s)) = case.get("files") {
        for (k, v) in s {
            h.files
                .insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    if let Some(Json::Object(kv)) = case.get("kv") {
        for (k, v) in kv {
            h.kv.insert(
                k.clone(),
                Value::from_json(&v.to_string()).expect("KV value"),
            );
        }
    }
    if let Some(Json::Array(logs)) = case.get("errorLogs") {
        h.error_logs = logs
            .iter()
            .map(|l| Value::from_json(&l.to_string()).expect("log entry"))
            .collect();
    }
    h
}

/// `Ok(output)` or `Err(kind)`.
fn run(case: &Json, ctx: &Value) -> Result<String, String> {
    let template = case["template"].as_str().expect("template is a string");
    let h = host(case);
    Template::parse(template)
        .and_then(|t| t.render(ctx, &h))
        .map(|r| r.text)
        .map_err(|e| e.kind.name().to_string())
}

fn matches(want: &Json, got: &Result<String, String>) -> bool {
    if let Some(exp) = want.get("expected").and_then(Json::as_str) {
        return got.as_deref() == Ok(exp);
    }
    if let Some(Json::Array(parts)) = want.get("expected_contains") {
        return got.as_ref().is_ok_and(|out| {
            parts
                .iter()
                .all(|p| p.as_str().is_some_and(|p| out.contains(p)))
        });
    }
    if let Some(kind) = want.get("error").and_then(Json::as_str) {
        return match got {
            Err(k) => kind == "any" || kind == k,
            Ok(_) => false,
        };
    }
    panic!("case without expected or error: {want}");
}

#[test]
fn conformance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pebble");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/pebble")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let (mut passed, mut differences, mut gaps, mut failures) = (0, 0, 0, Vec::new());
    let mut total = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let text = std::fs::read_to_string(f).expect("read");
        let cases: Vec<Json> = serde_json::from_str(&text).expect("JSON");
        // Contexts read again keeping their key order (serde_json sorts keys).
        let ordered = match Value::from_json(&text).expect("JSON") {
            Value::List(l) => l,
            _ => panic!("{f:?}: a list of cases"),
        };
        for (case, oc) in cases.iter().zip(ordered.iter()) {
            total += 1;
            let ctx = match oc {
                Value::Map(m) => m.get("context").cloned().unwrap_or_default(),
                _ => Value::Null,
            };
            let got = run(case, &ctx);
            let label = format!(
                "{}: {}",
                f.file_name().unwrap_or_default().to_string_lossy(),
                case["name"]
            );
            if case.get("gap").is_some() {
                gaps += 1;
                continue;
            }
            if case.get("difference").is_some() {
                differences += 1;
                let Some(ours) = case.get("dockhand") else {
                    panic!("{label}: a difference needs `dockhand`")
                };
                if !matches(ours, &got) {
                    failures.push(format!(
                        "{label}\n  template: {:?}\n  dockhand expected: {ours}\n  got: {got:?}",
                        case["template"]
                    ));
                }
                continue;
            }
            if matches(case, &got) {
                passed += 1;
            } else {
                failures.push(format!(
                    "{label}\n  template: {:?}\n  expected: {}\n  got: {got:?}",
                    case["template"],
                    case.get("expected")
                        .or(case.get("error"))
                        .unwrap_or(&Json::Null)
                ));
            }
        }
    }
    println!(
        "pebble conformance: {total} cases: {passed} as Kestra/Pebble, {differences} intentional differences, {gaps} known gaps"
    );
    if let Ok(out) = std::env::var("PEBBLE_FAILURES") {
        std::fs::write(out, failures.join("\n")).expect("write failures");
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
