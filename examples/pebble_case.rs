//! Runs one conformance case (JSON on stdin: template, context) and prints what dockhand gives,
//! as `{"expected": …}` or `{"error": kind}`; used to fill the `dockhand` field of a case marked
//! as an intentional difference, which is then reviewed by hand.
use dockhand::pebble::{FixedHost, Template, Value};
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let case: serde_json::Value = serde_json::from_str(&input).expect("a JSON case");
    let template = case["template"].as_str().unwrap_or_default();
    let ctx = Value::from_json(&case.get("context").cloned().unwrap_or_default().to_string())
        .expect("context");
    let out = match Template::parse(template).and_then(|t| t.render(&ctx, &FixedHost::default())) {
        Ok(r) => serde_json::json!({ "expected": r.text }),
        Err(e) => serde_json::json!({ "error": e.kind.name() }),
    };
    println!("{out}");
}
