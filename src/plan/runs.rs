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

/// The task a planned run shows: the flow's own, or (inside a ForEach, where the run's id is
/// `t[a]`) a copy with that id. A pointer's size either way: a plan entry per task of a large
/// flow does not carry a whole task inline (figure 5 of `scripts/bench.sh`).
#[derive(Debug)]
pub enum ShownTask<'a> {
    Flow(&'a Task),
    Run(Box<Task>),
}

impl ShownTask<'_> {
    /// The task `run` shows: the flow's own unless the id shown differs.
    pub fn of<'a>(task: &'a Task, shown: String) -> ShownTask<'a> {
        if shown == task.id {
            ShownTask::Flow(task)
        } else {
            let mut t = task.clone();
            t.id = shown;
            ShownTask::Run(Box::new(t))
        }
    }
}

impl std::ops::Deref for ShownTask<'_> {
    type Target = Task;
    fn deref(&self) -> &Task {
        match self {
            ShownTask::Flow(t) => t,
            ShownTask::Run(t) => t,
        }
    }
}

/// Every run of every script task, in file order.
pub fn runs(flow: &Flow) -> Vec<PlannedRun<'_>> {
    let mut out = Vec::new();
    each(flow, &mut |p| out.push(p));
    out
}

/// [`runs`] one at a time, without a list of them all (the planner of a large flow keeps
/// only what each run gives).
pub fn each<'a>(flow: &'a Flow, f: &mut impl FnMut(PlannedRun<'a>)) {
    for t in flow.top_level() {
        walk(t, &Frame::default(), f);
    }
}

fn walk<'a>(t: &'a Task, frame: &Frame, out: &mut impl FnMut(PlannedRun<'a>)) {
    let child = frame.child(&t.id);
    match &t.kind {
        TaskKind::Script(s) => out(PlannedRun {
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
