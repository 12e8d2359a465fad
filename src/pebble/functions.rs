//! Functions (`name(args)`): Pebble's `max`, `min`, `range` and Kestra's. Everything that needs
//! the outside world (secrets, KV, files, logs, clock, randomness) goes through the [`Host`];
//! `secret()` results are tainted.
//!
//! [`Host`]: super::host::Host

use super::ast::Span;
use super::error::ErrorKind;
use super::eval::{Bound, CallError, CallResult, Eval, Tv, range};
use super::filters::{self};
use super::value::{Map, Value};

pub fn call(ev: &mut Eval, name: &str, args: &Bound, span: &Span) -> CallResult<Tv> {
    let host = |m: String| CallError::new(ErrorKind::Host, m);
    let v = match name {
        "max" | "min" => {
            let mut best: Option<Value> = None;
            for v in &args.rest {
                let better = match &best {
                    None => true,
                    Some(b) => match filters::order_of(v, b) {
                        Some(o) => {
                            (o == std::cmp::Ordering::Greater) == (name == "max")
                                && o != std::cmp::Ordering::Equal
                        }
                        None => {
                            return Err(CallError::ty(format!(
                                "`{name}` cannot compare a {} with a {}",
                                v.kind(),
                                b.kind()
                            )));
                        }
                    },
                };
                if better {
                    best = Some(v.clone());
                }
            }
            best.unwrap_or(Value::Null)
        }
        "range" => {
            let inc = args.long("increment")?.unwrap_or(1);
            range(
                args.get("start").unwrap_or(&Value::Null),
                args.get("end").unwrap_or(&Value::Null),
                inc,
            )?
        }
        "now" => {
            let zone = filters::zone_of(ev, args)?;
            let fmt = args.str("format")?.unwrap_or_else(|| "iso".into());
            let z = super::datetime::at(ev.host.now(), zone);
            Value::from(super::datetime::format(&z, &fmt).map_err(CallError::runtime)?)
        }
        "secret" => {
            let key = args.req_str("key")?;
            let s = ev.host.secret(&key).map_err(host)?;
            if !s.is_empty() && !ev.secrets.contains(&s) {
                ev.secrets.push(s.clone());
            }
            return Ok((Value::from(s), true));
        }
        "kv" => {
            let key = args.req_str("key")?;
            let ns = args.str("namespace")?;
            match ev.host.kv(&key, ns.as_deref()).map_err(host)? {
                Some(v) => v,
                None if args.bool("errorOnMissing")?.unwrap_or(true) => {
                    return Err(host(format!("KV key `{key}` does not exist")));
                }
                None => Value::Null,
            }
        }
        "read" => Value::from(ev.host.read(&args.req_str("path")?).map_err(host)?),
        "fileExists" | "fileSize" | "isFileEmpty" | "fileURI" => {
            let (path, ns) = (args.req_str("path")?, args.str("namespace")?);
            let ns = ns.as_deref();
            match name {
                "fileExists" => Value::Bool(ev.host.file_exists(&path, ns).map_err(host)?),
                "fileSize" => Value::Long(ev.host.file_size(&path, ns).map_err(host)? as i64),
                "isFileEmpty" => Value::Bool(ev.host.file_size(&path, ns).map_err(host)? == 0),
                _ => Value::from(ev.host.file_uri(&path, ns).map_err(host)?),
            }
        }
        "errorLogs" => Value::from(ev.host.error_logs().map_err(host)?),
        "currentEachOutput" => current_each_output(ev, args)?,
        "render" | "renderOnce" => {
            let recursive = name == "render" && args.bool("recursive")?.unwrap_or(true);
            let v = args.get("toRender").cloned().unwrap_or(Value::Null);
            return render_value(ev, &v, recursive, span);
        }
        "fromJson" | "json" => match args.get("json") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => Value::from_json(s)
                .map_err(|e| CallError::runtime(format!("fromJson: not valid JSON: {e}")))?,
            Some(other) => other.clone(),
        },
        "yaml" => match args.get("yaml") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => from_yaml(s)?,
            Some(other) => other.clone(),
        },
        "uuid" => {
            let (a, b) = (ev.host.random(), ev.host.random());
            let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
            let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
            Value::from(format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xFFFF,
                a & 0xFFFF,
                b >> 48,
                b & 0xFFFF_FFFF_FFFF
            ))
        }
        "id" => {
            // Kestra's IdUtils: a random UUID in base 62 (22 characters).
            let n = ((ev.host.random() as u128) << 64) | ev.host.random() as u128;
            Value::from(base62(n, 22))
        }
        "ksuid" => {
            let ts = (ev.host.now().timestamp() - 1_400_000_000).max(0) as u128;
            let payload = ((ev.host.random() as u128) << 64) | ev.host.random() as u128;
            // 4 bytes of time then 16 random bytes, base 62, 27 characters.
            let hi = base62_big(ts, payload);
            Value::from(hi)
        }
        "randomInt" => {
            // Kestra refuses strings here (RandomIntFunctionTest).
            let num = |n: &str| match args.get(n) {
                Some(Value::Long(v)) => Ok(*v),
                Some(Value::Double(v)) => Ok(*v as i64),
                other => Err(CallError::ty(format!(
                    "randomInt: `{n}` must be a number, not {}",
                    other.map(Value::kind).unwrap_or("missing")
                ))),
            };
            let lo = num("lower")?;
            let hi = num("upper")?;
            if hi <= lo {
                return Err(CallError::runtime(format!(
                    "randomInt: upper ({hi}) must be greater than lower ({lo})"
                )));
            }
            let span_n = (hi as i128 - lo as i128) as u128;
            Value::Long((lo as i128 + (ev.host.random() as u128 % span_n) as i128) as i64)
        }
        "randomPort" => Value::Long(ev.host.random_port().map_err(host)? as i64),
        other => {
            return Err(CallError::new(
                ErrorKind::NotImplemented,
                format!("function `{other}` is not implemented"),
            ));
        }
    };
    Ok((v, false))
}

