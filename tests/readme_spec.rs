//! The README's tables of the flow format are checked against the one description of it,
//! `src/flow/spec.rs`: a task type or runner property added to the spec and not to the README
//! (or the other way round) fails here.

use std::collections::BTreeSet;

use dockhand::flow::spec::{self, Support, Ty};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

/// The lines of the README section headed `heading`, up to the next heading.
fn section(text: &str, heading: &str) -> String {
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let body = &text[start + heading.len() + 2..];
    let end = body.find("\n#").unwrap_or(body.len());
    body[..end].to_string()
}

/// The runner properties the spec says dockhand reads, as the README names them: an object
/// property (`memory`) either as one row or as one row per property of its own
/// (`memory.memory`, ...).
#[test]
fn the_runner_property_table_lists_every_runner_property() {
    let text = readme();
    let table = section(&text, "### Runner properties");
    let rows: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    assert!(!rows.is_empty(), "no runner property rows found");
    let mut missing = Vec::new();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for p in spec::RUNNER.properties() {
        if p.support != Support::Read || p.name == "type" {
            continue;
        }
        named.insert(p.name.to_string());
        if rows.contains(p.name) {
            continue;
        }
        match p.ty {
            Ty::Object(o) => {
                for q in o.properties().filter(|q| q.support == Support::Read) {
                    let row = format!("{}.{}", p.name, q.name);
                    if !rows.contains(&row) {
                        missing.push(row.clone());
                    }
                    named.insert(row);
                }
            }
            _ => missing.push(p.name.to_string()),
        }
    }
    assert!(
        missing.is_empty(),
        "runner properties in src/flow/spec.rs without a row in the README's table: {missing:?}"
    );
    // A row names a runner property, or a key of the client config (`config.KEY`), which the
    // reader takes as a whole.
    let stray: Vec<&String> = rows
        .iter()
        .filter(|r| !named.contains(*r) && !r.starts_with("config."))
        .collect();
    assert!(
        stray.is_empty(),
        "README rows that are no runner property of src/flow/spec.rs: {stray:?}"
    );
}

/// Every task type of the spec is named in the README's flow format section, and no other
/// Kestra task type is named there as supported.
#[test]
fn the_task_type_list_names_every_task_type() {
    let text = readme();
    let list = section(&text, "## Flow format");
    let list = &list[..list.find("\nTemplates:").unwrap_or(list.len())];
    let named: BTreeSet<&str> = list
        .split('`')
        .filter(|w| w.starts_with("io.kestra.plugin."))
        .collect();
    let spec: BTreeSet<&str> = spec::TASK_TYPES
        .iter()
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .collect();
    assert_eq!(
        named, spec,
        "the README's task types and those of src/flow/spec.rs differ"
    );
}
