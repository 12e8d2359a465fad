//! Private and insecure registries, end to end: a real registry (Debian's docker-registry,
//! plain HTTP) in a network namespace at 10.10.1.5:5000 (scripts/registry-netns.sh), the real
//! dockerd and podman, and the real `dockhand` binary.
//!
//!     DOCKHAND_E2E=1 cargo test --test registry
//!
//! Without `DOCKHAND_E2E=1`, a missing piece (not root, no engine, no docker-registry, no test
//! image) makes a test print `skipped: <reason>` and return; with it, the test panics.
//!
//! These tests change host configuration: /etc/docker/daemon.json (plus a dockerd reload) and
//! /etc/containers/registries.conf.d. A [`HostGuard`] saves both first and restores them when
//! the test ends, panics included (dockerd is reloaded back to its original insecure
//! registries), brings the registry's namespace down and removes the pulled images. Tests
//! share that host state, so they run one at a time: a mutex in this process and an flock on
//! /run/lock/dockhand-e2e-registry.lock across processes (other suites using 10.10.1.5 should
//! take it too).
//!
//! The CLI checks at the end (`cli_*`) touch no host state and always run.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use dockhand::registry::{daemon_json, podman, reload};

const REG: &str = "10.10.1.5:5000";
const IMAGE: &str = "10.10.1.5:5000/my-image";
const DAEMON_JSON: &str = "/etc/docker/daemon.json";
const LOCK_FILE: &str = "/run/lock/dockhand-e2e-registry.lock";
const HTTPS_ERROR: &str = "server gave HTTP response to HTTPS client";

fn dockhand() -> &'static str {
    env!("CARGO_BIN_EXE_dockhand")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    root().join("scripts/registry-netns.sh")
}

fn fixture() -> PathBuf {
    root().join("fixtures/kestra-insecure-registry.yaml")
}

fn e2e() -> bool {
    std::env::var("DOCKHAND_E2E").is_ok_and(|v| v == "1")
}

/// Skips (or, under DOCKHAND_E2E=1, fails) when `reason` is `Some`.
macro_rules! require {
    ($reason:expr) => {
        if let Some(reason) = $reason {
            if e2e() {
                panic!("DOCKHAND_E2E=1 but {reason}");
            }
            eprintln!("skipped: {reason}");
            println!("skipped: {reason}");
            return;
        }
    };
}

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    Command::new(program.as_ref())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?} {args:?}: {e}", program.as_ref()))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn have(cmd: &str) -> bool {
    which::which(cmd).is_ok()
}

/// What the tests need on this machine; `Some(reason)` when something is missing.
fn missing(need_htpasswd: bool) -> Option<String> {
    if unsafe { libc::geteuid() } != 0 {
        return Some(
            "the registry tests need root (network namespaces, /etc/docker, dockerd)".into(),
        );
    }
    for c in ["docker", "podman", "docker-registry", "ip", "curl", "flock"] {
        if !have(c) {
            return Some(format!(
                "`{c}` is not installed (scripts/setup-engines.sh installs it)"
            ));
        }
    }
    if need_htpasswd && !have("htpasswd") {
        return Some(
            "`htpasswd` is not installed (scripts/setup-engines.sh installs apache2-utils)".into(),
        );
    }
    if !run("docker", &["info", "--format", "{{.ServerVersion}}"])
        .status
        .success()
    {
        return Some(
            "dockerd is not answering `docker info` (run scripts/setup-engines.sh)".into(),
        );
    }
    if reload::find_dockerd().is_none() {
        return Some("no local dockerd process to reload".into());
    }
    if !run(
        "podman",
        &["image", "exists", "dockhand-test/busybox:latest"],
    )
    .status
    .success()
    {
        return Some(
            "podman has no dockhand-test/busybox:latest (run scripts/build-test-images.sh)".into(),
        );
    }
    None
}

/// Holds the in-process mutex and the cross-process flock.
struct Serial {
    _guard: MutexGuard<'static, ()>,
    _file: std::fs::File,
}

