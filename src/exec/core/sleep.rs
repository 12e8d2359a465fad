//! `flow.Sleep`: waits for its duration; Ctrl-C or SIGTERM ends the wait at once (KILLED).

use std::time::Duration;

use super::Done;
use crate::exec::result::{Failure, State};
use crate::exec::{Cancel, Runtime};

pub(super) async fn sleep(rt: &Runtime, task: &str, d: Duration) -> Done {
    // Kestra's own line, with the duration as it prints it (ISO-8601).
    rt.sink.task_lines(
        task,
        crate::exec::logs::Stream::Stdout,
        &format!("Waiting for {}", crate::units::format_duration_iso(d)),
    );
    let mut cancel = rt.cancel.clone();
    tokio::select! {
        _ = tokio::time::sleep(d) => Done::success(),
        _ = cancel.wait_for(|c| *c != Cancel::No) => Done {
            state: State::Killed,
            message: Some("cancelled while sleeping".into()),
            failure: Some(Failure::Cancelled),
            ..Done::success()
        },
    }
}
