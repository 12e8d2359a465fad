//! Running a Process task (`io.kestra.plugin.core.runner.Process`) on the host: its working
//! directory and input files, the program started in a session of its own (`setsid`, so its
//! process group is its own and a terminal's Ctrl-C reaches dockhand only), its output streamed
//! and parsed as a container's is (`::{"outputs":…}::`), timeout and cancel stopping the whole
//! process group (SIGTERM, then SIGKILL after [`KILL_GRACE`]), output files, and the state from
//! the exit status. No engine is involved.
//!
//! A Process task cannot be re-attached after dockhand dies: there is no container to follow.
//! As Kestra documents for its Process runner ("if the worker stops, the process is interrupted
//! and will be recreated on restart"), `resume` runs it again as a new attempt, after killing
//! what is left of the earlier process group (recorded in the journal with the leader's start
//! time, so a reused pid is never killed).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::exec::journal::{InFlight, Record};
use crate::exec::logs::{self, Captured, Stream};
use crate::exec::result::{Failure, State, TaskResult};
use crate::exec::{Cancel, Runtime};
use crate::flow::model::Task;
use crate::plan::build::TaskCommands;
use crate::plan::host_process::{HostCommand, KILL_GRACE, NOT_INHERITED_PREFIXES};

/// What the journal records as the "container" of a Process task once it has started: its
/// process group and the leader's start time (clock ticks since boot, `/proc/PID/stat`).
pub fn marker(pgid: i32, start: u64) -> String {
    format!("host-process pgid {pgid} start {start}")
}

/// The process group and start time of a [`marker`]; `None` for anything else (a container
/// name, or the marker written before the process existed).
pub fn parse_marker(s: &str) -> Option<(i32, u64)> {
    let rest = s.strip_prefix("host-process pgid ")?;
    let (pgid, start) = rest.split_once(" start ")?;
    Some((pgid.parse().ok()?, start.parse().ok()?))
}

/// What the journal records before the process exists.
const STARTING: &str = "host-process starting";

/// What `resume` does with a Process task the journal shows as started and not ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnResume {
    /// Not in flight: a normal start.
    Start,
    /// In flight: run it again as attempt `attempt`, after killing the earlier process group
    /// when it is known (and still the same process: its start time matches).
    Rerun {
        attempt: u32,
        leftover: Option<(i32, u64)>,
    },
}

/// [`OnResume`] from the journal's record of the task.
pub fn on_resume(in_flight: Option<&InFlight>) -> OnResume {
    match in_flight {
        None => OnResume::Start,
        Some(f) => OnResume::Rerun {
            attempt: f.attempt + 1,
            leftover: parse_marker(&f.container),
        },
    }
}

/// How the process ended, as the task's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    pub state: State,
    pub failure: Option<Failure>,
    pub exit_code: Option<i32>,
    pub message: Option<String>,
}

