//! Removing the containers of finished tasks, several in one engine call. A container's `rm`
//! starts at once when no removal is under way; those that finish while one is share the next
//! call (`rm --force --volumes A B C`): a ForEach or Parallel of many short tasks makes far
//! fewer engine client processes than one `rm` each, and the engine is asked less while the
//! next runs start. Each container still gets its own outcome (`Removal`), read from what the
//! shared call printed. The processes are detachable: those under way when dockhand returns
//! finish on their own, and [`Remover::flush`] starts the queued ones before it returns.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::exec::process;
use crate::exec::result::Removal;
use crate::plan::command::EngineCommand;

/// A container waiting for its removal.
struct Queued {
    /// Its own `rm` (from the task's commands); the shared call is built from it.
    rm: EngineCommand,
    task: String,
    container: String,
    done: oneshot::Sender<Removal>,
}

#[derive(Default)]
struct State {
    /// A removal call is under way: what finishes meanwhile waits for the next one.
    busy: bool,
    queue: Vec<Queued>,
}

/// The removals of one execution.
#[derive(Default)]
pub struct Remover {
    state: Arc<Mutex<State>>,
}

/// How the removal of each of `containers` went, from one shared `rm` call's exit and stderr:
/// `None` gone (or gone already), `Some(why)` not removed. Pure.
pub fn outcomes(ok: bool, stderr: &str, containers: &[&str]) -> Vec<Option<String>> {
    if ok {
        return vec![None; containers.len()];
    }
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let gone = |l: &str| {
        let l = l.to_lowercase();
        l.contains("no such container") || l.contains("no container with name or id")
    };
    let named: Vec<Option<&str>> = containers
        .iter()
        .map(|c| lines.iter().copied().find(|l| mentions(l, c)))
        .collect();
    // A failure that names none of them (no engine there) is every one's.
    if named.iter().all(Option::is_none) {
        let why = process::Output {
            status: Some(1),
            stdout: String::new(),
            stderr: stderr.to_string(),
        }
        .error_line();
        return vec![Some(why); containers.len()];
    }
    named
        .into_iter()
        .map(|l| match l {
            Some(l) if !gone(l) => Some(l.trim().to_string()),
            _ => None,
        })
        .collect()
}

