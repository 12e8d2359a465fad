//! How deep Subflow executions may nest at run time. Validation stops a chain of subflows
//! whose names are written in the flows at [`MAX_DEPTH`] (`flow::subflows`); a Subflow whose
//! `namespace` or `flowId` is rendered when it runs (from an input, `taskrun.value`, ...) is
//! only known then, and a flow calling itself that way would start child executions without
//! end. The same limit applies to it when the task runs: the task fails, naming the chain.
//! (Kestra itself sets no limit; dockhand runs every child in its one process.)

use crate::flow::subflows::MAX_DEPTH;

/// May a Subflow task of flow `current` start flow `child`, where `above` are the flows of the
/// executions above `current` (root first)? `Err` is the task's message, naming the chain.
/// Pure.
pub fn check(above: &[String], current: &str, child: &str) -> Result<(), String> {
    // `above` and `current` are the subflow hops made so far, plus one for the root.
    if above.len() < MAX_DEPTH {
        return Ok(());
    }
    let chain: Vec<&str> = above
        .iter()
        .map(String::as_str)
        .chain([current, child])
        .collect();
    Err(format!(
        "subflows nest more than {MAX_DEPTH} deep: {} (does a flow call itself?)",
        chain.join(" -> ")
    ))
}

/// The environment variable that hands a detached child execution (`wait: false`, its own
/// `dockhand resume`) the flows above it, separated by spaces (no flow name holds one).
pub const CHAIN_VAR: &str = "DOCKHAND_SUBFLOW_CHAIN";

/// The chain [`CHAIN_VAR`]'s value names (none when it is not set).
pub fn chain_from(var: Option<&str>) -> Vec<String> {
    var.unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The chain a child of `current` runs under: `above` and `current`.
pub fn chain_of_child(above: &[String], current: &str) -> Vec<String> {
    let mut chain = above.to_vec();
    chain.push(current.to_string());
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("dev.f{i}")).collect()
    }

    /// (flows above the current one, allowed?): the root is depth 1, as validation counts, so
    /// the tenth hop is allowed and the eleventh is not.
    #[test]
    fn the_run_time_limit_is_the_validation_limit() {
        let rows = [
            (0, true),
            (1, true),
            (MAX_DEPTH - 1, true),
            (MAX_DEPTH, false),
            (MAX_DEPTH + 5, false),
        ];
        for (above, ok) in rows {
            let got = check(&names(above), "dev.cur", "dev.child");
            assert_eq!(got.is_ok(), ok, "{above} above: {got:?}");
        }
    }

    #[test]
    fn the_message_names_the_chain_root_first() {
        let e = check(&names(MAX_DEPTH), "dev.cur", "dev.child").unwrap_err();
        assert!(
            e.starts_with(&format!(
                "subflows nest more than {MAX_DEPTH} deep: dev.f0 -> dev.f1 -> "
            )),
            "{e}"
        );
        assert!(
            e.contains("dev.f9 -> dev.cur -> dev.child (does a flow call itself?)"),
            "{e}"
        );
        assert_eq!(
            chain_of_child(&names(2), "dev.cur"),
            ["dev.f0", "dev.f1", "dev.cur"]
        );
        let passed = chain_of_child(&names(2), "dev.cur").join(" ");
        assert_eq!(chain_from(Some(&passed)), ["dev.f0", "dev.f1", "dev.cur"]);
        assert!(chain_from(None).is_empty() && chain_from(Some("")).is_empty());
    }
}
