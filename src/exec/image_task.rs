//! Running docker Build and Push (`plan::image_task` builds the commands): the build context's
//! files are written, `build` runs (its output is the task's log), the image id is read back as
//! the `imageId` output, then each `push`. There is no container to watch: on cancel the engine
//! CLI is left to end its own build, and a crash re-runs the task on `resume`.

use std::time::Instant;

use crate::exec::result::{Failure, State, TaskResult};
use crate::exec::{Runtime, process};
use crate::flow::model::{Flow, ImageTask, Task};
use crate::plan::build::SecretFiles;
use crate::plan::command::EngineCommand;

pub async fn run(
    rt: &Runtime,
    flow: &Flow,
    task: &Task,
    it: &ImageTask,
    outputs: &crate::plan::Outputs,
) -> TaskResult {
    let started = Instant::now();
    let mut res = TaskResult::new(&task.id, State::Failed);
    let planned = crate::plan::image_task::plan_image_task(
        flow,
        &task.id,
        it,
        &rt.ctx,
        &rt.inputs,
        Some(outputs),
    );
    let (it, ic) = match planned {
        Ok(p) => p,
        Err(e) => {
            res.failure = Some(Failure::Engine { message: e });
            return res;
        }
    };
    let it = &it;
    if let Err(e) =
        crate::exec::files::prepare(&ic.workdir, &ic.files, false, &SecretFiles::default())
    {
        res.failure = Some(Failure::Engine {
            message: format!("cannot prepare the build context {}: {e}", ic.workdir),
        });
        return res;
    }
    // As Kestra's Build: the namespace files go in the context, then the input files (which
    // were written first here, so a namespace file of the same name is left out).
    if let Some(nf) = it.build.as_ref().and_then(|b| b.namespace_files.as_ref()) {
        let copied = match &rt.storage {
            None => Err("this run has no namespace files directory".to_string()),
            Some(st) => crate::exec::namespace_files::choose(st, nf, &flow.namespace),
        }
        .and_then(|(mut chosen, warnings)| {
            for w in warnings {
                rt.status(&format!("{}: warning: {w}", task.id));
            }
            chosen.retain(|name, _| !ic.files.contains_key(name));
            crate::exec::namespace_files::copy_into(&chosen, &ic.workdir)
                .map_err(|e| format!("cannot copy the namespace files into {}: {e}", ic.workdir))
        });
        if let Err(message) = copied {
            res.failure = Some(Failure::Engine { message });
            return res;
        }
    }
    let mut steps: Vec<(&str, &EngineCommand)> = Vec::new();
    if let Some(b) = &ic.build {
        if let Some(parent) = ic.iidfile.as_ref().and_then(|f| f.parent()) {
            let _ = std::fs::create_dir_all(parent);
        }
        steps.push(("build", b));
    }
    steps.extend(ic.pushes.iter().map(|p| ("push", p)));
    for (what, cmd) in steps {
        if *rt.cancel.borrow() != crate::exec::Cancel::No {
            res.state = State::Killed;
            res.failure = Some(Failure::Cancelled);
            return res;
        }
        rt.status(&format!("{}: {what} {}", task.id, it.tags.join(", ")));
        let out = match process::run_captured(&rt.engine.program, cmd).await {
            Ok(o) => o,
            Err(e) => {
                res.failure = Some(Failure::Engine {
                    message: format!("cannot run {}: {e}", rt.engine.program.display()),
                });
                return res;
            }
        };
        for l in out.stdout.lines() {
            rt.sink.write(format!("{} | {l}\n", task.id).as_bytes());
        }
        for l in out.stderr.lines() {
            rt.sink.write(format!("{} ! {l}\n", task.id).as_bytes());
        }
        if !out.ok() {
            res.exit_code = out.status;
            res.failure = Some(Failure::Engine {
                message: format!("{what} failed: {}", out.error_line()),
            });
            res.duration = started.elapsed();
            return res;
        }
    }
    if let Some(f) = &ic.iidfile
        && let Ok(id) = std::fs::read_to_string(f)
    {
        res.outputs
            .insert("imageId".into(), serde_json::json!(id.trim()));
        let _ = std::fs::remove_file(f);
    }
    res.state = State::Success;
    res.exit_code = Some(0);
    res.duration = started.elapsed();
    res
}
