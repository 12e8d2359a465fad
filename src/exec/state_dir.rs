//! Where execution journals live: the state directory `run`, `resume`, `ps` and `cleanup` share.

use camino::Utf8PathBuf;

/// The state directory: `--state-dir`, `$DOCKHAND_STATE_DIR`, `$XDG_STATE_HOME/dockhand`,
/// `~/.local/state/dockhand`, else `/var/lib/dockhand` (said on stderr: with neither variable
/// set, e.g. under a service manager or `env -i`, journals would otherwise land somewhere the
/// user never chose without a word).
pub fn state_dir(given: Option<Utf8PathBuf>) -> Utf8PathBuf {
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
