//! Kestra's pre-0.16 script tasks, which real flows still use: `io.kestra.core.tasks.scripts.Bash`,
//! `.Python` and `.Node` (kestra-io/kestra, `core/…/tasks/scripts/AbstractBash.java`,
//! `Bash.java`, `AbstractPython.java`, `Python.java`, `Node.java`, the last versions before
//! their removal, with `CommandsWrapper`). They are adapters onto the script execution every
//! script task has: their properties are data here ([`LegacyAdapter`]), and what they make of
//! them (the commands Kestra builds) one pure function per type.
//!
//! What they share (`AbstractBash`): `runner` (default PROCESS: on the host), `dockerOptions`
//! (the Docker runner's settings and `image`, for `runner: DOCKER`), `interpreter` (default
//! `/bin/sh`) and `interpreterArgs` (`[-c]`), `exitOnFailed` (`set -o errexit` first), `env`,
//! `inputFiles` (a map or a JSON text), and output files by key: `outputFiles` (also the
//! deprecated `outputsFiles` and `files`) name files Kestra creates in the working directory,
//! `{{ outputFiles.KEY }}` (and `{{ temp.KEY }}`) giving their path, kept as output file `KEY`;
//! `outputDirs` the same for directories, whose files are kept as `KEY/...`. Kestra names the
//! file `KEY_<random>`; dockhand names it `KEY`, so that a plan is stable.

use super::{
    COMMON_TASK, DOCKER_OPTIONS, ENV, Execution, Object, Property, SH, ScriptBody, TaskType, Ty,
    read, required, with_default,
};

pub const BASH_TYPE: &str = "io.kestra.core.tasks.scripts.Bash";
pub const PYTHON_TYPE: &str = "io.kestra.core.tasks.scripts.Python";
pub const NODE_TYPE: &str = "io.kestra.core.tasks.scripts.Node";

/// What `exitOnFailed` puts first (Bash.java, AbstractPython.virtualEnvCommand, Node.java).
pub const ERREXIT: &str = "set -o errexit";

/// Python's default command (Python.java `commands`).
pub const PYTHON_DEFAULT_COMMAND: &str = "./bin/python main.py";

/// What every pre-0.16 script task has (AbstractBash).
const ABSTRACT_BASH: &[Property] = &[
    Property {
        example: Some("DOCKER"),
        ..with_default(
            "runner",
            Ty::Enum(&["PROCESS", "DOCKER"]),
            "\"PROCESS\"",
            "PROCESS (Kestra's default for these tasks) runs the commands on the host, in the task's working directory; DOCKER in a container of `dockerOptions.image`.",
        )
    },
    Property {
        example: Some("{image: dockhand-test/busybox}"),
        ..read(
            "dockerOptions",
            Ty::Object(&DOCKER_OPTIONS),
            "With `runner: DOCKER`: the image (`image`, required) and the Docker runner's settings, pullPolicy ALWAYS by default, as Kestra's DockerOptions.",
        )
    },
    Property {
        example: Some("/bin/bash"),
        ..with_default(
            "interpreter",
            Ty::Text,
            "\"/bin/sh\"",
            "The program the script is given to, after `interpreterArgs`.",
        )
    },
    Property {
        example: Some("[-c]"),
        ..with_default(
            "interpreterArgs",
            Ty::Strings,
            "[\"-c\"]",
            "The interpreter's arguments before the script.",
        )
    },
    Property {
        example: Some("true"),
        ..with_default(
            "exitOnFailed",
            Ty::Bool,
            "true",
            "When true, the script starts with `set -o errexit`, so the first failing command fails the task.",
        )
    },
    Property {
        example: Some("[first]"),
        ..read(
            "outputFiles",
            Ty::Strings,
            "Keys of files made empty in the working directory before the run: `{{ outputFiles.KEY }}` is the file's path, and the file is kept as the output file `KEY` (`{{ outputs.ID.outputFiles.KEY }}`).",
        )
    },
    Property {
        example: Some("[second]"),
        ..read(
            "outputsFiles",
            Ty::Strings,
            "Deprecated spelling of `outputFiles` (its keys are added to them).",
        )
    },
    Property {
        example: Some("[third]"),
        ..read(
            "files",
            Ty::Strings,
            "Deprecated spelling of `outputFiles` (its keys are added to them).",
        )
    },
    Property {
        example: Some("[reports]"),
        ..read(
            "outputDirs",
            Ty::Strings,
            "Keys of directories made in the working directory before the run: `{{ outputDirs.KEY }}` is the directory's path, and each file in it is kept as the output file `KEY/PATH`.",
        )
    },
    ENV,
];

