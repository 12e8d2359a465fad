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
