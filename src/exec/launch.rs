//! Launching an execution: `run` and `resume` from what the command line gave (a flow file or
//! an execution id, inputs, engine choice) to the code the execution ends with. Loading and
//! checking the flow and its inputs, engine discovery, the journal, the runtime, signal
//! handling and the result all happen here; the command line only parses and prints.

use std::collections::BTreeMap;
use std::io::Write as _;

use camino::{Utf8Path, Utf8PathBuf};

use crate::diag::Diags;
use crate::exec::engine::{self as eng, Engine};
use crate::exec::result::FlowResult;
use crate::exit::{Code, Result, WithCode as _};
use crate::flow::{self, Flow};
use crate::plan::{self, context::PlanContext, dialect::Dialect};

/// How an execution reports.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The result as JSON on stdout, logs on stderr (no colour).
    pub json: bool,
    /// Only task logs and the result, no status lines.
    pub quiet: bool,
    /// Wait for every container's removal instead of handing the last ones off.
    pub wait_removal: bool,
    /// Write the execution's HTML report here at the end (`run --report`).
    pub report: Option<Utf8PathBuf>,
    /// A live status area on a terminal, or plain lines (`--progress`).
    pub progress: crate::exec::progress::Mode,
}

/// What `dockhand run` asks for.
#[derive(Debug, Clone)]
pub struct Run {
    pub flow_file: Utf8PathBuf,
    /// `--engine`: docker, podman or a path; `None`: `$DOCKHAND_ENGINE`, else discovery.
    pub engine: Option<String>,
    pub host: Option<String>,
    pub work_dir: Utf8PathBuf,
    pub inputs: BTreeMap<String, String>,
    /// `trigger.*` from `--trigger`/`--trigger-json` (empty: started by hand, as in Kestra).
    pub trigger: serde_json::Map<String, serde_json::Value>,
    /// `--label`: the execution's labels over its flow's.
    pub labels: BTreeMap<String, String>,
    /// `None`: a new random id.
    pub execution_id: Option<String>,
    pub state_dir: Utf8PathBuf,
    /// `--namespace-files` (`$DOCKHAND_NAMESPACE_FILES`); `None`: `_files` next to the flow.
    pub namespace_files: Option<Utf8PathBuf>,
    pub configure_insecure: bool,
    pub options: Options,
    /// One engine, or a swarm (`--backend swarm`).
    pub backend: crate::plan::backend::Backend,
    /// Where Subflow tasks find their flows (`--flows-dir`); `None`: the flow file's directory.
    pub flows_dir: Option<Utf8PathBuf>,
}

/// Everything an execution needs besides the flow.
pub struct Launch {
    flow_file: String,
    flow_text: String,
    engine: Engine,
    host: Option<String>,
    work_dir: Utf8PathBuf,
    inputs: BTreeMap<String, String>,
    trigger: serde_json::Map<String, serde_json::Value>,
    /// Labels given besides the flow's (a child execution's, from its journal).
    labels: BTreeMap<String, String>,
    execution_id: String,
    state_dir: Utf8PathBuf,
    namespace_files: Option<Utf8PathBuf>,
    json: bool,
    quiet: bool,
    configure_insecure: bool,
    wait_removal: bool,
    report_file: Option<Utf8PathBuf>,
    backend: crate::plan::backend::Backend,
    flows_dir: Option<Utf8PathBuf>,
    progress: crate::exec::progress::Mode,
}

