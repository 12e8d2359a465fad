//! End-to-end tests of what must not leak (README, "Secrets never in a command line"): a SECRET
//! input used in a task's command reaches the container through a private command file, never
//! through an argv (dockhand's children, the engine's record of the container, `plan`), and is
//! masked as `******` in everything dockhand prints or journals; SECRET inputs can be given from
//! an environment variable or a file; execution ids never name a path outside the state
//! directory; an output file that is a symbolic link is not handed out.
//!
//! Every test runs on Docker and on Podman (`NAME::docker`, `NAME::podman`).
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_secrets

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

use common::{Ctx, Run, flow, random_hex, task};

/// A secret that cannot appear anywhere by chance.
fn new_secret() -> String {
    format!("tok-{}", random_hex(12))
}

/// An engine CLI stand-in that writes every argv it gets (one line per call, NUL-separated
/// words) to `log`, then runs the real CLI with the same arguments, stdin and environment.
fn argv_recorder(cx: &Ctx, log: &Path) -> PathBuf {
    let dir = cx.tmp.path().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let shim = dir.join(cx.eng.name);
    // A shim that names podman is driven as podman (as Debian's podman-docker is).
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> '{log}'; done\necho >> '{log}'\nexec '{real}' \"$@\"\n",
            log = log.display(),
            real = cx.eng.program.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    shim
}

/// `dockhand run FLOW --engine SHIM ...` with the test's execution id, work dir and `--json`.
fn run_via(cx: &Ctx, engine: &Path, flow: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let engine = engine.display().to_string();
    let work = cx.work().display().to_string();
    let flow = flow.display().to_string();
    let mut args = vec![
        "run",
        &flow,
        "--engine",
        &engine,
        "--execution-id",
        &cx.id,
        "--work-dir",
        &work,
        "--json",
    ];
    args.extend_from_slice(extra);
    cx.dockhand(&args, env)
}

fn assert_absent(what: &str, text: &str, secret: &str, run: &Run) {
    assert!(
        !text.contains(secret),
        "the secret is in {what}:\n{text}\n{}",
        run.dump()
    );
}

/// Tasks that use a SECRET input in their command: VOLUME, MOUNT and a non-root user, a
/// failing one (failFast still stops at the first failure), one with the secret in an env
/// value and an input file, and one (MOUNT) with it in an env value only.
fn secret_flow(cx: &Ctx) -> PathBuf {
    let script = [
        "t='{{ inputs.token }}'",
        "echo \"token is $t\"",
        "echo \"stderr $t\" >&2",
        "echo \"base64 $(printf %s \"$t\" | base64)\"",
        // The container got the real value: its length and its reversal come back as outputs,
        // and the value itself as an output that must be masked.
        "echo \"::{\\\"outputs\\\":{\\\"len\\\":{% raw %}${#t}{% endraw %},\\\"rev\\\":\\\"$(printf %s \"$t\" | rev)\\\",\\\"echoed\\\":\\\"$t\\\"}}::\"",
    ];
    let keep = "delete: false";
    let tasks = vec![
        task("vol", "", keep, &script),
        task(
            "mnt",
            "",
            &format!("{keep}\nfileHandlingStrategy: MOUNT"),
            &script,
        ),
        task("nonroot", "", &format!("{keep}\nuser: \"65534\""), &script),
        task(
            "failfast",
            "allowFailure: true",
            keep,
            &["t='{{ inputs.token }}'", "false", "echo not reached $t"],
        ),
        task(
            "envfile",
            "env:\n  TOKEN: \"{{ inputs.token }}\"\ninputFiles:\n  tok.txt: \"{{ inputs.token }}\"",
            keep,
            &[
                "[ \"$TOKEN\" = \"$(cat tok.txt)\" ] && echo \"env and file agree, {% raw %}${#TOKEN}{% endraw %} chars\"",
            ],
        ),
        // The secret only in an env value (the command text has none), as `MOUNT` too: the
        // process and its children see the real value; the engine's record does not.
        task(
            "envonly",
            "env:\n  TOKEN: \"Bearer {{ inputs.token }}\"\n  PLAIN: visible",
            &format!("{keep}\nfileHandlingStrategy: MOUNT"),
            &[
                "echo \"::{\\\"outputs\\\":{\\\"len\\\":{% raw %}${#TOKEN}{% endraw %},\\\"rev\\\":\\\"$(sh -c 'printf %s \"$TOKEN\"' | rev)\\\",\\\"plain\\\":\\\"$PLAIN\\\"}}::\"",
            ],
        ),
    ];
    let mut text = flow("secrets", &tasks);
    text = text.replacen(
        "\ntasks:\n",
        "\ninputs:\n  - id: token\n    type: SECRET\n\ntasks:\n",
        1,
    );
    cx.flow("secrets", &text)
}

