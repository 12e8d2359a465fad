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
