//! Container maintenance: what `dockhand ps` lists and what `dockhand cleanup` removes. The
//! decisions (which containers a filter and an age select, which ended executions' journals and
//! working directories go) are pure functions over what was found; finding and removing are
//! the I/O around them. The command line prints.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::exec::containers::{self, Filter, Managed};
use crate::exec::engine::Engine;
use crate::exec::journal::{self, Record};
use crate::exit::{Code, Result, WithCode as _};
use crate::plan::labels as l;

/// dockhand's containers on an engine, with the runtime that asked for them (removal uses it).
pub struct Found {
    pub engine: Engine,
    pub rt: tokio::runtime::Runtime,
    pub list: Vec<Managed>,
    /// `--backend swarm`: the list is of services on the swarm manager.
    pub swarm: bool,
}

/// The engine (`--engine`, else `$DOCKHAND_ENGINE`, else discovery) at `host`, and every
/// container on it with dockhand's managed label.
pub fn find(engine: Option<&str>, host: Option<String>, swarm: bool) -> Result<Found> {
    let mut engine =
        crate::exec::engine::discover(engine, std::env::var("DOCKHAND_ENGINE").ok().as_deref())
            .code(Code::Engine)?;
    engine.host = host;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .code_with(Code::Engine, "cannot start the async runtime")?;
    if swarm {
        return match rt.block_on(crate::exec::swarm::list_services(&engine)) {
            Ok(list) => Ok(Found {
                engine,
                rt,
                list,
                swarm,
            }),
            Err(e) => {
                Err(Code::Engine.error(format!("{} cannot list services: {e}", engine.name())))
            }
        };
    }
    match rt.block_on(containers::list(&engine)) {
        Ok(list) => Ok(Found {
            engine,
            rt,
            list,
            swarm,
        }),
        Err(e) => Err(Code::Engine.error(format!("{} cannot list containers: {e}", engine.name()))),
    }
}

/// Is a dockhand process waiting for this container? Its execution's journal is locked under
/// this state directory, or the process that started it (label `io.dockhand.owner`) is alive.
pub fn watched(state_dir: &Utf8Path, c: &Managed) -> bool {
    if journal::is_active(state_dir, c.label(l::EXECUTION)) {
        return true;
    }
    c.label(l::OWNER).parse::<u32>().is_ok_and(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "dockhand")
    })
}

/// One line of `dockhand ps`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub container: String,
    pub execution: String,
    /// `NAMESPACE.FLOW_ID`
    pub flow: String,
    pub task: String,
    pub state: String,
    /// As `containers::age` writes it (`5m`, `2h`).
    pub age: String,
    pub watched: bool,
}

impl Row {
    /// The column headings of `ps`, in the order of [`Row::cells`].
    pub const HEADINGS: [&str; 7] = [
        "CONTAINER",
        "EXECUTION",
        "FLOW",
        "TASK",
        "STATE",
        "AGE",
        "WATCHED",
    ];

    /// The row's values, as `ps` prints them.
    pub fn cells(self) -> Vec<String> {
        vec![
            self.container,
            self.execution,
            self.flow,
            self.task,
            self.state,
            self.age,
            if self.watched { "yes" } else { "no" }.to_string(),
        ]
    }
}

/// The containers `ps` lists: those matching `filter`, in the engine's order.
pub fn ps_rows(list: &[Managed], filter: &Filter, state_dir: &Utf8Path, now: u64) -> Vec<Row> {
    list.iter()
        .filter(|c| filter.matches(c))
        .map(|c| Row {
            container: c.name.clone(),
            execution: c.label(l::EXECUTION).to_string(),
            flow: format!("{}.{}", c.label(l::NAMESPACE), c.label(l::FLOW)),
            task: c.label(l::TASK).to_string(),
            state: c.state.clone(),
            age: containers::age(now.saturating_sub(c.created)),
            watched: watched(state_dir, c),
        })
        .collect()
}

/// The cleanup decision for containers: `(removed, kept)`. A container goes when it matches
/// the filter, no dockhand process watches it, and it was created at least `older_than`
/// before `now` (seconds since the epoch).
pub fn doomed_containers<'a>(
    list: &'a [Managed],
    filter: &Filter,
    now: u64,
    older_than: Duration,
    watched: impl Fn(&Managed) -> bool,
) -> (Vec<&'a Managed>, Vec<&'a Managed>) {
    list.iter().partition(|c| {
        filter.matches(c) && !watched(c) && now.saturating_sub(c.created) >= older_than.as_secs()
    })
}

