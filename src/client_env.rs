//! What the engine client (`docker`, `podman`) reads from its own environment. Both the reader
//! (`flow`, which refuses a task `env` value the client would misread) and the argv builder
//! (`plan`, which passes such names in an env file) need it; it lives below both so that `flow`
//! does not import `plan`.

/// Names the engine client itself reads from its environment: passing a task's value through
/// the client's environment would change how the client behaves, so these go in an env file.
pub fn client_reads(name: &str) -> bool {
    // `CONTAINER_`: podman reads CONTAINER_HOST, CONTAINER_CONNECTION, CONTAINER_SSHKEY, ...
    const PREFIXES: &[&str] = &[
        "DOCKER_",
        "CONTAINER_",
        "CONTAINERS_",
        "PODMAN_",
        "BUILDAH_",
        "XDG_",
        "LD_",
        "SSL_",
        "STORAGE_",
        "REGISTRIES_",
    ];
    const NAMES: &[&str] = &[
        "HOME",
        "PATH",
        "TMPDIR",
        "USER",
        "LOGNAME",
        "SHELL",
        "REGISTRY_AUTH_FILE",
        "GODEBUG",
        "GOGC",
        "GOMAXPROCS",
        "GOMEMLIMIT",
        "GOTRACEBACK",
        "NOTIFY_SOCKET",
        "TERM",
        "NO_COLOR",
    ];
    let upper = name.to_ascii_uppercase();
    PREFIXES.iter().any(|p| name.starts_with(p))
        || NAMES.contains(&name)
        || upper.ends_with("_PROXY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_variables_are_recognised() {
        for n in [
            "HOME",
            "PATH",
            "DOCKER_HOST",
            "http_proxy",
            "XDG_CONFIG_HOME",
            "GODEBUG",
            "CONTAINER_HOST",
            "CONTAINER_CONNECTION",
        ] {
            assert!(client_reads(n), "{n}");
        }
        for n in ["API_KEY", "HOMEDIR", "MY_PATH"] {
            assert!(!client_reads(n), "{n}");
        }
    }
}
