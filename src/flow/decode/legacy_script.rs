//! Reading Kestra's pre-0.16 script tasks (`io.kestra.core.tasks.scripts.Bash`, `.Python`,
//! `.Node`) into the script task every script type becomes, through their adapter in
//! `spec::tasks_legacy`: the runner (PROCESS by default), the interpreter, the output keys and
//! the commands Kestra builds.

use crate::flow::model::{Body, DockerRunner, LegacyFiles, RunnerKind, ScriptTask};
use crate::flow::reader::{self, Cx, Obj};
use crate::flow::spec::tasks_legacy::{ERREXIT, LegacyAdapter, LegacyValues};
use crate::flow::spec::{self, ENV_NAME};
use crate::image::ImageRef;

pub(super) fn read(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    tt: &'static spec::TaskType,
    adapter: &'static LegacyAdapter,
) -> ScriptTask {
    let type_pos = key_pos(cx, o, "type");
    cx.diags.warning(
        type_pos,
        o.key_path("type"),
        format!(
            "`{}` is deprecated in Kestra (before 0.16), and runs as it did there: on the host unless `runner: DOCKER`; the current task is `{}`",
            tt.name,
            adapter.successor
        ),
    );
    let has = |name: &str| tt.object.properties().any(|p| p.name == name);
    let required = |name: &str| tt.object.properties().any(|p| p.name == name && p.required);
    let kind = o
        .enumeration(cx, "runner", &["PROCESS", "DOCKER"], |s| match s {
            "PROCESS" => Some(RunnerKind::Process),
            "DOCKER" => Some(RunnerKind::Docker),
            _ => None,
        })
        .unwrap_or(RunnerKind::Process);
    let options_pos = cx.spans.get(&o.key_path("dockerOptions")).copied();
    let docker = o
        .obj(cx, "dockerOptions")
        .map(|d| super::runner::read_docker_options(cx, d));
    let (runner, image) = match (kind, docker) {
        (RunnerKind::Docker, Some((runner, Some(image)))) => (runner, Some(image)),
        (RunnerKind::Docker, other) => {
            let pos = options_pos
                .or_else(|| cx.spans.get(&o.key_path("runner")).copied())
                .unwrap_or(o.pos());
            cx.error(
                pos,
                &o.key_path("dockerOptions"),
                "`runner: DOCKER` needs `dockerOptions.image` (Kestra requires it): the image the commands run in",
            );
            (other.map(|(r, _)| r).unwrap_or_default(), None)
        }
        (RunnerKind::Process, Some(_)) => {
            cx.diags.warning(
                options_pos.unwrap_or(o.pos()),
                o.key_path("dockerOptions"),
                "not used: the task runs on the host (`runner` is PROCESS, Kestra's default for this task); set `runner: DOCKER` to use them",
            );
            (DockerRunner::default(), None)
        }
        (RunnerKind::Process, None) => (DockerRunner::default(), None),
    };
    let mut interpreter = vec![
        o.string(cx, "interpreter")
            .unwrap_or_else(|| "/bin/sh".to_string()),
    ];
    interpreter.extend(
        o.strings(cx, "interpreterArgs")
            .unwrap_or_else(|| vec!["-c".to_string()]),
    );
    let fail_fast = o.bool(cx, "exitOnFailed").unwrap_or(true);
    let mut env = o.string_map(cx, "env").unwrap_or_default();
    for name in env.keys() {
        if !ENV_NAME.is_match(name) {
            let p = reader::join(&o.key_path("env"), name);
            let pos = cx.spans.get(&p).copied().unwrap_or(o.pos());
            cx.error(
                pos,
                &p,
                format!(
                    "invalid environment variable name `{name}`: use {}",
                    ENV_NAME.rule
                ),
            );
        }
    }
    // Python's `finalEnv` sets these over the task's own.
    if let spec::Execution::ContainerScript { env: forced, .. } = tt.execution {
        for (k, v) in forced {
            env.insert(k.to_string(), v.to_string());
        }
    }
    let (mut input_files, input_files_json) = super::input_files::read(cx, o);
    if required("inputFiles") && input_files.is_empty() && input_files_json.is_none() {
        o.need(cx, "inputFiles");
    }
    let files = output_keys(cx, o, &["outputFiles", "outputsFiles", "files"]);
    let dirs = output_keys(cx, o, &["outputDirs"]);
    for k in files.iter().chain(&dirs) {
        if input_files.contains_key(k) {
            let p = reader::join(&o.key_path("inputFiles"), k);
            let pos = cx.spans.get(&p).copied().unwrap_or(o.pos());
            cx.error(
                pos,
                &p,
                format!("`{k}` is also an output key: Kestra makes that file itself; give the input file another name"),
            );
        }
    }
    let values = LegacyValues {
        commands: if required("commands") {
            o.need(cx, "commands")
                .and_then(|n| reader::as_strings(cx, n, &o.key_path("commands")))
        } else {
            has("commands").then(|| o.strings(cx, "commands")).flatten()
        },
        args: has("args")
            .then(|| o.strings(cx, "args"))
            .flatten()
            .unwrap_or_default(),
        virtual_env: has("virtualEnv")
            .then(|| o.bool(cx, "virtualEnv"))
            .flatten()
            .unwrap_or(true),
        python_path: has("pythonPath")
            .then(|| o.string(cx, "pythonPath"))
            .flatten()
            .unwrap_or_else(|| "python".into()),
        requirements: has("requirements")
            .then(|| o.strings(cx, "requirements"))
            .flatten(),
        node_path: has("nodePath")
            .then(|| o.string(cx, "nodePath"))
            .flatten()
            .unwrap_or_else(|| "node".into()),
        npm_path: has("npmPath")
            .then(|| o.string(cx, "npmPath"))
            .flatten()
            .unwrap_or_else(|| "npm".into()),
        package_json: input_files.contains_key("package.json"),
    };
    if let Some(c) = &values.commands
        && c.is_empty()
        && let Some(n) = o.get(cx, "commands")
    {
        cx.error(
            n.pos,
            &o.key_path("commands"),
            "`commands` is empty: give at least one command",
        );
    }
    // The default command runs `main.*`: Kestra fails the task without it when it starts, and
    // so does the command here (said before, unless the input files are a text rendered at run
    // time). Node's `inputFiles` are required, so its flow has an error then.
    if let Some(main) = adapter.main
        && values.commands.is_none()
        && input_files_json.is_none()
        && (!required("inputFiles") || o.has("inputFiles"))
        && !input_files.contains_key(main)
    {
        let pos = key_pos(cx, o, "inputFiles");
        cx.diags.warning(
            pos,
            o.key_path("inputFiles"),
            format!("`inputFiles` has no `{main}`: the task runs it, so it will fail (Kestra fails it too)"),
        );
    }
    if let Some((name, text)) = adapter.helper {
        input_files
            .entry(name.to_string())
            .or_insert_with(|| text.to_string());
    }
    let mut commands: Vec<String> = dirs
        .iter()
        .map(|d| format!("mkdir -p {}", quote(d)))
        .collect();
    commands.extend((adapter.commands)(&values));
    // The output keys' files exist before the run, as Kestra creates them.
    for f in &files {
        input_files.insert(f.clone(), String::new());
    }
    let output_files = files
        .iter()
        .map(|f| escape_glob(f))
        .chain(dirs.iter().map(|d| format!("{}/**", escape_glob(d))))
        .collect();
    ScriptTask {
        // On the host (or with an error reported) no image is used: `scratch` stands in.
        container_image: image
            .unwrap_or_else(|| ImageRef::parse("scratch").expect("a valid image reference")),
        interpreter,
        before_commands: vec![],
        body: Body::Commands(commands),
        env,
        fail_fast,
        fail_fast_line: ERREXIT,
        input_files,
        output_files,
        runner,
        task_runner: kind,
        // `CommandsWrapper` with a runner type turns the output directory on.
        output_dir: true,
        python: None,
        namespace_files: None,
        kv_files: Vec::new(),
        input_files_json,
        legacy: Some(LegacyFiles { files, dirs }),
    }
}

/// The keys of the properties `names`, in order, each a relative name (Kestra's
/// `validFilename`: not starting with `./`, `..` or `/`).
fn output_keys(cx: &mut Cx, o: &mut Obj<'_>, names: &[&'static str]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for name in names {
        let Some(list) = o.strings(cx, name) else {
            continue;
        };
        for k in list {
            if k.is_empty() || k.starts_with("./") || k.starts_with("..") || k.starts_with('/') {
                let pos = key_pos(cx, o, name);
                cx.error(
                    pos,
                    &o.key_path(name),
                    format!("`{k}`: only a relative name is supported (as in Kestra)"),
                );
            } else if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// Where `key` of `o` is written (its name), or the object's position.
fn key_pos(cx: &Cx, o: &Obj<'_>, key: &str) -> crate::diag::Pos {
    cx.spans.get(&o.key_path(key)).copied().unwrap_or(o.pos())
}

/// `s` as one word of a POSIX shell.
fn quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `s` as a glob naming exactly it.
fn escape_glob(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "*?[]{}\\,".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
