//! `dockhand ps` and `dockhand cleanup`: dockhand's containers listed, or removed with the
//! journals and working directories of executions that ended. The decisions are
//! [`dockhand::exec::maintenance`]'s; this prints them.

use camino::Utf8PathBuf;

use dockhand::exec::{containers::Managed, journal, maintenance, state_dir::state_dir};
use dockhand::exit::{self, Code};
use dockhand::plan::labels as l;

use super::args::ContainersArgs;

pub fn ps(target: ContainersArgs, json: bool) -> exit::Result<Code> {
    let filter = target.filter();
    let found = maintenance::find(
        target.engine.as_deref(),
        target.host.clone(),
        target.swarm(),
    )?;
    let state_dir = state_dir(target.state_dir);
    let rows = maintenance::ps_rows(&found.list, &filter, &state_dir, journal::now());
    if json {
        let text = serde_json::to_string_pretty(&dockhand::machine::ps(&rows))
            .map_err(|e| Code::Invalid.error(e))?;
        out!("{text}\n").map_err(crate::output::stdout_failed)?;
        return Ok(Code::Ok);
    }
    let rows: Vec<Vec<String>> = rows.into_iter().map(maintenance::Row::cells).collect();
    out!("{}", columns(&maintenance::Row::HEADINGS, &rows))
        .map_err(crate::output::stdout_failed)?;
    Ok(Code::Ok)
}

/// A table: each column as wide as its widest value (or heading), two spaces between columns,
/// no trailing spaces.
pub(super) fn columns(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, v) in width.iter_mut().zip(r) {
            *w = (*w).max(v.chars().count());
        }
    }
    let mut out = String::new();
    let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
    for r in std::iter::once(&head).chain(rows) {
        let mut line = String::new();
        for (i, v) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(v);
            line.extend(std::iter::repeat_n(' ', width[i] - v.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn cleanup(
    target: ContainersArgs,
    older_than: std::time::Duration,
    dry_run: bool,
) -> exit::Result<Code> {
    let filter = target.filter();
    let found = maintenance::find(
        target.engine.as_deref(),
        target.host.clone(),
        target.swarm(),
    )?;
    let state_dir = state_dir(target.state_dir);
    let (doomed, kept) =
        maintenance::doomed_containers(&found.list, &filter, journal::now(), older_than, |c| {
            maintenance::watched(&state_dir, c)
        });
    let verb = if dry_run { "would remove" } else { "removing" };
    for c in &doomed {
        let _ = out!(
            "{verb} {} (execution {}, task {}, {})\n",
            c.name,
            c.label(l::EXECUTION),
            c.label(l::TASK),
            c.state
        );
    }
    let mut removed = true;
    if !dry_run
        && !doomed.is_empty()
        && let Err(e) = maintenance::remove_containers(&found, &doomed)
    {
        eprintln!("dockhand: error: removing containers failed: {e}");
        removed = false;
    }
    // Executions that ended and have no container left (once those above are gone): their
    // journal and working directories go too.
    let left: Vec<&Managed> = if removed {
        kept
    } else {
        found.list.iter().collect()
    };
    let ended = maintenance::ended_executions(
        &maintenance::journals(&state_dir),
        older_than,
        &left,
        &filter,
    );
    for x in &ended {
        let dirs: Vec<&Utf8PathBuf> = x.dirs.iter().filter(|d| d.exists()).collect();
        let dirs_text: Vec<&str> = dirs.iter().map(|d| d.as_str()).collect();
        let _ = out!(
            "{verb} journal of execution {} ({}){}\n",
            x.id,
            x.journal,
            if dirs.is_empty() {
                String::new()
            } else {
                format!(" and its working directories {}", dirs_text.join(", "))
            }
        );
        if !dry_run {
            for (d, e) in maintenance::remove_execution(x, &dirs) {
                eprintln!("dockhand: warning: cannot remove {d}: {e}");
            }
        }
    }
    if doomed.is_empty() && ended.is_empty() {
        let _ = out!(
            "nothing to remove ({} dockhand container(s), none matching, unwatched and old enough)\n",
            found.list.len()
        );
    }
    if removed {
        Ok(Code::Ok)
    } else {
        // The error line is printed above, before the journals are looked at.
        Err(Code::Engine.reported())
    }
}
