//! End-to-end test of `errorLogs()` (README, "Pebble expressions") on Docker and Podman: a
//! container task writes to stderr and fails; the flow's `errors` handler reads the execution's
//! ERROR entries. As in Kestra, the failure is one (ERROR) and the stderr lines are not (Kestra
//! logs a container's stderr at WARN). A container handler reads them too: its command is
//! rendered when it runs.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_error_logs -- --test-threads 2

#[macro_use]
mod common;

use common::IMAGE;

e2e_test!(error_logs_name_the_failed_container_task, |cx| {
    let f = cx.flow(
        "errlogs",
        &format!(
            r#"id: errlogs
namespace: e2e.tests
tasks:
  - id: build
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - echo compiling
      - echo "ERROR cannot find libfoo" >&2
      - exit 3
errors:
  - id: notify
    type: io.kestra.plugin.core.log.Log
    message:
      - "count {{{{ errorLogs() | length }}}}"
      - "{{% for e in errorLogs() %}}{{{{ e.taskId }}}} {{{{ e.level }}}} {{{{ e.message }}}}{{% endfor %}}"
  - id: tell
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    commands:
      - "echo n={{{{ errorLogs() | length }}}} {{{{ errorLogs()[0].taskId }}}}: {{{{ errorLogs()[0].message }}}}"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    assert_eq!(run.task("build")["state"], "FAILED", "{}", run.dump());
    assert_eq!(run.task("notify")["state"], "SUCCESS", "{}", run.dump());
    // The stderr line was printed and kept, but it is not an ERROR entry.
    assert_eq!(run.logs("build", '!'), ["ERROR cannot find libfoo"]);
    assert_eq!(
        run.logs("notify", '|'),
        ["count 1", "build ERROR command failed with exit code 3"],
        "{}",
        run.dump()
    );
    // A container handler's command is rendered when it runs, not when the flow is planned.
    assert_eq!(run.task("tell")["state"], "SUCCESS", "{}", run.dump());
    assert_eq!(
        run.logs("tell", '|'),
        ["n=1 build: command failed with exit code 3"],
        "{}",
        run.dump()
    );
    cx.assert_no_containers();
});
