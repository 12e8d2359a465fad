//! The [`pebble::Host`] a plan renders expressions with. The planner reads nothing from the
//! world itself: the executor puts in a host that reads secrets (`SECRET_*` variables); `plan`
//! and `validate`, which run nothing, leave it out and get [`PlanHost`], whose `secret('NAME')`
//! is the stand-in `<secret NAME>` (treated as a secret, so the plan shows where it goes).

use std::fmt;
use std::sync::Arc;

use crate::pebble::Host;

/// The caller's host, shared by the tasks of an execution; none for `plan`.
#[derive(Clone, Default)]
pub struct ExprHost(pub Option<Arc<dyn Host + Send + Sync>>);

impl ExprHost {
    pub fn get(&self) -> &dyn Host {
        match &self.0 {
            Some(h) => h.as_ref(),
            None => &PlanHost,
        }
    }
}

impl fmt::Debug for ExprHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ExprHost(caller's)"
        } else {
            "ExprHost(plan)"
        })
    }
}

impl PartialEq for ExprHost {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Secrets before the run: a stand-in that names the secret.
pub struct PlanHost;

impl Host for PlanHost {
    fn secret(&self, name: &str) -> Result<String, String> {
        Ok(format!("<secret {name}>"))
    }
    /// The KV store is read at run time (an earlier task may set the key): `<kv KEY>`.
    fn kv(
        &self,
        key: &str,
        _namespace: Option<&str>,
    ) -> Result<Option<crate::pebble::Value>, String> {
        Ok(Some(crate::pebble::Value::from(format!("<kv {key}>"))))
    }
    /// Files are read at run time: the plan shows what would be read.
    fn read(&self, path: &str) -> Result<String, String> {
        Ok(format!("<content of {path}>"))
    }
}
