//! End-to-end tests of the container tasks of `src/flow/spec/tasks_container.rs` on Docker and
//! Podman: docker Run (its `commands` are the container's argv, its runner options its own
//! properties), git Clone (a local bare repository, cloned by `git` in the git image), and a
//! CLI task (its property → env mapping reaching the container).
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_container_tasks

#[macro_use]
mod common;

use common::{IMAGE, flow};

// ------------------------------------------------------------------------------ docker Run

// docker Run's commands are the container's argv, not a shell line: `$HOME`, quotes and two
// spaces reach `echo` as written. Its env and files work as a script task's; the old name
// `io.kestra.plugin.docker.Run` runs the same.
e2e_test!(docker_run_commands_are_argv, |cx| {
    let task = |id: &str, ty: &str| {
        format!(
            "- id: {id}\n  type: {ty}\n  containerImage: {IMAGE}\n  pullPolicy: NEVER\n  networkMode: none\n  env:\n    WHO: argv\n  outputFiles:\n    - out.txt\n  commands:\n    - sh\n    - -c\n    - 'echo \"$WHO:$0:$1\" > out.txt; cat out.txt; echo \"$1\"'\n    - \"two  spaces $HOME\"\n    - \"'quoted'\"\n"
        )
    };
    let f = cx.flow(
        "run",
        &flow(
            "run",
            &[
                task("new", "io.kestra.plugin.docker.cli.Run"),
                task("old", "io.kestra.plugin.docker.Run"),
            ],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    for id in ["new", "old"] {
        let t = run.task(id);
        assert_eq!(t["state"], "SUCCESS", "{t:#}\n{}", run.dump());
        assert_eq!(
            run.logs(id, '|'),
            ["argv:two  spaces $HOME:'quoted'", "'quoted'"],
            "{}",
            run.dump()
        );
        let out = std::fs::read_to_string(cx.workdir(id).join("out.txt")).unwrap();
        assert_eq!(out, "argv:two  spaces $HOME:'quoted'\n");
    }
});

// A failing docker Run fails its task with the container's exit code.
e2e_test!(docker_run_exit_code, |cx| {
    let f = cx.flow(
        "fail",
        &flow(
            "fail",
            &[format!(
                "- id: fails\n  type: io.kestra.plugin.docker.cli.Run\n  containerImage: {IMAGE}\n  pullPolicy: NEVER\n  commands: [sh, -c, 'exit 7']\n"
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    let t = run.task("fails");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    assert_eq!(t["exitCode"], 7, "{t:#}");
});

// ------------------------------------------------------------------------------- CLI tasks

// TerraformCLI and GCloudCLI in the busybox image: the plugin's interpreter runs the commands
// after beforeCommands; GCloudCLI's `projectId` arrives as `CLOUDSDK_CORE_PROJECT` (a task's
// own env wins over a property's) and `serviceAccount` as a file of the working directory
// that `GOOGLE_APPLICATION_CREDENTIALS` names.
e2e_test!(cli_tasks_run_their_commands_with_their_env, |cx| {
    let runner = "  taskRunner:\n    type: io.kestra.plugin.scripts.runner.docker.Docker\n    pullPolicy: NEVER\n";
    let f = cx.flow(
        "cli",
        &flow(
            "cli",
            &[
                format!(
                    "- id: tf\n  type: io.kestra.plugin.terraform.cli.TerraformCLI\n  containerImage: {IMAGE}\n{runner}  beforeCommands:\n    - echo before\n  commands:\n    - echo terraform plan\n"
                ),
                format!(
                    "- id: gcloud\n  type: io.kestra.plugin.gcp.cli.GCloudCLI\n  containerImage: {IMAGE}\n{runner}  projectId: my-project\n  serviceAccount: '{{\"type\": \"service_account\"}}'\n  commands:\n    - echo \"project=$CLOUDSDK_CORE_PROJECT\"\n    - cat \"$GOOGLE_APPLICATION_CREDENTIALS\"; echo\n    - test \"$CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE\" = \"$GOOGLE_APPLICATION_CREDENTIALS\" && echo same\n"
                ),
                format!(
                    "- id: gcloud_env\n  type: io.kestra.plugin.gcp.cli.GCloudCLI\n  containerImage: {IMAGE}\n{runner}  projectId: from-property\n  env:\n    CLOUDSDK_CORE_PROJECT: from-env\n  commands:\n    - echo \"project=$CLOUDSDK_CORE_PROJECT\"\n"
                ),
            ],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(
        run.logs("tf", '|'),
        ["before", "terraform plan"],
        "{}",
        run.dump()
    );
    assert_eq!(
        run.logs("gcloud", '|'),
        [
            "project=my-project",
            "{\"type\": \"service_account\"}",
            "same"
        ],
        "{}",
        run.dump()
    );
    assert_eq!(
        run.logs("gcloud_env", '|'),
        ["project=from-env"],
        "{}",
        run.dump()
    );
});

// -------------------------------------------------------------------------------- git Clone

/// The git image of scripts/build-test-images.sh (Debian's git), never pulled.
const GIT_IMAGE: &str = "dockhand-test/git:latest";

/// The container command dockhand gives git Clone `props`, as it plans it.
fn clone_command(props: &str) -> Vec<String> {
    let text = format!(
        "id: c\nnamespace: e2e.tests\ntasks:\n  - id: clone\n    type: io.kestra.plugin.git.Clone\n{}",
        common::indent(props, 4)
    );
    let loaded = dockhand::flow::decode::load("clone.yaml", &text);
    let flow = loaded.flow.unwrap_or_else(|| panic!("{}", loaded.diags));
    let (_, script) = flow.scripts()[0];
    dockhand::plan::script::container_command(script)
}

// git Clone's commands, as dockhand plans them, run by real git in the git image on each engine
// against a local bare repository (mounted, no network): a branch into `directory`, a tag (full
// clone, then checkout), and a directory that is not empty (init + fetch + checkout, its files
// kept); each prints the `directory` output line.
e2e_test!(git_clone_commands_clone_a_local_repository, |cx| {
    let image = if cx.eng.name == "podman" {
        format!("localhost/{GIT_IMAGE}")
    } else {
        GIT_IMAGE.to_string()
    };
    assert!(
        cx.eng.cli(&["image", "inspect", &image]).ok(),
        "{} has no local {image}: run scripts/build-test-images.sh (nothing is pulled)",
        cx.eng.name
    );
    let t = cx.tmp.path().join("git");
    std::fs::create_dir_all(t.join("wd/kept")).unwrap();
    std::fs::write(t.join("wd/kept/mine.txt"), "mine\n").unwrap();
    let mount = format!("{}:/t", t.display());
    let sh = |workdir: &str, argv: &[String]| {
        let mut a: Vec<&str> = vec![
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &mount,
            "-w",
            workdir,
            "--entrypoint=",
        ];
        a.push(&image);
        a.extend(argv.iter().map(String::as_str));
        cx.eng.cli(&a)
    };
    let setup = sh(
        "/t",
        &[
            "sh".into(),
            "-c".into(),
            "set -e; git init -q --bare src.git; git init -q w; cd w; git config user.email t@e; git config user.name t; echo one > f.txt; git add f.txt; git commit -qm one; git tag v1; echo two > f.txt; git commit -qam two; git push -q ../src.git HEAD:refs/heads/main --tags".into(),
        ],
    );
    assert!(setup.ok(), "making the test repository: {}", setup.stderr);

    let out = sh(
        "/t/wd",
        &clone_command(
            "url: file:///t/src.git\nbranch: main\ndirectory: repo\ncloneAllBranches: false\n",
        ),
    );
    assert!(out.ok(), "clone: {}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(r#"::{"outputs":{"directory":"/t/wd/repo"}}::"#),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(t.join("wd/repo/f.txt")).unwrap(),
        "two\n"
    );

    let out = sh(
        "/t/wd",
        &clone_command("url: file:///t/src.git\ntag: v1\ndirectory: at-tag\n"),
    );
    assert!(out.ok(), "clone at a tag: {}{}", out.stdout, out.stderr);
    assert_eq!(
        std::fs::read_to_string(t.join("wd/at-tag/f.txt")).unwrap(),
        "one\n"
    );

    let out = sh(
        "/t/wd",
        &clone_command("url: file:///t/src.git\nbranch: main\ndirectory: kept\n"),
    );
    assert!(
        out.ok(),
        "clone into a directory with files: {}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(t.join("wd/kept/f.txt")).unwrap(),
        "two\n"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("wd/kept/mine.txt")).unwrap(),
        "mine\n"
    );

    let out = sh(
        "/t/wd",
        &clone_command("url: file:///t/absent.git\ndirectory: none\n"),
    );
    assert!(!out.ok(), "a clone of nothing must fail: {}", out.stdout);
});

// ----------------------------------------------------------------------------- docker Build

/// The local busybox test image, written as users write it on each engine (podman names a
/// local image `localhost/...`).
fn local_busybox(eng: &common::Engine) -> &'static str {
    if eng.name == "podman" {
        "localhost/dockhand-test/busybox"
    } else {
        "dockhand-test/busybox"
    }
}

/// The images a test builds, removed however it ends.
struct Built<'a>(&'a common::Engine, Vec<String>);

impl Drop for Built<'_> {
    fn drop(&mut self) {
        let mut a = vec!["rmi", "-f"];
        a.extend(self.1.iter().map(String::as_str));
        self.0.cli(&a);
    }
}

// docker Build of an inline Dockerfile whose FROM is a local image, written as users write it
// on each engine (`dockhand-test/busybox` on docker, `localhost/dockhand-test/busybox` on
// podman), with `pull: false`: no registry is asked. A build argument (its value off the
// command line) and an input file of the context reach the image; `imageId` is the image the
// engine made; a file Dockerfile (an input file) builds too; a bad Dockerfile fails the task.
e2e_test!(docker_build_from_a_local_image, |cx| {
    let from = local_busybox(&cx.eng);
    let tag = format!("dockhand-test/built:{}", cx.id.to_lowercase());
    let tag2 = format!("{tag}-file");
    let f = cx.flow(
        "build",
        &flow(
            "build",
            &[
                format!(
                    "- id: inline\n  type: io.kestra.plugin.docker.cli.Build\n  pull: false\n  tags: [\"{tag}\"]\n  buildArgs:\n    GREETING: \"hello {{{{ flow.id }}}}\"\n  labels:\n    io.dockhand.test: \"yes\"\n  inputFiles:\n    data.txt: from the context\n  dockerfile: |\n    FROM {from}\n    ARG GREETING\n    COPY data.txt /data.txt\n    RUN echo \"$GREETING\" > /greeting.txt\n"
                ),
                format!(
                    "- id: file\n  type: io.kestra.plugin.docker.Build\n  pull: false\n  tags: [\"{tag2}\"]\n  inputFiles:\n    Containerfile: |\n      FROM {from}\n      RUN echo file > /file.txt\n  dockerfile: Containerfile\n"
                ),
            ],
        ),
    );
    let _built = Built(
        &cx.eng,
        vec![tag.clone(), tag2.clone(), format!("{tag}-bad")],
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let id = run.task("inline")["outputs"]["imageId"]
        .as_str()
        .unwrap_or_else(|| panic!("no imageId\n{}", run.dump()))
        .to_string();
    let inspected = cx
        .eng
        .cli(&["image", "inspect", "--format", "{{.Id}}", &tag]);
    assert!(inspected.ok(), "{}", inspected.stderr);
    let want = inspected.stdout.trim().trim_start_matches("sha256:");
    assert_eq!(id.trim_start_matches("sha256:"), want, "{}", run.dump());
    let label = cx.eng.cli(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"io.dockhand.test\"}}",
        &tag,
    ]);
    assert_eq!(label.stdout.trim(), "yes");
    let shown = cx.eng.cli(&[
        "run",
        "--rm",
        "--pull=never",
        &tag,
        "cat",
        "/greeting.txt",
        "/data.txt",
    ]);
    assert_eq!(
        shown.stdout, "hello build\nfrom the context",
        "{}",
        shown.stderr
    );
    let shown = cx
        .eng
        .cli(&["run", "--rm", "--pull=never", &tag2, "cat", "/file.txt"]);
    assert_eq!(shown.stdout, "file\n", "{}", shown.stderr);

    let bad = cx.flow(
        "bad",
        &flow(
            "bad",
            &[format!(
                "- id: bad\n  type: io.kestra.plugin.docker.cli.Build\n  pull: false\n  tags: [\"{tag}-bad\"]\n  dockerfile: |\n    FROM {from}\n    RUN exit 3\n"
            )],
        ),
    );
    let id = format!("{}b", cx.id);
    let mut args = cx.run_args(&bad, &[]);
    let i = args.iter().position(|a| a == "--execution-id").unwrap();
    args[i + 1] = id;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cx.dockhand(&args, &[]);
    run.assert_code(1);
    assert_eq!(run.task("bad")["state"], "FAILED", "{}", run.dump());
});

// docker Build's `namespaceFiles` are in the build context, chosen by `include`/`exclude`; an
// input file of the same name wins over a namespace file, as Kestra's Build writes the input
// files after the namespace files.
e2e_test!(docker_build_context_holds_the_namespace_files, |cx| {
    let from = local_busybox(&cx.eng);
    let tag = format!("dockhand-test/built-ns:{}", cx.id.to_lowercase());
    let ns = cx.tmp.path().join("nsfiles");
    for (name, text) in [
        ("hello.sh", "echo hello from a namespace file\n"),
        ("shared.txt", "from the namespace\n"),
        ("skip.txt", "excluded\n"),
    ] {
        let p = ns.join("e2e.tests").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let f = cx.flow(
        "buildns",
        &flow(
            "buildns",
            &[format!(
                "- id: build\n  type: io.kestra.plugin.docker.cli.Build\n  pull: false\n  tags: [\"{tag}\"]\n  namespaceFiles:\n    enabled: true\n    exclude: [skip.txt]\n  inputFiles:\n    shared.txt: from inputFiles\n  dockerfile: |\n    FROM {from}\n    COPY . /ctx/\n"
            )],
        ),
    );
    let _built = Built(&cx.eng, vec![tag.clone()]);
    let nsarg = ns.display().to_string();
    let run = cx.run_with(&f, &["--namespace-files", &nsarg], &[]);
    run.assert_code(0);
    let shown = cx.eng.cli(&[
        "run",
        "--rm",
        "--pull=never",
        &tag,
        "sh",
        "-c",
        "ls /ctx; sh /ctx/hello.sh; cat /ctx/shared.txt",
    ]);
    assert_eq!(
        shown.stdout,
        "Dockerfile.dockhand\nhello.sh\nshared.txt\nhello from a namespace file\nfrom inputFiles",
        "{}\n{}",
        shown.stderr,
        run.dump()
    );
});

// DbtCLI's `storeManifest` and `loadManifest` on the local KV store, as plugin-dbt's DbtCLI.run:
// after the commands, `PROJECT_DIR/target/manifest.json` is stored (as JSON) under the key;
// before them, the entry is written back to that file; a missing entry is a warning.
e2e_test!(dbt_manifest_goes_to_the_kv_store_and_back, |cx| {
    let runner = "  taskRunner:\n    type: io.kestra.plugin.scripts.runner.docker.Docker\n    pullPolicy: NEVER\n";
    let kv = "    key: manifest.json\n    namespace: e2e.tests\n";
    let f = cx.flow(
        "dbt-kv",
        &flow(
            "dbt-kv",
            &[
                format!(
                    "- id: store\n  type: io.kestra.plugin.dbt.cli.DbtCLI\n  containerImage: {IMAGE}\n{runner}  projectDir: proj\n  storeManifest:\n{kv}  commands:\n    - mkdir -p proj/target\n    - echo '{{\"nodes\":{{\"model.a\":1}}}}' > proj/target/manifest.json\n"
                ),
                "- id: get\n  type: io.kestra.plugin.core.kv.Get\n  key: manifest.json\n".to_string(),
                format!(
                    "- id: load\n  type: io.kestra.plugin.dbt.cli.DbtCLI\n  containerImage: {IMAGE}\n{runner}  projectDir: proj\n  loadManifest:\n{kv}  commands:\n    - cat proj/target/manifest.json; echo\n"
                ),
                format!(
                    "- id: missing\n  type: io.kestra.plugin.dbt.cli.DbtCLI\n  containerImage: {IMAGE}\n{runner}  loadManifest:\n    key: nothing-here\n    namespace: e2e.tests\n  commands:\n    - test -e target/manifest.json || echo no manifest\n"
                ),
            ],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert!(
        run.stderr.contains(
            "store: stored proj/target/manifest.json as KV key manifest.json of namespace e2e.tests"
        ),
        "{}",
        run.dump()
    );
    assert_eq!(
        run.task("get")["outputs"]["value"],
        serde_json::json!({"nodes": {"model.a": 1}}),
        "{}",
        run.dump()
    );
    assert_eq!(
        run.logs("load", '|'),
        ["{\"nodes\":{\"model.a\":1}}"],
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("missing: warning: Property `loadManifest` has been used but no manifest has been found in the KV Store (key nothing-here of namespace e2e.tests)."),
        "{}",
        run.dump()
    );
    assert_eq!(run.logs("missing", '|'), ["no manifest"], "{}", run.dump());
});
