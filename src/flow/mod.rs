//! Flow files: reading Kestra YAML into the typed model, with every error at file:line:col.

pub mod decode;
pub mod input_types;
pub mod limits;
pub mod model;
pub mod reader;
pub mod runner_values;
pub mod spec;
pub mod yaml;

pub use decode::{Loaded, load};
pub use model::Flow;
