//! Which task runner a script task uses, from its `taskRunner` and Kestra's older forms that
//! real flows still carry: `runner: DOCKER|PROCESS` and the `docker` options (before 0.16), and
//! `image` on the runner. The precedence is Kestra's (`CommandsWrapper.getTaskRunner`): `runner`
//! first (PROCESS, or DOCKER with the `docker` options), then a Process `taskRunner`, then the
//! `docker` options over a Docker `taskRunner`. Each older form is accepted with a warning that
//! names the current one.

use crate::flow::model::{DockerRunner, RunnerKind};
use crate::flow::reader::{Cx, Obj};
use crate::image::ImageRef;

use super::runner::{ReadRunner, read_docker_options, read_runner};

/// The runner a script task runs with.
pub(super) struct Chosen {
    pub kind: RunnerKind,
    pub docker: DockerRunner,
    /// An image the runner names (`docker.image`, `taskRunner.image`), used over
    /// `containerImage` as Kestra does.
    pub image: Option<ImageRef>,
    /// The legacy `runner` property was set: Kestra then turns the output directory on.
    pub legacy_runner: bool,
}

/// Where `key` of `o` is written (its name), once read.
fn key_pos(cx: &Cx, o: &Obj<'_>, key: &str) -> Option<crate::diag::Pos> {
    cx.spans.get(&o.key_path(key)).copied()
}

pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>) -> Chosen {
    let legacy = o.enumeration(cx, "runner", &["DOCKER", "PROCESS"], |s| match s {
        "DOCKER" => Some(RunnerKind::Docker),
        "PROCESS" => Some(RunnerKind::Process),
        _ => None,
    });
    if let Some(k) = legacy {
        let pos = key_pos(cx, o, "runner").unwrap_or(o.pos());
        let now = match k {
            RunnerKind::Docker => crate::flow::model::DOCKER_RUNNER_TYPE,
            RunnerKind::Process => crate::flow::model::PROCESS_RUNNER_TYPE,
        };
        cx.diags.warning(
            pos,
            o.key_path("runner"),
            format!("`runner` is deprecated in Kestra (before 0.16); write `taskRunner: {{type: {now}}}`"),
        );
    }
    let docker = o.obj(cx, "docker").map(|d| read_docker_options(cx, d));
    let docker_pos = key_pos(cx, o, "docker");
    if let Some(pos) = docker_pos {
        cx.diags.warning(
            pos,
            o.key_path("docker"),
            format!(
                "`docker` is deprecated in Kestra (before 0.16); write its settings under `taskRunner: {{type: {}}}` and the image as `containerImage`",
                crate::flow::model::DOCKER_RUNNER_TYPE
            ),
        );
    }
    let task_runner = o.obj(cx, "taskRunner").and_then(|r| read_runner(cx, r));
    let runner_pos = key_pos(cx, o, "taskRunner");
    if let (Some(ReadRunner::Docker(_, Some(_))), Some(pos)) = (
        &task_runner,
        key_pos(cx, o, "taskRunner.image").or(runner_pos),
    ) {
        cx.diags.warning(
            pos,
            o.key_path("taskRunner.image"),
            "`taskRunner.image` is Kestra's older form; write the image as the task's `containerImage`",
        );
    }
    if legacy.is_some()
        && let Some(pos) = runner_pos
    {
        cx.diags.warning(
            pos,
            o.key_path("taskRunner"),
            "not used: the deprecated `runner` property is set, and it takes precedence (as in Kestra)",
        );
    }
    let from_docker = |docker: Option<(DockerRunner, Option<ImageRef>)>| {
        let (docker, image) = docker.unwrap_or_default();
        Chosen {
            kind: RunnerKind::Docker,
            docker,
            image,
            legacy_runner: legacy.is_some(),
        }
    };
    let process = |legacy_runner| Chosen {
        kind: RunnerKind::Process,
        docker: DockerRunner::default(),
        image: None,
        legacy_runner,
    };
    match (legacy, task_runner) {
        (Some(RunnerKind::Process), _) => process(true),
        (Some(RunnerKind::Docker), _) => from_docker(docker),
        (None, Some(ReadRunner::Process)) => {
            if let Some(pos) = docker_pos {
                cx.diags.warning(
                    pos,
                    o.key_path("docker"),
                    "not used: the task runs with the Process runner",
                );
            }
            process(false)
        }
        (None, _) if docker.is_some() => from_docker(docker),
        (None, Some(ReadRunner::Docker(docker, image))) => Chosen {
            kind: RunnerKind::Docker,
            docker: *docker,
            image,
            legacy_runner: false,
        },
        (None, None) => from_docker(None),
    }
}
