//! The container command of a script task: how a task's interpreter, `failFast`,
//! `beforeCommands` and body become the argv the container runs. It lives in `plan` (not in the
//! model) because it is argv building; a script language whose container command differs from
//! Kestra's shell form gets its mapping here.

use crate::flow::model::{Body, ScriptTask};

/// The container command as Kestra builds it: `interpreter + [script]`, where the script is
/// the fail-fast line (`set -e`, with failFast), the beforeCommands and the commands joined by newlines. With
/// neither interpreter nor beforeCommands, the commands themselves are the argv.
pub fn container_command(task: &ScriptTask) -> Vec<String> {
    let mut lines: Vec<&str> = Vec::new();
    let body: Vec<&str> = match &task.body {
        Body::Commands(c) => c.iter().map(String::as_str).collect(),
        Body::Script(s) => vec![s.as_str()],
    };
    if task.interpreter.is_empty() && task.before_commands.is_empty() {
        return body.into_iter().map(str::to_string).collect();
    }
    if task.fail_fast {
        lines.push(task.fail_fast_line);
    }
    lines.extend(task.before_commands.iter().map(String::as_str));
    lines.extend(body);
    let mut argv = task.interpreter.clone();
    argv.push(lines.join("\n"));
    argv
}
