//! Every script language that has a Debian package, end to end on Docker and Podman: a Script
//! and a Commands task per language, both WITHOUT `containerImage`, so Kestra's default image
//! name (`python:3.13-slim`, `node`, `r-base`, ... from the spec's `LANGUAGES` table) is what
//! the engine resolves, to the local image `scripts/build-test-images.sh` builds from Debian's
//! packages and tags under that name. Per language and engine:
//!
//! - one run of a Parallel of the Script and the Commands task, each reading an input file,
//!   writing its upper-case text to an output file and printing Kestra's
//!   `::{"outputs":{"len":N}}::` line, plus a Script that exits 3 (last, so that it starts
//!   after the others): the two succeed with their output and file, the failing one is FAILED
//!   with exit code 3 and the flow FAILED;
//! - one run of a Commands task whose interpreter exits 3.
//!
//! Languages without a Debian package (julia, bun, deno, powershell, jbang) have no image here;
//! `fixtures/languages.yaml` covers them with golden plans, checked below.

mod common;

use std::path::Path;

use common::{Ctx, Run, indent};
use dockhand::flow::spec::LANGUAGES;
use serde_json::Value;

/// One language's programs. Each ok program reads `in.txt`, writes its text upper-cased to
/// `out.txt` and prints `::{"outputs":{"len":LENGTH}}::`.
struct Case {
    /// The language's name in the spec (`python` in `io.kestra.plugin.scripts.python.Script`).
    lang: &'static str,
    /// The Script task's `script`.
    script: &'static str,
    /// The Commands task's `commands`.
    commands: &'static [&'static str],
    /// Input files the Commands task needs besides `in.txt` (go has no `-e`).
    command_files: &'static [(&'static str, &'static str)],
    /// A Script that exits with status 3.
    failing_script: &'static str,
    /// A Commands task's command that exits with status 3.
    failing_command: &'static str,
    /// The exit code the failing Script and command end with: 3, but `go run` reports a
    /// program's non-zero status as its own exit code 1 (printing `exit status 3`).
    exit_code: i64,
}