/// The task's state from how its process ended: dockhand's stop (timeout: FAILED, cancel:
/// KILLED) first, then the exit code (0: SUCCESS, else FAILED with it), then a signal from
/// someone else (FAILED, exit code 128 + N as a shell reports it).
pub fn decide(stopped: Option<&Failure>, code: Option<i32>, signal: Option<i32>) -> Ended {
    let grace = KILL_GRACE.as_secs();
    match (stopped, code, signal) {
        (Some(f @ Failure::Timeout { after_ms }), code, _) => Ended {
            state: State::Failed,
            failure: Some(f.clone()),
            exit_code: code,
            message: Some(format!(
                "timed out after {:.1} s; its process group was stopped (SIGTERM, SIGKILL after {grace} s)",
                *after_ms as f64 / 1000.0
            )),
        },
        (Some(f), code, _) => Ended {
            state: State::Killed,
            failure: Some(f.clone()),
            exit_code: code,
            message: Some(format!(
                "cancelled; its process group was stopped (SIGTERM, SIGKILL after {grace} s)"
            )),
        },
        (None, Some(0), _) => Ended {
            state: State::Success,
            failure: None,
            exit_code: Some(0),
            message: None,
        },
        (None, Some(code), _) => Ended {
            state: State::Failed,
            failure: Some(Failure::ExitCode { code }),
            exit_code: Some(code),
            message: Some(format!("command failed with exit code {code}")),
        },
        (None, None, sig) => {
            let sig = sig.unwrap_or(0);
            Ended {
                state: State::Failed,
                failure: Some(Failure::ExitCode { code: 128 + sig }),
                exit_code: Some(128 + sig),
                message: Some(format!(
                    "killed by signal {sig} (exit {}), not by dockhand",
                    128 + sig
                )),
            }
        }
    }
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`), if it exists.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Sends `sig` to process group `pgid`; a group that is gone is not an error.
fn signal_group(pgid: i32, sig: i32) {
    if pgid > 1 {
        // Unsafe because it is FFI: killpg has no memory effects (a group that is gone only
        // yields ESRCH), and std has no way to signal a process group.
        #[allow(unsafe_code)]
        unsafe {
            libc::killpg(pgid, sig);
        }
    }
}

/// Runs a Process task. `attempt` and `in_flight` are as the journal has them.
pub async fn run(
    rt: &Runtime,
    task: &Task,
    tc: &TaskCommands,
    hc: &HostCommand,
    attempt: u32,
    in_flight: Option<&InFlight>,
    start_signal: crate::exec::Started,
) -> TaskResult {
    let mut res = TaskResult::new(&task.id, State::Failed);
    // `attempt` is already the new one for a task in flight (`task::run`).
    match on_resume(in_flight) {
        OnResume::Start => {}
        OnResume::Rerun { leftover, .. } => {
            if let Some((pgid, start)) = leftover
                && start_time(pgid) == Some(start)
            {
                signal_group(pgid, libc::SIGKILL);
                rt.status(&format!(
                    "{}: killed the process group {pgid} left by the interrupted execution",
                    task.id
                ));
            }
            rt.status(&format!(
                "{}: a Process task cannot be re-attached; it runs again (attempt {attempt}), as in Kestra",
                task.id
            ));
        }
    }
    let fail = |mut res: TaskResult, message: String| {
        res.failure = Some(Failure::Setup {
            message: message.clone(),
        });
        res.message = Some(message);
        res
    };
    if let Err(e) =
        crate::exec::files::prepare(&tc.workdir, &tc.input_files, false, &tc.secret_files).and_then(
            |()| match &hc.output_dir {
                Some(d) => std::fs::create_dir_all(d),
                None => Ok(()),
            },
        )
    {
        return fail(
            res,
            format!("cannot prepare the working directory {}: {e}", tc.workdir),
        );
    }
    let journal_start = |container: String| match &rt.journal {
        Some(j) => j.append(
            &Record::TaskStart {
                task: task.id.clone(),
                container,
                attempt,
                at: crate::exec::journal::Stamp::now(),
            },
            true,
        ),
        None => Ok(()),
    };
    if let Err(e) = journal_start(STARTING.to_string()) {
        return fail(res, e.to_string());
    }
    rt.status(&format!(
        "{}: starting on the host: {}",
        task.id,
        hc.argv.first().map_or("", String::as_str)
    ));
    if let Some(s) = start_signal {
        let _ = s.send(());
    }
    if let Some(f) = &hc.command_file
        && let Err(e) = crate::exec::process::write_private(f)
    {
        return fail(res, format!("cannot write the private command file: {e}"));
    }
    let started = Instant::now();
    let spawned = spawn(hc);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            remove_command_file(hc);
            let program = hc.argv.first().map_or("", String::as_str);
            let _ = crate::exec::files::prune(&tc.workdir, &[]);
            return fail(res, format!("cannot start `{program}` on the host: {e}"));
        }
    };
    let pgid = child.id().map_or(0, |p| p as i32);
    if let Some(start) = start_time(pgid) {
        let _ = journal_start(marker(pgid, start));
    }
    let captured = Arc::new(Mutex::new(Captured::default()));
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let pump = |r: std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>, s: Stream| {
        let (sink, cap, id) = (rt.sink.clone(), captured.clone(), task.id.clone());
        tokio::spawn(async move { logs::pump(r, s, &id, &sink, cap, 0, None).await })
    };
    let mut pumps = vec![
        pump(Box::pin(stdout), Stream::Stdout),
        pump(Box::pin(stderr), Stream::Stderr),
    ];
    let timeout = task.timeout;
    let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::from_secs(86_400 * 365)));
    tokio::pin!(deadline);
    let mut cancel = rt.cancel.clone();
    let mut stopped: Option<Failure> = None;
    let mut kill_at: Option<tokio::time::Instant> = None;
    let stop = |stopped: &mut Option<Failure>, kill_at: &mut Option<_>, why: Failure| {
        *stopped = Some(why);
        signal_group(pgid, libc::SIGTERM);
        *kill_at = Some(tokio::time::Instant::now() + KILL_GRACE);
    };
    let status = loop {
        let kill_timer = async {
            match kill_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            st = child.wait() => break st,
            _ = &mut deadline, if stopped.is_none() && timeout.is_some() => {
                let after_ms = timeout.unwrap_or_default().as_millis() as u64;
                stop(&mut stopped, &mut kill_at, Failure::Timeout { after_ms });
            }
            _ = wait_cancel(&mut cancel), if stopped.is_none() => {
                stop(&mut stopped, &mut kill_at, Failure::Cancelled);
            }
            _ = kill_timer => {
                signal_group(pgid, libc::SIGKILL);
                kill_at = None;
            }
        }
    };
    // Stopped by dockhand: nothing of the group outlives the task, even what ignored SIGTERM.
    if stopped.is_some() {
        signal_group(pgid, libc::SIGKILL);
    }
    // The log ends when every writer of the pipes is gone: the leader and anything it left in
    // the background. A stop (timeout, cancel) while waiting for those ends them too.
    loop {
        let all = async {
            for p in pumps.iter_mut() {
                let _ = p.await;
            }
        };
        tokio::select! {
            _ = all => break,
            _ = &mut deadline, if stopped.is_none() && timeout.is_some() => {
                stopped = Some(Failure::Timeout { after_ms: timeout.unwrap_or_default().as_millis() as u64 });
                signal_group(pgid, libc::SIGKILL);
            }
            _ = wait_cancel(&mut cancel), if stopped.is_none() => {
                stopped = Some(Failure::Cancelled);
                signal_group(pgid, libc::SIGKILL);
            }
        }
        pumps.retain(|p| !p.is_finished());
        if pumps.is_empty() {
            break;
        }
    }
    remove_command_file(hc);
    let (code, signal) = match &status {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            (s.code(), s.signal())
        }
        Err(_) => (None, None),
    };
    let ended = decide(stopped.as_ref(), code, signal);
    res.state = ended.state;
    res.failure = ended.failure;
    res.exit_code = ended.exit_code;
    res.message = ended.message;
    let c = captured.lock().unwrap().clone();
    res.outputs = c.outputs;
    res.metrics = c.metrics;
    res.duration = started.elapsed();
    // Output files (and everything under `{{ outputDir }}`) are handed out; the rest of the
    // working directory goes, as Kestra removes a task's working directory.
    let mut globs = tc.output_files.clone();
    if let Some(d) = &hc.output_dir
        && let Some(rel) = d.strip_prefix(&tc.workdir).ok()
    {
        globs.push(format!("{rel}/**"));
    }
    let got = crate::exec::files::collect(&tc.workdir, &globs);
    res.output_files = got.files.into_iter().map(|p| p.to_string()).collect();
    if !got.refused.is_empty() {
        for r in &got.refused {
            rt.status(&format!("{}: warning: {r}", task.id));
        }
        let said = got.refused.join("; ");
        res.message = Some(match res.message.take() {
            Some(m) => format!("{m}; {said}"),
            None => said,
        });
    }
    // In a WorkingDirectory the directory is the next task's too: it goes when that ends.
    if !rt.ctx.shares_workdir(&task.id)
        && let Err(e) = crate::exec::files::prune(&tc.workdir, &res.output_files)
    {
        rt.status(&format!(
            "{}: cannot remove the working directory {}: {e}",
            task.id, tc.workdir
        ));
    }
    res
}

fn remove_command_file(hc: &HostCommand) {
    if let Some(f) = &hc.command_file {
        crate::exec::process::remove_private(std::slice::from_ref(f));
    }
}

/// Starts the host command: its own session, the working directory, the environment.
fn spawn(hc: &HostCommand) -> std::io::Result<tokio::process::Child> {
    let Some(program) = hc.argv.first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "nothing to run",
        ));
    };
    let mut c = Command::new(program);
    c.args(&hc.argv[1..]);
    c.current_dir(&hc.cwd);
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if NOT_INHERITED_PREFIXES.iter().any(|p| n.starts_with(p)) {
            c.env_remove(&name);
        }
    }
    for (k, v) in &hc.env {
        c.env(k, v.expose());
    }
    c.stdin(std::process::Stdio::null());
    c.stdout(std::process::Stdio::piped());
    c.stderr(std::process::Stdio::piped());
    // Not killed when dropped: a stop is deliberate, to the whole group.
    c.kill_on_drop(false);
    // Unsafe because pre_exec runs between fork and exec: setsid is async-signal-safe and
    // touches no memory of the parent. std's process_group(0) alone would leave the child in
    // dockhand's session (and on its terminal).
    #[allow(unsafe_code)]
    unsafe {
        c.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.spawn()
}

async fn wait_cancel(rx: &mut tokio::sync::watch::Receiver<Cancel>) {
    loop {
        if *rx.borrow() != Cancel::No {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_comes_from_the_stop_then_the_exit_status() {
        let timeout = Failure::Timeout { after_ms: 1500 };
        type Case<'a> = (
            Option<&'a Failure>,
            Option<i32>,
            Option<i32>,
            State,
            Option<i32>,
        );
        let cases: &[Case] = &[
            (None, Some(0), None, State::Success, Some(0)),
            (None, Some(3), None, State::Failed, Some(3)),
            (None, None, Some(9), State::Failed, Some(137)),
            (Some(&timeout), None, Some(15), State::Failed, None),
            (Some(&timeout), Some(0), None, State::Failed, Some(0)),
            (
                Some(&Failure::Cancelled),
                None,
                Some(15),
                State::Killed,
                None,
            ),
            (
                Some(&Failure::Cancelled),
                Some(130),
                None,
                State::Killed,
                Some(130),
            ),
        ];
        for (stopped, code, sig, state, exit) in cases {
            let e = decide(*stopped, *code, *sig);
            assert_eq!(e.state, *state, "{stopped:?} {code:?} {sig:?}");
            assert_eq!(e.exit_code, *exit, "{stopped:?} {code:?} {sig:?}");
        }
        assert_eq!(
            decide(None, Some(3), None).failure,
            Some(Failure::ExitCode { code: 3 })
        );
        assert!(
            decide(Some(&timeout), None, None)
                .message
                .unwrap()
                .starts_with("timed out after 1.5 s")
        );
    }

    #[test]
    fn resume_reruns_and_kills_only_a_known_group() {
        let f = |container: &str| InFlight {
            container: container.into(),
            attempt: 2,
            stdout_lines: 4,
            stderr_lines: 0,
        };
        let cases = [
            (None, OnResume::Start),
            (
                Some(f(&marker(4242, 99))),
                OnResume::Rerun {
                    attempt: 3,
                    leftover: Some((4242, 99)),
                },
            ),
            (
                Some(f(STARTING)),
                OnResume::Rerun {
                    attempt: 3,
                    leftover: None,
                },
            ),
            (
                Some(f("host-process pgid x start 1")),
                OnResume::Rerun {
                    attempt: 3,
                    leftover: None,
                },
            ),
        ];
        for (in_flight, want) in cases {
            assert_eq!(on_resume(in_flight.as_ref()), want, "{in_flight:?}");
        }
    }

    #[test]
    fn start_time_reads_this_process() {
        let me = std::process::id() as i32;
        let t = start_time(me).expect("own /proc/PID/stat");
        assert_eq!(start_time(me), Some(t));
        assert_eq!(start_time(i32::MAX), None);
    }
}