/// Removes containers (forced, with their anonymous volumes); `Err(why)` if the engine did not.
pub fn remove_containers(found: &Found, doomed: &[&Managed]) -> std::result::Result<(), String> {
    let engine = &found.engine;
    if found.swarm {
        let names: Vec<&str> = doomed.iter().map(|c| c.name.as_str()).collect();
        return found
            .rt
            .block_on(crate::exec::swarm::remove_services(engine, &names));
    }
    let ids: Vec<&str> = doomed.iter().map(|c| c.id.as_str()).collect();
    let args = crate::plan::engine_commands::remove_now(&engine.global(None), &ids).argv();
    let out = found
        .rt
        .block_on(crate::exec::process::capture(
            &engine.program,
            &args,
            std::time::Duration::from_secs(120),
        ))
        .map_err(|e| e.to_string())?;
    if !out.ok() {
        return Err(out.error_line());
    }
    Ok(())
}

/// A journal found under the state directory, with what the cleanup decision needs of it.
#[derive(Debug, Clone)]
pub struct JournalFile {
    pub id: String,
    pub path: Utf8PathBuf,
    /// Since it was last written.
    pub age: Duration,
    /// A running dockhand process holds its lock.
    pub active: bool,
    /// `None`: it cannot be read.
    pub records: Option<Vec<Record>>,
}

/// Every journal under the state directory whose name is a valid execution id.
pub fn journals(state_dir: &Utf8Path) -> Vec<JournalFile> {
    let dir = journal::executions_dir(state_dir);
    let Ok(entries) = dir.read_dir_utf8() else {
        return vec![];
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path().to_path_buf();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.strip_suffix(".jsonl"))
            .filter(|id| crate::exec::execution_id::is_valid(id))
            .map(str::to_string)
        else {
            continue;
        };
        let age = e
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        out.push(JournalFile {
            active: journal::is_active(state_dir, &id),
            records: journal::read(state_dir, &id).ok(),
            id,
            path,
            age,
        });
    }
    out
}

/// An execution that ended, found under the state directory: what `cleanup` removes of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    pub id: String,
    pub journal: Utf8PathBuf,
    /// `WORK_DIR/ID` and `WORK_DIR/.private/ID`, as its journal recorded WORK_DIR.
    pub dirs: Vec<Utf8PathBuf>,
}

