//! The commands of docker Build and Push (`model::ImageTask`): the build context is the task's
//! working directory, holding its input files and, for an inline Dockerfile, the text as
//! `Dockerfile.dockhand`; the image id comes back in a private file (`--iidfile`); pushes use
//! the registry credentials' private client config, as a script task's pull does. Pure.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;

use crate::flow::model::{Body, ImageTask, ScriptTask};
use crate::image::ImageRef;
use crate::plan::build::registry_auth;
use crate::plan::command::EngineCommand;
use crate::plan::context::PlanContext;
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands::{self as ec, Global, ImageBuildArgs};

/// The file an inline Dockerfile is written to, in the build context.
pub const INLINE_DOCKERFILE: &str = "Dockerfile.dockhand";

#[derive(Debug, Clone, PartialEq)]
pub struct ImageCommands {
    /// The build context (the task's working directory).
    pub workdir: Utf8PathBuf,
    /// Written into `workdir` before the build.
    pub files: BTreeMap<String, String>,
    pub build: Option<EngineCommand>,
    /// Where the build writes the image id (the `imageId` output).
    pub iidfile: Option<Utf8PathBuf>,
    pub pushes: Vec<EngineCommand>,
}

pub fn plan(task_id: &str, it: &ImageTask, ctx: &PlanContext) -> ImageCommands {
    let workdir = ctx.workdir(task_id);
    let private = ctx.private_dir(task_id);
    let host = it.runner.host.clone().or_else(|| ctx.host.clone());
    let global = Global::new(ctx.dialect, host.as_deref());
    let mut files = BTreeMap::new();
    let (mut build, mut iidfile) = (None, None);
    if let Some(b) = &it.build {
        files.extend(b.input_files.clone());
        // Kestra: a file of the working directory by that name, else the text itself.
        let dockerfile = if b.input_files.contains_key(&b.dockerfile) {
            workdir.join(&b.dockerfile)
        } else {
            files.insert(INLINE_DOCKERFILE.to_string(), b.dockerfile.clone());
            workdir.join(INLINE_DOCKERFILE)
        };
        let iid = private.join("image-id");
        let mut c = ec::build_image(
            &global,
            &ImageBuildArgs {
                context: workdir.as_str(),
                dockerfile: dockerfile.as_str(),
                tags: &it.tags,
                build_args: &b.build_args,
                labels: &b.labels,
                platform: b.platform.as_deref(),
                target: b.target.as_deref(),
                pull: b.pull,
                iidfile: iid.as_str(),
            },
        );
        c.cwd = Some(workdir.to_string());
        build = Some(c);
        iidfile = Some(iid);
    }
    let mut pushes = Vec::new();
    if it.push {
        for tag in &it.tags {
            let auth = ImageRef::parse(tag)
                .ok()
                .and_then(|image| registry_auth(&stand_in(image, it), ctx.dialect, &private));
            let mut g = global.clone();
            if auth.is_some() && ctx.dialect == Dialect::Docker {
                g.config = Some(private.join("docker-config").to_string());
            }
            let authfile = auth
                .as_ref()
                .filter(|_| ctx.dialect == Dialect::Podman)
                .map(|(_, f)| f.path.clone());
            let mut c = ec::push_image(&g, tag, authfile.as_deref());
            if let Some((_, f)) = auth {
                c.files.push(f);
            }
            pushes.push(c);
        }
    }
    ImageCommands {
        workdir,
        files,
        build,
        iidfile,
        pushes,
    }
}

/// A script task with just the image and the runner: what the registry credential code reads
/// (the registry of `image`, `credentials`, `config`).
fn stand_in(image: ImageRef, it: &ImageTask) -> ScriptTask {
    ScriptTask {
        runner: it.runner.clone(),
        ..ScriptTask::of_commands(image, vec![])
    }
}

/// `it` with its expressions replaced (tags, Dockerfile, build arguments, labels, files,
/// target, platform, credentials and config), as a script task's are, and the secrets they
/// read. Rendered through the script renderer with a stand-in task holding the same texts.
pub fn render(
    scope: &crate::plan::scope::Scope,
    task_id: &str,
    workdir: &camino::Utf8Path,
    it: &ImageTask,
    strict: bool,
) -> Result<(ImageTask, Vec<String>), String> {
    const ARG: &str = "a:";
    const LABEL: &str = "l:";
    let mut s = stand_in(ImageRef::parse("scratch").expect("an image"), it);
    s.before_commands = it.tags.clone();
    if let Some(b) = &it.build {
        s.env.extend(
            b.build_args
                .iter()
                .map(|(k, v)| (format!("{ARG}{k}"), v.clone())),
        );
        s.env.extend(
            b.labels
                .iter()
                .map(|(k, v)| (format!("{LABEL}{k}"), v.clone())),
        );
        s.input_files = b.input_files.clone();
        s.body = Body::Commands(vec![
            b.dockerfile.clone(),
            b.target.clone().unwrap_or_default(),
            b.platform.clone().unwrap_or_default(),
        ]);
    }
    let r = scope.render(task_id, workdir, &s, strict)?;
    let t = r.task;
    let mut out = it.clone();
    out.tags = t.before_commands;
    out.runner = t.runner;
    if let (Some(b), Body::Commands(c)) = (out.build.as_mut(), &t.body) {
        let pick = |prefix: &str| {
            t.env
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
                .collect()
        };
        b.build_args = pick(ARG);
        b.labels = pick(LABEL);
        b.input_files = t.input_files;
        b.dockerfile = c[0].clone();
        b.target = (!c[1].is_empty()).then(|| c[1].clone());
        b.platform = (!c[2].is_empty()).then(|| c[2].clone());
    }
    Ok((out, r.secrets))
}

/// The one planner of docker Build/Push, for `plan` (no `outputs`: output expressions stay as
/// written) and the executor (the outputs of the tasks before): renders `it` and builds its
/// commands.
pub fn plan_image_task(
    flow: &crate::flow::model::Flow,
    task_id: &str,
    it: &ImageTask,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    outputs: Option<&crate::plan::Outputs>,
) -> Result<(ImageTask, ImageCommands), String> {
    let scope = crate::plan::scope(flow, ctx, inputs, outputs);
    let (it, _) = render(
        &scope,
        task_id,
        &ctx.workdir(task_id),
        it,
        outputs.is_some(),
    )?;
    let ic = plan(task_id, &it, ctx);
    Ok((it, ic))
}
