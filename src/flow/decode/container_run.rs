//! Reading the runner options that `io.kestra.plugin.docker.cli.Run` has as its own properties
//! (`networkMode`, `volumes`, `credentials`, ... at the top of the task, as Kestra's plugin
//! builds its Docker task runner from them): they are read by the task runner's reader, over a
//! map holding just those entries of the task, so values, checks and positions are the
//! runner's.

use crate::flow::model::{DOCKER_RUNNER_TYPE, DockerRunner};
use crate::flow::reader::{Cx, Obj};
use crate::flow::spec;
use crate::flow::yaml::{Node, Value};

use super::runner::read_runner;

/// The runner of a task whose type has the runner's options at its top (see
/// [`spec::runner_at_top`]), with the runner's defaults for the options it lacks.
pub(super) fn read_top_runner(
    cx: &mut Cx,
    o: &mut Obj<'_>,
    tt: &'static spec::TaskType,
) -> Option<DockerRunner> {
    let names: Vec<&'static str> = spec::RUNNER
        .properties()
        .filter(|p| p.name != "type" && p.support == spec::Support::Read)
        .filter(|p| tt.object.properties().any(|q| q.name == p.name))
        .map(|p| p.name)
        .collect();
    let Value::Map(entries) = &o.node.value else {
        return Some(DockerRunner::default());
    };
    let type_entry = (scalar("type", o.pos()), scalar(DOCKER_RUNNER_TYPE, o.pos()));
    let mut picked = vec![type_entry];
    for name in &names {
        // The task's reader knows the key (its position is recorded), the runner's reads it.
        o.get(cx, name);
        if let Some(e) = entries.iter().find(|(k, _)| k.scalar() == Some(name)) {
            picked.push(e.clone());
        }
    }
    let node = Node {
        pos: o.pos(),
        value: Value::Map(picked),
    };
    let path = o.path.clone();
    let runner = Obj::new(cx, &node, &path)?;
    match read_runner(cx, runner)? {
        super::runner::ReadRunner::Docker(r, _) => Some(*r),
        // The node's type is the Docker runner's.
        super::runner::ReadRunner::Process => None,
    }
}

fn scalar(text: &str, pos: crate::diag::Pos) -> Node {
    Node {
        pos,
        value: Value::Scalar {
            text: text.to_string(),
            plain: true,
        },
    }
}
