//! `debug.Return` (output `value`: `format` rendered) and `output.OutputValues` (output
//! `values`: every string in them rendered, numbers, lists and maps kept as written).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Done;
use crate::plan::scope::TextRenderer;

pub(super) fn ret(format: Option<&str>, r: &mut TextRenderer) -> Result<Done, String> {
    // Kestra renders a missing format to null.
    let value = match format {
        Some(f) => Json::String(r.text(f)?),
        None => Json::Null,
    };
    Ok(Done::with_outputs(BTreeMap::from([(
        "value".to_string(),
        value,
    )])))
}

pub(super) fn output_values(
    values: &BTreeMap<String, Json>,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let mut out = serde_json::Map::new();
    for (k, v) in values {
        out.insert(k.clone(), r.json(v)?);
    }
    Ok(Done::with_outputs(BTreeMap::from([(
        "values".to_string(),
        Json::Object(out),
    )])))
}
