//! Running a WorkingDirectory task (`io.kestra.plugin.core.flow.WorkingDirectory`): one
//! directory, `WORK_DIR/EXECUTION/<WorkingDirectory id>`, is every child's working directory
//! (the planner maps the children there, `PlanContext::shared_workdirs`). Before the children:
//! the cache is put back and `inputFiles` are written; the children run one after the other
//! (each container sees the directory: bind-mounted with MOUNT, copied in and back out with
//! VOLUME; a Process task works in it directly) and leave it in place; after them: the
//! `outputFiles` are collected, the cache is saved, and the directory is pruned to the output
//! files of the WorkingDirectory and of its children.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};

use crate::exec::result::{State, TaskResult};
use crate::exec::taskrun::Frame;
use crate::exec::{Cancel, Ctx, Runtime, Started};
use crate::flow::model::{Cache, Flow, Task, WorkingDir};
use crate::plan::build::SecretFiles;

pub(super) async fn run(
    rt: &Arc<Runtime>,
    flow: &Arc<Flow>,
    task: &Task,
    w: &WorkingDir,
    shared: &Ctx,
    frame: &Frame,
    started: Started,
) -> State {
    let begun = Instant::now();
    let dir = rt.ctx.workdir(&task.id);
    let mut res = TaskResult::new(&task.id, State::Failed);
    let fail = |mut res: TaskResult, message: String| {
        rt.status(&format!("{}: FAILED ({message})", task.id));
        res.message = Some(message.clone());
        res.failure = Some(crate::exec::result::Failure::Setup { message });
        shared.results.lock().unwrap().push(res);
        State::Failed
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return fail(res, format!("cannot make the working directory {dir}: {e}"));
    }
    let cache = match (&w.cache, &rt.state_dir) {
        (Some(c), Some(state)) => Some((
            c,
            crate::plan::working_directory::cache_dir(state, &flow.namespace, &flow.id, &task.id),
        )),
        _ => None,
    };
    let restored = cache
        .as_ref()
        .and_then(|(c, at)| restore_cache(at, &dir, c.ttl, SystemTime::now()));
    if let Some(n) = &restored {
        rt.status(&format!("{}: {} cached file(s) put back", task.id, n.1));
    }
    // Namespace files first; the input files may replace them.
    if let (Some(nf), Some(st)) = (&w.namespace_files, &rt.storage) {
        let copied = crate::exec::namespace_files::choose(st, nf, &flow.namespace).and_then(
            |(chosen, warnings)| {
                for w in warnings {
                    rt.status(&format!("{}: warning: {w}", task.id));
                }
                crate::exec::namespace_files::copy_into(&chosen, &dir).map_err(|e| e.to_string())
            },
        );
        if let Err(e) = copied {
            return fail(res, format!("namespace files: {e}"));
        }
    }
    // The input files, rendered as a child would see them (the outputs of the tasks before).
    let rendered = {
        let snapshot = shared.flat_outputs();
        crate::plan::working_directory::input_files(flow, task, w, &rt.ctx, &rt.inputs, &snapshot)
    };
    let files = match rendered {
        Ok(files) => files,
        Err(e) => return fail(res, format!("inputFiles: {e}")),
    };
    let secret = SecretFiles {
        names: files
            .iter()
            .filter(|(_, v)| crate::plan::build::holds_secret(v, &rt.ctx))
            .map(|(k, _)| k.clone())
            .collect(),
        owner: None,
        on_host: true,
    };
    if let Err(e) = crate::exec::files::prepare(&dir, &files, false, &secret) {
        return fail(res, format!("cannot write the input files into {dir}: {e}"));
    }
    rt.status(&format!(
        "{}: working directory {dir}, shared by its {} task(s)",
        task.id,
        w.tasks.len()
    ));
    let child = frame.worker_child(&task.id);
    let states = Box::pin(super::run_list(rt, flow, &w.tasks, shared, &child, started)).await;
    let ok = states.len() == w.tasks.len() && states.iter().all(|s| s.continues());
    // Its local `errors` (when a child failed) and `finally`, as any flowable's.
    Box::pin(super::walk::handlers(rt, flow, task, shared, frame, states)).await;
    let got = crate::exec::files::collect(&dir, &w.output_files);
    for r in &got.refused {
        rt.status(&format!("{}: warning: {r}", task.id));
    }
    res.output_files = got.files.iter().map(|p| p.to_string()).collect();
    if let Some(st) = &rt.storage
        && let Err(e) = st.keep(
            (&flow.namespace, &flow.id, &rt.ctx.execution_id),
            &task.id,
            1,
            &dir,
            &mut res,
        )
    {
        rt.status(&format!("{}: warning: output files not kept: {e}", task.id));
    }
    if let Some((c, at)) = &cache {
        match save_cache(at, &dir, c, restored.as_ref().map(|r| r.0)) {
            Ok(Some(n)) => rt.status(&format!("{}: cache saved ({n} file(s))", task.id)),
            Ok(None) => {}
            Err(e) => rt.status(&format!("{}: warning: cannot save the cache: {e}", task.id)),
        }
    }
    // What stays: the WorkingDirectory's output files and its children's.
    let mut keep = res.output_files.clone();
    {
        let all = shared.results.lock().unwrap();
        for t in &w.tasks {
            if let Some(r) = all.iter().find(|r| r.id == t.id) {
                keep.extend(r.output_files.iter().cloned());
            }
        }
    }
    if let Err(e) = crate::exec::files::prune(&dir, &keep) {
        rt.status(&format!(
            "{}: cannot remove the working directory {dir}: {e}",
            task.id
        ));
    }
    res.state = if ok {
        State::Success
    } else if *rt.cancel.borrow() != Cancel::No {
        State::Killed
    } else {
        State::Failed
    };
    if !ok {
        res.message = Some("a task inside it did not succeed".into());
    }
    // Kestra's WorkingDirectory output: `outputs.ID.outputFiles['name']`, each a `kestra://` URI.
    if !res.stored_files.is_empty() {
        let files: serde_json::Map<String, serde_json::Value> = res
            .stored_files
            .iter()
            .map(|f| (f.name.clone(), serde_json::Value::String(f.uri.clone())))
            .collect();
        res.outputs
            .insert("outputFiles".into(), serde_json::Value::Object(files));
    }
    res.exit_code = None;
    res.duration = begun.elapsed();
    rt.status(&format!("{}: {}", task.id, res.state.name()));
    res.values = frame.values();
    if !res.outputs.is_empty() {
        super::walk::publish_own(shared, task, &res);
    }
    let st = res.state;
    shared.results.lock().unwrap().push(res);
    st
}

