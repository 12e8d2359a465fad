//! The task cache (`taskCache`) on disk: a script task's successful result (its outputs and
//! output files) kept under the state directory, and taken instead of a run when the same task
//! runs again (`flow::task_cache::decide` says when).
//!
//! The key is a SHA-256 of the task as rendered for this run (every property after its
//! expressions: commands, env, image name, runner options, and the content of every input
//! file, namespace files included), with the flow's namespace and id, the task's id and the
//! engine's dialect. The image's id (`image inspect --format {{.Id}}`) is kept in the entry
//! and compared at each lookup, so a re-tagged image misses.
//!
//! Layout, bounded: `STATE_DIR/cache/NAMESPACE/FLOW/TASK/KEY/entry.json` and `.../KEY/files/…`
//! (the output files, by their names in the working directory). At most [`MAX_ENTRIES`] keys
//! per task: storing one removes the oldest beyond that, and every expired one. An entry is
//! written into a temporary directory and renamed into place, so a crash leaves no half
//! entry. Outputs are stored as masked for the journal (no secret value is written).

use std::collections::BTreeMap;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exec::Runtime;
use crate::exec::result::{State, TaskResult};
use crate::flow::model::{Flow, ScriptTask, Task};
use crate::flow::task_cache::{self, Decision, EntryFacts};

/// Keys kept per task (a ForEach renders a task once per value).
pub const MAX_ENTRIES: usize = 16;

/// How long the image id lookup may take.
const LOOKUP_LIMIT: Duration = Duration::from_secs(20);

/// The task's directory of entries: `STATE_DIR/cache/NAMESPACE/FLOW/TASK`.
pub fn task_dir(state_dir: &Utf8Path, flow: &Flow, task_id: &str) -> Utf8PathBuf {
    state_dir
        .join("cache")
        .join(&flow.namespace)
        .join(&flow.id)
        .join(task_id)
}

