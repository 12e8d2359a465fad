//! Running a ForEachItem as Kestra's three internal tasks do (`ForEachItem.java`): `ID_split`
//! splits the `items` file into batches kept in the local storage (`outputs.ID_split.splits`:
//! the file listing their URIs); `ID_items` runs the subflow once per batch, a child execution
//! each with `{{ taskrun.items }}` the batch's URI and `{{ taskrun.iteration }}` its number
//! from 1 (`outputs.ID_items.iterations`: the count per state, `numberOfBatches`); `ID_merge`
//! joins the flow outputs of the children, one JSON (Ion) line each, into one file
//! (`outputs.ID_merge.subflowOutputs`), in batch order. The batches run side by side, as Kestra
//! starts them all at once (`exec::batch_admission` bounds them); the order of their ends is
//! not part of the result.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::exec::result::{State, TaskResult};
use crate::exec::subflow::{self, failed};
use crate::exec::{Runtime, Shared, journal, taskrun::Frame, walk};
use crate::flow::for_each_item::{ForEachItems, SUFFIXES, Split, split};
use crate::flow::model::{Flow, ResolvedSubflow, SubflowTask, Task};
use crate::plan::storage as names;

/// The task's state from the batches' states, as Kestra's `ExecutableUtils.findTerminalState`
/// (with `transmitFailed`; without it the task succeeds): any FAILED fails it (WARNING with
/// `allowFailure`, SUCCESS with `allowWarning` too), else any KILLED kills it, else any WARNING
/// makes it WARNING (SUCCESS with `allowWarning`). Pure.
pub fn task_state(
    counts: &BTreeMap<&'static str, usize>,
    transmit_failed: bool,
    allow_failure: bool,
    allow_warning: bool,
) -> State {
    let has = |s: &str| counts.get(s).copied().unwrap_or(0) > 0;
    if !transmit_failed {
        State::Success
    } else if has("FAILED") {
        match (allow_failure, allow_warning) {
            (true, true) => State::Success,
            (true, false) => State::Warning,
            _ => State::Failed,
        }
    } else if has("KILLED") {
        State::Killed
    } else if has("WARNING") && !allow_warning {
        State::Warning
    } else {
        State::Success
    }
}

/// How the batch is split, its templates rendered: `bytes`, else `partitions`, else `rows`.
fn how(
    it: &ForEachItems,
    render: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Split, String> {
    let int = |key: &str, t: &str| -> Result<usize, String> {
        let v = render(t)?;
        v.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("batch.{key}: `{v}` is not a whole number above 0"))
    };
    if let Some(b) = &it.bytes {
        let v = render(b)?;
        return crate::units::parse_size(v.trim())
            .map(Split::Bytes)
            .map_err(|e| format!("batch.bytes: {e}"));
    }
    if let Some(p) = &it.partitions {
        return int("partitions", p).map(Split::Partitions);
    }
    match &it.rows {
        Some(r) => int("rows", r).map(Split::Rows),
        None => Ok(Split::Rows(1)),
    }
}

/// Writes `text` to the storage at `uri`.
fn put(rt: &Runtime, uri: &str, text: &str) -> Result<(), String> {
    let s = rt
        .storage
        .as_ref()
        .ok_or("ForEachItem needs the local storage (a state directory)")?;
    let path = names::storage_path(&s.root, uri)?;
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(|e| format!("{p}: {e}"))?;
    }
    std::fs::write(&path, text).map_err(|e| format!("{path}: {e}"))
}

/// Publishes the outputs of one internal task (`ID_split`...).
fn publish(shared: &Shared, task: &Task, suffix: &str, frame: &Frame, outputs: serde_json::Value) {
    let mut t = task.clone();
    t.id = format!("{}{suffix}", task.id);
    let mut r = TaskResult::new(&t.id, State::Success);
    r.values = frame.values();
    if let serde_json::Value::Object(m) = outputs {
        r.outputs = m.into_iter().collect();
    }
    walk::publish_own(shared, &t, &r);
}

/// One batch's child execution, before it starts.
struct Planned {
    iteration: usize,
    given: BTreeMap<String, String>,
    id: String,
}