fn serial() -> Serial {
    static M: Mutex<()> = Mutex::new(());
    let guard = M.lock().unwrap_or_else(|e| e.into_inner());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_FILE)
        .expect("open the lock file");
    assert_eq!(
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) },
        0,
        "flock {LOCK_FILE}"
    );
    Serial {
        _guard: guard,
        _file: file,
    }
}

/// Host state saved before a test and restored after it, even when it panics.
struct HostGuard {
    daemon_json: Option<Vec<u8>>,
    daemon_owner: Option<(u32, u32, u32)>,
    backup: Option<Vec<u8>>,
    /// Whether dockerd listed REG as insecure before the test.
    docker_listed: bool,
    dropin: PathBuf,
    dropin_before: Option<Vec<u8>>,
    /// Images each engine had under IMAGE before (not removed afterwards then).
    docker_image_before: bool,
    podman_image_before: bool,
}

fn docker_lists_reg() -> bool {
    reload::registry_config(Path::new("docker"), None).is_ok_and(|c| reload::docker_lists(&c, REG))
}

fn docker_has_image() -> bool {
    run("docker", &["image", "inspect", IMAGE]).status.success()
}

fn podman_has_image() -> bool {
    run("podman", &["image", "exists", IMAGE]).status.success()
}

fn sighup_dockerd() {
    if let Some(d) = reload::find_dockerd() {
        unsafe { libc::kill(d.pid, libc::SIGHUP) };
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("warning: timed out waiting for {what}");
    false
}

impl HostGuard {
    fn save() -> HostGuard {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(DAEMON_JSON).ok();
        let dropin = Path::new(podman::DEFAULT_DIR).join(podman::file_name(REG));
        HostGuard {
            daemon_json: std::fs::read(DAEMON_JSON).ok(),
            daemon_owner: meta.map(|m| (m.mode() & 0o7777, m.uid(), m.gid())),
            backup: std::fs::read(daemon_json::backup_path(Path::new(DAEMON_JSON))).ok(),
            docker_listed: docker_lists_reg(),
            dropin_before: std::fs::read(&dropin).ok(),
            dropin,
            docker_image_before: docker_has_image(),
            podman_image_before: podman_has_image(),
        }
    }

    fn write_daemon_json(&self, bytes: &[u8]) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::write(DAEMON_JSON, bytes);
        if let Some((mode, uid, gid)) = self.daemon_owner {
            let _ = std::fs::set_permissions(DAEMON_JSON, std::fs::Permissions::from_mode(mode));
            let _ = std::os::unix::fs::chown(DAEMON_JSON, Some(uid), Some(gid));
        }
    }
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        // dockerd: a reload only resets insecure registries when the key is present, so first
        // reload with the original list made explicit (`[]` if it had none), then put the
        // original bytes back (or remove the file) without another reload.
        let now = std::fs::read(DAEMON_JSON).ok();
        if now != self.daemon_json || docker_lists_reg() != self.docker_listed {
            let original = self
                .daemon_json
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let explicit = daemon_json::ensure_key_text(&original)
                .map(|e| e.text)
                .unwrap_or(original);
            self.write_daemon_json(explicit.as_bytes());
            sighup_dockerd();
            let want = self.docker_listed;
            wait_for(
                "dockerd to reload its original insecure registries",
                Duration::from_secs(10),
                || docker_lists_reg() == want,
            );
            match &self.daemon_json {
                Some(b) => self.write_daemon_json(b),
                None => {
                    let _ = std::fs::remove_file(DAEMON_JSON);
                }
            }
        }
        let backup = daemon_json::backup_path(Path::new(DAEMON_JSON));
        match &self.backup {
            Some(b) => {
                let _ = std::fs::write(&backup, b);
            }
            None => {
                let _ = std::fs::remove_file(&backup);
            }
        }
        match &self.dropin_before {
            Some(b) => {
                let _ = std::fs::write(&self.dropin, b);
            }
            None => {
                let _ = std::fs::remove_file(&self.dropin);
            }
        }
        if !self.docker_image_before {
            let _ = run("docker", &["rmi", "--force", IMAGE]);
        }
        if !self.podman_image_before {
            let _ = run("podman", &["rmi", "--force", IMAGE]);
        }
        let down = run(script(), &["down"]);
        if !down.status.success() {
            eprintln!("warning: registry-netns.sh down failed: {}", text(&down));
        }
        // Report (not panic: this may run during a panic) if anything was not restored.
        if std::fs::read(DAEMON_JSON).ok() != self.daemon_json {
            eprintln!("warning: {DAEMON_JSON} was not restored");
        }
        if docker_lists_reg() != self.docker_listed {
            eprintln!("warning: dockerd's insecure registries were not restored");
        }
    }
}

