//! Reading a WorkingDirectory task (`io.kestra.plugin.core.flow.WorkingDirectory`): its
//! children, which must be script tasks (Kestra allows runnable tasks only), and the files of
//! the directory they share (`inputFiles`, `outputFiles`, `cache`).

use crate::flow::model::{Cache, TaskKind, WorkingDir};
use crate::flow::reader::{self, Cx, Obj};
use crate::flow::spec;
use crate::units;

use super::task::{check_relative, read_children, read_files};

pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>) -> TaskKind {
    let tasks = read_children(cx, o);
    for t in &tasks {
        // Flowable children are refused; a child whose type could not be read (reported
        // already) holds an empty Sequential and is left alone.
        let flowable = match &t.kind {
            TaskKind::Sequential { tasks } => !tasks.is_empty(),
            TaskKind::Parallel { .. } | TaskKind::WorkingDirectory(_) => true,
            _ => false,
        };
        if flowable {
            let p = format!("{}.type", t.path);
            let pos = cx.spans.get(&p).copied().unwrap_or(t.pos);
            cx.error(
                pos,
                &p,
                "a flowable task cannot run inside a WorkingDirectory: Kestra allows runnable tasks only there",
            );
        }
    }
    let (input_files, output_files, text) = read_files(cx, o, &|_| true);
    if text.is_some() {
        let pos = cx
            .spans
            .get(&o.key_path("inputFiles"))
            .copied()
            .unwrap_or(o.pos());
        cx.error(
            pos,
            &o.key_path("inputFiles"),
            "a WorkingDirectory's `inputFiles` as a text with expressions is not supported: give a map (a JSON text without expressions is read as one)",
        );
    }
    let cache = o.obj(cx, "cache").map(|mut c| {
        let patterns = c.need(cx, "patterns").map_or_else(Vec::new, |n| {
            let path = c.key_path("patterns");
            let list = reader::as_strings(cx, n, &path).unwrap_or_default();
            if list.is_empty() {
                cx.error(n.pos, &path, "give at least one pattern");
            }
            for p in &list {
                if let Err(e) = check_relative(p) {
                    cx.error(n.pos, &path, format!("pattern `{p}`: {e}"));
                }
            }
            list
        });
        let ttl = c.parsed(cx, "ttl", units::parse_duration);
        c.finish_described(cx, &spec::tasks_flow::CACHE);
        Cache { patterns, ttl }
    });
    let namespace_files = super::namespace_files::read(cx, o);
    TaskKind::WorkingDirectory(Box::new(WorkingDir {
        tasks,
        input_files,
        output_files,
        cache,
        namespace_files,
    }))
}
