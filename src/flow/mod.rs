//! Flow files: reading Kestra YAML into the typed model, with every error at file:line:col.

pub mod control;
pub mod core_task;
pub mod decode;
pub mod host_functions;
pub mod input_types;
pub mod limits;
pub mod model;
pub mod namespace_tasks;
pub mod plugin_defaults;
pub mod reader;
pub mod runner_values;
pub mod scalar_pos;
pub mod spec;
pub mod subflows;
pub mod task_cache;
pub mod typed_template;
pub mod yaml;

pub use decode::{Loaded, load};
pub use model::Flow;

#[cfg(test)]
mod tests {
    /// Imports go one way, flow → plan: the reader and the model know nothing of argv building
    /// (what both need sits below them, like `crate::client_env`).
    #[test]
    fn flow_does_not_import_plan() {
        // Spelled in two parts so that this file does not match itself.
        let needle = format!("crate::{}", "plan");
        fn walk(dir: &std::path::Path, needle: &str, bad: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("src/flow") {
                let p = e.expect("an entry").path();
                if p.is_dir() {
                    walk(&p, needle, bad);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).expect("a source file");
                    for (i, l) in text.lines().enumerate() {
                        if l.contains(needle) {
                            bad.push(format!("{}:{}: {l}", p.display(), i + 1));
                        }
                    }
                }
            }
        }
        let mut bad = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flow"),
            &needle,
            &mut bad,
        );
        assert!(bad.is_empty(), "src/flow imports plan:\n{}", bad.join("\n"));
    }
}
