//! End-to-end harness: finds a usable docker / podman, runs the real `dockhand` binary against
//! it with a unique execution id and work directory, and checks that no container of the test's
//! execution is left behind.
//!
//! Without `DOCKHAND_E2E=1`, a missing engine (CLI, daemon or test image) skips the test with a
//! `skipped: <reason>` line on stderr. With `DOCKHAND_E2E=1` it fails the test loudly instead:
//! CI must never pass by skipping.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The image every test flow uses. Docker resolves it to the local `busybox:latest`, Podman to
/// `localhost/busybox:latest`, where `podman tag` (scripts/build-test-images.sh) puts it. Test
/// flows also use `pullPolicy: NEVER`, so nothing is ever pulled from a registry.
pub const IMAGE: &str = "busybox:latest";

/// How long any single dockhand run may take before the harness kills it.
pub const RUN_LIMIT: Duration = Duration::from_secs(180);
/// How long a container's detached removal may take after dockhand returned.
pub const REMOVAL_LIMIT: Duration = Duration::from_secs(15);

/// Images that must be present in an engine, as that engine names them.
fn required_images(name: &str) -> &'static [&'static str] {
    match name {
        // `centos` is what fixtures/kestra-centos.yaml names (IF_NOT_PRESENT: it must be local,
        // or dockhand would try to pull it).
        "docker" => &[
            "dockhand-test/busybox:latest",
            "busybox:latest",
            "centos:latest",
        ],
        _ => &[
            "localhost/dockhand-test/busybox:latest",
            "localhost/busybox:latest",
            "localhost/centos:latest",
        ],
    }
}

/// A usable engine CLI.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `docker` or `podman`: what the tests pass as `--engine`.
    pub name: &'static str,
    /// The resolved CLI, for the harness's own commands (inspect, ps, rm).
    pub program: PathBuf,
}

/// What a finished process printed.
#[derive(Debug, Clone)]
pub struct CmdOut {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl CmdOut {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs a short command with a time limit, capturing its output.
pub fn run_cmd(program: &Path, args: &[&str], limit: Duration) -> CmdOut {
    let mut c = Command::new(program);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => {
            return CmdOut {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot run {}: {e}", program.display()),
                timed_out: false,
            };
        }
    };
    let out_t = read_all(child.stdout.take().unwrap());
    let err_t = read_all(child.stderr.take().unwrap());
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    CmdOut {
        code: status.and_then(|s| s.code()),
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
        timed_out,
    }
}

fn read_all<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn probe(name: &'static str) -> Result<Engine, String> {
    let program = which::which(name).map_err(|_| format!("{name} CLI not found on PATH"))?;
    let info = run_cmd(
        &program,
        &["info", "--format", "{{json .}}"],
        Duration::from_secs(20),
    );
    if info.timed_out {
        return Err(format!(
            "`{name} info` did not answer within 20 s (engine hung?)"
        ));
    }
    if !info.ok() {
        let why = info
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim()
            .to_string();
        return Err(format!(
            "`{name} info` failed (engine not running? run `bash scripts/setup-engines.sh`): {why}"
        ));
    }
    let mut missing = Vec::new();
    for img in required_images(name) {
        let out = run_cmd(
            &program,
            &["image", "inspect", "--format", "{{.Id}}", img],
            Duration::from_secs(20),
        );
        if !out.ok() {
            missing.push(*img);
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "{name} lacks the local test image(s) {} (run `bash scripts/build-test-images.sh`; never pulled from a registry)",
            missing.join(", ")
        ));
    }
    Ok(Engine { name, program })
}

