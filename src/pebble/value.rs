//! The values a template computes with, as Pebble sees Kestra's Java objects: null, booleans,
//! longs and doubles (kept apart, as Java's `Long` and `Double`), strings, lists and ordered maps
//! (Kestra's `LinkedHashMap`). Also how a value is printed into the output (Kestra's
//! `JsonWriter`: maps and lists as compact JSON, doubles as Java's `Double.toString`) and how
//! JSON text becomes a value with its key order kept.

use indexmap::IndexMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// An ordered map, as Kestra's `LinkedHashMap`.
pub type Map = IndexMap<String, Value>;

/// A template value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    String(Rc<str>),
    List(Rc<Vec<Value>>),
    Map(Rc<Map>),
}

impl PartialEq for Value {
    /// Java's `equals` as Pebble's `==` uses it: numbers compare by value across long/double.
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Long(a), Long(b)) => a == b,
            (Long(a), Double(b)) | (Double(b), Long(a)) => (*a as f64) == *b,
            (Double(a), Double(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v)),
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(Rc::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Rc::from(s))
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Long(n)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Double(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(Rc::new(v))
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(Rc::new(m))
    }
}

impl From<&serde_json::Value> for Value {
    /// From serde_json (note: serde_json without `preserve_order` has sorted its keys already;
    /// use [`Value::from_json`] to keep a document's order).
    fn from(j: &serde_json::Value) -> Self {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Long(i),
                None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(a) => {
                Value::from(a.iter().map(Value::from).collect::<Vec<_>>())
            }
            serde_json::Value::Object(o) => Value::from(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from(v)))
                    .collect::<Map>(),
            ),
        }
    }
}

impl Value {
    /// Java's class name, as Kestra's `className` filter prints it (dockhand's numbers are
    /// `Long` or `Double`; Kestra may also have `Integer`, `Float`, `BigDecimal`).
    pub fn class_name(&self) -> Option<&'static str> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => "java.lang.Boolean",
            Value::Long(_) => "java.lang.Long",
            Value::Double(_) => "java.lang.Double",
            Value::String(_) => "java.lang.String",
            Value::List(_) => "java.util.ArrayList",
            Value::Map(_) => "java.util.LinkedHashMap",
        })
    }

    /// A short name of the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Long(_) => "integer",
            Value::Double(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Pebble's truthiness for `if`, `and`, `or`, `not` (its `TypeUtils.compatibleCast` to
    /// boolean): booleans as they are, null is false, numbers are true unless zero, strings are
    /// true unless empty or "false"; lists and maps are true unless empty.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Long(n) => *n != 0,
            Value::Double(d) => *d != 0.0,
            Value::String(s) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// The text this value prints as in a template's output (Kestra's `JsonWriter`).
    pub fn to_output(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::String(s) => s.to_string(),
            Value::List(_) | Value::Map(_) => self.to_json(),
            _ => self.to_java_string(),
        }
    }

    /// Java's `String.valueOf`, where maps and lists appear as Kestra prints them (JSON).
    pub fn to_java_string(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Long(n) => n.to_string(),
            Value::Double(d) => java_double(*d),
            Value::String(s) => s.to_string(),
            Value::List(_) | Value::Map(_) => self.to_json(),
        }
    }

    /// Compact JSON, as Jackson writes it.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out, None, 0);
        out
    }

    /// Indented JSON, as Jackson's default pretty printer writes it.
    pub fn to_json_pretty(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out, Some(2), 0);
        out
    }

    /// Parses JSON text keeping the order of object keys.
    pub fn from_json(text: &str) -> Result<Value, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        let v = serde::Deserialize::deserialize(&mut de)
            .map_err(|e: serde_json::Error| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        Ok(v)
    }
}

/// Java's `Double.toString`: shortest digits that round-trip, plain between 10^-3 and 10^7,
/// otherwise computerized scientific notation (`1.0E10`).
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = d.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{d}");
        if s.contains('.') { s } else { s + ".0" }
    } else {
        // `{:e}` gives the shortest round-trip mantissa, e.g. "1.234e-5".
        let s = format!("{d:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

fn write_json(v: &Value, out: &mut String, indent: Option<usize>, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Long(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Double(d) => {
            if d.is_finite() {
                out.push_str(&java_double(*d));
            } else {
                // Jackson writes non-finite doubles as quoted strings ("NaN").
                json_string(&java_double(*d), out);
            }
        }
        Value::String(s) => json_string(s, out),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str(if indent.is_some() { "[ ]" } else { "[]" });
                return;
            }
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_json(x, out, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str(if indent.is_some() { "{ }" } else { "{}" });
                return;
            }
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                json_string(k, out);
                out.push_str(if indent.is_some() { " : " } else { ":" });
                write_json(x, out, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(n) = indent {
        out.push('\n');
        for _ in 0..n * depth {
            out.push(' ');
        }
    }
}

/// A JSON string literal as Jackson escapes it.
pub fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Long(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
                Ok(i64::try_from(n)
                    .map(Value::Long)
                    .unwrap_or(Value::Double(n as f64)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
                Ok(Value::Double(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::from(s))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::from(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Value::from(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut m = Map::new();
                while let Some((k, v)) = a.next_entry::<String, Value>()? {
                    m.insert(k, v);
                }
                Ok(Value::from(m))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.1), "0.1");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-4), "1.5E-4");
        assert_eq!(java_double(123456.789), "123456.789");
        assert_eq!(java_double(-2.5e20), "-2.5E20");
    }

    #[test]
    fn json_keeps_key_order() {
        let v = Value::from_json(r#"{"b":1,"a":[1.5,"x",null,true]}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"b":1,"a":[1.5,"x",null,true]}"#);
    }
}
