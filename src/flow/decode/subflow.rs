//! Reading a Subflow task (`io.kestra.plugin.core.flow.Subflow`, and the old
//! `io.kestra.core.tasks.flows.Subflow`/`Flow`): which flow, its inputs, `wait`,
//! `transmitFailed`, labels, the deprecated `outputs`; and a ForEachItem, which is a Subflow
//! with `items` and `batch`. Finding the flow is `flow::subflows`.

use std::collections::BTreeMap;

use crate::flow::for_each_item::ForEachItems;
use crate::flow::model::SubflowTask;
use crate::flow::reader::{Cx, Obj};
use crate::flow::yaml::Value;

pub(super) fn read(cx: &mut Cx, o: &mut Obj, for_each_item: bool) -> SubflowTask {
    let namespace = o.need_string(cx, "namespace").unwrap_or_default();
    let flow_id = o.need_string(cx, "flowId").unwrap_or_default();
    let inputs = value_map(cx, o, "inputs");
    let mut outputs = BTreeMap::new();
    let mut for_each = None;
    if for_each_item {
        for_each = Some(Box::new(read_items(cx, o)));
    } else {
        outputs = value_map(cx, o, "outputs");
        if let Some(n) = o.get(cx, "outputs") {
            cx.diags.warning(
                n.pos,
                o.key_path("outputs"),
                "a Subflow's `outputs` is deprecated since Kestra 0.15: declare flow `outputs` in the subflow (they are used instead when it has them)",
            );
        }
    }
    // Kestra's default: a failed subflow fails the task.
    let wait = o.bool(cx, "wait").unwrap_or(true);
    let transmit_failed = o.bool(cx, "transmitFailed").unwrap_or(true);
    let labels = o
        .get(cx, "labels")
        .map(|n| super::labels(cx, n))
        .unwrap_or_default();
    let inherit_labels = o.bool(cx, "inheritLabels").unwrap_or(false);
    SubflowTask {
        namespace,
        flow_id,
        inputs,
        wait,
        transmit_failed,
        labels,
        inherit_labels,
        outputs,
        for_each,
        resolved: None,
        flows_dir: None,
    }
}

/// `items` and `batch` of a ForEachItem.
fn read_items(cx: &mut Cx, o: &mut Obj) -> ForEachItems {
    let items = o.need_string(cx, "items").unwrap_or_default();
    let mut it = ForEachItems {
        items,
        rows: None,
        bytes: None,
        partitions: None,
        separator: "\n".into(),
    };
    if let Some(mut b) = o.obj(cx, "batch") {
        it.rows = b.string(cx, "rows");
        it.bytes = b.string(cx, "bytes");
        it.partitions = b.string(cx, "partitions");
        if let Some(s) = b.string(cx, "separator") {
            it.separator = s;
        }
        b.finish_described(cx, &crate::flow::spec::tasks_flow::BATCH);
    }
    it
}

/// A map of names to values as written (a list or map value as JSON).
fn value_map(cx: &mut Cx, o: &mut Obj, key: &'static str) -> BTreeMap<String, String> {
    let mut inputs = BTreeMap::new();
    if let Some(n) = o.get(cx, key) {
        match &n.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    let key = k.scalar().unwrap_or_default().to_string();
                    let value = match &v.value {
                        Value::Scalar { text, .. } => text.clone(),
                        _ => v.to_json().to_string(),
                    };
                    inputs.insert(key, value);
                }
            }
            _ => cx.error(
                n.pos,
                &o.key_path(key),
                format!("expected a map of names to values, found {}", n.kind()),
            ),
        }
    }
    inputs
}
