//! Reading docker Build and Push (`io.kestra.plugin.docker.cli.Build` / `Push`): tags, the
//! Dockerfile and what the build takes, and the engine options (`host`, `config`,
//! `credentials`) through the task runner's reader.

use crate::flow::model::{ImageBuild, ImageTask};
use crate::flow::reader::{Cx, Obj};
use crate::flow::spec;

pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>, tt: &'static spec::TaskType) -> ImageTask {
    let build = tt.name == spec::DOCKER_BUILD_TYPE;
    let tags_pos = o.get(cx, "tags").map(|n| n.pos);
    let tags: Vec<String> = match o.need(cx, "tags") {
        Some(_) => o.strings(cx, "tags").unwrap_or_default(),
        None => vec![],
    };
    if tags.is_empty()
        && let Some(pos) = tags_pos
    {
        cx.error(pos, &o.key_path("tags"), "give at least one tag");
    }
    // Kestra drops a `scheme://` in front of a tag.
    let tags: Vec<String> = tags
        .into_iter()
        .map(|t| match t.split_once("://") {
            Some((_, rest)) => rest.to_string(),
            None => t,
        })
        .collect();
    for t in &tags {
        if !t.contains("{{")
            && let Err(e) = crate::image::ImageRef::parse(t)
        {
            cx.error(
                tags_pos.unwrap_or(o.pos()),
                &o.key_path("tags"),
                format!("tag `{t}`: {e}"),
            );
        }
    }
    let image = if build {
        let dockerfile = o.need_string(cx, "dockerfile").unwrap_or_default();
        let platforms = o.strings(cx, "platforms").unwrap_or_default();
        if platforms.len() > 1 {
            let pos = o.get(cx, "platforms").map_or(o.pos(), |n| n.pos);
            cx.error(
                pos,
                &o.key_path("platforms"),
                "building for several platforms at once needs a multi-platform builder (buildx), which `docker build` / `podman build` are not: give one platform",
            );
        }
        Some(ImageBuild {
            dockerfile,
            build_args: o.string_map(cx, "buildArgs").unwrap_or_default(),
            labels: o.string_map(cx, "labels").unwrap_or_default(),
            platform: platforms.into_iter().next(),
            pull: o.bool(cx, spec::DOCKER_BUILD_PULL).unwrap_or(true),
            target: o.string(cx, "target"),
            input_files: o.string_map(cx, "inputFiles").unwrap_or_default(),
            namespace_files: super::namespace_files::read(cx, o),
        })
    } else {
        None
    };
    let push = if build {
        o.bool(cx, "push").unwrap_or(false)
    } else {
        true
    };
    let runner = super::container_run::read_top_runner(cx, o, tt).unwrap_or_default();
    ImageTask {
        build: image,
        tags,
        push,
        runner,
    }
}
