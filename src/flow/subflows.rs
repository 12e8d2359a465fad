//! Finding the flows a Subflow task runs: among the flow files (`*.yaml`, `*.yml`, in every
//! directory below) of the flows directory, by namespace and id, as Kestra finds a flow in its
//! repository. A flow found twice is refused (which file is meant is unknown); one not found is
//! an error at the task's `flowId`. Each found flow is read and checked like the parent (its
//! own errors at its own file), and its inputs against what the task gives, before anything
//! runs; subflows of subflows too, at most [`MAX_DEPTH`] deep, which also stops a flow that
//! calls itself.

use camino::{Utf8Path, Utf8PathBuf};

use crate::diag::Diags;
use crate::flow::model::{Flow, ResolvedSubflow, Task, TaskKind};
use crate::flow::yaml::{self, Value};

/// How deep subflows may nest (a flow calling itself reaches it at once).
pub const MAX_DEPTH: usize = 10;

/// The environment variable naming the flows directory (`--flows-dir`).
pub const FLOWS_DIR_VAR: &str = "DOCKHAND_FLOWS_DIR";

/// The flows directory: the one given, else the flow file's own directory.
pub fn flows_dir(given: Option<&Utf8Path>, flow_file: &str) -> Utf8PathBuf {
    match given {
        Some(d) => d.to_path_buf(),
        None => Utf8Path::new(flow_file)
            .parent()
            .filter(|p| !p.as_str().is_empty())
            .map_or_else(|| Utf8PathBuf::from("."), Utf8Path::to_path_buf),
    }
}

/// A flow file of the directory: where it is, its namespace and id.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: Utf8PathBuf,
    pub namespace: String,
    pub id: String,
}

/// Every flow file below `dir`, with its namespace and id (files that are no flow are left out).
pub fn scan(dir: &Utf8Path) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<Utf8PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
            .collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().unwrap_or_default();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension(), Some("yaml" | "yml"))
                && let Some((namespace, id)) = flow_key(&p)
            {
                out.push(Entry {
                    file: p,
                    namespace,
                    id,
                });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

fn flow_key(file: &Utf8Path) -> Option<(String, String)> {
    let text = crate::flow::limits::read_file(file.as_str()).ok()?;
    let mut quiet = Diags::new(file.as_str());
    let root = yaml::parse(&text, &mut quiet)?;
    let Value::Map(entries) = &root.value else {
        return None;
    };
    let get = |k: &str| {
        entries
            .iter()
            .find(|(key, _)| key.scalar() == Some(k))
            .and_then(|(_, v)| v.scalar().map(str::to_string))
    };
    Some((get("namespace")?, get("id")?))
}

/// The one file of `entries` holding flow `namespace.id`.
pub fn find<'a>(entries: &'a [Entry], namespace: &str, id: &str) -> Result<&'a Entry, String> {
    let found: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.namespace == namespace && e.id == id)
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("no flow file defines flow {namespace}.{id}")),
        many => Err(format!(
            "flow {namespace}.{id} is defined by {} files ({}): which one to run is unknown",
            many.len(),
            many.iter()
                .map(|e| e.file.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Finds, reads and checks every subflow of `flow` (and theirs), recording them in the tasks;
/// problems go to `diags`. `dir`: the flows directory.
pub fn resolve(flow: &mut Flow, dir: &Utf8Path, diags: &mut Diags) {
    if !has_subflows(flow.top_level()) {
        return;
    }
    let entries = scan(dir);
    resolve_in(flow, &entries, dir, diags, 1);
}

fn has_subflows<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> bool {
    tasks.into_iter().any(|t| match &t.kind {
        TaskKind::Subflow(_) => true,
        _ => has_subflows(t.children()),
    })
}

/// `flow` and the subflows found before the run, theirs too, in task order.
pub fn with_subflows(flow: &Flow) -> Vec<&Flow> {
    fn add<'a>(tasks: Vec<&'a Task>, out: &mut Vec<&'a Flow>) {
        for t in tasks {
            match &t.kind {
                TaskKind::Subflow(s) => {
                    if let Some(r) = &s.resolved {
                        out.push(&r.flow);
                        add(r.flow.top_level().collect(), out);
                    }
                }
                _ => add(t.children(), out),
            }
        }
    }
    let mut out = vec![flow];
    add(flow.top_level().collect(), &mut out);
    out
}

/// Whether a subflow of `flow` may run a container: one found before the run that does
/// (`needs`, asked of it), or one only found when the task runs (it may).
pub fn may_need_engine(flow: &Flow, needs: &dyn Fn(&Flow) -> bool) -> bool {
    fn any(tasks: Vec<&Task>, needs: &dyn Fn(&Flow) -> bool) -> bool {
        tasks.into_iter().any(|t| match &t.kind {
            TaskKind::Subflow(s) => s.resolved.as_ref().is_none_or(|r| needs(&r.flow)),
            _ => any(t.children(), needs),
        })
    }
    any(flow.top_level().collect(), needs)
}

/// A Subflow's `namespace` or `flowId` as known before the run: as written, or rendered when
/// it reads only the flow's own values (`{{ flow.namespace }}`); `None` when it reads what only
/// the run knows (inputs, outputs, `taskrun`), so the flow is found when the task runs.
pub fn known_name(parent: (&str, &str), text: &str) -> Option<String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Some(text.to_string());
    }
    let a = crate::pebble::analyze(text).ok()?;
    if a.roots().iter().any(|r| *r != "flow")
        || a.calls
            .iter()
            .any(|c| c.family == crate::pebble::Family::Function)
    {
        return None;
    }
    let ctx = serde_json::json!({
        "flow": {"namespace": parent.0, "id": parent.1, "revision": 1}
    });
    crate::pebble::render(
        text,
        &crate::pebble::Value::from(&ctx),
        &crate::pebble::FixedHost::default(),
    )
    .ok()
    .map(|r| r.text)
}

