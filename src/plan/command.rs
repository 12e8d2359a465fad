//! An engine command as data: the arguments after the program name, the environment the child
//! gets, and what goes to its standard input. Secrets live only in the environment, in an env
//! file written at run time, or on stdin; never in the arguments.

use std::ffi::OsString;
use std::fmt;

/// A value that must never be printed. `Debug` and `Display` show `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value itself: call only where it goes to a child's environment, stdin or a 0600 file.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a command is for; the executor treats each step differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Log in to a registry into a private client config (password on stdin).
    Login,
    /// Create the container (pulling the image per `pullPolicy`).
    Create,
    /// Copy the working directory into the created container.
    CopyIn,
    /// Run (or start) the container attached: its output is the task's log.
    Run,
    /// Copy the working directory back out of the container.
    CopyOut,
    /// Read the container's final state (exit code, OOM kill).
    Inspect,
    /// Stop the container on cancel or timeout.
    Stop,
    /// Remove the container.
    Remove,
    /// Ask the engine something (`ps`, `inspect`, `version`, `info`): no task step.
    Query,
    /// Install a task's Python dependencies into their cache directory (`plan::python_deps`).
    Install,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Login => "login",
            Step::Create => "create",
            Step::CopyIn => "copy-in",
            Step::Run => "run",
            Step::CopyOut => "copy-out",
            Step::Inspect => "inspect",
            Step::Stop => "stop",
            Step::Remove => "remove",
            Step::Query => "query",
            Step::Install => "install",
        }
    }
}

/// A file the executor writes with mode 0600 before the command and removes after it.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivateFile {
    pub path: String,
    pub content: Secret,
    /// What the file holds, for display: e.g. `HOME=<redacted>` lines.
    pub shown: String,
    /// A docker client `config.json` that replaces the user's for one command: the executor
    /// starts it from the user's own config (contexts, proxies), which the builder cannot read.
    pub docker_client_config: bool,
}

/// One invocation of the engine CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineCommand {
    pub step: Step,
    pub args: Vec<OsString>,
    /// Variables set in the child's environment (values are secret).
    pub env: Vec<(String, Secret)>,
    pub stdin: Option<Secret>,
    /// What stdin holds, for display.
    pub stdin_note: String,
    pub files: Vec<PrivateFile>,
    /// Working directory of the engine client (a private 0700 directory): Podman's conmon
    /// drops an `oom` marker file into it when the kernel kills the container for memory.
    pub cwd: Option<String>,
    /// What the plan says about the command besides its parts (e.g. where a command holding a
    /// secret went); never a secret.
    pub notes: Vec<String>,
    /// The options given with [`EngineCommand::opt`], whose value is the next argument: `plan`
    /// prints each on one line with its value. Recorded as the option is added, so no list of
    /// value-taking options can be forgotten. The builders' own names, not copies: a string per
    /// option of every command of every task added up (figure 5's peak RSS).
    pub value_flags: Vec<&'static str>,
}

impl EngineCommand {
    pub fn new(step: Step) -> Self {
        EngineCommand {
            step,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            stdin_note: String::new(),
            cwd: None,
            files: Vec::new(),
            notes: Vec::new(),
            value_flags: Vec::new(),
        }
    }

    pub fn arg(&mut self, a: impl Into<OsString>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I, S>(&mut self, items: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(items.into_iter().map(Into::into));
        self
    }

    /// `flag value` as two arguments. Every option that takes a value goes through here.
    pub fn opt(&mut self, flag: &'static str, value: impl Into<OsString>) -> &mut Self {
        if !self.value_flags.contains(&flag) {
            self.value_flags.push(flag);
        }
        self.args.push(flag.into());
        self.args.push(value.into());
        self
    }

    /// The arguments as strings (every builder makes them from strings).
    pub fn argv(&self) -> Vec<String> {
        self.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// The command line for display: shell-quoted, secrets absent by construction.
    pub fn display(&self, program: &str) -> String {
        let mut words: Vec<String> = vec![program.to_string()];
        words.extend(self.args.iter().map(|a| a.to_string_lossy().into_owned()));
        shell_words::join(words)
    }
}