const CASES: &[Case] = &[
    Case {
        lang: "python",
        script: r#"import json
with open("in.txt") as f:
    s = f.read()
with open("out.txt", "w") as f:
    f.write(s.upper())
print("::" + json.dumps({"outputs": {"len": len(s)}}) + "::")
"#,
        commands: &[
            r#"python -c 'import json; s = open("in.txt").read(); open("out.txt", "w").write(s.upper()); print("::" + json.dumps({"outputs": {"len": len(s)}}) + "::")'"#,
        ],
        command_files: &[],
        failing_script: "import sys\nsys.exit(3)\n",
        failing_command: "python -c 'import sys; sys.exit(3)'",
        exit_code: 3,
    },
    Case {
        lang: "node",
        script: r#"const fs = require("fs");
const s = fs.readFileSync("in.txt", "utf8");
fs.writeFileSync("out.txt", s.toUpperCase());
console.log("::" + JSON.stringify({ outputs: { len: s.length } }) + "::");
"#,
        commands: &[
            r#"node -e 'const fs = require("fs"); const s = fs.readFileSync("in.txt", "utf8"); fs.writeFileSync("out.txt", s.toUpperCase()); console.log("::" + JSON.stringify({ outputs: { len: s.length } }) + "::")'"#,
        ],
        command_files: &[],
        failing_script: "process.exit(3);\n",
        failing_command: "node -e 'process.exit(3)'",
        exit_code: 3,
    },
    Case {
        lang: "r",
        script: r#"s <- readChar("in.txt", file.info("in.txt")$size)
cat(toupper(s), file = "out.txt")
cat(sprintf('::{"outputs":{"len":%d}}::\n', nchar(s)))
"#,
        commands: &[
            r#"Rscript -e 's <- readChar("in.txt", file.info("in.txt")$size); cat(toupper(s), file = "out.txt"); cat(sprintf("::{\"outputs\":{\"len\":%d}}::\n", nchar(s)))'"#,
        ],
        command_files: &[],
        failing_script: "quit(status = 3)\n",
        failing_command: "Rscript -e 'quit(status = 3)'",
        exit_code: 3,
    },
    Case {
        lang: "ruby",
        script: r#"s = File.read("in.txt")
File.write("out.txt", s.upcase)
puts "::" + '{"outputs":{"len":' + s.length.to_s + '}}' + "::"
"#,
        commands: &[
            r#"ruby -e 's = File.read("in.txt"); File.write("out.txt", s.upcase); puts "::{\"outputs\":{\"len\":" + s.length.to_s + "}}::"'"#,
        ],
        command_files: &[],
        failing_script: "exit 3\n",
        failing_command: "ruby -e 'exit 3'",
        exit_code: 3,
    },
    Case {
        lang: "go",
        script: GO_PROGRAM,
        commands: &["go run prog.go"],
        command_files: &[("prog.go", GO_PROGRAM)],
        failing_script: "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(3) }\n",
        failing_command: "printf 'package main\\nimport \"os\"\\nfunc main() { os.Exit(3) }\\n' > fail.go && go run fail.go",
        exit_code: 1,
    },
    Case {
        lang: "perl",
        script: r#"open(my $in, "<", "in.txt") or die;
my $s = do { local $/; <$in> };
open(my $out, ">", "out.txt") or die;
print $out uc($s);
close($out);
printf("::{\"outputs\":{\"len\":%d}}::\n", length($s));
"#,
        commands: &[
            r#"perl -e 'open(my $in, "<", "in.txt") or die; my $s = do { local $/; <$in> }; open(my $out, ">", "out.txt") or die; print $out uc($s); close($out); printf("::{\"outputs\":{\"len\":%d}}::\n", length($s));'"#,
        ],
        command_files: &[],
        failing_script: "exit 3;\n",
        failing_command: "perl -e 'exit 3'",
        exit_code: 3,
    },
    Case {
        lang: "php",
        script: r#"<?php
$s = file_get_contents("in.txt");
file_put_contents("out.txt", strtoupper($s));
echo "::" . json_encode(["outputs" => ["len" => strlen($s)]]) . "::\n";
"#,
        commands: &[
            r#"php -r '$s = file_get_contents("in.txt"); file_put_contents("out.txt", strtoupper($s)); echo "::" . json_encode(["outputs" => ["len" => strlen($s)]]) . "::\n";'"#,
        ],
        command_files: &[],
        failing_script: "<?php\nexit(3);\n",
        failing_command: "php -r 'exit(3);'",
        exit_code: 3,
    },
    Case {
        lang: "lua",
        script: r#"local f = assert(io.open("in.txt"))
local s = f:read("a")
f:close()
local o = assert(io.open("out.txt", "w"))
o:write(s:upper())
o:close()
print(string.format('::{"outputs":{"len":%d}}::', #s))
"#,
        commands: &[
            r#"lua -e 'local f = assert(io.open("in.txt")); local s = f:read("a"); f:close(); local o = assert(io.open("out.txt", "w")); o:write(s:upper()); o:close(); print(string.format("::{\"outputs\":{\"len\":%d}}::", #s))'"#,
        ],
        command_files: &[],
        failing_script: "os.exit(3)\n",
        failing_command: "lua -e 'os.exit(3)'",
        exit_code: 3,
    },
    Case {
        lang: "groovy",
        script: r#"def s = new File("in.txt").text
new File("out.txt").text = s.toUpperCase()
println("::" + groovy.json.JsonOutput.toJson([outputs: [len: s.length()]]) + "::")
"#,
        commands: &[
            r#"groovy -e 'def s = new File("in.txt").text; new File("out.txt").text = s.toUpperCase(); println("::" + groovy.json.JsonOutput.toJson([outputs: [len: s.length()]]) + "::")'"#,
        ],
        command_files: &[],
        failing_script: "System.exit(3)\n",
        failing_command: "groovy -e 'System.exit(3)'",
        exit_code: 3,
    },
];

const GO_PROGRAM: &str = r#"package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	b, err := os.ReadFile("in.txt")
	if err != nil {
		panic(err)
	}
	s := string(b)
	if err := os.WriteFile("out.txt", []byte(strings.ToUpper(s)), 0o644); err != nil {
		panic(err)
	}
	j, _ := json.Marshal(map[string]any{"outputs": map[string]int{"len": len(s)}})
	fmt.Printf("::%s::\n", j)
}
"#;

/// The languages Debian 12 has no package for: no image, covered by golden plans.
const NO_DEBIAN_PACKAGE: &[&str] = &["julia", "bun", "deno", "powershell", "jbang", "dotnet"];

fn case(lang: &str) -> &'static Case {
    CASES
        .iter()
        .find(|c| c.lang == lang)
        .unwrap_or_else(|| panic!("no case for {lang}"))
}