/// `dockhand run`: reads the flow file, finds the engine, and executes.
pub fn run(r: Run, report: impl FnOnce(&FlowResult)) -> Result<Code> {
    let file = &r.flow_file;
    let flow_text =
        flow::limits::read_file(file.as_str()).map_err(|e| Code::Invalid.error_in(file, e))?;
    // Bad input is reported (exit 2) before the engine is looked for (exit 3 without one).
    let (flow, diags, _) =
        flow_and_inputs(file.as_str(), &flow_text, &r.inputs, r.flows_dir.as_deref())?;
    let found = eng::discover(
        r.engine.as_deref(),
        std::env::var("DOCKHAND_ENGINE").ok().as_deref(),
    );
    let mut engine = match or_none(found, &flow) {
        Ok(e) => e,
        // Every task runs on the host (Process runner): no engine is needed.
        Err(_) if !needs_engine(&flow) => no_engine(),
        Err(_) if diags.has_errors() => {
            // The flow is bad whatever the engine: that is the answer (with an engine, its
            // dialect's checks would be reported too).
            print_diags(&diags);
            return Err(Code::Invalid.reported());
        }
        Err(e) => return Err(Code::Engine.error(e.to_string())),
    };
    engine.host = r.host.clone();
    execute(
        Launch {
            flow_file: file.to_string(),
            flow_text,
            engine,
            host: r.host,
            work_dir: r.work_dir,
            inputs: r.inputs,
            trigger: r.trigger,
            labels: r.labels,
            execution_id: r.execution_id.unwrap_or_else(crate::exec::new_execution_id),
            state_dir: r.state_dir,
            namespace_files: r.namespace_files,
            json: r.options.json,
            quiet: r.options.quiet,
            configure_insecure: r.configure_insecure,
            wait_removal: r.options.wait_removal,
            report_file: r.options.report,
            backend: r.backend,
            flows_dir: r.flows_dir,
            progress: r.options.progress,
        },
        report,
    )
}

/// `dockhand resume`: the journal holds the flow text, engine, inputs and paths of the run;
/// `given` inputs are added (SECRET ones are not journaled).
pub fn resume(
    execution_id: &str,
    given: Vec<(String, String)>,
    state_dir: Utf8PathBuf,
    namespace_files: Option<Utf8PathBuf>,
    options: Options,
    backend: crate::plan::backend::Backend,
    report: impl FnOnce(&FlowResult),
) -> Result<Code> {
    use crate::exec::journal::{self, Record};
    let records = journal::read(&state_dir, execution_id).code(Code::Invalid)?;
    let Some(Record::Start {
        flow_file,
        engine,
        host,
        work_dir,
        mut inputs,
        swarm,
        trigger,
        labels,
        ..
    }) = records
        .into_iter()
        .find(|r| matches!(r, Record::Start { .. }))
    else {
        return Err(Code::Invalid.error(format!(
            "the journal of execution {execution_id} has no start record; nothing to resume"
        )));
    };
    let flow_text = flow::limits::read_file(&flow_file).map_err(|e| {
        Code::Invalid.error_in(
            &flow_file,
            format!("the flow of execution {execution_id}: {e}"),
        )
    })?;
    let found = eng::discover(Some(&engine), None);
    let loaded = flow::load(&flow_file, &flow_text).flow;
    // Every task runs on the host (Process runner): no engine is needed.
    let host_only = loaded.as_ref().is_some_and(|f| !needs_engine(f));
    let found = match &loaded {
        Some(f) => or_none(found, f),
        None => found,
    };
    let mut engine = match found {
        Err(_) if host_only => no_engine(),
        found => found.code(Code::Engine)?,
    };
    engine.host = host.clone();
    inputs.extend(given);
    let backend = crate::plan::backend::for_resume(swarm, backend);
    execute(
        Launch {
            flow_file,
            flow_text,
            engine,
            host,
            work_dir: work_dir.into(),
            inputs,
            trigger,
            labels,
            execution_id: execution_id.to_string(),
            state_dir,
            namespace_files,
            json: options.json,
            quiet: options.quiet,
            configure_insecure: false,
            wait_removal: options.wait_removal,
            report_file: options.report,
            progress: options.progress,
            backend,
            flows_dir: std::env::var(flow::subflows::FLOWS_DIR_VAR)
                .ok()
                .filter(|d| !d.is_empty())
                .map(Utf8PathBuf::from),
        },
        report,
    )
}