/// Why a flow cannot be run as a subflow.
enum Unusable {
    /// Not found, or unreadable, or defined twice: the message.
    Missing(String),
    /// Found with errors: the file and its first error.
    Invalid(String, String),
}

/// The flow `namespace.id` of the directory, read and checked (its own subflows too). Its
/// warnings go to `diags`.
fn load_child(
    entries: &[Entry],
    dir: &Utf8Path,
    namespace: &str,
    id: &str,
    diags: &mut Diags,
    depth: usize,
) -> Result<ResolvedSubflow, Unusable> {
    let entry = find(entries, namespace, id).map_err(|e| {
        Unusable::Missing(if e.starts_with("no flow file") {
            format!(
                "{e} under {dir} (give the flows directory with --flows-dir or ${FLOWS_DIR_VAR})"
            )
        } else {
            e
        })
    })?;
    let text = crate::flow::limits::read_file(entry.file.as_str())
        .map_err(|e| Unusable::Missing(format!("{}: {e}", entry.file)))?;
    let loaded = crate::flow::load(entry.file.as_str(), &text);
    // `FILE:LINE:COL: `property`: message`, without the severity word: it is told inside
    // another diagnostic.
    let first_error = |d: &Diags| {
        d.sorted()
            .into_iter()
            .find(|x| x.severity == crate::diag::Severity::Error)
            .map(|e| e.to_string().replacen(": error: ", ": ", 1))
    };
    let mut child = match loaded.flow {
        Some(c) if !loaded.diags.has_errors() => c,
        _ => {
            let why = first_error(&loaded.diags).unwrap_or_else(|| "it cannot be read".into());
            return Err(Unusable::Invalid(entry.file.to_string(), why));
        }
    };
    let mut own = Diags::new(entry.file.as_str());
    resolve_in(&mut child, entries, dir, &mut own, depth + 1);
    if let Some(e) = first_error(&own) {
        return Err(Unusable::Invalid(entry.file.to_string(), e));
    }
    diags.extend(loaded.diags);
    diags.extend(own);
    Ok(ResolvedSubflow {
        file: entry.file.to_string(),
        text,
        flow: child,
    })
}

/// Finds and checks the flow a Subflow task names when the task runs (its names rendered):
/// Kestra looks a subflow up then, and a missing or invalid one fails the task.
pub fn find_at_run(dir: &Utf8Path, namespace: &str, id: &str) -> Result<ResolvedSubflow, String> {
    let entries = scan(dir);
    let mut quiet = Diags::new("");
    match load_child(&entries, dir, namespace, id, &mut quiet, 1) {
        Ok(r) => Ok(r),
        Err(Unusable::Missing(m)) => Err(format!("cannot run flow {namespace}.{id}: {m}")),
        Err(Unusable::Invalid(file, e)) => Err(format!(
            "cannot run flow {namespace}.{id}: it is invalid ({file}): {e}"
        )),
    }
}

