//! The corpus of real public Kestra flows: how much of it `dockhand validate` accepts.
//!
//! * `tests/corpus/SOURCES.tsv` lists every flow: where it was read (repository, path, commit),
//!   its licence, its SHA-256, and its scope (`in` when every task type it uses is one that
//!   dockhand's issues put in scope, computed by `scripts/corpus-scope.py`; else `out` and the
//!   first out-of-scope type as `blocker`).
//! * The flow files themselves are other people's public files and are not committed here: the
//!   corpus directory (with `flows/SOURCE/NAME.yaml` inside) is `$DOCKHAND_CORPUS`, else the
//!   first `shared/corpus` found beside the crate or one of its parent directories (where the
//!   workplace's shared folder sits), else `tests/corpus` if it holds `flows/`. Without any of
//!   them these tests say so loudly and check only the manifest; with `DOCKHAND_CORPUS` set to a
//!   directory that does not exist they fail.
//! * `corpus_acceptance` validates every flow, writes a per-flow table to
//!   `target/tmp/corpus-report.tsv`, prints it with the rejection reasons counted, and fails if
//!   fewer in-scope flows are accepted than `tests/corpus/floor.txt` records (raise the floor
//!   when dockhand accepts more, so it only goes up). See tests/corpus/README.md.
//! * A flow that is invalid on purpose (one of Kestra's own tests expects it to fail) has
//!   `expect` = `rejected`, the error dockhand must give as `expect_error` and the Kestra test
//!   as `reason`: it counts neither for nor against, and `corpus_acceptance` fails unless
//!   dockhand rejects it with that error.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_dockhand");
const COLUMNS: [&str; 11] = [
    "path",
    "repository",
    "path_in_repository",
    "commit",
    "licence",
    "sha256",
    "scope",
    "blocker",
    "expect",
    "expect_error",
    "reason",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Row {
    path: String,
    sha256: String,
    in_scope: bool,
    /// For a flow invalid on purpose: the text one of dockhand's errors must contain.
    expect_error: Option<String>,
}

/// The manifest, checked for form: the header, one value per column, known scopes, a blocker
/// exactly for the flows out of scope, unique paths under `flows/`.
fn manifest() -> Vec<Row> {
    let file = root().join("tests/corpus/SOURCES.tsv");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut lines = text.lines();
    assert_eq!(
        lines.next().map(|h| h.split('\t').collect::<Vec<_>>()),
        Some(COLUMNS.to_vec()),
        "SOURCES.tsv: header"
    );
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, line) in lines.enumerate() {
        let at = format!("SOURCES.tsv:{}", n + 2);
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), COLUMNS.len(), "{at}: {} columns", f.len());
        let (path, scope, blocker) = (f[0], f[6], f[7]);
        assert!(
            path.starts_with("flows/") && path.ends_with(".yaml") && !path.contains(".."),
            "{at}: path `{path}`"
        );
        assert!(seen.insert(path.to_string()), "{at}: `{path}` listed twice");
        assert!(
            f[1].contains('/') && !f[2].is_empty(),
            "{at}: repository and path"
        );
        assert!(
            f[3].len() == 40 && f[3].bytes().all(|b| b.is_ascii_hexdigit()),
            "{at}: commit `{}`",
            f[3]
        );
        assert!(
            f[5].len() == 64 && f[5].bytes().all(|b| b.is_ascii_hexdigit()),
            "{at}: sha256 `{}`",
            f[5]
        );
        match scope {
            "in" => assert!(blocker.is_empty(), "{at}: in scope but blocker `{blocker}`"),
            "out" => assert!(!blocker.is_empty(), "{at}: out of scope without a blocker"),
            _ => panic!("{at}: scope `{scope}` is neither `in` nor `out`"),
        }
        let (expect, expect_error, reason) = (f[8], f[9], f[10]);
        match expect {
            "" => assert!(
                expect_error.is_empty() && reason.is_empty(),
                "{at}: `expect_error`/`reason` without `expect`"
            ),
            "rejected" => assert!(
                !expect_error.is_empty() && !reason.is_empty(),
                "{at}: `expect: rejected` needs the expected error and the reason (the Kestra test)"
            ),
            _ => panic!("{at}: expect `{expect}` is neither empty nor `rejected`"),
        }
        rows.push(Row {
            path: path.to_string(),
            sha256: f[5].to_string(),
            in_scope: scope == "in",
            expect_error: (expect == "rejected").then(|| expect_error.to_string()),
        });
    }
    assert!(!rows.is_empty(), "SOURCES.tsv lists no flow");
    rows
}

