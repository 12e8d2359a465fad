//! The `dockhand` binary against hostile or unusual input and output: a flow built to exhaust
//! memory is refused quickly under a memory limit, and a reader that closes stdout early (`| head
//! -1`) ends the command quietly instead of a panic.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `dockhand ARGS` from the crate root with its address space limited to `limit_bytes`: an
/// allocation past it fails, and Rust aborts the process (a signal, no exit code).
fn limited(args: &[&str], limit_bytes: u64) -> (Option<i32>, String, Duration) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit_bytes,
                rlim_max: limit_bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let out = cmd.output().expect("run dockhand");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn billion_laughs_is_refused_quickly_with_bounded_memory() {
    // 867 bytes whose aliases would expand to 10^9 strings if copied.
    let (code, stderr, took) = limited(
        &["validate", "fixtures/invalid/billion-laughs.yaml"],
        512 << 20,
    );
    assert_eq!(code, Some(2), "stderr:\n{stderr}");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} to refuse it:\n{stderr}"
    );
    // The alias that crosses the limit is on line 10 (a5's list).
    assert!(
        stderr.starts_with("fixtures/invalid/billion-laughs.yaml:10:"),
        "the error names no line: {stderr}"
    );
    assert!(stderr.contains("billion laughs"), "{stderr}");
    // `plan` and `run` read the file the same way (no engine is needed to refuse it).
    for args in [
        &["plan", "fixtures/invalid/billion-laughs.yaml"][..],
        &[
            "run",
            "fixtures/invalid/billion-laughs.yaml",
            "--engine",
            "/bin/true",
        ][..],
    ] {
        let (code, stderr, took) = limited(args, 512 << 20);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.yaml");
    // 4 GiB on paper (sparse): reading it whole would take minutes and gigabytes.
    std::fs::File::create(&p).unwrap().set_len(4 << 30).unwrap();
    let path = p.to_str().unwrap();
    let (code, stderr, took) = limited(&["validate", path], 512 << 20);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(
        stderr,
        format!(
            "{path}: error: the file is larger than 16 MiB, the most dockhand reads as a flow\n"
        )
    );
}
