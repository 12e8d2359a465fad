//! End-to-end tests of `--backend swarm` on a real three-node Docker Swarm made for each test
//! by `scripts/swarm-cluster.sh` (three dockerd in network namespaces of their own, one manager
//! and two workers, the test image loaded on each, node labels dockhand.node=n0|n1|n2), and
//! removed after it. The machine's own dockerd is only read from (its test image is saved).
//!
//! Swarm is Docker's: on Podman the backend is refused with exit 3, which is tested here too.
//! Without root, docker or the test image the tests skip; with `DOCKHAND_E2E=1` they fail.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{Ctx, flow, task};

/// A test with a cluster of its own (`cx`, `c`), skipped as [`Cluster::up`] says.
macro_rules! swarm_test {
    ($name:ident, |$cx:ident, $c:ident| $body:block) => {
        #[test]
        fn $name() {
            let Some(($cx, $c)) = Cluster::up(stringify!($name)) else {
                return;
            };
            $body
        }
    };
}

/// Writes a flow of these tasks, named `name`.
fn flow_file(cx: &Ctx, name: &str, tasks: &[String]) -> PathBuf {
    cx.flow(name, &flow(name, tasks))
}

/// A cluster of this test's own, taken down on drop.
struct Cluster {
    name: String,
    env: BTreeMap<String, String>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/swarm-cluster.sh")
}

