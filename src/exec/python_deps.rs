//! Installing a task's Python dependencies before it starts (`plan::python_deps` plans where
//! and how): nothing to do when their cache directory is complete; else the install container
//! runs into a staging directory, which becomes the cache directory once it succeeded (a
//! directory another run completed first wins, the staging one is dropped).

use std::time::Instant;

use crate::exec::{Runtime, process};
use crate::plan::python_deps::{DepsStep, MARKER};

/// What happened, for the task's status line.
#[derive(Debug, PartialEq)]
pub enum Installed {
    Cached,
    Now { seconds: f64 },
}

/// Makes `d.dir` hold the dependencies; the error says why not (the install's own output went
/// to the task's log as `TASK ! line`).
pub async fn ensure(rt: &Runtime, task_id: &str, d: &DepsStep) -> Result<Installed, String> {
    if d.reuse && d.dir.join(MARKER).is_file() {
        return Ok(Installed::Cached);
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&d.staging);
    std::fs::create_dir_all(&d.staging).map_err(|e| format!("cannot create {}: {e}", d.staging))?;
    rt.status(&format!(
        "{task_id}: installing python dependencies into {}",
        d.dir
    ));
    let out = process::run_captured(&rt.engine.program, &d.install)
        .await
        .map_err(|e| format!("cannot run {}: {e}", rt.engine.program.display()))?;
    for l in out.stdout.lines() {
        rt.sink.write(format!("{task_id} | {l}\n").as_bytes());
    }
    for l in out.stderr.lines() {
        rt.sink.write(format!("{task_id} ! {l}\n").as_bytes());
    }
    if !out.ok() {
        let _ = std::fs::remove_dir_all(&d.staging);
        return Err(format!(
            "installing the python dependencies failed (exit {}): {}",
            out.status.map_or("signal".to_string(), |c| c.to_string()),
            out.error_line()
        ));
    }
    std::fs::write(d.staging.join(MARKER), b"")
        .map_err(|e| format!("cannot write {}: {e}", d.staging.join(MARKER)))?;
    if !d.reuse {
        let _ = std::fs::remove_dir_all(&d.dir);
    }
    if let Err(e) = std::fs::rename(&d.staging, &d.dir) {
        // Another run completed the same directory first: use it.
        let _ = std::fs::remove_dir_all(&d.staging);
        if !d.dir.join(MARKER).is_file() {
            return Err(format!("cannot move {} to {}: {e}", d.staging, d.dir));
        }
    }
    Ok(Installed::Now {
        seconds: started.elapsed().as_secs_f64(),
    })
}
