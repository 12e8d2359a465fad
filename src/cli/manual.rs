//! Shell completions and the manual page, both generated from the command line's one
//! definition (`args::Cli`), so they never drift from `--help`.

use clap::CommandFactory;

use dockhand::exit::{self, Code};

use super::args::Cli;

/// `dockhand completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> exit::Result<Code> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dockhand", &mut buf);
    write(&buf)
}

/// `dockhand man`: one roff page, `dockhand(1)`, with a section per subcommand (their long
/// help and examples included), as `man -l` renders it.
pub fn man() -> exit::Result<Code> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(&mut buf)
        .map_err(|e| Code::Invalid.error(e))?;
    page.render_name_section(&mut buf)
        .map_err(|e| Code::Invalid.error(e))?;
    page.render_synopsis_section(&mut buf)
        .map_err(|e| Code::Invalid.error(e))?;
    page.render_description_section(&mut buf)
        .map_err(|e| Code::Invalid.error(e))?;
    page.render_options_section(&mut buf)
        .map_err(|e| Code::Invalid.error(e))?;
    // Each subcommand's own options and examples, as a section of this page (one file to
    // install, and `man dockhand` shows everything).
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("dockhand {}", sub.get_name());
        let sub = sub.clone().bin_name(name.clone());
        let mut part = Vec::new();
        let sub_page = clap_mangen::Man::new(sub.clone());
        sub_page
            .render_synopsis_section(&mut part)
            .map_err(|e| Code::Invalid.error(e))?;
        sub_page
            .render_options_section(&mut part)
            .map_err(|e| Code::Invalid.error(e))?;
        buf.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let about = sub.get_long_about().or(sub.get_about());
        buf.extend_from_slice(
            format!(
                "{}\n",
                roff_escape(&about.map(|a| a.to_string()).unwrap_or_default())
            )
            .as_bytes(),
        );
        // Section headings of the sub-page become sub-headings here.
        let part = String::from_utf8_lossy(&part).replace(".SH ", ".SS ");
        buf.extend_from_slice(part.as_bytes());
        if let Some(after) = sub.get_after_long_help().or(sub.get_after_help()) {
            buf.extend_from_slice(b".SS EXAMPLES AND NOTES\n.nf\n");
            buf.extend_from_slice(roff_escape(&after.to_string()).as_bytes());
            buf.extend_from_slice(b"\n.fi\n");
        }
    }
    page.render_version_section(&mut buf)
        .map_err(|e| Code::Invalid.error(e))?;
    write(&buf)
}

/// Text as roff shows it literally: backslashes doubled, and a line starting with `.` or `'`
/// (a roff request) guarded with `\&`.
fn roff_escape(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn write(bytes: &[u8]) -> exit::Result<Code> {
    crate::output::write_stdout(bytes).map_err(crate::output::stdout_failed)?;
    Ok(Code::Ok)
}
