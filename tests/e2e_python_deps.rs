//! End-to-end tests of Python's `dependencies` on Docker and Podman, offline: the test builds a
//! tiny wheel, serves it as a PEP 503 simple index with `python3 -m http.server` on
//! 127.0.0.1, and runs a Python Script task in the local python image (`python:3.13-slim`,
//! built from Debian's python3 and pip by scripts/build-test-images.sh, never pulled) with
//! `PIP_INDEX_URL` pointing at it. The first run installs (the index is asked), the second,
//! with the index gone, runs from the cache; the dependencies are read-only in the container.
//!
//!     DOCKHAND_E2E=1 cargo test --test e2e_python_deps

#[macro_use]
mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::flow;

const PY_IMAGE: &str = "python:3.13-slim";

/// A wheel of the package `dockhand_probe` 1.0 (`VALUE = 42`) and a simple index of it under
/// `dir` (scripts/make-probe-index.py, which the benchmark uses too).
fn make_index(dir: &Path) {
    let st = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-probe-index.py"))
        .arg(dir)
        .status()
        .expect("python3 runs");
    assert!(st.success(), "building the test wheel failed");
}

/// `python3 -m http.server` on 127.0.0.1 serving `dir`, on a free port; its log (one line per
/// request) goes to `log`.
fn serve(dir: &Path, log: &Path) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .arg("--directory")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("python3 -m http.server starts");
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "the test index did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

fn python_task(port: u16, extra: &str) -> String {
    format!(
        "- id: py\n  type: io.kestra.plugin.scripts.python.Script\n  containerImage: {PY_IMAGE}\n  dependencies:\n    - dockhand-probe==1.0\n{extra}  env:\n    PIP_INDEX_URL: http://127.0.0.1:{port}/simple/\n  taskRunner:\n    type: io.kestra.plugin.scripts.runner.docker.Docker\n    networkMode: host\n    pullPolicy: NEVER\n  script: |\n    import dockhand_probe\n    print('probe', dockhand_probe.VALUE, dockhand_probe.__file__)\n    try:\n        open('/dockhand/python/x', 'w')\n        print('writable')\n    except OSError as e:\n        print('read-only', e.errno)\n"
    )
}

fn second_id(cx: &common::Ctx, f: &Path, id: &str) -> common::Run {
    let mut args = cx.run_args(f, &[]);
    let i = args.iter().position(|a| a == "--execution-id").unwrap();
    args[i + 1] = id.to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cx.dockhand(&args, &[])
}

// Installed once from the local index, then from the cache with the index stopped; read-only
// in the container, on PYTHONPATH.
e2e_test!(dependencies_install_once_then_cached, |cx| {
    let index = cx.tmp.path().join("index");
    make_index(&index);
    let log = cx.tmp.path().join("index.log");
    let (mut server, port) = serve(&index, &log);
    let f = cx.flow("deps", &flow("deps", &[python_task(port, "")]));
    let first = cx.run(&f);
    let _ = server.kill();
    let _ = server.wait();
    first.assert_code(0);
    let want = [
        "probe 42 /dockhand/python/dockhand_probe/__init__.py".to_string(),
        "read-only 30".to_string(),
    ];
    let logs = first.logs("py", '|');
    assert!(logs.ends_with(&want), "the task's output\n{}", first.dump());
    assert!(
        first
            .stderr
            .contains("py: installing python dependencies into"),
        "{}",
        first.dump()
    );
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(
        asked.contains("GET /files/dockhand_probe-1.0-py3-none-any.whl"),
        "the index was not asked for the wheel: {asked}"
    );

    // The index is gone: a second execution can only run from the cache.
    let id = format!("{}b", cx.id);
    let started = Instant::now();
    let second = second_id(cx, &f, &id);
    let took = started.elapsed();
    second.assert_code(0);
    assert!(
        second
            .stderr
            .contains("py: python dependencies from the cache"),
        "{}",
        second.dump()
    );
    assert!(
        !second.stderr.contains("installing python dependencies"),
        "{}",
        second.dump()
    );
    assert_eq!(second.logs("py", '|'), want, "{}", second.dump());
    eprintln!("second run (cached) took {took:.2?}");
    assert!(cx.eng.wait_gone(&id).is_empty());
});

// `pythonVersion` the image does not have: the task fails before it starts, naming both
// versions; an install failure (no such package) fails the task with pip's word.
e2e_test!(python_version_and_install_failures, |cx| {
    let index = cx.tmp.path().join("index");
    make_index(&index);
    let log = cx.tmp.path().join("index.log");
    let (mut server, port) = serve(&index, &log);
    let f = cx.flow(
        "version",
        &flow(
            "version",
            &[python_task(port, "  pythonVersion: \"2.7\"\n").replace("- id: py", "- id: old")],
        ),
    );
    let run = cx.run(&f);
    run.assert_code(1);
    let t = run.task("old");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    let all = run.all_logs("old").join("\n");
    assert!(
        all.contains("pythonVersion 2.7 is not available in this image, which has Python 3."),
        "{}",
        run.dump()
    );
    let f = cx.flow(
        "missing",
        &flow(
            "missing",
            &[python_task(port, "")
                .replace("dockhand-probe==1.0", "dockhand-absent==9.9")
                .replace("- id: py", "- id: absent")],
        ),
    );
    let run = second_id(cx, &f, &format!("{}m", cx.id));
    let _ = server.kill();
    let _ = server.wait();
    run.assert_code(1);
    let t = run.task("absent");
    assert_eq!(t["state"], "FAILED", "{t:#}");
    assert!(
        t["failure"]
            .to_string()
            .contains("installing the python dependencies failed"),
        "{t:#}\n{}",
        run.dump()
    );
});
