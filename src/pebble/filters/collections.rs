//! Filters on lists, maps and numbers: length, first/last, slice, join, sort, reverse, merge,
//! keys/values, chunk, distinct, flatten, default, abs, number, className, string, raw.

use crate::pebble::eval::{Bound, CallError, CallResult};
use crate::pebble::value::{Map, Value};
use std::cmp::Ordering;

pub fn apply(name: &str, input: &Value, args: &Bound) -> CallResult<Option<Value>> {
    let v: Value = match name {
        "raw" => input.clone(),
        "default" => {
            let empty = match input {
                Value::Null => true,
                Value::String(s) => s.trim().is_empty(),
                Value::List(l) => l.is_empty(),
                Value::Map(m) => m.is_empty(),
                _ => false,
            };
            if empty {
                args.get("default").cloned().unwrap_or(Value::Null)
            } else {
                input.clone()
            }
        }
        "length" => Value::Long(match input {
            Value::Null => 0,
            Value::String(s) => s.encode_utf16().count() as i64,
            Value::List(l) => l.len() as i64,
            Value::Map(m) => m.len() as i64,
            other => other.to_java_string().len() as i64,
        }),
        "first" | "last" => match input {
            Value::Null => Value::Null,
            Value::String(s) => {
                let c = if name == "first" {
                    s.chars().next()
                } else {
                    s.chars().last()
                };
                c.map(|c| Value::from(c.to_string())).unwrap_or(Value::Null)
            }
            Value::List(l) => (if name == "first" { l.first() } else { l.last() })
                .cloned()
                .unwrap_or(Value::Null),
            Value::Map(m) => (if name == "first" {
                m.values().next()
            } else {
                m.values().last()
            })
            .cloned()
            .unwrap_or(Value::Null),
            other => other.clone(),
        },
        "slice" => {
            let len = match input {
                Value::String(s) => s.chars().count(),
                Value::List(l) => l.len(),
                Value::Null => return Ok(Some(Value::Null)),
                other => {
                    return Err(CallError::ty(format!(
                        "filter `slice` needs a string or a list, not a {}",
                        other.kind()
                    )));
                }
            } as i64;
            let from = args.long("fromIndex")?.unwrap_or(0);
            let to = args.long("toIndex")?.unwrap_or(len);
            if from < 0 || to > len || from > to {
                return Err(CallError::runtime(format!(
                    "slice({from}, {to}) is out of bounds for length {len}"
                )));
            }
            let (f, t) = (from as usize, to as usize);
            match input {
                Value::String(s) => Value::from(s.chars().skip(f).take(t - f).collect::<String>()),
                Value::List(l) => Value::from(l[f..t].to_vec()),
                _ => Value::Null,
            }
        }
        "join" => {
            let sep = args.str("separator")?.unwrap_or_default();
            match input {
                Value::Null => Value::Null,
                Value::List(l) => Value::from(
                    l.iter()
                        .map(|x| x.to_java_string())
                        .collect::<Vec<_>>()
                        .join(&sep),
                ),
                other => Value::from(other.to_java_string()),
            }
        }
        "sort" | "rsort" => {
            let mut l = list(name, input)?;
            let mut err = None;
            l.sort_by(|a, b| {
                order(a, b).unwrap_or_else(|| {
                    err = Some(format!(
                        "filter `{name}` cannot compare a {} with a {}",
                        a.kind(),
                        b.kind()
                    ));
                    Ordering::Equal
                })
            });
            if let Some(e) = err {
                return Err(CallError::ty(e));
            }
            if name == "rsort" {
                l.reverse();
            }
            Value::from(l)
        }
        "reverse" => match input {
            Value::String(s) => Value::from(s.chars().rev().collect::<String>()),
            Value::Null => Value::Null,
            _ => {
                let mut l = list(name, input)?;
                l.reverse();
                Value::from(l)
            }
        },
        "merge" => {
            let other = args.get("items").cloned().unwrap_or(Value::Null);
            match (input, &other) {
                (Value::Map(a), Value::Map(b)) => {
                    let mut m = (**a).clone();
                    for (k, v) in b.iter() {
                        m.insert(k.clone(), v.clone());
                    }
                    Value::from(m)
                }
                (Value::List(a), Value::List(b)) => {
                    Value::from(a.iter().chain(b.iter()).cloned().collect::<Vec<_>>())
                }
                (Value::List(a), Value::Map(b)) => {
                    let mut v = (**a).clone();
                    v.extend(b.iter().map(|(k, x)| {
                        Value::from([(k.clone(), x.clone())].into_iter().collect::<Map>())
                    }));
                    Value::from(v)
                }
                _ => {
                    return Err(CallError::ty(format!(
                        "filter `merge` merges two maps or two lists, not a {} and a {}",
                        input.kind(),
                        other.kind()
                    )));
                }
            }
        }
        "keys" => match input {
            Value::Map(m) => Value::from(
                m.keys()
                    .map(|k| Value::from(k.as_str()))
                    .collect::<Vec<_>>(),
            ),
            Value::List(l) => Value::from((0..l.len() as i64).map(Value::Long).collect::<Vec<_>>()),
            Value::Null => Value::Null,
            other => {
                return Err(CallError::ty(format!(
                    "filter `keys` needs a map or a list, not a {}",
                    other.kind()
                )));
            }
        },
        "values" => match input {
            Value::Map(m) => Value::from(m.values().cloned().collect::<Vec<_>>()),
            Value::Null => Value::Null,
            other => {
                return Err(CallError::ty(format!(
                    "filter `values` needs a map, not a {}",
                    other.kind()
                )));
            }
        },
        "chunk" => {
            let size = args.req_long("size")?;
            if size <= 0 {
                return Err(CallError::runtime("filter `chunk`: size must be positive"));
            }
            let l = list(name, input)?;
            Value::from(
                l.chunks(size as usize)
                    .map(|c| Value::from(c.to_vec()))
                    .collect::<Vec<_>>(),
            )
        }
        "distinct" => {
            let l = list(name, input)?;
            let mut out: Vec<Value> = Vec::new();
            for x in l {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            Value::from(out)
        }
        "flatten" => match input {
            Value::List(l) => {
                let mut out = Vec::new();
                for x in l.iter() {
                    match x {
                        Value::List(inner) => out.extend(inner.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                }
                Value::from(out)
            }
            Value::Map(m) => {
                let sep = args.str("separator")?.unwrap_or_else(|| ".".into());
                let mut out = Map::new();
                flatten_map("", m, &sep, &mut out);
                Value::from(out)
            }
            Value::Null => Value::Null,
            other => {
                return Err(CallError::ty(format!(
                    "filter `flatten` needs a list or a map, not a {}",
                    other.kind()
                )));
            }
        },
        "abs" => match input {
            Value::Long(n) => Value::Long(n.wrapping_abs()),
            Value::Double(d) => Value::Double(d.abs()),
            Value::String(_) => match crate::pebble::eval::to_number(input)? {
                Value::Long(n) => Value::Long(n.wrapping_abs()),
                Value::Double(d) => Value::Double(d.abs()),
                other => other,
            },
            other => {
                return Err(CallError::ty(format!(
                    "filter `abs` needs a number, not a {}",
                    other.kind()
                )));
            }
        },
        "number" => number(input, args.str("type")?.as_deref())?,
        "className" => input.class_name().map(Value::from).unwrap_or(Value::Null),
        "string" => match input {
            Value::Null => Value::Null,
            other => Value::from(other.to_java_string()),
        },
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn list(name: &str, v: &Value) -> CallResult<Vec<Value>> {
    match v {
        Value::List(l) => Ok((**l).clone()),
        Value::Null => Ok(Vec::new()),
        other => Err(CallError::ty(format!(
            "filter `{name}` needs a list, not a {}",
            other.kind()
        ))),
    }
}

/// Java's natural order between comparable values of one kind.
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Long(x), Value::Long(y)) => Some(x.cmp(y)),
        (Value::Long(_) | Value::Double(_), Value::Long(_) | Value::Double(_)) => {
            let f = |v: &Value| match v {
                Value::Long(n) => *n as f64,
                Value::Double(d) => *d,
                _ => 0.0,
            };
            f(a).partial_cmp(&f(b))
        }
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn flatten_map(prefix: &str, m: &Map, sep: &str, out: &mut Map) {
    for (k, v) in m.iter() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}{sep}{k}")
        };
        match v {
            Value::Map(inner) => flatten_map(&key, inner, sep, out),
            other => {
                out.insert(key, other.clone());
            }
        }
    }
}

/// Kestra's `number` filter: text to a number; `type` INT, LONG, FLOAT, DOUBLE, BIGDECIMAL,
/// BIGINTEGER; without it an integer when it has no fraction, else a double.
fn number(input: &Value, ty: Option<&str>) -> CallResult<Value> {
    let n = match input {
        Value::Long(_) | Value::Double(_) => input.clone(),
        Value::String(s) => {
            let t = s.trim();
            if let Ok(n) = t.parse::<i64>() {
                Value::Long(n)
            } else if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Value::Long(
                    i64::from_str_radix(h, 16)
                        .map_err(|_| CallError::runtime(format!("`{s}` is not a number")))?,
                )
            } else {
                Value::Double(
                    t.parse::<f64>()
                        .map_err(|_| CallError::runtime(format!("`{s}` is not a number")))?,
                )
            }
        }
        Value::Null => return Ok(Value::Null),
        other => {
            return Err(CallError::ty(format!(
                "filter `number` needs a string, not a {}",
                other.kind()
            )));
        }
    };
    let as_f = |v: &Value| match v {
        Value::Long(n) => *n as f64,
        Value::Double(d) => *d,
        _ => 0.0,
    };
    Ok(match ty.map(|t| t.to_ascii_uppercase()) {
        None => n,
        Some(t) => match t.as_str() {
            "INT" | "INTEGER" | "LONG" | "BIGINTEGER" => Value::Long(as_f(&n) as i64).pipe_long(&n),
            "FLOAT" | "DOUBLE" | "BIGDECIMAL" => Value::Double(as_f(&n)),
            other => {
                return Err(CallError::runtime(format!(
                    "filter `number`: unknown type `{other}` (INT, LONG, FLOAT, DOUBLE, BIGDECIMAL, BIGINTEGER)"
                )));
            }
        },
    })
}

trait PipeLong {
    fn pipe_long(self, orig: &Value) -> Value;
}
impl PipeLong for Value {
    /// Keeps a long's exact value (no round trip through f64).
    fn pipe_long(self, orig: &Value) -> Value {
        if let Value::Long(n) = orig {
            Value::Long(*n)
        } else {
            self
        }
    }
}
