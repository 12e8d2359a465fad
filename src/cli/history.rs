//! `dockhand executions` and `dockhand logs`: past executions listed from their journals, and
//! their kept logs printed (or followed while another process runs them).

use std::io::{BufRead, BufReader, Seek};
use std::time::Duration;

use camino::Utf8PathBuf;

use dockhand::exec::{execution_id, history, journal, log_store, state_dir::state_dir};
use dockhand::exit::{self, Code};

pub fn executions(dir: Option<Utf8PathBuf>, q: history::Query, json: bool) -> exit::Result<Code> {
    let dir = state_dir(dir);
    let list = history::select(history::all(&dir, journal::now()), &q);
    if json {
        let doc = dockhand::machine::document(serde_json::json!({ "executions": list }));
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Code::Invalid.error(e))?;
        out!("{text}\n").map_err(crate::output::stdout_failed)?;
        return Ok(Code::Ok);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.namespace.clone(),
                s.flow.clone(),
                s.state.clone(),
                utc(s.start),
                dockhand::exec::containers::age(s.duration),
                if s.tasks_failed > 0 {
                    format!("{} ({} failed)", s.tasks, s.tasks_failed)
                } else {
                    s.tasks.to_string()
                },
            ]
        })
        .collect();
    let head = [
        "ID",
        "NAMESPACE",
        "FLOW",
        "STATE",
        "START",
        "DURATION",
        "TASKS",
    ];
    out!("{}", super::containers::columns(&head, &rows)).map_err(crate::output::stdout_failed)?;
    Ok(Code::Ok)
}

fn utc(secs: u64) -> String {
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub fn logs(
    dir: Option<Utf8PathBuf>,
    id: &str,
    task: Option<&str>,
    follow: bool,
) -> exit::Result<Code> {
    execution_id::check(id).map_err(|e| Code::Invalid.error(e))?;
    let dir = state_dir(dir);
    let records = journal::read(&dir, id).map_err(|e| Code::Invalid.error(e))?;
    if let Some(t) = task {
        let known: Vec<&str> = records
            .iter()
            .filter_map(|r| match r {
                journal::Record::TaskStart { task, .. } | journal::Record::TaskEnd { task, .. } => {
                    Some(task.as_str())
                }
                _ => None,
            })
            .collect();
        if !known.contains(&t) {
            let mut names = known.clone();
            names.sort();
            names.dedup();
            return Err(Code::Invalid.error(format!(
                "execution {id} has no task `{t}` that ran{}",
                dockhand::suggest::hint(t, names)
            )));
        }
    }
    let path = log_store::path(&dir, id);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        // Written before logs were kept, or removed by hand: nothing to print.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("dockhand: no kept logs for execution {id} ({path} does not exist)");
            return Ok(Code::Ok);
        }
        Err(e) => return Err(Code::Engine.error(format!("cannot read {path}: {e}"))),
    };
    let mut reader = BufReader::new(file);
    let print = |raw: &str, _: &log_store::Line| crate::output::out(format_args!("{raw}\n"));
    log_store::scan(&mut reader, task, print).map_err(crate::output::stdout_failed)?;
    if !follow {
        return Ok(Code::Ok);
    }
    // Following: read what was appended since, whole lines only, until the process running
    // the execution lets go of its lock (then once more, for its last lines).
    let mut partial = String::new();
    loop {
        let active = journal::is_active(&dir, id);
        loop {
            let mut buf = String::new();
            let n = reader
                .read_line(&mut buf)
                .map_err(|e| Code::Engine.error(format!("cannot read {path}: {e}")))?;
            if n == 0 {
                break;
            }
            partial.push_str(&buf);
            if !partial.ends_with('\n') {
                continue;
            }
            let line = std::mem::take(&mut partial);
            let line = line.trim_end_matches('\n');
            if let Some(l) = log_store::parse(line)
                && task.is_none_or(|t| t == l.task)
            {
                out!("{line}\n").map_err(crate::output::stdout_failed)?;
            }
        }
        if !active {
            return Ok(Code::Ok);
        }
        std::thread::sleep(Duration::from_millis(200));
        // A file replaced underneath (cleanup) ends the follow.
        if reader.stream_position().is_err() {
            return Ok(Code::Ok);
        }
    }
}
