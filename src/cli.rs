//! Subcommands, their help texts and exit codes.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

use dockhand::diag::Diags;
use dockhand::flow::{self, Flow};
use dockhand::plan::{self, context::PlanContext, dialect::Dialect};

/// Exit codes, as documented in `--help`.
pub mod code {
    pub const OK: i32 = 0;
    pub const FLOW_FAILED: i32 = 1;
    pub const INVALID: i32 = 2;
    pub const ENGINE: i32 = 3;
    pub const INTERRUPTED: i32 = 130;
    pub const TERMINATED: i32 = 143;
}

const EXIT_CODES: &str = "\
Exit codes:
  0    success (every task SUCCESS, WARNING or skipped)
  1    the flow failed: a task ended FAILED (see the summary)
  2    invalid input: a flow file, an option or an input value is wrong; nothing was started
  3    the engine is unavailable (no CLI, daemon unreachable) or host setup failed
  130  interrupted by Ctrl-C (SIGINT); running containers were stopped
  143  terminated by SIGTERM; running containers were stopped";

#[derive(Parser)]
#[command(
    name = "dockhand",
    version,
    about = "Run Kestra flows' script tasks as Docker or Podman containers, through the engine CLI",
    long_about = "dockhand reads flow files in Kestra's YAML dialect and runs each \
io.kestra.plugin.scripts.shell.Commands / Script task as a container by calling the `docker` or \
`podman` command line, the way Kestra's Docker task runner would. No socket, no API client: \
`dockhand plan` prints the exact command lines it will run.",
    after_help = EXIT_CODES,
    after_long_help = concat!("Examples:
  dockhand validate flows/*.yaml          check files, report every error with file:line:col
  dockhand plan flow.yaml                 print the docker command lines of every task
  dockhand plan flow.yaml --engine podman the same for podman
  dockhand schema > dockhand.schema.json  JSON Schema for editor completion
  dockhand run flow.yaml                  run it

", "Exit codes:
  0    success (every task SUCCESS, WARNING or skipped)
  1    the flow failed: a task ended FAILED (see the summary)
  2    invalid input: a flow file, an option or an input value is wrong; nothing was started
  3    the engine is unavailable (no CLI, daemon unreachable) or host setup failed
  130  interrupted by Ctrl-C (SIGINT); running containers were stopped
  143  terminated by SIGTERM; running containers were stopped")
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check flow files and report every problem with file:line:column
    #[command(after_help = "Examples:
  dockhand validate flow.yaml
  dockhand validate flows/*.yaml --engine podman   also check engine-specific options

Prints `ok FILE` for each valid file, and errors and warnings as FILE:LINE:COL: ....
Exit codes: 0 every file is valid (warnings allowed), 2 some file has errors.")]
    Validate {
        /// Flow files to check
        #[arg(required = true, value_name = "FLOW")]
        files: Vec<Utf8PathBuf>,
        /// Also check options against this engine's dialect
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
    },
    /// Print the engine command lines each task would run, secrets redacted
    #[command(after_help = "Examples:
  dockhand plan flow.yaml
  dockhand plan flow.yaml --engine podman --execution-id review1
  dockhand plan flow.yaml --input name=world
  dockhand plan flow.yaml --input-env token=API_TOKEN   a SECRET input, off the command line

Each task's commands are printed one option per line, shell-quoted, in the order `run` uses
them. Environment values, registry passwords and tokens appear as <redacted>: values go to the
engine client through its environment or a 0600 file, never through its arguments. A command that
holds a SECRET input is shown as the path of its private command file, its text <redacted>.
The output is deterministic: the execution id defaults to `plan`.
Exit codes: 0 printed, 2 the flow has errors (nothing printed on stdout).")]
    Plan {
        /// The flow file
        #[arg(value_name = "FLOW")]
        file: Utf8PathBuf,
        /// Engine dialect to print
        #[arg(long, value_enum, default_value = "docker")]
        engine: EngineArg,
        #[command(flatten)]
        common: PlanArgs,
        /// Execution id used in container names, labels and paths
        #[arg(long, default_value = "plan", value_parser = parse_execution_id)]
        execution_id: String,
    },
    /// Run a flow: each task as a container, logs streamed, a summary at the end
    #[command(after_help = "Examples:
  dockhand run flow.yaml
  dockhand run flow.yaml --input name=world --engine podman
  dockhand run flow.yaml --json > result.json     logs go to stderr, the result to stdout
  DOCKER_HOST=ssh://build-host dockhand run flow.yaml
  dockhand run flow.yaml --input-env token=API_TOKEN         a SECRET input from $API_TOKEN
  dockhand run flow.yaml --input-file token=/run/secrets/tk  ... or from a file

SECRET inputs: --input NAME=VALUE puts the value on dockhand's own command line (visible in `ps`);
--input-env NAME=VAR and --input-file NAME=FILE do not. A task whose command holds a secret gets
it in a private command file copied into the container (its argv holds only the file's path),
and every secret value (4 characters or more, and its base64 form) is printed as ****** in logs,
--json, the journal and error messages.

Engine: --engine, else $DOCKHAND_ENGINE, else `docker` on PATH, else `podman`. A `docker` that is
Podman (podman-docker) is driven as Podman. --host, a task's `host`, $DOCKER_HOST and docker
contexts are honoured. A remote engine (tcp://, ssh://, a docker context, a podman connection)
is asked for its version before any task starts; a local one is not (its first command fails at
once if it is down, and that is reported as one line, exit code 3).
Log lines are `TASK | line` (stdout) and `TASK ! line` (stderr); NO_COLOR turns colour off.
Ctrl-C or SIGTERM stops the running containers (stop -t killGracePeriod, or kill) and removes
them when `delete` is true.
A task's container is removed while the next task runs. The last removals (the final task's)
are not waited for: their `rm` processes are detached and finish after dockhand returns (the
result says `removal: handedOff`); --wait-removal waits for them.

Exit codes: 0 success, 1 a task FAILED, 2 invalid flow or options (nothing started),
3 engine unavailable, 130 interrupted (SIGINT), 143 terminated (SIGTERM).")]
    Run {
        /// The flow file
        #[arg(value_name = "FLOW")]
        file: Utf8PathBuf,
        /// Engine CLI: docker, podman, or a path to either
        #[arg(long, value_name = "ENGINE")]
        engine: Option<String>,
        /// Engine address (docker -H / podman --url); a task's `host` wins
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        #[command(flatten)]
        common: PlanArgs,
        /// Execution id (default: a new random one); an id with a journal continues that execution
        #[arg(long, value_parser = parse_execution_id)]
        execution_id: Option<String>,
        #[command(flatten)]
        exec: ExecArgs,
        /// Docker: if the flow lists insecure registries the local daemon does not trust, merge
        /// them into daemon.json and reload dockerd first (as `registry insecure add --reload`)
        #[arg(long)]
        configure_insecure_registries: bool,
    },
    /// Continue an execution after a crash: finished tasks are kept, a running container is re-attached
    #[command(after_help = "Examples:
  dockhand resume 7k2m9x4q0abc
  dockhand run flow.yaml --execution-id 7k2m9x4q0abc   the same, naming the flow again

The journal (under --state-dir) holds the flow, the engine, the inputs and each task's progress.
Tasks that ended SUCCESS or WARNING keep their result and outputs; a task whose container is
still there (running, or finished while dockhand was down) is re-attached: its log continues after
the last line already printed, and its exit code is read from the engine. FAILED or KILLED tasks
run again as a new attempt. With `resume: false` a leftover container is removed and the task
starts afresh.

Exit codes: as for `run`; 2 when there is no journal for the id, or the id is not one (letters,
digits, `_` and `-`: never a path).")]
    Resume {
        /// The id of the execution to continue (as printed by `run`, `ps`, or given to `run --execution-id`)
        #[arg(value_parser = parse_execution_id)]
        execution_id: String,
        /// Input value (repeatable); SECRET inputs are not journaled and must be given again
        /// (preferably with --input-env or --input-file, which keep them off the command line)
        #[arg(long = "input", value_name = "NAME=VALUE", value_parser = parse_kv)]
        inputs: Vec<(String, String)>,
        #[command(flatten)]
        sources: InputSources,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// List dockhand's containers: execution, flow, task, state, age, and whether a dockhand process is watching
    #[command(after_help = "Examples:
  dockhand ps --engine podman
  dockhand ps --execution k3v9x0q2m7ab
  dockhand ps --namespace company.team --flow nightly

Containers are found by the label io.dockhand.managed=true: every dockhand container on the
engine, whoever started it, unless --execution, --namespace or --flow narrow the list (given
together, a container must match all). WATCHED says whether a running dockhand process holds the
execution (its journal lock under --state-dir, or the live process named by the container's
io.dockhand.owner label); a label that is not a valid execution id never is.
Exit codes: 0 listed, 2 invalid option (e.g. an execution id that is not letters, digits, `_`
and `-`), 3 the engine is unavailable.")]
    Ps {
        #[command(flatten)]
        target: ContainersArgs,
    },
    /// Remove dockhand's containers that no running execution is waiting for, with the journals and working directories of executions that ended
    #[command(after_help = "Examples:
  dockhand cleanup --dry-run
  dockhand cleanup --execution k3v9x0q2m7ab
  dockhand cleanup --namespace company.team --older-than PT1H

What it removes by default: EVERY dockhand container on the engine (label
io.dockhand.managed=true) that no running dockhand process watches, whoever started it, with its
anonymous volumes, including those a crashed run left for `dockhand resume`. On an engine shared
with other users, narrow it with --execution, --namespace and/or --flow (a container must match
all that are given); --older-than spares recent ones.
Then, under --state-dir, the executions that ended and have no container left (after this
removal): their journal, and their working directories WORK_DIR/EXECUTION and
WORK_DIR/.private/EXECUTION (WORK_DIR as the journal recorded it; output files go with them). A
crashed execution (no end in its journal) keeps its journal and working directory for `resume`.
Exit codes: 0 done (or nothing to do), 2 invalid option (e.g. an execution id that is not
letters, digits, `_` and `-`), 3 the engine is unavailable or removal failed.")]
    Cleanup {
        #[command(flatten)]
        target: ContainersArgs,
        /// Only containers created (and journals last written) at least this long ago (ISO-8601, e.g. PT30M)
        #[arg(long, value_name = "DURATION", default_value = "PT0S", value_parser = dockhand::units::parse_duration)]
        older_than: std::time::Duration,
        /// Print what would be removed, remove nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the JSON Schema of the flow format (for editor completion and validation)
    #[command(
        after_help = "Example (VS Code with the YAML extension, in settings.json):
  \"yaml.schemas\": { \"./dockhand.schema.json\": \"flows/*.yaml\" }

  dockhand schema > dockhand.schema.json

Exit code: 0."
    )]
    Schema,
    /// Set up the host for private registries: `registry insecure add|remove|list`
    Registry(dockhand::registry::cli::RegistryArgs),
}

/// Options of `ps` and `cleanup`: which engine, and which of dockhand's containers on it.
#[derive(Args, Clone)]
struct ContainersArgs {
    /// The engine CLI: docker, podman or a path (default: $DOCKHAND_ENGINE, else docker on PATH, else podman)
    #[arg(long, value_name = "ENGINE")]
    engine: Option<String>,
    /// Engine address (docker --host / podman --url), e.g. unix:///run/podman/podman.sock
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
    #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
    state_dir: Option<Utf8PathBuf>,
    /// Only this execution's containers (and journal)
    #[arg(long, alias = "execution-id", value_name = "ID", value_parser = parse_execution_id)]
    execution: Option<String>,
    /// Only containers (and journals) of flows in this namespace
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Only containers (and journals) of the flow with this id
    #[arg(long, value_name = "FLOW_ID")]
    flow: Option<String>,
}

impl ContainersArgs {
    fn filter(&self) -> dockhand::exec::containers::Filter {
        dockhand::exec::containers::Filter {
            execution: self.execution.clone(),
            namespace: self.namespace.clone(),
            flow: self.flow.clone(),
        }
    }
}

/// Options of `run` and `resume`: where the journal lives and how the run reports.
#[derive(Args, Clone)]
struct ExecArgs {
    /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
    #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
    state_dir: Option<Utf8PathBuf>,
    /// Print the result as JSON on stdout (logs go to stderr)
    #[arg(long)]
    json: bool,
    /// Print only task logs and the result, no status lines
    #[arg(long, short)]
    quiet: bool,
    /// Return only once every container is removed, instead of leaving the last removals to
    /// their detached `rm` processes
    #[arg(long)]
    wait_removal: bool,
}

#[derive(Args, Clone)]
struct PlanArgs {
    /// Input value for `{{ inputs.NAME }}` (repeatable). It is on dockhand's command line: give
    /// SECRET inputs with --input-env or --input-file instead
    #[arg(long = "input", value_name = "NAME=VALUE", value_parser = parse_kv)]
    inputs: Vec<(String, String)>,
    #[command(flatten)]
    sources: InputSources,
    /// Root of task working directories (`DIR/<execution>/<task>`) and private files
    #[arg(
        long,
        env = "DOCKHAND_WORK_DIR",
        default_value = "/tmp/dockhand",
        value_name = "DIR"
    )]
    work_dir: Utf8PathBuf,
}

/// Input values that stay off every command line: read from dockhand's environment or from a
/// file, so neither `ps` nor `/proc/PID/cmdline` shows them.
#[derive(Args, Clone, Default)]
struct InputSources {
    /// Input NAME from the environment variable VAR (repeatable), e.g. `--input-env token=API_TOKEN`
    #[arg(long = "input-env", value_name = "NAME=VAR", value_parser = parse_kv)]
    input_env: Vec<(String, String)>,
    /// Input NAME from the contents of FILE (repeatable; one trailing newline is dropped),
    /// e.g. `--input-file token=/run/secrets/token`
    #[arg(long = "input-file", value_name = "NAME=FILE", value_parser = parse_kv)]
    input_file: Vec<(String, String)>,
}

impl InputSources {
    /// The values, read now; an unset variable or an unreadable file is bad input (exit 2).
    fn read(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (name, var) in &self.input_env {
            let v = std::env::var(var).map_err(|e| {
                anyhow::anyhow!("--input-env {name}={var}: environment variable `{var}`: {e}")
            })?;
            out.push((name.clone(), v));
        }
        for (name, file) in &self.input_file {
            let mut v = std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!("--input-file {name}={file}: cannot read `{file}`: {e}")
            })?;
            // `echo secret > file` adds a newline that is not part of the value.
            if v.ends_with('\n') {
                v.pop();
                if v.ends_with('\r') {
                    v.pop();
                }
            }
            out.push((name.clone(), v));
        }
        Ok(out)
    }
}

/// `--input`, `--input-env` and `--input-file` together (a name given twice: the last wins, in
/// that order).
fn given_inputs(args: &PlanArgs) -> anyhow::Result<BTreeMap<String, String>> {
    let mut given: BTreeMap<String, String> = args.inputs.iter().cloned().collect();
    given.extend(args.sources.read()?);
    Ok(given)
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineArg {
    Docker,
    Podman,
}

impl EngineArg {
    fn dialect(self) -> Dialect {
        match self {
            EngineArg::Docker => Dialect::Docker,
            EngineArg::Podman => Dialect::Podman,
        }
    }
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

/// Every execution id on the command line goes through this (clap: exit 2, one line).
pub fn parse_execution_id(s: &str) -> Result<String, String> {
    dockhand::exec::execution_id::check(s).map(str::to_string)
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                code::INVALID
            } else {
                code::OK
            };
        }
    };
    match run(cli) {
        Ok(c) => c,
        // The reader closed stdout (`| head -1`): not an error, as for ripgrep.
        Err(e) if crate::output::is_broken_pipe(&e) => code::OK,
        Err(e) => {
            eprintln!("dockhand: error: {e:#}");
            code::INVALID
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Validate { files, engine } => Ok(validate(&files, engine.map(EngineArg::dialect))),
        Command::Plan {
            file,
            engine,
            common,
            execution_id,
        } => plan_cmd(&file, engine.dialect(), &common, &execution_id),
        Command::Run {
            file,
            engine,
            host,
            common,
            execution_id,
            exec,
            configure_insecure_registries,
        } => run_cmd(
            &file,
            engine.as_deref(),
            host,
            &common,
            execution_id,
            exec,
            configure_insecure_registries,
        ),
        Command::Resume {
            execution_id,
            mut inputs,
            sources,
            exec,
        } => {
            inputs.extend(sources.read()?);
            resume_cmd(&execution_id, inputs, exec)
        }
        Command::Ps { target } => ps_cmd(target),
        Command::Cleanup {
            target,
            older_than,
            dry_run,
        } => cleanup_cmd(target, older_than, dry_run),
        Command::Schema => {
            let s = serde_json::to_string_pretty(&dockhand::schema::schema())?;
            out!("{s}\n")?;
            Ok(code::OK)
        }
        Command::Registry(args) => Ok(dockhand::registry::cli::run(args)),
    }
}

/// Reads and checks a flow file; diagnostics go to stderr.
pub fn load_flow(file: &Utf8PathBuf) -> Result<(Flow, Diags), Diags> {
    let text = match flow::limits::read_file(file.as_str()) {
        Ok(t) => t,
        Err(e) => {
            let mut d = Diags::new(file.as_str());
            d.error(Default::default(), "", e);
            return Err(d);
        }
    };
    let loaded = flow::load(file.as_str(), &text);
    match loaded.flow {
        Some(f) => Ok((f, loaded.diags)),
        None => Err(loaded.diags),
    }
}

fn print_diags(d: &Diags) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{d}");
}

fn plan_context(dialect: Dialect, args: &PlanArgs, execution_id: &str) -> PlanContext {
    // The working directory has the same path inside the container: it must be absolute.
    let work_root = if args.work_dir.is_absolute() {
        args.work_dir.clone()
    } else {
        std::env::current_dir()
            .ok()
            .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
            .map_or_else(|| args.work_dir.clone(), |d| d.join(&args.work_dir))
    };
    let args = &PlanArgs {
        inputs: vec![],
        sources: InputSources::default(),
        work_dir: work_root,
    };
    PlanContext {
        execution_id: execution_id.to_string(),
        attempt: 1,
        dialect,
        work_root: args.work_dir.clone(),
        private_root: args.work_dir.join(".private"),
        host: None,
        owner: None,
        secrets: Vec::new(),
        local_images: Default::default(),
    }
}

fn validate(files: &[Utf8PathBuf], dialect: Option<Dialect>) -> i32 {
    let mut bad = false;
    for f in files {
        match load_flow(f) {
            Ok((flow, mut diags)) => {
                if let Some(d) = dialect {
                    let ctx = plan_context(
                        d,
                        &PlanArgs {
                            inputs: vec![],
                            sources: InputSources::default(),
                            work_dir: "/tmp/dockhand".into(),
                        },
                        "validate",
                    );
                    plan::plan_flow(&flow, &ctx, &BTreeMap::new(), &mut diags);
                }
                print_diags(&diags);
                if diags.has_errors() {
                    bad = true;
                } else {
                    // A closed stdout does not change the verdict: every file is still checked.
                    let _ = out!("ok {f}\n");
                }
            }
            Err(d) => {
                print_diags(&d);
                bad = true;
            }
        }
    }
    if bad { code::INVALID } else { code::OK }
}

/// Registries a flow's tasks pull from that their runner `config` lists as insecure.
fn insecure_registries(flow: &Flow) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, s) in flow.scripts() {
        let reg = s.container_image.registry();
        for r in s.runner.insecure_registries() {
            if dockhand::registry::same_registry(&r, reg)
                && !out.iter().any(|o| dockhand::registry::same_registry(o, &r))
            {
                out.push(r);
            }
        }
    }
    out
}

/// What `plan` says about host configuration the flow needs.
fn insecure_notes(flow: &Flow, dialect: Dialect) -> Vec<String> {
    let regs = insecure_registries(flow);
    if regs.is_empty() {
        return vec![];
    }
    let list = regs.join(" ");
    match dialect {
        Dialect::Docker => vec![
            format!(
                "host config: the Docker daemon must trust {list} over plain HTTP; daemon.json needs:"
            ),
            format!("  {}", dockhand::registry::fragment(&regs)),
            format!(
                "  `dockhand registry insecure add {list} --reload` merges it (or `run --configure-insecure-registries`)"
            ),
        ],
        Dialect::Podman => vec![format!(
            "host config: none needed: pulls from {list} get --tls-verify=false"
        )],
    }
}

fn plan_cmd(
    file: &Utf8PathBuf,
    dialect: Dialect,
    args: &PlanArgs,
    execution_id: &str,
) -> anyhow::Result<i32> {
    let (flow, mut diags) = match load_flow(file) {
        Ok(x) => x,
        Err(d) => {
            print_diags(&d);
            return Ok(code::INVALID);
        }
    };
    let given = given_inputs(args)?;
    let inputs = plan::resolve_inputs(&flow, &given)
        .map_err(anyhow::Error::msg)
        .context("invalid --input")?;
    let ctx = plan_context(dialect, args, execution_id);
    let tasks = plan::plan_flow(&flow, &ctx, &inputs, &mut diags);
    print_diags(&diags);
    if diags.has_errors() {
        return Ok(code::INVALID);
    }
    let text = plan::text::plan(
        &flow,
        &ctx,
        dialect.name(),
        &tasks,
        &insecure_notes(&flow, dialect),
    );
    out!("{text}")?;
    Ok(code::OK)
}

/// The state directory: `--state-dir`, `$DOCKHAND_STATE_DIR`, `$XDG_STATE_HOME/dockhand`,
/// `~/.local/state/dockhand`, else `/var/lib/dockhand` (said on stderr: with neither variable
/// set, e.g. under a service manager or `env -i`, journals would otherwise land somewhere the
/// user never chose without a word).
fn state_dir(given: Option<Utf8PathBuf>) -> Utf8PathBuf {
    if let Some(d) = given {
        return d;
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(x) = env("XDG_STATE_HOME") {
        return Utf8PathBuf::from(x).join("dockhand");
    }
    match env("HOME") {
        Some(h) => Utf8PathBuf::from(h).join(".local/state/dockhand"),
        None => {
            let d = Utf8PathBuf::from("/var/lib/dockhand");
            eprintln!(
                "dockhand: warning: neither XDG_STATE_HOME nor HOME is set: the state directory \
                 (execution journals) is {d}; choose another with --state-dir or DOCKHAND_STATE_DIR"
            );
            d
        }
    }
}

/// Everything an execution needs besides the flow.
struct Launch {
    flow_file: String,
    flow_text: String,
    engine: dockhand::exec::engine::Engine,
    host: Option<String>,
    work_dir: Utf8PathBuf,
    inputs: BTreeMap<String, String>,
    execution_id: String,
    state_dir: Utf8PathBuf,
    json: bool,
    quiet: bool,
    configure_insecure: bool,
    wait_removal: bool,
}

fn run_cmd(
    file: &Utf8PathBuf,
    engine: Option<&str>,
    host: Option<String>,
    args: &PlanArgs,
    execution_id: Option<String>,
    exec: ExecArgs,
    configure_insecure: bool,
) -> anyhow::Result<i32> {
    use dockhand::exec::{self, engine as eng};
    let flow_text = match flow::limits::read_file(file.as_str()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: error: {e}");
            return Ok(code::INVALID);
        }
    };
    let mut engine = match eng::discover(engine, std::env::var("DOCKHAND_ENGINE").ok().as_deref()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("dockhand: error: {e}");
            return Ok(code::ENGINE);
        }
    };
    engine.host = host.clone();
    execute(Launch {
        flow_file: file.to_string(),
        flow_text,
        engine,
        host,
        work_dir: args.work_dir.clone(),
        inputs: given_inputs(args)?,
        execution_id: execution_id.unwrap_or_else(exec::new_execution_id),
        state_dir: state_dir(exec.state_dir),
        json: exec.json,
        quiet: exec.quiet,
        configure_insecure,
        wait_removal: exec.wait_removal,
    })
}

/// `dockhand resume`: the journal holds the flow text, engine, inputs and paths of the run.
fn resume_cmd(
    execution_id: &str,
    given: Vec<(String, String)>,
    exec: ExecArgs,
) -> anyhow::Result<i32> {
    use dockhand::exec::{
        engine as eng,
        journal::{self, Record},
    };
    let state_dir = state_dir(exec.state_dir);
    let records = match journal::read(&state_dir, execution_id) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dockhand: error: {e}");
            return Ok(code::INVALID);
        }
    };
    let Some(Record::Start {
        flow_file,
        engine,
        host,
        work_dir,
        mut inputs,
        ..
    }) = records
        .into_iter()
        .find(|r| matches!(r, Record::Start { .. }))
    else {
        eprintln!(
            "dockhand: error: the journal of execution {execution_id} has no start record; nothing to resume"
        );
        return Ok(code::INVALID);
    };
    let flow_text = match flow::limits::read_file(&flow_file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{flow_file}: error: the flow of execution {execution_id}: {e}");
            return Ok(code::INVALID);
        }
    };
    let mut engine = match eng::discover(Some(&engine), None) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("dockhand: error: {e}");
            return Ok(code::ENGINE);
        }
    };
    engine.host = host.clone();
    inputs.extend(given);
    execute(Launch {
        flow_file,
        flow_text,
        engine,
        host,
        work_dir: work_dir.into(),
        inputs,
        execution_id: execution_id.to_string(),
        state_dir,
        json: exec.json,
        quiet: exec.quiet,
        configure_insecure: false,
        wait_removal: exec.wait_removal,
    })
}

fn execute(l: Launch) -> anyhow::Result<i32> {
    use dockhand::exec::{
        self,
        journal::{self, Journal, Record, Replay},
        logs::Sink,
        result::State,
    };
    use std::sync::Arc;

    let loaded = flow::load(&l.flow_file, &l.flow_text);
    let mut diags = loaded.diags;
    let Some(flow) = loaded.flow else {
        print_diags(&diags);
        return Ok(code::INVALID);
    };
    let inputs = plan::resolve_inputs(&flow, &l.inputs)
        .map_err(anyhow::Error::msg)
        .context("invalid --input")?;
    for i in &flow.inputs {
        if i.required && !inputs.contains_key(&i.id) {
            diags.error(
                i.pos,
                format!("inputs.{}", i.id),
                format!(
                    "input `{}` is required: give it with --input {}=VALUE",
                    i.id, i.id
                ),
            );
        }
    }
    let plan_args = PlanArgs {
        inputs: vec![],
        sources: InputSources::default(),
        work_dir: l.work_dir.clone(),
    };
    let mut ctx = plan_context(l.engine.dialect, &plan_args, &l.execution_id);
    ctx.host = l.host.clone();
    ctx.owner = Some(std::process::id());
    ctx.secrets = plan::secret_values(&flow, &inputs);
    let mask = Arc::new(masker(&flow, &inputs));
    plan::plan_flow(&flow, &ctx, &inputs, &mut diags);
    print_diags(&diags);
    if diags.has_errors() {
        return Ok(code::INVALID);
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Remote engines (and any engine, when resuming: its first command looks for containers)
    // are checked before anything starts or is written: one line if one cannot be reached. A
    // local engine is not asked: its first command's failure is diagnosed (`Runtime::diagnose`).
    let resuming = journal::journal_path(&l.state_dir, &l.execution_id).exists();
    // The execution's own directory under the work dir: removed again if the engine turns out
    // to be unreachable before anything ran, when this run made it.
    let exec_dir = ctx.work_root.join(&l.execution_id);
    let made_exec_dir = !exec_dir.exists();
    let hosts: std::collections::BTreeSet<Option<String>> = flow
        .scripts()
        .iter()
        .map(|(_, s)| s.runner.host.clone().or_else(|| ctx.host.clone()))
        .collect();
    let mut answered = std::collections::BTreeSet::new();
    for h in hosts
        .into_iter()
        .filter(|h| resuming || l.engine.is_remote(h.as_deref()))
    {
        if let Err(e) = rt.block_on(
            l.engine
                .check(h.as_deref(), std::time::Duration::from_secs(5)),
        ) {
            eprintln!("dockhand: error: {e}");
            return Ok(code::ENGINE);
        }
        answered.insert(h);
    }

    // The journal, before any container starts: an unwritable state directory stops us here.
    let journal = match Journal::open(&l.state_dir, &l.execution_id) {
        Ok(j) => Arc::new(j),
        Err(e) => {
            eprintln!("dockhand: error: {e}");
            return Ok(code::ENGINE);
        }
    };
    let replay =
        Replay::from_records(journal::read(&l.state_dir, &l.execution_id).unwrap_or_default());
    match &replay.start {
        Some(Record::Start { flow_digest, .. })
            if *flow_digest != journal::digest(&l.flow_text) =>
        {
            eprintln!(
                "dockhand: error: {} changed since execution {} started from it; restore it, or start a new execution (another --execution-id)",
                l.flow_file, l.execution_id
            );
            return Ok(code::INVALID);
        }
        Some(_) => {}
        None => {
            let start = Record::Start {
                flow_file: std::fs::canonicalize(&l.flow_file)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| l.flow_file.clone()),
                flow_digest: journal::digest(&l.flow_text),
                engine: l.engine.program.display().to_string(),
                dialect: l.engine.dialect.name().to_string(),
                host: l.host.clone(),
                work_dir: ctx.work_root.to_string(),
                // SECRET inputs are not written down: resume asks for them again.
                inputs: inputs
                    .iter()
                    .filter(|(k, _)| {
                        !flow
                            .inputs
                            .iter()
                            .any(|i| &i.id == *k && i.kind == "SECRET")
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                at: journal::now(),
                namespace: flow.namespace.clone(),
                flow: flow.id.clone(),
            };
            if let Err(e) = journal.append(&start, true) {
                eprintln!("dockhand: error: {e}");
                return Ok(code::ENGINE);
            }
        }
    }

    let (json, quiet, configure_insecure, wait_removal) =
        (l.json, l.quiet, l.configure_insecure, l.wait_removal);
    let engine = l.engine;
    let execution_id = l.execution_id;
    rt.block_on(async move {
        if engine.dialect == Dialect::Docker
            && let Some(code) = check_insecure(&engine, &flow, configure_insecure)
        {
            return Ok(code);
        }
        let color = !json
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::IsTerminal::is_terminal(&std::io::stdout());
        let width = flow
            .scripts()
            .iter()
            .map(|(t, _)| t.id.len())
            .max()
            .unwrap_or(0);
        let cancel = exec::watch_signals();
        if !quiet {
            let verb = if replay.start.is_some() {
                "resuming"
            } else {
                "execution"
            };
            eprintln!(
                "dockhand: {verb} {} of {}.{} on {} (journal {})",
                execution_id,
                flow.namespace,
                flow.id,
                engine.program.display(),
                journal.path()
            );
        }
        let fresh = replay.start.is_none();
        // Podman: which short image names it has locally (one lookup, only if there are any).
        ctx.local_images = exec::images::local_short_names(&engine, &flow).await;
        let mut runtime = exec::Runtime::new(
            engine,
            ctx,
            inputs,
            Sink {
                color,
                to_stderr: json,
                width,
                mask,
            },
            cancel.clone(),
            quiet,
            Some(journal.clone()),
            replay,
        );
        runtime.wait_removal = wait_removal;
        *runtime.answered.get_mut().unwrap() = answered;
        let runtime = Arc::new(runtime);
        let private = runtime.ctx.private_root.join(&runtime.ctx.execution_id);
        let result = exec::run_flow(runtime.clone(), Arc::new(flow)).await;
        // Empty once every task is done (private files are removed after each command), as is
        // the execution's work dir unless a task kept its directory or output files.
        let _ = std::fs::remove_dir(&private);
        let _ = std::fs::remove_dir(runtime.ctx.work_root.join(&runtime.ctx.execution_id));
        let unreachable = runtime.unreachable.lock().unwrap().clone();
        if let Some(e) = &unreachable {
            // The engine never answered: nothing was made. A fresh execution leaves no journal.
            let nothing_ran = runtime.answered.lock().unwrap().is_empty();
            eprintln!("dockhand: error: {e}");
            if fresh && nothing_ran {
                journal.discard();
                if made_exec_dir {
                    let _ = std::fs::remove_dir_all(&exec_dir);
                }
                return Ok(code::ENGINE);
            }
        }
        if let Err(e) = journal.append(
            &Record::End {
                state: result.state.name().to_string(),
                at: journal::now(),
            },
            true,
        ) {
            eprintln!("dockhand: warning: {e}");
        }
        // The flow has run: a reader gone from stdout or stderr does not change its exit code.
        if json {
            let _ = out!("{}\n", serde_json::to_string_pretty(&result)?);
        } else {
            crate::output::err(format_args!("{}", result.table()));
        }
        Ok(match (*cancel.borrow(), result.state) {
            (exec::Cancel::Interrupt, _) => code::INTERRUPTED,
            (exec::Cancel::Terminate, _) => code::TERMINATED,
            _ if unreachable.is_some() => code::ENGINE,
            (_, State::Failed | State::Killed) => code::FLOW_FAILED,
            _ => code::OK,
        })
    })
}

/// What is masked in this execution's output: the values of SECRET inputs and the secret
/// fields of registry credentials. Warns about secret inputs too short to mask.
fn masker(flow: &Flow, inputs: &BTreeMap<String, String>) -> dockhand::exec::mask::Masker {
    use dockhand::exec::mask;
    let mut values: Vec<String> = Vec::new();
    for i in flow.inputs.iter().filter(|i| i.kind == "SECRET") {
        let Some(v) = inputs.get(&i.id).filter(|v| !v.is_empty()) else {
            continue;
        };
        if v.chars().count() < mask::MIN_LEN {
            eprintln!(
                "dockhand: warning: SECRET input `{}` is shorter than {} characters, so it is not masked in logs and results",
                i.id,
                mask::MIN_LEN
            );
        }
        values.push(v.clone());
    }
    for (_, s) in flow.scripts() {
        if let Some(c) = &s.runner.credentials {
            values.extend(
                [&c.password, &c.auth, &c.registry_token, &c.identity_token]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    mask::Masker::new(values)
}

/// Docker pulls from a plain-HTTP registry only if the daemon trusts it. Warns (or, when asked,
/// configures the local daemon) for registries the flow lists as insecure that the daemon its
/// tasks pull through does not trust: each task's own `host`, else `--host`, else the docker
/// CLI's default. A daemon that cannot be asked is skipped with a warning saying so.
/// `Some(exit code)` stops the run.
fn check_insecure(
    engine: &dockhand::exec::engine::Engine,
    flow: &Flow,
    configure: bool,
) -> Option<i32> {
    use dockhand::registry::{precheck, reload};
    for (host, needed) in precheck::insecure_by_host(flow, engine.host.as_deref()) {
        let remote = engine.is_remote(host.as_deref());
        let at = host.clone().unwrap_or_else(|| engine.host_description());
        let cfg = match precheck::registry_config_at(
            &engine.program,
            host.as_deref(),
            precheck::INFO_LIMIT,
        ) {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "dockhand: warning: cannot read the registry settings of the Docker daemon at {at} ({e}): not checked whether it trusts {}",
                    needed.join(" ")
                );
                continue;
            }
        };
        let missing: Vec<String> = needed
            .into_iter()
            .filter(|h| !reload::docker_lists(&cfg, h))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let list = missing.join(" ");
        if !configure {
            eprintln!(
                "dockhand: warning: the flow pulls from {list}, listed as insecure in its `config`, but the Docker daemon at {at} does not trust it: \
the pull will fail with an HTTPS error. Run `dockhand registry insecure add {list} --reload` on the daemon's host{}",
                if remote {
                    ""
                } else {
                    ", or pass --configure-insecure-registries"
                }
            );
            continue;
        }
        if remote {
            eprintln!(
                "dockhand: error: --configure-insecure-registries changes the local daemon.json, but the engine is remote ({at}); run `dockhand registry insecure add {list} --reload` on that host"
            );
            return Some(code::ENGINE);
        }
        match dockhand::registry::cli::add_insecure_docker(&missing) {
            0 => {}
            c => return Some(c),
        }
    }
    None
}

fn engine_for(
    engine: Option<&str>,
    host: Option<String>,
) -> Result<dockhand::exec::engine::Engine, i32> {
    match dockhand::exec::engine::discover(engine, std::env::var("DOCKHAND_ENGINE").ok().as_deref())
    {
        Ok(mut e) => {
            e.host = host;
            Ok(e)
        }
        Err(e) => {
            eprintln!("dockhand: error: {e}");
            Err(code::ENGINE)
        }
    }
}

/// Is a dockhand process waiting for this container? Its execution's journal is locked under
/// this state directory, or the process that started it (label `io.dockhand.owner`) is alive.
fn watched(state_dir: &Utf8PathBuf, c: &dockhand::exec::containers::Managed) -> bool {
    use dockhand::plan::labels as l;
    if dockhand::exec::journal::is_active(state_dir, c.label(l::EXECUTION)) {
        return true;
    }
    c.label(l::OWNER).parse::<u32>().is_ok_and(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "dockhand")
    })
}

/// The engine, a runtime, and dockhand's containers on it; `Err(exit code)` after printing why.
#[allow(clippy::type_complexity)]
fn managed(
    engine: Option<&str>,
    host: Option<String>,
) -> anyhow::Result<
    Result<
        (
            dockhand::exec::engine::Engine,
            tokio::runtime::Runtime,
            Vec<dockhand::exec::containers::Managed>,
        ),
        i32,
    >,
> {
    let engine = match engine_for(engine, host) {
        Ok(e) => e,
        Err(c) => return Ok(Err(c)),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(dockhand::exec::containers::list(&engine)) {
        Ok(list) => Ok(Ok((engine, rt, list))),
        Err(e) => {
            eprintln!(
                "dockhand: error: {} cannot list containers: {e}",
                engine.name()
            );
            Ok(Err(code::ENGINE))
        }
    }
}

fn ps_cmd(target: ContainersArgs) -> anyhow::Result<i32> {
    use dockhand::exec::{containers, journal};
    use dockhand::plan::labels as l;
    let filter = target.filter();
    let (_, _, list) = match managed(target.engine.as_deref(), target.host.clone())? {
        Ok(x) => x,
        Err(c) => return Ok(c),
    };
    let state_dir = state_dir(target.state_dir);
    let now = journal::now();
    let rows: Vec<Vec<String>> = list
        .iter()
        .filter(|c| filter.matches(c))
        .map(|c| {
            vec![
                c.name.clone(),
                c.label(l::EXECUTION).to_string(),
                format!("{}.{}", c.label(l::NAMESPACE), c.label(l::FLOW)),
                c.label(l::TASK).to_string(),
                c.state.clone(),
                containers::age(now.saturating_sub(c.created)),
                if watched(&state_dir, c) { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    out!(
        "{}",
        columns(
            &[
                "CONTAINER",
                "EXECUTION",
                "FLOW",
                "TASK",
                "STATE",
                "AGE",
                "WATCHED"
            ],
            &rows
        )
    )?;
    Ok(code::OK)
}

/// A table: each column as wide as its widest value (or heading), two spaces between columns,
/// no trailing spaces.
fn columns(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, v) in width.iter_mut().zip(r) {
            *w = (*w).max(v.chars().count());
        }
    }
    let mut out = String::new();
    let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
    for r in std::iter::once(&head).chain(rows) {
        let mut line = String::new();
        for (i, v) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(v);
            line.extend(std::iter::repeat_n(' ', width[i] - v.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// An execution that ended, found under the state directory: what `cleanup` removes of it.
struct Ended {
    id: String,
    journal: Utf8PathBuf,
    /// `WORK_DIR/ID` and `WORK_DIR/.private/ID`, as its journal recorded WORK_DIR.
    dirs: Vec<Utf8PathBuf>,
}

/// Executions under the state directory that ended, match `filter`, are not running, have no
/// container left and were last written at least `older_than` ago.
fn ended_executions(
    state_dir: &Utf8PathBuf,
    older_than: std::time::Duration,
    containers: &[&dockhand::exec::containers::Managed],
    filter: &dockhand::exec::containers::Filter,
) -> Vec<Ended> {
    use dockhand::exec::journal::{self, Record};
    let dir = journal::executions_dir(state_dir);
    let Ok(entries) = dir.read_dir_utf8() else {
        return vec![];
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path().to_path_buf();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.strip_suffix(".jsonl"))
            .filter(|id| dockhand::exec::execution_id::is_valid(id))
            .map(str::to_string)
        else {
            continue;
        };
        // Its name becomes a path under the work dir: never `.`, `..` or `.private`.
        if id.is_empty() || id.starts_with('.') {
            continue;
        }
        let age = e
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        if age < older_than
            || journal::is_active(state_dir, &id)
            || containers
                .iter()
                .any(|c| c.label(dockhand::plan::labels::EXECUTION) == id)
        {
            continue;
        }
        let Ok(records) = journal::read(state_dir, &id) else {
            continue;
        };
        if !records.iter().any(|x| matches!(x, Record::End { .. })) {
            continue;
        }
        let Some(Record::Start {
            work_dir,
            namespace,
            flow,
            ..
        }) = records.iter().find(|r| matches!(r, Record::Start { .. }))
        else {
            continue;
        };
        if !filter.matches_execution(&id, namespace, flow) {
            continue;
        }
        let work = Utf8PathBuf::from(work_dir);
        out.push(Ended {
            dirs: vec![work.join(&id), work.join(".private").join(&id)],
            id,
            journal: path,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn cleanup_cmd(
    target: ContainersArgs,
    older_than: std::time::Duration,
    dry_run: bool,
) -> anyhow::Result<i32> {
    use dockhand::exec::{containers, journal};
    use dockhand::plan::labels as l;
    let filter = target.filter();
    let (engine, rt, list) = match managed(target.engine.as_deref(), target.host.clone())? {
        Ok(x) => x,
        Err(c) => return Ok(c),
    };
    let state_dir = state_dir(target.state_dir);
    let now = journal::now();
    let (doomed, kept): (Vec<&containers::Managed>, Vec<&containers::Managed>) =
        list.iter().partition(|c| {
            filter.matches(c)
                && !watched(&state_dir, c)
                && now.saturating_sub(c.created) >= older_than.as_secs()
        });
    let verb = if dry_run { "would remove" } else { "removing" };
    for c in &doomed {
        let _ = out!(
            "{verb} {} (execution {}, task {}, {})\n",
            c.name,
            c.label(l::EXECUTION),
            c.label(l::TASK),
            c.state
        );
    }
    let mut removed = true;
    if !dry_run && !doomed.is_empty() {
        let mut args = engine.global_args(None);
        args.extend(["rm", "--force", "--volumes"].map(String::from));
        if engine.dialect == Dialect::Podman {
            // podman's `rm --force` otherwise waits the stop timeout for each running container.
            args.extend(["--time", "0"].map(String::from));
        }
        args.extend(doomed.iter().map(|c| c.id.clone()));
        let out = rt.block_on(dockhand::exec::process::capture(
            &engine.program,
            &args,
            std::time::Duration::from_secs(120),
        ))?;
        if !out.ok() {
            eprintln!(
                "dockhand: error: removing containers failed: {}",
                out.error_line()
            );
            removed = false;
        }
    }
    // Executions that ended and have no container left (once those above are gone): their
    // journal and working directories go too.
    let left: Vec<&containers::Managed> = if removed { kept } else { list.iter().collect() };
    let ended = ended_executions(&state_dir, older_than, &left, &filter);
    for x in &ended {
        let dirs: Vec<&Utf8PathBuf> = x.dirs.iter().filter(|d| d.exists()).collect();
        let dirs_text: Vec<&str> = dirs.iter().map(|d| d.as_str()).collect();
        let _ = out!(
            "{verb} journal of execution {} ({}){}\n",
            x.id,
            x.journal,
            if dirs.is_empty() {
                String::new()
            } else {
                format!(" and its working directories {}", dirs_text.join(", "))
            }
        );
        if !dry_run {
            let _ = std::fs::remove_file(&x.journal);
            let _ = std::fs::remove_file(x.journal.with_extension("lock"));
            for d in dirs {
                if let Err(e) = std::fs::remove_dir_all(d) {
                    eprintln!("dockhand: warning: cannot remove {d}: {e}");
                }
            }
        }
    }
    if doomed.is_empty() && ended.is_empty() {
        let _ = out!(
            "nothing to remove ({} dockhand container(s), none matching, unwatched and old enough)\n",
            list.len()
        );
    }
    Ok(if removed { code::OK } else { code::ENGINE })
}