/// The key of a task as rendered for a run.
pub fn key(flow: &Flow, task_id: &str, dialect: &str, rendered: &impl std::fmt::Debug) -> String {
    let mut h = Sha256::new();
    // Each part ends with a NUL, so two parts never read as one.
    for part in [
        "dockhand-task-cache-1",
        &flow.namespace,
        &flow.id,
        task_id,
        dialect,
        &format!("{rendered:?}"),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `entry.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub version: u32,
    pub created_ms: u64,
    /// The image as the task names it, and its id then (none for a Process task).
    pub image: String,
    pub image_id: Option<String>,
    /// The execution that ran it.
    pub execution_id: String,
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Output file names, relative to the working directory (their copies under `files/`).
    pub files: Vec<String>,
    /// The working directory the run had (a core task's outputs may name files in it).
    #[serde(default)]
    pub workdir: String,
}

impl Entry {
    pub fn facts(&self) -> EntryFacts {
        EntryFacts {
            created_ms: self.created_ms,
            image_id: self.image_id.clone(),
        }
    }
}

/// The entry stored under `key`, if one reads.
pub fn load(dir: &Utf8Path, key: &str) -> Option<Entry> {
    let text = std::fs::read_to_string(dir.join(key).join("entry.json")).ok()?;
    serde_json::from_str::<Entry>(&text)
        .ok()
        .filter(|e| e.version == 1)
}

/// What a run needs to store its result after it ran.
#[derive(Debug, Clone)]
pub struct Pending {
    pub dir: Utf8PathBuf,
    pub key: String,
    pub image: String,
    pub image_id: Option<String>,
}

/// The id of the image the task would run in, as the engine has it locally; none when it has
/// no such image (a run would pull it) or does not answer.
async fn image_id(rt: &Runtime, image: &str, host: Option<&str>) -> Option<String> {
    let args = crate::plan::engine_commands::image_ids(&rt.engine.global(host), &[image]).argv();
    let out = crate::exec::process::capture(&rt.engine.program, &args, LOOKUP_LIMIT)
        .await
        .ok()?;
    if !out.ok() {
        return None;
    }
    out.stdout
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// The lookup before a run: the cached result when it stands (its files copied back into
/// `workdir`), else what to store once the task has run.
pub async fn lookup(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    rendered: &ScriptTask,
    workdir: &Utf8Path,
) -> Result<TaskResult, Option<Pending>> {
    let cache = task.control.task_cache.as_ref().filter(|c| c.enabled);
    let (Some(cache), Some(state_dir)) = (cache, rt.state_dir.as_deref()) else {
        return Err(None);
    };
    let dir = task_dir(state_dir, flow, &task.id);
    let key = key(flow, &task.id, rt.ctx.dialect.name(), rendered);
    let host = rendered.runner.host.as_deref().or(rt.ctx.host.as_deref());
    let (image, image_id) = if rendered.in_container() {
        let name =
            crate::plan::build::image_name(rendered, rt.ctx.dialect, &rt.ctx.local_images, host);
        let id = image_id(rt, &name, host).await;
        (name, id)
    } else {
        ("(host process)".to_string(), None)
    };
    let entry = load(&dir, &key);
    let decision = task_cache::decide(
        Some(cache),
        entry.as_ref().map(Entry::facts).as_ref(),
        image_id.as_deref(),
        crate::exec::journal::now_ms(),
    );
    let pending = Pending {
        dir,
        key,
        image,
        image_id,
    };
    settle(rt, &task.id, decision, entry, pending, workdir).map(|(r, _)| r)
}

/// The lookup before a core task (`flow::task_cache::cacheable`) runs: the key is the task
/// with every text rendered as it would run; on a hit the files it left in its working
/// directory are copied back and the outputs that named them name the copies.
pub fn lookup_core(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    core: &crate::flow::core_task::CoreTask,
    outputs: &crate::plan::Outputs,
    run: Option<(
        &crate::plan::taskrun::TaskRunContext,
        &serde_json::Map<String, serde_json::Value>,
    )>,
) -> Result<TaskResult, Option<Pending>> {
    let cache = task.control.task_cache.as_ref().filter(|c| c.enabled);
    let (Some(cache), Some(state_dir)) = (cache, rt.state_dir.as_deref()) else {
        return Err(None);
    };
    if !task_cache::cacheable(&task.kind) {
        return Err(None);
    }
    // A text that cannot be rendered fails the task when it runs: no lookup then.
    let rendered =
        crate::plan::with_task_texts(flow, task, &rt.ctx, &rt.inputs, Some(outputs), run, |r| {
            core.texts()
                .iter()
                .map(|(_, t)| r.text(t))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|_| None)?;
    let dir = task_dir(state_dir, flow, &task.id);
    let key = key(flow, &task.id, IN_PROCESS, &core_rendered(core, &rendered));
    let entry = load(&dir, &key);
    let decision = task_cache::decide(
        Some(cache),
        entry.as_ref().map(Entry::facts).as_ref(),
        None,
        crate::exec::journal::now_ms(),
    );
    let pending = Pending {
        dir,
        key,
        image: "(in process)".into(),
        image_id: None,
    };
    // The run's own directory (`t.1` inside a ForEach), where the task writes its files.
    let workdir = rt
        .ctx
        .workdir(run.map_or(task.id.as_str(), |(r, _)| r.id.as_str()));
    settle(rt, &task.id, decision, entry, pending, &workdir).map(|(mut r, e)| {
        if !e.workdir.is_empty() && e.workdir != workdir.as_str() {
            for v in r.outputs.values_mut() {
                rebase(v, &e.workdir, workdir.as_str());
            }
        }
        // A core task hands out no output files: its files are named by its outputs.
        r.output_files.clear();
        r.exit_code = None;
        r
    })
}

/// Applies a decision: on a hit the restored result (and its entry); otherwise what to store
/// once the task has run, an expired or unusable entry removed, and a line saying why an
/// entry was not used.
fn settle(
    rt: &Runtime,
    task_id: &str,
    decision: Decision,
    entry: Option<Entry>,
    pending: Pending,
    workdir: &Utf8Path,
) -> Result<(TaskResult, Entry), Option<Pending>> {
    let at = pending.dir.join(&pending.key);
    let why = match (decision, entry) {
        (Decision::Hit, Some(e)) => match restore(&at, &e, task_id, workdir) {
            Ok(r) => return Ok((r, e)),
            Err(why) => {
                let _ = std::fs::remove_dir_all(&at);
                format!("cache entry not usable ({why})")
            }
        },
        (Decision::Expired, _) => {
            let _ = std::fs::remove_dir_all(&at);
            "cached result expired (ttl)".to_string()
        }
        // An entry for the task as rendered that does not stand.
        (Decision::Miss(why), Some(_)) => format!("cached result not used ({why})"),
        _ => return Err(Some(pending)),
    };
    rt.status(&format!("{task_id}: {why}: running"));
    Err(Some(pending))
}

/// The "dialect" of a core task's key: it runs in dockhand, whatever the engine.
const IN_PROCESS: &str = "in-process";

/// What a core task's key is computed from: the task and its texts as rendered.
fn core_rendered(core: &crate::flow::core_task::CoreTask, texts: &[String]) -> String {
    format!("{core:?} {texts:?}")
}

/// Every string in `v` that starts with the old working directory (or its `file://` URL)
/// starts with the new one instead.
fn rebase(v: &mut serde_json::Value, old: &str, new: &str) {
    match v {
        serde_json::Value::String(s) => {
            for (o, n) in [
                (format!("file://{old}/"), format!("file://{new}/")),
                (format!("{old}/"), format!("{new}/")),
            ] {
                if let Some(rest) = s.strip_prefix(&o) {
                    *s = format!("{n}{rest}");
                    return;
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| rebase(x, old, new)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|x| rebase(x, old, new)),
        _ => {}
    }
}

/// The regular files under a core task's working directory, to keep with its result.
pub fn files_of(workdir: &Utf8Path) -> Vec<String> {
    crate::exec::namespace_files::regular_files(workdir)
        .into_iter()
        .map(|(_, p)| p.to_string())
        .collect()
}

/// The cached result as this run's: SUCCESS, its outputs, its files copied into `workdir`.
fn restore(
    entry_dir: &Utf8Path,
    e: &Entry,
    task_id: &str,
    workdir: &Utf8Path,
) -> Result<TaskResult, String> {
    let mut r = TaskResult::new(task_id, State::Success);
    r.outputs = e.outputs.clone();
    r.cached = true;
    r.exit_code = Some(0);
    for name in &e.files {
        let rel = crate::plan::storage::relative_inside(name)?;
        let from = entry_dir.join("files").join(rel);
        let to = workdir.join(rel);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|err| format!("{p}: {err}"))?;
        }
        std::fs::copy(&from, &to).map_err(|err| format!("{from}: {err}"))?;
        r.output_files.push(to.to_string());
    }
    let when = chrono::DateTime::from_timestamp_millis(e.created_ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    r.message = Some(format!(
        "cached: result of execution {} at {when}, not run again",
        e.execution_id
    ));
    Ok(r)
}

/// Stores a successful run's result (outputs as masked, output files under `workdir`), then
/// keeps the task's entries within [`MAX_ENTRIES`] and drops expired ones.
pub fn store(
    p: &Pending,
    res: &TaskResult,
    execution_id: &str,
    workdir: &Utf8Path,
    ttl: Option<Duration>,
) -> Result<(), String> {
    store_files(p, res, &res.output_files, execution_id, workdir, ttl)
}

/// [`store`] with the files to keep given (absolute paths under `workdir`).
pub fn store_files(
    p: &Pending,
    res: &TaskResult,
    output_files: &[String],
    execution_id: &str,
    workdir: &Utf8Path,
    ttl: Option<Duration>,
) -> Result<(), String> {
    if res.state != State::Success || res.cached {
        return Ok(());
    }
    let io = |what: &Utf8Path, e: std::io::Error| format!("{what}: {e}");
    std::fs::create_dir_all(&p.dir).map_err(|e| io(&p.dir, e))?;
    let tmp = p.dir.join(format!(".{}.tmp-{}", p.key, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut files = Vec::new();
    for f in output_files {
        let Ok(name) = Utf8Path::new(f).strip_prefix(workdir) else {
            continue;
        };
        let to = tmp.join("files").join(name);
        if let Some(d) = to.parent() {
            std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
        }
        std::fs::copy(f, &to).map_err(|e| io(&to, e))?;
        files.push(name.to_string());
    }
    let entry = Entry {
        version: 1,
        created_ms: crate::exec::journal::now_ms(),
        image: p.image.clone(),
        image_id: p.image_id.clone(),
        execution_id: execution_id.to_string(),
        outputs: res.outputs.clone(),
        files,
        workdir: workdir.to_string(),
    };
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let json = serde_json::to_vec_pretty(&entry).map_err(|e| e.to_string())?;
    std::fs::write(tmp.join("entry.json"), json).map_err(|e| io(&tmp, e))?;
    let at = p.dir.join(&p.key);
    let _ = std::fs::remove_dir_all(&at);
    std::fs::rename(&tmp, &at).map_err(|e| io(&at, e))?;
    prune(&p.dir, ttl, entry.created_ms);
    Ok(())
}

/// Removes expired entries and the oldest beyond [`MAX_ENTRIES`].
fn prune(dir: &Utf8Path, ttl: Option<Duration>, now_ms: u64) {
    let Ok(rd) = dir.read_dir_utf8() else { return };
    let mut entries: Vec<(u64, Utf8PathBuf)> = rd
        .flatten()
        .filter(|e| !e.file_name().starts_with('.'))
        .map(|e| {
            let created = load(dir, e.file_name()).map_or(0, |en| en.created_ms);
            (created, e.path().to_path_buf())
        })
        .collect();
    entries.sort();
    let expired =
        |created: u64| ttl.is_some_and(|t| now_ms.saturating_sub(created) >= t.as_millis() as u64);
    let over = entries.len().saturating_sub(MAX_ENTRIES);
    for (i, (created, path)) in entries.iter().enumerate() {
        if i < over || expired(*created) {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// What `plan` says of a task with `taskCache` enabled, without asking the engine: whether an
/// entry stands for the task as `plan` renders it (with no outputs of earlier tasks and the
/// plan's execution id, so a task whose properties read those cannot be told).
pub fn plan_note(
    state_dir: &Utf8Path,
    flow: &Flow,
    task: &Task,
    dialect: &str,
    rendered: &impl std::fmt::Debug,
    now_ms: u64,
) -> Option<String> {
    let cache = task.control.task_cache.as_ref()?;
    if !cache.enabled {
        return Some("taskCache: disabled (the task runs)".into());
    }
    let dir = task_dir(state_dir, flow, &task.id);
    let key = key(flow, &task.id, dialect, rendered);
    let entry = load(&dir, &key);
    let decision = task_cache::decide(
        Some(cache),
        entry.as_ref().map(Entry::facts).as_ref(),
        entry.as_ref().and_then(|e| e.image_id.as_deref()),
        now_ms,
    );
    Some(match (decision, entry) {
        (Decision::Hit, Some(e)) => format!(
            "taskCache: would hit (result of execution {}, {} output file{}){}; no container runs",
            e.execution_id,
            e.files.len(),
            if e.files.len() == 1 { "" } else { "s" },
            e.image_id
                .map(|id| format!(", if {} still has id {id}", e.image))
                .unwrap_or_default()
        ),
        (Decision::Expired, _) => "taskCache: would miss (the cached result expired)".into(),
        _ => "taskCache: would miss (no cached result for the task as rendered)".into(),
    })
}

/// `plan`'s lines for the flow's tasks with `taskCache`: each task rendered as `plan` renders
/// it (namespace files included when `storage` is given), looked up under `state_dir`.
pub fn plan_notes(
    state_dir: &Utf8Path,
    flow: &Flow,
    ctx: &crate::plan::context::PlanContext,
    inputs: &BTreeMap<String, String>,
    storage: Option<&crate::exec::storage::Storage>,
) -> Vec<String> {
    let now = crate::exec::journal::now_ms();
    let mut out = Vec::new();
    for (task, script) in flow.scripts() {
        if task.control.task_cache.is_none() {
            continue;
        }
        let with_files = match storage {
            Some(st) if script.namespace_files.is_some() => {
                crate::exec::namespace_files::with_namespace_files(st, script, &flow.namespace)
                    .map(|(s, _)| s)
                    .ok()
            }
            _ => None,
        };
        let script = with_files.as_ref().unwrap_or(script);
        let note = match crate::plan::plan_task_run(flow, task, script, ctx, inputs, None, None) {
            Ok((rendered, _)) => {
                plan_note(state_dir, flow, task, ctx.dialect.name(), &rendered, now)
            }
            Err(e) => Some(format!("taskCache: cannot tell ({e})")),
        };
        if let Some(n) = note {
            out.push(format!("task {}: {n}", task.id));
        }
    }
    for (task, core) in crate::flow::core_task::core_tasks(flow) {
        if task.control.task_cache.is_none() || !task_cache::cacheable(&task.kind) {
            continue;
        }
        let texts = crate::plan::with_task_texts(flow, task, ctx, inputs, None, None, |r| {
            core.texts()
                .iter()
                .map(|(_, t)| r.text(t))
                .collect::<Result<Vec<_>, _>>()
        });
        let note = match texts {
            Ok(t) => plan_note(
                state_dir,
                flow,
                task,
                IN_PROCESS,
                &core_rendered(core, &t),
                now,
            ),
            Err(e) => Some(format!("taskCache: cannot tell ({e})")),
        };
        if let Some(n) = note {
            out.push(format!("task {}: {n}", task.id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result_with_file(workdir: &Utf8Path) -> TaskResult {
        std::fs::create_dir_all(workdir.join("out")).unwrap();
        std::fs::write(workdir.join("out/a.txt"), "A").unwrap();
        let mut r = TaskResult::new("t", State::Success);
        r.outputs.insert("n".into(), serde_json::json!(3));
        r.output_files = vec![workdir.join("out/a.txt").to_string()];
        r
    }

    #[test]
    fn outputs_naming_the_old_working_directory_name_the_new_one() {
        let mut v = serde_json::json!({
            "uri": "file:///w/e1/dl/data.csv",
            "path": "/w/e1/dl/sub/x",
            "other": "/w/e1/dlx/y",
            "code": 200,
            "list": ["file:///w/e1/dl/a"],
        });
        rebase(&mut v, "/w/e1/dl", "/w/e2/dl");
        assert_eq!(
            v,
            serde_json::json!({
                "uri": "file:///w/e2/dl/data.csv",
                "path": "/w/e2/dl/sub/x",
                "other": "/w/e1/dlx/y",
                "code": 200,
                "list": ["file:///w/e2/dl/a"],
            })
        );
    }

    #[test]
    fn stored_results_restore_and_stay_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        let wd = root.join("w1");
        let r = result_with_file(&wd);
        let p = |key: &str| Pending {
            dir: root.join("cache/t"),
            key: key.to_string(),
            image: "busybox".into(),
            image_id: Some("sha256:1".into()),
        };
        store(&p("k0"), &r, "e1", &wd, None).unwrap();
        let e = load(&root.join("cache/t"), "k0").unwrap();
        assert_eq!(e.files, ["out/a.txt"]);
        assert_eq!(e.outputs["n"], 3);
        let wd2 = root.join("w2");
        let back = restore(&root.join("cache/t/k0"), &e, "t", &wd2).unwrap();
        assert!(back.cached);
        assert_eq!(std::fs::read_to_string(wd2.join("out/a.txt")).unwrap(), "A");
        assert_eq!(back.output_files, [wd2.join("out/a.txt").to_string()]);
        // A failed run, or a cached one, is not stored.
        let mut failed = r.clone();
        failed.state = State::Failed;
        store(&p("kf"), &failed, "e1", &wd, None).unwrap();
        assert!(load(&root.join("cache/t"), "kf").is_none());
        // Bounded: the oldest go.
        for i in 1..=MAX_ENTRIES + 3 {
            store(&p(&format!("k{i}")), &r, "e1", &wd, None).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        let n = root.join("cache/t").read_dir_utf8().unwrap().count();
        assert_eq!(n, MAX_ENTRIES);
        assert!(load(&root.join("cache/t"), "k0").is_none());
        // An entry naming a file outside its directory is not restored.
        let mut bad = e.clone();
        bad.files = vec!["../../x".into()];
        assert!(restore(&root.join("cache/t/k0"), &bad, "t", &wd2).is_err());
    }
}