fn default_image(lang: &str) -> &'static str {
    LANGUAGES
        .iter()
        .find(|l| l.name == lang)
        .unwrap_or_else(|| panic!("{lang} is not in the spec's LANGUAGES"))
        .default_image
}

/// The name `ENGINE tag` stores an image reference under (as build-test-images.sh's
/// `engine_ref`): `:latest` added; on podman under `localhost/` unless it names a registry.
fn engine_ref(engine: &str, image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let mut r = if last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    };
    if engine == "podman" {
        let first = r.split('/').next().unwrap_or("");
        let registry =
            r.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
        if !registry {
            r = format!("localhost/{r}");
        }
    }
    r
}

/// The input file's text, different per language and engine so that no result can be stale.
fn input_text(cx: &Ctx, lang: &str) -> String {
    format!("dockhand speaks {lang} on {}", cx.eng.name)
}

/// A task of `lang` without `containerImage` or `taskRunner`: Kestra's defaults.
fn lang_task(id: &str, lang: &str, kind: &str, body: &str, files: &[(&str, &str)]) -> String {
    let mut s = format!("- id: {id}\n  type: io.kestra.plugin.scripts.{lang}.{kind}\n");
    if !files.is_empty() {
        s.push_str("  inputFiles:\n");
        for (name, content) in files {
            s.push_str(&format!("    {name}: |-\n{}\n", indent(content, 6)));
        }
        s.push_str("  outputFiles:\n    - out.txt\n");
    }
    s.push_str(body);
    s
}

fn script_body(script: &str) -> String {
    format!("  script: |\n{}\n", indent(script, 4))
}

fn commands_body(commands: &[&str]) -> String {
    let mut s = "  commands:\n".to_string();
    for c in commands {
        s.push_str(&format!("    - |-\n{}\n", indent(c, 6)));
    }
    s
}

/// The host file an output file of a task was kept as: the string among the task's
/// `outputFiles` (however they are listed) that is an existing path ending in `/NAME`.
fn output_file(run: &Run, task: &str, name: &str) -> String {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let t = run.task(task);
    let mut all = Vec::new();
    strings(&t["outputFiles"], &mut all);
    let path = all
        .iter()
        .find(|s| s.ends_with(&format!("/{name}")) && Path::new(s.as_str()).is_file())
        .unwrap_or_else(|| {
            panic!(
                "task {task}: no output file {name} on the host in {t:#}\n{}",
                run.dump()
            )
        });
    std::fs::read_to_string(path).unwrap()
}

fn assert_ok(run: &Run, task: &str, text: &str) {
    let t = run.task(task);
    assert_eq!(t["state"], "SUCCESS", "task {task}: {t:#}\n{}", run.dump());
    assert_eq!(t["exitCode"], 0, "task {task}: {t:#}");
    assert_eq!(
        t["outputs"]["len"],
        text.len(),
        "task {task}: the `::{{\"outputs\":...}}::` line's value\n{}",
        run.dump()
    );
    assert_eq!(
        output_file(run, task, "out.txt"),
        text.to_uppercase(),
        "task {task}: out.txt\n{}",
        run.dump()
    );
}