/// A flow with no container task runs without an engine: when none is found, a stand-in
/// that no command is ever given to (its program is named `none`).
fn or_none(
    found: std::result::Result<Engine, eng::EngineError>,
    flow: &Flow,
) -> std::result::Result<Engine, eng::EngineError> {
    match found {
        Err(_)
            if flow.scripts().is_empty()
                && !flow::subflows::may_need_engine(flow, &needs_engine) =>
        {
            Ok(Engine {
                program: "none".into(),
                dialect: Dialect::Docker,
                host: None,
            })
        }
        other => other,
    }
}

/// The planning context of the command line: this execution id, attempt 1, task directories
/// under `work_dir` (made absolute: it has the same path inside the container).
pub fn plan_context(dialect: Dialect, work_dir: &Utf8Path, execution_id: &str) -> PlanContext {
    let work_root = if work_dir.is_absolute() {
        work_dir.to_path_buf()
    } else {
        std::env::current_dir()
            .ok()
            .and_then(|d| Utf8PathBuf::from_path_buf(d).ok())
            .map_or_else(|| work_dir.to_path_buf(), |d| d.join(work_dir))
    };
    PlanContext::new(dialect, work_root, execution_id)
}

/// The default directory of namespace directories: `_files` next to the flow file (namespace
/// `a.b`'s files are in `_files/a.b/`).
fn namespace_files_dir(flow_file: &str) -> Utf8PathBuf {
    Utf8Path::new(flow_file)
        .parent()
        .map_or_else(|| Utf8PathBuf::from("_files"), |p| p.join("_files"))
}

/// Does any task of the flow run in a container? A flow whose tasks all run with the Process
/// runner needs no engine.
fn needs_engine(flow: &Flow) -> bool {
    flow.scripts().iter().any(|(_, s)| s.in_container())
        || flow::subflows::may_need_engine(flow, &needs_engine)
}

/// The engine of a flow that needs none: never called (the journal records `docker`, and
/// `resume` of such a flow needs none either).
fn no_engine() -> Engine {
    Engine {
        program: "docker".into(),
        dialect: Dialect::Docker,
        host: None,
    }
}

