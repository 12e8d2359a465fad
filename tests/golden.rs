//! Golden-file tests of the `dockhand` binary.
//!
//! * Every flow `fixtures/NAME.yaml` is planned for both engines; the output must equal
//!   `fixtures/NAME.docker.plan` and `fixtures/NAME.podman.plan`: the exact stdout of
//!   `dockhand plan fixtures/NAME.yaml --engine E --execution-id golden --work-dir /tmp/dockhand`,
//!   then a `# stderr:` line and the exact stderr (warnings), then `# exit code: N`.
//! * Every flow `fixtures/invalid/NAME.yaml` is validated; the output must equal
//!   `fixtures/invalid/NAME.err`: the exact stderr of `dockhand validate fixtures/invalid/NAME.yaml`
//!   (stdout too, under `# stdout:`, if there is any), then `# exit code: N`, and N must be 2.
//!   A first line `# dockhand-args: ARGS...` replaces `validate` (the file path is appended).
//! * The fixtures together must use every property the flow reader knows.
//!
//! Each test reports every mismatch at once, with a diff. To accept the current output as the
//! expected one (review the diff in git afterwards!):
//!
//! ```text
//! DOCKHAND_BLESS=1 cargo test --test golden
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");
const ENGINES: [&str; 2] = ["docker", "podman"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blessing() -> bool {
    std::env::var_os("DOCKHAND_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// `fixtures/...` paths of the `.yaml` files in a directory (relative to the crate root, as
/// the binary prints them), sorted.
fn flows(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    out
}

struct Output {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs the binary from the crate root, with nothing from the caller's environment that could
/// change its output.
fn dockhand(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(root()).args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("DOCKHAND_")) {
            cmd.env_remove(&k);
        }
    }
    for k in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "CONTAINER_HOST",
        "CONTAINER_CONNECTION",
        "REGISTRY_AUTH_FILE",
        "NO_COLOR",
        "CLICOLOR_FORCE",
    ] {
        cmd.env_remove(k);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Appends `text`, marking a missing final newline so that it shows in the snapshot.
fn push_text(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str("\n# (no newline at the end)\n");
    }
}

fn plan_snapshot(o: &Output) -> String {
    let mut s = String::new();
    push_text(&mut s, &o.stdout);
    s.push_str("# stderr:\n");
    push_text(&mut s, &o.stderr);
    let _ = writeln!(s, "# exit code: {}", o.code);
    s
}

fn err_snapshot(o: &Output) -> String {
    let mut s = String::new();
    push_text(&mut s, &o.stderr);
    if !o.stdout.is_empty() {
        s.push_str("# stdout:\n");
        push_text(&mut s, &o.stdout);
    }
    let _ = writeln!(s, "# exit code: {}", o.code);
    s
}

/// A line diff in unified format, 3 lines of context (the `similar` crate).
fn diff(expected: &str, actual: &str) -> String {
    let mut out = similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string();
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the files differ in their final newline)\n");
    }
    out
}

/// Collects mismatches instead of stopping at the first.
#[derive(Default)]
struct Report {
    checked: usize,
    failures: Vec<String>,
    blessed: Vec<String>,
}

impl Report {
    /// Compares `actual` with the file `expected_path` (relative to the crate root), or writes
    /// it when blessing.
    fn check(&mut self, expected_path: &str, actual: &str, what: &str) {
        self.checked += 1;
        let path = root().join(expected_path);
        let expected = std::fs::read_to_string(&path).ok();
        if expected.as_deref() == Some(actual) {
            return;
        }
        if blessing() {
            std::fs::write(&path, actual)
                .unwrap_or_else(|e| panic!("cannot write {expected_path}: {e}"));
            self.blessed.push(expected_path.to_string());
            return;
        }
        match expected {
            None => self.failures.push(format!(
                "{expected_path}: missing (for {what}); this is the output:\n{actual}"
            )),
            Some(e) => self.failures.push(format!(
                "{expected_path}: differs from {what}:\n{}",
                diff(&e, actual)
            )),
        }
    }

    fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    /// Snapshots in `dir` with one of `suffixes` that belong to no fixture.
    fn stale(&mut self, dir: &str, suffixes: &[&str], known: &BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            return;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let Some(suffix) = suffixes.iter().find(|s| name.ends_with(*s)) else {
                continue;
            };
            let stem = &name[..name.len() - suffix.len()];
            if known.contains(stem) {
                continue;
            }
            let rel = format!("{dir}/{name}");
            if blessing() {
                std::fs::remove_file(root().join(&rel))
                    .unwrap_or_else(|e| panic!("cannot remove {rel}: {e}"));
                self.blessed.push(format!("{rel} (removed)"));
            } else {
                self.fail(format!(
                    "{rel}: no fixture {dir}/{stem}.yaml; remove it (or bless)"
                ));
            }
        }
    }

    fn finish(self, name: &str) {
        for b in &self.blessed {
            eprintln!("blessed {b}");
        }
        if !self.failures.is_empty() {
            let mut msg = format!(
                "{} of {} {name} snapshot(s) failed:\n",
                self.failures.len(),
                self.checked
            );
            for f in &self.failures {
                msg.push_str("\n==== ");
                msg.push_str(f);
                msg.push('\n');
            }
            msg.push_str(
                "\nIf the new output is right: DOCKHAND_BLESS=1 cargo test --test golden\n",
            );
            panic!("{msg}");
        }
    }
}

fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn plans_match_snapshots() {
    let files = flows("fixtures");
    assert!(
        files.len() >= 16,
        "expected at least 16 fixtures, found {}",
        files.len()
    );
    let mut report = Report::default();
    let mut stems = BTreeSet::new();
    for file in &files {
        let stem = stem(file);
        stems.insert(stem.clone());
        for engine in ENGINES {
            let out = dockhand(&[
                "plan",
                file,
                "--engine",
                engine,
                "--execution-id",
                "golden",
                "--work-dir",
                "/tmp/dockhand",
            ]);
            report.check(
                &format!("fixtures/{stem}.{engine}.plan"),
                &plan_snapshot(&out),
                &format!("`dockhand plan {file} --engine {engine}`"),
            );
        }
    }
    report.stale("fixtures", &[".docker.plan", ".podman.plan"], &stems);
    report.finish("plan");
}

#[test]
fn invalid_flows_match_snapshots() {
    let files = flows("fixtures/invalid");
    assert!(
        files.len() >= 12,
        "expected at least 12 invalid fixtures, found {}",
        files.len()
    );
    let mut report = Report::default();
    let mut stems = BTreeSet::new();
    for file in &files {
        let stem = stem(file);
        stems.insert(stem.clone());
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let mut args: Vec<&str> = match text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# dockhand-args:"))
        {
            Some(a) => a.split_whitespace().collect(),
            None => vec!["validate"],
        };
        args.push(file);
        let out = dockhand(&args);
        if out.code != 2 {
            report.fail(format!(
                "{file}: `dockhand {}` exited {}, not 2:\n{}{}",
                args.join(" "),
                out.code,
                out.stdout,
                out.stderr
            ));
            continue;
        }
        if out.stderr.is_empty() {
            report.fail(format!(
                "{file}: `dockhand {}` printed no diagnostics",
                args.join(" ")
            ));
            continue;
        }
        report.check(
            &format!("fixtures/invalid/{stem}.err"),
            &err_snapshot(&out),
            &format!("`dockhand {}`", args.join(" ")),
        );
    }
    report.stale("fixtures/invalid", &[".err"], &stems);
    report.finish("invalid-flow");
}