/// Puts a saved cache back into `dir`, unless it is older than `ttl` (then it is removed).
/// The time it was saved and the number of files, when it was used.
fn restore_cache(
    at: &Utf8Path,
    dir: &Utf8Path,
    ttl: Option<Duration>,
    now: SystemTime,
) -> Option<(SystemTime, usize)> {
    let saved = std::fs::read_to_string(at.join("saved"))
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    let saved = SystemTime::UNIX_EPOCH + Duration::from_secs(saved);
    if !cache_fresh(saved, ttl, now) {
        let _ = std::fs::remove_dir_all(at);
        return None;
    }
    let n = copy_tree(&at.join("files"), dir).ok()?;
    // After the copies: a file changed later than this is newer than the cache.
    Some((SystemTime::now(), n))
}

/// Is a cache saved at `saved` still to be used at `now`?
pub fn cache_fresh(saved: SystemTime, ttl: Option<Duration>, now: SystemTime) -> bool {
    match ttl {
        None => true,
        Some(t) => now.duration_since(saved).map_or(true, |age| age < t),
    }
}

/// Saves the files of `dir` matching the cache's patterns, when one changed since `restored`
/// (or there was no cache). The number of files saved.
fn save_cache(
    at: &Utf8Path,
    dir: &Utf8Path,
    c: &Cache,
    restored: Option<SystemTime>,
) -> std::io::Result<Option<usize>> {
    let got = crate::exec::files::collect(dir, &c.patterns);
    let changed = got.files.iter().any(|f| {
        let m = std::fs::metadata(f).and_then(|m| m.modified()).ok();
        match (restored, m) {
            (Some(r), Some(m)) => m > r,
            _ => true,
        }
    });
    if got.files.is_empty() || !changed {
        return Ok(None);
    }
    let tmp = Utf8PathBuf::from(format!("{at}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    for f in &got.files {
        let rel = f.strip_prefix(dir).map_err(std::io::Error::other)?;
        let to = tmp.join("files").join(rel);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::copy(f, &to)?;
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    std::fs::write(tmp.join("saved"), now.to_string())?;
    let _ = std::fs::remove_dir_all(at);
    std::fs::rename(&tmp, at)?;
    Ok(Some(got.files.len()))
}

/// Copies the regular files under `from` into `to` (same relative paths); links are skipped.
fn copy_tree(from: &Utf8Path, to: &Utf8Path) -> std::io::Result<usize> {
    let mut n = 0;
    let mut stack = vec![from.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in d.read_dir_utf8()? {
            let e = e?;
            let ft = e.file_type()?;
            let rel = e.path().strip_prefix(from).map_err(std::io::Error::other)?;
            if ft.is_dir() {
                stack.push(e.path().to_path_buf());
            } else if ft.is_file() {
                let target = to.join(rel);
                if let Some(p) = target.parent() {
                    std::fs::create_dir_all(p)?;
                }
                std::fs::copy(e.path(), &target)?;
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_is_used_within_its_ttl() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let h = Duration::from_secs(3600);
        let cases = [
            (None, t0 + Duration::from_secs(86_400 * 365), true),
            (Some(h), t0 + Duration::from_secs(10), true),
            (Some(h), t0 + h, false),
            (Some(h), t0 + h + Duration::from_secs(1), false),
            // A clock set back: the cache is not older than its ttl.
            (Some(h), t0 - Duration::from_secs(5), true),
        ];
        for (ttl, now, fresh) in cases {
            assert_eq!(cache_fresh(t0, ttl, now), fresh, "{ttl:?} {now:?}");
        }
    }

    #[test]
    fn the_cache_is_saved_when_a_file_changed_and_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        let (dir, at) = (root.join("wd"), root.join("cache/ns/flow/wd"));
        std::fs::create_dir_all(dir.join("node_modules/a")).unwrap();
        std::fs::write(dir.join("node_modules/a/x.js"), "x").unwrap();
        std::fs::write(dir.join("other.txt"), "o").unwrap();
        let c = Cache {
            patterns: vec!["node_modules/**".into()],
            ttl: Some(Duration::from_secs(3600)),
        };
        assert_eq!(save_cache(&at, &dir, &c, None).unwrap(), Some(1));
        let fresh = root.join("wd2");
        std::fs::create_dir_all(&fresh).unwrap();
        let (when, n) = restore_cache(&at, &fresh, c.ttl, SystemTime::now()).unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            std::fs::read_to_string(fresh.join("node_modules/a/x.js")).unwrap(),
            "x"
        );
        assert!(!fresh.join("other.txt").exists());
        // Nothing changed since it was put back: not saved again.
        assert_eq!(save_cache(&at, &fresh, &c, Some(when)).unwrap(), None);
        // Expired: removed, not used.
        let later = SystemTime::now() + Duration::from_secs(7200);
        assert!(restore_cache(&at, &fresh, c.ttl, later).is_none());
        assert!(!at.exists());
    }
}