e2e_test!(secret_in_command_never_in_argv_and_masked, |cx| {
    let secret = new_secret();
    let f = secret_flow(cx);
    let log = cx.tmp.path().join("argv.log");
    let shim = argv_recorder(cx, &log);
    let input = format!("token={secret}");
    let run = run_via(cx, &shim, &f, &["--input", &input], &[]);
    let names: Vec<String> = ["vol", "mnt", "nonroot", "failfast", "envfile", "envonly"]
        .iter()
        .map(|t| cx.container(t))
        .collect();
    let inspected: Vec<String> = names
        .iter()
        .map(|n| {
            let out = cx.eng.cli(&["inspect", "--type", "container", n]);
            assert!(out.ok(), "inspect {n}: {}\n{}", out.stderr, run.dump());
            out.stdout
        })
        .collect();
    cx.eng.remove(&names);
    run.assert_code(0);

    for t in ["vol", "mnt", "nonroot"] {
        let r = run.task(t);
        assert_eq!(r["state"], "SUCCESS", "{t}: {r:#}\n{}", run.dump());
        // The container saw the real value...
        assert_eq!(r["outputs"]["len"], secret.len(), "{t}: {r:#}");
        let rev: String = secret.chars().rev().collect();
        assert_eq!(r["outputs"]["rev"], rev.as_str(), "{t}: {r:#}");
        // ...and dockhand masks it wherever it prints or keeps it.
        assert_eq!(r["outputs"]["echoed"], "******", "{t}: {r:#}");
        let out = run.logs(t, '|');
        assert!(
            out.contains(&"token is ******".to_string()),
            "{t}: stdout not masked\n{}",
            run.dump()
        );
        assert!(
            out.contains(&"base64 ******".to_string()),
            "{t}: the base64 form is masked too\n{}",
            run.dump()
        );
        assert!(
            run.logs(t, '!').contains(&"stderr ******".to_string()),
            "{t}: stderr not masked\n{}",
            run.dump()
        );
    }
    let ff = run.task("failfast");
    assert_eq!(ff["state"], "WARNING", "{ff:#}");
    assert_eq!(ff["exitCode"], 1, "set -e stops at `false`: {ff:#}");
    assert!(run.logs("failfast", '|').is_empty(), "{}", run.dump());
    assert!(
        run.logs("envfile", '|')
            .contains(&format!("env and file agree, {} chars", secret.len())),
        "{}",
        run.dump()
    );

    assert_absent("dockhand's output", &run.stdout, &secret, &run);
    assert_absent("dockhand's output", &run.stderr, &secret, &run);
    let journal = std::fs::read_to_string(cx.state_journal()).unwrap();
    assert_absent("the journal", &journal, &secret, &run);
    // Every argv dockhand gave the engine CLI.
    let argv = std::fs::read_to_string(&log).unwrap().replace('\0', " ");
    assert!(
        argv.contains(" cp ") || argv.contains("cp -"),
        "the recorder saw the calls: {argv}"
    );
    assert_absent("an engine CLI argv", &argv, &secret, &run);
    let eo = run.task("envonly");
    assert_eq!(eo["state"], "SUCCESS", "{eo:#}\n{}", run.dump());
    assert_eq!(eo["outputs"]["len"], secret.len() + 7, "{eo:#}");
    let rev: String = format!("Bearer {secret}").chars().rev().collect();
    assert_eq!(eo["outputs"]["rev"], rev.as_str(), "{eo:#}");
    assert_eq!(eo["outputs"]["plain"], "visible", "{eo:#}");
    // What the engine recorded of each container: Config.Cmd, Path/Args, and its environment
    // (.Config.Env), where a variable holding the secret is absent and the others are there.
    for (name, json) in names.iter().zip(&inspected) {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let c = &v[0];
        for field in [
            &c["Config"]["Cmd"],
            &c["Args"],
            &c["Path"],
            &c["Config"]["Entrypoint"],
        ] {
            assert_absent(
                &format!("{name}'s inspect"),
                &field.to_string(),
                &secret,
                &run,
            );
        }
        let env = c["Config"]["Env"].to_string();
        assert_absent(&format!("{name}'s .Config.Env"), &env, &secret, &run);
        if name.contains("env") {
            assert!(
                !env.contains("\"TOKEN="),
                "{name}: TOKEN is not in the record: {env}"
            );
        }
        if name.contains("envonly") {
            assert!(env.contains("\"PLAIN=visible\""), "{name}: {env}");
        }
        assert_absent(&format!("{name}'s inspect"), json, &secret, &run);
    }
    // No command file is left on the host or handed out, and the VOLUME task's input file
    // holding the secret was never written there.
    let leftovers: Vec<String> = walk(&cx.work())
        .into_iter()
        .filter(|p| std::fs::read(p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(&secret)))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        leftovers.is_empty(),
        "files holding the secret: {leftovers:?}"
    );

    // The plan shows where the command goes, never the value.
    for engine in ["docker", "podman"] {
        let f = f.display().to_string();
        let plan = cx.dockhand(&["plan", &f, "--engine", engine, "--input", &input], &[]);
        plan.assert_code(0);
        assert_absent("plan", &plan.stdout, &secret, &plan);
        assert_absent("plan", &plan.stderr, &secret, &plan);
        assert!(
            plan.stdout.contains("<redacted>"),
            "the plan says the command is redacted:\n{}",
            plan.stdout
        );
    }
});