fn assert_failed(run: &Run, task: &str, code: i64) {
    let t = run.task(task);
    assert_eq!(t["state"], "FAILED", "task {task}: {t:#}\n{}", run.dump());
    assert_eq!(t["exitCode"], code, "task {task}: {t:#}\n{}", run.dump());
    assert_eq!(t["failure"]["kind"], "exitCode", "task {task}: {t:#}");
}

/// Whether the engine has the language's image under Kestra's default name; without it (and
/// without DOCKHAND_E2E=1) the test is skipped, as the harness skips a missing engine.
fn has_image(cx: &Ctx, image: &str) -> bool {
    let r = engine_ref(cx.eng.name, image);
    if cx
        .eng
        .cli(&["image", "inspect", "--format", "{{.Id}}", &r])
        .ok()
    {
        return true;
    }
    let why = format!(
        "{} lacks the language image {r} (run `bash scripts/build-test-images.sh`; never pulled from a registry)",
        cx.eng.name
    );
    if std::env::var("DOCKHAND_E2E").is_ok_and(|v| v == "1") {
        panic!("\n\n*** DOCKHAND_E2E=1 but {why} ***\n\n");
    }
    eprintln!("skipped: {why}");
    false
}

fn language_case(cx: &Ctx, lang: &str) {
    let c = case(lang);
    if !has_image(cx, default_image(lang)) {
        return;
    }
    let text = input_text(cx, lang);
    let mut files = vec![("in.txt", text.as_str())];
    let script = lang_task("script", lang, "Script", &script_body(c.script), &files);
    files.extend(c.command_files.iter().copied());
    let commands = lang_task(
        "commands",
        lang,
        "Commands",
        &commands_body(c.commands),
        &files,
    );
    let failing = lang_task(
        "failing",
        lang,
        "Script",
        &script_body(c.failing_script),
        &[],
    );
    let main = format!(
        "id: {lang}\nnamespace: e2e.languages\n\ntasks:\n  - id: all\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n{}\n{}\n{}\n",
        indent(&script, 6),
        indent(&commands, 6),
        indent(&failing, 6)
    );
    let failing_commands = format!(
        "id: {lang}-fail\nnamespace: e2e.languages\n\ntasks:\n{}\n",
        indent(
            &lang_task(
                "failcmd",
                lang,
                "Commands",
                &commands_body(&[c.failing_command]),
                &[]
            ),
            2
        )
    );
    // The second run has its own execution (id, work directory), side by side with the first.
    let cx2 = Ctx::new(&format!("lang-{lang}-fail"), cx.eng.clone());
    let first = cx.spawn(&cx.flow(lang, &main), &[], &[]);
    let second = cx2.spawn(&cx2.flow("fail", &failing_commands), &[], &[]);
    let run = first.finish(common::RUN_LIMIT);
    let run2 = second.finish(common::RUN_LIMIT);

    run.assert_code(1);
    assert_eq!(run.json["state"], "FAILED", "{}", run.dump());
    assert_ok(&run, "script", &text);
    assert_ok(&run, "commands", &text);
    assert_failed(&run, "failing", c.exit_code);

    run2.assert_code(1);
    assert_eq!(run2.json["state"], "FAILED", "{}", run2.dump());
    assert_failed(&run2, "failcmd", c.exit_code);
    cx2.assert_no_containers();
}

/// One end-to-end test per language and engine (`python::docker`, `python::podman`, ...).
macro_rules! languages {
    ($($lang:ident),* $(,)?) => {
        $(
            e2e_test!($lang, |cx| {
                language_case(cx, stringify!($lang));
            });
        )*
        /// The languages with an end-to-end test, as the macro lists them.
        const TESTED: &[&str] = &[$(stringify!($lang)),*];
    };
}

languages!(python, node, r, ruby, go, perl, php, lua, groovy);

