//! Reading `taskCache` (`enabled`, required; `ttl`, a positive ISO-8601 duration), as
//! Kestra's `Cache` model validates it.

use crate::flow::reader::{Cx, Obj};
use crate::flow::task_cache::TaskCache;
use crate::units;

/// The task's `taskCache`, when it has one that reads.
pub(super) fn read(cx: &mut Cx, o: &mut Obj<'_>) -> Option<TaskCache> {
    let mut c = o.obj(cx, "taskCache")?;
    let enabled = c.bool(cx, "enabled");
    if !c.has("enabled") {
        cx.error(
            c.pos(),
            &c.path.clone(),
            "missing required property `enabled`",
        );
    }
    let ttl = c.parsed(cx, "ttl", |s| {
        let d = units::parse_duration(s)?;
        if d.is_zero() {
            return Err("must be a positive duration".into());
        }
        Ok(d)
    });
    c.finish_described(cx, &crate::flow::spec::TASK_CACHE);
    Some(TaskCache {
        enabled: enabled?,
        ttl,
    })
}
