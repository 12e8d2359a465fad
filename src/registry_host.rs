//! The one rule for a registry address as `insecure-registries` lists it (`host[:port]`,
//! `[ipv6]:port`, or a CIDR): the flow reader checks a runner `config` with it, the `registry`
//! commands check their arguments with it, and the schema shows it. A low-level module, so
//! that neither `flow` nor `registry` reaches into the other.

use std::sync::LazyLock;

use regex::Regex;

pub const REGEX: &str = r"^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?(/[0-9]{1,3})?$";

/// The rule in words, for messages and the schema.
pub const RULE: &str = "HOST[:PORT], such as 10.10.1.5:5000";

static COMPILED: LazyLock<Regex> = LazyLock::new(|| Regex::new(REGEX).expect("a valid pattern"));

/// Is `s` shaped like a registry address?
pub fn is_match(s: &str) -> bool {
    COMPILED.is_match(s)
}

/// `s` as a registry address, or why not.
pub fn check(s: &str) -> Result<(), String> {
    if is_match(s) {
        Ok(())
    } else {
        Err(format!("`{s}` is not a registry address (HOST:PORT)"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_told_from_urls() {
        for ok in [
            "10.10.1.5:5000",
            "registry.local",
            "[fd00::1]:5000",
            "10.0.0.0/8",
        ] {
            assert!(super::check(ok).is_ok(), "{ok}");
        }
        for bad in ["http://x", "a..b", "-a:1", ""] {
            assert!(super::check(bad).is_err(), "{bad}");
        }
    }
}
