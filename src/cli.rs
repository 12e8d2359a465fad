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

Each task's commands are printed one option per line, shell-quoted, in the order `run` uses
them. Environment values, registry passwords and tokens appear as <redacted>: values go to the
engine client through its environment or a 0600 file, never through its arguments.
The output is deterministic: the execution id defaults to `plan`.
Exit codes: 0 printed, 2 the flow has errors (nothing printed on stdout).")]
    Plan {
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

Engine: --engine, else $DOCKHAND_ENGINE, else `docker` on PATH, else `podman`. A `docker` that is
Podman (podman-docker) is driven as Podman. --host, a task's `host`, $DOCKER_HOST and docker
contexts are honoured. The engine is checked before any task starts.
Log lines are `TASK | line` (stdout) and `TASK ! line` (stderr); NO_COLOR turns colour off.
Ctrl-C or SIGTERM stops the running containers (stop -t killGracePeriod, or kill) and removes
them when `delete` is true.

Exit codes: 0 success, 1 a task FAILED, 2 invalid flow or options (nothing started),
3 engine unavailable, 130 interrupted (SIGINT), 143 terminated (SIGTERM).")]
    Run {
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
        /// Execution id (default: a new random one)
        #[arg(long, value_parser = parse_execution_id)]
        execution_id: Option<String>,
        /// Print the result as JSON on stdout (logs go to stderr)
        #[arg(long)]
        json: bool,
        /// Print only task logs and the result, no status lines
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print the JSON Schema of the flow format (for editor completion and validation)
    #[command(after_help = "Example (VS Code with the YAML extension, in settings.json):
  \"yaml.schemas\": { \"./dockhand.schema.json\": \"flows/*.yaml\" }

  dockhand schema > dockhand.schema.json")]
    Schema,
}

#[derive(Args, Clone)]
struct PlanArgs {
    /// Input value for `{{ inputs.NAME }}` (repeatable)
    #[arg(long = "input", value_name = "NAME=VALUE", value_parser = parse_kv)]
    inputs: Vec<(String, String)>,
    /// Root of task working directories (`DIR/<execution>/<task>`) and private files
    #[arg(long, env = "DOCKHAND_WORK_DIR", default_value = "/tmp/dockhand", value_name = "DIR")]
    work_dir: Utf8PathBuf,
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
    let (k, v) = s.split_once('=').ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

pub fn parse_execution_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok { Ok(s.to_string()) } else { Err(format!("`{s}` is not an execution id: use letters, digits, `_` and `-` (at most 64)")) }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { code::INVALID } else { code::OK };
        }
    };
    match run(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dockhand: error: {e:#}");
            code::INVALID
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Validate { files, engine } => Ok(validate(&files, engine.map(EngineArg::dialect))),
        Command::Plan { file, engine, common, execution_id } => plan_cmd(&file, engine.dialect(), &common, &execution_id),
        Command::Run { file, engine, host, common, execution_id, json, quiet } => {
            run_cmd(&file, engine.as_deref(), host, &common, execution_id, json, quiet)
        }
        Command::Schema => {
            let s = serde_json::to_string_pretty(&dockhand::schema::schema())?;
            println!("{s}");
            Ok(code::OK)
        }
    }
}

/// Reads and checks a flow file; diagnostics go to stderr.
pub fn load_flow(file: &Utf8PathBuf) -> Result<(Flow, Diags), Diags> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            let mut d = Diags::new(file.as_str());
            d.error(Default::default(), "", format!("cannot read the file: {e}"));
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
    PlanContext {
        execution_id: execution_id.to_string(),
        attempt: 1,
        dialect,
        work_root: args.work_dir.clone(),
        private_root: args.work_dir.join(".private"),
        host: None,
    }
}

