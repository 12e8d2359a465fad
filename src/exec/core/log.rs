//! `log.Log`: each message rendered and printed as the task's log lines, with the task's prefix
//! and secrets masked as a container's output is. INFO lines are the message alone; other
//! levels show the level first, and WARN and ERROR go out as stderr lines (`!`).

use super::Done;
use crate::exec::Runtime;
use crate::exec::logs::Stream;
use crate::flow::core_task::LogLevel;
use crate::plan::scope::TextRenderer;

/// How a message at `level` is printed: the stream and the text of its lines.
pub(super) fn line(level: LogLevel, message: &str) -> (Stream, String) {
    let stream = match level {
        LogLevel::Warn | LogLevel::Error => Stream::Stderr,
        _ => Stream::Stdout,
    };
    let text = match level {
        LogLevel::Info => message.to_string(),
        other => message
            .split('\n')
            .map(|l| format!("{} {l}", other.name()))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    (stream, text)
}

/// Prints a line of the task's own (an assertion that failed, the reason of a Fail) at `level`.
pub(super) fn print(rt: &Runtime, task: &str, level: LogLevel, message: &str) {
    let (stream, text) = line(level, message);
    rt.sink.task_lines(task, stream, &text);
}

pub(super) fn log(
    rt: &Runtime,
    task: &str,
    messages: &[String],
    level: LogLevel,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    for m in messages {
        // As Kestra: each message is rendered, then logged, before the next is rendered.
        let text = r.text(m)?;
        print(rt, task, level, &text);
    }
    Ok(Done::success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_by_level() {
        let cases = [
            (LogLevel::Info, "hi", Stream::Stdout, "hi"),
            (LogLevel::Debug, "hi", Stream::Stdout, "DEBUG hi"),
            (LogLevel::Trace, "a\nb", Stream::Stdout, "TRACE a\nTRACE b"),
            (LogLevel::Warn, "careful", Stream::Stderr, "WARN careful"),
            (LogLevel::Error, "bad", Stream::Stderr, "ERROR bad"),
        ];
        for (level, msg, stream, text) in cases {
            assert_eq!(line(level, msg), (stream, text.to_string()), "{level:?}");
        }
    }
}