// Pebble in a command: a filter on an input, and `secret('TOKEN')` read from `SECRET_TOKEN`
// (base64, as Kestra OSS reads it). The container gets the plain value; dockhand's output
// masks it; no engine argv holds it (the command goes through the private command file).
e2e_test!(pebble_filter_and_secret_function_in_command, |cx| {
    use base64::Engine as _;
    let secret = new_secret();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&secret);
    let script = [
        "echo \"name is {{ inputs.name | upper }}\"",
        "t='{{ secret('TOKEN') }}'",
        "echo \"token is $t\"",
        "echo \"::{\\\"outputs\\\":{\\\"len\\\":{% raw %}${#t}{% endraw %},\\\"rev\\\":\\\"$(printf %s \"$t\" | rev)\\\"}}::\"",
    ];
    let text = flow("pebble", &[task("pebble", "", "", &script)]).replacen(
        "\ntasks:\n",
        "\ninputs:\n  - id: name\n    type: STRING\n    defaults: ada\n\ntasks:\n",
        1,
    );
    let f = cx.flow("pebble", &text);
    let log = cx.tmp.path().join("argv.log");
    let shim = argv_recorder(cx, &log);
    let run = run_via(cx, &shim, &f, &[], &[("SECRET_TOKEN", &encoded)]);
    run.assert_code(0);
    let r = run.task("pebble");
    assert_eq!(r["state"], "SUCCESS", "{r:#}\n{}", run.dump());
    let out = run.logs("pebble", '|');
    assert!(
        out.contains(&"name is ADA".to_string()),
        "the filter ran:\n{}",
        run.dump()
    );
    // The container saw the decoded value...
    assert_eq!(r["outputs"]["len"], secret.len(), "{r:#}");
    let rev: String = secret.chars().rev().collect();
    assert_eq!(r["outputs"]["rev"], rev.as_str(), "{r:#}");
    // ...and dockhand masks it.
    assert!(
        out.contains(&"token is ******".to_string()),
        "stdout not masked\n{}",
        run.dump()
    );
    assert_absent("dockhand's output", &run.stdout, &secret, &run);
    assert_absent("dockhand's output", &run.stderr, &secret, &run);
    let journal = std::fs::read_to_string(cx.state_journal()).unwrap();
    assert_absent("the journal", &journal, &secret, &run);
    let argv = std::fs::read_to_string(&log).unwrap().replace('\0', " ");
    // The command went in through the private command file (copied in), not the argv.
    assert!(argv.contains("/.dockhand/command"), "{argv}");
    assert_absent("an engine CLI argv", &argv, &secret, &run);
    // Without the variable, the run stops before anything starts, naming it.
    let run = run_via(cx, &shim, &f, &[], &[]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("SECRET_TOKEN"),
        "names the variable:\n{}",
        run.dump()
    );
});

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

