//! The `--json` documents of `validate`, `plan`, `executions` and `ps`, checked against their
//! JSON Schemas in docs/json/ (draft 2020-12) and against the same command's text output: the
//! same diagnostics, the same commands, no secret values.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = root().join("docs/json").join(format!("{name}.schema.json"));
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::draft202012::new(&s).unwrap()
}

fn conforms(name: &str, doc: &Value) {
    let v = schema(name);
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{doc:#}");
}

fn dockhand(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn files_in(dir: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

/// Every invalid fixture and every valid one, in one `validate --json`: the document conforms,
/// says which are valid, and holds exactly the diagnostics the text output prints.
#[test]
fn validate_json_has_every_diagnostic_of_the_text_output() {
    let mut files = files_in(&root().join("fixtures/invalid"), "yaml");
    let valid = files_in(&root().join("fixtures"), "yaml");
    assert!(files.len() > 10 && valid.len() > 10);
    files.extend(valid.iter().cloned());
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(String::as_str))
        .collect();
    let (code, text_out, text_err) = dockhand(&args, &[]);
    let mut json_args = args.clone();
    json_args.push("--json");
    let (json_code, out, err) = dockhand(&json_args, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(json_code, code, "{err}");
    assert_eq!(err, "", "with --json everything is on stdout");
    let doc: Value = serde_json::from_str(&out).unwrap();
    conforms("validate", &doc);
    let reported = doc["files"].as_array().unwrap();
    assert_eq!(reported.len(), files.len());
    let mut lines = Vec::new();
    for (f, r) in files.iter().zip(reported) {
        assert_eq!(r["file"], f.as_str());
        let ok = text_out.lines().any(|l| l == format!("ok {f}"));
        assert_eq!(r["valid"], ok, "{f}: {r:#}");
        for d in r["diagnostics"].as_array().unwrap() {
            let place = if d["line"] == 0 {
                format!("{}: ", d["file"].as_str().unwrap())
            } else {
                format!(
                    "{}:{}:{}: ",
                    d["file"].as_str().unwrap(),
                    d["line"],
                    d["column"]
                )
            };
            let prop = d["property"].as_str().unwrap();
            let prop = if prop.is_empty() {
                String::new()
            } else {
                format!("`{prop}`: ")
            };
            lines.push(format!(
                "{place}{}: {prop}{}",
                d["severity"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            ));
        }
    }
    let text: Vec<&str> = text_err.lines().collect();
    assert_eq!(
        lines, text,
        "the JSON diagnostics differ from the text ones"
    );
    assert!(
        reported.iter().filter(|r| r["valid"] == false).count() > 10,
        "the invalid fixtures are reported invalid"
    );
}

/// `plan --json` of every fixture on both dialects conforms, lists the tasks of the text plan
/// in its order, and its run command's argv is the text plan's run command.
#[test]
fn plan_json_matches_the_text_plan() {
    for f in files_in(&root().join("fixtures"), "yaml") {
        for engine in ["docker", "podman"] {
            let (code, text, _) = dockhand(&["plan", &f, "--engine", engine], &[]);
            if code != Some(0) {
                continue;
            }
            let (jcode, out, err) = dockhand(&["plan", &f, "--engine", engine, "--json"], &[]);
            assert_eq!(jcode, Some(0), "{f}: {err}");
            let doc: Value = serde_json::from_str(&out).unwrap();
            conforms("plan", &doc);
            assert_eq!(doc["engine"], engine);
            let ids: Vec<&str> = doc["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap())
                .collect();
            // Container and host tasks: an in-process (core) task has no commands to list.
            let lines: Vec<&str> = text.lines().collect();
            let text_ids: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    !lines
                        .get(i + 1)
                        .is_some_and(|n| n.starts_with("# in process"))
                })
                .filter_map(|(_, l)| l.strip_prefix("## task "))
                .map(|l| l.rsplit_once(" (").map_or(l, |(id, _)| id))
                .collect();
            // Every task with engine commands, in the text plan's order (in-process tasks and
            // docker Build/Push, which the JSON does not list, aside).
            let mut rest = text_ids.iter();
            for id in &ids {
                assert!(
                    rest.any(|t| t == id),
                    "{f} {engine}: task {id} is not in the text plan in this order: {text_ids:?}"
                );
            }
            for t in doc["tasks"].as_array().unwrap() {
                for c in t["commands"].as_array().unwrap() {
                    // Every argument of every command appears in the text plan (which quotes
                    // for display): nothing is in the JSON that the reviewed plan does not show.
                    for a in c["argv"].as_array().unwrap() {
                        let a = a.as_str().unwrap();
                        let shown = shell_words::quote(a);
                        let first = shown.lines().next().unwrap_or("");
                        let plain = a.lines().next().unwrap_or("");
                        assert!(
                            text.contains(first) || text.contains(plain),
                            "{f} {engine}: argument {a:?} of {} is not in the text plan",
                            c["step"]
                        );
                    }
                }
            }
        }
    }
}

/// A SECRET input and a secret env value reach no part of `plan --json`.
#[test]
fn plan_json_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("s.yaml");
    std::fs::write(
        &flow,
        "id: s\nnamespace: t\ninputs:\n  - id: pw\n    type: SECRET\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    env:\n      TOKEN: \"{{ inputs.pw }}\"\n    commands:\n      - echo {{ inputs.pw }}\n",
    )
    .unwrap();
    let secret = "s3cr3t-json-value";
    let (code, out, err) = dockhand(
        &[
            "plan",
            flow.to_str().unwrap(),
            "--json",
            "--input-env",
            "pw=JSON_PW",
        ],
        &[("JSON_PW", secret)],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains(secret), "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    conforms("plan", &doc);
    // The command holding the secret went to the private command file, copied in on stdin:
    // the JSON says so, by name and description.
    let commands = doc["tasks"][0]["commands"].as_array().unwrap();
    let create = commands.iter().find(|c| c["step"] == "create").unwrap();
    assert!(
        create["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("env TOKEN holds a secret")),
        "{create:#}"
    );
    let copy = commands.iter().find(|c| c["step"] == "copy-in").unwrap();
    assert!(
        copy["stdin"].as_str().unwrap().contains("<redacted>"),
        "{copy:#}"
    );
}

#[test]
fn executions_json_of_an_empty_state_dir_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = dockhand(
        &[
            "executions",
            "--json",
            "--state-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    conforms("executions", &doc);
    assert_eq!(doc["executions"], serde_json::json!([]));
}

/// `dockhand ARGS` in a scratch directory with `flow.yaml` holding `flow`, and the fake engine
/// (tests/fake-engine) in `case` for container tasks; the state directory is the scratch one's.
fn run_in(dir: &Path, args: &[&str], case: &str) -> (Option<i32>, Value, String) {
    let fake = root().join("tests/fake-engine/docker");
    let state = dir.join("state");
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--json",
        "--wait-removal",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    let out = Command::new(BIN)
        .args(&all)
        .env("DOCKHAND_ENGINE", &fake)
        .env("DOCKHAND_WORK_DIR", dir.join("work"))
        .env("FAKE_ENGINE_DIR", dir)
        .env("FAKE_ENGINE_CASE", case)
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON document ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code(), doc, stderr)
}

const CONTAINER_FLOW: &str = "id: machine
namespace: tests.json
tasks:
  - id: only
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    commands:
      - echo hi
";

/// `run --json` of container tasks (through the fake engine): a success, the command's own
/// failure, an OOM kill and an engine error each give a version-1 document that conforms.
#[test]
fn run_json_of_container_tasks_conforms() {
    let cases = [
        ("ok", 0, "SUCCESS", Value::Null),
        ("exit3", 1, "FAILED", "exitCode".into()),
        ("oom", 1, "FAILED", "outOfMemory".into()),
        ("bad-option", 1, "FAILED", "engine".into()),
    ];
    for (case, code, state, failure) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flow.yaml"), CONTAINER_FLOW).unwrap();
        let (got, doc, err) = run_in(dir.path(), &["run", "flow.yaml"], case);
        assert_eq!(got, Some(code), "{case}: {err}");
        conforms("run", &doc);
        assert_eq!(doc["version"], 1, "{case}");
        assert_eq!(doc["state"], state, "{case}");
        let t = &doc["tasks"][0];
        assert_eq!(t["failure"]["kind"], failure, "{case}: {t}");
        if case == "ok" {
            assert_eq!(
                (&t["exitCode"], &t["removal"]),
                (&0.into(), &"removed".into())
            );
        }
    }
}

/// `run --json` and `resume --json` of in-process tasks (no engine): a run that stops PAUSED,
/// then its resume to the end, with flow outputs, labels, ForEach values and a failure of a
/// task's own: every document conforms, and says what happened.
#[test]
fn run_and_resume_json_conform() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flow.yaml"),
        r#"id: machine
namespace: tests.json
labels:
  team: data
tasks:
  - id: values
    type: io.kestra.plugin.core.output.OutputValues
    values:
      greeting: hi
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.log.Log
        message: one of each
  - id: tag
    type: io.kestra.plugin.core.execution.Labels
    labels:
      stage: paused
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: resumed
outputs:
  - id: greeting
    type: STRING
    value: "{{ outputs.values.values.greeting }}"
"#,
    )
    .unwrap();
    let (code, run, err) = run_in(dir.path(), &["run", "flow.yaml"], "ok");
    assert_eq!(code, Some(4), "paused: {err}");
    conforms("run", &run);
    assert_eq!(
        (&run["version"], &run["state"]),
        (&1.into(), &"PAUSED".into())
    );
    let id = run["executionId"].as_str().unwrap().to_string();
    let inner: Vec<&Value> = run["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == "inner")
        .map(|t| &t["values"])
        .collect();
    assert_eq!(
        inner,
        [&serde_json::json!(["a"]), &serde_json::json!(["b"])]
    );

    let (code, resumed, err) = run_in(dir.path(), &["resume", &id], "ok");
    assert_eq!(code, Some(0), "resumed: {err}");
    conforms("run", &resumed);
    assert_eq!(resumed["version"], 1);
    assert_eq!(
        (&resumed["executionId"], &resumed["state"]),
        (&id.as_str().into(), &"SUCCESS".into())
    );
    assert_eq!(resumed["outputs"]["greeting"], "hi", "{resumed:#}");
    assert_eq!(resumed["labels"]["stage"], "paused", "{resumed:#}");
    assert_eq!(resumed["labels"]["team"], "data", "{resumed:#}");

    std::fs::write(
        dir.path().join("fail.yaml"),
        "id: failing
namespace: tests.json
tasks:
  - id: no
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: not today
",
    )
    .unwrap();
    let (code, failed, err) = run_in(dir.path(), &["run", "fail.yaml"], "ok");
    assert_eq!(code, Some(1), "{err}");
    conforms("run", &failed);
    assert_eq!(failed["tasks"][0]["failure"]["kind"], "task", "{failed:#}");
}

/// The schemas are not vacuous: a document without its version, with a field the schema does
/// not know, or with a state Kestra does not have is refused.
#[test]
fn schemas_refuse_what_commands_do_not_print() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.yaml"), CONTAINER_FLOW).unwrap();
    let (_, doc, _) = run_in(dir.path(), &["run", "flow.yaml"], "ok");
    let refused = |name: &str, mutate: &dyn Fn(&mut Value)| {
        let mut d = doc.clone();
        mutate(&mut d);
        assert!(!schema(name).is_valid(&d), "{name} accepted {d:#}");
    };
    refused("run", &|d| {
        d.as_object_mut().unwrap().remove("version");
    });
    refused("run", &|d| d["version"] = 2.into());
    refused("run", &|d| d["tasks"][0]["surprise"] = true.into());
    refused("run", &|d| d["state"] = "DONE".into());
    refused("run", &|d| {
        d["tasks"][0]["failure"] = serde_json::json!({"kind": "exitCode"})
    });
}
