//! Python's `dependencies`: where they are installed and the command that installs them. They
//! go into a directory of the cache under the work root, named by a hash of the image, the
//! requirement set, the package manager and `pythonVersion`, and installed there once, by the
//! task's own image (so compiled wheels fit its Python), in a container of their own that
//! mounts a staging directory; the executor (`exec::python_deps`) runs it only while the
//! directory has no `.complete` marker, then moves the staging directory into place. The
//! task's container mounts the directory read-only and has it on `PYTHONPATH`, as Kestra puts
//! its installed packages on `PYTHONPATH`. Pure: no I/O.

use camino::Utf8PathBuf;
use sha2::{Digest, Sha256};

use crate::flow::model::{PythonDeps, ScriptTask};
use crate::plan::command::{EngineCommand, Secret, Step};
use crate::plan::context::PlanContext;
use crate::plan::engine_commands::{self as ec, Global};

/// Where the dependencies are in the task's container (read-only) and in the installing one.
pub const MOUNT: &str = "/dockhand/python";
/// The file that says a cache directory is complete.
pub const MARKER: &str = ".complete";

/// The install step of a task with Python dependencies.
#[derive(Debug, Clone, PartialEq)]
pub struct DepsStep {
    /// The directory the task's container mounts at [`MOUNT`].
    pub dir: Utf8PathBuf,
    /// Where the install writes, moved to `dir` once it succeeded.
    pub staging: Utf8PathBuf,
    /// Whether a complete `dir` is reused (`dependencyCacheEnabled`); if not, every run
    /// installs.
    pub reuse: bool,
    /// The container run that installs them into `staging`.
    pub install: EngineCommand,
}

/// The script of the install container: the version check, then pip (or uv) with the
/// requirements as its arguments, never as shell text. `$1` is `uv` or `pip`, `$2` the wanted
/// version (may be empty), the rest the requirements.
const INSTALL: &str = r#"set -e
manager="$1"; want="$2"; shift 2
have=$(python3 -c 'import sys; print(".".join(map(str, sys.version_info[:3])))') || {
  echo "dockhand: this image has no python3 to install the dependencies with" >&2; exit 3; }
if [ -n "$want" ]; then
  case "$have" in
    "$want"|"$want".*) ;;
    *) echo "dockhand: pythonVersion $want is not available in this image, which has Python $have; choose an image with Python $want in containerImage" >&2; exit 3;;
  esac
fi
if [ "$#" -eq 0 ]; then exit 0; fi
if [ "$manager" = uv ] && command -v uv >/dev/null 2>&1; then
  uv pip install --target "$DOCKHAND_TARGET" --python python3 "$@"
else
  python3 -m pip install --no-cache-dir --disable-pip-version-check --target "$DOCKHAND_TARGET" "$@"
fi"#;

/// The cache key: the image as the engine is given it, the manager, the version and the
/// requirements in a stable order.
pub fn cache_key(image: &str, deps: &PythonDeps) -> String {
    let mut reqs: Vec<&str> = deps.requirements.iter().map(String::as_str).collect();
    reqs.sort_unstable();
    reqs.dedup();
    let mut h = Sha256::new();
    for part in [
        image,
        if deps.uv { "uv" } else { "pip" },
        deps.version.as_deref().unwrap_or(""),
    ]
    .into_iter()
    .chain(reqs)
    {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The install step of `task` (None without dependencies or version), for the image name
/// `image` as the task's container gets it, with the task's engine options.
pub fn plan(
    task: &ScriptTask,
    task_id: &str,
    ctx: &PlanContext,
    global: &Global,
    labels: &[(&'static str, String)],
    image: &str,
) -> Option<DepsStep> {
    let deps = task.python.as_ref()?;
    let (dir, staging) = if deps.cache {
        let dir = ctx
            .work_root
            .join(".cache/python")
            .join(cache_key(image, deps));
        let staging = Utf8PathBuf::from(format!(
            "{dir}.staging-{}-{task_id}-{}",
            ctx.execution_id, ctx.attempt
        ));
        (dir, staging)
    } else {
        let dir = Utf8PathBuf::from(format!("{}.python", ctx.workdir(task_id)));
        (dir.clone(), Utf8PathBuf::from(format!("{dir}.staging")))
    };
    let r = &task.runner;
    let mut c = ec::create(global, Step::Install, false);
    c.opt("--name", format!("{}-deps", ctx.container_name(task_id)));
    for (k, v) in labels {
        c.opt("--label", format!("{k}={v}"));
    }
    c.arg("--rm");
    c.arg(match r.pull_policy {
        crate::flow::model::PullPolicy::IfNotPresent => "--pull=missing",
        crate::flow::model::PullPolicy::Always => "--pull=always",
        crate::flow::model::PullPolicy::Never => "--pull=never",
    });
    // The index is reached as the task would reach it.
    if let Some(n) = &r.network_mode {
        c.opt("--network", n);
    }
    for h in &r.extra_hosts {
        c.opt("--add-host", h);
    }
    c.opt("--volume", format!("{staging}:{MOUNT}"));
    c.opt("--env", format!("DOCKHAND_TARGET={MOUNT}"));
    // The task's environment (an index URL, pip's options), less what holds a secret: the
    // engine records a container's environment.
    for (name, value) in &task.env {
        if ctx
            .secrets
            .iter()
            .any(|s| !s.expose().is_empty() && value.contains(s.expose()))
            || crate::client_env::client_reads(name)
        {
            continue;
        }
        c.opt("--env", name.as_str());
        c.env.push((name.clone(), Secret::new(value.clone())));
    }
    c.arg("--entrypoint=");
    c.arg(image);
    c.args(["/bin/sh", "-c", INSTALL, "sh"]);
    c.arg(if deps.uv { "uv" } else { "pip" });
    c.arg(deps.version.clone().unwrap_or_default());
    c.args(deps.requirements.iter().cloned());
    c.notes.push(format!(
        "python dependencies: installed into {dir} {}, then mounted read-only at {MOUNT} (PYTHONPATH)",
        if deps.cache {
            "once for this image and requirement set (skipped while it has .complete)"
        } else {
            "for this run (dependencyCacheEnabled: false)"
        }
    ));
    Some(DepsStep {
        dir,
        staging,
        reuse: deps.cache,
        install: c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(reqs: &[&str]) -> PythonDeps {
        PythonDeps {
            requirements: reqs.iter().map(|s| s.to_string()).collect(),
            uv: true,
            version: None,
            cache: true,
        }
    }

    /// One directory per image and requirement set, whatever the order; another image, manager,
    /// version or requirement is another directory.
    #[test]
    fn the_key_is_the_image_and_the_requirement_set() {
        let k = cache_key("python:3.13-slim", &deps(&["a==1", "b"]));
        assert_eq!(k, cache_key("python:3.13-slim", &deps(&["b", "a==1"])));
        assert_eq!(k.len(), 24);
        for other in [
            cache_key("python:3.12-slim", &deps(&["a==1", "b"])),
            cache_key("python:3.13-slim", &deps(&["a==2", "b"])),
            cache_key("python:3.13-slim", &deps(&["a==1"])),
            cache_key(
                "python:3.13-slim",
                &PythonDeps {
                    uv: false,
                    ..deps(&["a==1", "b"])
                },
            ),
            cache_key(
                "python:3.13-slim",
                &PythonDeps {
                    version: Some("3.13".into()),
                    ..deps(&["a==1", "b"])
                },
            ),
        ] {
            assert_ne!(k, other);
        }
    }
}
