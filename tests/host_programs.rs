//! Every external program the tests and scripts run is one a fresh Debian 12 machine has after
//! `scripts/setup-engines.sh` (what `scripts/quickstart.sh` and `scripts/test.sh` run first).
//!
//! [`PROGRAMS`] names each program with its Debian package: either one of setup-engines.sh's
//! `APT_PACKAGES`, or a package every Debian 12 system has (Priority: required), with the reason.
//! The test scans `tests/**/*.rs` and `scripts/*.sh` for the programs they run and fails when
//! one is missing from the list, or its package is neither installed by the script nor part of
//! the base system. Where dpkg is available it also checks the list against the machine: the
//! program's file belongs to the named package, and "base" packages really are required ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where a program comes from on Debian 12.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// Installed by scripts/setup-engines.sh (its `APT_PACKAGES`).
    Apt(&'static str),
    /// On every Debian 12 system: the package has Priority "required" (debootstrap's minbase).
    Base(&'static str),
    /// Not from apt, with the reason; the README's quick start names it as a prerequisite.
    Prerequisite(&'static str),
}

use Source::{Apt, Base, Prerequisite};

/// Every program the tests and scripts run.
const PROGRAMS: &[(&str, Source)] = &[
    // The engines and what the tests run around them.
    ("docker", Apt("docker.io")),
    ("dockerd", Apt("docker.io")),
    ("podman", Apt("podman")),
    ("runc", Apt("runc")),
    ("docker-registry", Apt("docker-registry")),
    ("busybox", Apt("busybox-static")),
    ("iptables", Apt("iptables")),
    // tests/registry.rs and scripts/registry-netns.sh: the registry's network namespace, its
    // health checks and its htpasswd file.
    ("ip", Apt("iproute2")),
    ("curl", Apt("curl")),
    ("htpasswd", Apt("apache2-utils")),
    // scripts/bench.sh.
    ("hyperfine", Apt("hyperfine")),
    ("python3", Apt("python3")),
    ("strace", Apt("strace")),
    ("time", Apt("time")),
    // tests/completions.rs: the shells that load the completion scripts, and man for the page.
    ("zsh", Apt("zsh")),
    ("fish", Apt("fish")),
    ("man", Apt("man-db")),
    // tests/e2e_report.rs: the report read in a real browser.
    ("chromium", Apt("chromium")),
    // scripts/build-test-images.sh checks that busybox is static with it.
    ("file", Apt("file")),
    // scripts/build-test-images.sh builds the language images' root filesystems with it.
    ("mmdebstrap", Apt("mmdebstrap")),
    // Base system.
    ("apt-get", Base("apt")),
    ("dpkg-query", Base("dpkg")),
    ("bash", Base("bash")),
    ("sh", Base("dash")),
    ("awk", Base("mawk")),
    ("grep", Base("grep")),
    ("sed", Base("sed")),
    ("tar", Base("tar")),
    ("flock", Base("util-linux")),
    // tests/progress_tty.rs: dockhand on a pseudo-terminal.
    ("script", Base("bsdutils")),
    ("stty", Base("coreutils")),
    ("setsid", Base("util-linux")),
    ("unshare", Base("util-linux")),
    ("mount", Base("mount")),
    ("nsenter", Base("util-linux")),
    // scripts/swarm-cluster.sh: what the test swarm's daemons leave mounted.
    ("umount", Base("mount")),
    ("cat", Base("coreutils")),
    ("chmod", Base("coreutils")),
    ("chroot", Base("coreutils")),
    ("cp", Base("coreutils")),
    ("cut", Base("coreutils")),
    ("date", Base("coreutils")),
    ("df", Base("coreutils")),
    ("dirname", Base("coreutils")),
    ("basename", Base("coreutils")),
    ("head", Base("coreutils")),
    ("id", Base("coreutils")),
    ("ln", Base("coreutils")),
    ("mkdir", Base("coreutils")),
    ("mktemp", Base("coreutils")),
    ("mv", Base("coreutils")),
    ("nproc", Base("coreutils")),
    ("nohup", Base("coreutils")),
    ("od", Base("coreutils")),
    ("rm", Base("coreutils")),
    ("readlink", Base("coreutils")),
    ("rmdir", Base("coreutils")),
    ("seq", Base("coreutils")),
    ("sha256sum", Base("coreutils")),
    ("sleep", Base("coreutils")),
    ("sort", Base("coreutils")),
    ("stat", Base("coreutils")),
    ("tail", Base("coreutils")),
    ("timeout", Base("coreutils")),
    ("tr", Base("coreutils")),
    // Builds dockhand (quickstart.sh, test.sh, bench.sh).
    (
        "cargo",
        Prerequisite(
            "Rust >= 1.85 from rustup: Debian 12's cargo (Rust 1.63) cannot build edition 2024",
        ),
    ),
];

/// Shell words that are not programs: keywords, builtins, and the functions the scripts define
/// (found by the scan itself, see [`script_functions`]).
const SHELL_WORDS: &[&str] = &[
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "for",
    "while",
    "until",
    "do",
    "done",
    "case",
    "esac",
    "in",
    "function",
    "select",
    "time",
    "!",
    "{",
    "}",
    "[",
    "[[",
    "]]",
    "]",
    "test",
    "echo",
    "printf",
    "read",
    "cd",
    "pwd",
    "export",
    "local",
    "return",
    "exit",
    "set",
    "shift",
    "unset",
    "eval",
    "exec",
    "trap",
    "wait",
    "kill",
    "true",
    "false",
    ":",
    ".",
    "source",
    "command",
    "declare",
    "readonly",
    "ulimit",
    "umask",
    "break",
    "continue",
    "alias",
    "type",
    "hash",
    "getopts",
    "let",
    "mapfile",
    "readarray",
    "shopt",
    "builtin",
    "jobs",
    "disown",
    "fg",
    "bg",
];

/// Programs that run the rest of their command line as another program.
const WRAPPERS: &[&str] = &["setsid", "nohup", "exec", "command", "time", "!"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out.sort();
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// Programs a Rust test file runs: `Command::new("x")`, `which::which("x")`, `have("x")`,
/// `run("x", ...)`, `Path::new("x")` / `PathBuf::from("x")` of a bare name, and the names of a
/// `for c in ["x", "y"] { ... which/have(c) ... }` loop.
fn rust_programs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let direct = regex::Regex::new(
        r#"(?:Command::new|which::which|\bhave|\brun|Path::new|PathBuf::from)\("([A-Za-z0-9][\w.+-]*)""#,
    )
    .unwrap();
    for c in direct.captures_iter(text) {
        out.insert(c[1].to_string());
    }
    let looped = regex::Regex::new(r#"for (\w+) in \[((?:\s*"[^"]*",?)+)\s*\]\s*\{"#).unwrap();
    let lit = regex::Regex::new(r#""([^"]*)""#).unwrap();
    for c in looped.captures_iter(text) {
        let var = &c[1];
        let body_start = c.get(0).unwrap().end();
        let body = &text[body_start..(body_start + 300).min(text.len())];
        if body.contains(&format!("which::which({var})")) || body.contains(&format!("have({var})"))
        {
            for l in lit.captures_iter(&c[2]) {
                out.insert(l[1].to_string());
            }
        }
    }
    out
}

/// The shell text with quoted literals, comments and arithmetic removed, command substitutions
/// (also inside double quotes and unquoted here-documents) kept as separate commands (`;`
/// around them), newlines kept. What is left is only code: command words and their arguments.
fn shell_code(src: &str) -> String {
    #[derive(PartialEq, Clone, Copy)]
    enum Ctx {
        /// Top level, or inside `$( )` (with its own paren depth).
        Code(u32),
        Dquote,
        /// An unquoted here-document body: like a double-quoted string, ends at its delimiter.
        Heredoc,
    }
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::new();
    let heredoc = regex::Regex::new(r#"^-?\s*(['"]?)(\w+)['"]?"#).unwrap();
    let mut stack = vec![Ctx::Code(0)];
    let mut pending_heredoc: Option<(String, bool)> = None;
    let mut heredoc_end: Option<String> = None;
    let mut i = 0;
    let at = |i: usize, s: &str| chars[i..].iter().take(s.len()).copied().eq(s.chars());
    while i < chars.len() {
        let c = chars[i];
        let top = *stack.last().unwrap();
        // Line starts inside a here-document: its delimiter line ends it.
        if top == Ctx::Heredoc && (i == 0 || chars[i - 1] == '\n') {
            let line: String = chars[i..].iter().take_while(|&&c| c != '\n').collect();
            if Some(line.trim()) == heredoc_end.as_deref() {
                stack.pop();
                heredoc_end = None;
                i += line.chars().count();
                continue;
            }
        }
        match top {
            Ctx::Code(depth) => {
                if c == '\n' {
                    out.push('\n');
                    i += 1;
                    if let Some((delim, quoted)) = pending_heredoc.take() {
                        if quoted {
                            // Skip the body verbatim.
                            while i < chars.len() {
                                let line: String =
                                    chars[i..].iter().take_while(|&&c| c != '\n').collect();
                                i += line.chars().count() + 1;
                                out.push('\n');
                                if line.trim() == delim {
                                    break;
                                }
                            }
                        } else {
                            heredoc_end = Some(delim);
                            stack.push(Ctx::Heredoc);
                        }
                    }
                    continue;
                }
                if c == '#' && (i == 0 || chars[i - 1].is_whitespace()) {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == '\'' {
                    i += 1;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                    out.push('Q');
                    continue;
                }
                if c == '"' {
                    stack.push(Ctx::Dquote);
                    out.push('Q');
                    i += 1;
                    continue;
                }
                if at(i, "<<") && !at(i, "<<<") {
                    let rest: String = chars[i + 2..].iter().take_while(|&&c| c != '\n').collect();
                    if let Some(m) = heredoc.captures(&rest) {
                        pending_heredoc = Some((m[2].to_string(), !m[1].is_empty()));
                        out.push('H');
                        i += 2 + m.get(0).unwrap().end();
                        continue;
                    }
                }
                if at(i, "$((") {
                    let mut d = 0;
                    while i < chars.len() {
                        match chars[i] {
                            '(' => d += 1,
                            ')' => {
                                d -= 1;
                                if d == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    i += 1;
                    out.push('N');
                    continue;
                }
                if at(i, "${") {
                    i = skip_braces(&chars, i);
                    out.push('V');
                    continue;
                }
                if at(i, "$(") {
                    stack.push(Ctx::Code(0));
                    out.push_str(" ; ");
                    i += 2;
                    continue;
                }
                if c == '(' {
                    *stack.last_mut().unwrap() = Ctx::Code(depth + 1);
                } else if c == ')' {
                    if depth == 0 && stack.len() > 1 {
                        stack.pop();
                        out.push_str(" ; ");
                        i += 1;
                        continue;
                    }
                    *stack.last_mut().unwrap() = Ctx::Code(depth.saturating_sub(1));
                }
                out.push(c);
                i += 1;
            }
            Ctx::Dquote | Ctx::Heredoc => {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == '"' && top == Ctx::Dquote {
                    stack.pop();
                    i += 1;
                    continue;
                }
                if at(i, "$((") {
                    while i < chars.len() && !at(i, "))") {
                        i += 1;
                    }
                    i += 2;
                    continue;
                }
                if at(i, "${") {
                    i = skip_braces(&chars, i);
                    continue;
                }
                if at(i, "$(") {
                    stack.push(Ctx::Code(0));
                    out.push_str(" ; ");
                    i += 2;
                    continue;
                }
                if c == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
        }
    }
    out
}

/// The index after the `}` that closes the `${` at `i` (nested `${ }` counted).
fn skip_braces(chars: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        match chars[i] {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// Functions a script defines (`name() {`).
fn script_functions(text: &str) -> BTreeSet<String> {
    let r = regex::Regex::new(r"(?m)^\s*([A-Za-z_][\w-]*)\s*\(\)").unwrap();
    r.captures_iter(text).map(|c| c[1].to_string()).collect()
}

/// Programs a shell script runs: the first word of every simple command (after `;`, `&&`,
/// `||`, `|`, `&`, `(`, a command substitution, a keyword such as `then`/`do`, or a wrapper
/// such as `setsid`/`nohup`, which count themselves), plus `have_cmd x`. Variables (`"$e"`),
/// assignments, paths and case patterns are not programs.
fn shell_programs(text: &str, functions: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in regex::Regex::new(r"have_cmd\s+([\w.+-]+)")
        .unwrap()
        .captures_iter(text)
    {
        out.insert(c[1].to_string());
    }
    let code = shell_code(text);
    let word_ok = regex::Regex::new(r"^[a-z][\w.+-]*$").unwrap();
    let array = regex::Regex::new(r"[A-Za-z_]\w*\+?=\([^)]*\)").unwrap();
    let seps = regex::Regex::new(r"&&|\|\||[;|&(){}`]").unwrap();
    let mut case_depth = 0;
    for line in code.lines() {
        let mut line = line.to_string();
        // A case pattern (`a | b)`, `-h | --help)`) before its commands.
        if case_depth > 0
            && let Some(p) = line.find(')')
            && !line[..p].contains('(')
            && !line[..p].trim_start().starts_with("case ")
        {
            line = line[p + 1..].to_string();
        }
        // Array assignments (`A=(x y)`, `a+=(x)`) hold words, not commands.
        let line = array.replace_all(&line, "A").to_string();
        for seg in seps.split(&line) {
            let mut words = seg.split_whitespace().peekable();
            while let Some(w) = words.next() {
                if w == "case" {
                    case_depth += 1;
                }
                if w == "esac" {
                    case_depth -= 1;
                }
                if matches!(
                    w,
                    "then" | "do" | "else" | "elif" | "if" | "while" | "until"
                ) {
                    continue;
                }
                if WRAPPERS.contains(&w) {
                    if !SHELL_WORDS.contains(&w) {
                        out.insert(w.to_string());
                    }
                    // `command -v x` only looks x up.
                    if w == "command" && words.peek().is_some_and(|n| n.starts_with('-')) {
                        break;
                    }
                    continue;
                }
                if w.contains('=') && !w.starts_with('=') {
                    // An assignment before the command (`A=1 cmd`), or alone.
                    continue;
                }
                if word_ok.is_match(w) && !SHELL_WORDS.contains(&w) && !functions.contains(w) {
                    out.insert(w.to_string());
                }
                // Wrappers with an argument before the program.
                if w == "timeout" {
                    words.next();
                    continue;
                }
                break;
            }
        }
    }
    out
}

/// Which files run which programs.
fn scan() -> BTreeMap<String, BTreeSet<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut rs = Vec::new();
    files(&root().join("tests"), "rs", &mut rs);
    for f in rs {
        let text = std::fs::read_to_string(&f).unwrap();
        // This file names programs in its own list and patterns.
        if f.file_name().is_some_and(|n| n == "host_programs.rs") {
            continue;
        }
        for p in rust_programs(&text) {
            found.entry(p).or_default().insert(rel(&f));
        }
    }
    let mut sh = Vec::new();
    files(&root().join("scripts"), "sh", &mut sh);
    let texts: Vec<(PathBuf, String)> = sh
        .into_iter()
        .map(|f| {
            let t = std::fs::read_to_string(&f).unwrap();
            (f, t)
        })
        .collect();
    let functions: BTreeSet<String> = texts
        .iter()
        .flat_map(|(_, t)| script_functions(t))
        .collect();
    for (f, t) in &texts {
        if std::env::var_os("DEBUG_SCAN").is_some() {
            eprintln!("==== {}\n{}", rel(f), shell_code(t));
        }
        for p in shell_programs(t, &functions) {
            found.entry(p).or_default().insert(rel(f));
        }
    }
    found
}

/// The packages setup-engines.sh installs (its `APT_PACKAGES=(...)` line).
fn setup_packages() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("scripts/setup-engines.sh")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("APT_PACKAGES=("))
        .expect("scripts/setup-engines.sh has no APT_PACKAGES=(...) line");
    line.trim_start_matches("APT_PACKAGES=(")
        .trim_end_matches(')')
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn every_program_the_tests_and_scripts_run_is_listed_and_installed() {
    let known: BTreeMap<&str, Source> = PROGRAMS.iter().copied().collect();
    let installed = setup_packages();
    let mut problems = Vec::new();
    for (program, files) in scan() {
        let files: Vec<String> = files.into_iter().collect();
        match known.get(program.as_str()) {
            None => problems.push(format!(
                "`{program}` (run by {}) is not in PROGRAMS: name its Debian package and add \
                 the package to APT_PACKAGES in scripts/setup-engines.sh",
                files.join(", ")
            )),
            Some(Apt(pkg)) if !installed.contains(*pkg) => problems.push(format!(
                "`{program}` (run by {}) comes from package {pkg}, which scripts/setup-engines.sh \
                 does not install (APT_PACKAGES: {installed:?})",
                files.join(", ")
            )),
            Some(Prerequisite(why)) => eprintln!("`{program}`: a prerequisite: {why}"),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn the_scan_finds_what_the_files_run() {
    // The scan itself, on known text: a test whose scan finds nothing would always pass.
    let rs = r#"
        let a = Command::new("unshare");
        for bin in ["dockerd", "docker"] { which::which(bin).unwrap(); }
        if need && !have("htpasswd") {}
        run("podman", &["info"]);
        for x in ["not", "programs"] { println!("{x}"); }
    "#;
    let want: BTreeSet<String> = ["docker", "dockerd", "htpasswd", "podman", "unshare"]
        .map(String::from)
        .into();
    assert_eq!(rust_programs(rs), want);

    let sh = r#"#!/bin/bash
die() { log "$*"; exit 1; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }
log() { printf '%s\n' "$*" >&2; }
# A known limit: a command in a `${X:-$(cmd)}` default is not seen.
NAME="${NAME:-$(basename "${0:-x}")}"
PKGS=(docker.io podman)
usage() { sed -n '2,/^set/p' "$0"; }
case "$1" in
    -h | --help) usage; exit 0 ;;
    up | down) ;;
esac
have_cmd tar || die "tar not found (apt-get install tar)"
x="$(printf '%s' "$y" | sha256sum | cut -c1-8)"   # comment: curl wget
n=$((SECONDS + 3))
if ip -4 route show | grep -q "^10.0.0.0/24 "; then log "ip in use"; fi
spawn() { exec setsid nohup "$@" </dev/null; }
cat >"$f" <<EOF
secret: $(head -c 24 /dev/urandom | od -An)
text: not a command
EOF
cat <<'EOF'
$(nothing here)
EOF
A=1 B=2 htpasswd -B -b -c f u p
"$engine" info && timeout 5 curl -s x
"#;
    let got = shell_programs(sh, &script_functions(sh));
    let want: BTreeSet<String> = [
        "cat",
        "curl",
        "cut",
        "grep",
        "head",
        "htpasswd",
        "ip",
        "nohup",
        "od",
        "printf",
        "sed",
        "setsid",
        "sha256sum",
        "tar",
        "timeout",
    ]
    .map(String::from)
    .into();
    // printf and exec are shell builtins.
    let want: BTreeSet<String> = want.into_iter().filter(|w| w != "printf").collect();
    assert_eq!(got, want);
}

/// Where dpkg is there: each program's file belongs to the package the list names, and "base"
/// packages have Priority "required" (so a fresh Debian 12 has them).
#[test]
fn the_list_matches_debian() {
    if which::which("dpkg-query").is_err() {
        eprintln!("skipped: no dpkg-query (not a Debian system)");
        return;
    }
    let mut problems = Vec::new();
    for (program, source) in PROGRAMS {
        let (Apt(pkg) | Base(pkg)) = *source else {
            continue;
        };
        if let Base(_) = source {
            let out = std::process::Command::new("dpkg-query")
                .args(["-W", "-f=${Priority} ${Essential}", pkg])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if !text.starts_with("required") && !text.contains("yes") {
                problems.push(format!(
                    "`{program}`: package {pkg} is listed as base but is `{text}`, not required"
                ));
            }
        }
        // Only where the program is installed here (an Apt package may not be yet).
        let Ok(path) = which::which(program) else {
            continue;
        };
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let s = path.display().to_string();
        // Merged /usr: dpkg knows one of /bin/x, /usr/bin/x, /sbin/x, /usr/sbin/x.
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let candidates = [
            s.clone(),
            format!("/bin/{name}"),
            format!("/usr/bin/{name}"),
            format!("/sbin/{name}"),
            format!("/usr/sbin/{name}"),
        ];
        let owner = candidates.iter().find_map(|c| {
            let out = std::process::Command::new("dpkg-query")
                .args(["-S", c])
                .output()
                .ok()?;
            out.status.success().then(|| {
                String::from_utf8_lossy(&out.stdout)
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
        });
        match owner {
            // Not from a package (e.g. a python3 from pyenv ahead on PATH): nothing to check.
            None => {}
            Some(o) if o.split(", ").any(|o| o == pkg) => {}
            // Installing the named package brings the owner in (python3 -> python3-minimal).
            Some(o) if depends(pkg).contains(&o) => {}
            Some(o) => problems.push(format!(
                "`{program}` ({s}) belongs to package {o}, the list says {pkg}"
            )),
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// The packages `pkg` (pre-)depends on directly (installed or not).
fn depends(pkg: &str) -> BTreeSet<String> {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Pre-Depends},${Depends}", pkg])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(|d| d.split(':').next().unwrap_or(d).to_string())
        .collect()
}

/// The README's quick start says which packages it installs: the same as the script.
#[test]
fn readme_names_the_packages_setup_installs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("`quickstart.sh` installs `"))
        .expect("README: no line starting with \"`quickstart.sh` installs `\"");
    let listed: BTreeSet<String> = line
        .trim_start_matches("`quickstart.sh` installs `")
        .split('`')
        .next()
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(
        listed,
        setup_packages(),
        "README quick start vs APT_PACKAGES"
    );
}
