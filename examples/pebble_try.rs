//! Renders a template given on the command line against a JSON context (second argument), with a
//! fixed test host: `cargo run --example pebble_try -- '{{ 1 + 2 }}' '{}'`.
use dockhand::pebble::{FixedHost, Template, Value};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let src = args.get(1).cloned().unwrap_or_default();
    let ctx = Value::from_json(args.get(2).map(String::as_str).unwrap_or("{}"))
        .expect("context must be JSON");
    let mut host = FixedHost::default();
    host.secrets.insert("PASSWORD".into(), "hunter2".into());
    match Template::parse(&src).and_then(|t| t.render(&ctx, &host)) {
        Ok(r) => println!("{}\n[masked] {}", r.text, r.masked()),
        Err(e) => {
            let (l, c) = e.line_col(&src);
            println!("error ({}) at {l}:{c}: {}", e.kind.name(), e.message)
        }
    }
}
