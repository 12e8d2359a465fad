//! Properties of the Pebble engine: it never panics (any input renders or fails with an error
//! whose span lies inside the template), secrets are tracked through filters and
//! concatenation, static analysis finds references and bad calls with positions, and typed
//! rendering names what it expected. Also an `#[ignore]`d timing test for the issue's targets.

use dockhand::pebble::{self, ErrorKind, Family, FixedHost, Template, Value};
use proptest::prelude::*;

fn ctx() -> Value {
    Value::from_json(
        r#"{"inputs": {"x": "hello", "n": 3, "my-file": "f.txt", "list": [1, 2, 3]},
            "outputs": {"t": {"vars": {"k": "value"}}, "task-1": {"vars": {"x": 1.5}}},
            "vars": {"y": null}}"#,
    )
    .expect("context")
}

fn host() -> FixedHost {
    let mut h = FixedHost::default();
    h.secrets.insert("X".into(), "s3cr3t".into());
    h
}

fn check_never_panics(src: &str) {
    let h = host();
    let c = ctx();
    match Template::parse(src).and_then(|t| t.render(&c, &h)) {
        Ok(_) => {}
        Err(e) => {
            assert!(
                e.span.start <= src.len() && e.span.end <= src.len(),
                "span {:?} outside {src:?}",
                e.span
            );
            let _ = e.line_col(src);
        }
    }
}

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "-",
    "|",
    "upper",
    "date('yyyy')",
    "inputs",
    ".",
    "x",
    "[",
    "]",
    "'a'",
    "\"b#{",
    "}",
    "(",
    ")",
    ",",
    "1",
    "2.5",
    "..",
    "??",
    "???",
    "?",
    ":",
    "is",
    "not",
    "defined",
    "for",
    "in",
    "endfor",
    "if",
    "endif",
    "else",
    "set",
    "=",
    "raw",
    "endraw",
    "macro",
    "endmacro",
    "secret('X')",
    "now()",
    "~",
    "+",
    "*",
    "/",
    "%",
    "==",
    "and",
    "or",
    "{",
    "jq('.')",
    "default(1)",
    " ",
    "\n",
    "outputs",
    "['task-1']",
    "loop",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics(src in "\\PC{0,40}") {
        check_never_panics(&src);
    }

    #[test]
    fn token_soup_never_panics(parts in prop::collection::vec(prop::sample::select(PIECES), 0..30)) {
        check_never_panics(&parts.concat());
    }

    #[test]
    fn valid_expressions_render(
        root in prop::sample::select(&["inputs.x", "inputs['my-file']", "outputs.t.vars.k", "outputs['task-1'].vars.x", "inputs.n", "inputs.list", "vars.y ?? 'd'", "missing ??? 'u'"][..]),
        filter in prop::sample::select(&["", " | upper", " | lower", " | length", " | default('z')", " | toJson", " | string", " | trim", " | first", " | className"][..]),
        op in prop::sample::select(&["", " ~ 'x'", " == 1", " ?? 2"][..]),
    ) {
        let src = format!("{{{{ {root}{filter}{op} }}}}");
        let r = Template::parse(&src).map_err(|e| TestCaseError::fail(e.message))?;
        match r.render(&ctx(), &host()) {
            Ok(_) => {}
            // Only type errors are acceptable (e.g. `first` of a number).
            Err(e) => prop_assert!(matches!(e.kind, ErrorKind::Type | ErrorKind::Runtime), "{src}: {e:?}"),
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let src = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let e = Template::parse(&src).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    let src = "{% if true %}".repeat(3000);
    assert!(Template::parse(&src).is_err());
}

#[test]
fn secrets_are_tracked_through_filters_and_concatenation() {
    let t = Template::parse(
        "user={{ inputs.x }} pass={{ secret('X') | upper ~ '!' }} len={{ secret('X') | length }}",
    )
    .unwrap();
    let r = t.render(&ctx(), &host()).unwrap();
    assert_eq!(r.text, "user=hello pass=S3CR3T! len=6");
    assert_eq!(r.secrets, vec!["s3cr3t".to_string()]);
    let spans: Vec<&str> = r.secret_spans.iter().map(|s| &r.text[s.clone()]).collect();
    assert_eq!(spans, vec!["S3CR3T!", "6"]);
    assert_eq!(r.masked(), "user=hello pass=****** len=******");
    // Through a variable and a for loop too.
    let r = pebble::render(
        "{% set p = secret('X') %}{% for c in [p] %}[{{ c }}]{% endfor %}",
        &ctx(),
        &host(),
    )
    .unwrap();
    assert_eq!(r.masked(), "[******]");
    assert!(
        !pebble::render("{{ inputs.x }}", &ctx(), &host())
            .unwrap()
            .is_secret()
    );
}

#[test]
fn env_secret_is_kestra_oss_lookup() {
    let env = |k: &str| (k == "SECRET_DB_PASS").then(|| "aHVudGVyMg==".to_string());
    assert_eq!(pebble::env_secret("DB_PASS", env).unwrap(), "hunter2");
}

#[test]
fn strict_variables_except_under_guards() {
    let c = ctx();
    let h = host();
    let e = pebble::render("a {{ inputs.nope }}", &c, &h).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Undefined);
    assert_eq!(e.line_col("a {{ inputs.nope }}"), (1, 6));
    for (src, want) in [
        ("{{ inputs.nope ?? 'd' }}", "d"),
        ("{{ vars.y ?? 'd' }}", "d"),
        ("{{ vars.y ??? 'd' }}", ""),
        ("{{ inputs.nope ??? 'u' }}", "u"),
        ("{{ inputs.nope | default('x') }}", "x"),
        ("{{ inputs.nope is defined }}", "false"),
        ("{{ inputs.x is defined }}", "true"),
    ] {
        assert_eq!(pebble::render(src, &c, &h).unwrap().text, want, "{src}");
    }
}

