//! Exit codes: the one list of them, with their meanings, and the error type that carries the
//! code a command ends with. The binary's `main` turns an [`Error`] into its one
//! `dockhand: error:` line and its code; `--help` texts and the README's table are checked
//! against [`Code::ALL`] by tests.

use std::fmt;

/// How a dockhand command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Done: every task SUCCESS, WARNING or skipped; a listing printed; nothing to change.
    Ok,
    /// The flow failed: a task ended FAILED (or KILLED).
    FlowFailed,
    /// Invalid input: a flow file, an option or an input value is wrong; nothing was started.
    Invalid,
    /// The engine is unavailable, or the host failed us: no engine CLI, a daemon that does not
    /// answer, an unusable state directory, a host change that did not take, a removal the
    /// engine refused.
    Engine,
    /// Interrupted by Ctrl-C (SIGINT); running containers were stopped.
    Interrupted,
    /// Terminated by SIGTERM; running containers were stopped.
    Terminated,
    /// The execution is PAUSED at a Pause task without a delay: `dockhand resume ID` goes on.
    Paused,
}

impl Code {
    /// Every code, in the order `--help` lists them.
    pub const ALL: [Code; 7] = [
        Code::Ok,
        Code::FlowFailed,
        Code::Invalid,
        Code::Engine,
        Code::Paused,
        Code::Interrupted,
        Code::Terminated,
    ];

    /// The process exit status.
    pub const fn value(self) -> i32 {
        match self {
            Code::Ok => 0,
            Code::FlowFailed => 1,
            Code::Invalid => 2,
            Code::Engine => 3,
            Code::Paused => 4,
            Code::Interrupted => 130,
            Code::Terminated => 143,
        }
    }

    /// What the code means, as the top-level `--help` says it.
    pub const fn meaning(self) -> &'static str {
        match self {
            Code::Ok => "success (every task SUCCESS, WARNING or skipped)",
            Code::FlowFailed => "the flow failed: a task ended FAILED (see the summary)",
            Code::Invalid => {
                "invalid input: a flow file, an option or an input value is wrong; nothing was started"
            }
            Code::Engine => {
                "the engine is unavailable (no CLI, daemon unreachable) or host setup failed"
            }
            Code::Interrupted => "interrupted by Ctrl-C (SIGINT); running containers were stopped",
            Code::Terminated => "terminated by SIGTERM; running containers were stopped",
            Code::Paused => "paused at a Pause task: `dockhand resume EXECUTION` continues it",
        }
    }

    /// The code a signal's cancel ends with.
    pub const fn for_signal(interrupt: bool) -> Code {
        if interrupt {
            Code::Interrupted
        } else {
            Code::Terminated
        }
    }

    /// The code with this exit status, if it is one of dockhand's.
    pub fn from_value(v: i32) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.value() == v)
    }

    /// An error ending with this code, with its message.
    pub fn error(self, message: impl fmt::Display) -> Error {
        Error {
            code: self,
            subject: None,
            message: Some(message.to_string()),
        }
    }

    /// An error about a file, printed as `FILE: error: MESSAGE` (as diagnostics are).
    pub fn error_in(self, file: impl fmt::Display, message: impl fmt::Display) -> Error {
        Error {
            code: self,
            subject: Some(file.to_string()),
            message: Some(message.to_string()),
        }
    }

    /// An error ending with this code whose message is already on stderr (diagnostics, a
    /// subcommand's own report).
    pub const fn reported(self) -> Error {
        Error {
            code: self,
            subject: None,
            message: None,
        }
    }
}

/// The `Exit codes:` block of the top-level `--help`, from [`Code::ALL`].
pub fn help_block() -> String {
    let mut s = String::from("Exit codes:");
    for c in Code::ALL {
        s.push_str(&format!("\n  {:<5}{}", c.value(), c.meaning()));
    }
    s
}

/// A command that did not end well: the code it ends with and, unless it was printed already,
/// the one line that says why (see [`Error::line`]).
#[derive(Debug)]
pub struct Error {
    pub code: Code,
    /// The file the message is about; `None`: dockhand itself.
    pub subject: Option<String>,
    pub message: Option<String>,
}

impl Error {
    /// The line printed on stderr: `dockhand: error: MESSAGE` (or `FILE: error: MESSAGE`);
    /// `None` when it was reported already.
    pub fn line(&self) -> Option<String> {
        let m = self.message.as_ref()?;
        Some(format!(
            "{}: error: {m}",
            self.subject.as_deref().unwrap_or("dockhand")
        ))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit code {}", self.code.value()),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Gives a failure the code it ends with, the way `anyhow::Context` gives it a context:
/// `std::fs::read(p).code(Code::Engine)?`. The message is the error's `Display` (for an
/// `anyhow::Error`, use `{:#}` first if its causes belong in the line).
pub trait WithCode<T> {
    fn code(self, code: Code) -> Result<T>;
    /// As [`WithCode::code`], with a context line before the error.
    fn code_with(self, code: Code, context: impl fmt::Display) -> Result<T>;
}

impl<T, E: fmt::Display> WithCode<T> for std::result::Result<T, E> {
    fn code(self, code: Code) -> Result<T> {
        self.map_err(|e| code.error(e))
    }
    fn code_with(self, code: Code, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| code.error(format!("{context}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        for c in Code::ALL {
            assert_eq!(Code::from_value(c.value()), Some(c));
        }
        assert_eq!(Code::from_value(5), None);
    }

    /// Each kind of ending and the status it exits with: the table the README documents.
    #[test]
    fn kinds_map_to_their_exit_status() {
        let table = [
            (Code::Ok, 0),
            (Code::FlowFailed, 1),
            (Code::Invalid, 2),
            (Code::Engine, 3),
            (Code::Paused, 4),
            (Code::Interrupted, 130),
            (Code::Terminated, 143),
            (Code::for_signal(true), 130),
            (Code::for_signal(false), 143),
        ];
        for (code, status) in table {
            assert_eq!(code.value(), status, "{code:?}");
        }
    }

    #[test]
    fn error_message_carries_its_context() {
        let e = std::fs::read("/nonexistent/dockhand")
            .code_with(Code::Engine, "cannot read")
            .unwrap_err();
        assert_eq!(e.code, Code::Engine);
        assert!(
            e.to_string().starts_with("cannot read: No such file"),
            "{e}"
        );
        assert_eq!(
            e.line().unwrap(),
            format!("dockhand: error: {}", e.message.as_ref().unwrap())
        );
        assert_eq!(
            Code::Invalid.error_in("f.yaml", "too big").line().unwrap(),
            "f.yaml: error: too big"
        );
        assert_eq!(Code::Invalid.reported().line(), None);
    }

    #[test]
    fn help_block_lists_every_code() {
        let b = help_block();
        assert!(b.starts_with("Exit codes:\n  0    success"), "{b}");
        assert!(b.contains("\n  143  terminated by SIGTERM"), "{b}");
        assert_eq!(b.lines().count(), 1 + Code::ALL.len());
    }
}
