//! Tests (`value is name`): Pebble's `null`, `empty`, `even`, `odd`, `iterable`, `map`, and
//! Kestra's `json` and `isIn`. (`defined` is handled by the evaluator: it must see an undefined
//! variable without failing.)

use super::eval::{Bound, CallError, CallResult};
use super::value::Value;

pub fn apply(name: &str, input: &Value, args: &Bound) -> CallResult<bool> {
    Ok(match name {
        "null" => input.is_null(),
        "empty" => match input {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
            _ => false,
        },
        "even" | "odd" => {
            let n = match input {
                Value::Long(n) => *n,
                Value::Double(d) => *d as i64,
                other => {
                    return Err(CallError::ty(format!(
                        "test `{name}` needs a number, not a {}",
                        other.kind()
                    )));
                }
            };
            (n % 2 == 0) == (name == "even")
        }
        "iterable" => matches!(input, Value::List(_) | Value::Map(_)),
        "map" => matches!(input, Value::Map(_)),
        "json" => match input {
            Value::String(s) => Value::from_json(s).is_ok(),
            _ => false,
        },
        "isIn" => match args.get("values") {
            Some(Value::List(l)) => l.contains(input),
            Some(Value::String(s)) => s.contains(&input.to_java_string()),
            Some(other) => {
                return Err(CallError::ty(format!(
                    "test `isIn` needs a list, not a {}",
                    other.kind()
                )));
            }
            None => false,
        },
        other => {
            return Err(CallError::runtime(format!(
                "test `{other}` is not implemented"
            )));
        }
    })
}
