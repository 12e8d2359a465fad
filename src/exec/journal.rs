//! The execution journal: one JSON record per line under the state directory, appended as an
//! execution goes (start, each task's start before its container starts, log progress, each
//! task's end), so that after a crash at any point `dockhand resume` knows what finished, which
//! container to re-attach to, and how many log lines were already printed.
//!
//! Start and end records are fsync'd. Progress records are plain writes: they survive a killed
//! dockhand (the kernel keeps them), which is the crash they are for.
//!
//! Many task runs at once (a ForEach at its `concurrencyLimit`) journal at once: a record is
//! written under a short lock, and the fsync happens outside it, once for every record written
//! before it (a group commit), so runs never queue behind each other's fsyncs; the wait for
//! the disk does not hold up the executor's other work (`exec::blocking`).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::exec::execution_id;
use crate::exec::result::TaskResult;
pub use crate::exec::stamp::Stamp;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    Start {
        /// The flow file as given (absolute when dockhand could resolve it).
        flow_file: String,
        /// Fingerprint of the flow text: resume re-reads the file and refuses a changed one.
        /// The text itself is not kept: it may hold credentials.
        flow_digest: String,
        engine: String,
        dialect: String,
        host: Option<String>,
        work_dir: String,
        inputs: BTreeMap<String, String>,
        at: Stamp,
        /// The flow's namespace and id, for `ps`/`cleanup --namespace/--flow` (empty in
        /// journals written before they were recorded).
        #[serde(default)]
        namespace: String,
        #[serde(default)]
        flow: String,
        /// `--backend swarm`: its placements (none: the tasks ran on one engine), so that
        /// `resume` finds the services again without being told.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        swarm: Option<Vec<(String, String)>>,
        /// `trigger.*` given on the command line, for `resume` (a trigger's variables carry no
        /// secret: SECRET values come through inputs, which are not journaled).
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        trigger: serde_json::Map<String, serde_json::Value>,
        /// The execution's labels when it started: its flow's, then those it was given (a
        /// Subflow's or ForEachItem's `labels`, and the parent's with `inheritLabels`), so
        /// that `resume` (a detached child's too) and `executions` have them.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        labels: BTreeMap<String, String>,
    },
    TaskStart {
        task: String,
        container: String,
        attempt: u32,
        at: Stamp,
    },
    Progress {
        task: String,
        out: u64,
        err: u64,
    },
    TaskEnd {
        task: String,
        attempt: u32,
        result: TaskResult,
    },
    End {
        state: String,
        at: Stamp,
    },
    /// What a flow-control run decided (If: true/false, Switch: the rendered value, ForEach:
    /// its values), so that a resumed execution takes the same branches.
    Decision {
        task: String,
        value: serde_json::Value,
    },
    /// Attempt `attempt` of a run failed and the next starts at `until_ms` (ms since the epoch;
    /// the first attempt started at `first_ms`): a resume waits only for what is left.
    RetryWait {
        task: String,
        attempt: u32,
        first_ms: u64,
        until_ms: u64,
    },
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A 64-bit FNV-1a fingerprint, as hex: enough to notice an edited flow file.
pub fn digest(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a journal says about an execution so far.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    pub start: Option<Record>,
    /// Tasks that ended, with the attempt they ended in.
    pub ended: BTreeMap<String, (u32, TaskResult)>,
    /// Tasks that started and did not end: container name, attempt, log lines printed.
    pub running: BTreeMap<String, InFlight>,
    pub finished: bool,
    /// Decisions of flow-control runs, by run id.
    pub decisions: BTreeMap<String, serde_json::Value>,
    /// Retries waiting, by run id: (attempt that failed, first start, next start), in ms.
    pub retry_waits: BTreeMap<String, (u32, u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub container: String,
    pub attempt: u32,
    pub stdout_lines: u64,
    pub stderr_lines: u64,
}

impl Replay {
    pub fn from_records(records: impl IntoIterator<Item = Record>) -> Replay {
        let mut r = Replay::default();
        for rec in records {
            match rec {
                Record::Start { .. } => r.start = Some(rec),
                Record::TaskStart {
                    task,
                    container,
                    attempt,
                    ..
                } => {
                    r.ended.remove(&task);
                    r.retry_waits.remove(&task);
                    r.running.insert(
                        task,
                        InFlight {
                            container,
                            attempt,
                            stdout_lines: 0,
                            stderr_lines: 0,
                        },
                    );
                }
                Record::Progress { task, out, err } => {
                    if let Some(f) = r.running.get_mut(&task) {
                        f.stdout_lines = out;
                        f.stderr_lines = err;
                    }
                }
                Record::TaskEnd {
                    task,
                    attempt,
                    result,
                } => {
                    r.running.remove(&task);
                    r.ended.insert(task, (attempt, result));
                }
                Record::End { .. } => r.finished = true,
                Record::Decision { task, value } => {
                    r.decisions.insert(task, value);
                }
                Record::RetryWait {
                    task,
                    attempt,
                    first_ms,
                    until_ms,
                } => {
                    r.retry_waits.insert(task, (attempt, first_ms, until_ms));
                }
            }
        }
        r
    }
}

/// An open journal, locked by this process for as long as it lives.
pub struct Journal {
    path: Utf8PathBuf,
    file: Mutex<File>,
    /// The same file, for fsyncs: they run outside `file`'s lock.
    sync_file: File,
    /// Records written so far, and the count the last fsync covered (held while it runs).
    written: AtomicU64,
    synced: Mutex<u64>,
    /// fsyncs made (for the tests of the group commit).
    syncs: AtomicU64,
    _lock: File,
}

/// The directory holding journals.
pub fn executions_dir(state_dir: &Utf8Path) -> Utf8PathBuf {
    state_dir.join("executions")
}

pub fn journal_path(state_dir: &Utf8Path, id: &str) -> Utf8PathBuf {
    executions_dir(state_dir).join(format!("{id}.jsonl"))
}

fn lock_path(state_dir: &Utf8Path, id: &str) -> Utf8PathBuf {
    executions_dir(state_dir).join(format!("{id}.lock"))
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot use the state directory {dir}: {source}")]
    Dir { dir: Utf8PathBuf, source: io::Error },
    #[error("{0}")]
    BadId(String),
    #[error("execution {0} is being run by another dockhand process")]
    Busy(String),
    #[error("no journal for execution {id} under {dir}")]
    NotFound { id: String, dir: Utf8PathBuf },
    #[error("cannot write the journal {path}: {source}")]
    Write {
        path: Utf8PathBuf,
        source: io::Error,
    },
}

/// Takes the execution's lock without waiting: `false` when another process holds it.
fn try_lock(f: &File) -> bool {
    // std's `File::try_lock` is flock(2) LOCK_EX|LOCK_NB on Unix: the same lock other
    // dockhand versions take.
    f.try_lock().is_ok()
}

/// Is some dockhand process running this execution right now? An invalid id (a container
/// label naming a path, say) never is: no file outside the state directory is looked at.
pub fn is_active(state_dir: &Utf8Path, id: &str) -> bool {
    if !execution_id::is_valid(id) {
        return false;
    }
    match File::open(lock_path(state_dir, id)) {
        Ok(f) => !try_lock(&f),
        Err(_) => false,
    }
}

/// Reads a journal's records; a torn last line (a crash mid-write) is ignored.
pub fn read(state_dir: &Utf8Path, id: &str) -> Result<Vec<Record>, JournalError> {
    execution_id::check(id).map_err(JournalError::BadId)?;
    let path = journal_path(state_dir, id);
    let f = File::open(&path).map_err(|_| JournalError::NotFound {
        id: id.to_string(),
        dir: executions_dir(state_dir),
    })?;
    let mut out = Vec::new();
    for line in io::BufReader::new(f).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Record>(&line) {
            Ok(r) => out.push(r),
            Err(_) => break,
        }
    }
    Ok(out)
}

