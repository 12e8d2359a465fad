//! Which short image names Podman has locally, found out once before a run.
//!
//! `podman run mytool:1` finds a local image the way Podman resolves short names: first
//! `localhost/mytool:1` (where `podman build`, `import` and `tag` put unqualified names), then
//! the short-name aliases and unqualified-search registries of `registries.conf`. To pull, a
//! short name goes through those aliases and registries instead, which need not mean Docker Hub.
//! dockhand therefore passes a short name as written only when Podman has it locally (Podman
//! then uses that image, exactly as `podman run` would), and Docker Hub's qualified name
//! otherwise (see `plan::build::image_name`). The lookup is one `podman image inspect` of every
//! such name per engine address, and only when the flow uses a short name on Podman that may be
//! pulled if absent (`pullPolicy: IF_NOT_PRESENT`; under `NEVER` the name goes as written with
//! no lookup, under `ALWAYS` Docker Hub's name is pulled).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::exec::engine::Engine;
use crate::exec::process;
use crate::flow::model::{Flow, PullPolicy};
use crate::plan::dialect::Dialect;
use crate::plan::engine_commands;

/// How long the lookup may take.
const LIMIT: Duration = Duration::from_secs(20);

/// The short names per engine address (None: the default one) that a Podman run would look up.
pub fn short_names(
    flow: &Flow,
    default_host: Option<&str>,
) -> BTreeMap<Option<String>, Vec<String>> {
    let mut out: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    // The subflows found before the run run with this run's engine and images too.
    let flows = crate::flow::subflows::with_subflows(flow);
    let scripts = flows.iter().flat_map(|f| f.scripts());
    for (_, s) in scripts.filter(|(_, s)| s.in_container()) {
        let img = &s.container_image;
        // A digest pins the image: it is pulled by Docker Hub's name or found by digest. NEVER
        // needs no lookup (the name goes as written: no pull can follow); ALWAYS pulls.
        if img.domain.is_some()
            || img.digest.is_some()
            || s.runner.pull_policy != PullPolicy::IfNotPresent
        {
            continue;
        }
        let host = s
            .runner
            .host
            .clone()
            .or_else(|| default_host.map(str::to_string));
        let names = out.entry(host).or_default();
        if !names.iter().any(|n| n == img.original()) {
            names.push(img.original().to_string());
        }
    }
    out
}

/// The `(address, short name)` pairs Podman has locally, as `PlanContext::local_images` takes
/// them. Nothing for Docker, and no engine call when the flow has no short name to look up.
pub async fn local_short_names(engine: &Engine, flow: &Flow) -> BTreeSet<(Option<String>, String)> {
    let mut found = BTreeSet::new();
    if engine.dialect != Dialect::Podman {
        return found;
    }
    for (host, names) in short_names(flow, engine.host.as_deref()) {
        let args = engine_commands::image_ids(&engine.global(host.as_deref()), &names).argv();
        let Ok(out) = process::capture(&engine.program, &args, LIMIT).await else {
            // No answer: every name goes qualified, as if none were local; the run's first
            // command then says what is wrong with the engine.
            continue;
        };
        for n in local_of(&names, &out) {
            found.insert((host.clone(), n));
        }
    }
    found
}

/// The names `podman image inspect --format {{.Id}} NAMES...` found: all when it succeeded;
/// else those it did not name in a `NAME: image not known` error, provided that their number
/// matches the ids it printed (anything else is not trusted: none are taken as local).
fn local_of(names: &[String], out: &process::Output) -> Vec<String> {
    if out.ok() {
        return names.to_vec();
    }
    let local: Vec<String> = names
        .iter()
        .filter(|n| !out.stderr.contains(&format!(" {n}: image not known")))
        .cloned()
        .collect();
    let ids = out.stdout.lines().filter(|l| !l.trim().is_empty()).count();
    if ids == local.len() {
        local
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(status: i32, stdout: &str, stderr: &str) -> process::Output {
        process::Output {
            status: Some(status),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn found_and_missing_names_are_told_apart() {
        let names: Vec<String> = ["busybox:latest", "nope1:1", "centos", "pe1:1"]
            .map(String::from)
            .to_vec();
        // What podman 4.3.1 prints for two of four missing.
        let o = out(
            125,
            "650218ea40\n650218ea40\n",
            "error inspecting object: pe1:1: image not known\nError: inspecting object: nope1:1: image not known\n",
        );
        assert_eq!(local_of(&names, &o), vec!["busybox:latest", "centos"]);
        assert_eq!(local_of(&names, &out(0, "a\nb\nc\nd\n", "")), names);
        // Ids and errors that do not add up: nothing is taken as local.
        let o = out(125, "650218ea40\n", "Error: something else\n");
        assert!(local_of(&names, &o).is_empty());
    }
}
