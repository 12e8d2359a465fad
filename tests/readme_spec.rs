//! The README's tables of the flow format against the one description of it,
//! `src/flow/spec/`: the runner-property table is rendered from the spec (between the
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
        "runner properties in src/flow/spec/ without README rows (`rows:`): {missing:?}"
    );
    check_generated(BEGIN, END, &table, "runner-property table");
}

/// The README text between the line holding `begin` and `end` is `table` (with
/// `DOCKHAND_BLESS=1`: becomes it).
fn check_generated(begin: &str, end: &str, table: &str, what: &str) {
    let text = readme();
    let at = text
        .find(begin)
        .unwrap_or_else(|| panic!("README has the {what} begin marker `{begin}`"));
    let start = at + text[at..].find('\n').unwrap() + 1;
    let end = start
        + text[start..]
            .find(end)
            .unwrap_or_else(|| panic!("README has the {what} end marker `{end}`"));
    if bless() {
        let new = format!("{}\n{table}\n{}", &text[..start], &text[end..]);
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
        let diff = similar::TextDiff::from_lines(found, table)
            .unified_diff()
            .header("README.md", "rendered from src/flow/spec/")
            .to_string();
        panic!(
            "the README's {what} differs from the spec:\n{diff}\nIf the spec is right: DOCKHAND_BLESS=1 cargo test --test readme_spec"
        );
    }
}

/// How a task type runs, in words, from its execution.
fn how_it_runs(t: &spec::TaskType) -> String {
    let words = |argv: &[&str]| {
        argv.iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    match t.execution {
        spec::Execution::ContainerScript {
            interpreter: [], ..
        } => "a container; its commands are the container's argv".to_string(),
        spec::Execution::ContainerScript {
            interpreter,
            file: Some(f),
            ..
        } => format!(
            "a container; the script is written to `{}` and `[{}]` runs `{}`",
            f.name,
            words(interpreter),
            f.command
        ),
        spec::Execution::ContainerScript {
            interpreter,
            body: spec::ScriptBody::Script,
            ..
        } => format!("a container; `[{}]` runs the script", words(interpreter)),
        spec::Execution::ContainerScript { interpreter, .. } => {
            format!("a container; `[{}]` runs the commands", words(interpreter))
        }
        spec::Execution::FlowableParent(spec::Flowable::Parallel) => {
            "its children, side by side".to_string()
        }
        spec::Execution::FlowableParent(spec::Flowable::Sequential) => {
            "its children, one after the other".to_string()
        }
        spec::Execution::FlowableParent(spec::Flowable::WorkingDirectory) => {
            "its children, one after the other, in one shared working directory".to_string()
        }
        spec::Execution::FlowableParent(f) => match f {
            spec::Flowable::If => "`then` or `else`, by its condition",
            spec::Flowable::Switch => "the tasks of the case its value picks",
            spec::Flowable::ForEach
            | spec::Flowable::EachSequential
            | spec::Flowable::EachParallel => "its children, once per value",
            spec::Flowable::Dag => "its children, each once its dependencies have ended",
            spec::Flowable::AllowFailure => "its children; a failure among them is a warning",
            _ => unreachable!("matched above"),
        }
        .to_string(),
        spec::Execution::Subflow => "another flow, as a child execution".to_string(),
        spec::Execution::Pause => {
            "dockhand itself: it waits, or stops the run until `resume`".to_string()
        }
        spec::Execution::HostProcess => "a program on the host".to_string(),
        spec::Execution::InProcess => "dockhand itself, no container".to_string(),
    }
}

/// The README's table of every task type: its name (and older names), default image and how it
/// runs.
fn task_type_table() -> String {
    let mut out = String::from("| Task type | Default image | Runs in |\n|---|---|---|\n");
    for t in spec::task_types() {
        let mut name = format!("`{}`", t.name);
        for a in t.aliases {
            name.push_str(&format!(" (also `{a}`)"));
        }
        let image = match t.execution {
            spec::Execution::ContainerScript { default_image, .. } if !default_image.is_empty() => {
                format!("`{default_image}`")
            }
            _ => "–".to_string(),
        };
        out.push_str(&format!("| {name} | {image} | {} |\n", how_it_runs(t)));
    }
    out
}

#[test]
fn the_task_type_table_is_rendered_from_the_spec() {
    check_generated(
        "<!-- task-types:begin",
        "<!-- task-types:end -->",
        &task_type_table(),
        "task-type table",
    );
}

#[test]
fn the_task_type_list_names_every_task_type() {
    let text = readme();
    let list = section(&text, "## Flow format");
    let list = &list[..list.find("\nTemplates:").unwrap_or(list.len())];
    let named: BTreeSet<&str> = list
        .split('`')
        // Task types, and old names (`io.kestra.core.tasks.…`); not task runners.
        .filter(|w| w.starts_with("io.kestra.") && !w.contains(".runner."))
        .collect();
    let spec: BTreeSet<&str> = spec::task_types()
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .collect();
    assert_eq!(
        named, spec,
        "the README's task types and those of src/flow/spec/ differ"
    );
}