impl Journal {
    /// Opens (creating if needed) the journal of an execution and locks it.
    pub fn open(state_dir: &Utf8Path, id: &str) -> Result<Journal, JournalError> {
        execution_id::check(id).map_err(JournalError::BadId)?;
        let dir = executions_dir(state_dir);
        let dir_err = |source| JournalError::Dir {
            dir: dir.clone(),
            source,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(dir_err)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(lock_path(state_dir, id))
            .map_err(dir_err)?;
        if !try_lock(&lock) {
            return Err(JournalError::Busy(id.to_string()));
        }
        let path = journal_path(state_dir, id);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| JournalError::Write {
                path: path.clone(),
                source,
            })?;
        let sync_file = file.try_clone().map_err(|source| JournalError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
            sync_file,
            written: AtomicU64::new(0),
            synced: Mutex::new(0),
            syncs: AtomicU64::new(0),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// Deletes the journal (and then its lock) of an execution that did nothing: the engine
    /// was never reached, so there is nothing to resume or clean up.
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
        // The kept log (`log_store`), empty as nothing ran.
        let _ = std::fs::remove_file(self.path.with_extension("log"));
        let _ = std::fs::remove_file(self.path.with_extension("lock"));
    }

    /// Appends a record; `sync` waits until it is on disk.
    pub fn append(&self, r: &Record, sync: bool) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(r).expect("records serialize");
        line.push(b'\n');
        let err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        let seq = {
            let mut f = self.file.lock().unwrap();
            f.write_all(&line).map_err(err)?;
            self.written.fetch_add(1, Ordering::SeqCst) + 1
        };
        if !sync {
            return Ok(());
        }
        crate::exec::blocking::off_worker(|| self.sync_through(seq)).map_err(err)
    }

