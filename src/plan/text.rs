//! `dockhand plan` output: every command of every task, one option per line, shell-quoted and
//! copy-pasteable, with secrets shown as `<redacted>`. Deterministic for a fixed execution id,
//! so it can be reviewed and golden-tested.

use std::collections::HashMap;
use std::fmt::Write;

use crate::flow::model::{Flow, Task};
use crate::plan::build::TaskCommands;
use crate::plan::command::{EngineCommand, Step};
use crate::plan::context::PlanContext;
use crate::plan::dialect::Dialect;

/// Shell-quotes one word, leaving words of only safe characters (`=` and `,` included) bare.
fn quote(w: &str) -> String {
    let safe = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c));
    if safe {
        w.to_string()
    } else {
        shell_words::quote(w).into_owned()
    }
}

fn join(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// One command: on one line when short, else an option (with its value) per line.
pub fn command(program: &str, c: &EngineCommand) -> String {
    let args: Vec<String> = c
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut all = vec![program.to_string()];
    all.extend(args.iter().cloned());
    let one_line = join(&all);
    if one_line.len() <= 80 && !one_line.contains('\n') {
        return finish(one_line, c);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut head = vec![program.to_string()];
    // Options that take a value as the next argument (the builder marks them as it adds them):
    // printed on one line with it.
    let takes_value = |a: &str| c.value_flags.contains(&a);
    let mut i = 0;
    // Global options and the subcommand share the first line.
    while i < args.len() && args[i].starts_with("--") && takes_value(&args[i]) && i + 1 < args.len()
    {
        head.push(args[i].clone());
        head.push(args[i + 1].clone());
        i += 2;
    }
    if i < args.len() {
        head.push(args[i].clone());
        i += 1;
    }
    lines.push(join(&head));
    while i < args.len() {
        if takes_value(&args[i]) && i + 1 < args.len() {
            lines.push(join(&args[i..i + 2]));
            i += 2;
        } else {
            lines.push(quote(&args[i]));
            i += 1;
        }
    }
    finish(lines.join(" \\\n    "), c)
}

fn finish(mut out: String, c: &EngineCommand) -> String {
    out.push('\n');
    for n in &c.notes {
        let _ = writeln!(out, "  # {n}");
    }
    for (name, _) in &c.env {
        let _ = writeln!(
            out,
            "  # env {name}=<redacted> (in the client's environment)"
        );
    }
    for f in &c.files {
        let _ = writeln!(out, "  # file {} (mode 0600, removed afterwards):", f.path);
        for l in f.shown.lines() {
            let _ = writeln!(out, "  #   {l}");
        }
    }
    if c.stdin.is_some() {
        let _ = writeln!(
            out,
            "  # stdin: {}",
            if c.stdin_note.is_empty() {
                "<redacted>"
            } else {
                &c.stdin_note
            }
        );
    }
    out
}

fn step_title(s: Step) -> &'static str {
    match s {
        Step::Login => "log in",
        Step::Create => "create the container (pulls the image per pullPolicy)",
        Step::CopyIn => "copy the working directory in",
        Step::Run => "run, streaming the task's output",
        Step::CopyOut => "copy the working directory back",
        Step::Inspect => "read the final state",
        Step::Stop => "on cancel or timeout",
        Step::Remove => "remove the container (delete: true)",
        Step::Query => "ask the engine",
        Step::Install => "install the python dependencies, unless already in their cache directory",
    }
}

/// Podman: what becomes of a short image name, which `plan` (no engine) cannot look up.
fn short_name_note(task: &Task, ctx: &PlanContext) -> Option<String> {
    use crate::flow::model::{PullPolicy, TaskKind};
    let TaskKind::Script(s) = &task.kind else {
        return None;
    };
    let img = &s.container_image;
    if ctx.dialect != Dialect::Podman
        || img.domain.is_some()
        || img.digest.is_some()
        || s.runner.pull_policy == PullPolicy::Always
    {
        return None;
    }
    let local = if img.tag.is_some() {
        format!("localhost/{img}")
    } else {
        format!("localhost/{img}:latest")
    };
    if s.runner.pull_policy == PullPolicy::Never {
        return Some(format!(
            "image {img} (short name, pullPolicy NEVER): as written; podman finds it locally as `podman run`\n\
#   does ({local} first)"
        ));
    }
    Some(format!(
        "image {img} (short name): run passes it as written if podman has it locally, found as `podman run`\n\
#   finds it ({local} first; one `podman image inspect` before the run), else Docker Hub's {} as shown",
        crate::plan::build::image_name(s, ctx.dialect, &Default::default(), None)
    ))
}

/// A line per Subflow task: the flow it runs (and its file, once found) as a child execution.
fn subflow_notes<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> Vec<String> {
    use crate::flow::model::TaskKind;
    let mut out = Vec::new();
    for t in tasks {
        match &t.kind {
            TaskKind::Subflow(s) => {
                // As written (an expression only the run renders stays one), then what it is.
                let found = match &s.resolved {
                    Some(r) => format!(
                        "{}({}) as a child execution (`dockhand plan` of that file shows its tasks)",
                        if r.flow.namespace != s.namespace || r.flow.id != s.flow_id {
                            format!("= {}.{} ", r.flow.namespace, r.flow.id)
                        } else {
                            String::new()
                        },
                        r.file
                    ),
                    None if s.namespace.contains("{{") || s.flow_id.contains("{{") => format!(
                        "as a child execution, found under {} when the task runs",
                        s.flows_dir.as_deref().unwrap_or(".")
                    ),
                    None => format!(
                        "as a child execution: not usable under {} now (see the warning), looked up again when the task runs",
                        s.flows_dir.as_deref().unwrap_or(".")
                    ),
                };
                let what = if s.for_each.is_some() {
                    "runs, once per batch of its items, flow"
                } else {
                    "runs flow"
                };
                let detached = if s.wait {
                    ""
                } else {
                    "; `wait: false`: detached"
                };
                out.push(format!(
                    "subflow `{}` ({}, line {}): {what} {}.{} {found}{detached}",
                    t.id, t.path, t.pos.line, s.namespace, s.flow_id
                ));
            }
            TaskKind::Pause { delay, tasks } => {
                let template = t.control.typed.iter().find(|tt| tt.property == "delay");
                out.push(pause_note(
                    t,
                    *delay,
                    template.map(|tt| tt.text.as_str()),
                    tasks.len(),
                ));
                out.extend(subflow_notes(t.children()));
            }
            _ => out.extend(subflow_notes(t.children())),
        }
    }
    out
}

/// What a Pause does, for `plan`.
fn pause_note(
    t: &Task,
    delay: Option<std::time::Duration>,
    template: Option<&str>,
    children: usize,
) -> String {
    let then = match children {
        0 => String::new(),
        n => format!("; then its {n} task(s) run in order"),
    };
    let what = match (delay, template) {
        (Some(d), _) => format!(
            "pause `{}` ({}, line {}): waits {}",
            t.id,
            t.path,
            t.pos.line,
            crate::units::format_duration_iso(d)
        ),
        (None, Some(text)) => format!(
            "pause `{}` ({}, line {}): waits `{text}` (rendered when the task starts)",
            t.id, t.path, t.pos.line
        ),
        (None, None) => format!(
            "pause `{}` ({}, line {}): the run stops PAUSED (exit 4) until `dockhand resume EXECUTION`",
            t.id, t.path, t.pos.line
        ),
    };
    format!("{what}{then}")
}

/// Every Parallel/Sequential task as (path, description), outermost first.
fn groups(flow: &Flow, ctx: &PlanContext) -> Vec<(String, String)> {
    fn walk(t: &Task, ctx: &PlanContext, out: &mut Vec<(String, String)>) {
        use crate::flow::model::TaskKind;
        let (desc, children): (String, Vec<&Task>) = match &t.kind {
            TaskKind::Parallel { concurrent, .. } => {
                let limit = if *concurrent == 0 {
                    "no limit".to_string()
                } else {
                    format!("at most {concurrent} at a time")
                };
                (
                    format!(
                        "parallel `{}` ({}, line {}): its tasks run side by side, {limit}",
                        t.id, t.path, t.pos.line
                    ),
                    t.children(),
                )
            }
            TaskKind::Sequential { .. } => (
                format!(
                    "sequential `{}` ({}, line {}): its tasks run one after the other",
                    t.id, t.path, t.pos.line
                ),
                t.children(),
            ),
            TaskKind::WorkingDirectory(w) => (
                format!(
                    "working directory `{}` ({}, line {}): its tasks run one after the other in the one working directory {}, which they share{}",
                    t.id,
                    t.path,
                    t.pos.line,
                    ctx.workdir(&t.id),
                    crate::plan::working_directory::describe(w)
                ),
                t.children(),
            ),
            TaskKind::Flow(f) => (super::flow_text::describe(t, f), t.children()),
            TaskKind::Script(_)
            | TaskKind::Subflow(_)
            | TaskKind::Core(_)
            | TaskKind::Pause { .. }
            | TaskKind::Image(_) => return,
        };
        out.push((t.path.clone(), desc));
        for c in children {
            walk(c, ctx, out);
        }
    }
    let mut out = Vec::new();
    for t in flow.top_level() {
        walk(t, ctx, &mut out);
    }
    out
}

/// The whole plan of a flow.
pub fn plan(
    flow: &Flow,
    ctx: &PlanContext,
    program: &str,
    tasks: &[crate::plan::PlannedTask<'_>],
    notes: &[String],
) -> String {
    let mut text = String::new();
    let _ = write(flow, ctx, program, tasks, notes, |piece| {
        text.push_str(piece);
        Ok(())
    });
    text
}

/// [`plan`]'s text given to `emit` a piece at a time (the head, then each task), so that
/// `dockhand plan` of a large flow never holds the whole text (about 850 bytes per task) beside
/// the plan itself. Stops at the first error of `emit`.
pub fn write(
    flow: &Flow,
    ctx: &PlanContext,
    program: &str,
    tasks: &[crate::plan::PlannedTask<'_>],
    notes: &[String],
    mut emit: impl FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = String::new();
    let _ = writeln!(out, "# flow {}.{} ({})", flow.namespace, flow.id, flow.file);
    let _ = writeln!(
        out,
        "# engine {}, execution {}",
        ctx.dialect, ctx.execution_id
    );
    for n in notes {
        let _ = writeln!(out, "# {n}");
    }
    for n in subflow_notes(flow.top_level()) {
        let _ = writeln!(out, "# {n}");
    }
    let groups = groups(flow, ctx);
    // A group's index by its path (the first, should a path repeat); the groups holding a task
    // are those whose path is the task's path up to one of its dots.
    let index: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .rev()
        .map(|(i, (p, _))| (p.as_str(), i))
        .collect();
    let mut shown = vec![false; groups.len()];
    // The container tasks' commands and the in-process tasks, in file order.
    let mut cores = crate::flow::core_task::core_tasks(flow)
        .into_iter()
        .peekable();
    let mut entries: Vec<(&Task, Option<&TaskCommands>)> = Vec::new();
    for (task, tc) in tasks {
        while let Some((c, _)) = cores.next_if(|(c, _)| c.pos < task.pos) {
            entries.push((c, None));
        }
        entries.push((&**task, Some(tc)));
    }
    entries.extend(cores.map(|(c, _)| (c, None)));
    // docker Build/Push tasks, in file order among them.
    let images = flow.image_tasks();
    entries.extend(images.iter().map(|(t, _)| (*t, None)));
    entries.sort_by_key(|(t, _)| (t.pos.line, t.pos.col));
    for (task, tc) in entries {
        emit(&out)?;
        out.clear();
        out.push('\n');
        // Announce each Parallel/Sequential group before its first task, outermost first.
        let mut holding: Vec<usize> = task
            .path
            .match_indices('.')
            .filter_map(|(k, _)| index.get(&task.path[..k]).copied())
            .filter(|&i| !shown[i])
            .collect();
        holding.sort_unstable();
        holding.dedup();
        for i in holding {
            shown[i] = true;
            let _ = writeln!(out, "# {}", groups[i].1);
        }
        let _ = writeln!(
            out,
            "## task {} ({}, line {})",
            task.id, task.path, task.pos.line
        );
        for note in super::flow_text::notes(flow, task) {
            let _ = writeln!(out, "# {note}");
        }
        if task.disabled {
            out.push_str("# disabled: skipped\n");
            continue;
        }
        let Some(tc) = tc else {
            if let Some((_, it)) = images.iter().find(|(t, _)| t.path == task.path) {
                image_task(&mut out, program, flow, task, it, ctx);
            } else {
                in_process(task, &mut out);
            }
            continue;
        };
        let _ = writeln!(out, "# working directory {}", tc.workdir);
        if let Some(note) = short_name_note(task, ctx).filter(|_| tc.host.is_none()) {
            let _ = writeln!(out, "# {note}");
        }
        limits(task, "stopped as on cancel, and FAILED", &mut out);
        for name in tc.input_files.keys() {
            if !tc.secret_files.holds(name) {
                let _ = writeln!(out, "# input file {name}");
            } else if tc.secret_files.on_host {
                let _ = writeln!(
                    out,
                    "# input file {name}: holds a secret, written with mode 0600{}",
                    crate::plan::build::owned_by(&tc.secret_files)
                );
            } else {
                let _ = writeln!(
                    out,
                    "# input file {name}: holds a secret, only in the archive copied in (mode 0600{}), not on the host",
                    crate::plan::build::owned_by(&tc.secret_files)
                );
            }
        }
        for g in &tc.output_files {
            let _ = writeln!(out, "# output files {g}");
        }
        if let crate::flow::model::TaskKind::Script(s) = &task.kind {
            for f in &s.kv_files {
                let _ = match f.load {
                    true => writeln!(
                        out,
                        "# before the run: KV key {} of namespace {} written to {} (a warning if missing)",
                        f.key, f.namespace, f.path
                    ),
                    false => writeln!(
                        out,
                        "# after the run: {} (JSON) stored as KV key {} of namespace {}",
                        f.path, f.key, f.namespace
                    ),
                };
            }
        }
        if let crate::flow::model::TaskKind::Script(s) = &task.kind
            && let Some(nf) = &s.namespace_files
        {
            let note = crate::plan::working_directory::namespace_files_note(nf);
            let _ = writeln!(out, "# {note}: written as input files");
        }
        if let Some(d) = &tc.deps {
            let _ = writeln!(out, "# {}", step_title(Step::Install));
            out.push_str(&command(program, &d.install));
        }
        if let Some(h) = &tc.host {
            host_process_lines(h, &mut out);
            continue;
        }
        for c in tc.steps() {
            if tc.detach && c.step == Step::Run {
                out.push_str(
                    "# start, detached (wait: false): the task ends once the container runs\n",
                );
                out.push_str(&command(program, c));
                continue;
            }
            let _ = writeln!(out, "# {}", step_title(c.step));
            out.push_str(&command(program, c));
        }
        let _ = writeln!(out, "# {}", step_title(Step::Stop));
        out.push_str(&command(program, &tc.stop));
    }
    emit(&out)
}

/// A Process task's host command, as `plan` shows it.
fn host_process_lines(h: &crate::plan::host_process::HostCommand, out: &mut String) {
    use crate::plan::host_process::{KILL_GRACE, describe};
    for l in describe(h) {
        let _ = writeln!(out, "# {l}");
    }
    let _ = writeln!(out, "# run on the host, in the working directory");
    let mut c = EngineCommand::new(Step::Run);
    c.args(h.argv.iter().skip(1));
    out.push_str(&command(h.argv.first().map_or("", String::as_str), &c));
    let _ = writeln!(
        out,
        "# on cancel or timeout: SIGTERM to its process group, SIGKILL {} s later",
        KILL_GRACE.as_secs()
    );
}

/// An in-process task in the plan: what dockhand will do itself, no engine command.
fn in_process(task: &Task, out: &mut String) {
    use crate::flow::model::TaskKind;
    let TaskKind::Core(c) = &task.kind else {
        return;
    };
    let _ = writeln!(out, "# in process, no container: {}", c.describe());
    limits(task, "FAILED", out);
}

/// A task's `timeout` (and what then happens) and `allowFailure`.
fn limits(task: &Task, on_timeout: &str, out: &mut String) {
    if let Some(t) = task.timeout {
        let _ = writeln!(
            out,
            "# timeout {}: then {on_timeout}",
            crate::units::format_duration_iso(t)
        );
    } else if let Some(tt) = task.control.typed.iter().find(|t| t.property == "timeout") {
        let _ = writeln!(
            out,
            "# timeout `{}` (rendered when the task starts): then {on_timeout}",
            tt.text
        );
    }
    // A container task's typed properties written as templates (`flow::typed_template`).
    if let crate::flow::model::TaskKind::Script(s) = &task.kind {
        for tt in &s.runner.typed {
            let _ = writeln!(
                out,
                "# `{}` is `{}` (rendered when the task starts)",
                crate::flow::typed_template::shown_item(tt),
                tt.text
            );
        }
    }
    if task.allow_failure {
        out.push_str("# allowFailure: a failure ends the task in WARNING\n");
    }
}

/// A docker Build/Push task: its build context, build and pushes.
fn image_task(
    out: &mut String,
    program: &str,
    flow: &Flow,
    task: &Task,
    it: &crate::flow::model::ImageTask,
    ctx: &PlanContext,
) {
    let ic = match crate::plan::image_task::plan_image_task(
        flow,
        &task.id,
        it,
        ctx,
        &Default::default(),
        None,
    ) {
        Ok((_, ic)) => ic,
        Err(e) => {
            let _ = writeln!(out, "# cannot be shown: {e}");
            return;
        }
    };
    if let Some(b) = &ic.build {
        let _ = writeln!(out, "# build context {}", ic.workdir);
        for name in ic.files.keys() {
            let _ = writeln!(out, "# file {name}");
        }
        let _ = writeln!(
            out,
            "# build the image (its output is the task's log; imageId from --iidfile)"
        );
        out.push_str(&command(program, b));
    }
    for p in &ic.pushes {
        let _ = writeln!(out, "# push");
        out.push_str(&command(program, p));
    }
}

#[cfg(test)]
mod value_flag_tests {
    use super::*;

    /// A new option the builder adds with `opt` prints with its value, with no list to update;
    /// a word that only looks like an option (in the container command) does not take the next.
    #[test]
    fn an_option_added_with_opt_prints_with_its_value() {
        let mut c = EngineCommand::new(Step::Run);
        c.opt("--host", "unix:///run/x.sock").arg("run");
        c.opt(
            "--some-new-option",
            "a-long-value-that-makes-the-line-wrap-for-sure",
        );
        c.arg("busybox").args(["--format", "x"]);
        assert_eq!(
            command("docker", &c),
            "docker --host unix:///run/x.sock run \\\n    --some-new-option a-long-value-that-makes-the-line-wrap-for-sure \\\n    busybox \\\n    --format \\\n    x\n"
        );
    }
}