/// The cleanup decision for journals: the executions that ended, match `filter`, are not
/// running, have no container left and were last written at least `older_than` ago; sorted
/// by id.
pub fn ended_executions(
    journals: &[JournalFile],
    older_than: Duration,
    containers: &[&Managed],
    filter: &Filter,
) -> Vec<Ended> {
    let mut out = Vec::new();
    for j in journals {
        let id = &j.id;
        // Its name becomes a path under the work dir: never `.`, `..` or `.private`.
        if id.is_empty() || id.starts_with('.') {
            continue;
        }
        if j.age < older_than || j.active || containers.iter().any(|c| c.label(l::EXECUTION) == id)
        {
            continue;
        }
        let Some(records) = &j.records else {
            continue;
        };
        if !records.iter().any(|x| matches!(x, Record::End { .. })) {
            continue;
        }
        let Some(Record::Start {
            work_dir,
            namespace,
            flow,
            ..
        }) = records.iter().find(|r| matches!(r, Record::Start { .. }))
        else {
            continue;
        };
        if !filter.matches_execution(id, namespace, flow) {
            continue;
        }
        let work = Utf8PathBuf::from(work_dir);
        out.push(Ended {
            dirs: vec![work.join(id), work.join(".private").join(id)],
            id: id.clone(),
            journal: j.path.clone(),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Removes an ended execution's journal (and its lock file) and the given working
/// directories; returns the directories that could not be removed, with why.
pub fn remove_execution(x: &Ended, dirs: &[&Utf8PathBuf]) -> Vec<(Utf8PathBuf, std::io::Error)> {
    let _ = std::fs::remove_file(&x.journal);
    let _ = std::fs::remove_file(x.journal.with_extension("lock"));
    let _ = std::fs::remove_file(x.journal.with_extension("log"));
    let mut failed = Vec::new();
    for d in dirs {
        if let Err(e) = std::fs::remove_dir_all(d) {
            failed.push(((*d).clone(), e));
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn container(name: &str, execution: &str, ns: &str, flow: &str, created: u64) -> Managed {
        let labels: BTreeMap<String, String> = [
            (l::EXECUTION, execution),
            (l::NAMESPACE, ns),
            (l::FLOW, flow),
            (l::TASK, "t"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Managed {
            id: format!("id-{name}"),
            name: name.to_string(),
            state: "exited".into(),
            created,
            labels,
        }
    }

    fn filter(execution: Option<&str>, namespace: Option<&str>, flow: Option<&str>) -> Filter {
        Filter {
            execution: execution.map(String::from),
            namespace: namespace.map(String::from),
            flow: flow.map(String::from),
        }
    }

    /// Which containers a filter, the watch and an age remove.
    #[test]
    fn container_decision_table() {
        let now = 10_000;
        // a: exec e1 in n.f, an hour old; b: e2 in n.g, a minute old; c: e3 in m.f, watched.
        let list = vec![
            container("a", "e1", "n", "f", now - 3600),
            container("b", "e2", "n", "g", now - 60),
            container("c", "e3", "m", "f", now - 3600),
        ];
        let watched = |c: &Managed| c.name == "c";
        let m = Duration::from_secs(60);
        #[allow(clippy::type_complexity)]
        let cases: &[(Filter, Duration, &[&str])] = &[
            (Filter::default(), Duration::ZERO, &["a", "b"]),
            (Filter::default(), 2 * m, &["a"]),
            (Filter::default(), 61 * m, &[]),
            (filter(Some("e2"), None, None), Duration::ZERO, &["b"]),
            (filter(None, Some("n"), None), Duration::ZERO, &["a", "b"]),
            (filter(None, None, Some("f")), Duration::ZERO, &["a"]),
            (filter(None, Some("n"), Some("g")), Duration::ZERO, &["b"]),
            (filter(None, Some("m"), Some("g")), Duration::ZERO, &[]),
            // Watched: never removed, whatever the filter.
            (filter(Some("e3"), None, None), Duration::ZERO, &[]),
            // Exactly as old as asked: removed.
            (Filter::default(), m, &["a", "b"]),
        ];
        for (f, older, want) in cases {
            let (doomed, kept) = doomed_containers(&list, f, now, *older, watched);
            let names: Vec<&str> = doomed.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, *want, "filter {f:?}, older than {older:?}");
            assert_eq!(doomed.len() + kept.len(), list.len());
        }
    }

    fn journal_file(id: &str, age_secs: u64, active: bool, ended: bool) -> JournalFile {
        let mut records = vec![Record::Start {
            flow_file: "/f.yaml".into(),
            flow_digest: "d".into(),
            engine: "docker".into(),
            dialect: "docker".into(),
            host: None,
            work_dir: "/w".into(),
            inputs: BTreeMap::new(),
            at: journal::Stamp::from_secs(0),
            namespace: if id.starts_with('m') { "m" } else { "n" }.into(),
            flow: "f".into(),
            swarm: None,
            trigger: Default::default(),
            labels: Default::default(),
        }];
        if ended {
            records.push(Record::End {
                state: "SUCCESS".into(),
                at: journal::Stamp::from_secs(1),
            });
        }
        JournalFile {
            id: id.to_string(),
            path: format!("/s/executions/{id}.jsonl").into(),
            age: Duration::from_secs(age_secs),
            active,
            records: Some(records),
        }
    }

    /// Which journals (and working directories) a filter, an age and the containers left remove.
    #[test]
    fn journal_decision_table() {
        let journals = vec![
            journal_file("done", 3600, false, true),
            journal_file("crashed", 3600, false, false),
            journal_file("running", 3600, true, true),
            journal_file("recent", 10, false, true),
            journal_file("mdone", 3600, false, true),
            journal_file("haswork", 3600, false, true),
            JournalFile {
                records: None,
                ..journal_file("unreadable", 3600, false, true)
            },
            journal_file(".private", 3600, false, true),
        ];
        let left = [container("x", "haswork", "n", "f", 0)];
        let left: Vec<&Managed> = left.iter().collect();
        let m = Duration::from_secs(60);
        let cases: &[(Filter, Duration, &[&str])] = &[
            (
                Filter::default(),
                Duration::ZERO,
                &["done", "mdone", "recent"],
            ),
            (Filter::default(), m, &["done", "mdone"]),
            (
                filter(None, Some("n"), None),
                Duration::ZERO,
                &["done", "recent"],
            ),
            (
                filter(Some("mdone"), None, None),
                Duration::ZERO,
                &["mdone"],
            ),
            (filter(None, None, Some("g")), Duration::ZERO, &[]),
            (filter(Some("crashed"), None, None), Duration::ZERO, &[]),
            (filter(Some("haswork"), None, None), Duration::ZERO, &[]),
        ];
        for (f, older, want) in cases {
            let ended = ended_executions(&journals, *older, &left, f);
            let ids: Vec<&str> = ended.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids, *want, "filter {f:?}, older than {older:?}");
        }
        let done = &ended_executions(&journals, Duration::ZERO, &left, &Filter::default())[0];
        assert_eq!(
            done,
            &Ended {
                id: "done".into(),
                journal: "/s/executions/done.jsonl".into(),
                dirs: vec!["/w/done".into(), "/w/.private/done".into()],
            }
        );
    }
}
