//! The runs `plan` shows: each script task once, or, inside a ForEach, once per value when the
//! values are written in the flow (with the run's `taskrun` and the id its container and
//! working directory take at run time, `t.0`, `t.1`, ...); values only known at run time show
//! one run, with `{{ taskrun.value }}` as written.

use crate::exec::taskrun::{Frame, TaskRunContext, display};
use crate::flow::control::{EachValues, FlowTask};
use crate::flow::model::{Flow, ScriptTask, Task, TaskKind};

/// One planned run of a script task.
pub struct PlannedRun<'a> {
    pub task: &'a Task,
    pub script: &'a ScriptTask,
    pub run: TaskRunContext,
    /// How the run is shown: `t`, or `t[a]` in a ForEach.
    pub shown: String,
}

/// Every run of every script task, in file order.
pub fn runs(flow: &Flow) -> Vec<PlannedRun<'_>> {
    let mut out = Vec::new();
    for t in flow.top_level() {
        walk(t, &Frame::default(), &mut out);
    }
    out
}

fn walk<'a>(t: &'a Task, frame: &Frame, out: &mut Vec<PlannedRun<'a>>) {
    let child = frame.child(&t.id);
    match &t.kind {
        TaskKind::Script(s) => out.push(PlannedRun {
            task: t,
            script: s,
            run: frame.context(&t.id, 1),
            shown: display(&t.id, &frame.values()),
        }),
        TaskKind::Flow(f) if matches!(**f, FlowTask::ForEach { .. }) => {
            let FlowTask::ForEach { values, tasks, .. } = &**f else {
                unreachable!()
            };
            let values = match values {
                EachValues::List(v) => crate::plan::flow_text::distinct(v),
                EachValues::Expression(_) => vec!["{{ taskrun.value }}".to_string()],
            };
            for (i, v) in values.iter().enumerate() {
                let it = child.iteration(&t.id, v, i);
                for c in tasks {
                    walk(c, &it, out);
                }
            }
            for c in t.control.errors.iter().chain(&t.control.finally) {
                walk(c, &child, out);
            }
        }
        _ => {
            for c in t.children() {
                walk(c, &child, out);
            }
        }
    }
}
