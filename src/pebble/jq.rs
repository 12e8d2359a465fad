//! The `jq` filter with a real jq implementation (the jaq crates). As in Kestra, the input is
//! the value (a string is parsed as JSON first) and the result is always the list of all
//! outputs, hence the common `| jq('.x') | first`.

use super::eval::{CallError, CallResult};
use super::value::Value;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

pub fn filter(input: &Value, program: &str) -> CallResult<Value> {
    let json = match input {
        // Kestra reads a string input as JSON text (e.g. a task's JSON output).
        Value::String(s) => match Value::from_json(s) {
            Ok(_) => s.to_string(),
            Err(_) => input.to_json(),
        },
        other => other.to_json(),
    };
    let val = jaq_json::read::parse_single(json.as_bytes())
        .map_err(|e| CallError::runtime(format!("jq: bad input: {e}")))?;
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(
            &arena,
            File {
                code: program,
                path: (),
            },
        )
        .map_err(|errs| {
            CallError::runtime(format!("jq: cannot parse `{program}`: {}", describe(&errs)))
        })?;
    let f = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            CallError::runtime(format!(
                "jq: cannot compile `{program}`: {} error(s)",
                errs.len()
            ))
        })?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&f.lut, Vars::new([]));
    let mut out = Vec::new();
    for (i, r) in f.id.run((ctx, val)).map(unwrap_valr).enumerate() {
        if i >= 1_000_000 {
            return Err(CallError::runtime("jq: more than 1,000,000 results"));
        }
        let v = r.map_err(|e| CallError::runtime(format!("jq `{program}`: {e}")))?;
        let text = v.to_string();
        out.push(Value::from_json(&text).unwrap_or(Value::from(text)));
    }
    Ok(Value::from(out))
}

fn describe<T: std::fmt::Debug>(errs: &T) -> String {
    let s = format!("{errs:?}");
    if s.len() > 200 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(200).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}
