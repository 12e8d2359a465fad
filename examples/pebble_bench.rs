//! The Pebble figures of scripts/bench.sh: parses and renders 100,000 expressions of the common
//! forms (`inputs.x`, `outputs.t.vars.k | upper`, `now() | date('yyyy-MM-dd')`, `secret('X')`)
//! and, as the baseline measured in the same process, round by round, 100,000 of the trivial
//! `{{ x }}`. Prints one JSON line: `{"common": seconds, "baseline": seconds, "rounds": n}`
//! (the medians). `cargo run --release --example pebble_bench -- [ROUNDS]`.
use std::time::Instant;

use dockhand::pebble::{FixedHost, Template, Value};

const N: usize = 100_000;
const COMMON: [&str; 4] = [
    "{{ inputs.x }}",
    "{{ outputs.t.vars.k | upper }}",
    "{{ now() | date('yyyy-MM-dd') }}",
    "{{ secret('X') }}",
];

/// Seconds to parse and render `N` templates taken in turn from `forms`; the output length
/// is checked so the work cannot be optimized away.
fn lap(forms: &[&str], ctx: &Value, host: &FixedHost) -> f64 {
    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..N {
        let t = Template::parse(forms[i % forms.len()]).expect("parses");
        bytes += t.render(ctx, host).expect("renders").text.len();
    }
    let s = start.elapsed().as_secs_f64();
    assert!(bytes > 0);
    s
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let ctx = Value::from_json(
        r#"{"x": "a", "inputs": {"x": "hello"}, "outputs": {"t": {"vars": {"k": "value"}}}}"#,
    )
    .expect("context");
    let mut host = FixedHost::default();
    host.secrets.insert("X".into(), "s3cr3t".into());
    let (mut common, mut baseline) = (Vec::new(), Vec::new());
    for r in 0..rounds + 1 {
        // Alternate which goes first; the first round warms up and is dropped.
        let (c, b) = if r % 2 == 0 {
            let c = lap(&COMMON, &ctx, &host);
            (c, lap(&["{{ x }}"], &ctx, &host))
        } else {
            let b = lap(&["{{ x }}"], &ctx, &host);
            (lap(&COMMON, &ctx, &host), b)
        };
        if r > 0 {
            common.push(c);
            baseline.push(b);
        }
    }
    println!(
        "{{\"common\": {:.6}, \"baseline\": {:.6}, \"rounds\": {rounds}, \"expressions\": {N}}}",
        median(common),
        median(baseline)
    );
}
