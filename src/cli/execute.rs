//! `dockhand run` and `dockhand resume`: the command line's values handed to
//! [`dockhand::exec::launch`], and the result printed.

use camino::Utf8PathBuf;

use dockhand::exec::{launch, result::FlowResult, state_dir::state_dir};
use dockhand::exit::{self, Code};

use super::args::{ExecArgs, PlanArgs};
use super::inputs::given_inputs;

/// The result: JSON on stdout with `--json`, else the summary table on stderr. The flow has
/// run: a reader gone from stdout or stderr does not change its exit code.
fn report(json: bool) -> impl FnOnce(&FlowResult) {
    move |result| {
        if json {
            if let Ok(s) = serde_json::to_string_pretty(&dockhand::machine::run(result)) {
                let _ = out!("{s}\n");
            }
        } else {
            crate::output::err(format_args!("{}", result.table()));
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    file: Utf8PathBuf,
    engine: Option<String>,
    host: Option<String>,
    args: &PlanArgs,
    execution_id: Option<String>,
    exec: ExecArgs,
    configure_insecure: bool,
    backend: dockhand::plan::backend::Backend,
) -> exit::Result<Code> {
    let options = exec.options();
    launch::run(
        launch::Run {
            flow_file: file,
            engine,
            host,
            work_dir: args.work_dir.clone(),
            inputs: given_inputs(args)?,
            trigger: super::inputs::given_trigger(args)?,
            labels: args.labels.iter().cloned().collect(),
            execution_id,
            state_dir: state_dir(exec.state_dir),
            namespace_files: exec.namespace_files,
            configure_insecure,
            options: options.clone(),
            backend,
            flows_dir: args.flows_dir.clone(),
        },
        report(options.json),
    )
}

pub fn resume(
    execution_id: &str,
    given: Vec<(String, String)>,
    exec: ExecArgs,
    backend: dockhand::plan::backend::Backend,
) -> exit::Result<Code> {
    let options = exec.options();
    launch::resume(
        execution_id,
        given,
        state_dir(exec.state_dir),
        exec.namespace_files,
        options.clone(),
        backend,
        report(options.json),
    )
}
