//! `dockhand report`: one self-contained HTML file for an execution (no network, no CDN, no
//! script needed to read it): a Gantt chart of every task run and attempt on a time axis,
//! coloured by state, and per run its container, image, exit code, outputs, output files and
//! its logs (collapsible). [`data`] reads an execution from the state directory; [`html`] is a
//! pure function of that data.

pub mod data;
pub mod html;

pub use data::{Report, Run};

use camino::Utf8Path;

/// The HTML report of execution `id` under `state_dir` (`now_ms`, Unix milliseconds, ends
/// what is still running).
pub fn render(
    state_dir: &Utf8Path,
    id: &str,
    now_ms: u64,
) -> Result<String, crate::exec::journal::JournalError> {
    let mut r = data::read(state_dir, id, now_ms)?;
    if let Ok(text) = crate::flow::limits::read_file(&r.flow_file)
        && let Some(flow) = crate::flow::load(&r.flow_file, &text).flow
    {
        data::add_images(&mut r, &flow);
    }
    Ok(html::html(&r))
}

/// Writes `html` to `path` whole or not at all (a temporary file beside it, then renamed).
pub fn save(path: &Utf8Path, html: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("cannot write the report {path}: {e}"))?;
    std::io::Write::write_all(&mut tmp, html.as_bytes())
        .map_err(|e| format!("cannot write the report {path}: {e}"))?;
    tmp.persist(path)
        .map_err(|e| format!("cannot write the report {path}: {}", e.error))?;
    Ok(())
}