/// Every language of the spec is either tested here (with a case and an image that
/// build-test-images.sh builds under its default image name) or has no Debian package and a
/// Script and a Commands task in the golden fixture.
#[test]
fn every_language_has_an_image_or_golden_plans() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("scripts/build-test-images.sh")).unwrap();
    let golden = std::fs::read_to_string(root.join("fixtures/languages.yaml")).unwrap();
    let tags: Vec<&str> = script
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(str::split_whitespace)
        .collect();
    for l in LANGUAGES {
        let tested = TESTED.contains(&l.name);
        assert_ne!(
            tested,
            NO_DEBIAN_PACKAGE.contains(&l.name),
            "{}: exactly one of tested here / no Debian package",
            l.name
        );
        if tested {
            case(l.name);
            let want = engine_ref("docker", l.default_image);
            assert!(
                tags.iter().any(|t| engine_ref("docker", t) == want),
                "{}: scripts/build-test-images.sh tags no image {want} (tags: {tags:?})",
                l.name
            );
        } else {
            for kind in ["Script", "Commands"] {
                let ty = format!("type: io.kestra.plugin.scripts.{}.{kind}\n", l.name);
                assert!(
                    golden.contains(&ty),
                    "{}: fixtures/languages.yaml has no {kind} task",
                    l.name
                );
            }
        }
    }
    assert_eq!(CASES.len(), TESTED.len(), "a case without a test");
}

#[test]
fn engine_ref_names_images_as_the_engines_store_them() {
    let cases = [
        ("docker", "node", "node:latest"),
        ("docker", "python:3.13-slim", "python:3.13-slim"),
        ("podman", "python:3.13-slim", "localhost/python:3.13-slim"),
        ("podman", "nickblah/lua", "localhost/nickblah/lua:latest"),
        (
            "podman",
            "ghcr.io/kestra-io/powershell:latest",
            "ghcr.io/kestra-io/powershell:latest",
        ),
        ("podman", "localhost:5000/x", "localhost:5000/x:latest"),
    ];
    for (engine, image, want) in cases {
        assert_eq!(engine_ref(engine, image), want, "{engine} {image}");
    }
}

/// Writes a wheel of the pure-Python package `dockhand_probe` (a wheel is a zip of the package
/// and its dist-info): `pip install` needs no index or network for it.
const MAKE_WHEEL: &str = r#"import zipfile
name, ver = "dockhand_probe", "0.1"
di = f"{name}-{ver}.dist-info"
files = {
    f"{name}/__init__.py": 'HELLO = "installed by pip"\n',
    f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n",
    f"{di}/WHEEL": "Wheel-Version: 1.0\nGenerator: dockhand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
files[f"{di}/RECORD"] = "".join(f"{p},,\n" for p in files) + f"{di}/RECORD,,\n"
with zipfile.ZipFile(f"{name}-{ver}-py3-none-any.whl", "w") as z:
    for p, t in files.items():
        z.writestr(p, t)
"#;

// A plain `pip install` in Kestra's default python image (as flows do in beforeCommands)
// installs into the image's Python, as in the official python:3.13-slim: the Debian-built image
// must not refuse it as an externally managed environment (PEP 668).
e2e_test!(python_pip_install_in_the_default_image, |cx| {
    if !has_image(cx, default_image("python")) {
        return;
    }
    let t = lang_task(
        "pip",
        "python",
        "Commands",
        &commands_body(&[
            "python make_wheel.py",
            "pip install --no-index --find-links . dockhand_probe",
            "python -c 'import dockhand_probe; print(dockhand_probe.HELLO)'",
        ]),
        &[("make_wheel.py", MAKE_WHEEL)],
    );
    let f = cx.flow(
        "pip",
        &format!(
            "id: pip\nnamespace: e2e.languages\n\ntasks:\n{}\n",
            indent(&t, 2)
        ),
    );
    let run = cx.run(&f);
    run.assert_code(0);
    assert!(
        run.logs("pip", '|').iter().any(|l| l == "installed by pip"),
        "the installed package did not import\n{}",
        run.dump()
    );
});
