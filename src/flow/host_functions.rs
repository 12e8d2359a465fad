//! The expression functions that need the outside world (they go through a `pebble::Host`
//! method), what each needs, and whether dockhand's run host provides it. Validation refuses a
//! call to one it does not provide, naming the function, so no flow reaches run time to get an
//! error (or an empty value) there. The run host is `src/exec/env_host.rs`: whoever implements
//! one of these methods there sets `provided` here (a test there checks they agree).

/// One function answered by a host method.
#[derive(Debug, Clone, Copy)]
pub struct HostFunction {
    pub name: &'static str,
    /// What the host needs to answer it, for the error.
    pub needs: &'static str,
    /// Whether dockhand's run host answers it.
    pub provided: bool,
}

const STORAGE: &str = "Kestra's internal storage and namespace files";

pub const HOST_FUNCTIONS: &[HostFunction] = &[
    HostFunction {
        name: "secret",
        needs: "secrets (`SECRET_NAME` environment variables)",
        provided: true,
    },
    HostFunction {
        name: "kv",
        needs: "Kestra's KV store",
        provided: true,
    },
    HostFunction {
        name: "read",
        needs: STORAGE,
        provided: true,
    },
    HostFunction {
        name: "fileExists",
        needs: STORAGE,
        provided: true,
    },
    HostFunction {
        name: "fileSize",
        needs: STORAGE,
        provided: true,
    },
    HostFunction {
        name: "isFileEmpty",
        needs: STORAGE,
        provided: true,
    },
    HostFunction {
        name: "fileURI",
        needs: STORAGE,
        provided: true,
    },
    HostFunction {
        name: "errorLogs",
        needs: "the execution's logs",
        provided: true,
    },
];

/// Why a call of function `name` cannot run in dockhand, if it cannot.
pub fn unavailable(name: &str) -> Option<String> {
    let f = HOST_FUNCTIONS
        .iter()
        .find(|f| f.name == name && !f.provided)?;
    Some(format!(
        "function `{name}` is not available in dockhand: it needs {}, which dockhand does not provide yet",
        f.needs
    ))
}