// ------------------------------------------------------------ SECRET inputs off the command line

e2e_test!(secret_inputs_from_env_and_file, |cx| {
    let secret = new_secret();
    // The task checks the value by its reversal, so the flow file itself never holds it.
    let rev: String = secret.chars().rev().collect();
    let text = flow(
        "sources",
        &[task(
            "check",
            "",
            "",
            &[&format!(
                "t='{{{{ inputs.token }}}}'; [ {{% raw %}}${{#t}}{{% endraw %}} = {len} ] && [ \"$(printf %s \"$t\" | rev)\" = '{rev}' ] && echo matched",
                len = secret.len()
            )],
        )],
    )
    .replacen(
        "\ntasks:\n",
        "\ninputs:\n  - id: token\n    type: SECRET\n\ntasks:\n",
        1,
    );
    let f = cx.flow("sources", &text);
    let log = cx.tmp.path().join("argv.log");
    let shim = argv_recorder(cx, &log);

    // From an environment variable named on the command line.
    let run = run_via(
        cx,
        &shim,
        &f,
        &["--input-env", "token=MY_TOKEN"],
        &[("MY_TOKEN", &secret)],
    );
    run.assert_code(0);
    assert!(
        run.logs("check", '|').contains(&"matched".to_string()),
        "{}",
        run.dump()
    );
    assert_absent("dockhand's output", &run.stderr, &secret, &run);

    // From a file (its one trailing newline is not part of the value).
    let file = cx.tmp.path().join("token.txt");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let spec = format!("token={}", file.display());
    // A new execution: the first one ended.
    let cx2 = Ctx::new("secret-inputs-file", cx.eng.clone());
    let log2 = cx2.tmp.path().join("argv.log");
    let shim2 = argv_recorder(&cx2, &log2);
    let run = run_via(&cx2, &shim2, &f, &["--input-file", &spec], &[]);
    run.assert_code(0);
    assert!(
        run.logs("check", '|').contains(&"matched".to_string()),
        "{}",
        run.dump()
    );
    cx2.assert_no_containers();
    for l in [&log, &log2] {
        let argv = std::fs::read_to_string(l).unwrap().replace('\0', " ");
        assert_absent("an engine CLI argv", &argv, &secret, &run);
    }

    // A variable that is not set, or a file that cannot be read, is bad input (exit 2).
    let bad = run_via(
        cx,
        &shim,
        &f,
        &["--input-env", "token=DH_UNSET_VARIABLE_X"],
        &[],
    );
    bad.assert_code(2);
    assert!(bad.stderr.contains("DH_UNSET_VARIABLE_X"), "{}", bad.dump());
    let bad = run_via(
        cx,
        &shim,
        &f,
        &["--input-file", "token=/nonexistent/x"],
        &[],
    );
    bad.assert_code(2);
    assert!(bad.stderr.contains("/nonexistent/x"), "{}", bad.dump());
});

// ---------------------------------------------------------------- execution ids stay ids

