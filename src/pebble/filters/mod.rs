//! Filters (`value | name(args)`): the dispatch from a filter's name to its implementation,
//! grouped by family in the files beside this one.

mod collections;
mod dates;
mod encoding;
mod strings;

use super::eval::{Bound, CallError, CallResult, Eval};
use super::value::Value;

pub use collections::order as order_of;
pub use dates::zone_of;

/// Applies filter `name` (already checked against the registry) to `input`.
pub fn apply(ev: &mut Eval, name: &str, input: Value, args: &Bound) -> CallResult<Value> {
    if let Some(v) = strings::apply(name, &input, args)? {
        return Ok(v);
    }
    if let Some(v) = collections::apply(name, &input, args)? {
        return Ok(v);
    }
    if let Some(v) = encoding::apply(name, &input, args)? {
        return Ok(v);
    }
    if let Some(v) = dates::apply(ev, name, &input, args)? {
        return Ok(v);
    }
    if name == "jq" {
        return super::jq::filter(&input, &args.req_str("expression")?);
    }
    Err(CallError::new(
        super::error::ErrorKind::NotImplemented,
        format!("filter `{name}` is not implemented"),
    ))
}

/// The input as text for string filters: strings as they are, scalars as Java prints them.
pub(crate) fn text(name: &str, v: &Value) -> CallResult<String> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Long(_) | Value::Double(_) | Value::Bool(_) => Ok(v.to_java_string()),
        other => Err(CallError::ty(format!(
            "filter `{name}` needs a string, not a {}",
            other.kind()
        ))),
    }
}
