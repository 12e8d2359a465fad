//! Where a flow's container tasks run: as containers on one engine (the default), or as
//! services on a Docker Swarm the docker CLI addresses (`--backend swarm`, issue 15).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Backend {
    /// `docker run`/`podman run` on one engine.
    #[default]
    Engine,
    /// `docker service create` on a swarm manager.
    Swarm(SwarmOptions),
}

/// What only the swarm backend takes: dockhand's own extension, not Kestra's format.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwarmOptions {
    /// `--placement TASK=CONSTRAINT`: swarm placement constraints per task id (e.g.
    /// `node.labels.zone==eu`), `*` for every task; each becomes a `--constraint`.
    pub placement: Vec<(String, String)>,
}

impl SwarmOptions {
    /// The constraints of one task, in the order given (`*` ones first apply too).
    pub fn constraints(&self, task: &str) -> Vec<&str> {
        self.placement
            .iter()
            .filter(|(t, _)| t == task || t == "*")
            .map(|(_, c)| c.as_str())
            .collect()
    }
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Engine => "engine",
            Backend::Swarm(_) => "swarm",
        }
    }

    pub fn is_swarm(&self) -> bool {
        matches!(self, Backend::Swarm(_))
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_per_task_and_for_all() {
        let o = SwarmOptions {
            placement: vec![
                ("*".into(), "node.role==worker".into()),
                ("a".into(), "node.labels.dockhand.node==n1".into()),
                ("b".into(), "node.labels.dockhand.node==n2".into()),
            ],
        };
        assert_eq!(
            o.constraints("a"),
            ["node.role==worker", "node.labels.dockhand.node==n1"]
        );
        assert_eq!(o.constraints("c"), ["node.role==worker"]);
        assert!(SwarmOptions::default().constraints("a").is_empty());
    }
}