    /// Makes the first `seq` records durable: one fsync covers every record written before it
    /// began, so of the runs that wait together only the first pays for it.
    fn sync_through(&self, seq: u64) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap();
        if *synced >= seq {
            return Ok(());
        }
        let upto = self.written.load(Ordering::SeqCst);
        self.sync_file.sync_data()?;
        self.syncs.fetch_add(1, Ordering::SeqCst);
        *synced = upto;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::result::State;

    fn progress(task: &str, out: u64) -> Record {
        Record::Progress {
            task: task.into(),
            out,
            err: 0,
        }
    }

    /// One fsync covers every record written before it; records written from many threads at
    /// once are all there, whole, each durable one covered by an fsync.
    #[test]
    fn an_fsync_covers_the_records_written_before_it() {
        let d = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(d.path()).unwrap();
        let j = Journal::open(dir, "g1").unwrap();
        for i in 0..3 {
            j.append(&progress("a", i), false).unwrap();
        }
        assert_eq!(j.syncs.load(Ordering::SeqCst), 0);
        j.append(&progress("a", 3), true).unwrap();
        assert_eq!(j.syncs.load(Ordering::SeqCst), 1);
        // Records 1..=4 are on disk already: asking again costs nothing.
        j.sync_through(2).unwrap();
        j.sync_through(4).unwrap();
        assert_eq!(j.syncs.load(Ordering::SeqCst), 1);
        std::thread::scope(|s| {
            for t in 0..8 {
                let j = &j;
                s.spawn(move || {
                    for i in 0..25 {
                        j.append(&progress(&format!("t{t}"), i), true).unwrap();
                    }
                });
            }
        });
        assert_eq!(*j.synced.lock().unwrap(), 4 + 8 * 25);
        assert!(j.syncs.load(Ordering::SeqCst) <= 1 + 8 * 25);
        let records = read(dir, "g1").unwrap();
        assert_eq!(records.len(), 4 + 8 * 25);
        for t in 0..8 {
            let outs: Vec<u64> = records
                .iter()
                .filter_map(|r| match r {
                    Record::Progress { task, out, .. } if *task == format!("t{t}") => Some(*out),
                    _ => None,
                })
                .collect();
            assert_eq!(outs, (0..25).collect::<Vec<_>>());
        }
    }

    #[test]
    fn replay_tracks_tasks_and_ignores_a_torn_line() {
        let d = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(d.path()).unwrap();
        let j = Journal::open(dir, "e1").unwrap();
        assert!(matches!(
            Journal::open(dir, "e1"),
            Err(JournalError::Busy(_))
        ));
        j.append(
            &Record::TaskStart {
                task: "a".into(),
                container: "c-a".into(),
                attempt: 1,
                at: Stamp::from_secs(1),
            },
            true,
        )
        .unwrap();
        j.append(
            &Record::TaskEnd {
                task: "a".into(),
                attempt: 1,
                result: TaskResult::new("a", State::Success),
            },
            true,
        )
        .unwrap();
        j.append(
            &Record::TaskStart {
                task: "b".into(),
                container: "c-b".into(),
                attempt: 1,
                at: Stamp::from_secs(2),
            },
            true,
        )
        .unwrap();
        j.append(
            &Record::Progress {
                task: "b".into(),
                out: 7,
                err: 2,
            },
            false,
        )
        .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap()
            .write_all(b"{\"t\":\"progr")
            .unwrap();
        assert!(is_active(dir, "e1"));
        drop(j);
        assert!(!is_active(dir, "e1"));
        let r = Replay::from_records(read(dir, "e1").unwrap());
        assert_eq!(r.ended["a"].1.state, State::Success);
        assert_eq!(
            r.running["b"],
            InFlight {
                container: "c-b".into(),
                attempt: 1,
                stdout_lines: 7,
                stderr_lines: 2
            }
        );
        assert!(!r.finished);
    }
}