/// Brings the registry up (optionally with htpasswd auth) and pushes the test image as IMAGE.
fn registry_up(htpasswd: Option<&str>) {
    let mut args = vec!["up"];
    if let Some(h) = htpasswd {
        args.extend(["--htpasswd", h]);
    }
    let up = run(script(), &args);
    assert!(
        up.status.success(),
        "registry-netns.sh up failed:\n{}",
        text(&up)
    );
    let seed = run(script(), &["seed", "my-image"]);
    assert!(
        seed.status.success(),
        "registry-netns.sh seed failed:\n{}",
        text(&seed)
    );
}

struct Dockhand {
    out: Output,
}

impl Dockhand {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    fn all(&self) -> String {
        text(&self.out)
    }
}

fn dh(args: &[&str], env: &[(&str, &Path)]) -> Dockhand {
    let mut c = Command::new(dockhand());
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    Dockhand {
        out: c.output().expect("run dockhand"),
    }
}

/// A scratch directory for work dirs, state and flow files.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dockhand-registry-e2e-")
        .tempdir()
        .expect("temp dir")
}

fn run_flow(engine: &str, flow: &Path, dir: &Path, json: bool) -> Dockhand {
    let work = dir.join("work");
    let state = dir.join("state");
    let mut args = vec![
        "run",
        "--engine",
        engine,
        "--work-dir",
        work.to_str().unwrap(),
    ];
    if json {
        args.push("--json");
    }
    args.push(flow.to_str().unwrap());
    dh(&args, &[("DOCKHAND_STATE_DIR", &state)])
}

// ---------------------------------------------------------------------------------------------
// a) Docker: daemon.json + reload make `dockhand run` of Kestra's insecure-registry flow work.

#[test]
fn docker_insecure_registry() {
    require!(missing(false));
    let _s = serial();
    let _g = HostGuard::save();
    registry_up(None);

    // Start from a dockerd that does not trust the registry.
    if daemon_json::list(Path::new(DAEMON_JSON))
        .ok()
        .flatten()
        .is_some_and(|l| l.iter().any(|r| r == REG))
        || docker_lists_reg()
    {
        let r = dh(&["registry", "insecure", "remove", REG, "--reload"], &[]);
        assert_eq!(r.code(), Some(0), "{}", r.all());
    }
    assert!(
        !daemon_json::list(Path::new(DAEMON_JSON))
            .unwrap()
            .unwrap_or_default()
            .iter()
            .any(|r| r == REG)
    );
    assert!(!docker_lists_reg());
    let _ = run("docker", &["rmi", "--force", IMAGE]);

    let pull = run("docker", &["pull", IMAGE]);
    assert!(!pull.status.success());
    let err = text(&pull);
    eprintln!("docker pull without daemon config: {}", err.trim());
    assert!(err.contains(HTTPS_ERROR), "unexpected docker error: {err}");

    // The fix: dockhand edits the real daemon.json and reloads dockerd.
    let add = dh(&["registry", "insecure", "add", REG, "--reload"], &[]);
    eprintln!("{}", add.all());
    assert_eq!(add.code(), Some(0), "{}", add.all());
    assert!(add.all().contains("reloaded dockerd"), "{}", add.all());
    assert!(
        daemon_json::list(Path::new(DAEMON_JSON))
            .unwrap()
            .unwrap()
            .iter()
            .any(|r| r == REG)
    );
    assert!(docker_lists_reg());
    // Idempotent: a second add writes nothing.
    let mtime = std::fs::metadata(DAEMON_JSON).unwrap().modified().unwrap();
    let again = dh(&["registry", "insecure", "add", REG], &[]);
    assert_eq!(again.code(), Some(0));
    assert!(again.all().contains("already in"), "{}", again.all());
    assert_eq!(
        std::fs::metadata(DAEMON_JSON).unwrap().modified().unwrap(),
        mtime
    );
    let list = dh(&["registry", "insecure", "list"], &[]);
    assert!(
        String::from_utf8_lossy(&list.out.stdout)
            .lines()
            .any(|l| l == REG),
        "{}",
        list.all()
    );

    let dir = scratch();
    let r = run_flow("docker", &fixture(), dir.path(), false);
    eprintln!("{}", r.all());
    assert_eq!(r.code(), Some(0), "dockhand run failed:\n{}", r.all());
    assert!(r.all().contains("Hello World!"), "{}", r.all());
    assert!(docker_has_image());

    // remove + reload makes dockerd refuse the registry again.
    let rm = dh(&["registry", "insecure", "remove", REG, "--reload"], &[]);
    eprintln!("{}", rm.all());
    assert_eq!(rm.code(), Some(0), "{}", rm.all());
    assert!(!docker_lists_reg());
    let pull = run("docker", &["pull", IMAGE]);
    assert!(
        !pull.status.success() && text(&pull).contains(HTTPS_ERROR),
        "{}",
        text(&pull)
    );
    let rmi = run("docker", &["rmi", "--force", IMAGE]);
    assert!(rmi.status.success(), "{}", text(&rmi));
}

