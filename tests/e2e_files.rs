//! End-to-end tests of files between tasks on Docker and Podman (`NAME::docker`,
//! `NAME::podman`): an output file reaching a later task by its `kestra://` URI (each ForEach
//! run's its own), a WorkingDirectory whose tasks (copied and mounted, and one on the host)
//! share one directory, and namespace files reaching a task. Through the built binary, asserting on logs, the
//! `--json` result and files on the host.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_files

#[macro_use]
mod common;

use common::IMAGE;
use serde_json::Value;

/// A Docker `taskRunner` (never pulling) for a task whose properties are indented by `pad`
/// spaces; `extra` are more runner properties, one per line.
fn runner_at(pad: usize, extra: &[&str]) -> String {
    let inner = " ".repeat(pad + 2);
    let mut s = format!(
        "taskRunner:\n{inner}type: io.kestra.plugin.scripts.runner.docker.Docker\n{inner}pullPolicy: NEVER"
    );
    for e in extra {
        s.push_str(&format!("\n{inner}{e}"));
    }
    s
}

fn runner(extra: &str) -> String {
    assert!(extra.is_empty());
    runner_at(4, &[])
}

fn stored(t: &Value) -> Vec<(String, String, String)> {
    t["storedFiles"]
        .as_array()
        .unwrap_or_else(|| panic!("no storedFiles in {t:#}"))
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["uri"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

e2e_test!(an_output_file_reaches_a_later_task_by_its_uri, |cx| {
    let r = runner("");
    let f = cx.flow(
        "files",
        &format!(
            r#"id: files
namespace: dev.files
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    {r}
    outputFiles:
      - x.txt
      - "sub/*.csv"
    commands:
      - echo "written by a" > x.txt
      - mkdir -p sub && echo "1,2" > sub/y.csv
  - id: b
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    {r}
    inputFiles:
      in.txt: "{{{{ outputs.a.outputFiles['x.txt'] }}}}"
      data/y.csv: "{{{{ outputs.a.outputFiles['sub/y.csv'] }}}}"
    commands:
      - echo "b read $(cat in.txt) and $(cat data/y.csv)"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(
        run.logs("b", '|'),
        vec!["b read written by a and 1,2".to_string()],
        "{}",
        run.dump()
    );
    let a = run.task("a");
    let files = stored(&a);
    assert_eq!(files.len(), 2, "{a:#}");
    for (name, uri, path) in &files {
        assert_eq!(
            uri,
            &format!(
                "kestra:///dev/files/files/executions/{}/tasks/a/1/{name}",
                cx.id
            )
        );
        assert!(
            path.ends_with(&format!(
                "storage/dev/files/files/executions/{}/tasks/a/1/{name}",
                cx.id
            )),
            "{path}"
        );
    }
    let content = |name: &str| {
        let (_, _, path) = files.iter().find(|f| f.0 == name).unwrap();
        std::fs::read_to_string(path).unwrap()
    };
    assert_eq!(content("x.txt"), "written by a\n");
    assert_eq!(content("sub/y.csv"), "1,2\n");
    cx.assert_no_containers();
});

// Inside a ForEach, each run's output files are its own: stored under a URI naming the run
// (`tasks/w.1/1/out.txt`), read by a later task through `outputs.w['VALUE'].outputFiles`.
e2e_test!(each_foreach_run_keeps_its_own_output_files, |cx| {
    let r = runner_at(8, &[]);
    let f = cx.flow(
        "perrun",
        &format!(
            r#"id: perrun
namespace: dev.files
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    tasks:
      - id: w
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: {IMAGE}
        {r}
        outputFiles: [out.txt]
        commands:
          - echo "written for {{{{ taskrun.value }}}}" > out.txt
  - id: read
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    {runner}
    inputFiles:
      a.txt: "{{{{ outputs.w['a'].outputFiles['out.txt'] }}}}"
      c.txt: "{{{{ outputs.w['c'].outputFiles['out.txt'] }}}}"
    commands:
      - cat a.txt c.txt
"#,
            runner = runner("")
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(
        run.logs("read", '|'),
        vec!["written for a", "written for c"],
        "{}",
        run.dump()
    );
    let runs: Vec<Value> = run.tasks().into_iter().filter(|t| t["id"] == "w").collect();
    assert_eq!(runs.len(), 3, "{}", run.dump());
    for (n, t) in runs.iter().enumerate() {
        let files = stored(t);
        assert_eq!(files.len(), 1, "{t:#}");
        let (_, uri, path) = &files[0];
        let id = &cx.id;
        assert_eq!(
            uri,
            &format!("kestra:///dev/files/perrun/executions/{id}/tasks/w.{n}/1/out.txt")
        );
        let value = t["values"][0].as_str().unwrap();
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            format!("written for {value}\n")
        );
    }
    cx.assert_no_containers();
});

e2e_test!(a_working_directory_shares_one_directory, |cx| {
    let volume = runner_at(8, &[]);
    let mount = runner_at(8, &["fileHandlingStrategy: MOUNT"]);
    let f = cx.flow(
        "wdir",
        &format!(
            r#"id: wdir
namespace: dev.files
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      seed.txt: "seed of {{{{ flow.id }}}}"
    outputFiles:
      - result.txt
    tasks:
      - id: copied
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: {IMAGE}
        {volume}
        commands:
          - cat seed.txt > one.txt
          - echo "+copied" >> one.txt
      - id: mounted
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: {IMAGE}
        {mount}
        commands:
          - cat one.txt > two.txt
          - echo "+mounted" >> two.txt
      - id: host
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - cat two.txt > three.txt
          - echo "+host" >> three.txt
      - id: last
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: {IMAGE}
        {volume}
        commands:
          - cat three.txt > result.txt
          - echo "+last" >> result.txt
          - cat result.txt
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(
        run.logs("last", '|'),
        // seed.txt has no line break of its own.
        vec!["seed of wdir+copied", "+mounted", "+host", "+last"],
        "{}",
        run.dump()
    );
    let wd = run.task("wd");
    assert_eq!(wd["state"], "SUCCESS", "{wd:#}");
    let dir = cx.workdir("wd");
    assert_eq!(
        wd["outputFiles"],
        serde_json::json!([dir.join("result.txt").display().to_string()])
    );
    let files = stored(&wd);
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].1,
        format!(
            "kestra:///dev/files/wdir/executions/{}/tasks/wd/1/result.txt",
            cx.id
        )
    );
    // Pruned to the output files once the children are done.
    assert!(dir.join("result.txt").exists());
    for gone in ["seed.txt", "one.txt", "two.txt", "three.txt"] {
        assert!(!dir.join(gone).exists(), "{gone} left in {}", dir.display());
    }
    // No child had a directory of its own.
    assert!(!cx.workdir("copied").exists());
    cx.assert_no_containers();
});

e2e_test!(namespace_files_reach_a_task, |cx| {
    // `_files/<namespace>/` next to the flow file, the default.
    let flows = cx.tmp.path().join("flows");
    let ns = flows.join("_files/dev.files/sql");
    std::fs::create_dir_all(&ns).unwrap();
    std::fs::write(ns.join("q.sql"), "SELECT 42").unwrap();
    let r = runner("");
    let f = cx.flow(
        "nsfiles",
        &format!(
            r#"id: nsfiles
namespace: dev.files
tasks:
  - id: t
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    {r}
    inputFiles:
      query.sql: nsfile:///sql/q.sql
    commands:
      - echo "file=$(cat query.sql)"
      - echo "read={{{{ read('sql/q.sql') }}}}"
  - id: with_ns
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {IMAGE}
    {r}
    namespaceFiles:
      enabled: true
      include: ["sql/**"]
    commands:
      - echo "ns=$(cat sql/q.sql)"
"#
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert_eq!(
        run.logs("t", '|'),
        vec!["file=SELECT 42", "read=SELECT 42"],
        "{}",
        run.dump()
    );
    assert_eq!(
        run.logs("with_ns", '|'),
        vec!["ns=SELECT 42"],
        "{}",
        run.dump()
    );
    // Elsewhere, given by --namespace-files or $DOCKHAND_NAMESPACE_FILES.
    let other = cx.tmp.path().join("elsewhere");
    std::fs::create_dir_all(other.join("dev.files/sql")).unwrap();
    std::fs::write(other.join("dev.files/sql/q.sql"), "SELECT 7").unwrap();
    // Run 2 names it with --namespace-files, run 3 with $DOCKHAND_NAMESPACE_FILES.
    let again = |n: u32| {
        let dir = other.to_str().unwrap();
        let flag: &[&str] = if n == 2 {
            &["--namespace-files", dir]
        } else {
            &[]
        };
        let args: Vec<String> = cx
            .run_args(&f, flag)
            .into_iter()
            .map(|a| {
                if a == cx.id {
                    format!("{}-{n}", cx.id)
                } else {
                    a
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: &[(&str, &str)] = if n == 2 {
            &[]
        } else {
            &[("DOCKHAND_NAMESPACE_FILES", dir)]
        };
        cx.dockhand(&args, env)
    };
    let run = again(2);
    run.assert_code(0);
    assert_eq!(
        run.logs("t", '|'),
        vec!["file=SELECT 7", "read=SELECT 7"],
        "{}",
        run.dump()
    );
    assert_eq!(
        run.logs("with_ns", '|'),
        vec!["ns=SELECT 7"],
        "{}",
        run.dump()
    );
    // A file that is not there: `read()` is answered before the run starts (as `secret()` is),
    // so the run stops there, exit 2, naming the task and the file.
    std::fs::remove_file(other.join("dev.files/sql/q.sql")).unwrap();
    let run = again(3);
    run.assert_code(2);
    assert!(
        run.stderr.contains("`tasks[0]`: sql/q.sql") && run.stderr.contains("dev.files/sql/q.sql"),
        "{}",
        run.dump()
    );
    assert!(run.json.is_null(), "nothing ran\n{}", run.dump());
    cx.assert_no_containers();
});