e2e_test!(container_labels_naming_paths_are_not_used_as_ids, |cx| {
    // A container that claims to be dockhand's, with an execution id that is a path: a lock
    // file held at the path it names must not make ps/cleanup think it is watched.
    let state = cx.tmp.path().join("state");
    std::fs::create_dir_all(state.join("executions")).unwrap();
    let lock = cx.tmp.path().join("evil.lock");
    let f = std::fs::File::create(&lock).unwrap();
    use std::os::unix::io::AsRawFd;
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    let name = format!("dh-{}-evil", cx.id);
    let image = if cx.eng.name == "podman" {
        "localhost/busybox:latest"
    } else {
        common::IMAGE
    };
    let out = cx.eng.cli(&[
        "create",
        "--name",
        &name,
        "--label",
        "io.dockhand.managed=true",
        "--label",
        "io.dockhand.execution=../../evil",
        "--label",
        &format!("io.dockhand.task={}", cx.id),
        image,
        "true",
    ]);
    assert!(out.ok(), "create: {}", out.stderr);
    let state_s = state.display().to_string();
    let engine = cx.eng.name;
    let ps = cx.dockhand(&["ps", "--engine", engine, "--state-dir", &state_s], &[]);
    let line = ps
        .stdout
        .lines()
        .find(|l| l.contains(&name))
        .map(str::to_string);
    cx.eng.remove(std::slice::from_ref(&name));
    ps.assert_code(0);
    let line = line.unwrap_or_else(|| panic!("ps lists {name}\n{}", ps.dump()));
    assert!(
        line.trim_end().ends_with("no"),
        "a label naming a path outside the state dir is not a watched execution: {line}"
    );
    drop(f);
});

// ------------------------------------------------------------- output files stay in the task

/// The container links `leak.txt` to /etc/shadow and `d` to /etc: neither is handed out (nor
/// left on the host), and a warning names them; the regular file is.
fn symlink_case(cx: &Ctx, strategy: &str) {
    let f = cx.flow(
        "links",
        &flow(
            "links",
            &[task(
                "links",
                "outputFiles:\n  - \"*.txt\"\n  - d\n  - d/passwd\n  - \"**/shadow\"",
                &format!("fileHandlingStrategy: {strategy}"),
                &[
                    "ln -s /etc/shadow leak.txt",
                    "ln -s /etc d",
                    "echo fine > ok.txt",
                ],
            )],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    let t = run.task("links");
    assert_eq!(t["state"], "SUCCESS", "{t:#}\n{}", run.dump());
    let wd = cx.workdir("links");
    let got: Vec<&str> = t["outputFiles"]
        .as_array()
        .expect("outputFiles")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        got,
        vec![wd.join("ok.txt").display().to_string()],
        "only the regular file is an output\n{}",
        run.dump()
    );
    for name in ["leak.txt", "d"] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains("symbolic link") && l.contains(name)),
            "a warning names {name}\n{}",
            run.dump()
        );
        assert!(
            std::fs::symlink_metadata(wd.join(name)).is_err(),
            "the link {name} is not left in the host working directory\n{}",
            run.dump()
        );
    }
}

e2e_test!(output_symlinks_are_not_handed_out_volume, |cx| {
    symlink_case(cx, "VOLUME")
});
e2e_test!(output_symlinks_are_not_handed_out_mount, |cx| {
    symlink_case(cx, "MOUNT")
});

// ------------------------------------------------------------------ plan, no engine needed

/// `plan` with the secret's value prints exactly what it prints without it (a stand-in takes
/// the value's place, so reviewers see the delivery the run will use), and never the value.
#[test]
fn plan_is_the_same_with_and_without_the_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for engine in ["docker", "podman"] {
        let plan = |extra: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_dockhand"))
                .current_dir(root)
                .args(["plan", "fixtures/secret-command.yaml", "--engine", engine])
                .args(extra)
                .env_remove("DOCKHAND_WORK_DIR")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let secret = new_secret();
        let with = plan(&["--input", &format!("token={secret}")]);
        assert!(!with.contains(&secret), "{with}");
        assert_eq!(with, plan(&[]), "{engine}");
        assert!(with.contains("'. /.dockhand/command'"), "{with}");
    }
}

// ------------------------------------------------------- input files holding a secret stay private