fn resolve_in(flow: &mut Flow, entries: &[Entry], dir: &Utf8Path, diags: &mut Diags, depth: usize) {
    let spans = flow.spans.clone();
    let (parent_ns, parent_id) = (flow.namespace.clone(), flow.id.clone());
    let names_of = |text: &str| known_name((&parent_ns, &parent_id), text);
    let c = &mut flow.control;
    let top = flow
        .tasks
        .iter_mut()
        .chain(c.errors.iter_mut())
        .chain(c.finally.iter_mut())
        .chain(c.after_execution.iter_mut());
    walk(top, &mut |t: &mut Task| {
        let TaskKind::Subflow(s) = &mut t.kind else {
            return;
        };
        s.flows_dir = Some(dir.to_string());
        let at = |key: &str| {
            spans
                .get(&format!("{}.{key}", t.path))
                .copied()
                .unwrap_or(t.pos)
        };
        let path = format!("{}.flowId", t.path);
        if depth > MAX_DEPTH {
            diags.error(
                at("flowId"),
                path,
                format!("subflows nest more than {MAX_DEPTH} deep here (does a flow call itself?)"),
            );
            return;
        }
        // Names that only the run knows: the flow is found when the task runs.
        let (Some(namespace), Some(flow_id)) = (names_of(&s.namespace), names_of(&s.flow_id))
        else {
            return;
        };
        match load_child(entries, dir, &namespace, &flow_id, diags, depth) {
            Ok(child) => {
                for problem in input_problems(&child.flow, &s.inputs) {
                    diags.error(at("inputs"), format!("{}.inputs", t.path), problem);
                }
                s.resolved = Some(Box::new(child));
            }
            // Defined twice: which file is meant is unknown, whatever the run.
            Err(Unusable::Missing(m)) if m.contains("is defined by") => diags.error(at("flowId"), path, m),
            // Kestra checks a flow on its own: a missing or invalid subflow fails the task
            // when it runs (where `errors`, `allowFailure` apply).
            Err(Unusable::Missing(m)) => diags.warning(
                at("flowId"),
                path,
                format!("{m}; the task fails when it runs unless the flow is there then"),
            ),
            Err(Unusable::Invalid(file, e)) => diags.warning(
                at("flowId"),
                path,
                format!(
                    "flow {namespace}.{flow_id} ({file}) has errors, first: {e}; the task fails when it runs unless they are fixed"
                ),
            ),
        }
    });
}

fn walk<'a>(tasks: impl IntoIterator<Item = &'a mut Task>, f: &mut dyn FnMut(&mut Task)) {
    for t in tasks {
        walk(t.children_mut(), f);
        f(t);
    }
}