/// Where the flow files are, or None (said loudly) when this machine has no copy.
fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKHAND_CORPUS").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("flows").is_dir(),
            "DOCKHAND_CORPUS={} has no flows/ directory",
            dir.display()
        );
        return Some(dir);
    }
    let found = root()
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus"))
        .chain([root().join("tests/corpus")])
        .find(|d| d.join("flows").is_dir());
    if found.is_none() {
        say(
            "*** corpus: NO CORPUS ON THIS MACHINE: set DOCKHAND_CORPUS to the directory that \
             holds flows/ (see tests/corpus/README.md); only the manifest was checked ***",
        );
    }
    found
}

/// Writes to the process's stderr, which the test harness does not capture (so the line shows
/// without --nocapture, like the e2e tests' `skipped:` lines), and to the captured stream.
fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "\n{text}");
    eprintln!("{text}");
}

/// Every `.yaml` file under `dir/flows`, as `flows/...` paths.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).expect("under base");
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, &dir.join("flows"), &mut out);
    out
}

#[test]
fn manifest_rows_and_files_match() {
    let rows = manifest();
    let Some(dir) = corpus_dir() else { return };
    let listed: BTreeSet<String> = rows.iter().map(|r| r.path.clone()).collect();
    let files = files_under(&dir);
    let mut problems = String::new();
    for p in files.difference(&listed) {
        let _ = writeln!(problems, "{p}: file has no row in SOURCES.tsv");
    }
    for r in &rows {
        match std::fs::read(dir.join(&r.path)) {
            Err(e) => {
                let _ = writeln!(problems, "{}: listed in SOURCES.tsv, no file: {e}", r.path);
            }
            Ok(bytes) => {
                let sum: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if sum != r.sha256 {
                    let _ = writeln!(
                        problems,
                        "{}: sha256 {sum}, SOURCES.tsv says {}",
                        r.path, r.sha256
                    );
                }
            }
        }
    }
    assert!(problems.is_empty(), "corpus {}:\n{problems}", dir.display());
}

/// What `dockhand validate` said of one flow.
struct Verdict {
    accepted: bool,
    /// The first error line, without its `file:line:col: error: ` prefix.
    first_error: String,
    /// Every error line, without its prefix.
    errors: Vec<String>,
    /// The kinds of all its errors, each once.
    kinds: BTreeSet<String>,
}

fn validate(dir: &Path, path: &str) -> Verdict {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(["validate", path]);
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("DOCKHAND_")) {
            cmd.env_remove(&k);
        }
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 2 is "invalid input"; anything but 0 or 2 (a panic, a signal) is a dockhand bug.
    assert!(
        matches!(code, Some(0) | Some(2)),
        "dockhand validate {path}: exit {code:?}\n{stderr}"
    );
    let errors: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split_once(": error: ").map(|(_, m)| m))
        .collect();
    assert_eq!(
        code == Some(0),
        errors.is_empty(),
        "dockhand validate {path}: exit {code:?} but {} error line(s)\n{stderr}",
        errors.len()
    );
    Verdict {
        accepted: code == Some(0),
        first_error: errors.first().map(|e| e.to_string()).unwrap_or_default(),
        errors: errors.iter().map(|e| e.to_string()).collect(),
        kinds: errors.iter().map(|e| kind(e)).collect(),
    }
}

/// An error message reduced to what repeats across flows: list indices dropped, the property
/// path cut to its last two steps (`tasks[].tasks[].type` -> `tasks[].type`), and the list of
/// supported types that follows an unsupported one left off.
fn kind(message: &str) -> String {
    let message = message.split("; supported:").next().unwrap_or(message);
    let (path, rest) = match message.strip_prefix('`').and_then(|m| m.split_once("`: ")) {
        Some((p, r)) => (p, r),
        None => ("", message),
    };
    let mut p = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                p.push_str("[]");
            }
            ']' => in_index = false,
            _ if !in_index => p.push(c),
            _ => {}
        }
    }
    let steps: Vec<&str> = p.split('.').collect();
    let short = steps[steps.len().saturating_sub(2)..].join(".");
    if short.is_empty() {
        rest.to_string()
    } else {
        format!("`{short}`: {rest}")
    }
}