/// The inputs a journal's start records: SECRET inputs are not written down (resume asks for
/// them again).
pub fn journaled_inputs(
    flow: &Flow,
    inputs: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    inputs
        .iter()
        .filter(|(k, _)| {
            !flow
                .inputs
                .iter()
                .any(|i| &i.id == *k && i.kind == "SECRET")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Diagnostics (errors and warnings) go to stderr as they are.
pub fn print_diags(d: &Diags) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{d}");
}

/// A flow that reads, its diagnostics so far, and its input values.
type Checked = (Flow, Diags, BTreeMap<String, String>);

/// The flow and its input values, checked (printing why when the flow cannot be read, or an
/// input is bad or missing: exit 2). Needs no engine, so `run` calls it before looking for one:
/// bad input is exit 2 whether or not an engine is there.
fn flow_and_inputs(
    flow_file: &str,
    flow_text: &str,
    given: &BTreeMap<String, String>,
    flows_dir: Option<&Utf8Path>,
) -> Result<Checked> {
    let loaded = flow::load(flow_file, flow_text);
    let mut diags = loaded.diags;
    let Some(mut flow) = loaded.flow else {
        print_diags(&diags);
        return Err(Code::Invalid.reported());
    };
    // Subflows are found and checked (their inputs too) before anything starts.
    let dir = flow::subflows::flows_dir(flows_dir, flow_file);
    flow::subflows::resolve(&mut flow, &dir, &mut diags);
    if diags.has_errors() {
        print_diags(&diags);
        return Err(Code::Invalid.reported());
    }
    let inputs = plan::resolve_inputs(&flow, given)
        .map_err(|e| Code::Invalid.error(format!("invalid --input: {e}")))?;
    let mut missing = false;
    for i in &flow.inputs {
        // An input whose `dependsOn` condition is false is left out, not missing.
        let takes_part = plan::input_condition(&flow, i, &inputs).unwrap_or(true);
        if i.required && takes_part && !inputs.contains_key(&i.id) {
            missing = true;
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
    if missing {
        print_diags(&diags);
        return Err(Code::Invalid.reported());
    }
    Ok((flow, diags, inputs))
}

/// Runs (or continues) an execution: checks the flow and its inputs, asks remote engines for
/// their version, writes the journal's start, runs the flow under signal handling, and ends the
/// journal. `report` prints the result (it is called while the runtime is still up, before the
/// last detached removals are handed off). Returns the code the execution ends with.
pub fn execute(l: Launch, report: impl FnOnce(&FlowResult)) -> Result<Code> {
    use crate::exec::{
        self,
        journal::{self, Journal, Record, Replay},
        logs::Sink,
        result::State,
    };
    use std::sync::Arc;

    let (flow, mut diags, mut inputs) = flow_and_inputs(
        &l.flow_file,
        &l.flow_text,
        &l.inputs,
        l.flows_dir.as_deref(),
    )?;
    // FILE inputs are copied into the execution's storage before anything starts.
    crate::exec::file_inputs::set_storage(crate::exec::file_inputs::storage_root(&l.state_dir));
    crate::exec::file_inputs::store(&flow, &mut inputs, &l.state_dir, &l.execution_id)
        .map_err(|e| Code::Invalid.error(format!("invalid --input: {e}")))?;
    let mut ctx = plan_context(l.engine.dialect, &l.work_dir, &l.execution_id);
    ctx.run_vars = crate::exec::host_vars::run_vars().code(Code::Invalid)?;
    ctx.run_vars.trigger = l.trigger.clone();
    ctx.run_vars.labels = l.labels.clone();
    ctx.run_vars.start_date =
        Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    ctx.run_vars.state = Some("RUNNING".into());
    ctx.run_vars.original_id = Some(l.execution_id.clone());
    ctx.host = l.host.clone();
    ctx.backend = l.backend.clone();
    ctx.owner = Some(std::process::id());
    ctx.shared_workdirs = flow.shared_workdirs();
    // A detached subflow execution (`wait: false`) is told the flows above it.
    let chain = std::env::var(exec::subflow_depth::CHAIN_VAR).ok();
    ctx.subflow_chain = exec::subflow_depth::chain_from(chain.as_deref());
    let storage = exec::storage::Storage::new(
        &l.state_dir,
        l.namespace_files
            .clone()
            .unwrap_or_else(|| namespace_files_dir(&l.flow_file)),
        &flow.namespace,
        std::env::var("DOCKHAND_ALLOWED_PATHS")
            .unwrap_or_default()
            .split(':')
            .filter(|p| !p.is_empty())
            .map(Utf8PathBuf::from)
            .collect(),
    )
    .for_execution(&flow.id, &l.execution_id);
    let kv = crate::kv_store::KvStore::new(&l.state_dir);
    let error_logs = exec::error_logs::ErrorLogs {
        log: exec::log_store::path(&l.state_dir, &l.execution_id),
        namespace: flow.namespace.clone(),
        flow_id: flow.id.clone(),
        execution_id: l.execution_id.clone(),
        in_process: crate::flow::core_task::core_tasks(&flow)
            .into_iter()
            .map(|(t, _)| t.id.clone())
            .collect(),
    };
    // Before the run, a KV key the flow's own tasks set is not there yet: no error for it.
    ctx.expr_host = plan::expr_host::ExprHost(Some(Arc::new(
        exec::env_host::EnvHost::before_run(kv.clone(), &flow.namespace)
            .with_storage(storage.clone())
            .with_error_logs(error_logs.clone()),
    )));
    ctx.secrets = plan::secret_values(&flow, &inputs);
    // Values read with `secret()`: private like SECRET inputs, in every attempt's commands.
    let read = plan::expression_secrets(&flow, &ctx, &inputs);
    ctx.secrets
        .extend(read.iter().map(|v| plan::command::Secret::new(v.clone())));
    let mask = Arc::new(masker(&flow, &ctx, &inputs, &read));
    plan::plan_flow(&flow, &ctx, &inputs, &mut diags);
    print_diags(&diags);
    if diags.has_errors() {
        return Err(Code::Invalid.reported());
    }
    ctx.expr_host = plan::expr_host::ExprHost(Some(Arc::new(
        exec::env_host::EnvHost::new(kv.clone(), &flow.namespace)
            .with_storage(storage.clone())
            .with_error_logs(error_logs),
    )));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .code_with(Code::Engine, "cannot start the async runtime")?;
    // The swarm backend needs docker addressing a swarm manager: one line and exit 3 if not.
    if ctx.backend.is_swarm()
        && let Err(e) = rt.block_on(crate::exec::swarm::check_manager(
            &l.engine,
            l.host.as_deref(),
        ))
    {
        return Err(Code::Engine.error(e));
    }
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
        .filter(|(_, s)| s.in_container())
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
            return Err(Code::Engine.error(e));
        }
        answered.insert(h);
    }

    // The flow's concurrency limit, across processes: a slot held for the whole run.
    let _slot = match &flow.concurrency {
        None => None,
        Some(c) => {
            use crate::exec::concurrency::{self, Admission};
            let dir = concurrency::slots_dir(&l.state_dir, &flow.namespace, &flow.id);
            let quiet = l.quiet;
            let waiting = || {
                if !quiet {
                    eprintln!(
                        "dockhand: execution {} of {}.{} waits: {} execution(s) of the flow are running (concurrency limit, behavior QUEUE)",
                        l.execution_id, flow.namespace, flow.id, c.limit
                    );
                }
            };
            type Held = Box<dyn std::any::Any>;
            // On a swarm the slots are the swarm's, shared by every dockhand driving it.
            let admitted = if ctx.backend.is_swarm() {
                let slots = crate::exec::swarm_slots::Slots {
                    program: &l.engine.program,
                    host: l.host.as_deref(),
                    namespace: &flow.namespace,
                    flow: &flow.id,
                    execution: &l.execution_id,
                    limit: c.limit,
                };
                let take = || slots.try_take().map(|s| s.map(|s| Box::new(s) as Held));
                concurrency::admit_with(c, take, waiting, std::time::Duration::from_secs(1))
            } else {
                let take = || {
                    concurrency::try_take(&dir, c.limit)
                        .map(|s| s.map(|s| Box::new(s) as Held))
                        .map_err(|e| format!("concurrency slots in {dir}: {e}"))
                };
                concurrency::admit_with(c, take, waiting, std::time::Duration::from_millis(200))
            }
            .map_err(|e| Code::Engine.error(e))?;
            match admitted {
                Admission::Run(slot) => Some(slot),
                ended => {
                    let state = if matches!(ended, Admission::Cancelled) {
                        State::Cancelled
                    } else {
                        State::Failed
                    };
                    let why = concurrency::not_run_reason(
                        c.limit,
                        &flow.namespace,
                        &flow.id,
                        state == State::Cancelled,
                    );
                    if !l.quiet {
                        eprintln!(
                            "dockhand: execution {} {}: {why}",
                            l.execution_id,
                            state.name()
                        );
                    }
                    report(&FlowResult {
                        execution_id: l.execution_id.clone(),
                        namespace: flow.namespace.clone(),
                        flow_id: flow.id.clone(),
                        engine: l.engine.dialect.name().to_string(),
                        state,
                        duration: std::time::Duration::ZERO,
                        tasks: vec![],
                        outputs: Default::default(),
                        error: Some(why),
                        labels: flow.labels.clone(),
                    });
                    return Err(Code::FlowFailed.reported());
                }
            }
        }
    };

    // The journal, before any container starts: an unwritable state directory stops us here.
    let journal = match Journal::open(&l.state_dir, &l.execution_id) {
        Ok(j) => Arc::new(j),
        Err(e) => return Err(Code::Engine.error(e)),
    };
    let replay =
        Replay::from_records(journal::read(&l.state_dir, &l.execution_id).unwrap_or_default());
    // The kept log, beside the journal (a resume appends to it).
    let cap =
        crate::exec::log_store::cap_from_env(std::env::var("DOCKHAND_LOG_CAP").ok().as_deref())
            .map_err(|e| Code::Invalid.error(e))?;
    let store = crate::exec::log_store::LogStore::open(&l.state_dir, &l.execution_id, cap)
        .map(Arc::new)
        .map_err(|e| {
            Code::Engine.error(format!(
                "cannot write {}: {e}",
                crate::exec::log_store::path(&l.state_dir, &l.execution_id)
            ))
        })?;
    match &replay.start {
        Some(Record::Start { flow_digest, .. })
            if *flow_digest != journal::digest(&l.flow_text) =>
        {
            return Err(Code::Invalid.error(format!(
                "{} changed since execution {} started from it; restore it, or start a new execution (another --execution-id)",
                l.flow_file, l.execution_id
            )));
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
                inputs: journaled_inputs(&flow, &inputs),
                at: journal::Stamp::now(),
                namespace: flow.namespace.clone(),
                flow: flow.id.clone(),
                swarm: match &l.backend {
                    crate::plan::backend::Backend::Swarm(o) => Some(o.placement.clone()),
                    crate::plan::backend::Backend::Engine => None,
                },
                trigger: l.trigger.clone(),
                labels: flow
                    .labels
                    .clone()
                    .into_iter()
                    .chain(l.labels.clone())
                    .collect(),
            };
            if let Err(e) = journal.append(&start, true) {
                return Err(Code::Engine.error(e));
            }
        }
    }

    let (json, quiet, configure_insecure, wait_removal) =
        (l.json, l.quiet, l.configure_insecure, l.wait_removal);
    let report_file = l.report_file.clone();
    let progress = l.progress;
    let engine = l.engine;
    let execution_id = l.execution_id;
    let state_dir = l.state_dir.clone();
    rt.block_on(async move {
        if engine.dialect == Dialect::Docker
            && let Some(code) = check_insecure(&engine, &flow, configure_insecure)
        {
            return Err(code.reported());
        }
        let color = !json
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::IsTerminal::is_terminal(&std::io::stdout());
        let width = flow
            .scripts()
            .iter()
            .map(|(t, _)| t.id.len())
            .chain(
                crate::flow::core_task::core_tasks(&flow)
                    .iter()
                    .map(|(t, _)| t.id.len()),
            )
            .max()
            .unwrap_or(0);
        let cancel = exec::watch_signals();
        if !quiet {
            let verb = if replay.start.is_some() {
                "resuming"
            } else {
                "execution"
            };
            let on = if flow.scripts().is_empty()
                && !flow::subflows::may_need_engine(&flow, &needs_engine)
            {
                "no engine (in-process tasks only)".to_string()
            } else {
                engine.program.display().to_string()
            };
            eprintln!(
                "dockhand: {verb} {} of {}.{} on {on} (journal {})",
                execution_id,
                flow.namespace,
                flow.id,
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
                store: Some(store.clone()),
            },
            cancel.clone(),
            quiet,
            Some(journal.clone()),
            replay,
        );
        runtime.wait_removal = wait_removal;
        runtime.state_dir = Some(state_dir.clone());
        runtime.kv = Some(kv);
        runtime.storage = Some(storage);
        *runtime.answered.get_mut().unwrap() = answered;
        let runtime = Arc::new(runtime);
        let private = runtime.ctx.private_root.join(&runtime.ctx.execution_id);
        let term = std::env::var("TERM").ok();
        let area = progress.area(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            term.as_deref(),
            quiet,
        );
        if area {
            // Colour as the logs have it, but the area is on stderr: NO_COLOR and a terminal.
            let area_color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr());
            exec::live::install(exec::live::Live::on_terminal(
                &format!("{}.{}", flow.namespace, flow.id),
                area_color,
            ));
        }
        let result = exec::run_flow(runtime.clone(), Arc::new(flow)).await;
        // Erased before anything else is said: the summary and the result print below the logs.
        exec::live::finish();
        store.finish();
        // Empty once every task is done (private files are removed after each command), as is
        // the execution's work dir unless a task kept its directory or output files.
        let _ = std::fs::remove_dir(&private);
        let _ = std::fs::remove_dir(runtime.ctx.work_root.join(&runtime.ctx.execution_id));
        let unreachable = runtime.unreachable.lock().unwrap().clone();
        if let Some(e) = &unreachable {
            // The engine never answered: nothing was made. A fresh execution leaves no journal.
            let nothing_ran = runtime.answered.lock().unwrap().is_empty();
            if fresh && nothing_ran {
                journal.discard();
                if made_exec_dir {
                    let _ = std::fs::remove_dir_all(&exec_dir);
                }
                return Err(Code::Engine.error(e));
            }
            eprintln!("dockhand: error: {e}");
        }
        if let Err(e) = journal.append(
            &Record::End {
                state: result.state.name().to_string(),
                at: journal::Stamp::now(),
            },
            true,
        ) {
            eprintln!("dockhand: warning: {e}");
        }
        if let Some(file) = &report_file {
            // After the end record, so the report shows the execution's end state.
            let written = crate::report::render(&state_dir, &execution_id, journal::now_ms())
                .map_err(|e| e.to_string())
                .and_then(|html| crate::report::save(file, &html));
            match written {
                Ok(()) if !quiet => eprintln!("dockhand: report written to {file}"),
                Ok(()) => {}
                Err(e) => eprintln!("dockhand: warning: {e}"),
            }
        }
        // The flow has run: a reader gone from stdout or stderr does not change its exit code.
        report(&result);
        let code = match (*cancel.borrow(), result.state) {
            (exec::Cancel::Interrupt, _) => Code::Interrupted,
            (exec::Cancel::Terminate, _) => Code::Terminated,
            _ if unreachable.is_some() => Code::Engine,
            (_, State::Failed | State::Killed) => Code::FlowFailed,
            (_, State::Paused) => Code::Paused,
            _ => Code::Ok,
        };
        match code {
            Code::Ok => Ok(code),
            _ => Err(code.reported()),
        }
    })
}

