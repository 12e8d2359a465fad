//! Date filters (Kestra's): `date`, `dateAdd`, `timestamp`, `timestampMilli`,
//! `timestampMicro`, `timestampNano`. Inputs and patterns as in [`crate::pebble::datetime`].

use crate::pebble::datetime::{self, Zone};
use crate::pebble::eval::{Bound, CallError, CallResult, Eval};
use crate::pebble::value::Value;
use chrono::{DateTime, Utc};

/// The zone of a call: its `timeZone` argument, else the host's.
pub fn zone_of(ev: &Eval, args: &Bound) -> CallResult<Zone> {
    let id = match args.str("timeZone")? {
        Some(z) => z,
        None => ev.host.time_zone().to_string(),
    };
    datetime::zone(&id).map_err(CallError::runtime)
}

/// The instant a date filter's input stands for.
pub fn instant(input: &Value, args: &Bound, zone: Zone) -> CallResult<DateTime<Utc>> {
    let existing = args.str("existingFormat")?;
    match input {
        Value::Long(s) => DateTime::from_timestamp(*s, 0)
            .ok_or_else(|| CallError::runtime(format!("{s} seconds is out of range"))),
        Value::Double(d) => {
            DateTime::from_timestamp(d.floor() as i64, ((d - d.floor()) * 1e9) as u32)
                .ok_or_else(|| CallError::runtime(format!("{d} seconds is out of range")))
        }
        Value::String(s) => {
            datetime::parse_input(s, existing.as_deref(), zone).map_err(CallError::runtime)
        }
        other => Err(CallError::ty(format!(
            "a date filter needs a date string or epoch seconds, not a {}",
            other.kind()
        ))),
    }
}

pub fn apply(ev: &mut Eval, name: &str, input: &Value, args: &Bound) -> CallResult<Option<Value>> {
    if !matches!(
        name,
        "date" | "dateAdd" | "timestamp" | "timestampMilli" | "timestampMicro" | "timestampNano"
    ) {
        return Ok(None);
    }
    if input.is_null() {
        return Ok(Some(Value::Null));
    }
    let zone = zone_of(ev, args)?;
    let mut t = instant(input, args, zone)?;
    let v = match name {
        "timestamp" => Value::Long(t.timestamp()),
        "timestampMilli" => Value::Long(t.timestamp_millis()),
        "timestampMicro" => Value::Long(t.timestamp_micros()),
        "timestampNano" => Value::Long(
            t.timestamp_nanos_opt()
                .ok_or_else(|| CallError::runtime("date out of range for nanoseconds"))?,
        ),
        _ => {
            if name == "dateAdd" {
                let amount = args.req_long("amount")?;
                let unit = args.req_str("unit")?;
                t = datetime::add(t, zone, amount, &unit).map_err(CallError::runtime)?;
            }
            let format = args.str("format")?.unwrap_or_else(|| "iso".into());
            Value::from(
                datetime::format(&datetime::at(t, zone), &format).map_err(CallError::runtime)?,
            )
        }
    };
    Ok(Some(v))
}