// ---------------------------------------------------------------------------------------------
// b) Podman: a plain pull fails, the drop-in fixes it; dockhand's own --tls-verify=false too.

#[test]
fn podman_insecure_registry() {
    require!(missing(false));
    let _s = serial();
    let g = HostGuard::save();
    registry_up(None);

    if g.dropin.exists() {
        let r = dh(
            &["registry", "insecure", "remove", REG, "--engine", "podman"],
            &[],
        );
        assert_eq!(r.code(), Some(0), "{}", r.all());
    }
    let _ = run("podman", &["rmi", "--force", IMAGE]);
    let pull = run("podman", &["pull", IMAGE]);
    assert!(!pull.status.success());
    let err = text(&pull);
    eprintln!("podman pull without registries.conf.d: {}", err.trim());
    assert!(err.contains(HTTPS_ERROR), "unexpected podman error: {err}");

    // Without any host configuration, dockhand passes --tls-verify=false for a registry the
    // flow's config lists as insecure.
    let dir = scratch();
    let plan = dh(
        &["plan", "--engine", "podman", fixture().to_str().unwrap()],
        &[],
    );
    assert!(plan.all().contains("--tls-verify=false"), "{}", plan.all());
    let r = run_flow("podman", &fixture(), dir.path(), false);
    eprintln!("{}", r.all());
    assert_eq!(
        r.code(),
        Some(0),
        "dockhand run --engine podman failed:\n{}",
        r.all()
    );
    assert!(r.all().contains("Hello World!"), "{}", r.all());
    let _ = run("podman", &["rmi", "--force", IMAGE]);

    // The drop-in: a plain `podman pull` works.
    let add = dh(
        &[
            "registry", "insecure", "add", REG, "--engine", "podman", "--reload",
        ],
        &[],
    );
    eprintln!("{}", add.all());
    assert_eq!(add.code(), Some(0), "{}", add.all());
    let content = std::fs::read_to_string(&g.dropin).expect("the drop-in");
    assert!(
        content.contains("[[registry]]\nlocation = \"10.10.1.5:5000\"\ninsecure = true\n"),
        "{content}"
    );
    let pull = run("podman", &["pull", IMAGE]);
    assert!(
        pull.status.success(),
        "podman pull with the drop-in failed:\n{}",
        text(&pull)
    );
    let list = dh(&["registry", "insecure", "list", "--engine", "podman"], &[]);
    assert!(
        String::from_utf8_lossy(&list.out.stdout)
            .lines()
            .any(|l| l == REG),
        "{}",
        list.all()
    );

    let rm = dh(
        &[
            "registry", "insecure", "remove", REG, "--engine", "podman", "--reload",
        ],
        &[],
    );
    assert_eq!(rm.code(), Some(0), "{}", rm.all());
    assert!(!g.dropin.exists());
    let _ = run("podman", &["rmi", "--force", IMAGE]);
    let pull = run("podman", &["pull", IMAGE]);
    assert!(
        !pull.status.success() && text(&pull).contains(HTTPS_ERROR),
        "{}",
        text(&pull)
    );
}

