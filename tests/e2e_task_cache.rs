//! End-to-end tests of `taskCache` on Docker and on Podman (`NAME::docker`, `NAME::podman`):
//! a second execution of the same task takes the cached result (no container is created: the
//! task keeps its container with `delete: false`, and there is none; its journal has no task
//! start), restores its output file and outputs for the next task, and `plan` says it would
//! hit; a changed input misses and runs.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_task_cache

#[macro_use]
mod common;

use common::IMAGE;

/// The flow: `make` (cached, its container kept) writes a random line to `out.txt` and gives
/// an output; `read` (not cached) prints the file it gets from `make`.
fn cache_flow(cx: &common::Ctx) -> std::path::PathBuf {
    cx.flow(
        "cache",
        &format!(
            r#"id: cache
namespace: e2e.tests
inputs:
  - id: word
    type: STRING
    defaults: one
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    taskCache:
      enabled: true
      ttl: PT1H
    outputFiles: [out.txt]
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
      delete: false
    commands:
      - echo "{{{{ inputs.word }}}} $(cat /proc/sys/kernel/random/uuid)" > out.txt
      - echo '::{{"outputs":{{"word":"{{{{ inputs.word }}}}"}}}}::'
  - id: read
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
    inputFiles:
      in.txt: "{{{{ outputs.make.outputFiles['out.txt'] }}}}"
    commands:
      - cat in.txt
      - echo "word={{{{ outputs.make.vars.word }}}}"
"#
        ),
    )
}

