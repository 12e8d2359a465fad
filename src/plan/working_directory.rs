//! What `plan` says about a WorkingDirectory, and where its cache lives: pure.

use camino::{Utf8Path, Utf8PathBuf};

use std::collections::BTreeMap;

use crate::flow::model::{Flow, Task, WorkingDir};
use crate::plan::Outputs;
use crate::plan::context::PlanContext;

/// The words after the WorkingDirectory's group line in `plan`: its files and cache.
pub fn describe(w: &WorkingDir) -> String {
    let mut parts = Vec::new();
    if !w.input_files.is_empty() {
        let names: Vec<&str> = w.input_files.keys().map(String::as_str).collect();
        parts.push(format!("input files {}", names.join(", ")));
    }
    if !w.output_files.is_empty() {
        parts.push(format!("output files {}", w.output_files.join(", ")));
    }
    if let Some(nf) = &w.namespace_files {
        parts.push(namespace_files_note(nf));
    }
    if let Some(c) = &w.cache {
        parts.push(format!(
            "cache {}{}",
            c.patterns.join(", "),
            c.ttl
                .map(|t| format!(" (ttl {})", crate::units::format_duration_iso(t)))
                .unwrap_or_default()
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join("; "))
    }
}

/// The cache of a WorkingDirectory: `STATE_DIR/cache/NAMESPACE/FLOW/TASK` (Kestra keys its
/// cache by namespace, flow and task too). Ids cannot hold `/` or `..` (they are checked).
pub fn cache_dir(state_dir: &Utf8Path, namespace: &str, flow: &str, task: &str) -> Utf8PathBuf {
    state_dir
        .join("cache")
        .join(namespace)
        .join(flow)
        .join(task)
}

/// A WorkingDirectory's `inputFiles`, rendered as its children see templates: its directory as
/// `{{ workingDir }}`, the outputs of the tasks that ended before it (none yet is an error, as
/// for a script task at run time).
pub fn input_files(
    flow: &Flow,
    task: &Task,
    w: &WorkingDir,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: &Outputs,
) -> Result<BTreeMap<String, String>, String> {
    let scope = crate::plan::scope_for(flow, task, ctx, inputs, Some(outputs));
    scope
        .render_map(&task.id, &ctx.workdir(&task.id), &w.input_files, true)
        .map(|(files, _)| files)
}

/// What `plan` says of `namespaceFiles` (the files are listed when the task starts).
pub fn namespace_files_note(nf: &crate::flow::model::NamespaceFiles) -> String {
    let of = if nf.namespaces.is_empty() {
        "the flow's namespace".to_string()
    } else {
        nf.namespaces.join(", ")
    };
    let mut s = format!("namespace files of {of}");
    if !nf.include.is_empty() {
        s.push_str(&format!(" matching {}", nf.include.join(", ")));
    }
    if !nf.exclude.is_empty() {
        s.push_str(&format!(" but {}", nf.exclude.join(", ")));
    }
    s.push_str(" (found when the task starts)");
    s
}