#[test]
fn analysis_lists_references_and_calls_with_positions() {
    let src = "{{ inputs['my-file'] }} {{ outputs.t.vars.k | upper }} {% for i in inputs.list %}{{ i }}{% endfor %} {{ vars.z ?? 1 }}";
    let a = pebble::analyze(src).unwrap();
    let refs: Vec<(String, bool)> = a
        .references
        .iter()
        .map(|r| (r.dotted(), r.guarded))
        .collect();
    assert_eq!(
        refs,
        vec![
            ("inputs['my-file']".to_string(), false),
            ("outputs.t.vars.k".to_string(), false),
            ("inputs.list".to_string(), false),
            ("vars.z".to_string(), true),
        ]
    );
    assert_eq!(&src[a.references[1].span.clone()], "outputs.t.vars.k");
    assert_eq!(a.roots(), vec!["inputs", "outputs", "vars"]);
    assert_eq!(a.calls.len(), 1);
    assert_eq!(
        (
            a.calls[0].family,
            a.calls[0].name.as_str(),
            a.calls[0].positional
        ),
        (Family::Filter, "upper", 0)
    );

    let src = "x\n  {{ inputs.a | uppr }} {{ 'a' | replace }} {{ nope(1) }} {{ 'a' | upper(1) }}";
    let errs = pebble::analyze(src).unwrap_err();
    let shown: Vec<(ErrorKind, (usize, usize), String)> = errs
        .iter()
        .map(|e| (e.kind, e.line_col(src), e.message.clone()))
        .collect();
    assert_eq!(shown[0].0, ErrorKind::Unknown);
    assert_eq!(shown[0].1, (2, 17));
    assert!(shown[0].2.contains("did you mean"), "{}", shown[0].2);
    assert_eq!(shown[1].0, ErrorKind::Arity);
    assert_eq!(shown[2].0, ErrorKind::Unknown);
    assert_eq!(shown[3].0, ErrorKind::Arity);
    assert_eq!(errs.len(), 4);
}

