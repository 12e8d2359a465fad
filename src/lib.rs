//! dockhand runs Kestra flows' script tasks as containers by driving the `docker` or `podman`
//! CLI. Data flows one way: YAML → [`flow`] (typed, validated model) → [`plan`] (engine argv,
//! pure) → [`exec`] (processes, logs, outputs) → result.

// Unsafe code only where a comment says why it is needed (`#[allow(unsafe_code)]` there).
#![deny(unsafe_code)]

// First, so its `eprintln!` (one that never panics) is the one every module below uses.
#[macro_use]
pub mod stderr;

pub mod client_env;
pub mod diag;
pub mod exec;
pub mod exit;
pub mod flow;
pub mod image;
pub mod kv_store;
pub mod machine;
pub mod pebble;
pub mod plan;
pub mod registry;
pub mod registry_host;
pub mod report;
pub mod schema;
pub mod suggest;
pub mod units;
