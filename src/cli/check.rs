//! `dockhand validate` and `dockhand plan`: a flow checked, and the command lines it would run
//! printed, without an engine.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use dockhand::diag::Diags;
use dockhand::exec::host_vars;
use dockhand::exec::launch::{plan_context, print_diags};
use dockhand::exit::{self, Code};
use dockhand::flow::{self, Flow};
use dockhand::plan::{self, dialect::Dialect};

use super::args::PlanArgs;
use super::inputs::given_inputs;

/// Reads and checks a flow file; diagnostics go to stderr.
fn load_flow(file: &Utf8PathBuf, flows_dir: Option<&Utf8Path>) -> Result<(Flow, Diags), Diags> {
    let text = match flow::limits::read_file(file.as_str()) {
        Ok(t) => t,
        Err(e) => {
            let mut d = Diags::new(file.as_str());
            d.error(Default::default(), "", e);
            return Err(d);
        }
    };
    let loaded = flow::load(file.as_str(), &text);
    let mut diags = loaded.diags;
    match loaded.flow {
        Some(mut f) => {
            // Subflows are found and checked with their inputs, as before a run.
            let dir = flow::subflows::flows_dir(flows_dir, file.as_str());
            flow::subflows::resolve(&mut f, &dir, &mut diags);
            if diags.has_errors() {
                Err(diags)
            } else {
                Ok((f, diags))
            }
        }
        None => Err(diags),
    }
}

/// `dockhand validate`: every file checked, every diagnostic printed.
pub fn validate(files: &[Utf8PathBuf], dialect: Option<Dialect>, json: bool) -> exit::Result<Code> {
    let mut bad = false;
    let mut docs = Vec::new();
    for f in files {
        let dir = std::env::var(flow::subflows::FLOWS_DIR_VAR)
            .ok()
            .filter(|d| !d.is_empty())
            .map(Utf8PathBuf::from);
        let diags = match load_flow(f, dir.as_deref()) {
            Ok((flow, mut diags)) => {
                if let Some(d) = dialect {
                    let mut ctx = plan_context(d, "/tmp/dockhand".as_ref(), "validate");
                    ctx.run_vars = host_vars::run_vars().map_err(|e| Code::Invalid.error(e))?;
                    plan::plan_flow(&flow, &ctx, &BTreeMap::new(), &mut diags);
                }
                diags
            }
            Err(d) => {
                // Unreadable: it has its error (and no flow).
                bad = true;
                d
            }
        };
        bad |= diags.has_errors();
        if json {
            docs.push(dockhand::machine::diagnostics(&diags));
            continue;
        }
        print_diags(&diags);
        if !diags.has_errors() {
            // A closed stdout does not change the verdict: every file is still checked.
            let _ = out!("ok {f}\n");
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&dockhand::machine::validate(docs))
            .map_err(|e| Code::Invalid.error(e))?;
        let _ = out!("{text}\n");
    }
    if bad {
        Err(Code::Invalid.reported())
    } else {
        Ok(Code::Ok)
    }
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

/// Whether each task with `taskCache` would take its cached result (`exec::task_cache`).
fn task_cache_notes(
    file: &Utf8PathBuf,
    flow: &dockhand::flow::model::Flow,
    ctx: &dockhand::plan::context::PlanContext,
    inputs: &BTreeMap<String, String>,
    (state_dir, namespace_files): (Option<Utf8PathBuf>, Option<Utf8PathBuf>),
) -> Vec<String> {
    use dockhand::exec::{state_dir, storage::Storage, task_cache};
    let cached = |t: &dockhand::flow::model::Task| t.control.task_cache.is_some();
    if !flow.scripts().iter().any(|(t, _)| cached(t))
        && !dockhand::flow::core_task::core_tasks(flow)
            .iter()
            .any(|(t, _)| cached(t))
    {
        return vec![];
    }
    let state = state_dir::state_dir(state_dir);
    let ns_dir = namespace_files.unwrap_or_else(|| {
        file.parent()
            .map_or_else(|| Utf8PathBuf::from("_files"), |p| p.join("_files"))
    });
    let storage = Storage::new(&state, ns_dir, &flow.namespace, vec![]);
    task_cache::plan_notes(&state, flow, ctx, inputs, Some(&storage))
}

/// `dockhand plan`: the command lines each task would run, on stdout.
pub fn plan(
    file: &Utf8PathBuf,
    dialect: Dialect,
    args: &PlanArgs,
    execution_id: &str,
    json: bool,
    backend: dockhand::plan::backend::Backend,
    stores: (Option<Utf8PathBuf>, Option<Utf8PathBuf>),
) -> exit::Result<Code> {
    let (flow, mut diags) = match load_flow(file, args.flows_dir.as_deref()) {
        Ok(x) => x,
        Err(d) => {
            print_diags(&d);
            return Err(Code::Invalid.reported());
        }
    };
    let given = given_inputs(args)?;
    let inputs = plan::resolve_inputs(&flow, &given)
        .map_err(|e| Code::Invalid.error(format!("invalid --input: {e}")))?;
    let mut ctx = plan_context(dialect, &args.work_dir, execution_id);
    ctx.run_vars = host_vars::run_vars().map_err(|e| Code::Invalid.error(e))?;
    ctx.run_vars.trigger = super::inputs::given_trigger(args)?;
    ctx.run_vars.labels = args.labels.iter().cloned().collect();
    if backend.is_swarm() && dialect == Dialect::Podman {
        return Err(Code::Invalid.error(
            "--backend swarm drives docker's swarm services: Podman has no swarm (use --engine docker)",
        ));
    }
    ctx.backend = backend;
    let tasks = plan::plan_flow(&flow, &ctx, &inputs, &mut diags);
    print_diags(&diags);
    if diags.has_errors() {
        return Err(Code::Invalid.reported());
    }
    let mut notes = insecure_notes(&flow, dialect);
    notes.extend(task_cache_notes(file, &flow, &ctx, &inputs, stores));
    if json {
        let doc = dockhand::plan::json::plan(&flow, &ctx, dialect.name(), &tasks, &notes);
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Code::Invalid.error(e))?;
        out!("{text}\n").map_err(crate::output::stdout_failed)?;
    } else {
        // A task at a time: the whole text of a large flow is not held beside its plan.
        use std::io::Write;
        let mut o = std::io::BufWriter::new(std::io::stdout().lock());
        plan::text::write(&flow, &ctx, dialect.name(), &tasks, &notes, |piece| {
            o.write_all(piece.as_bytes())
        })
        .and_then(|()| o.flush())
        .map_err(crate::output::stdout_failed)?;
    }
    Ok(Code::Ok)
}