/// A usable engine, or `None` (with `skipped: <reason>` on stderr). With `DOCKHAND_E2E=1`, a
/// missing engine panics: CI must not skip silently.
pub fn engine(name: &str) -> Option<Engine> {
    static DOCKER: OnceLock<Result<Engine, String>> = OnceLock::new();
    static PODMAN: OnceLock<Result<Engine, String>> = OnceLock::new();
    let probed = match name {
        "docker" => DOCKER.get_or_init(|| probe("docker")),
        "podman" => PODMAN.get_or_init(|| probe("podman")),
        other => panic!("unknown engine {other}"),
    };
    match probed {
        Ok(e) => Some(e.clone()),
        Err(reason) if std::env::var("DOCKHAND_E2E").is_ok_and(|v| v == "1") => {
            panic!(
                "\n\n*** DOCKHAND_E2E=1 but the {name} engine is not usable: {reason} ***\n*** end-to-end tests must not be skipped in CI ***\n\n"
            )
        }
        Err(reason) => {
            // Once per engine straight to the process's stderr, which the test harness does not
            // capture (so it shows without --nocapture); and per test through the captured
            // stream, so it shows next to the test that skipped.
            static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
            let mut said = SAID.lock().unwrap();
            if !said.iter().any(|n| n == name) {
                said.push(name.to_string());
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "skipped: {reason} (every {name} end-to-end test; set DOCKHAND_E2E=1 to fail instead)"
                );
            }
            eprintln!("skipped: {reason}");
            None
        }
    }
}

impl Engine {
    pub fn cli(&self, args: &[&str]) -> CmdOut {
        run_cmd(&self.program, args, Duration::from_secs(60))
    }

    /// `inspect` of one container, the first (only) element of the array.
    pub fn inspect(&self, container: &str) -> Value {
        let out = self.cli(&["inspect", "--type", "container", container]);
        assert!(
            out.ok(),
            "{} inspect {container} failed: {}",
            self.name,
            out.stderr
        );
        let v: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("inspect output is not JSON ({e}): {}", out.stdout));
        v.get(0)
            .cloned()
            .unwrap_or_else(|| panic!("inspect returned no element: {}", out.stdout))
    }

    /// Names of the containers (any state) labelled with this execution.
    pub fn containers_of(&self, execution: &str) -> Vec<String> {
        let filter = format!("label=io.dockhand.execution={execution}");
        let out = self.cli(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]);
        assert!(out.ok(), "{} ps failed: {}", self.name, out.stderr);
        out.stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Waits up to [`REMOVAL_LIMIT`] for the containers of an execution to be gone (dockhand
    /// returns before its last `rm` processes finish); the names still there after that.
    pub fn wait_gone(&self, execution: &str) -> Vec<String> {
        left_after_removals(|| self.containers_of(execution))
    }

    /// Removes containers at once (no stop grace period).
    pub fn remove(&self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let mut args: Vec<&str> = vec!["rm", "--force"];
        if self.name == "podman" {
            args.extend(["--time", "0"]);
        }
        args.extend(names.iter().map(String::as_str));
        let out = self.cli(&args);
        if !out.ok() {
            eprintln!("warning: {} rm {names:?} failed: {}", self.name, out.stderr);
        }
    }
}

/// A unique execution id: `<test>-<d|p>-<pid>-<n>`, within the 64 characters dockhand allows.
pub fn execution_id(test: &str, engine: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let suffix = format!(
        "{}-{:x}{:x}",
        &engine[..1],
        std::process::id(),
        (nanos >> 8) ^ n
    );
    let mut head: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    head.truncate(40 - suffix.len().min(40));
    let id = format!("{}-{suffix}", head.trim_end_matches('-'));
    assert!(id.len() <= 64, "{id}");
    id
}

