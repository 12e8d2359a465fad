//! Removing the containers of finished tasks, several in one engine call. A finished
//! container waits a short while ([`WINDOW`], or until [`BATCH`] are queued) for others to
//! finish, and those that finish while a removal is under way wait for it to end; then they go
//! in one call (`rm --force --volumes A B C`): a ForEach or Parallel of many short tasks makes
//! far fewer engine client processes than one `rm` each, and the engine is asked less while the
//! next runs start. When to start a call is [`next_call`], pure. Each container still gets its
//! own outcome (`Removal`), read from what the shared call printed. The processes are
//! detachable: those under way when dockhand returns finish on their own, and
//! [`Remover::flush`] starts the queued ones before it returns. A container held back when
//! dockhand is killed keeps its logs and exit code for `resume`; `cleanup` removes it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// A timer will look at the queue again when its oldest has waited [`WINDOW`].
    timer: bool,
    /// When the oldest of `queue` was queued.
    since: Option<Instant>,
    /// When the last removal was asked for, and whether it came within [`WINDOW`] of the one
    /// before (containers are finishing side by side, so more will come soon).
    last: Option<Instant>,
    side_by_side: bool,
    queue: Vec<Queued>,
}

/// How long a finished container waits for others to share its `rm` call. Short: the
/// container's disk and name are held meanwhile, and a run's own end (or a cancel) does not
/// wait for it ([`Remover::flush`]).
pub const WINDOW: Duration = Duration::from_millis(1000);

/// So many queued containers go at once, without waiting out the window.
pub const BATCH: usize = 16;

/// What to do with the queue of removals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Start one call for every queued container now.
    Start,
    /// Look again after this long (the oldest's window has not passed).
    WaitFor(Duration),
    /// Nothing now: the queue is empty, or the call under way takes the next look when it ends.
    Nothing,
}

/// When to start the next shared `rm` call, from how many wait (`queued`), whether a call is
/// under way (`busy`), how long the oldest has waited, whether the last two removals came
/// within the window of each other (`side_by_side`: containers are finishing together, others
/// will share the call; a lone one, as in a sequence of tasks, goes at once, while the next
/// task runs) and whether the run is ending (`ending`: everything goes now, nothing will look
/// later). Pure.
pub fn next_call(
    queued: usize,
    busy: bool,
    oldest_waited: Duration,
    side_by_side: bool,
    ending: bool,
) -> Next {
    if queued == 0 {
        Next::Nothing
    } else if ending {
        Next::Start
    } else if busy {
        Next::Nothing
    } else if !side_by_side || queued >= BATCH || oldest_waited >= WINDOW {
        Next::Start
    } else {
        Next::WaitFor(WINDOW - oldest_waited)
    }
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
        {
            let mut st = self.state.lock().unwrap();
            let now = Instant::now();
            st.since.get_or_insert(now);
            st.side_by_side = st.last.is_some_and(|t| now - t < WINDOW);
            st.last = Some(now);
            st.queue.push(Queued {
                rm,
                task,
                container,
                done,
            });
        }
        look(&self.state, program, quiet);
        tokio::spawn(async move { told.await.unwrap_or(Removal::HandedOff) })
    }

    /// Starts the removal of every container still queued, now: the run is about to return.
    pub fn flush(&self, program: &Path, quiet: bool) {
        let batch = {
            let mut st = self.state.lock().unwrap();
            st.since = None;
            std::mem::take(&mut st.queue)
        };
        if next_call(batch.len(), false, Duration::ZERO, true, true) == Next::Start {
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

/// Decides on the queue ([`next_call`]) and does it: starts a call (its driver looks again
/// when it ends), or arms the timer that looks again when the oldest's window is over.
fn look(state: &Arc<Mutex<State>>, program: &Path, quiet: bool) {
    let batch = {
        let mut st = state.lock().unwrap();
        let waited = st.since.map_or(Duration::ZERO, |t| t.elapsed());
        match next_call(st.queue.len(), st.busy, waited, st.side_by_side, false) {
            Next::Start => {
                st.busy = true;
                st.since = None;
                std::mem::take(&mut st.queue)
            }
            Next::WaitFor(d) => {
                if !st.timer {
                    st.timer = true;
                    let (state, program) = (state.clone(), program.to_path_buf());
                    tokio::spawn(async move {
                        tokio::time::sleep(d).await;
                        state.lock().unwrap().timer = false;
                        look(&state, &program, quiet);
                    });
                }
                return;
            }
            Next::Nothing => return,
        }
    };
    // Started here, not in the task below: a task may never be polled if the flow ends at
    // once, but the process, once started, finishes on its own.
    let calls = launch(program, batch);
    let (state, program) = (state.clone(), program.to_path_buf());
    tokio::spawn(async move {
        report(calls, quiet).await;
        state.lock().unwrap().busy = false;
        look(&state, &program, quiet);
    });
}

#[cfg(test)]
mod tests {
    use super::{BATCH, Next, WINDOW, next_call, outcomes};
    use std::time::Duration;

    #[test]
    fn a_removal_waits_a_little_for_others_to_share_its_call() {
        let ms = Duration::from_millis;
        type Row = (usize, bool, Duration, bool, bool, Next);
        let rows: &[Row] = &[
            // Nothing queued: nothing to do, ending or not.
            (0, false, ms(0), true, false, Next::Nothing),
            (0, false, ms(0), true, true, Next::Nothing),
            // Containers finishing side by side wait out the window for others.
            (1, false, ms(0), true, false, Next::WaitFor(WINDOW)),
            (
                3,
                false,
                ms(400),
                true,
                false,
                Next::WaitFor(WINDOW - ms(400)),
            ),
            // A lone one (tasks in sequence) goes at once, while the next task runs.
            (1, false, ms(0), false, false, Next::Start),
            // The window is over: they go.
            (3, false, WINDOW, true, false, Next::Start),
            (1, false, WINDOW + ms(5), true, false, Next::Start),
            // Enough queued: they go without waiting.
            (BATCH, false, ms(0), true, false, Next::Start),
            (BATCH - 1, false, ms(0), true, false, Next::WaitFor(WINDOW)),
            // A call under way looks again when it ends, however many wait.
            (BATCH * 2, true, WINDOW * 2, true, false, Next::Nothing),
            (1, true, ms(0), false, false, Next::Nothing),
            // The run ends (or is cancelled): everything goes now, even beside a call.
            (1, false, ms(0), true, true, Next::Start),
            (5, true, ms(0), true, true, Next::Start),
        ];
        for &(queued, busy, waited, side, ending, want) in rows {
            assert_eq!(
                next_call(queued, busy, waited, side, ending),
                want,
                "{queued} queued, busy {busy}, waited {waited:?}, side by side {side}, ending {ending}"
            );
        }
    }

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