/// Does `line` name container `name` (not just one whose name starts with it, `t.1-1` in
/// `t.1-10`)?
fn mentions(line: &str, name: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    line.match_indices(name).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + name.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

impl Remover {
    /// Removes `container` (task `task`) with `rm`, now or in the next shared call; the handle
    /// tells how it went.
    pub fn remove(
        &self,
        program: &Path,
        quiet: bool,
        rm: EngineCommand,
        task: String,
        container: String,
    ) -> JoinHandle<Removal> {
        let (done, told) = oneshot::channel();
        let now = {
            let mut st = self.state.lock().unwrap();
            st.queue.push(Queued {
                rm,
                task,
                container,
                done,
            });
            if st.busy {
                None
            } else {
                st.busy = true;
                Some(std::mem::take(&mut st.queue))
            }
        };
        if let Some(batch) = now {
            // Started here, not in the task below: a task may never be polled if the flow
            // ends at once, but the process, once started, finishes on its own.
            let calls = launch(program, batch);
            let (state, program) = (self.state.clone(), program.to_path_buf());
            tokio::spawn(drive(state, program, quiet, calls));
        }
        tokio::spawn(async move { told.await.unwrap_or(Removal::HandedOff) })
    }

    /// Starts the removal of every container still queued, now: the run is about to return.
    pub fn flush(&self, program: &Path, quiet: bool) {
        let batch = std::mem::take(&mut self.state.lock().unwrap().queue);
        if !batch.is_empty() {
            let calls = launch(program, batch);
            tokio::spawn(report(calls, quiet));
        }
    }
}

/// A started `rm` call and the containers it removes.
type Call = (std::io::Result<tokio::process::Child>, Vec<Queued>);

/// Starts one call per engine (the same global options) for the containers of `batch`.
fn launch(program: &Path, batch: Vec<Queued>) -> Vec<Call> {
    let mut groups: Vec<Vec<Queued>> = Vec::new();
    for q in batch {
        let head = |r: &EngineCommand| r.args[..r.args.len().saturating_sub(1)].to_vec();
        match groups
            .iter_mut()
            .find(|g| head(&g[0].rm) == head(&q.rm) && g[0].rm.env == q.rm.env)
        {
            Some(g) => g.push(q),
            None => groups.push(vec![q]),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let names: Vec<&str> = g[1..].iter().map(|q| q.container.as_str()).collect();
            let rm = crate::plan::engine_commands::remove_also(&g[0].rm, &names);
            (process::spawn_detachable(program, &rm), g)
        })
        .collect()
}

/// Waits for the calls and tells each container's outcome.
async fn report(calls: Vec<Call>, quiet: bool) {
    for (child, queued) in calls {
        let waited = match child {
            Ok(child) => process::wait_detachable(child).await,
            Err(e) => Err(e),
        };
        let names: Vec<&str> = queued.iter().map(|q| q.container.as_str()).collect();
        let said = match &waited {
            Ok(out) => outcomes(out.ok(), &out.stderr, &names),
            Err(e) => vec![Some(e.to_string()); names.len()],
        };
        for (q, why) in queued.into_iter().zip(said) {
            let removal = match why {
                None => Removal::Removed,
                Some(p) => {
                    if !quiet {
                        eprintln!("dockhand: {}: removing {} failed: {p}", q.task, q.container);
                    }
                    Removal::Failed
                }
            };
            let _ = q.done.send(removal);
        }
    }
}

/// Reports the calls under way, then removes what queued meanwhile, until nothing is left.
async fn drive(state: Arc<Mutex<State>>, program: PathBuf, quiet: bool, mut calls: Vec<Call>) {
    loop {
        report(calls, quiet).await;
        let next = {
            let mut st = state.lock().unwrap();
            if st.queue.is_empty() {
                st.busy = false;
                return;
            }
            std::mem::take(&mut st.queue)
        };
        calls = launch(&program, next);
    }
}

#[cfg(test)]
mod tests {
    use super::outcomes;

    #[test]
    fn each_container_gets_its_outcome_from_the_shared_call() {
        let ok = None;
        let failed = |s: &str| Some(s.to_string());
        type Row<'a> = (bool, &'a str, &'a [&'a str], Vec<Option<String>>);
        let rows: &[Row] = &[
            (true, "", &["a", "b"], vec![ok.clone(), ok.clone()]),
            // Gone already: as good as removed (docker's and podman's words).
            (
                false,
                "Error response from daemon: No such container: b\n",
                &["a", "b"],
                vec![ok.clone(), ok.clone()],
            ),
            (
                false,
                "Error: no container with name or ID \"a\" found: no such container\n",
                &["a", "b"],
                vec![ok.clone(), ok.clone()],
            ),
            // One that the engine could not remove fails alone.
            (
                false,
                "Error response from daemon: could not remove container \"dh-x-t.1-1\": device or resource busy\n",
                &["dh-x-t.0-1", "dh-x-t.1-1"],
                vec![
                    ok.clone(),
                    failed(
                        "Error response from daemon: could not remove container \"dh-x-t.1-1\": device or resource busy",
                    ),
                ],
            ),
            // A name that only starts another's is not it.
            (
                false,
                "Error response from daemon: could not remove container \"t.1-10\": busy\n",
                &["t.1-1", "t.1-10"],
                vec![
                    ok.clone(),
                    failed(
                        "Error response from daemon: could not remove container \"t.1-10\": busy",
                    ),
                ],
            ),
            // No engine at all: every container's failure.
            (
                false,
                "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n",
                &["a", "b"],
                vec![
                    failed(
                        "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
                    ),
                    failed(
                        "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
                    ),
                ],
            ),
        ];
        for (ok, stderr, names, want) in rows {
            assert_eq!(&outcomes(*ok, stderr, names), want, "{stderr}");
        }
    }
}
