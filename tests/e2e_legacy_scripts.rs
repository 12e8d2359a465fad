//! End-to-end tests of Kestra's pre-0.16 script tasks (`io.kestra.core.tasks.scripts.Bash`,
//! `.Python`, `.Node`) on Docker and Podman (`NAME::docker`, `NAME::podman`), through the
//! built binary: Bash on the host (Kestra's default `runner: PROCESS`) with output files and
//! directories by key, Python in a container (`runner: DOCKER`) with its virtual environment,
//! `args`, the `kestra` helper and an input file read by its `kestra://` URI, Node in a
//! container with the `kestra` helper and `args`, and `exitOnFailed` both ways.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_legacy_scripts

#[macro_use]
mod common;

use serde_json::{Value, json};

fn stored_names(t: &Value) -> Vec<String> {
    let mut v: Vec<String> = t["storedFiles"]
        .as_array()
        .unwrap_or_else(|| panic!("no storedFiles in {t:#}"))
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

e2e_test!(legacy_script_tasks_run_as_kestra_ran_them, |cx| {
    let f = cx.flow(
        "legacy",
        r#"id: legacy
namespace: e2e.legacy
tasks:
  - id: bash
    type: io.kestra.core.tasks.scripts.Bash
    outputFiles: [first]
    outputDirs: [rep]
    commands:
      - echo 1 >> {{ outputFiles.first }}
      - echo hi > {{ outputDirs.rep }}/a.txt
      - echo '::{"outputs":{"k":"v"}}::'
  - id: py
    type: io.kestra.core.tasks.scripts.Python
    runner: DOCKER
    dockerOptions:
      image: python:3.13-slim
      pullPolicy: NEVER
    pythonPath: python3
    args: [data.csv]
    outputFiles: [res]
    inputFiles:
      data.csv: "{{ outputs.bash.outputFiles.first }}"
      main.py: |
        import sys
        from kestra import Kestra
        text = open(sys.argv[1]).read()
        open("{{ outputFiles.res }}", "w").write(text.upper() + "py")
        Kestra.outputs({"data": text, "venv": sys.prefix == "{{ workingDir }}"})
  - id: node
    type: io.kestra.core.tasks.scripts.Node
    runner: DOCKER
    dockerOptions:
      image: node
      pullPolicy: NEVER
    args: [x, y]
    inputFiles:
      main.js: |
        const Kestra = require("./kestra");
        Kestra.outputs({args: process.argv.slice(2)});
  - id: strict
    type: io.kestra.core.tasks.scripts.Bash
    allowFailure: true
    commands:
      - "false"
      - echo after-strict
  - id: lenient
    type: io.kestra.core.tasks.scripts.Bash
    exitOnFailed: false
    commands:
      - "false"
      - echo after-lenient
"#,
    );
    let run = cx.run(&f);
    run.assert_code(0);

    let bash = run.task("bash");
    assert_eq!(bash["state"], "SUCCESS", "{}", run.dump());
    assert_eq!(
        bash["container"],
        Value::Null,
        "Bash runs on the host by default"
    );
    assert_eq!(bash["outputs"], json!({"k": "v"}));
    assert_eq!(stored_names(&bash), vec!["first", "rep/a.txt"]);

    let py = run.task("py");
    assert_eq!(py["state"], "SUCCESS", "{}", run.dump());
    assert!(
        py["container"].is_string(),
        "Python runs in a container: {py:#}"
    );
    // The input file came by its kestra:// URI; the script ran in the venv `./bin/python`.
    assert_eq!(
        py["outputs"],
        json!({"data": "1\n", "venv": true}),
        "{}",
        run.dump()
    );
    assert_eq!(stored_names(&py), vec!["res"]);
    let res = py["storedFiles"][0]["path"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(res).unwrap(), "1\npy");

    let node = run.task("node");
    assert_eq!(node["state"], "SUCCESS", "{}", run.dump());
    assert_eq!(node["outputs"], json!({"args": ["x", "y"]}));

    // exitOnFailed (default true): `set -o errexit`, the first failure ends the script.
    let strict = run.task("strict");
    assert_eq!(strict["state"], "WARNING", "{}", run.dump());
    assert_eq!(strict["exitCode"], 1);
    assert!(run.logs("strict", '|').is_empty(), "{}", run.dump());
    let lenient = run.task("lenient");
    assert_eq!(lenient["state"], "SUCCESS", "{}", run.dump());
    assert_eq!(run.logs("lenient", '|'), vec!["after-lenient"]);
});