/// The journal lines of execution `id` that record a task start.
fn task_starts(cx: &common::Ctx, id: &str) -> Vec<String> {
    let j = cx
        .tmp
        .path()
        .join("state/executions")
        .join(format!("{id}.jsonl"));
    std::fs::read_to_string(&j)
        .unwrap_or_else(|e| panic!("{}: {e}", j.display()))
        .lines()
        .filter(|l| l.contains(r#""t":"task_start""#))
        .map(str::to_string)
        .collect()
}

e2e_test!(a_second_run_takes_the_cached_result, |cx| {
    let f = cache_flow(cx);
    let (first, second, third) = (
        cx.id.clone(),
        format!("{}-2", cx.id),
        format!("{}-3", cx.id),
    );

    let r1 = cx.run_as(&f, &first, &[]);
    r1.assert_code(0);
    let made = r1.logs("read", '|');
    assert_eq!(made.len(), 2, "{}", r1.dump());
    assert!(made[0].starts_with("one "), "{}", r1.dump());
    assert_eq!(made[1], "word=one");
    assert_eq!(r1.task("make").get("cached"), None, "{}", r1.dump());
    // Its container was kept (delete: false): a run makes one.
    assert_eq!(
        cx.eng.containers_of(&first),
        vec![format!("dh-{first}-make-1")]
    );

    // `plan` sees the entry.
    let p = cx.dockhand(&["plan", f.to_str().unwrap(), "--engine", cx.eng.name], &[]);
    p.assert_code(0);
    assert!(
        p.stdout
            .contains("# task make: taskCache: would hit (result of execution"),
        "{}",
        p.dump()
    );

    // The second execution: no container for `make`, its file and output restored.
    let r2 = cx.run_as(&f, &second, &[]);
    r2.assert_code(0);
    let t = r2.task("make");
    assert_eq!(t["cached"], true, "{}", r2.dump());
    assert_eq!(t["state"], "SUCCESS");
    assert_eq!(t["outputs"]["word"], "one");
    assert_eq!(t["container"], serde_json::Value::Null);
    assert!(
        t["message"]
            .as_str()
            .unwrap()
            .contains(&format!("execution {first}")),
        "{}",
        r2.dump()
    );
    assert_eq!(
        r2.logs("read", '|'),
        made,
        "the restored file is the first run's"
    );
    assert_eq!(
        std::fs::read_to_string(cx.work().join(&second).join("make/out.txt")).unwrap(),
        format!("{}\n", made[0])
    );
    assert!(
        cx.eng.containers_of(&second).is_empty(),
        "a container was made for the cached task"
    );
    let starts = task_starts(cx, &second);
    assert!(
        !starts.iter().any(|l| l.contains(r#""task":"make""#)),
        "{starts:?}"
    );
    assert!(starts.iter().any(|l| l.contains(r#""task":"read""#)));
    assert!(
        r2.stderr.contains("cached: result of execution"),
        "{}",
        r2.dump()
    );

    // Another input renders another task: a miss, and a container.
    let r3 = cx.run_as(&f, &third, &["--input", "word=two"]);
    r3.assert_code(0);
    assert_eq!(r3.task("make").get("cached"), None);
    assert!(r3.logs("read", '|')[0].starts_with("two "));
    assert_eq!(
        cx.eng.containers_of(&third),
        vec![format!("dh-{third}-make-1")]
    );

    for id in [&first, &third] {
        cx.eng.remove(&cx.eng.containers_of(id));
    }
});

/// Removes the test's own image tag (the image stays: other tags name it).
struct Tag<'a>(&'a common::Engine, String);

impl Drop for Tag<'_> {
    fn drop(&mut self) {
        let _ = self.0.cli(&["rmi", &self.1]);
    }
}

e2e_test!(a_moved_image_tag_misses_the_cache, |cx| {
    // A tag of this test's own, first on the busybox image, then on another image.
    let name = format!("dockhand-cache-{}:1", common::random_hex(4));
    let tag = Tag(&cx.eng, name.clone());
    let retag = |from: &str| {
        let out = cx.eng.cli(&["tag", from, &tag.1]);
        assert!(out.ok(), "{} tag {from}: {}", cx.eng.name, out.stderr);
    };
    retag("dockhand-test/busybox");
    let f = cx.flow(
        "moved",
        &format!(
            r#"id: moved
namespace: e2e.tests
tasks:
  - id: where
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {name}
    taskCache:
      enabled: true
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
    commands:
      - if command -v git >/dev/null; then echo git-image; else echo busybox-image; fi
"#
        ),
    );
    let (first, second, third) = (
        cx.id.clone(),
        format!("{}-2", cx.id),
        format!("{}-3", cx.id),
    );
    let r = cx.run_as(&f, &first, &[]);
    r.assert_code(0);
    assert_eq!(r.logs("where", '|'), ["busybox-image"], "{}", r.dump());
    // Same tag, same image: a hit.
    let r = cx.run_as(&f, &second, &[]);
    r.assert_code(0);
    assert_eq!(r.task("where")["cached"], true, "{}", r.dump());
    // The tag now names another image: the entry is not used, the task runs in the new one.
    retag("dockhand-test/git");
    let r = cx.run_as(&f, &third, &[]);
    r.assert_code(0);
    assert_eq!(r.task("where").get("cached"), None, "{}", r.dump());
    assert_eq!(r.logs("where", '|'), ["git-image"], "{}", r.dump());
    assert!(
        r.stderr
            .contains("where: cached result not used (the image changed): running"),
        "{}",
        r.dump()
    );
    drop(tag);
});

e2e_test!(an_expired_entry_runs_the_task_again, |cx| {
    let f = cx.flow(
        "ttl",
        &format!(
            r#"id: ttl
namespace: e2e.tests
tasks:
  - id: stamp
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    taskCache:
      enabled: true
      ttl: PT2S
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      pullPolicy: NEVER
    commands:
      - echo '::{{"outputs":{{"id":"'$(cat /proc/sys/kernel/random/uuid)'"}}}}::'
"#
        ),
    );
    let id = |n: u32| format!("{}-{n}", cx.id);
    let first = cx.run_as(&f, &id(1), &[]);
    first.assert_code(0);
    let made = first.task("stamp")["outputs"]["id"].clone();
    assert!(made.is_string(), "{}", first.dump());
    let hit = cx.run_as(&f, &id(2), &[]);
    assert_eq!(hit.task("stamp")["cached"], true, "{}", hit.dump());
    assert_eq!(hit.task("stamp")["outputs"]["id"], made);
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let after = cx.run_as(&f, &id(3), &[]);
    after.assert_code(0);
    assert_eq!(after.task("stamp").get("cached"), None, "{}", after.dump());
    assert_ne!(after.task("stamp")["outputs"]["id"], made);
    assert!(
        after
            .stderr
            .contains("stamp: cached result expired (ttl): running"),
        "{}",
        after.dump()
    );
});