fn validate(files: &[Utf8PathBuf], dialect: Option<Dialect>) -> i32 {
    let mut bad = false;
    for f in files {
        match load_flow(f) {
            Ok((flow, mut diags)) => {
                if let Some(d) = dialect {
                    let ctx = plan_context(d, &PlanArgs { inputs: vec![], work_dir: "/tmp/dockhand".into() }, "validate");
                    plan::plan_flow(&flow, &ctx, &BTreeMap::new(), &mut diags);
                }
                print_diags(&diags);
                if diags.has_errors() {
                    bad = true;
                } else {
                    println!("ok {f}");
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

fn plan_cmd(file: &Utf8PathBuf, dialect: Dialect, args: &PlanArgs, execution_id: &str) -> anyhow::Result<i32> {
    let (flow, mut diags) = match load_flow(file) {
        Ok(x) => x,
        Err(d) => {
            print_diags(&d);
            return Ok(code::INVALID);
        }
    };
    let given: BTreeMap<String, String> = args.inputs.iter().cloned().collect();
    let inputs = plan::resolve_inputs(&flow, &given).map_err(anyhow::Error::msg).context("invalid --input")?;
    let ctx = plan_context(dialect, args, execution_id);
    let tasks = plan::plan_flow(&flow, &ctx, &inputs, &mut diags);
    print_diags(&diags);
    if diags.has_errors() {
        return Ok(code::INVALID);
    }
    let text = plan::text::plan(&flow, &ctx, dialect.name(), &tasks, &[]);
    print!("{text}");
    Ok(code::OK)
}

fn run_cmd(
    file: &Utf8PathBuf,
    engine: Option<&str>,
    host: Option<String>,
    args: &PlanArgs,
    execution_id: Option<String>,
    json: bool,
    quiet: bool,
) -> anyhow::Result<i32> {
    use dockhand::exec::{self, engine as eng, logs::Sink, result::State};
    use std::sync::Arc;

    let (flow, mut diags) = match load_flow(file) {
        Ok(x) => x,
        Err(d) => {
            print_diags(&d);
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
    let given: BTreeMap<String, String> = args.inputs.iter().cloned().collect();
    let inputs = plan::resolve_inputs(&flow, &given).map_err(anyhow::Error::msg).context("invalid --input")?;
    for i in &flow.inputs {
        if i.required && !inputs.contains_key(&i.id) {
            diags.error(i.pos, format!("inputs.{}", i.id), format!("input `{}` is required: give it with --input {}=VALUE", i.id, i.id));
        }
    }
    let execution_id = execution_id.unwrap_or_else(exec::new_execution_id);
    let mut ctx = plan_context(engine.dialect, args, &execution_id);
    ctx.host = host;
    plan::plan_flow(&flow, &ctx, &inputs, &mut diags);
    print_diags(&diags);
    if diags.has_errors() {
        return Ok(code::INVALID);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("cannot start the async runtime")?;
    rt.block_on(async move {
        // One check of the engine, before anything starts: a missing daemon is one line.
        let hosts: std::collections::BTreeSet<Option<String>> =
            flow.scripts().iter().map(|(_, s)| s.runner.host.clone().or_else(|| ctx.host.clone())).collect();
        for h in &hosts {
            if let Err(e) = engine.check(h.as_deref(), std::time::Duration::from_secs(5)).await {
                eprintln!("dockhand: error: {e}");
                return Ok(code::ENGINE);
            }
        }
        let color = !json && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && unsafe { libc::isatty(1) } == 1;
        let width = flow.scripts().iter().map(|(t, _)| t.id.len()).max().unwrap_or(0);
        let cancel = exec::watch_signals();
        let runtime = Arc::new(exec::Runtime {
            engine,
            ctx,
            inputs,
            sink: Sink { color, to_stderr: json, width },
            cancel: cancel.clone(),
            quiet,
        });
        if !quiet {
            eprintln!("dockhand: execution {} of {}.{} on {}", execution_id, flow.namespace, flow.id, runtime.engine.program.display());
        }
        let result = exec::run_flow(runtime, Arc::new(flow)).await;
        if json {
            println!("{}", serde_json::to_string_pretty(&result)?);
        } else {
            eprint!("{}", result.table());
        }
        Ok(match (*cancel.borrow(), result.state) {
            (exec::Cancel::Interrupt, _) => code::INTERRUPTED,
            (exec::Cancel::Terminate, _) => code::TERMINATED,
            (_, State::Failed | State::Killed) => code::FLOW_FAILED,
            _ => code::OK,
        })
    })
}
