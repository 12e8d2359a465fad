//! `kv.Set`, `kv.Get`, `kv.Delete` and `kv.GetKeys` on the local store (`crate::kv_store`),
//! in the flow's namespace unless the task names one. Failures are worded as Kestra's.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Done;
use crate::exec::Runtime;
use crate::flow::core_task::{CoreTask, KvType};
use crate::kv_store::{Found, KvStore};
use crate::plan::scope::TextRenderer;

/// A rendered text value stored as `kvType` says (Kestra's `Set`): a number or JSON parsed,
/// a boolean as Java's `parseBoolean`, dates and durations checked and kept as text.
pub(super) fn typed(text: String, ty: Option<KvType>) -> Result<Json, String> {
    Ok(match ty {
        None | Some(KvType::String) => Json::String(text),
        Some(KvType::Number) => match serde_json::from_str::<Json>(text.trim()) {
            Ok(n @ Json::Number(_)) => n,
            _ => return Err(format!("`{text}` is not a number (kvType NUMBER)")),
        },
        Some(KvType::Boolean) => Json::Bool(text.eq_ignore_ascii_case("true")),
        Some(KvType::Json) => serde_json::from_str(&text)
            .map_err(|e| format!("`{text}` is not JSON (kvType JSON): {e}"))?,
        Some(KvType::DateTime | KvType::Date) => {
            chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|e| {
                format!("`{text}` is not an instant such as 2024-01-15T10:30:00Z: {e}")
            })?;
            Json::String(text)
        }
        Some(KvType::Duration) => {
            crate::units::parse_duration(text.trim())?;
            Json::String(text)
        }
    })
}

fn missing(key: &str, ns: &str) -> String {
    format!(
        "No value found for key '{key}' in namespace '{ns}' and `errorOnMissing` is set to true"
    )
}

fn one(name: &str, v: Json) -> Done {
    Done::with_outputs(BTreeMap::from([(name.to_string(), v)]))
}

/// Does a kv task; `flow_ns` is the namespace used without `namespace`.
pub(super) fn kv(
    rt: &Runtime,
    flow_ns: &str,
    task: &CoreTask,
    r: &mut TextRenderer,
) -> Result<Done, String> {
    let Some(store) = &rt.kv else {
        return Ok(Done::failed("no KV store in this run"));
    };
    let ns = |n: &Option<String>, r: &mut TextRenderer| -> Result<String, String> {
        n.as_deref().map_or(Ok(flow_ns.to_string()), |n| r.text(n))
    };
    let done = |res: Result<Done, String>| res.unwrap_or_else(Done::failed);
    Ok(match task {
        CoreTask::KvSet {
            namespace,
            key,
            value,
            kv_type,
            overwrite,
            ttl,
        } => {
            let (ns, key) = (ns(namespace, r)?, r.text(key)?);
            let value = match value {
                Json::String(s) => typed(r.text(s)?, *kv_type),
                other => r.json(other),
            };
            done(value.and_then(|v| {
                store.set(&ns, &key, v, *overwrite, *ttl)?;
                Ok(Done::success())
            }))
        }
        CoreTask::KvGet {
            namespace,
            key,
            error_on_missing,
        } => {
            let (ns, key) = (ns(namespace, r)?, r.text(key)?);
            done(get(store, &ns, &key, *error_on_missing))
        }
        CoreTask::KvDelete {
            namespace,
            key,
            error_on_missing,
        } => {
            let (ns, key) = (ns(namespace, r)?, r.text(key)?);
            done(store.delete(&ns, &key).and_then(|deleted| {
                if *error_on_missing && !deleted {
                    return Err(missing(&key, &ns));
                }
                Ok(one("deleted", Json::Bool(deleted)))
            }))
        }
        CoreTask::KvGetKeys { namespace, prefix } => {
            let ns = ns(namespace, r)?;
            let prefix = prefix.as_deref().map(|p| r.text(p)).transpose()?;
            done(
                store
                    .keys(&ns, prefix.as_deref())
                    .map(|k| one("keys", Json::from(k))),
            )
        }
        other => unreachable!("not a kv task: {other:?}"),
    })
}

fn get(store: &KvStore, ns: &str, key: &str, error_on_missing: bool) -> Result<Done, String> {
    match store.get(ns, key)? {
        Found::Value(v) => Ok(one("value", v)),
        // Kestra removes an expired entry as it is read and fails the read.
        Found::Expired => Err("The requested value has expired".into()),
        Found::Missing if error_on_missing => Err(missing(key, ns)),
        Found::Missing => Ok(one("value", Json::Null)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_stored_as_kv_type_says() {
        let t = |s: &str, ty| typed(s.to_string(), ty);
        assert_eq!(t("12", None), Ok(json!("12")));
        assert_eq!(t("12", Some(KvType::String)), Ok(json!("12")));
        assert_eq!(t("12.5", Some(KvType::Number)), Ok(json!(12.5)));
        assert!(t("twelve", Some(KvType::Number)).is_err());
        assert_eq!(t("TRUE", Some(KvType::Boolean)), Ok(json!(true)));
        assert_eq!(t("yes", Some(KvType::Boolean)), Ok(json!(false)));
        assert_eq!(t(r#"{"a":[1]}"#, Some(KvType::Json)), Ok(json!({"a": [1]})));
        assert!(t("{", Some(KvType::Json)).is_err());
        assert_eq!(
            t("2024-01-15T10:30:00Z", Some(KvType::DateTime)),
            Ok(json!("2024-01-15T10:30:00Z"))
        );
        assert!(t("yesterday", Some(KvType::Date)).is_err());
        assert_eq!(t("PT5M", Some(KvType::Duration)), Ok(json!("PT5M")));
        assert!(t("5 minutes", Some(KvType::Duration)).is_err());
    }
}
