//! Validation of `customFields` maps against the tenant's definitions (reference 03 §7).
//! The definitions live in `resources/custom_fields`; this is the one check every owner
//! (customers, products, subscriptions) calls.

use crate::error::{ApiResult, Violation};
use rusqlite::Connection;
use serde_json::{Map, Value};

/// The kinds of objects that carry custom fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Customer,
    Product,
    Subscription,
}

/// Violations (propertyPath `customFields.<key>`) for every key of `fields` that has no
/// definition for `entity` or whose value does not fit it.
pub fn validate(
    _conn: &Connection,
    _tenant: &str,
    _entity: Entity,
    _fields: &Map<String, Value>,
) -> ApiResult<Vec<Violation>> {
    // Filled in by the custom-fields slice (issue 3, item 6).
    Ok(Vec::new())
}
