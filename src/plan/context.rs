//! What the argv builder needs to know besides the task: the execution, the engine dialect and
//! where files go. Filled by the caller (the CLI reads the environment); the builder reads none.

use std::collections::BTreeSet;

use camino::Utf8PathBuf;

use crate::plan::command::Secret;
use crate::plan::dialect::Dialect;

#[derive(Debug, Clone, PartialEq)]
pub struct PlanContext {
    pub execution_id: String,
    pub attempt: u32,
    pub dialect: Dialect,
    /// Task working directories are `{work_root}/{execution_id}/{task_id}`.
    pub work_root: Utf8PathBuf,
    /// Private files (env files, registry configs) go under `{private_root}/{execution_id}`,
    /// never inside a working directory.
    pub private_root: Utf8PathBuf,
    /// Engine address from the command line or environment (`-H`/`--url`), overridden by a
    /// task's `host`.
    pub host: Option<String>,
    /// The pid of the dockhand process running the execution, put on each container as
    /// `io.dockhand.owner` so `ps`/`cleanup` know it is watched (none for `plan`, which shows
    /// `<pid>` in its place).
    pub owner: Option<u32>,
    /// Values of the execution's SECRET inputs: a task whose command text holds one gets its
    /// command in a private file copied into the container, never in an argv.
    pub secrets: Vec<Secret>,
    /// Podman only: the short image names (as written, e.g. `mytool:1`) that podman at an engine
    /// address (None: the default one) finds among its local images, found out by one lookup
    /// before the run (`exec::images`). Such a name is passed as written, so podman resolves it
    /// as `podman run` does (`localhost/` first); any other short name is given as Docker Hub's
    /// (`docker.io/library/…`). Empty for `plan`, which needs no engine.
    pub local_images: BTreeSet<(Option<String>, String)>,
    /// Answers `secret()` in expressions: the executor's, or `plan`'s stand-in.
    pub expr_host: crate::plan::expr_host::ExprHost,
    /// Tasks inside a WorkingDirectory (by id) and the WorkingDirectory whose directory they
    /// share ([`crate::flow::model::Flow::shared_workdirs`]).
    pub shared_workdirs: std::collections::BTreeMap<String, String>,
    /// The execution's values expressions read (`execution.startDate`, `envs`, `globals`,
    /// `trigger`, labels from the command line): the caller fills them.
    pub run_vars: crate::plan::run_vars::RunVars,
    /// The task run being rendered (`taskrun`, `parent`, `parents`), set by the executor for
    /// each run of a task; none before the run.
    pub taskrun: Option<crate::plan::taskrun::TaskRunContext>,
    /// Containers on one engine, or services on a swarm (`--backend swarm`).
    pub backend: crate::plan::backend::Backend,
    /// The flows (`namespace.id`) of the executions above this one, root first: empty for an
    /// execution started on its own; a Subflow's child gets its parent's and its parent's
    /// name (`exec::subflow_depth` stops a chain too deep).
    pub subflow_chain: Vec<String>,
}

impl PlanContext {
    /// The context of execution `execution_id`'s first attempt, with work directories under
    /// `work_root` (absolute) and nothing else known yet.
    pub fn new(dialect: Dialect, work_root: Utf8PathBuf, execution_id: &str) -> PlanContext {
        PlanContext {
            execution_id: execution_id.to_string(),
            attempt: 1,
            dialect,
            private_root: work_root.join(".private"),
            work_root,
            host: None,
            owner: None,
            secrets: Vec::new(),
            local_images: Default::default(),
            expr_host: Default::default(),
            shared_workdirs: Default::default(),
            run_vars: Default::default(),
            taskrun: None,
            backend: Default::default(),
            subflow_chain: Vec::new(),
        }
    }

    pub fn workdir(&self, task_id: &str) -> Utf8PathBuf {
        let dir = self
            .shared_workdirs
            .get(task_id)
            .map_or(task_id, String::as_str);
        self.work_root.join(&self.execution_id).join(dir)
    }

    /// Does the task share a WorkingDirectory's directory (kept until the WorkingDirectory ends)?
    pub fn shares_workdir(&self, task_id: &str) -> bool {
        self.shared_workdirs.contains_key(task_id)
    }

    pub fn private_dir(&self, task_id: &str) -> Utf8PathBuf {
        self.private_root.join(&self.execution_id).join(task_id)
    }

    /// The labels of a task's container (or service) in this execution and attempt.
    pub fn task_labels(
        &self,
        namespace: &str,
        flow_id: &str,
        task_id: &str,
    ) -> Vec<(&'static str, String)> {
        crate::plan::labels::for_task(
            namespace,
            flow_id,
            task_id,
            &self.execution_id,
            self.attempt,
            self.owner,
        )
    }

    /// The swarm placement constraints of a task (none on one engine).
    pub fn backend_constraints(&self, task_id: &str) -> Vec<&str> {
        match &self.backend {
            crate::plan::backend::Backend::Swarm(o) => o.constraints(task_id),
            crate::plan::backend::Backend::Engine => Vec::new(),
        }
    }

    /// `dh-<execution>-<task>-<attempt>`: unique per task attempt, so a second start of the
    /// same task fails instead of running twice.
    pub fn container_name(&self, task_id: &str) -> String {
        format!("dh-{}-{}-{}", self.execution_id, task_id, self.attempt)
    }
}
