//! The README's tables of the flow format against the one description of it,
//! `src/flow/spec.rs`: the runner-property table is rendered from the spec (between the
//! `runner-properties` marker comments; `DOCKHAND_BLESS=1 cargo test --test readme_spec`
//! rewrites it), and a task type added to the spec and not to the README (or the other way
//! round) fails here.

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

const BEGIN: &str = "<!-- runner-properties:begin";
const END: &str = "<!-- runner-properties:end -->";

fn bless() -> bool {
    std::env::var_os("DOCKHAND_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The README's runner-property table, rendered from the spec: a row for each row of a runner
/// property dockhand reads (`Property::rows`), or, for an object property without rows, for
/// each row of its own properties (`memory.memory`, ...). Also the properties with no row.
fn runner_table() -> (String, Vec<String>) {
    let mut out =
        String::from("| Kestra property | default | docker | podman |\n|---|---|---|---|\n");
    let mut missing = Vec::new();
    let mut push = |name: &str, rows: &[spec::Row]| {
        if rows.is_empty() {
            missing.push(name.to_string());
        }
        for r in rows {
            let note = if r.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.note)
            };
            out.push_str(&format!(
                "| `{name}{}`{note} | {} | {} | {} |\n",
                r.key, r.default, r.docker, r.podman
            ));
        }
    };
    for p in spec::RUNNER.properties() {
        if p.support != Support::Read || p.name == "type" {
            continue;
        }
        match p.ty {
            Ty::Object(o) if p.rows.is_empty() => {
                for q in o.properties().filter(|q| q.support == Support::Read) {
                    push(&format!("{}.{}", p.name, q.name), q.rows);
                }
            }
            _ => push(p.name, p.rows),
        }
    }
    (out, missing)
}

/// The README's runner-property table is the one the spec renders; `DOCKHAND_BLESS=1`
/// rewrites it. A runner property without a row in the spec fails here.
#[test]
fn the_runner_property_table_is_rendered_from_the_spec() {
    let (table, missing) = runner_table();
    assert!(
        missing.is_empty(),
        "runner properties in src/flow/spec.rs without README rows (`rows:`): {missing:?}"
    );
    let text = readme();
    let begin = text
        .find(BEGIN)
        .expect("README has the runner-properties begin marker");
    let start = begin + text[begin..].find('\n').unwrap() + 1;
    let end = start
        + text[start..]
            .find(END)
            .expect("README has the runner-properties end marker");
    if bless() {
        // Blank lines around the table: the markers are HTML blocks of their own.
        let new = format!("{}\n{table}\n{}", &text[..start], &text[end..]);
        // Atomically: the other tests read the README at the same time.
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let mut tmp = tempfile::NamedTempFile::new_in(path.parent().unwrap()).unwrap();
        std::io::Write::write_all(&mut tmp, new.as_bytes()).unwrap();
        tmp.as_file()
            .set_permissions(std::fs::metadata(path).unwrap().permissions())
            .unwrap();
        tmp.persist(path).unwrap();
        return;
    }
    let found = text[start..end].trim_start_matches('\n');
    let found = found.strip_suffix('\n').unwrap_or(found);
    if found != table {
        let diff = similar::TextDiff::from_lines(found, table.as_str())
            .unified_diff()
            .header("README.md", "rendered from src/flow/spec.rs")
            .to_string();
        panic!(
            "the README's runner-property table differs from the spec:\n{diff}\nIf the spec is right: DOCKHAND_BLESS=1 cargo test --test readme_spec"
        );
    }
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
        // Kestra names and the older `io.kestra.core.tasks.*` aliases.
        .filter(|w| w.starts_with("io.kestra.") && !w.contains(' '))
        .collect();
    let spec: BTreeSet<&str> = spec::task_types()
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .collect();
    assert_eq!(
        named, spec,
        "the README's task types and those of src/flow/spec.rs differ"
    );
}
