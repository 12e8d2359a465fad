//! `dockhand report`: an execution's HTML report written to a file (or stdout).

use camino::{Utf8Path, Utf8PathBuf};

use dockhand::exec::{journal, state_dir::state_dir};
use dockhand::exit::{self, Code};

pub fn write(dir: Option<Utf8PathBuf>, id: &str, output: &Utf8Path) -> exit::Result<Code> {
    let dir = state_dir(dir);
    let html = dockhand::report::render(&dir, id, journal::now_ms())
        .map_err(|e| Code::Invalid.error(e))?;
    if output == "-" {
        crate::output::write_stdout(html.as_bytes()).map_err(crate::output::stdout_failed)?;
        return Ok(Code::Ok);
    }
    dockhand::report::save(output, &html).map_err(|e| Code::Engine.error(e))?;
    eprintln!("dockhand: report of execution {id} written to {output}");
    Ok(Code::Ok)
}
