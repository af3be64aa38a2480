//! Subscription measurements (reference 08 §3): record one usage or quantity value (204), a
//! batch of values (202), and read one value. Aggregation per billing period is in
//! `billing::usage`; the billing engine reads it through `store::usage_for_period`.
//!
//! kontor decisions:
//! - A value targets `subscriptionItem`, or `measurementCode` with `subscription` (id or
//!   number), which stores one row for **every** item of the subscription whose product uses
//!   that measurement. With `subscriptionItem`, a `measurementCode` or `subscription` sent as
//!   well must match the item (422 otherwise).
//! - `quantity` is a JSON number or decimal string, exact (never a float), ≥ 0, up to 10
//!   fractional digits. `measuredAt` defaults to now; the value belongs to the period whose
//!   local dates (tenant time zone) contain it. `id` is the event id `count_unique` counts
//!   distinct; a value without one is its own event.
//! - Batch: `{values: [...]}`, 1 to 1000 values. Every value is checked and resolved before
//!   the answer; any bad value is a 422 naming each one (`values[3].quantity`) and nothing is
//!   stored: a bad value is reported, never dropped. All good: 202 `{accepted, id}`, where
//!   `accepted` counts the values and `id` is the batch id recorded on every stored row.
//!   The rows are written in the request's own transaction (about 4 µs a value, see
//!   `benches/measurements.rs`): once everything is validated and resolved, inserting is the
//!   only work left, and a background worker would contend for the same single write lock and
//!   leave a state to poll. The 202 keeps the reference's contract; clients must not rely on
//!   the values being visible later than the answer, and they are visible at once.
//! - Items of any status accept values (usage reported late for a period already running).
//! - Each request records one outbox event per item touched, with the item's latest value:
//!   `subscription.item.quantity_changed` for `last_value` measurements (the default
//!   `quantity`), `subscription.item.metered` for the others.

pub mod model;
pub mod store;

use crate::domain::ids::new_id;
use crate::error::{ApiError, ApiResult, Violation};
use crate::http::{get, Access, Ctx, Method, Reply, Route};
use model::Entry;
use serde_json::{json, Map, Value};

const READ: Access = Access::Scope("subscription-measurement:read");
const WRITE: Access = Access::Scope("subscription-measurement:write");

/// Well-formed entries, each with its violation path prefix (`values[3].`).
pub type Entries = Vec<(String, Entry)>;

/// Most values one batch may carry (08 §3.3).
pub const MAX_BATCH: usize = 1000;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::Post,
            "/subscription-measurements",
            WRITE,
            204,
            "Record one usage or quantity value",
            record,
        ),
        Route::new(
            Method::Post,
            "/subscription-measurements/batch",
            WRITE,
            202,
            "Record up to 1000 values at once",
            batch,
        ),
        get(
            "/subscription-measurements/{id}",
            READ,
            "One measurement value",
            show,
        ),
    ]
}

/// The body as a JSON object; malformed JSON or another type is a 400, like `Input::parse`.
fn object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(
            "The request body must be a JSON object.".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!("Malformed JSON body: {e}."))),
    }
}

fn record(ctx: &Ctx) -> ApiResult<Reply> {
    let map = object(ctx.body)?;
    let mut violations = Vec::new();
    let entry = model::entry(&map, "", &mut violations);
    let entries: Vec<_> = entry.into_iter().map(|e| (String::new(), e)).collect();
    store::ingest(ctx.tx, ctx.tenant(), &entries, violations, None)?;
    Reply::no_content()
}

/// Parses a batch body into prefixed entries and the violations of the entries that are not
/// well-formed (their references are resolved, and reported, by `store::ingest`). A body
/// that is not `{values: [1 to 1000 values]}` is a 422 at once.
pub fn parse_batch(map: Map<String, Value>) -> ApiResult<(Entries, Vec<Violation>)> {
    let mut violations = Vec::new();
    for key in map.keys().filter(|k| *k != "values") {
        violations.push(Violation::new(
            key.clone(),
            "This field is not allowed.",
            "unknown_field",
        ));
    }
    let values = match map.get("values") {
        Some(Value::Array(values)) if (1..=MAX_BATCH).contains(&values.len()) => values,
        Some(Value::Array(_)) => {
            violations.push(Violation::new(
                "values",
                format!("This collection should contain 1 to {MAX_BATCH} values."),
                "count",
            ));
            return Err(ApiError::Validation(violations));
        }
        _ => {
            violations.push(Violation::new(
                "values",
                "This value should be an array of values.",
                "invalid_type",
            ));
            return Err(ApiError::Validation(violations));
        }
    };
    let mut entries = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let prefix = format!("values[{i}].");
        match value {
            Value::Object(m) => {
                if let Some(e) = model::entry(m, &prefix, &mut violations) {
                    entries.push((prefix, e));
                }
            }
            _ => violations.push(Violation::new(
                format!("values[{i}]"),
                "This value should be an object.",
                "invalid_type",
            )),
        }
    }
    Ok((entries, violations))
}

fn batch(ctx: &Ctx) -> ApiResult<Reply> {
    let (entries, violations) = parse_batch(object(ctx.body)?)?;
    let batch_id = new_id();
    store::ingest(ctx.tx, ctx.tenant(), &entries, violations, Some(&batch_id))?;
    Reply::json(202, &json!({"accepted": entries.len(), "id": batch_id}))
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}