/// A random lowercase hex string (from the kernel's random source).
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("/dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One test's world: engine, execution id, temp dir (flows and work dir).
pub struct Ctx {
    pub eng: Engine,
    pub id: String,
    pub tmp: tempfile::TempDir,
}

impl Ctx {
    pub fn new(test: &str, eng: Engine) -> Ctx {
        let id = execution_id(test, eng.name);
        let tmp = tempfile::Builder::new()
            .prefix(&format!("dockhand-e2e-{id}-"))
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("flows")).unwrap();
        std::fs::create_dir_all(tmp.path().join("work")).unwrap();
        Ctx { eng, id, tmp }
    }

    /// `--work-dir` of the runs.
    pub fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    /// The journal file of this test's execution (under the state dir the runs are given).
    pub fn state_journal(&self) -> PathBuf {
        self.tmp
            .path()
            .join("state/executions")
            .join(format!("{}.jsonl", self.id))
    }

    /// A task's working directory on the host.
    pub fn workdir(&self, task: &str) -> PathBuf {
        self.work().join(&self.id).join(task)
    }

    /// dockhand's container name for a task (first attempt).
    pub fn container(&self, task: &str) -> String {
        format!("dh-{}-{task}-1", self.id)
    }

    /// Writes a flow file and returns its path. A flow dockhand accepts must also pass
    /// `dockhand schema` (an editor must not flag what runs): checked here for every flow the
    /// end-to-end tests write.
    pub fn flow(&self, name: &str, yaml: &str) -> PathBuf {
        let p = self.tmp.path().join("flows").join(format!("{name}.yaml"));
        std::fs::write(&p, yaml).unwrap();
        assert_schema_accepts(&p.display().to_string(), yaml);
        p
    }

    /// `dockhand run FLOW --engine E --execution-id ID --work-dir W --json EXTRA...`
    pub fn run_args(&self, flow: &Path, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "run".into(),
            flow.display().to_string(),
            "--engine".into(),
            self.eng.name.into(),
            "--execution-id".into(),
            self.id.clone(),
            "--work-dir".into(),
            self.work().display().to_string(),
            "--json".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// Runs a flow to its end (killed after [`RUN_LIMIT`]).
    pub fn run(&self, flow: &Path) -> Run {
        self.run_with(flow, &[], &[])
    }

    pub fn run_with(&self, flow: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
        self.spawn(flow, extra, env).finish(RUN_LIMIT)
    }

    /// Starts a run without waiting for it.
    pub fn spawn(&self, flow: &Path, extra: &[&str], env: &[(&str, &str)]) -> Spawned {
        Spawned::start(&self.run_args(flow, extra), &self.env(env))
    }

    /// `run` of `flow` as execution `id` (another than the test's own, or the same), with
    /// `--wait-removal` and `extra` arguments.
    pub fn run_as(&self, flow: &Path, id: &str, extra: &[&str]) -> Run {
        let work = self.work().display().to_string();
        let f = flow.display().to_string();
        let mut args = vec![
            "run",
            &f,
            "--engine",
            self.eng.name,
            "--execution-id",
            id,
            "--work-dir",
            &work,
            "--json",
            "--wait-removal",
        ];
        args.extend(extra);
        self.dockhand(&args, &[])
    }

    /// Any dockhand command (plan, validate, run with custom arguments).
    pub fn dockhand(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Spawned::start(&args, &self.env(env)).finish(RUN_LIMIT)
    }

    /// dockhand's state (execution journals) goes to the test's temp dir, not ~/.local/state.
    pub fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
        let state = self.tmp.path().join("state").display().to_string();
        let mut v = vec![
            ("DOCKHAND_STATE_DIR".to_string(), state.clone()),
            ("XDG_STATE_HOME".to_string(), state),
        ];
        v.extend(
            extra
                .iter()
                .map(|(k, val)| (k.to_string(), val.to_string())),
        );
        v
    }

    /// Kills `first` with SIGKILL, waits until `executions` lists `id` INTERRUPTED (its
    /// journal's lock may outlive the process by as long as a command it was forking takes to
    /// exec), then runs `dockhand resume ID --json`, which must exit 0: what the killed run had
    /// printed on stderr, and the resume.
    pub fn kill_then_resume(&self, mut first: Spawned, id: &str) -> (String, Run) {
        first.signal(9);
        assert!(first.wait_for(Duration::from_secs(10)).is_some());
        let before = first.stderr_so_far();
        let state = || {
            let l = self.dockhand(&["executions", "--json"], &[]);
            l.json["executions"]
                .as_array()
                .and_then(|l| l.iter().find(|e| e["id"] == id))
                .map(|e| e["state"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        };
        let until = Instant::now() + Duration::from_secs(10);
        while state() != "INTERRUPTED" && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(state(), "INTERRUPTED", "{before}");
        let resumed = self.dockhand(&["resume", id, "--json"], &[]);
        resumed.assert_code(0);
        (before, resumed)
    }

    /// Fails the test if a container of this execution is left; removes it either way.
    pub fn assert_no_containers(&self) {
        let left = self.eng.wait_gone(&self.id);
        if !left.is_empty() {
            self.eng.remove(&left);
            panic!(
                "containers of execution {} were left behind: {left:?}",
                self.id
            );
        }
    }
}

impl Drop for Ctx {
    /// On a failed (panicking) test, do not leak containers into the next runs.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let left = self.eng.containers_of(&self.id);
            self.eng.remove(&left);
        }
    }
}