/// A batch's end: its execution's state, and its flow outputs when it ran.
type BatchEnd = (State, Option<BTreeMap<String, serde_json::Value>>);

/// Runs the batches' executions side by side (as Kestra, which creates them all at once), at
/// most [`batch_admission::in_flight_here`] at a time, each admitted in batch order by the
/// child flow's `concurrency`; their ends in batch order. A batch whose execution ended
/// already (a resumed parent) is not run again: its journal gives its end. An error starting
/// one stops further batches from starting; those under way run to their end first.
async fn run_batches(
    rt: &Arc<Runtime>,
    task: &Task,
    flow: &Flow,
    resolved: &ResolvedSubflow,
    labels: &BTreeMap<String, String>,
    planned: Vec<Planned>,
) -> Result<Vec<BatchEnd>, String> {
    use crate::exec::batch_admission::{self as admission, Admitted};
    let n = planned.len();
    let sem = Arc::new(tokio::sync::Semaphore::new(admission::in_flight_here(n)));
    let shared_flow = Arc::new(resolved.clone());
    let mut ends: Vec<Option<BatchEnd>> = (0..n).map(|_| None).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut error = None;
    let stopped = || *rt.cancel.borrow() != crate::exec::Cancel::No;
    for (k, b) in planned.into_iter().enumerate() {
        let iteration = b.iteration;
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        if stopped() {
            ends[k] = Some((State::Killed, None));
            continue;
        }
        let child = match subflow::start_child(rt, task, flow, labels, resolved, &b.given, &b.id) {
            Ok(c) => c,
            Err(e) => {
                error = Some(format!("batch {iteration}: {e}"));
                break;
            }
        };
        // Cancelled or failed by the concurrency limit in an earlier run: so it stays.
        let records = journal::read(&child.state_dir, &child.id).unwrap_or_default();
        if let Some(state) = admission::ended_unrun(&records) {
            ends[k] = Some((state, None));
            continue;
        }
        let slot = if child.replay.finished {
            None
        } else {
            let waiting = || {
                rt.status(&format!(
                    "{}: batch {iteration} (execution {}) waits: the concurrency limit of flow {}.{} is reached (behavior QUEUE)",
                    task.id, b.id, resolved.flow.namespace, resolved.flow.id
                ))
            };
            match admission::admit(rt, &resolved.flow, &child.state_dir, &b.id, waiting).await {
                Ok(Admitted::Run(slot)) => slot,
                Ok(Admitted::NotRun(state, why)) => {
                    rt.status(&format!(
                        "{}: batch {iteration} (execution {}) {}: {why}",
                        task.id,
                        b.id,
                        state.name()
                    ));
                    let _ = child
                        .journal
                        .append(&admission::ended_by_limit(state), true);
                    let _ = child.journal.append(
                        &journal::Record::End {
                            state: state.name().to_string(),
                            at: journal::Stamp::now(),
                        },
                        true,
                    );
                    ends[k] = Some((state, None));
                    continue;
                }
                Ok(Admitted::Stopped) => {
                    ends[k] = Some((State::Killed, None));
                    continue;
                }
                Err(e) => {
                    error = Some(format!("batch {iteration}: {e}"));
                    break;
                }
            }
        };
        let (rt, resolved, labels) = (rt.clone(), shared_flow.clone(), labels.clone());
        set.spawn(async move {
            let _held = (permit, slot);
            let (result, _) = subflow::run_child(&rt, &resolved, child, labels).await;
            (k, (result.state, Some(result.outputs)))
        });
    }
    while let Some(done) = set.join_next().await {
        match done {
            Ok((k, end)) => ends[k] = Some(end),
            Err(e) => error = error.or(Some(format!("a batch's execution stopped: {e}"))),
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    // A batch not started (the execution stopped before it) is KILLED.
    Ok(ends
        .into_iter()
        .map(|e| e.unwrap_or((State::Killed, None)))
        .collect())
}

/// Runs the task: splits, runs the subflow per batch, merges the outputs.
pub async fn run(
    rt: &Arc<Runtime>,
    flow: &Flow,
    task: &Task,
    sub: &SubflowTask,
    shared: &Shared,
    frame: &Frame,
) -> TaskResult {
    let started = std::time::Instant::now();
    let Some(it) = &sub.for_each else {
        return failed(task, "not a ForEachItem".into());
    };
    let run = frame.context(&task.id, 1);
    let render = |t: &str| walk::render_for(rt, flow, task, shared, &run, t);
    let prepared = (|| {
        let uri = render(&it.items)?;
        if names::file_uri(&uri).is_none() {
            return Err(format!(
                "unable to split the items from `{uri}`: this is not an internal storage URI (kestra://...)"
            ));
        }
        let storage = rt
            .storage
            .as_ref()
            .ok_or("ForEachItem needs the local storage (a state directory)")?;
        let text = storage.read(&uri)?;
        let sep = render(&it.separator)?;
        let batches = split(&text, how(it, &render)?, &sep);
        let namespace = render(&sub.namespace)?;
        let flow_id = render(&sub.flow_id)?;
        Ok::<_, String>((batches, namespace, flow_id))
    })();
    let (batches, namespace, flow_id) = match prepared {
        Ok(p) => p,
        Err(e) => return failed(task, e),
    };
    let resolved = match subflow::child_flow(sub, &namespace, &flow_id) {
        Ok(r) => r,
        Err(e) => return failed(task, e),
    };
    let labels = match subflow::child_labels(rt, flow, sub, &resolved.flow, &render) {
        Ok(l) => l,
        Err(e) => return failed(task, e),
    };
    let ids = (
        flow.namespace.as_str(),
        flow.id.as_str(),
        rt.ctx.execution_id.as_str(),
    );
    let run_key = crate::exec::taskrun::display(&task.id, &frame.values());
    let uri_of = |suffix: &str, name: &str| {
        names::output_uri(ids.0, ids.1, ids.2, &format!("{run_key}{suffix}"), 0, name)
    };
    // ID_split: each batch a file, and the file listing them.
    let mut splits = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let uri = uri_of(SUFFIXES[0], &format!("batch-{}.txt", i + 1));
        if let Err(e) = put(rt, &uri, b) {
            return failed(task, e);
        }
        splits.push(uri);
    }
    let splits_uri = uri_of(SUFFIXES[0], "splits.txt");
    if let Err(e) = put(rt, &splits_uri, &splits.join("\n")) {
        return failed(task, e);
    }
    publish(
        shared,
        task,
        SUFFIXES[0],
        frame,
        json!({ "splits": splits_uri }),
    );
    // ID_items: one child execution per batch, their inputs rendered now with the parent's
    // values (Kestra renders them when it creates the executions, all at once).
    let mut counts: BTreeMap<&'static str, usize> = if sub.wait {
        [("CREATED", 0), ("RUNNING", 0)].into()
    } else {
        [("RUNNING", 0)].into()
    };
    let mut planned = Vec::new();
    for (i, uri) in splits.iter().enumerate() {
        let iteration = i + 1;
        let mut batch_run = run.clone();
        batch_run.items = Some(uri.clone());
        batch_run.iteration = Some(iteration as u64);
        let mut given = BTreeMap::new();
        for (k, v) in &sub.inputs {
            match walk::render_for(rt, flow, task, shared, &batch_run, v) {
                Ok(v) => {
                    given.insert(k.clone(), v);
                }
                Err(e) => return failed(task, format!("input `{k}` of batch {iteration}: {e}")),
            }
        }
        let id = subflow::child_execution_id(
            &rt.ctx.execution_id,
            &format!(
                "{}[{iteration}]",
                crate::exec::taskrun::display(&task.path, &frame.values())
            ),
        );
        planned.push(Planned {
            iteration,
            given,
            id,
        });
    }
    let mut merged = String::new();
    let mut merged_any = false;
    if !sub.wait {
        // Each batch a detached execution: started one after the other (each start is quick),
        // they run side by side on their own.
        for b in &planned {
            if *rt.cancel.borrow() != crate::exec::Cancel::No {
                *counts.entry("KILLED").or_default() += 1;
                continue;
            }
            let iteration = b.iteration;
            let child =
                match subflow::start_child(rt, task, flow, &labels, &resolved, &b.given, &b.id) {
                    Ok(c) => c,
                    Err(e) => return failed(task, format!("batch {iteration}: {e}")),
                };
            if let Err(e) = subflow::detach(rt, sub, &resolved.flow, &child) {
                return failed(task, format!("batch {iteration}: {e}"));
            }
            *counts.entry("SUCCESS").or_default() += 1;
        }
    } else {
        let ends = match run_batches(rt, task, flow, &resolved, &labels, planned).await {
            Ok(e) => e,
            Err(e) => return failed(task, e),
        };
        // In batch order, whatever order they ended in (Kestra's merge sorts by iteration).
        for (i, (state, outputs)) in ends.into_iter().enumerate() {
            let iteration = i + 1;
            *counts.entry(state.name()).or_default() += 1;
            // Kestra writes each child's flow outputs to ID_items/ITERATION/outputs.ion.
            if let Some(outputs) = outputs.filter(|_| !resolved.flow.outputs.is_empty()) {
                let line = serde_json::Value::Object(outputs.into_iter().collect());
                let each = uri_of(SUFFIXES[1], &format!("{iteration}/outputs.ion"));
                if let Err(e) = put(rt, &each, &format!("{line}\n")) {
                    return failed(task, e);
                }
                merged.push_str(&format!("{line}\n"));
                merged_any = true;
            }
        }
    }
    publish(
        shared,
        task,
        SUFFIXES[1],
        frame,
        json!({ "iterations": counts, "numberOfBatches": splits.len() }),
    );
    // ID_merge: the children's outputs in one file, when they have any.
    if merged_any {
        let uri = uri_of(SUFFIXES[2], "outputs.ion");
        if let Err(e) = put(rt, &uri, &merged) {
            return failed(task, e);
        }
        publish(
            shared,
            task,
            SUFFIXES[2],
            frame,
            json!({ "subflowOutputs": uri }),
        );
    }
    let cancelled = *rt.cancel.borrow() != crate::exec::Cancel::No;
    let state = if cancelled {
        State::Killed
    } else {
        task_state(
            &counts,
            sub.transmit_failed && sub.wait,
            task.allow_failure,
            task.control.allow_warning,
        )
    };
    let mut r = TaskResult::new(&task.id, state);
    r.duration = started.elapsed();
    r.message = Some(format!(
        "{} batch(es) of flow {namespace}.{flow_id}: {}",
        splits.len(),
        counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if state == State::Failed {
        r.failure = Some(crate::exec::result::Failure::Setup {
            message: format!("batches of flow {namespace}.{flow_id} failed"),
        });
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_kestras_terminal_state() {
        let c = |pairs: &[(&'static str, usize)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
        let rows = [
            (c(&[("SUCCESS", 3)]), true, false, false, State::Success),
            (
                c(&[("SUCCESS", 2), ("FAILED", 1)]),
                true,
                false,
                false,
                State::Failed,
            ),
            (c(&[("FAILED", 1)]), false, false, false, State::Success),
            (c(&[("FAILED", 1)]), true, true, false, State::Warning),
            (c(&[("FAILED", 1)]), true, true, true, State::Success),
            (
                c(&[("KILLED", 1), ("WARNING", 1)]),
                true,
                false,
                false,
                State::Killed,
            ),
            (c(&[("WARNING", 1)]), true, false, false, State::Warning),
            (c(&[("WARNING", 1)]), true, false, true, State::Success),
            // Batches the child flow's concurrency limit cancelled do not change it.
            (
                c(&[("SUCCESS", 1), ("CANCELLED", 2)]),
                true,
                false,
                false,
                State::Success,
            ),
            (
                c(&[("FAILED", 1), ("KILLED", 1)]),
                true,
                false,
                false,
                State::Failed,
            ),
        ];
        for (counts, tf, af, aw, want) in rows {
            assert_eq!(
                task_state(&counts, tf, af, aw),
                want,
                "{counts:?} {tf} {af} {aw}"
            );
        }
    }
}
