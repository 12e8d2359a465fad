//! The two engine CLIs dockhand drives and where their command lines differ.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    Docker,
    Podman,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Docker => "docker",
            Dialect::Podman => "podman",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "docker" => Some(Dialect::Docker),
            "podman" => Some(Dialect::Podman),
            _ => None,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