/// When the reader accepts `yaml`, the JSON Schema (`dockhand schema`) accepts it too.
pub fn assert_schema_accepts(file: &str, yaml: &str) {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    let loaded = dockhand::flow::decode::load(file, yaml);
    if loaded.flow.is_none() {
        return;
    }
    let v = SCHEMA.get_or_init(|| {
        jsonschema::draft7::new(&dockhand::schema::schema()).expect("the schema compiles")
    });
    let mut diags = dockhand::diag::Diags::new(file);
    let json = dockhand::flow::yaml::parse(yaml, &mut diags)
        .expect("the reader parsed it")
        .to_json();
    let errors: Vec<String> = v
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "dockhand accepts {file} but `dockhand schema` rejects it: {errors:#?}\n{yaml}"
    );
}

/// A dockhand process being run: stderr lines arrive as they are printed.
pub struct Spawned {
    pub child: Child,
    pub started: Instant,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_t: Option<std::thread::JoinHandle<()>>,
    stdout_t: Option<std::thread::JoinHandle<String>>,
    pub args: Vec<String>,
}

impl Spawned {
    pub fn start(args: &[String], env: &[(String, String)]) -> Spawned {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dockhand"));
        c.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.env("NO_COLOR", "1");
        for (k, v) in env {
            c.env(k, v);
        }
        let started = Instant::now();
        let mut child = c.spawn().expect("cannot start the dockhand binary");
        let stdout_t = read_all(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let acc = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        let stderr_t = std::thread::spawn(move || {
            let mut r = BufReader::new(pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).into_owned();
                        acc.lock().unwrap().push_str(&line);
                        let _ = tx.send(line.trim_end_matches('\n').to_string());
                    }
                }
            }
        });
        Spawned {
            child,
            started,
            lines: rx,
            stderr,
            stderr_t: Some(stderr_t),
            stdout_t: Some(stdout_t),
            args: args.to_vec(),
        }
    }

    /// Waits until a stderr line satisfies `pred`; false on timeout or end of output.
    pub fn wait_line(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if pred(&l) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn signal(&self, sig: i32) {
        let rc = unsafe { libc::kill(self.child.id() as i32, sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.child.id());
    }

    /// Waits for the exit; `None` if it did not end within `limit` (the process is left running).
    pub fn wait_for(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s),
                Ok(None) if Instant::now() >= deadline => return None,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("wait: {e}"),
            }
        }
    }

    /// Waits for the exit (killing the process after `limit`) and collects everything.
    pub fn finish(mut self, limit: Duration) -> Run {
        let status = match self.wait_for(limit) {
            Some(s) => s,
            None => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let err = self.stderr_so_far();
                panic!(
                    "dockhand {:?} did not finish within {limit:?}; killed. stderr so far:\n{err}",
                    self.args
                );
            }
        };
        let elapsed = self.started.elapsed();
        if let Some(t) = self.stderr_t.take() {
            let _ = t.join();
        }
        let stdout = self
            .stdout_t
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = self.stderr_so_far();
        let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        use std::os::unix::process::ExitStatusExt;
        Run {
            code: status.code(),
            signal: status.signal(),
            stdout,
            stderr,
            json,
            elapsed,
            args: self.args.clone(),
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A finished dockhand run.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// stdout parsed (`--json`), `Null` if it was not JSON.
    pub json: Value,
    pub elapsed: Duration,
    pub args: Vec<String>,
}

impl Run {
    /// Everything, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "dockhand {:?}\nexit code: {:?} (signal {:?}) after {:.2?}\n--- stdout ---\n{}\n--- stderr ---\n{}--------------",
            self.args, self.code, self.signal, self.elapsed, self.stdout, self.stderr
        )
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.dump()
        );
    }

    pub fn has_task(&self, id: &str) -> bool {
        self.tasks().iter().any(|t| t["id"] == id)
    }

    pub fn tasks(&self) -> Vec<Value> {
        self.json["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no tasks array in the JSON result\n{}", self.dump()))
    }

    /// A task's result object; panics (with the whole run) if absent.
    pub fn task(&self, id: &str) -> Value {
        self.tasks()
            .into_iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("task {id} not in the result\n{}", self.dump()))
    }

    /// The log lines of a task on one stream (`'|'` stdout, `'!'` stderr), prefix removed.
    pub fn logs(&self, task: &str, mark: char) -> Vec<String> {
        let (out, err) = (" | ", " ! ");
        self.stderr
            .lines()
            .filter_map(|l| {
                let i = match (l.find(out), l.find(err)) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(a), None) | (None, Some(a)) => a,
                    (None, None) => return None,
                };
                let (name, rest) = l.split_at(i);
                (name.trim_end() == task && rest[1..].starts_with(mark))
                    .then(|| rest[3..].to_string())
            })
            .collect()
    }

    /// Both streams of a task's log.
    pub fn all_logs(&self, task: &str) -> Vec<String> {
        let mut v = self.logs(task, '|');
        v.extend(self.logs(task, '!'));
        v
    }
}