#[test]
fn unimplemented_is_refused_at_parse_time_naming_it() {
    let e = Template::parse("{{ x | toIon }}").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotImplemented);
    assert!(e.message.contains("toIon"), "{}", e.message);
    let e = Template::parse("{{ encrypt('k', 'v') }}").unwrap_err();
    assert!(e.message.contains("encrypt"), "{}", e.message);
}

#[test]
fn removed_json_filter_warns() {
    let r = pebble::render("{{ {'a': 1} | json }}", &ctx(), &host()).unwrap();
    assert_eq!(r.text, r#"{"a":1}"#);
    assert!(r.warnings.iter().any(|w| w.message.contains("toJson")));
}

#[test]
fn fixed_clock_dates() {
    let h = host();
    let c = ctx();
    assert_eq!(
        pebble::render("{{ now() | date('yyyy-MM-dd') }}", &c, &h)
            .unwrap()
            .text,
        "2024-01-15"
    );
    assert_eq!(
        pebble::render(
            "{{ now(timeZone='Asia/Tokyo') | date('HH:mm', timeZone='Asia/Tokyo') }}",
            &c,
            &h
        )
        .unwrap()
        .text,
        "19:30"
    );
    assert_eq!(
        pebble::render(
            "{{ now() | dateAdd(1, 'MONTHS') | date('iso_sec') }}",
            &c,
            &h
        )
        .unwrap()
        .text,
        "2024-02-15T10:30:45Z"
    );
}

#[test]
fn typed_rendering_names_what_was_expected() {
    let c = ctx();
    let h = host();
    assert_eq!(pebble::render_int("{{ inputs.n * 2 }}", &c, &h).unwrap(), 6);
    assert_eq!(
        pebble::render_float("{{ outputs['task-1'].vars.x }}", &c, &h).unwrap(),
        1.5
    );
    assert!(pebble::render_bool("{{ inputs.n > 2 }}", &c, &h).unwrap());
    assert_eq!(
        pebble::render_duration("PT{{ inputs.n }}M", &c, &h).unwrap(),
        std::time::Duration::from_secs(180)
    );
    assert_eq!(
        pebble::render_list("{{ inputs.list }}", &c, &h)
            .unwrap()
            .len(),
        3
    );
    let e = pebble::render_int("{{ inputs.x }}", &c, &h).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Type);
    assert!(
        e.message.contains("expected an integer") && e.message.contains("hello"),
        "{}",
        e.message
    );
}

#[test]
fn rendered_text_is_not_rendered_again() {
    let c = Value::from_json(r#"{"a": "{{ b }}", "b": "no"}"#).unwrap();
    assert_eq!(
        pebble::render("{{ a }}", &c, &host()).unwrap().text,
        "{{ b }}"
    );
    assert_eq!(
        pebble::render("{{ render(a) }}", &c, &host()).unwrap().text,
        "no"
    );
}

/// The issue's performance targets; run with
/// `cargo test --release --test pebble_props -- --ignored --nocapture timing`.
#[test]
#[ignore]
fn timing() {
    use std::time::Instant;
    let forms = [
        "{{ inputs.x }}",
        "{{ outputs.t.vars.k | upper }}",
        "{{ now() | date('yyyy-MM-dd') }}",
        "{{ secret('X') }}",
    ];
    let c = ctx();
    let h = host();
    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..100_000 {
        bytes += pebble::render(forms[i % forms.len()], &c, &h)
            .unwrap()
            .text
            .len();
    }
    let render = start.elapsed();
    let start = Instant::now();
    for i in 0..10_000 {
        let t = Template::parse(forms[i % forms.len()]).unwrap();
        assert!(!t.analysis().calls.is_empty() || !t.analysis().references.is_empty());
    }
    let parse = start.elapsed();
    println!(
        "render (parse + render) 100,000 expressions: {render:?} ({bytes} bytes); parse + analyze 10,000: {parse:?}"
    );
    assert!(render.as_secs_f64() < 1.0 && parse.as_secs_f64() < 0.5);
}
