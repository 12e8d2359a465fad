//! The script languages Debian has no package for (julia, bun, deno, powershell, jbang, dotnet: no
//! local image, so no end-to-end test in `tests/e2e_languages.rs`) run through the real
//! `dockhand` binary against the fake engine (`tests/fake-engine/docker`), on both dialects:
//! per language, a Commands task without `containerImage` is run in Kestra's default image with
//! the language's interpreter and succeeds or fails with its command's exit code, and a Script
//! task's script goes into the container as `script.<ext>` and runs with the language's command.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use dockhand::flow::spec::LANGUAGES;
use serde_json::Value;

const NO_DEBIAN_PACKAGE: &[&str] = &["julia", "bun", "deno", "powershell", "jbang", "dotnet"];

/// Runs `flow` against the fake engine `engine` in the fake's `case`; its output and the
/// argument vectors of the engine calls it made.
fn run_fake(engine: &str, case: &str, flow: &str) -> (Output, Vec<Vec<String>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("flow.yaml"), flow).unwrap();
    let fake = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fake-engine")
        .join(engine);
    let out = Command::new(env!("CARGO_BIN_EXE_dockhand"))
        .arg("run")
        .arg(d.join("flow.yaml"))
        .arg("--engine")
        .arg(&fake)
        .arg("--work-dir")
        .arg(d.join("work"))
        .arg("--state-dir")
        .arg(d.join("state"))
        .args(["--json", "--wait-removal"])
        .env("FAKE_ENGINE_DIR", d)
        .env("FAKE_ENGINE_CASE", case)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKHAND_ENGINE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(d.join("calls"))
        .unwrap_or_default()
        .split('\x1e')
        .filter(|r| !r.is_empty())
        .map(|r| r.split('\x1f').map(str::to_string).collect())
        .collect();
    (out, calls, dir)
}

fn only_task(out: &Output) -> Value {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON result ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["tasks"][0].clone()
}

/// The call whose subcommand (after the global options) is `sub`.
fn call<'a>(calls: &'a [Vec<String>], sub: &str) -> &'a [String] {
    calls
        .iter()
        .find(|c| c.iter().any(|a| a == sub))
        .unwrap_or_else(|| panic!("no `{sub}` call in {calls:#?}"))
}

/// The argv after the image: what the container runs. Docker gets the default image as
/// written; Podman, which does not have it locally here, Docker Hub's qualified name of it
/// (`docker.io/library/julia`: see `exec::images`), or the name as written when it names its
/// registry.
fn after_image<'a>(engine: &str, argv: &'a [String], image: &str) -> &'a [String] {
    let full = dockhand::image::ImageRef::parse(image).unwrap().full_name();
    let last = image.rsplit('/').next().unwrap();
    let i = argv
        .iter()
        .position(|a| {
            a == image || (engine == "podman" && a.starts_with(&full) && a.ends_with(last))
        })
        .unwrap_or_else(|| panic!("{engine}: the default image {image} is not in {argv:?}"));
    &argv[i + 1..]
}

fn flow(lang: &str, kind: &str, body: &str) -> String {
    format!(
        "id: {lang}\nnamespace: tests.fake\ntasks:\n  - id: t\n    type: io.kestra.plugin.scripts.{lang}.{kind}\n{body}"
    )
}

#[test]
fn languages_without_a_debian_package_run_in_their_default_image() {
    for engine in ["docker", "podman"] {
        for l in LANGUAGES
            .iter()
            .filter(|l| NO_DEBIAN_PACKAGE.contains(&l.name))
        {
            let commands = flow(l.name, "Commands", "    commands:\n      - say hello\n");
            for (case, code, state) in [("ok", 0, "SUCCESS"), ("exit3", 3, "FAILED")] {
                let (out, calls, _dir) = run_fake(engine, case, &commands);
                let t = only_task(&out);
                assert_eq!(t["state"], state, "{engine} {} {case}: {t:#}", l.name);
                assert_eq!(t["exitCode"], code, "{engine} {} {case}: {t:#}", l.name);
                let mut want: Vec<String> = l.interpreter.iter().map(|s| s.to_string()).collect();
                want.push(format!("{}\nsay hello", l.fail_fast));
                assert_eq!(
                    after_image(engine, call(&calls, "run"), l.default_image),
                    want,
                    "{engine} {}: the interpreter and failFast line",
                    l.name
                );
            }

            let script = flow(l.name, "Script", "    script: say hello from a script\n");
            let (out, calls, dir) = run_fake(engine, "files", &script);
            let t = only_task(&out);
            assert_eq!(t["state"], "SUCCESS", "{engine} {}: {t:#}", l.name);
            let argv = after_image(engine, call(&calls, "create"), l.default_image);
            assert!(
                argv.last()
                    .is_some_and(|a| a.ends_with(&format!("\n{}", l.file.command))),
                "{engine} {}: the Script runs `{}`: {argv:?}",
                l.name,
                l.file.command
            );
            let tar = String::from_utf8_lossy(&std::fs::read(dir.path().join("in.tar")).unwrap())
                .into_owned();
            assert!(
                tar.contains(l.file.name) && tar.contains("say hello from a script"),
                "{engine} {}: {} with the script went into the container",
                l.name,
                l.file.name
            );
        }
    }
}

/// dotnet's Script installs `dotnet-script` first, before the task's own `beforeCommands`, as
/// Kestra's plugin does (`DOTNET_SCRIPT_INSTALL`), then runs the `.csx` file with it.
#[test]
fn dotnet_script_installs_dotnet_script_before_the_tasks_before_commands() {
    let dotnet = LANGUAGES.iter().find(|l| l.name == "dotnet").unwrap();
    for engine in ["docker", "podman"] {
        let script = flow(
            "dotnet",
            "Script",
            "    beforeCommands: [echo mine]\n    script: Console.WriteLine(1);\n",
        );
        let (out, calls, dir) = run_fake(engine, "files", &script);
        assert_eq!(only_task(&out)["state"], "SUCCESS", "{engine}");
        let argv = after_image(engine, call(&calls, "create"), dotnet.default_image);
        let want = "set -e\ndotnet tool install -g dotnet-script --ignore-failed-sources || true\nexport PATH=\"$PATH:$HOME/.dotnet/tools\"\necho mine\ndotnet-script script.csx";
        assert_eq!(argv.last().unwrap(), want, "{engine}: {argv:?}");
        let tar = String::from_utf8_lossy(&std::fs::read(dir.path().join("in.tar")).unwrap())
            .into_owned();
        assert!(
            tar.contains("script.csx") && tar.contains("Console.WriteLine(1);"),
            "{engine}"
        );
    }
}