/// Defines one end-to-end test for each engine, as `NAME::docker` and `NAME::podman`. The body
/// gets a `&Ctx`; afterwards no container labelled with the test's execution may remain.
#[macro_export]
macro_rules! e2e_test {
    ($name:ident, |$cx:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($cx: &$crate::common::Ctx) $body

            #[test]
            fn docker() {
                $crate::common::run_test(stringify!($name), "docker", body);
            }

            #[test]
            fn podman() {
                $crate::common::run_test(stringify!($name), "podman", body);
            }
        }
    };
}

/// Runs one test body against one engine (skipping or failing loudly if it is missing).
pub fn run_test(test: &str, engine_name: &str, body: fn(&Ctx)) {
    let Some(eng) = engine(engine_name) else {
        return;
    };
    let cx = Ctx::new(test, eng);
    body(&cx);
    cx.assert_no_containers();
}

// ------------------------------------------------------------------------------ flow helpers

/// Indents every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One shell Commands task on the busybox test image, never pulled. `props` are extra task
/// properties and `runner` extra taskRunner properties, both written unindented; every command
/// becomes a literal block scalar, so it needs no YAML quoting.
pub fn task(id: &str, props: &str, runner: &str, commands: &[&str]) -> String {
    let mut s = format!(
        "- id: {id}\n  type: io.kestra.plugin.scripts.shell.Commands\n  containerImage: {IMAGE}\n"
    );
    if !props.trim().is_empty() {
        s.push_str(&indent(props.trim_end(), 2));
        s.push('\n');
    }
    s.push_str("  taskRunner:\n    type: io.kestra.plugin.scripts.runner.docker.Docker\n    pullPolicy: NEVER\n");
    if !runner.trim().is_empty() {
        s.push_str(&indent(runner.trim_end(), 4));
        s.push('\n');
    }
    s.push_str("  commands:\n");
    for c in commands {
        s.push_str("    - |-\n");
        s.push_str(&indent(c, 6));
        s.push('\n');
    }
    s
}

/// A flow of the given tasks (each from [`task`] or written by hand, unindented).
pub fn flow(id: &str, tasks: &[String]) -> String {
    let mut s = format!("id: {id}\nnamespace: e2e.tests\n\ntasks:\n");
    for t in tasks {
        s.push_str(&indent(t, 2));
        s.push('\n');
    }
    s
}

/// Asks `list` (container names) until it is empty, for at most [`REMOVAL_LIMIT`]: the names
/// still there once dockhand's detached removals had their time.
pub fn left_after_removals(list: impl Fn() -> Vec<String>) -> Vec<String> {
    let until = Instant::now() + REMOVAL_LIMIT;
    loop {
        let left = list();
        if left.is_empty() || Instant::now() > until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A task's container was removed: confirmed by dockhand (`removed`), or still being removed by
/// the detached `rm` it left when it returned (`handedOff`; the test harness then sees it gone).
pub fn assert_removed(t: &Value) {
    let r = t["removal"].as_str().unwrap_or("");
    assert!(
        r == "removed" || r == "handedOff",
        "the container was not removed: {t:#}"
    );
}

/// A run that stopped before anything ran: exactly one stderr line, `dockhand: error: …`, and
/// nothing on stdout. Returns that line.
pub fn one_line_error(run: &Run) -> String {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "expected a one-line error\n{}", run.dump());
    assert!(lines[0].starts_with("dockhand: error: "), "{}", run.dump());
    assert!(
        run.stdout.trim().is_empty(),
        "nothing on stdout when nothing ran\n{}",
        run.dump()
    );
    lines[0].to_string()
}

/// Regular files below `dir`, recursively, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// [`files_below`] as paths relative to `dir`.
pub fn relative_files_below(dir: &Path) -> Vec<String> {
    files_below(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}