fn cluster_script(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .expect("cannot run scripts/swarm-cluster.sh");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Cluster {
    /// The test's context (docker, the test image) and its cluster; `None` (skipped) when the
    /// machine cannot run one, unless `DOCKHAND_E2E=1`, where that fails the test.
    fn up(test: &str) -> Option<(Ctx, Cluster)> {
        let eng = common::engine("docker")?;
        if unsafe { libc::geteuid() } != 0 {
            if std::env::var("DOCKHAND_E2E").is_ok_and(|v| v == "1") {
                panic!("DOCKHAND_E2E=1 but the swarm tests need root (network namespaces)");
            }
            eprintln!("skipped: the swarm tests need root (network namespaces)");
            return None;
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "dhe{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let (ok, stdout, stderr) = cluster_script(&["up", "--name", &name]);
        let cluster = Cluster {
            name,
            env: stdout
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        assert!(ok, "the test swarm did not come up:\n{stderr}");
        Some((Ctx::new(test, eng), cluster))
    }

    fn manager(&self) -> String {
        self.env["SWARM_MANAGER"].clone()
    }

    fn hostname(&self, i: usize) -> String {
        self.env[&format!("SWARM_NODE_{i}_HOSTNAME")].clone()
    }

    /// `docker --host NODE ARGS` (node 0 is the manager).
    fn docker(&self, i: usize, args: &[&str]) -> common::CmdOut {
        let host = self.env[&format!("SWARM_NODE_{i}_HOST")].clone();
        let mut a = vec!["--host", host.as_str()];
        a.extend_from_slice(args);
        common::run_cmd(
            &which::which("docker").unwrap(),
            &a,
            Duration::from_secs(30),
        )
    }

    /// The containers of an execution on node `i` (any state), by name.
    fn containers_on(&self, i: usize, execution: &str) -> Vec<String> {
        let label = format!("label=io.dockhand.execution={execution}");
        let out = self.docker(
            i,
            &["ps", "--all", "--filter", &label, "--format", "{{.Names}}"],
        );
        out.stdout.lines().map(str::to_string).collect()
    }

    /// Running containers of an execution on any live node.
    fn running(&self, execution: &str, nodes: &[usize]) -> Vec<String> {
        let label = format!("label=io.dockhand.execution={execution}");
        nodes
            .iter()
            .flat_map(|i| {
                let out = self.docker(*i, &["ps", "--filter", &label, "--format", "{{.Names}}"]);
                out.stdout
                    .lines()
                    .map(|l| format!("n{i}:{l}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The services, configs and secrets of an execution on the manager.
    fn swarm_objects(&self, execution: &str) -> Vec<String> {
        let label = format!("label=io.dockhand.execution={execution}");
        let mut v = Vec::new();
        for kind in ["service", "config", "secret"] {
            let out = self.docker(0, &[kind, "ls", "--quiet", "--filter", &label]);
            v.extend(out.stdout.lines().map(|l| format!("{kind} {l}")));
        }
        v
    }

    /// Nothing of the execution is left: no service, config or secret, no container running.
    fn assert_clean(&self, execution: &str, nodes: &[usize]) {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let left: Vec<String> = self
                .swarm_objects(execution)
                .into_iter()
                .chain(self.running(execution, nodes))
                .collect();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < until,
                "left behind by execution {execution}: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// `run --backend swarm --host MANAGER`, each `(task, node)` pinned with `--placement`.
    fn run_args(&self, pins: &[(&str, usize)]) -> Vec<String> {
        let mut v: Vec<String> = ["--backend", "swarm", "--host"].map(String::from).into();
        v.push(self.manager());
        for (t, n) in pins {
            v.push("--placement".into());
            v.push(format!("{t}=node.labels.dockhand.node==n{n}"));
        }
        v
    }

    /// Runs the flow on the swarm to its end.
    fn run(&self, cx: &Ctx, f: &std::path::Path, pins: &[(&str, usize)]) -> common::Run {
        let a = self.run_args(pins);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        cx.run_with(f, &a, &[])
    }

    /// Starts the flow on the swarm.
    fn spawn(&self, cx: &Ctx, f: &std::path::Path, pins: &[(&str, usize)]) -> common::Spawned {
        let a = self.run_args(pins);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        cx.spawn(f, &a, &[])
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let (ok, _, stderr) = cluster_script(&["down", "--name", &self.name]);
        if !ok {
            eprintln!("swarm-cluster.sh down {}: {stderr}", self.name);
        }
    }
}

// Tasks pinned to different nodes (`--placement`), an output passed from one to the other,
// exit codes (0, 3 under allowFailure, 5 failing the flow), stdout and stderr apart.
swarm_test!(tasks_run_on_the_nodes_they_are_placed_on, |cx, c| {
    let f = flow_file(
        &cx,
        "nodes",
        &[
            task(
                "one",
                "",
                "delete: false",
                &[
                    "echo '::{\"outputs\":{\"word\":\"from-one\"}}::'",
                    "echo out-one",
                    "echo err-one >&2",
                ],
            ),
            task(
                "two",
                "",
                "delete: false",
                &["echo got {{ outputs.one.vars.word }}"],
            ),
            task("three", "allowFailure: true", "", &["exit 3"]),
            task("four", "", "", &["echo before; exit 5"]),
        ],
    );
    let r = c.run(&cx, &f, &[("one", 1), ("two", 2)]);
    r.assert_code(1);
    assert_eq!(r.logs("one", '|'), ["out-one"]);
    assert_eq!(r.logs("one", '!'), ["err-one"]);
    assert_eq!(r.logs("two", '|'), ["got from-one"]);
    assert_eq!(r.task("one")["outputs"]["word"], "from-one");
    assert_eq!(r.task("one")["state"], "SUCCESS");
    assert_eq!(r.task("three")["state"], "WARNING");
    assert_eq!(r.task("three")["exitCode"], 3);
    assert_eq!(r.task("four")["state"], "FAILED");
    assert_eq!(r.task("four")["exitCode"], 5);
    assert_eq!(r.logs("four", '|'), ["before"]);
    // The proof of placement: each kept container is on its node's own dockerd, and only there.
    let one = format!("dh-{}-one-1", cx.id);
    let two = format!("dh-{}-two-1", cx.id);
    assert!(
        c.containers_on(1, &cx.id)
            .iter()
            .any(|n| n.starts_with(&one)),
        "one not on n1: {:?}",
        c.containers_on(1, &cx.id)
    );
    assert!(
        c.containers_on(2, &cx.id)
            .iter()
            .any(|n| n.starts_with(&two)),
        "two not on n2: {:?}",
        c.containers_on(2, &cx.id)
    );
    for i in [0, 2] {
        assert!(
            !c.containers_on(i, &cx.id)
                .iter()
                .any(|n| n.starts_with(&one))
        );
    }
    assert_eq!(r.task("one")["removal"], "kept");
    let _ = c.docker(0, &["service", "rm", &one, &two]);
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

// 20,000 lines on stdout and 2,000 on stderr, and one of 40,000 characters, from a remote
// node: each printed exactly once, in order.
swarm_test!(twenty_thousand_lines_arrive_exactly_once, |cx, c| {
    let f = flow_file(
        &cx,
        "logs",
        &[task(
            "many",
            "",
            "",
            &[
                "seq 1 20000",
                "seq 1 2000 >&2",
                "head -c 40000 /dev/zero | tr '\\0' x; echo",
            ],
        )],
    );
    let r = c.run(&cx, &f, &[("many", 2)]);
    r.assert_code(0);
    let out = r.logs("many", '|');
    assert_eq!(out.len(), 20_001, "stdout lines");
    let want: Vec<String> = (1..=20_000).map(|n| n.to_string()).collect();
    assert_eq!(&out[..20_000], &want[..]);
    assert_eq!(out[20_000], "x".repeat(40_000));
    let err = r.logs("many", '!');
    let want: Vec<String> = (1..=2_000).map(|n| n.to_string()).collect();
    assert_eq!(err, want);
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

// Input files reach a remote node as swarm configs (no shared directory); with outputFiles the
// working directory is bind-mounted (the nodes share this machine's filesystem) and the files
// come back; above 500 KB an input file without a shared directory is refused (exit 2).
swarm_test!(input_and_output_files, |cx, c| {
    let f = flow_file(
        &cx,
        "files",
        &[
            task(
                "reads",
                "inputFiles:\n  in.txt: hello from a config\n  sub/deep.txt: deep",
                "",
                &["cat in.txt; echo; cat sub/deep.txt; echo", "ls -l in.txt"],
            ),
            task(
                "writes",
                "inputFiles:\n  seed.txt: seed\noutputFiles:\n  - out.txt",
                "",
                &["cat seed.txt > out.txt; echo more >> out.txt"],
            ),
            // The output file of a task on n2, as an input file of one on n1.
            task(
                "reads_back",
                "inputFiles:\n  got.txt: \"{{ outputs.writes.outputFiles['out.txt'] }}\"",
                "",
                &["cat got.txt"],
            ),
        ],
    );
    let r = c.run(&cx, &f, &[("reads", 1), ("writes", 2), ("reads_back", 1)]);
    r.assert_code(0);
    let out = r.logs("reads", '|');
    assert_eq!(out.len(), 3, "{}", r.dump());
    assert_eq!(out[..2], ["hello from a config", "deep"]);
    assert!(out[2].starts_with("-r--r--r--"), "{out:?}");
    let files = r.task("writes")["outputFiles"].clone();
    let path = files[0].as_str().expect("an output file");
    assert_eq!(std::fs::read_to_string(path).unwrap(), "seedmore\n");
    assert_eq!(r.logs("reads_back", '|'), ["seedmore"], "{}", r.dump());
    c.assert_clean(&cx.id, &[0, 1, 2]);

    let big = "x".repeat(600 * 1024);
    let f = flow_file(
        &cx,
        "big",
        &[task(
            "big",
            &format!("inputFiles:\n  big.txt: {big}"),
            "",
            &["wc -c big.txt"],
        )],
    );
    let r = c.run(&cx, &f, &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("at most 500 KB") && r.stderr.contains("fileHandlingStrategy: MOUNT"),
        "{}",
        r.dump()
    );
});

// SIGTERM to dockhand while its task runs on a worker: the service is removed, the task's TERM
// trap runs within killGracePeriod, and nothing is left running on any node.
swarm_test!(cancel_stops_the_task_on_its_node, |cx, c| {
    let f = flow_file(
        &cx,
        "cancel",
        &[task(
            "long",
            "",
            "killGracePeriod: PT5S",
            &[
                "trap 'echo got-term; exit 0' TERM",
                "echo started",
                "while true; do sleep 0.2; done",
            ],
        )],
    );
    let run = c.spawn(&cx, &f, &[("long", 1)]);
    assert!(
        run.wait_line(Duration::from_secs(60), |l| l.contains("long | started")),
        "the task did not start: {}",
        run.stderr_so_far()
    );
    let t0 = Instant::now();
    run.signal(libc::SIGTERM);
    let r = run.finish(Duration::from_secs(60));
    r.assert_code(143);
    assert_eq!(r.task("long")["state"], "KILLED");
    assert!(
        t0.elapsed() < Duration::from_secs(5 + 15),
        "{:?}",
        t0.elapsed()
    );
    assert!(c.running(&cx.id, &[0, 1, 2]).is_empty());
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

// A task over its `timeout` is stopped and FAILED, its service gone from every node.
swarm_test!(timeout_stops_the_task, |cx, c| {
    let f = flow_file(
        &cx,
        "timeout",
        &[task(
            "slow",
            "timeout: PT2S",
            "",
            &["echo begun", "sleep 60"],
        )],
    );
    let r = c.run(&cx, &f, &[]);
    r.assert_code(1);
    let t = r.task("slow");
    assert_eq!(t["state"], "FAILED");
    assert_eq!(t["failure"]["kind"], "timeout", "{t:#}");
    assert!(r.elapsed < Duration::from_secs(30), "{:?}", r.elapsed);
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

// `kill -9` of dockhand mid-task, then `resume` (no --backend: the journal says swarm, and its
// placement): the service is re-attached to, and across the two runs every line is printed
// exactly once.
swarm_test!(kill9_then_resume_reattaches_to_the_service, |cx, c| {
    let f = flow_file(
        &cx,
        "resume",
        &[task(
            "count",
            "",
            "",
            &["for i in $(seq 1 40); do echo line-$i; sleep 0.1; done"],
        )],
    );
    let run = c.spawn(&cx, &f, &[("count", 2)]);
    assert!(
        run.wait_line(Duration::from_secs(60), |l| l.contains("count | line-10")),
        "{}",
        run.stderr_so_far()
    );
    run.signal(libc::SIGKILL);
    let first = run.finish(Duration::from_secs(10));
    let r = cx.dockhand(&["resume", &cx.id, "--json"], &[]);
    r.assert_code(0);
    assert!(r.stderr.contains("re-attaching to service"), "{}", r.dump());
    let mut all = first.logs("count", '|');
    all.extend(r.logs("count", '|'));
    let want: Vec<String> = (1..=40).map(|n| format!("line-{n}")).collect();
    assert_eq!(
        all,
        want,
        "first run:\n{}\nresume:\n{}",
        first.dump(),
        r.dump()
    );
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

// A worker's dockerd killed while it runs the task: the task is FAILED, naming the node.
swarm_test!(a_worker_that_dies_fails_its_task_naming_it, |cx, c| {
    let f = flow_file(
        &cx,
        "down",
        &[task("doomed", "", "", &["echo up", "sleep 300"])],
    );
    let run = c.spawn(&cx, &f, &[("doomed", 2)]);
    assert!(
        run.wait_line(Duration::from_secs(60), |l| l.contains("doomed | up")),
        "{}",
        run.stderr_so_far()
    );
    let (ok, _, stderr) = cluster_script(&["kill-node", "2", "--name", &c.name]);
    assert!(ok, "{stderr}");
    let r = run.finish(Duration::from_secs(120));
    r.assert_code(1);
    let t = r.task("doomed");
    assert_eq!(t["state"], "FAILED");
    let msg = t["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&format!("node {}", c.hostname(2))) && msg.contains("went down"),
        "{t:#}"
    );
    c.assert_clean(&cx.id, &[0, 1]);
});

// `--backend swarm` needs docker addressing a swarm manager: the machine's own dockerd (no
// swarm), a worker, and Podman are each refused with one line and exit 3.
swarm_test!(only_a_docker_swarm_manager_is_driven, |cx, c| {
    let f = flow_file(&cx, "one", &[task("t", "", "", &["echo hi"])]);
    let worker = c.env["SWARM_NODE_1_HOST"].clone();
    let r = cx.run_with(&f, &["--backend", "swarm", "--host", &worker], &[]);
    r.assert_code(3);
    assert!(
        r.stderr.contains("is a swarm worker, not a manager"),
        "{}",
        r.dump()
    );
    let local = cx.run_with(
        &f,
        &["--backend", "swarm"],
        &[("DOCKER_HOST", "unix:///var/run/docker.sock")],
    );
    local.assert_code(3);
    assert!(
        local.stderr.contains("is not a swarm manager"),
        "{}",
        local.dump()
    );
    if common::engine("podman").is_some() {
        let args = [
            "run",
            f.to_str().unwrap(),
            "--engine",
            "podman",
            "--backend",
            "swarm",
        ];
        let p = cx.dockhand(&args, &[]);
        p.assert_code(3);
        assert!(
            p.stderr.contains("Podman, which has no swarm mode"),
            "{}",
            p.dump()
        );
    }
    // DOCKHAND_BACKEND does what --backend does.
    let e = cx.run_with(&f, &["--host", &worker], &[("DOCKHAND_BACKEND", "swarm")]);
    e.assert_code(3);
    assert!(c.swarm_objects(&cx.id).is_empty());
});

// `ps --backend swarm` lists dockhand's services (a kept one here, with a config), `cleanup
// --backend swarm` removes it with its config; the service labels are the containers' own.
swarm_test!(ps_and_cleanup_list_and_remove_services, |cx, c| {
    let f = flow_file(
        &cx,
        "kept",
        &[task(
            "kept",
            "inputFiles:\n  in.txt: x",
            "delete: false",
            &["cat in.txt"],
        )],
    );
    let r = c.run(&cx, &f, &[]);
    r.assert_code(0);
    assert_eq!(r.task("kept")["removal"], "kept");
    let service = format!("dh-{}-kept-1", cx.id);
    let m = c.manager();
    let base = [
        "--engine",
        "docker",
        "--backend",
        "swarm",
        "--host",
        &m,
        "--execution",
        &cx.id,
    ];
    let ps = cx.dockhand(&[&["ps"][..], &base[..]].concat(), &[]);
    ps.assert_code(0);
    assert!(ps.stdout.contains(&service), "{}", ps.dump());
    assert!(
        ps.stdout.contains(&cx.id) && ps.stdout.contains("kept"),
        "{}",
        ps.dump()
    );
    assert!(!c.swarm_objects(&cx.id).is_empty());
    let clean = cx.dockhand(&[&["cleanup"][..], &base[..]].concat(), &[]);
    clean.assert_code(0);
    assert!(
        clean.stdout.contains(&format!("removing {service}")),
        "{}",
        clean.dump()
    );
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

/// The node a task's service was given to, from dockhand's `TASK: service S runs on node HOST
/// (ID)` line: the node's index in the cluster.
fn node_of(c: &Cluster, stderr: &str, service: &str) -> Option<usize> {
    let said = format!("service {service} runs on node ");
    let host = stderr
        .lines()
        .find_map(|l| l.split_once(&said).map(|(_, rest)| rest))?
        .split(' ')
        .next()?
        .to_string();
    (0..3).find(|i| c.hostname(*i) == host)
}

/// The journal's records of one task, as JSON, in order.
fn journal_of(cx: &Ctx, kind: &str, task: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(cx.state_journal()).expect("a journal");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["t"] == kind && r["task"] == task)
        .collect()
}

// A worker killed under the first attempt of a task with `retry`: that attempt is FAILED
// naming the node, the second runs on the other worker (its node named in the log) and
// succeeds; the journal has both attempts.
swarm_test!(retry_runs_again_on_another_node_when_one_dies, |cx, c| {
    let f = flow_file(
        &cx,
        "retry",
        &[task(
            "hop",
            "retry:\n  type: constant\n  interval: PT1S\n  maxAttempts: 3",
            "",
            &[
                "echo attempt-{{ taskrun.attemptsCount }}",
                "if [ {{ taskrun.attemptsCount }} = 0 ]; then sleep 300; fi",
                "echo done",
            ],
        )],
    );
    // Workers only, so that the attempt after a worker's death has the other one.
    let a = c.run_args(&[]);
    let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
    a.extend(["--placement", "hop=node.role==worker"]);
    let run = cx.spawn(&f, &a, &[]);
    let first = format!("dh-{}-hop-1", cx.id);
    assert!(
        run.wait_line(Duration::from_secs(90), |l| l.contains("hop | attempt-0")),
        "{}",
        run.stderr_so_far()
    );
    // The node is named by a status line of its own, which may come after the first log line.
    let said = format!("service {first} runs on node ");
    if !run.stderr_so_far().contains(&said) {
        assert!(
            run.wait_line(Duration::from_secs(30), |l| l.contains(&said)),
            "{}",
            run.stderr_so_far()
        );
    }
    let dead = node_of(&c, &run.stderr_so_far(), &first).expect("the first attempt's node named");
    assert!(dead == 1 || dead == 2, "not on a worker: n{dead}");
    let (ok, _, stderr) = cluster_script(&["kill-node", &dead.to_string(), "--name", &c.name]);
    assert!(ok, "{stderr}");
    let killed = Instant::now();
    let r = run.finish(Duration::from_secs(170));
    r.assert_code(0);
    // The dead node's task is not waited for (the manager cannot hear from it): the next
    // attempt comes once the manager marks the node down (seconds), not 25 s later.
    assert!(
        !r.stderr.contains("is still reported after its removal"),
        "{}",
        r.dump()
    );
    assert!(
        killed.elapsed() < Duration::from_secs(60),
        "{:?}",
        killed.elapsed()
    );
    assert_eq!(r.task("hop")["state"], "SUCCESS", "{}", r.dump());
    assert_eq!(r.logs("hop", '|'), ["attempt-0", "attempt-1", "done"]);
    let second = format!("dh-{}-hop-2", cx.id);
    let again = node_of(&c, &r.stderr, &second).expect("the second attempt's node named");
    assert_eq!(again, 3 - dead, "{}", r.dump());
    let ends = journal_of(&cx, "task_end", "hop");
    assert_eq!(ends.len(), 2, "{ends:#?}");
    assert_eq!(ends[0]["attempt"], 1);
    assert_eq!(ends[0]["result"]["state"], "FAILED");
    let msg = ends[0]["result"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&format!("node {}", c.hostname(dead))) && msg.contains("went down"),
        "{msg}"
    );
    assert_eq!(ends[1]["attempt"], 2);
    assert_eq!(ends[1]["result"]["state"], "SUCCESS");
    let starts = journal_of(&cx, "task_start", "hop");
    let names: Vec<&str> = starts
        .iter()
        .filter_map(|s| s["container"].as_str())
        .collect();
    assert_eq!(names, [first.as_str(), second.as_str()]);
    c.assert_clean(&cx.id, &[0, 3 - dead]);
});

/// Samples, until stopped, which tasks of an execution have a running container on each node:
/// one `(node, task label)` list per sample.
struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<Vec<Vec<(usize, String)>>>,
}

impl Sampler {
    fn start(c: &Cluster, execution: &str) -> Sampler {
        let hosts: Vec<String> = (0..3)
            .map(|i| c.env[&format!("SWARM_NODE_{i}_HOST")].clone())
            .collect();
        let label = format!("label=io.dockhand.execution={execution}");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let docker = which::which("docker").unwrap();
            let mut samples = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                let mut sample = Vec::new();
                for (i, h) in hosts.iter().enumerate() {
                    let args = [
                        "--host",
                        h,
                        "ps",
                        "--filter",
                        &label,
                        "--format",
                        "{{.Label \"io.dockhand.task\"}}",
                    ];
                    let out = common::run_cmd(&docker, &args, Duration::from_secs(10));
                    sample.extend(out.stdout.lines().map(|l| (i, l.to_string())));
                }
                samples.push(sample);
            }
            samples
        });
        Sampler { stop, handle }
    }

    fn stop(self) -> Vec<Vec<(usize, String)>> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap()
    }
}

/// The most tasks whose label starts with `prefix` seen running at once, and the nodes any ran on.
fn peak(
    samples: &[Vec<(usize, String)>],
    prefix: &str,
) -> (usize, std::collections::BTreeSet<usize>) {
    let mut nodes = std::collections::BTreeSet::new();
    let mut most = 0;
    for s in samples {
        let now: Vec<&(usize, String)> = s.iter().filter(|(_, t)| t.starts_with(prefix)).collect();
        most = most.max(now.len());
        nodes.extend(now.iter().map(|(n, _)| *n));
    }
    (most, nodes)
}

// A Parallel's `concurrent` and a ForEach's `concurrencyLimit` hold across the whole swarm:
// the running containers of the execution, counted on every node over time, never exceed
// them, reach them, and are spread over more than one node.
swarm_test!(concurrent_limits_hold_across_the_swarm, |cx, c| {
    let children: Vec<String> = (1..=6)
        .map(|i| common::indent(&task(&format!("par_{i}"), "", "", &["sleep 3"]), 4))
        .collect();
    let parallel = format!(
        "- id: fan\n  type: io.kestra.plugin.core.flow.Parallel\n  concurrent: 2\n  tasks:\n{}",
        children.join("\n")
    );
    let each = format!(
        "- id: each\n  type: io.kestra.plugin.core.flow.ForEach\n  values: '[1, 2, 3, 4, 5, 6]'\n  concurrencyLimit: 3\n  tasks:\n{}",
        common::indent(&task("each_sleep", "", "", &["sleep 3"]), 4)
    );
    let f = flow_file(&cx, "limits", &[parallel, each]);
    let sampler = Sampler::start(&c, &cx.id);
    let r = c.run(&cx, &f, &[]);
    let samples = sampler.stop();
    r.assert_code(0);
    let (par, par_nodes) = peak(&samples, "par_");
    let (fe, fe_nodes) = peak(&samples, "each_sleep");
    assert_eq!(
        par, 2,
        "Parallel concurrent 2: at most 2 at once, and 2 reached"
    );
    assert_eq!(
        fe, 3,
        "ForEach concurrencyLimit 3: at most 3 at once, and 3 reached"
    );
    assert!(
        par_nodes.len() > 1 && fe_nodes.len() > 1,
        "{par_nodes:?} {fe_nodes:?}"
    );
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

/// `flow` with a `concurrency` of `limit` and `behavior`.
fn with_concurrency(flow: String, limit: u32, behavior: &str) -> String {
    flow.replacen(
        "\n\ntasks:",
        &format!("\nconcurrency:\n  limit: {limit}\n  behavior: {behavior}\n\ntasks:"),
        1,
    )
}

// A flow's `concurrency` on a swarm is the swarm's: two dockhand processes with state
// directories of their own (as on two machines) driving one swarm share the limit. A second
// execution is FAILED (behavior FAIL) or waits for the first to end (QUEUE); the slot is a
// swarm config, gone once the executions end.
swarm_test!(flow_concurrency_is_held_by_the_swarm, |cx, c| {
    let hold = task("hold", "", "", &["echo started", "sleep 8"]);
    let body = flow("limited", std::slice::from_ref(&hold));
    let fail = cx.flow("limited", &with_concurrency(body.clone(), 1, "FAIL"));
    let queue = cx.flow("limited-queue", &with_concurrency(body, 1, "QUEUE"));
    let first = c.spawn(&cx, &fail, &[]);
    assert!(
        first.wait_line(Duration::from_secs(60), |l| l.contains("hold | started")),
        "{}",
        first.stderr_so_far()
    );
    // Another "machine": its own state directory, its own execution id.
    let elsewhere = |n: &str, f: &std::path::Path| {
        let state = cx.tmp.path().join(format!("state-{n}"));
        let state = state.to_str().unwrap().to_string();
        let mut a = cx.run_args(f, &[]);
        a[5] = format!("{}-{n}", cx.id);
        a.extend(c.run_args(&[]));
        let env = [
            ("DOCKHAND_STATE_DIR".to_string(), state.clone()),
            ("XDG_STATE_HOME".to_string(), state),
        ];
        common::Spawned::start(&a, &env)
    };
    let r = elsewhere("b", &fail).finish(Duration::from_secs(60));
    r.assert_code(1);
    assert!(
        r.stderr.contains("concurrency limit, behavior FAIL"),
        "{}",
        r.dump()
    );
    assert!(!r.stderr.contains("hold | started"), "{}", r.dump());
    let queued = elsewhere("c", &queue);
    assert!(
        queued.wait_line(Duration::from_secs(30), |l| l.contains("waits:")),
        "{}",
        queued.stderr_so_far()
    );
    let a = first.finish(Duration::from_secs(90));
    a.assert_code(0);
    let ended = Instant::now();
    let q = queued.finish(Duration::from_secs(90));
    q.assert_code(0);
    assert_eq!(q.logs("hold", '|'), ["started"]);
    // It ran only after the first ended: its task took its 8 s after that.
    assert!(
        ended.elapsed() >= Duration::from_secs(8),
        "{:?}",
        ended.elapsed()
    );
    let slots = c.docker(
        0,
        &[
            "config",
            "ls",
            "--quiet",
            "--filter",
            "label=io.dockhand.concurrency",
        ],
    );
    assert_eq!(slots.stdout.trim(), "", "slots left: {}", slots.stdout);
    c.assert_clean(&cx.id, &[0, 1, 2]);
});

// The planning of one engine is the swarm's: a namespace file and a FILE input (through
// `inputFiles`) reach a task on a worker, as swarm configs.
swarm_test!(namespace_files_and_file_inputs_reach_a_worker, |cx, c| {
    let ns = cx.tmp.path().join("flows/_files/e2e.tests/sql");
    std::fs::create_dir_all(&ns).unwrap();
    std::fs::write(ns.join("q.sql"), "SELECT 42").unwrap();
    let data = cx.tmp.path().join("data.csv");
    std::fs::write(&data, "a,b\n1,2\n").unwrap();
    let t = task(
        "reads",
        "inputFiles:\n  copy.csv: \"{{ inputs.data }}\"\nnamespaceFiles:\n  enabled: true\n  include: [\"sql/**\"]",
        "",
        &["cat copy.csv", "echo \"ns=$(cat sql/q.sql)\""],
    );
    let text = flow("files2", &[t]).replacen(
        "\n\ntasks:",
        "\ninputs:\n  - id: data\n    type: FILE\n\ntasks:",
        1,
    );
    let f = cx.flow("files2", &text);
    let a = c.run_args(&[("reads", 2)]);
    let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
    let input = format!("data={}", data.display());
    a.extend(["--input", &input]);
    let r = cx.run_with(&f, &a, &[]);
    r.assert_code(0);
    assert_eq!(
        r.logs("reads", '|'),
        ["a,b", "1,2", "ns=SELECT 42"],
        "{}",
        r.dump()
    );
    let service = format!("dh-{}-reads-1", cx.id);
    assert_eq!(node_of(&c, &r.stderr, &service), Some(2), "{}", r.dump());
    c.assert_clean(&cx.id, &[0, 1, 2]);
});
