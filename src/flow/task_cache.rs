//! `taskCache` of a task (Kestra's `io.kestra.core.models.tasks.Cache`: `enabled`, `ttl`), and
//! the pure decision whether a cached result stands in for a run: [`decide`]. The cache itself
//! (its files under the state directory, the key) is `exec::task_cache`.

use std::time::Duration;

/// `taskCache: {enabled, ttl}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCache {
    pub enabled: bool,
    /// How long an entry stands after it was written; none: until it is replaced or removed.
    pub ttl: Option<Duration>,
}

/// Can a task of this kind take its result from the cache? Script tasks, and the core tasks
/// whose result is their outputs (and files): Return, OutputValues, kv.Get and GetKeys, the
/// http tasks, LocalFiles and DownloadFiles. The others act on the execution (Exit, Fail,
/// Labels, ...) or are cheap, and run every time.
pub fn cacheable(kind: &crate::flow::model::TaskKind) -> bool {
    use crate::flow::core_task::CoreTask as C;
    use crate::flow::model::TaskKind;
    use crate::flow::namespace_tasks::NamespaceTask;
    match kind {
        TaskKind::Script(_) => true,
        TaskKind::Core(c) => match &**c {
            C::Return { .. }
            | C::OutputValues { .. }
            | C::KvGet { .. }
            | C::KvGetKeys { .. }
            | C::HttpRequest(_)
            | C::HttpDownload { .. }
            | C::LocalFiles { .. } => true,
            C::Namespace(n) => matches!(**n, NamespaceTask::Download { .. }),
            _ => false,
        },
        _ => false,
    }
}

/// What the cache holds for a task's key, as far as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    /// When the entry was written (ms since the epoch).
    pub created_ms: u64,
    /// The image id the task ran in then, when the engine told it.
    pub image_id: Option<String>,
}

/// Whether a task runs or its cached result is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The entry stands: outputs and output files are restored, no container is made.
    Hit,
    /// Run the task (and store its result if it succeeds); why, for the status line.
    Miss(&'static str),
    /// The entry is older than `ttl`: it is removed and the task runs.
    Expired,
}

/// The decision for a task whose rendered task has the key the entry was found under.
/// `image_id` is the id the engine gives the task's image now (none when it has no such image
/// locally or cannot tell).
pub fn decide(
    cache: Option<&TaskCache>,
    entry: Option<&EntryFacts>,
    image_id: Option<&str>,
    now_ms: u64,
) -> Decision {
    let Some(cache) = cache.filter(|c| c.enabled) else {
        return Decision::Miss("taskCache is not enabled");
    };
    let Some(entry) = entry else {
        return Decision::Miss("no cached result for this task as rendered");
    };
    if let Some(ttl) = cache.ttl
        && now_ms.saturating_sub(entry.created_ms) >= ttl.as_millis() as u64
    {
        return Decision::Expired;
    }
    match (entry.image_id.as_deref(), image_id) {
        (Some(then), Some(now)) if then != now => Decision::Miss("the image changed"),
        // The image was there and is not now: a run would pull it, maybe another one.
        (Some(_), None) => Decision::Miss("the image is not on the engine now"),
        _ => Decision::Hit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_miss_and_expired() {
        let on = |ttl: Option<u64>| TaskCache {
            enabled: true,
            ttl: ttl.map(Duration::from_millis),
        };
        let off = TaskCache {
            enabled: false,
            ttl: None,
        };
        let entry = |created_ms, id: Option<&str>| EntryFacts {
            created_ms,
            image_id: id.map(str::to_string),
        };
        type Case = (
            Option<TaskCache>,
            Option<EntryFacts>,
            Option<&'static str>,
            u64,
            Decision,
        );
        #[rustfmt::skip]
        let cases: &[Case] = &[
            // No taskCache, or disabled: always run.
            (None, Some(entry(0, None)), None, 1, Decision::Miss("taskCache is not enabled")),
            (Some(off), Some(entry(0, None)), None, 1, Decision::Miss("taskCache is not enabled")),
            // Nothing cached for this key.
            (Some(on(None)), None, Some("sha256:a"), 1, Decision::Miss("no cached result for this task as rendered")),
            // Same image, no ttl: a hit however old.
            (Some(on(None)), Some(entry(0, Some("sha256:a"))), Some("sha256:a"), u64::MAX, Decision::Hit),
            // Within the ttl, at its last millisecond, and past it.
            (Some(on(Some(1000))), Some(entry(5000, Some("sha256:a"))), Some("sha256:a"), 5999, Decision::Hit),
            (Some(on(Some(1000))), Some(entry(5000, Some("sha256:a"))), Some("sha256:a"), 6000, Decision::Expired),
            (Some(on(Some(1000))), Some(entry(5000, None)), None, 9000, Decision::Expired),
            // A clock that went back is not an expiry.
            (Some(on(Some(1000))), Some(entry(5000, None)), None, 10, Decision::Hit),
            // The image changed, or is gone (a run would pull it).
            (Some(on(None)), Some(entry(0, Some("sha256:a"))), Some("sha256:b"), 1, Decision::Miss("the image changed")),
            (Some(on(None)), Some(entry(0, Some("sha256:a"))), None, 1, Decision::Miss("the image is not on the engine now")),
            // The engine gave no id then (a Process task, or an engine that could not tell):
            // the image's name is in the key, which is all there is to compare.
            (Some(on(None)), Some(entry(0, None)), Some("sha256:a"), 1, Decision::Hit),
            (Some(on(None)), Some(entry(0, None)), None, 1, Decision::Hit),
        ];
        for (i, (cache, e, id, now, want)) in cases.iter().enumerate() {
            assert_eq!(
                decide(cache.as_ref(), e.as_ref(), *id, *now),
                *want,
                "case {i}"
            );
        }
    }
}
