//! Subscription measurements (reference 08 §3): record one usage or quantity value (204), a
//! batch of values (202), and read one value. Bodies are parsed in `parse`, checked in `model`,
//! stored by `ingest`. Aggregation per billing period is in `billing::usage`; the billing
//! engine reads it through `store::usage_for_period`.
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
//!   `accepted` counts the values and `id` is the batch id (its `measurement_batches` row
//!   covers every stored row). The rows are written in the request's own transaction (about
//!   3 µs a value, see `benches/measurements.rs`): once everything is validated and resolved,
//!   inserting is the only work left, and a background worker would contend for the same
//!   single write lock and leave a state to poll. The 202 keeps the reference's contract; clients must not rely on
//!   the values being visible later than the answer, and they are visible at once.
//! - Items of any status accept values (usage reported late for a period already running).
//! - Each request records one outbox event per item touched, with the item's latest value:
//!   `subscription.item.quantity_changed` for `last_value` measurements (the default
//!   `quantity`), `subscription.item.metered` for the others.
//! - A value's `id` (a UUID v7) is derived from its row, not stored (`store::value_id`,
//!   schema.sql `measurement_values`): the same on every read, and never given to another
//!   value, also after the value was deleted with its item. `measurement` is the item's
//!   product's measurement as it is now, the one billing aggregates the value by.

pub mod ingest;
pub mod model;
pub mod parse;
pub mod resolve;
pub mod store;

use crate::domain::ids::new_id;
use crate::error::{ApiError, ApiResult, Violation};
use crate::http::{get, Access, Ctx, Method, Reply, Route};
use model::Entry;
use parse::{FromMap, RawBatch, RawEntry};
use rusqlite::Connection;
use serde::Serialize;

const READ: Access = Access::Scope("subscription-measurement:read");
const WRITE: Access = Access::Scope("subscription-measurement:write");

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

/// The body as a JSON object of shape `T`; malformed JSON or another type is a 400, like
/// `Input::parse`.
fn object<'a, T: FromMap<'a>>(body: &'a [u8]) -> ApiResult<T> {
    match parse::body(body) {
        Ok(Some(parsed)) => Ok(parsed),
        Ok(None) => Err(ApiError::BadRequest(
            "The request body must be a JSON object.".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!("Malformed JSON body: {e}."))),
    }
}

fn record(ctx: &Ctx) -> ApiResult<Reply> {
    let raw: RawEntry = object(ctx.body)?;
    let mut violations = Vec::new();
    let entries: Vec<Entry> = model::check(raw, None, &mut violations)
        .into_iter()
        .collect();
    ingest::ingest(ctx.tx, ctx.tenant(), &entries, violations, None)?;
    Reply::no_content()
}

/// A parsed batch body: its well-formed entries, and the violations of those that are not
/// (their references are resolved, and reported, by `ingest::ingest`). A body that is not
/// `{values: [1 to 1000 values]}` is a 422 at once, naming only that.
pub fn parse_batch(raw: RawBatch) -> ApiResult<(Vec<Entry>, Vec<Violation>)> {
    let mut violations: Vec<Violation> = raw
        .unknown
        .iter()
        .map(|key| Violation::new(key.as_ref(), "This field is not allowed.", "unknown_field"))
        .collect();
    let values = match raw.values {
        Some(values) if (1..=MAX_BATCH).contains(&values.count) => values,
        Some(_) => {
            violations.push(Violation::new(
                "values",
                format!("This collection should contain 1 to {MAX_BATCH} values."),
                "count",
            ));
            return Err(ApiError::Validation(violations));
        }
        None => {
            violations.push(Violation::new(
                "values",
                "This value should be an array of values.",
                "invalid_type",
            ));
            return Err(ApiError::Validation(violations));
        }
    };
    violations.extend(values.violations);
    Ok((values.entries, violations))
}

/// The answer to an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// How many values the batch carried.
    pub accepted: usize,
    /// The batch id: its `measurement_batches` row covers every stored row.
    pub id: String,
}

/// All of `POST /subscription-measurements/batch` but the HTTP around it: parse, check,
/// resolve, store, outbox. The benchmark calls this too, so it measures the handler's path.
pub fn ingest_batch(conn: &Connection, tenant: &str, body: &[u8]) -> ApiResult<Accepted> {
    let (entries, violations) = parse_batch(object(body)?)?;
    let id = new_id();
    ingest::raise_page_cache(conn)?;
    ingest::ingest(conn, tenant, &entries, violations, Some(&id))?;
    Ok(Accepted {
        accepted: entries.len(),
        id,
    })
}

fn batch(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::json(202, &ingest_batch(ctx.tx, ctx.tenant(), ctx.body)?)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}