/// Every property the flow reader knows appears in some valid fixture, and every value of the
/// runner's enumerations: the snapshots then cover the whole format.
#[test]
fn fixtures_cover_every_property() {
    let mut text = String::new();
    for file in flows("fixtures") {
        text.push_str(&std::fs::read_to_string(root().join(&file)).unwrap());
        text.push('\n');
    }
    let mut missing = Vec::new();
    for (kind, keys) in dockhand::flow::decode::known_properties() {
        for key in keys {
            let used = text.lines().any(|l| {
                let l = l.trim_start().trim_start_matches("- ");
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with(':'))
            });
            if !used {
                missing.push(format!("{kind}.{key}"));
            }
        }
    }
    for value in [
        "pullPolicy: IF_NOT_PRESENT",
        "pullPolicy: ALWAYS",
        "pullPolicy: NEVER",
        "fileHandlingStrategy: VOLUME",
        "fileHandlingStrategy: MOUNT",
    ] {
        if !text.contains(value) {
            missing.push(value.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "no fixture under fixtures/ uses: {}",
        missing.join(", ")
    );
}

#[test]
fn diff_shows_changed_lines_with_context() {
    let d = diff("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nD\ne\nf\ng\nh\n");
    assert_eq!(
        d,
        "--- expected\n+++ actual\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
    );
    let d = diff("x\n", "x\ny\n");
    assert!(d.contains("+y\n"), "{d}");
}

/// Every engine command line `dockhand::plan::engine_commands` builds, for a fixed input, per
/// dialect, without and with an engine address: `fixtures/engine-commands.{docker,podman}.txt`.
fn engine_commands_snapshot(dialect: dockhand::plan::dialect::Dialect) -> String {
    use dockhand::plan::command::Step;
    use dockhand::plan::engine_commands::{self as ec, Global};
    use std::time::Duration;
    let (c, wd) = ("dh-golden-t-1", "/tmp/dockhand/golden/t");
    let mut out = String::new();
    for host in [None, Some("tcp://10.0.0.1:2375")] {
        let g = Global::new(dialect, host);
        let _ = writeln!(out, "# host: {}", host.unwrap_or("(the CLI's default)"));
        // Docker's private client config for a pull with credentials.
        let mut with_config = g.clone();
        if dialect == dockhand::plan::dialect::Dialect::Docker {
            with_config.config = Some("/tmp/dockhand-private/golden/t/docker-config".into());
        }
        let cmds = [
            ("create (started later)", ec::create(&g, Step::Create, true)),
            ("create (attached run)", ec::create(&g, Step::Run, false)),
            (
                "create (private config)",
                ec::create(&with_config, Step::Create, true),
            ),
            ("copy_in", ec::copy_in(&g, c)),
            ("copy_dir_in", ec::copy_dir_in(&g, c, wd)),
            ("start (attached)", ec::start(&g, c, true)),
            ("start (detached)", ec::start(&g, c, false)),
            ("copy_out", ec::copy_out(&g, c, wd)),
            ("inspect_state", ec::inspect_state(&g, c)),
            ("follow_logs", ec::follow_logs(&g, c)),
            ("stop (grace 0)", ec::stop(&g, c, Duration::ZERO)),
            (
                "stop (grace 10 s)",
                ec::stop(&g, c, Duration::from_secs(10)),
            ),
            ("remove", ec::remove(&g, c)),
            (
                "remove_also",
                ec::remove_also(&ec::remove(&g, c), &["dh-golden-u-1", "dh-golden-v-2"]),
            ),
            ("remove_now", ec::remove_now(&g, &["id1", "id2"])),
            (
                "list_task_containers",
                ec::list_task_containers(&g, "golden", "t"),
            ),
            ("list_managed", ec::list_managed(&g)),
            ("inspect_managed", ec::inspect_managed(&g, &["id1", "id2"])),
            ("version", ec::version(&g)),
            (
                "build_image",
                ec::build_image(
                    &g,
                    &ec::ImageBuildArgs {
                        context: wd,
                        dockerfile: "/tmp/dockhand/golden/t/Dockerfile.dockhand",
                        tags: &["img:1".to_string(), "img:latest".to_string()],
                        build_args: &[("VERSION".to_string(), "1".to_string())].into(),
                        labels: &[("k".to_string(), "v".to_string())].into(),
                        platform: Some("linux/amd64"),
                        target: Some("final"),
                        pull: true,
                        iidfile: "/tmp/dockhand-private/golden/t/image-id",
                    },
                ),
            ),
            ("push_image", ec::push_image(&g, "img:1", None)),
            (
                "push_image (auth file)",
                ec::push_image(
                    &g,
                    "img:1",
                    Some("/tmp/dockhand-private/golden/t/auth.json"),
                ),
            ),
            (
                "image_ids",
                ec::image_ids(&g, &["busybox:latest", "mytool:1"]),
            ),
            ("registry_settings", ec::registry_settings(&g)),
        ];
        for (name, cmd) in cmds {
            let _ = writeln!(
                out,
                "{name} [{}]: {}",
                cmd.step.name(),
                cmd.display(dialect.name())
            );
        }
    }
    out
}

#[test]
fn engine_commands_match_snapshots() {
    use dockhand::plan::dialect::Dialect;
    let mut report = Report::default();
    // Every builder is in the snapshot: a new engine command cannot go unseen.
    let source = std::fs::read_to_string(root().join("src/plan/engine_commands.rs")).unwrap();
    let builders: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub fn "))
        .filter_map(|l| l.split(['(', '<']).next())
        .collect();
    assert!(builders.len() > 10, "builders not found: {builders:?}");
    for d in [Dialect::Docker, Dialect::Podman] {
        let snap = engine_commands_snapshot(d);
        for b in &builders {
            if !snap.lines().any(|l| l.starts_with(&format!("{b} "))) {
                report.fail(format!(
                    "engine_commands::{b} is not in the engine-commands snapshot: add it to engine_commands_snapshot"
                ));
            }
        }
        report.check(
            &format!("fixtures/engine-commands.{}.txt", d.name()),
            &snap,
            &format!("the engine commands for {d}"),
        );
    }
    report.finish("engine-commands");
}

/// Every `.rs` file below `src` but for those in `src/plan/`, with its text.
fn sources_outside_plan(src: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                // `src/pebble/` is the expression language: its function and argument names
                // (`start`, `read`) are no engine commands, and it runs none.
                if p != src.join("plan") && p != src.join("pebble") {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out
}

/// `file:line: text` of each line of `files` that `bad` finds.
fn offending_lines(files: Vec<(PathBuf, String)>, bad: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for (p, text) in files {
        for (n, line) in text.lines().enumerate() {
            if bad(line) {
                found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    found.sort();
    found
}

fn assert_none(found: Vec<String>, what: &str) {
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

/// Engine subcommands as string literals (`"ps"`, `["rm", ...]`) in `src/` outside `src/plan/`:
/// each is an engine command line built somewhere other than its one home.
fn subcommand_literals(src: &Path) -> Vec<String> {
    const SUBCOMMANDS: &[&str] = &[
        "run", "create", "cp", "start", "rm", "kill", "stop", "ps", "inspect", "logs", "version",
        "info", "image", "pull", "login", "exec", "service",
    ];
    // Literals that are no argv: the Kestra docker runner's `version` property, ignored.
    // docker Build's `pull` property. A journal record written out as JSON in a test.
    const NOT_ARGV: &[&str] = &[
        "{\"t\":\"start\"",
        "ignored(\"version\", ",
        "LEGACY_IMAGE: &str =",
        "DOCKER_BUILD_PULL: &str = \"pull\"",
    ];
    offending_lines(sources_outside_plan(src), |line| {
        let code = line.split("//").next().unwrap_or_default();
        !NOT_ARGV.iter().any(|a| code.contains(a))
            && SUBCOMMANDS
                .iter()
                .any(|s| code.contains(&format!("\"{s}\"")))
    })
}

#[test]
fn engine_commands_are_built_only_under_src_plan() {
    assert_none(
        subcommand_literals(&root().join("src")),
        "engine subcommands written outside src/plan/ (build them in src/plan/engine_commands.rs)",
    );
}

/// Imports go one way: `registry` (daemon and registries.conf settings) knows nothing of the
/// flow model or its reader.
#[test]
fn registry_does_not_import_flow() {
    let files = std::fs::read_dir(root().join("src/registry"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| (e.path(), std::fs::read_to_string(e.path()).unwrap()))
        .collect();
    assert_none(
        offending_lines(files, |l| {
            l.contains("crate::flow") || l.contains("dockhand::flow")
        }),
        "src/registry/ reaches into flow",
    );
}

/// `plan` and `run` go through one planner (`plan::plan_task`): nothing outside `src/plan/`
/// assembles a template scope or calls the argv builder itself.
fn planner_bypasses(src: &Path) -> Vec<String> {
    offending_lines(sources_outside_plan(src), |l| {
        l.contains("Scope {") || l.contains("build::build(")
    })
}

#[test]
fn the_planner_is_the_one_entry_point() {
    assert_none(
        planner_bypasses(&root().join("src")),
        "rendering or building outside plan::plan_task",
    );
}

/// The swarm backend's plans: every `fixtures/swarm/NAME.yaml` planned with `--backend swarm`
/// (and a placement for the task `second`) must equal `fixtures/swarm/NAME.swarm.plan`.
#[test]
fn swarm_plans_match_snapshots() {
    let files = flows("fixtures/swarm");
    assert!(files.len() >= 2, "expected swarm fixtures, found {files:?}");
    let mut report = Report::default();
    let mut stems = BTreeSet::new();
    for file in &files {
        let stem = stem(file);
        stems.insert(stem.clone());
        let out = dockhand(&[
            "plan",
            file,
            "--backend",
            "swarm",
            "--placement",
            "second=node.labels.dockhand.node==n1",
            "--execution-id",
            "golden",
            "--work-dir",
            "/tmp/dockhand",
        ]);
        report.check(
            &format!("fixtures/swarm/{stem}.swarm.plan"),
            &plan_snapshot(&out),
            &format!("`dockhand plan {file} --backend swarm`"),
        );
    }
    report.stale("fixtures/swarm", &[".swarm.plan"], &stems);
    report.finish("swarm plan");
}

/// Every command `dockhand::plan::swarm` builds besides a task's own: `fixtures/engine-commands.swarm.txt`.
#[test]
fn swarm_commands_match_snapshot() {
    use dockhand::plan::engine_commands::Global;
    use dockhand::plan::swarm::{self as sw, Object};
    let source = std::fs::read_to_string(root().join("src/plan/swarm.rs")).unwrap();
    let builders: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub fn "))
        .filter_map(|l| l.split(['(', '<']).next())
        // Not engine commands: the task's own commands, its names and what they hold.
        .filter(|b| {
            ![
                "build",
                "service_name",
                "shared_workdir",
                "made_objects",
                "slot_name",
            ]
            .contains(b)
        })
        .collect();
    let labels = [("io.dockhand.execution", "golden".to_string())];
    let mut out = String::new();
    for host in [None, Some("tcp://10.0.0.1:2375")] {
        let g = Global::new(dockhand::plan::dialect::Dialect::Docker, host);
        let _ = writeln!(out, "# host: {}", host.unwrap_or("(the CLI's default)"));
        let cmds = [
            ("service_create", sw::service_create(&g, "dh-golden-t-1")),
            (
                "object_create (config)",
                sw::object_create(
                    &g,
                    Object::Config,
                    "dh-golden-t-1-f0",
                    "dh-golden-t-1",
                    &labels,
                ),
            ),
            (
                "object_create (secret)",
                sw::object_create(
                    &g,
                    Object::Secret,
                    "dh-golden-t-1-cmd",
                    "dh-golden-t-1",
                    &labels,
                ),
            ),
            ("service_tasks", sw::service_tasks(&g, "dh-golden-t-1")),
            ("inspect_task", sw::inspect_task(&g, "taskid1")),
            ("inspect_node", sw::inspect_node(&g, "nodeid1")),
            (
                "service_logs (follow)",
                sw::service_logs(&g, "dh-golden-t-1", true),
            ),
            ("service_logs", sw::service_logs(&g, "dh-golden-t-1", false)),
            ("service_rm", sw::service_rm(&g, &["dh-golden-t-1"])),
            (
                "list_task_services",
                sw::list_task_services(&g, "golden", "t"),
            ),
            ("list_managed_services", sw::list_managed_services(&g)),
            (
                "inspect_services",
                sw::inspect_services(&g, &["id1", "id2"]),
            ),
            (
                "list_managed_objects",
                sw::list_managed_objects(&g, Object::Secret),
            ),
            (
                "list_objects",
                sw::list_objects(&g, Object::Config, "dh-golden-t-1"),
            ),
            (
                "object_rm",
                sw::object_rm(&g, Object::Secret, &["id1", "id2"]),
            ),
            ("swarm_state", sw::swarm_state(&g)),
            ("nodes", sw::nodes(&g)),
            (
                "slot_create",
                sw::slot_create(
                    &g,
                    &sw::slot_name("dev", "f", 0),
                    "dev",
                    "f",
                    "golden",
                    "host1:42",
                ),
            ),
            ("list_slots", sw::list_slots(&g, "dev", "f")),
        ];
        for (name, cmd) in cmds {
            let _ = writeln!(
                out,
                "{name} [{}]: {}",
                cmd.step.name(),
                cmd.display("docker")
            );
        }
    }
    let mut report = Report::default();
    for b in &builders {
        if !out.lines().any(|l| l.starts_with(&format!("{b} "))) {
            report.fail(format!(
                "plan::swarm::{b} is not in the swarm commands snapshot: add it to swarm_commands_match_snapshot"
            ));
        }
    }
    report.check(
        "fixtures/engine-commands.swarm.txt",
        &out,
        "the swarm commands",
    );
    report.finish("swarm-commands");
}
