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

/// The backend `resume` continues an execution on: the journal's (`journaled`: the swarm
/// placements recorded at its start, `None` for one engine) unless the command line names a
/// swarm with placements of its own. An execution begun on a swarm stays there.
pub fn for_resume(journaled: Option<Vec<(String, String)>>, given: Backend) -> Backend {
    match (journaled, given) {
        (_, Backend::Swarm(o)) if !o.placement.is_empty() => Backend::Swarm(o),
        (Some(placement), _) => Backend::Swarm(SwarmOptions { placement }),
        (None, given) => given,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keeps_the_journaled_backend() {
        let p = |t: &str| vec![(t.to_string(), "node.role==worker".to_string())];
        let swarm = |pl: Vec<(String, String)>| Backend::Swarm(SwarmOptions { placement: pl });
        for (journaled, given, want) in [
            (None, Backend::Engine, Backend::Engine),
            (Some(vec![]), Backend::Engine, swarm(vec![])),
            (Some(p("a")), Backend::Engine, swarm(p("a"))),
            (Some(p("a")), swarm(vec![]), swarm(p("a"))),
            (Some(p("a")), swarm(p("b")), swarm(p("b"))),
            (None, swarm(vec![]), swarm(vec![])),
        ] {
            assert_eq!(
                for_resume(journaled.clone(), given.clone()),
                want,
                "{journaled:?} {given:?}"
            );
        }
    }

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