// ---------------------------------------------------------------------------------------------
// c) Credentials: the right password pulls, a wrong one fails with the engine's auth error,
//    and the password never shows in any process's arguments or in a file left behind.

const USER: &str = "robot";

fn password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("Dh{}x{nanos:08x}Pw", std::process::id())
}

fn creds_flow(password: &str) -> String {
    format!(
        "id: registry_auth\nnamespace: e2e.registry\ntasks:\n  - id: pull_private\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: {IMAGE}\n    taskRunner:\n      type: io.kestra.plugin.scripts.runner.docker.Docker\n      pullPolicy: ALWAYS\n      config: |\n        {{\"insecure-registries\": [\"{REG}\"]}}\n      credentials:\n        username: {USER}\n        password: {password}\n    commands:\n      - echo \"Hello World!\"\n"
    )
}

/// [`creds_flow`] with the credentials as templates: the user from a variable, the password
/// from a SECRET input (given with `--input-env`), as the README's example has it.
fn creds_flow_templated() -> String {
    creds_flow("\"{{ inputs.registry_password }}\"")
        .replace(
            &format!("username: {USER}"),
            "username: \"{{ vars.robot }}\"",
        )
        .replace(
            "\ntasks:\n",
            &format!("\ninputs:\n  - id: registry_password\n    type: SECRET\nvariables:\n  robot: {USER}\ntasks:\n"),
        )
}

/// Scans /proc/*/cmdline and /proc/*/environ for the needles while it runs.
struct ProcScan {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<(usize, Vec<String>)>>,
}

impl ProcScan {
    fn start(needles: Vec<String>) -> ProcScan {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let me = std::process::id().to_string();
        let handle = std::thread::spawn(move || {
            let mut scans = 0;
            let mut hits = Vec::new();
            while !s.load(Ordering::Relaxed) {
                if let Ok(entries) = std::fs::read_dir("/proc") {
                    for e in entries.flatten() {
                        let pid = e.file_name().to_string_lossy().into_owned();
                        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
                            continue;
                        }
                        for f in ["cmdline", "environ"] {
                            let Ok(b) = std::fs::read(format!("/proc/{pid}/{f}")) else {
                                continue;
                            };
                            let t = String::from_utf8_lossy(&b);
                            if needles.iter().any(|n| t.contains(n.as_str())) {
                                hits.push(format!("/proc/{pid}/{f}: {}", t.replace('\0', " ")));
                            }
                        }
                    }
                }
                scans += 1;
                std::thread::sleep(Duration::from_millis(3));
            }
            (scans, hits)
        });
        ProcScan {
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

/// Files under `dir` whose content holds one of the needles.
fn files_containing(dir: &Path, needles: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            out.extend(files_containing(&p, needles));
        } else if ft.is_file()
            && let Ok(b) = std::fs::read(&p)
        {
            let t = String::from_utf8_lossy(&b);
            if needles.iter().any(|n| t.contains(n.as_str())) {
                out.push(p);
            }
        }
    }
    out
}