/// What is masked in this execution's output: the values of SECRET inputs, of `secret()` calls
/// (`read`) and the secret fields of registry credentials. Warns about secret inputs too short to mask.
fn masker(
    flow: &Flow,
    ctx: &PlanContext,
    inputs: &BTreeMap<String, String>,
    read: &[String],
) -> crate::exec::mask::Masker {
    use crate::exec::mask;
    let mut values: Vec<String> = read.to_vec();
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
    for (t, s) in flow.scripts() {
        // As the task will use them: rendered (credentials use no task outputs).
        let rendered = plan::plan_task(flow, t, s, ctx, inputs, None).map(|(r, _)| r);
        let s = rendered.as_ref().unwrap_or(s);
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
/// `Some(exit code)` stops the run (its reason printed).
fn check_insecure(engine: &Engine, flow: &Flow, configure: bool) -> Option<Code> {
    use crate::registry::{precheck, reload};
    let pulls = flow.scripts().into_iter().map(|(_, s)| precheck::Pull {
        host: s.runner.host.clone(),
        registry: s.container_image.registry().to_string(),
        insecure: s.runner.insecure_registries(),
    });
    for (host, needed) in precheck::insecure_by_host(pulls, engine.host.as_deref()) {
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
            return Some(Code::Engine);
        }
        match crate::registry::cli::add_insecure_docker(
            &missing,
            host.as_deref(),
            &mut crate::registry::cli::Stderr,
        ) {
            Code::Ok => {}
            c => return Some(c),
        }
    }
    None
}