/// The classifier's rules (following static subflows, ...) on its own small cases.
#[test]
fn scope_classifier_self_test() {
    let out = Command::new("python3")
        .arg(root().join("scripts/corpus-scope.py"))
        .arg("--self-test")
        .output()
        .expect("python3 (scripts/setup-engines.sh installs it)");
    assert!(
        out.status.success(),
        "corpus-scope.py --self-test:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kind_groups_messages() {
    assert_eq!(
        kind(
            "`tasks[0].tasks[3].type`: task type `a.B` is not supported by dockhand; supported: x"
        ),
        "`tasks[].type`: task type `a.B` is not supported by dockhand"
    );
    assert_eq!(
        kind("`extend`: unknown property `extend`"),
        "`extend`: unknown property `extend`"
    );
    assert_eq!(kind("no path here"), "no path here");
}

#[test]
fn corpus_acceptance() {
    let rows = manifest();
    let floor_file = root().join("tests/corpus/floor.txt");
    let floor: usize = std::fs::read_to_string(&floor_file)
        .unwrap_or_else(|e| panic!("{}: {e}", floor_file.display()))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: not a count: {e}", floor_file.display()));
    let Some(dir) = corpus_dir() else { return };

    let mut table = String::from("path\tscope\tverdict\tfirst_error\n");
    // Flows invalid on purpose that dockhand accepted, or rejected for another reason.
    let mut unexpected = String::new();
    // kind -> (in-scope flows whose first error it is, in-scope flows that have it at all)
    let mut reasons: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut accepted, mut accepted_in, mut total_in) = (0, 0, 0);
    for r in &rows {
        let v = validate(&dir, &r.path);
        accepted += usize::from(v.accepted);
        if let Some(want) = &r.expect_error {
            if !v.errors.iter().any(|e| e.contains(want.as_str())) {
                let _ = writeln!(
                    unexpected,
                    "{}: expected to be rejected with `{want}`, got: {}",
                    r.path,
                    if v.accepted {
                        "accepted".to_string()
                    } else {
                        v.errors.join(" | ")
                    }
                );
            }
        } else if r.in_scope {
            total_in += 1;
            accepted_in += usize::from(v.accepted);
            if !v.accepted {
                reasons.entry(kind(&v.first_error)).or_default().0 += 1;
                for k in &v.kinds {
                    reasons.entry(k.clone()).or_default().1 += 1;
                }
            }
        }
        let _ = writeln!(
            table,
            "{}\t{}\t{}\t{}",
            r.path,
            match (&r.expect_error, r.in_scope) {
                (Some(_), _) => "invalid on purpose",
                (None, true) => "in",
                (None, false) => "out",
            },
            if v.accepted { "accepted" } else { "rejected" },
            v.first_error
        );
    }
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("corpus-report.tsv");
    std::fs::write(&report, &table).unwrap_or_else(|e| panic!("{}: {e}", report.display()));

    let mut ranked: Vec<(&String, &(usize, usize))> = reasons.iter().collect();
    ranked.sort_by(|a, b| (b.1.1, b.1.0).cmp(&(a.1.1, a.1.0)).then(a.0.cmp(b.0)));
    let mut summary = String::new();
    let on_purpose = rows.iter().filter(|r| r.expect_error.is_some()).count();
    let _ = writeln!(
        summary,
        "corpus {}: {} flows, {accepted} accepted; {on_purpose} invalid on purpose (not counted); \
         in scope: {total_in}, accepted {accepted_in} ({:.1}%); floor {floor}",
        dir.display(),
        rows.len(),
        100.0 * accepted_in as f64 / total_in.max(1) as f64
    );
    let _ = writeln!(
        summary,
        "why in-scope flows are rejected (flows with the error / flows where it is the first):"
    );
    for (k, (first, any)) in ranked.iter().take(25) {
        let _ = writeln!(summary, "{any:5} {first:5}  {k}");
    }
    let _ = writeln!(summary, "per-flow table: {}", report.display());
    println!("{table}");
    say(&summary);
    if accepted_in > floor {
        say(&format!(
            "*** corpus: {accepted_in} in-scope flows accepted, more than the floor {floor}: \
             write {accepted_in} to tests/corpus/floor.txt ***"
        ));
    }
    assert!(
        unexpected.is_empty(),
        "flows invalid on purpose (SOURCES.tsv `expect`) not rejected as expected:\n{unexpected}"
    );
    assert!(
        accepted_in >= floor,
        "dockhand accepts {accepted_in} in-scope corpus flows, fewer than the floor {floor} \
         (tests/corpus/floor.txt)\n{summary}"
    );
}