fn credentials(engine: &str) {
    require!(missing(true));
    let _s = serial();
    let _g = HostGuard::save();
    let pw = password();
    registry_up(Some(&format!("{USER}:{pw}")));
    if engine == "docker" {
        // Docker needs the daemon to trust the plain-HTTP registry; podman gets
        // --tls-verify=false from the flow's config.
        let add = dh(&["registry", "insecure", "add", REG, "--reload"], &[]);
        assert_eq!(add.code(), Some(0), "{}", add.all());
    }
    let base64 = dockhand::plan::build::base64(format!("{USER}:{pw}").as_bytes());
    let needles = vec![pw.clone(), base64.clone()];

    let dir = scratch();
    let good = dir.path().join("creds.yaml");
    let wrong_pw = format!("{pw}-wrong");
    let wrong = dir.path().join("wrong.yaml");
    std::fs::File::create(&good)
        .unwrap()
        .write_all(creds_flow(&pw).as_bytes())
        .unwrap();
    std::fs::File::create(&wrong)
        .unwrap()
        .write_all(creds_flow(&wrong_pw).as_bytes())
        .unwrap();

    // The plan shows the auth file, never its content.
    let plan = dh(&["plan", "--engine", engine, good.to_str().unwrap()], &[]);
    assert_eq!(plan.code(), Some(0), "{}", plan.all());
    assert!(
        plan.all().contains(if engine == "docker" {
            "--config"
        } else {
            "--authfile"
        }),
        "{}",
        plan.all()
    );
    for n in &needles {
        assert!(
            !plan.all().contains(n.as_str()),
            "`dockhand plan` shows a secret:\n{}",
            plan.all()
        );
    }

    // The right password: pulls (ALWAYS) and runs, with /proc watched all along.
    let scan = ProcScan::start(vec![pw.clone(), base64.clone(), wrong_pw.clone()]);
    let ok = run_flow(engine, &good, dir.path(), false);
    let bad = run_flow(engine, &wrong, dir.path(), true);
    let (scans, hits) = scan.finish();
    eprintln!("{}", ok.all());
    assert_eq!(
        ok.code(),
        Some(0),
        "{engine}: run with the right password failed:\n{}",
        ok.all()
    );
    assert!(ok.all().contains("Hello World!"), "{}", ok.all());
    assert!(scans > 20, "the /proc scan ran only {scans} times");
    assert!(
        hits.is_empty(),
        "{engine}: the password showed in /proc:\n{}",
        hits.join("\n")
    );

    // The wrong password: FAILED, with the engine's authentication error.
    eprintln!("{}", bad.all());
    assert_eq!(bad.code(), Some(1), "{}", bad.all());
    let result: serde_json::Value = serde_json::from_slice(&bad.out.stdout).expect("--json result");
    let task = &result["tasks"][0];
    assert_eq!(task["state"], "FAILED", "{result:#}");
    let log = String::from_utf8_lossy(&bad.out.stderr);
    assert!(
        log.contains("unauthorized: authentication required"),
        "{engine}: no authentication error in the logs:\n{log}"
    );

    // Templated credentials, rendered as Kestra does: the password from a SECRET input given
    // off the command line. It pulls (ALWAYS), and the output never shows the password.
    let templated = dir.path().join("templated.yaml");
    std::fs::write(&templated, creds_flow_templated()).unwrap();
    let work_s = dir.path().join("work").display().to_string();
    let tpl = dh(
        &[
            "run",
            "--engine",
            engine,
            "--work-dir",
            &work_s,
            "--input-env",
            "registry_password=DH_REGISTRY_PW",
            templated.to_str().unwrap(),
        ],
        &[
            ("DOCKHAND_STATE_DIR", &dir.path().join("state")),
            ("DH_REGISTRY_PW", Path::new(&pw)),
        ],
    );
    eprintln!("{}", tpl.all());
    assert_eq!(
        tpl.code(),
        Some(0),
        "{engine}: run with a templated password failed:\n{}",
        tpl.all()
    );
    assert!(tpl.all().contains("Hello World!"), "{}", tpl.all());
    for n in &needles {
        assert!(!tpl.all().contains(n.as_str()), "{engine}: {}", tpl.all());
    }

    // Nothing with the password is left in the work dir or the private dir.
    let work = dir.path().join("work");
    assert!(
        files_containing(&work, &needles).is_empty(),
        "files with the password remain: {:?}",
        files_containing(&work, &needles)
    );
    let private = work.join(".private");
    assert!(files_containing(&private, &needles).is_empty());
    // The journal (state dir) is reported, not asserted: it keeps the flow text for `resume`.
    let journal = files_containing(&dir.path().join("state"), &needles);
    if !journal.is_empty() {
        eprintln!("note: the password is stored in the execution journal: {journal:?}");
    }

    // Last, so every check above has run: the FAILED task's own message must say why.
    let message = task["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("unauthorized") || message.contains("authentication required"),
        "{engine}: the FAILED task's message does not carry the engine's authentication error (it is only in the logs): {message:?}"
    );
}

