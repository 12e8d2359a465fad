//! Reading a Subflow task (`io.kestra.plugin.core.flow.Subflow`, and the old
//! `io.kestra.core.tasks.flows.Subflow`/`Flow`): which flow, its inputs, `wait`,
//! `transmitFailed`, labels. Finding the flow is `flow::subflows`.

use std::collections::BTreeMap;

use crate::flow::model::SubflowTask;
use crate::flow::reader::{Cx, Obj};
use crate::flow::yaml::Value;

pub(super) fn read(cx: &mut Cx, o: &mut Obj) -> SubflowTask {
    let namespace = o.need_string(cx, "namespace").unwrap_or_default();
    let flow_id = o.need_string(cx, "flowId").unwrap_or_default();
    let mut inputs = BTreeMap::new();
    if let Some(n) = o.get(cx, "inputs") {
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
                &o.key_path("inputs"),
                format!(
                    "expected a map of input names to values, found {}",
                    n.kind()
                ),
            ),
        }
    }
    let wait = o.bool(cx, "wait").unwrap_or(true);
    let transmit_failed = o.bool(cx, "transmitFailed").unwrap_or(false);
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
        resolved: None,
    }
}