e2e_test!(secret_input_files_are_private_to_the_task_user, |cx| {
    let secret = new_secret();
    let rev: String = secret.chars().rev().collect();
    // The container reports the file's mode and owner as it sees them, and reads it.
    let report = "m=$(stat -c %a:%u tok.txt); r=$(rev < tok.txt); echo \"::{\\\"outputs\\\":{\\\"stat\\\":\\\"$m\\\",\\\"rev\\\":\\\"$r\\\"}}::\"";
    let files = "inputFiles:\n  tok.txt: \"{{ inputs.token }}\"\n  plain.txt: hello";
    let cases = [
        ("mntroot", "fileHandlingStrategy: MOUNT", "600:0"),
        (
            "mntuser",
            "fileHandlingStrategy: MOUNT\nuser: \"65534\"",
            "600:65534",
        ),
        ("volroot", "", "600:0"),
        ("voluser", "user: \"65534:65534\"", "600:65534"),
    ];
    // MOUNT tasks name both files as outputs, so that their host copies outlive the task (a work
    // directory keeps only its output files once the container is gone).
    let mount_files = format!("{files}\noutputFiles:\n  - tok.txt\n  - plain.txt");
    let tasks: Vec<String> = cases
        .iter()
        .map(|(id, runner, _)| {
            let props = if runner.contains("MOUNT") {
                mount_files.as_str()
            } else {
                files
            };
            task(id, props, runner, &[report])
        })
        .collect();
    let text = flow("secretfiles", &tasks).replacen(
        "\ntasks:\n",
        "\ninputs:\n  - id: token\n    type: SECRET\n\ntasks:\n",
        1,
    );
    let f = cx.flow("secretfiles", &text);
    let run = cx.run_with(
        &f,
        &["--input-env", "token=DH_TOKEN"],
        &[("DH_TOKEN", &secret)],
    );
    run.assert_code(0);
    use std::os::unix::fs::MetadataExt;
    for (id, runner, want) in cases {
        let t = run.task(id);
        assert_eq!(t["state"], "SUCCESS", "{id}: {t:#}\n{}", run.dump());
        assert_eq!(
            t["outputs"]["stat"], want,
            "{id}: inside the container\n{t:#}"
        );
        assert_eq!(
            t["outputs"]["rev"],
            rev.as_str(),
            "{id}: the container read it"
        );
        let host = cx.workdir(id).join("tok.txt");
        if runner.contains("MOUNT") {
            // The host's copy is the container's: private to the same user.
            let m = std::fs::metadata(&host).unwrap();
            let got = format!("{:o}:{}", m.mode() & 0o777, m.uid());
            assert_eq!(got, want, "{id}: {} on the host", host.display());
        } else {
            assert!(
                !host.exists(),
                "{id}: VOLUME copies it in from the archive; it is not written on the host"
            );
        }
        // A file without the secret is as before.
        let plain = std::fs::metadata(cx.workdir(id).join("plain.txt"));
        if runner.contains("MOUNT") {
            assert!(
                plain.unwrap().mode() & 0o044 != 0,
                "{id}: plain.txt readable"
            );
        }
    }
    cx.assert_no_containers();
});

// ------------------------------------------------- a secret across the pieces of a long line

e2e_test!(a_secret_across_pieces_of_a_long_line_is_masked, |cx| {
    // One line of ~20,000 copies of the secret (over 500 KiB): it is printed in pieces of about
    // 64 KiB, cut wherever the pipe's reads end, so pieces would cut the secret in two.
    let secret = new_secret();
    let text = flow(
        "longline",
        &[task(
            "long",
            "",
            "",
            &[
                "t='{{ inputs.token }}'",
                "i=0; while [ $i -lt 20000 ]; do printf '%s=' \"$t\"; i=$((i+1)); done; echo",
            ],
        )],
    )
    .replacen(
        "\ntasks:\n",
        "\ninputs:\n  - id: token\n    type: SECRET\n\ntasks:\n",
        1,
    );
    let f = cx.flow("longline", &text);
    let run = cx.run_with(
        &f,
        &["--input-env", "token=DH_TOKEN"],
        &[("DH_TOKEN", &secret)],
    );
    run.assert_code(0);
    let pieces = run.logs("long", '|');
    assert!(pieces.len() >= 5, "printed in pieces: {}", pieces.len());
    let mut masks = 0;
    for (i, p) in pieces.iter().enumerate() {
        masks += p.matches("******").count();
        // Only masks and separators: any other character is part of the secret.
        let rest = p.replace("******", "").replace('=', "");
        assert!(
            rest.is_empty(),
            "piece {i} of {} shows part of the secret: {:?}",
            pieces.len(),
            &rest[..rest.len().min(200)]
        );
    }
    assert_eq!(masks, 20000, "every copy masked, none lost");
    cx.assert_no_containers();
});