#[test]
fn docker_registry_credentials() {
    credentials("docker");
}

#[test]
fn podman_registry_credentials() {
    credentials("podman");
}

// ---------------------------------------------------------------------------------------------
// The CLI's exit codes and its refusal to write on bad input (temporary files only).

#[test]
fn cli_bad_input_writes_nothing() {
    let dir = scratch();
    let path = dir.path().join("daemon.json");
    let p = path.to_str().unwrap();

    let r = dh(
        &[
            "registry",
            "insecure",
            "add",
            "http://10.10.1.5:5000",
            "--daemon-json",
            p,
        ],
        &[],
    );
    assert_eq!(r.code(), Some(2), "{}", r.all());
    assert!(r.all().contains("without a scheme"), "{}", r.all());
    assert!(!path.exists());
    let r = dh(
        &[
            "registry",
            "insecure",
            "add",
            "10.10.1.5.:5000",
            "ok:1",
            "--daemon-json",
            p,
        ],
        &[],
    );
    assert_eq!(r.code(), Some(2), "{}", r.all());
    assert!(
        !path.exists(),
        "a bad HOST among good ones must stop everything"
    );

    let malformed = "{\n  \"log-level\": \"warn\"\n  \"debug\": true\n}\n";
    std::fs::write(&path, malformed).unwrap();
    let r = dh(
        &["registry", "insecure", "add", REG, "--daemon-json", p],
        &[],
    );
    assert_eq!(r.code(), Some(2), "{}", r.all());
    assert!(r.all().contains(&format!("{p}:3:3")), "{}", r.all());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), malformed);
    assert!(!daemon_json::backup_path(&path).exists());

    std::fs::write(&path, "{\"log-level\": \"warn\"}").unwrap();
    let r = dh(
        &["registry", "insecure", "add", REG, "--daemon-json", p],
        &[],
    );
    assert_eq!(r.code(), Some(0), "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"log-level\": \"warn\", \"insecure-registries\": [\"10.10.1.5:5000\"]}"
    );
    assert_eq!(
        std::fs::read_to_string(daemon_json::backup_path(&path)).unwrap(),
        "{\"log-level\": \"warn\"}"
    );
    let r = dh(&["registry", "insecure", "list", "--daemon-json", p], &[]);
    assert_eq!(String::from_utf8_lossy(&r.out.stdout), "10.10.1.5:5000\n");

    // Options of the other engine are refused.
    let r = dh(
        &[
            "registry",
            "insecure",
            "add",
            REG,
            "--engine",
            "podman",
            "--daemon-json",
            p,
        ],
        &[],
    );
    assert_eq!(r.code(), Some(2), "{}", r.all());
    let r = dh(
        &[
            "registry",
            "insecure",
            "add",
            "10.0.0.0/8",
            "--engine",
            "podman",
            "--registries-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code(), Some(2), "{}", r.all());

    let r = dh(&["registry", "insecure", "add", "--help"], &[]);
    assert_eq!(r.code(), Some(0));
    for want in [
        "Examples:",
        "Exit codes:",
        "--reload",
        "daemon.json.dockhand-bak",
    ] {
        assert!(r.all().contains(want), "--help lacks {want}:\n{}", r.all());
    }
}

#[test]
fn cli_podman_dropins_in_a_directory() {
    let dir = scratch();
    let d = dir.path().join("registries.conf.d");
    let ds = d.to_str().unwrap();
    let r = dh(
        &[
            "registry",
            "insecure",
            "add",
            REG,
            "registry.local:5000",
            "--engine",
            "podman",
            "--registries-dir",
            ds,
        ],
        &[],
    );
    assert_eq!(r.code(), Some(0), "{}", r.all());
    let r = dh(
        &[
            "registry",
            "insecure",
            "list",
            "--engine",
            "podman",
            "--registries-dir",
            ds,
        ],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&r.out.stdout),
        "10.10.1.5:5000\nregistry.local:5000\n"
    );
    let r = dh(
        &[
            "registry",
            "insecure",
            "remove",
            REG,
            "--engine",
            "podman",
            "--registries-dir",
            ds,
        ],
        &[],
    );
    assert_eq!(r.code(), Some(0), "{}", r.all());
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["50-dockhand-registry.local_5000.conf"]);
}