/// What is wrong with the inputs a Subflow task gives its flow: a name the flow does not
/// declare, a required input not given (without a default), a value written as it is (no
/// expression) that is not a value of the input's type. Pure.
pub fn input_problems(
    child: &Flow,
    given: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let names: Vec<&str> = child.inputs.iter().map(|i| i.id.as_str()).collect();
    for (k, v) in given {
        match child.inputs.iter().find(|i| &i.id == k) {
            None => out.push(format!(
                "flow {}.{} declares no input `{k}`{}",
                child.namespace,
                child.id,
                crate::suggest::hint(k, names.iter().copied())
            )),
            Some(i) if !v.contains("{{") && !v.contains("{%") => {
                if let Err(e) = crate::flow::input_types::check_input(i, v) {
                    out.push(format!(
                        "input `{k}` of flow {}.{}: {e}",
                        child.namespace, child.id
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for i in &child.inputs {
        if i.required
            && i.default.is_none()
            && i.props.condition.is_none()
            && !given.contains_key(&i.id)
        {
            out.push(format!(
                "flow {}.{} needs input `{}`: give it in `inputs`",
                child.namespace, child.id, i.id
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Utf8Path, name: &str, text: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    const SH: &str = "io.kestra.plugin.scripts.shell.Commands";

    fn errors(dir: &Utf8Path, parent: &str) -> Vec<String> {
        let file = dir.join("parent.yaml");
        std::fs::write(&file, parent).unwrap();
        let l = crate::flow::load(file.as_str(), parent);
        let mut flow = l.flow.unwrap_or_else(|| panic!("{}", l.diags));
        let mut d = Diags::new(file.as_str());
        resolve(&mut flow, dir, &mut d);
        d.sorted()
            .iter()
            .map(|x| x.to_string().replace(dir.as_str(), "DIR"))
            .collect()
    }

    fn parent(inputs: &str, flow_id: &str) -> String {
        format!(
            "id: parent\nnamespace: n\ntasks:\n  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: n\n    flowId: {flow_id}\n    inputs: {inputs}\n"
        )
    }

    #[test]
    fn finds_checks_and_refuses() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        write(
            dir,
            "deep/child.yml",
            &format!(
                "id: child\nnamespace: n\ninputs:\n  - {{id: count, type: INT}}\n  - {{id: opt, type: STRING, defaults: x}}\ntasks:\n  - {{id: t, type: {SH}, commands: [echo]}}\n"
            ),
        );
        write(
            dir,
            "a/twin.yaml",
            &format!(
                "id: twin\nnamespace: n\ntasks:\n  - {{id: t, type: {SH}, commands: [echo]}}\n"
            ),
        );
        write(
            dir,
            "b/twin.yaml",
            &format!(
                "id: twin\nnamespace: n\ntasks:\n  - {{id: t, type: {SH}, commands: [echo]}}\n"
            ),
        );
        write(dir, "notes.yaml", "just: text\n");
        assert_eq!(
            errors(dir, &parent("{count: 3}", "child")),
            Vec::<String>::new()
        );
        assert_eq!(
            errors(dir, &parent("{count: \"{{ 1 + 2 }}\"}", "child")),
            Vec::<String>::new()
        );
        let e = errors(dir, &parent("{count: three, cuont: 1}", "child"));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[1].contains("declares no input `cuont` (did you mean `count`?)"),
            "{e:?}"
        );
        assert!(e[0].contains("`three` is not a valid INT"), "{e:?}");
        let e = errors(dir, &parent("{}", "child"));
        assert!(e[0].contains("needs input `count`"), "{e:?}");
        // Missing: a warning (the parent is valid on its own); the task fails when it runs.
        let e = errors(dir, &parent("{}", "nothere"));
        assert!(
            e[0].contains("parent.yaml:7:")
                && e[0].contains("warning:")
                && e[0].contains("no flow file defines flow n.nothere under DIR (give the flows directory with --flows-dir")
                && e[0].contains("the task fails when it runs"),
            "{e:?}"
        );
        // A child with errors: a warning naming its file and its first error.
        write(
            dir,
            "bad.yaml",
            "id: bad\nnamespace: n\ntasks:\n  - {id: t, type: no.such.Task}\n",
        );
        let e = errors(dir, &parent("{}", "bad"));
        assert!(
            e.len() == 1
                && e[0].contains("warning:")
                && e[0].contains("flow n.bad (DIR/bad.yaml) has errors, first: DIR/bad.yaml:4:"),
            "{e:?}"
        );
        // Names known before the run are rendered; those only the run knows are left to it.
        assert_eq!(
            errors(dir, &parent("{count: 3}", "\"{{ 'chi' ~ 'ld' }}\"")),
            Vec::<String>::new()
        );
        let e = errors(dir, &parent("{}", "\"{{ flow.namespace }}x\""));
        assert!(e[0].contains("no flow file defines flow n.nx"), "{e:?}");
        assert_eq!(
            errors(dir, &parent("{}", "\"{{ inputs.which }}\"")).len(),
            0
        );
        let e = errors(dir, &parent("{}", "twin"));
        assert!(
            e[0].contains("is defined by 2 files (DIR/a/twin.yaml, DIR/b/twin.yaml)"),
            "{e:?}"
        );
    }

    #[test]
    fn a_flow_calling_itself_stops_at_the_depth_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let e = errors(dir, &parent("{}", "parent"));
        assert!(
            e.iter()
                .any(|x| x.contains(&format!("subflows nest more than {MAX_DEPTH} deep"))),
            "{e:?}"
        );
    }

    #[test]
    fn names_known_before_the_run() {
        let p = ("a.b", "parent");
        assert_eq!(known_name(p, "child").as_deref(), Some("child"));
        assert_eq!(
            known_name(p, "{{ flow.namespace }}.sub").as_deref(),
            Some("a.b.sub")
        );
        assert_eq!(
            known_name(p, "{{ flow.id | upper }}").as_deref(),
            Some("PARENT")
        );
        assert_eq!(known_name(p, "{{ taskrun.value }}"), None);
        assert_eq!(known_name(p, "{{ inputs.flowId }}"), None);
        assert_eq!(known_name(p, "{{ outputs.t.value }}"), None);
        assert_eq!(known_name(p, "{{ now() }}"), None);
    }

    #[test]
    fn a_missing_flow_fails_at_run_time() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let e = find_at_run(dir, "n", "gone").err().unwrap();
        assert!(
            e.starts_with("cannot run flow n.gone: no flow file defines flow n.gone under"),
            "{e}"
        );
        write(
            dir,
            "ok.yaml",
            &format!("id: ok\nnamespace: n\ntasks:\n  - {{id: t, type: {SH}, commands: [echo]}}\n"),
        );
        assert_eq!(find_at_run(dir, "n", "ok").unwrap().flow.id, "ok");
    }

    #[test]
    fn the_default_flows_dir_is_the_flow_files() {
        assert_eq!(flows_dir(None, "flows/a.yaml"), "flows");
        assert_eq!(flows_dir(None, "a.yaml"), ".");
        assert_eq!(flows_dir(Some("x".into()), "flows/a.yaml"), "x");
    }
}