/// Kestra's limit on re-rendering a value until it stops changing.
const MAX_RENDERING_AMOUNT: usize = 100;

/// Renders the strings in `v` (inside lists and maps too), again and again while they change
/// when `recursive` (Kestra's `renderObject`).
fn render_value(ev: &mut Eval, v: &Value, recursive: bool, span: &Span) -> CallResult<Tv> {
    match v {
        Value::String(s) => {
            let mut cur = s.to_string();
            let mut secret = false;
            for _ in 0..MAX_RENDERING_AMOUNT {
                let (next, t) = ev
                    .render_string(&cur, span)
                    .map_err(|e| CallError::new(e.kind, e.message))?;
                secret |= t;
                let next = next.to_output();
                if !recursive || next == cur {
                    return Ok((Value::from(next), secret));
                }
                cur = next;
            }
            Err(CallError::new(
                ErrorKind::Limit,
                format!(
                    "Too many rendering attempts ({MAX_RENDERING_AMOUNT}): the value keeps changing"
                ),
            ))
        }
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            let mut secret = false;
            for x in l.iter() {
                let (y, t) = render_value(ev, x, recursive, span)?;
                secret |= t;
                out.push(y);
            }
            Ok((Value::from(out), secret))
        }
        Value::Map(m) => {
            let mut out = Map::new();
            let mut secret = false;
            for (k, x) in m.iter() {
                let (y, t) = render_value(ev, x, recursive, span)?;
                secret |= t;
                out.insert(k.clone(), y);
            }
            Ok((Value::from(out), secret))
        }
        other => Ok((other.clone(), false)),
    }
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut n: u128, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        out.push(B62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Base 62 of the 160-bit number `hi << 128 | lo` (a KSUID), 27 characters.
fn base62_big(hi: u128, lo: u128) -> String {
    // Little-endian 32-bit limbs of the 160-bit number.
    let mut limbs: Vec<u64> = vec![
        (lo & 0xFFFF_FFFF) as u64,
        ((lo >> 32) & 0xFFFF_FFFF) as u64,
        ((lo >> 64) & 0xFFFF_FFFF) as u64,
        ((lo >> 96) & 0xFFFF_FFFF) as u64,
        (hi & 0xFFFF_FFFF) as u64,
    ];
    let mut out = Vec::new();
    while limbs.iter().any(|l| *l != 0) {
        let mut rem = 0u64;
        for l in limbs.iter_mut().rev() {
            let cur = (rem << 32) | *l;
            *l = cur / 62;
            rem = cur % 62;
        }
        out.push(B62[rem as usize]);
    }
    while out.len() < 27 {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// YAML text to a value (Kestra's `yaml()` function).
pub fn from_yaml(s: &str) -> CallResult<Value> {
    let docs = yaml_rust2::YamlLoader::load_from_str(s)
        .map_err(|e| CallError::runtime(format!("yaml: not valid YAML: {e}")))?;
    Ok(docs.first().map(yaml_value).unwrap_or(Value::Null))
}

fn yaml_value(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(r) => r
            .parse::<f64>()
            .map(Value::Double)
            .unwrap_or_else(|_| Value::from(r.as_str())),
        Yaml::Integer(i) => Value::Long(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::from(a.iter().map(yaml_value).collect::<Vec<_>>()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    other => yaml_value(other).to_java_string(),
                };
                m.insert(key, yaml_value(v));
            }
            Value::from(m)
        }
        _ => Value::Null,
    }
}

/// Kestra's `currentEachOutput(outputs.T)`: T's outputs for the ForEach values this run is
/// in, `outputs.T[V1]...[Vn]`, the values taken from `parents` (outermost first) then
/// `taskrun.value`; null where a level is missing, as Kestra's map lookups give.
fn current_each_output(ev: &Eval, args: &Bound) -> CallResult<Value> {
    let Some(Value::Map(outputs)) = args.get("outputs") else {
        return Err(CallError::ty(
            "The 'currentEachOutput' function expects an argument 'outputs' with type map.",
        ));
    };
    let value_of = |run: &Value| match run {
        Value::Map(m) => match m.get("taskrun") {
            Some(Value::Map(t)) => t.get("value").cloned(),
            _ => None,
        },
        _ => None,
    };
    let mut values: Vec<Value> = match ev.lookup("parents") {
        Some((Value::List(ps), _)) => ps.iter().rev().filter_map(value_of).collect(),
        _ => Vec::new(),
    };
    if let Some((Value::Map(t), _)) = ev.lookup("taskrun") {
        values.push(t.get("value").cloned().unwrap_or(Value::Null));
    }
    let mut at = Value::Map(outputs.clone());
    for v in values {
        at = match (&at, v.as_str()) {
            (Value::Map(m), Some(k)) => m.get(k).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        };
    }
    Ok(at)
}