// ---------------------------------------------------------------------------------------------
// f) The pre-check asks the daemon the flow runs on: with `--host tcp://…`, that host, never the
//    local daemon. A fake docker CLI (no engine, no host change) records every call.

/// A fake docker CLI: answers `version`; `info` with the registry trusted when asked with
/// `--host tcp://127.0.0.1:1` and `remote_info` is "trusting", failing for "down", and, asked
/// without `--host` (the local daemon), with it untrusted; refuses everything else. Its calls
/// go to `calls.log`, one per line.
fn fake_docker(dir: &Path, remote_info: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("calls.log");
    let trusted = format!(
        r#"{{"IndexConfigs":{{"{REG}":{{"Name":"{REG}","Secure":false}}}},"InsecureRegistryCIDRs":["127.0.0.0/8"]}}"#
    );
    let untrusted = r#"{"IndexConfigs":{},"InsecureRegistryCIDRs":["127.0.0.0/8"]}"#;
    let remote = match remote_info {
        "trusting" => format!("echo '{trusted}'; exit 0"),
        _ => "echo 'error during connect: dial tcp 127.0.0.1:1: connect: connection refused' >&2; exit 1".to_string(),
    };
    let script = format!(
        r#"#!/bin/sh
printf '%s\n' "$*" >> '{log}'
case " $* " in
  *" version "*) echo 28.2.2; exit 0 ;;
  *" --host tcp://127.0.0.1:1 info "*) {remote} ;;
  *" info "*) echo '{untrusted}'; exit 0 ;;
  *" inspect "*) echo 'Error: No such container: x' >&2; exit 1 ;;
  *) echo 'Error response from daemon: fake engine' >&2; exit 125 ;;
esac
"#,
        log = log.display()
    );
    let path = dir.join("docker");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn precheck_with_remote_host(remote_info: &str) -> (Dockhand, String) {
    let dir = scratch();
    let fake = fake_docker(dir.path(), remote_info);
    let work = dir.path().join("work");
    let state = dir.path().join("state");
    let r = dh(
        &[
            "run",
            "--engine",
            fake.to_str().unwrap(),
            "--host",
            "tcp://127.0.0.1:1",
            "--work-dir",
            work.to_str().unwrap(),
            fixture().to_str().unwrap(),
        ],
        &[("DOCKHAND_STATE_DIR", &state)],
    );
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap_or_default();
    (r, calls)
}

#[test]
fn precheck_asks_the_remote_host() {
    let (r, calls) = precheck_with_remote_host("trusting");
    eprintln!("{}\ncalls:\n{calls}", r.all());
    let infos: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains(" info ") || l.starts_with("info "))
        .collect();
    assert_eq!(
        infos,
        vec!["--host tcp://127.0.0.1:1 info --format {{json .RegistryConfig}}"],
        "the registry settings must come from the flow's host, and only from it"
    );
    assert!(
        !r.all().contains("does not trust"),
        "the host trusts the registry, yet dockhand warns:\n{}",
        r.all()
    );
    // The fake refuses `run`: the task fails, nothing else.
    assert_eq!(r.code(), Some(1), "{}", r.all());
}

#[test]
fn precheck_of_an_unreadable_remote_host_is_skipped_with_a_note() {
    let (r, calls) = precheck_with_remote_host("down");
    eprintln!("{}\ncalls:\n{calls}", r.all());
    assert!(
        !calls.lines().any(|l| l.starts_with("info ")),
        "the local daemon was asked:\n{calls}"
    );
    assert!(
        r.all().contains(
            "cannot read the registry settings of the Docker daemon at tcp://127.0.0.1:1"
        ) && r
            .all()
            .contains("not checked whether it trusts 10.10.1.5:5000"),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("does not trust"), "{}", r.all());
}
