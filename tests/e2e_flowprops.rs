//! End-to-end tests of the flow-level properties on Docker and on Podman (`NAME::docker`,
//! `NAME::podman`): `pluginDefaults` reaching the container (`inspect`), flow `outputs` in the
//! `--json` result and the summary, and an output that cannot be rendered failing the run.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_flowprops

#[macro_use]
mod common;

use common::IMAGE;

// ------------------------------------------------------------------------ pluginDefaults

e2e_test!(plugin_defaults_reach_the_container, |cx| {
    let f = cx.flow(
        "defaults",
        &format!(
            r#"id: defaults
namespace: tests.e2e
pluginDefaults:
  - type: io.kestra.plugin.scripts.shell.Commands
    values:
      containerImage: {IMAGE}
      env: {{FROM_DEFAULT: default-value, SHARED: default}}
  - type: io.kestra.plugin.scripts.runner.docker.Docker
    forced: true
    values:
      delete: false
tasks:
  - id: plain
    type: io.kestra.plugin.scripts.shell.Commands
    env: {{SHARED: task}}
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      delete: true
    commands:
      - echo "$FROM_DEFAULT $SHARED"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert!(
        run.stderr
            .lines()
            .any(|l| l == "plain | default-value task"),
        "the defaults' env did not reach the command\n{}",
        run.dump()
    );
    // The forced `delete: false` won over the task's own `delete: true`: the container is
    // kept, with the default's image and env.
    let i = cx.eng.inspect(&cx.container("plain"));
    let env: Vec<String> = i["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        env.contains(&"FROM_DEFAULT=default-value".to_string()),
        "{env:?}"
    );
    assert!(env.contains(&"SHARED=task".to_string()), "{env:?}");
    let image = i["Config"]["Image"].as_str().unwrap();
    assert!(image.contains("busybox"), "image {image}");
    cx.eng.remove(&[cx.container("plain")]);
});

// --------------------------------------------------------------------------- flow outputs

e2e_test!(flow_outputs_are_typed_in_the_result, |cx| {
    let f = cx.flow(
        "outputs",
        &format!(
            r#"id: outputs
namespace: tests.e2e
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - 'echo "::{{\"outputs\":{{\"n\":41,\"word\":\"hi\"}}}}::"'
outputs:
  - id: count
    type: INT
    value: "{{{{ outputs.produce.vars.n + 1 }}}}"
  - id: greeting
    type: STRING
    value: "{{{{ outputs.produce.vars.word }}}} there"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(run.json["outputs"]["count"], 42, "{}", run.dump());
    assert_eq!(run.json["outputs"]["greeting"], "hi there");
    // The summary (without --json) lists them too.
    let mut args = cx.run_args(&f, &[]);
    args.retain(|a| a != "--json");
    args[5] = format!("{}-table", cx.id);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let table = cx.dockhand(&a, &[]);
    table.assert_code(0);
    assert!(
        table.stderr.lines().any(|l| l == "output count = 42"),
        "{}",
        table.dump()
    );
});

e2e_test!(an_output_that_cannot_be_typed_fails_the_execution, |cx| {
    let f = cx.flow(
        "bad-output",
        &format!(
            r#"id: bad-output
namespace: tests.e2e
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - 'echo "::{{\"outputs\":{{\"word\":\"many\"}}}}::"'
outputs:
  - id: count
    type: INT
    value: "{{{{ outputs.produce.vars.word }}}}"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    assert_eq!(run.json["state"], "FAILED", "{}", run.dump());
    assert_eq!(run.task("produce")["state"], "SUCCESS");
    let e = run.json["error"].as_str().unwrap_or_default();
    assert!(
        e.contains("output `count`") && e.contains("not a valid INT"),
        "{e}"
    );
});