/// `inputFiles` of Bash and Python (Node's names `main.js`).
const INPUT_FILES_ANY: Property = Property {
    example: Some(r#"{main.py: "print(1)", data.txt: "{{ inputs.name }}"}"#),
    ..read(
        "inputFiles",
        Ty::FileMap(super::Names::RelativePath),
        "Files written into the working directory before the run: a map of relative paths to contents, or a JSON text of one; a content that is a `kestra://` URI is that file's.",
    )
};

const ARGS: Property = Property {
    example: Some("[data.txt]"),
    ..read(
        "args",
        Ty::Strings,
        "Arguments added, joined by spaces, after each command (Python) or `main.js` (Node).",
    )
};

const BASH_OWN: &[Property] = &[
    INPUT_FILES_ANY,
    Property {
        example: Some(r#"["echo {{ vars.greeting }}"]"#),
        ..required(
            "commands",
            Ty::NonEmptyStrings,
            "The commands, one per line of the script given to the interpreter. May use `{{ ... }}` expressions.",
        )
    },
];

const PYTHON_OWN: &[Property] = &[
    INPUT_FILES_ANY,
    Property {
        example: Some(r#"["./bin/python main.py"]"#),
        ..with_default(
            "commands",
            Ty::NonEmptyStrings,
            "[\"./bin/python main.py\"]",
            "The commands, each followed by `args`; with the default, `inputFiles` must hold `main.py`.",
        )
    },
    ARGS,
    Property {
        example: Some("true"),
        ..with_default(
            "virtualEnv",
            Ty::Bool,
            "true",
            "When true, `PYTHON -m venv --system-site-packages` makes a virtual environment in the working directory first (`./bin/python`), and `requirements` are installed into it with `./bin/pip`; when false, `requirements` are not installed.",
        )
    },
    Property {
        example: Some("python3"),
        ..with_default(
            "pythonPath",
            Ty::Text,
            "\"python\"",
            "The Python that makes the virtual environment.",
        )
    },
    Property {
        example: Some("[requests]"),
        ..read(
            "requirements",
            Ty::Strings,
            "Packages (pip requirement specifiers) installed into the virtual environment before the commands (`./bin/pip install pip --upgrade`, then `./bin/pip install ...`), on each run, as Kestra does.",
        )
    },
];

const NODE_OWN: &[Property] = &[
    Property {
        example: Some(r#"{main.js: "console.log(1)"}"#),
        ..required(
            "inputFiles",
            Ty::FileMap(super::Names::RelativePath),
            "Files written into the working directory before the run; `main.js` is the script run (`NODE main.js ARGS`), and a `package.json` makes `NPM i` run first. A map, or a JSON text of one.",
        )
    },
    ARGS,
    Property {
        example: Some("node"),
        ..with_default(
            "nodePath",
            Ty::Text,
            "\"node\"",
            "The node program; its directory, when it has one, is added to `PATH`.",
        )
    },
    Property {
        example: Some("npm"),
        ..with_default(
            "npmPath",
            Ty::Text,
            "\"npm\"",
            "The npm program that installs `package.json`'s dependencies.",
        )
    },
];

/// A pre-0.16 script task's execution: commands the adapter builds, `/bin/sh -c` by default.
const fn legacy(env: &'static [(&'static str, &'static str)]) -> Execution {
    Execution::ContainerScript {
        body: ScriptBody::Commands,
        // None: Kestra requires `dockerOptions.image` with `runner: DOCKER` (the reader says
        // so).
        default_image: "",
        interpreter: SH,
        fail_fast: ERREXIT,
        env,
        file: None,
    }
}

/// Python's `finalEnv` sets it over the task's own value.
const PYTHON_ENV: &[(&str, &str)] = &[("PYTHONUNBUFFERED", "true")];

pub static TASK_TYPES: &[TaskType] = &[
    TaskType {
        name: BASH_TYPE,
        aliases: &[],
        execution: legacy(&[]),
        object: Object {
            kind: "task",
            title: "Bash commands (Kestra before 0.16)",
            doc: "Kestra's deprecated Bash task: commands run by `/bin/sh -c`, on the host by default (`runner: PROCESS`) or in `dockerOptions.image`.",
            properties: &[COMMON_TASK, ABSTRACT_BASH, BASH_OWN],
        },
    },
    TaskType {
        name: PYTHON_TYPE,
        aliases: &[],
        execution: legacy(PYTHON_ENV),
        object: Object {
            kind: "task",
            title: "Python script (Kestra before 0.16)",
            doc: "Kestra's deprecated Python task: a virtual environment in the working directory with `requirements`, then `./bin/python main.py`.",
            properties: &[COMMON_TASK, ABSTRACT_BASH, PYTHON_OWN],
        },
    },
    TaskType {
        name: NODE_TYPE,
        aliases: &[],
        execution: legacy(&[]),
        object: Object {
            kind: "task",
            title: "Node.js script (Kestra before 0.16)",
            doc: "Kestra's deprecated Node task: `npm i` when a `package.json` is given, then `node main.js`.",
            properties: &[COMMON_TASK, ABSTRACT_BASH, NODE_OWN],
        },
    },
];

/// The values of a pre-0.16 task's own properties that shape its commands (defaults applied).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegacyValues {
    /// `commands` as given (Bash, Python), or None.
    pub commands: Option<Vec<String>>,
    pub args: Vec<String>,
    pub virtual_env: bool,
    pub python_path: String,
    pub requirements: Option<Vec<String>>,
    pub node_path: String,
    pub npm_path: String,
    /// `inputFiles` names `package.json` (Node).
    pub package_json: bool,
}

/// What a pre-0.16 task type adds to the script execution.
pub struct LegacyAdapter {
    pub task_type: &'static str,
    /// The helper Kestra writes into the working directory (`from kestra import Kestra`,
    /// `require("./kestra")`): dockhand's own version of it, which prints Kestra's
    /// `::{"outputs": ...}::` and `::{"metrics": ...}::` lines.
    pub helper: Option<(&'static str, &'static str)>,
    /// The input file the default command runs, which must then be given.
    pub main: Option<&'static str>,
    /// The task type Kestra replaced it with (named in the deprecation warning).
    pub successor: &'static str,
    /// The commands Kestra builds (after the `exitOnFailed` line).
    pub commands: fn(&LegacyValues) -> Vec<String>,
}

pub static LEGACY_ADAPTERS: &[LegacyAdapter] = &[
    LegacyAdapter {
        task_type: BASH_TYPE,
        helper: None,
        main: None,
        successor: "io.kestra.plugin.scripts.shell.Commands",
        commands: bash,
    },
    LegacyAdapter {
        task_type: PYTHON_TYPE,
        helper: Some(("kestra.py", KESTRA_PY)),
        main: Some("main.py"),
        successor: "io.kestra.plugin.scripts.python.Script",
        commands: python,
    },
    LegacyAdapter {
        task_type: NODE_TYPE,
        helper: Some(("kestra.js", KESTRA_JS)),
        main: Some("main.js"),
        successor: "io.kestra.plugin.scripts.node.Script",
        commands: node,
    },
];

/// The adapter of `task_type`, when it is a pre-0.16 script task.
pub fn legacy_adapter(task_type: &str) -> Option<&'static LegacyAdapter> {
    LEGACY_ADAPTERS.iter().find(|a| a.task_type == task_type)
}

/// Bash.run(): the commands as given.
fn bash(v: &LegacyValues) -> Vec<String> {
    v.commands.clone().unwrap_or_default()
}

/// ` ARGS`, or nothing.
fn args(v: &LegacyValues) -> String {
    if v.args.is_empty() {
        String::new()
    } else {
        format!(" {}", v.args.join(" "))
    }
}

/// Python.run() with AbstractPython.virtualEnvCommand(): the virtual environment (in the
/// working directory, which is the commands' directory) and its requirements, then each
/// command followed by `args`.
fn python(v: &LegacyValues) -> Vec<String> {
    let mut out = Vec::new();
    if v.virtual_env {
        out.push(format!(
            "{} -m venv --system-site-packages . > /dev/null",
            v.python_path
        ));
        if let Some(r) = &v.requirements {
            out.push("./bin/pip install pip --upgrade > /dev/null".to_string());
            out.push(format!("./bin/pip install {} > /dev/null", r.join(" ")));
        }
    }
    let commands = v
        .commands
        .clone()
        .unwrap_or_else(|| vec![PYTHON_DEFAULT_COMMAND.to_string()]);
    out.extend(commands.into_iter().map(|c| format!("{c}{}", args(v))));
    out
}

/// Node.run(): the node program's directory on `PATH` (Kestra adds it even when `nodePath`
/// has none, as `$PATH:null`; dockhand only when there is one), `npm i` with a
/// `package.json`, then `node main.js ARGS`.
fn node(v: &LegacyValues) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((dir, _)) = v.node_path.rsplit_once('/') {
        let dir = if dir.is_empty() { "/" } else { dir };
        out.push(format!("PATH=\"$PATH:{dir}\""));
    }
    if v.package_json {
        out.push(format!("{} i > /dev/null", v.npm_path));
    }
    out.push(format!("{} main.js{}", v.node_path, args(v)));
    out
}

/// dockhand's `kestra.py`: the `Kestra` class of Kestra's helper (outputs, counter, timer).
/// It holds no `{{`, `{%` or `{#`: input files are templates.
pub const KESTRA_PY: &str = r#"# Written by dockhand in place of Kestra's helper of its pre-0.16 Python task:
# `from kestra import Kestra`; outputs and metrics are printed as Kestra's `::{...}::` lines.
import json
import time


class Kestra:
    @staticmethod
    def _send(payload):
        print("::" + json.dumps(payload) + "::", flush=True)

    @staticmethod
    def outputs(values):
        Kestra._send({"outputs": values})

    @staticmethod
    def _metric(kind, name, value, tags):
        Kestra._send({"metrics": [{"name": name, "type": kind, "value": value, "tags": tags or {}}]})

    @staticmethod
    def counter(name, value, tags=None):
        Kestra._metric("counter", name, value, tags)

    @staticmethod
    def timer(name, duration, tags=None):
        if callable(duration):
            start = time.perf_counter()
            duration()
            duration = time.perf_counter() - start
        Kestra._metric("timer", name, duration, tags)
"#;

/// dockhand's `kestra.js`: the helper of Kestra's pre-0.16 Node task (`require("./kestra")`).
pub const KESTRA_JS: &str = r#"// Written by dockhand in place of Kestra's helper of its pre-0.16 Node task:
// `const Kestra = require("./kestra")`; outputs and metrics are printed as `::{...}::` lines.
function send(payload) {
  console.log("::" + JSON.stringify(payload) + "::");
}
function metric(type, name, value, tags) {
  send({ metrics: [ { name: name, type: type, value: value, tags: tags || {} } ] });
}
module.exports = {
  outputs: function (values) { send({ outputs: values }); },
  counter: function (name, value, tags) { metric("counter", name, value, tags); },
  timer: function (name, duration, tags) {
    if (typeof duration === "function") {
      const start = Date.now();
      duration(function () { metric("timer", name, (Date.now() - start) / 1000, tags); });
    } else {
      metric("timer", name, duration, tags);
    }
  },
};
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> LegacyValues {
        LegacyValues {
            virtual_env: true,
            python_path: "python".into(),
            node_path: "node".into(),
            npm_path: "npm".into(),
            ..Default::default()
        }
    }

    #[test]
    fn python_commands_as_kestra_builds_them() {
        let cases: &[(LegacyValues, &[&str])] = &[
            // The default: a venv, no requirements, `./bin/python main.py`.
            (
                values(),
                &[
                    "python -m venv --system-site-packages . > /dev/null",
                    "./bin/python main.py",
                ],
            ),
            (
                LegacyValues {
                    requirements: Some(vec!["requests".into(), "six==1.16.0".into()]),
                    args: vec!["data.json".into(), "x".into()],
                    python_path: "python3".into(),
                    ..values()
                },
                &[
                    "python3 -m venv --system-site-packages . > /dev/null",
                    "./bin/pip install pip --upgrade > /dev/null",
                    "./bin/pip install requests six==1.16.0 > /dev/null",
                    "./bin/python main.py data.json x",
                ],
            ),
            // No venv: requirements are not installed.
            (
                LegacyValues {
                    virtual_env: false,
                    requirements: Some(vec!["requests".into()]),
                    commands: Some(vec!["python3 main.py".into(), "ls".into()]),
                    ..values()
                },
                &["python3 main.py", "ls"],
            ),
        ];
        for (v, want) in cases {
            assert_eq!(python(v), want.to_vec(), "{v:?}");
        }
    }

    #[test]
    fn node_commands_as_kestra_builds_them() {
        assert_eq!(node(&values()), vec!["node main.js"]);
        let v = LegacyValues {
            node_path: "/usr/local/bin/node".into(),
            package_json: true,
            args: vec!["a".into()],
            ..values()
        };
        assert_eq!(
            node(&v),
            vec![
                "PATH=\"$PATH:/usr/local/bin\"",
                "npm i > /dev/null",
                "/usr/local/bin/node main.js a"
            ]
        );
    }

    #[test]
    fn helpers_are_no_templates() {
        for h in [KESTRA_PY, KESTRA_JS] {
            assert!(!h.contains("{{") && !h.contains("{%") && !h.contains("{#"));
        }
    }

    #[test]
    fn every_legacy_type_has_an_adapter() {
        for t in TASK_TYPES {
            assert!(legacy_adapter(t.name).is_some(), "{}", t.name);
        }
    }
}
