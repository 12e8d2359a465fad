//! The command line's argument definitions: subcommands, their options and help texts, and the
//! value parsers every command shares. Nothing here runs anything.

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

use dockhand::exit;
use dockhand::plan::dialect::Dialect;

use super::inputs::InputSources;

#[derive(Parser)]
#[command(
    name = "dockhand",
    version,
    about = "Run Kestra flows' script tasks as Docker or Podman containers, through the engine CLI",
    long_about = "dockhand reads flow files in Kestra's YAML dialect and runs each \
io.kestra.plugin.scripts.shell.Commands / Script task as a container by calling the `docker` or \
`podman` command line, the way Kestra's Docker task runner would. No socket, no API client: \
`dockhand plan` prints the exact command lines it will run.",
    after_help = exit::help_block(),
    after_long_help = format!("Examples:
  dockhand validate flows/*.yaml          check files, report every error with file:line:col
  dockhand plan flow.yaml                 print the docker command lines of every task
  dockhand plan flow.yaml --engine podman the same for podman
  dockhand schema > dockhand.schema.json  JSON Schema for editor completion
  dockhand run flow.yaml                  run it

{}", exit::help_block())
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check flow files and report every problem with file:line:column
    #[command(after_help = "Examples:
  dockhand validate flow.yaml
  dockhand validate flows/*.yaml --engine podman   also check engine-specific options

Prints `ok FILE` for each valid file, and errors and warnings as FILE:LINE:COL: ....
--json prints {\"version\": 1, \"files\": [{\"file\", \"valid\", \"diagnostics\": [...]}]} on stdout
instead (docs/json/validate.schema.json); the exit code is the same.
Exit codes: 0 every file is valid (warnings allowed), 2 some file has errors.")]
    Validate {
        /// Flow files to check
        #[arg(required = true, value_name = "FLOW")]
        files: Vec<Utf8PathBuf>,
        /// Also check options against this engine's dialect
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Print every file's diagnostics as JSON on stdout (file, line, column, property, severity, message)
        #[arg(long)]
        json: bool,
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
--json prints each task's commands as argument arrays (after the program name), with the names
of the variables set in the client's environment and a description of its stdin and private
files, never their values (docs/json/plan.schema.json).
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
        /// Print the plan as JSON: every command as an argv array, env by name, stdin described
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        backend: BackendArgs,
        /// Where `run` keeps its state: `plan` looks up the task cache there (taskCache)
        #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
        state_dir: Option<Utf8PathBuf>,
        /// Namespace files (as for `run`), for the task cache's key
        #[arg(long, env = "DOCKHAND_NAMESPACE_FILES", value_name = "DIR")]
        namespace_files: Option<Utf8PathBuf>,
    },
    /// Run a flow: each task as a container, logs streamed, a summary at the end
    #[command(after_help = "Examples:
  dockhand run flow.yaml
  dockhand run flow.yaml --input name=world --engine podman
  dockhand run flow.yaml --json > result.json     logs go to stderr, the result to stdout (docs/json/run.schema.json)
  dockhand run flow.yaml --progress plain         no live status area, plain lines only
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
When stderr is a terminal, a status area below the logs shows the tasks running (with image
pulls and their layers), how many are done or failed and the time; the logs scroll above it,
never cut. --progress plain (or DOCKHAND_PROGRESS=plain) prints plain lines instead, as when
stderr is not a terminal; --progress tty draws the area even then.
Ctrl-C or SIGTERM stops the running containers (stop -t killGracePeriod, or kill) and removes
them when `delete` is true.
A task's container is removed while the next task runs. The last removals (the final task's)
are not waited for: their `rm` processes are detached and finish after dockhand returns (the
result says `removal: handedOff`); --wait-removal waits for them.

Exit codes: 0 success, 1 a task FAILED, 2 invalid flow or options (nothing started),
3 engine unavailable, 4 paused (resume it), 130 interrupted (SIGINT), 143 terminated (SIGTERM).")]
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
        #[command(flatten)]
        backend: BackendArgs,
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
        #[command(flatten)]
        backend: BackendArgs,
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
        /// Print the containers as JSON on stdout
        #[arg(long)]
        json: bool,
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
    /// List past executions (newest first): id, namespace, flow, state, start, duration
    #[command(after_help = "Examples:
  dockhand executions
  dockhand executions --flow nightly --state FAILED --limit 5
  dockhand executions --json | jq -r '.executions[0].id'

Executions are read from the journals under --state-dir. STATE is Kestra's end state (SUCCESS,
WARNING, FAILED, KILLED), RUNNING while a dockhand process runs it, or INTERRUPTED when it did not
end and nothing runs it (dockhand crashed or was killed: `dockhand resume ID` continues it).
START is UTC. `cleanup` removes ended executions (journal, kept logs, working directories).
--json prints {\"version\": 1, \"executions\": [...]} (docs/json/executions.schema.json).
Exit codes: 0 listed (also when none match), 2 invalid option.")]
    Executions {
        /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
        #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
        state_dir: Option<Utf8PathBuf>,
        /// Only executions of the flow with this id
        #[arg(long, value_name = "FLOW_ID")]
        flow: Option<String>,
        /// Only executions of flows in this namespace
        #[arg(long, value_name = "NAMESPACE")]
        namespace: Option<String>,
        /// Only executions in this state (repeatable: any of them)
        #[arg(long = "state", value_name = "STATE", value_parser = clap::builder::PossibleValuesParser::new(dockhand::exec::history::STATES), ignore_case = true)]
        states: Vec<String>,
        /// At most this many (the newest)
        #[arg(long, value_name = "N", default_value = "20")]
        limit: usize,
        /// Print them as JSON on stdout
        #[arg(long)]
        json: bool,
    },
    /// Print a past (or running) execution's logs, or one task's
    #[command(after_help = "Examples:
  dockhand logs k3v9x0q2m7ab
  dockhand logs k3v9x0q2m7ab build          only the task `build`
  dockhand logs k3v9x0q2m7ab --follow       while another dockhand runs it
  dockhand logs $(dockhand executions --limit 1 --json | jq -r '.executions[0].id')

Lines are as `run` printed them: `TASK | line` (stdout), `TASK ! line` (stderr), secrets masked
(they were masked before they were kept), no colour. dockhand's own notes are `TASK # ...`. Each
task keeps at most $DOCKHAND_LOG_CAP bytes (default 64MiB; later lines are counted, not kept).
--follow keeps printing new lines until the execution's dockhand process ends.
Exit codes: 0 printed, 2 no such execution (or the id is not one), or no such task in it.")]
    Logs {
        /// The execution id (as `run` and `executions` print it)
        #[arg(value_parser = parse_execution_id)]
        execution_id: String,
        /// Only this task's lines
        #[arg(value_name = "TASK")]
        task: Option<String>,
        /// Keep printing new lines while a dockhand process runs the execution
        #[arg(long, short = 'f')]
        follow: bool,
        /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
        #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
        state_dir: Option<Utf8PathBuf>,
    },
    /// Write an execution's report: one self-contained HTML file with a timeline of its task runs
    #[command(after_help = "Examples:
  dockhand report k3v9x0q2m7ab -o report.html
  dockhand run flow.yaml --report report.html     the same, at the end of a run
  dockhand report $(dockhand executions --limit 1 --json | jq -r '.executions[0].id') -o last.html

The file needs nothing else (no network, no script): a Gantt chart of every task run and attempt
on a time axis, coloured by state (each bar links to its run), then per run its container, image,
exit code, duration, outputs, output files and its kept log (folded; see `dockhand logs`).
Start times and durations are to the millisecond (journals of older dockhand versions have
start times to the second, and read as such).
Exit codes: 0 written, 2 no such execution (or the id is not one), 3 the file cannot be written.")]
    Report {
        /// The execution id (as `run` and `executions` print it)
        #[arg(value_parser = parse_execution_id)]
        execution_id: String,
        /// Where to write the HTML file (`-` for stdout)
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Utf8PathBuf,
        /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
        #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
        state_dir: Option<Utf8PathBuf>,
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(after_help = "Examples:
  dockhand completions bash > /etc/bash_completion.d/dockhand
  dockhand completions zsh > \"${fpath[1]}/_dockhand\"
  dockhand completions fish > ~/.config/fish/completions/dockhand.fish
  source <(dockhand completions bash)        for this shell only

The script is generated from the same definition as `--help`, so it completes every subcommand
and option of this version. Exit code: 0.")]
    Completions {
        /// The shell to complete for
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from the same definition as `--help`
    #[command(after_help = "Examples:
  dockhand man > /usr/local/share/man/man1/dockhand.1
  dockhand man | man -l -

The page covers every subcommand (as its own section) with its options and examples.
Exit code: 0.")]
    Man,
}

/// Options of `ps` and `cleanup`: which engine, and which of dockhand's containers on it.
#[derive(Args, Clone)]
pub struct ContainersArgs {
    /// The engine CLI: docker, podman or a path (default: $DOCKHAND_ENGINE, else docker on PATH, else podman)
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
    /// Engine address (docker --host / podman --url), e.g. unix:///run/podman/podman.sock
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
    #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<Utf8PathBuf>,
    /// Only this execution's containers (and journal)
    #[arg(long, alias = "execution-id", value_name = "ID", value_parser = parse_execution_id)]
    pub execution: Option<String>,
    /// Only containers (and journals) of flows in this namespace
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Only containers (and journals) of the flow with this id
    #[arg(long, value_name = "FLOW_ID")]
    pub flow: Option<String>,
    /// `swarm`: dockhand's services on the swarm manager the docker CLI addresses, instead of
    /// containers (their configs and secrets go with them)
    #[arg(long, env = "DOCKHAND_BACKEND", value_enum, default_value = "engine")]
    pub backend: BackendArg,
}

impl ContainersArgs {
    pub fn swarm(&self) -> bool {
        matches!(self.backend, BackendArg::Swarm)
    }

    pub fn filter(&self) -> dockhand::exec::containers::Filter {
        dockhand::exec::containers::Filter {
            execution: self.execution.clone(),
            namespace: self.namespace.clone(),
            flow: self.flow.clone(),
        }
    }
}

/// Options of `run` and `resume`: where the journal lives and how the run reports.
#[derive(Args, Clone)]
pub struct ExecArgs {
    /// Where execution journals live (default $XDG_STATE_HOME/dockhand or ~/.local/state/dockhand)
    #[arg(long, env = "DOCKHAND_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<Utf8PathBuf>,
    /// Print the result as JSON on stdout (logs go to stderr)
    #[arg(long)]
    pub json: bool,
    /// Print only task logs and the result, no status lines
    #[arg(long, short)]
    pub quiet: bool,
    /// Return only once every container is removed, instead of leaving the last removals to
    /// their detached `rm` processes
    #[arg(long)]
    pub wait_removal: bool,
    /// At the end, write the execution's HTML report (timeline, outputs, logs) to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<Utf8PathBuf>,
    /// `auto`: a live status area (running tasks, done, elapsed time, image pulls) below the
    /// logs when stderr is a terminal; `tty`: always; `plain`: plain lines only
    #[arg(long, env = "DOCKHAND_PROGRESS", value_name = "MODE", default_value = "auto", value_parser = dockhand::exec::progress::Mode::parse)]
    pub progress: dockhand::exec::progress::Mode,
    /// Namespace files: namespace `a.b`'s files are in `DIR/a.b/` (default `_files` next to the
    /// flow file)
    #[arg(long, env = "DOCKHAND_NAMESPACE_FILES", value_name = "DIR")]
    pub namespace_files: Option<Utf8PathBuf>,
}

#[derive(Args, Clone)]
pub struct PlanArgs {
    /// Input value for `{{ inputs.NAME }}` (repeatable). It is on dockhand's command line: give
    /// SECRET inputs with --input-env or --input-file instead
    #[arg(long = "input", value_name = "NAME=VALUE", value_parser = parse_kv)]
    pub inputs: Vec<(String, String)>,
    #[command(flatten)]
    pub sources: InputSources,
    /// `{{ trigger.KEY }}` for this execution (repeatable), e.g. `--trigger date=2026-01-01T00:00:00Z`:
    /// a one-shot run starts no trigger, so its variables are given here (a dotted KEY nests)
    #[arg(long = "trigger", value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub triggers: Vec<(String, String)>,
    /// `{{ trigger.* }}` as one JSON object; `--trigger` values go over it
    #[arg(long = "trigger-json", value_name = "JSON")]
    pub trigger_json: Option<String>,
    /// An execution label (repeatable), over the flow's `labels` of the same key, as labels given
    /// when a Kestra execution is created: `{{ labels.KEY }}`, the result, `executions`
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub labels: Vec<(String, String)>,
    /// Root of task working directories (`DIR/<execution>/<task>`) and private files
    #[arg(
        long,
        env = "DOCKHAND_WORK_DIR",
        default_value = "/tmp/dockhand",
        value_name = "DIR"
    )]
    pub work_dir: Utf8PathBuf,
    /// Where Subflow tasks find their flows: every `*.yaml`/`*.yml` below DIR, by namespace and
    /// id (default: the flow file's directory)
    #[arg(long, env = "DOCKHAND_FLOWS_DIR", value_name = "DIR")]
    pub flows_dir: Option<Utf8PathBuf>,
}

/// Where container tasks run (`run`, `resume`, `plan`): one engine, or a Docker Swarm.
#[derive(Args, Clone, Default)]
pub struct BackendArgs {
    /// `engine`: containers on one engine; `swarm`: services on the swarm manager the docker CLI
    /// addresses (DOCKER_HOST, --host, a context). See README "Running on a swarm"
    #[arg(long, env = "DOCKHAND_BACKEND", value_enum, default_value = "engine")]
    pub backend: BackendArg,
    /// Swarm only (a dockhand extension): a placement constraint for a task,
    /// TASK=CONSTRAINT (repeatable; TASK `*` for every task), e.g. build=node.labels.dockhand.node==n1
    #[arg(long, value_name = "TASK=CONSTRAINT", value_parser = parse_kv)]
    pub placement: Vec<(String, String)>,
}

#[derive(Clone, Copy, Default, ValueEnum)]
pub enum BackendArg {
    #[default]
    Engine,
    Swarm,
}

impl BackendArgs {
    /// The backend; `--placement` without `--backend swarm` is a mistake worth an exit 2.
    pub fn backend(&self) -> exit::Result<dockhand::plan::backend::Backend> {
        use dockhand::plan::backend::{Backend, SwarmOptions};
        match self.backend {
            BackendArg::Engine if !self.placement.is_empty() => Err(exit::Code::Invalid
                .error("--placement places tasks on swarm nodes: it needs --backend swarm")),
            BackendArg::Engine => Ok(Backend::Engine),
            BackendArg::Swarm => Ok(Backend::Swarm(SwarmOptions {
                placement: self.placement.clone(),
            })),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum EngineArg {
    Docker,
    Podman,
}

impl EngineArg {
    pub fn dialect(self) -> Dialect {
        match self {
            EngineArg::Docker => Dialect::Docker,
            EngineArg::Podman => Dialect::Podman,
        }
    }
}

pub fn parse_kv(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

/// Every execution id on the command line goes through this (clap: exit 2, one line).
pub fn parse_execution_id(s: &str) -> Result<String, String> {
    dockhand::exec::execution_id::check(s).map(str::to_string)
}

impl ExecArgs {
    /// How the execution reports.
    pub fn options(&self) -> dockhand::exec::launch::Options {
        dockhand::exec::launch::Options {
            json: self.json,
            quiet: self.quiet,
            wait_removal: self.wait_removal,
            report: self.report.clone(),
            progress: self.progress,
        }
    }
}
