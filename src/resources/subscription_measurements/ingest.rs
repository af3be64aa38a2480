//! Storing measurement values: references resolved by `resolve::Resolver`, then one bulk
//! insert through one prepared statement and one outbox event per item touched.
//!
//! The insert is the hot path of `POST /subscription-measurements/batch` (see
//! `benches/measurements.rs`); what makes it cheap, measured there:
//! - rows go in sorted by (item, measuredAt), so consecutive inserts into the
//!   `(item, measured_at)` index land on the same leaf page instead of one page per row
//!   (values arrive interleaved across items and out of order);
//! - a row is small (schema.sql, `measurement_values`): an integer item key, and the rowid
//!   as identity, handed out ascending from the request's `measurement_batches` row, so the
//!   table only ever appends and there is no id index; tenant, measurement, batch and
//!   creation time are not repeated per row, and no foreign key is checked per row;
//! - only the first row's rowid is given, SQLite numbers the others on from the table's end;
//! - a bound value stays bound across executions, so a row binds only what differs from the
//!   previous one: the item key once per run of rows; quantities are formatted on the stack;
//! - the batch path gives its connection a larger page cache (`raise_page_cache`).
//!
//! One statement per row stays: INSERTs of 64 rows each ran more instructions (the
//! multi-row VALUES runs as a coroutine with a statement journal).

use super::model::Entry;
use super::resolve::{ItemInfo, Resolver};
use crate::domain::outbox;
use crate::error::{ApiError, ApiResult, Violation};
use crate::resources::invoice_positions::view::number;
use chrono::Utc;
use rusqlite::{named_params, Connection};
use serde::Serialize;
use std::fmt::Write;

/// Page cache the batch path wants on its connection, in KiB (SQLite's default is 2 MiB).
/// With a small cache, a large batch evicts the index pages it keeps coming back to and
/// SQLite reads them again (and spills dirty ones to the WAL before the commit).
pub const BULK_CACHE_KIB: i64 = 64 * 1024;

/// Gives `conn` (the writer's connection, on the HTTP path) a page cache of at least
/// [`BULK_CACHE_KIB`]. Kept for the connection's lifetime: the cached pages are what the next
/// batch needs, and SQLite only allocates what it uses.
pub fn raise_page_cache(conn: &Connection) -> ApiResult<()> {
    let current: i64 = conn
        .prepare_cached("PRAGMA cache_size")?
        .query_row([], |r| r.get(0))?;
    // A positive size counts pages (4 KiB by default), a negative one KiB.
    let kib = if current < 0 { -current } else { current * 4 };
    if kib < BULK_CACHE_KIB {
        conn.execute_batch(&format!("PRAGMA cache_size = -{BULK_CACHE_KIB}"))?;
    }
    Ok(())
}

/// A short text built on the stack (a quantity: at most 29 digits, sign and point).
struct StackText {
    bytes: [u8; 48],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText {
            bytes: [0; 48],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever written in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// One row to insert: entry `n` of the request stored for `item`.
struct Row<'i> {
    item: &'i ItemInfo,
    at: i64,
    n: u32,
}

/// Resolves every entry, then stores one row per entry and item, all or nothing: `violations`
/// (of entries that were not well-formed) plus every entry that does not resolve make one
/// 422, in entry order, and nothing is written. Records one outbox event per item touched
/// (`subscription.item.quantity_changed` for `last_value` measurements,
/// `subscription.item.metered` otherwise) carrying the item's latest value of the request.
/// Returns how many rows were stored.
pub fn ingest(
    conn: &Connection,
    tenant: &str,
    entries: &[Entry],
    mut violations: Vec<Violation>,
    batch_id: Option<&str>,
) -> ApiResult<usize> {
    let mut resolver = Resolver::new(conn, tenant);
    resolver.prefetch(entries)?;
    let mut targets = Vec::with_capacity(entries.len());
    for entry in entries {
        targets.push(resolver.resolve(&entry.target, entry.index, &mut violations)?);
    }
    if !violations.is_empty() {
        violations.sort_by_key(|v| entry_index(&v.property_path));
        return Err(ApiError::Validation(violations));
    }
    let now_ms = Utc::now().timestamp_millis();
    let mut rows = Vec::with_capacity(entries.len());
    for (n, (entry, items)) in entries.iter().zip(&targets).enumerate() {
        let at = entry.measured_at.unwrap_or(now_ms);
        for item in items.iter() {
            let n = u32::try_from(n).map_err(|_| ApiError::Internal("batch too large".into()))?;
            rows.push(Row { item, at, n });
        }
    }
    // Index order; `n` keeps rows of one item and instant in arrival order (their rowids
    // order them when read), and makes the key unique, so the unstable sort is deterministic.
    rows.sort_unstable_by_key(|r| (r.item.ord, r.at, r.n));
    if rows.is_empty() {
        return Ok(0);
    }
    let first = begin_batch(conn, tenant, batch_id, rows.len(), now_ms)?;

    let mut insert = conn.prepare_cached(
        "INSERT INTO measurement_values (id, item, measured_at, quantity, event_id)
         VALUES (:id, :item, :at, :quantity, :event)",
    )?;
    let index = |name: &str| {
        insert
            .parameter_index(name)?
            .ok_or_else(|| ApiError::Internal(format!("no parameter {name}")))
    };
    let (p_id, p_item, p_at, p_quantity, p_event) = (
        index(":id")?,
        index(":item")?,
        index(":at")?,
        index(":quantity")?,
        index(":event")?,
    );
    // The first row takes the batch's first rowid, the others are left to SQLite, which gives
    // a new row one more than the table's largest rowid: the next of the batch, as `first`
    // is past every stored value. A given rowid costs a search of the table per row, a new
    // one a step to its last page.
    insert.raw_bind_parameter(p_id, first)?;
    let mut previous: Option<&ItemInfo> = None;
    for (i, row) in rows.iter().enumerate() {
        let entry = &entries[row.n as usize];
        if !previous.is_some_and(|p| std::ptr::eq(p, row.item)) {
            insert.raw_bind_parameter(p_item, item_key(conn, row.item)?)?;
            previous = Some(row.item);
        }
        let mut quantity = StackText::new();
        write!(quantity, "{}", entry.quantity)
            .map_err(|_| ApiError::Internal("quantity text too long".into()))?;
        insert.raw_bind_parameter(p_quantity, quantity.as_str())?;
        insert.raw_bind_parameter(p_at, row.at)?;
        insert.raw_bind_parameter(p_event, entry.event_id.as_deref())?;
        insert.raw_execute()?;
        if i == 0 {
            insert.raw_bind_parameter(p_id, rusqlite::types::Null)?;
        }
    }
    drop(insert);
    if conn.last_insert_rowid() != first + rows.len() as i64 - 1 {
        return Err(ApiError::Internal(
            "measurement values did not get their batch's rowids".into(),
        ));
    }

    // Per item: its latest row of the request (by measuredAt, then arrival), the last of its
    // run as the rows are sorted.
    let mut touched: Vec<&Row> = rows
        .chunk_by(|a, b| std::ptr::eq(a.item, b.item))
        .filter_map(<[Row]>::last)
        .collect();
    // Sorted so the events of one request come out in a stable order.
    touched.sort_by(|a, b| a.item.id.cmp(&b.item.id));
    for row in touched {
        let info = row.item;
        let event = if info.aggregation == "last_value" {
            "subscription.item.quantity_changed"
        } else {
            "subscription.item.metered"
        };
        let payload = Touched {
            measured_at: super::store::format_ms(row.at),
            measurement: &info.measurement_id,
            measurement_code: &info.code,
            quantity: number(entries[row.n as usize].quantity),
            subscription: &info.subscription_id,
            subscription_item: &info.id,
        };
        outbox::record(conn, tenant, event, &info.id, &payload)?;
    }
    Ok(rows.len())
}

/// The payload of an item's event: its latest value of the request. Fields in alphabetical
/// order, as a `serde_json::Value` object would put them (serialized straight from here to
/// skip building one per event).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Touched<'a> {
    measured_at: String,
    measurement: &'a str,
    measurement_code: &'a str,
    quantity: serde_json::Value,
    subscription: &'a str,
    subscription_item: &'a str,
}

/// Records the request's batch of `size` rows and returns the rowid of its first value: right
/// after the previous batch's values (batches are never deleted, so rowids are never reused).
fn begin_batch(
    conn: &Connection,
    tenant: &str,
    batch_id: Option<&str>,
    size: usize,
    now_ms: i64,
) -> ApiResult<i64> {
    let size = i64::try_from(size).map_err(|_| ApiError::Internal("batch too large".into()))?;
    let first: i64 = conn
        .prepare_cached(
            "SELECT coalesce(max(first_value + size), 1) FROM
                 (SELECT first_value, size FROM measurement_batches
                  ORDER BY first_value DESC LIMIT 1)",
        )?
        .query_row([], |r| r.get(0))?;
    conn.prepare_cached(
        "INSERT INTO measurement_batches (first_value, size, id, tenant_id, created_at)
         VALUES (:first, :size, :id, :tenant, :created_at)",
    )?
    .execute(named_params! {
        ":first": first, ":size": size, ":id": batch_id, ":tenant": tenant,
        ":created_at": now_ms,
    })?;
    Ok(first)
}

/// The `measured_items` key of `item`, created by its first value.
fn item_key(conn: &Connection, item: &ItemInfo) -> ApiResult<i64> {
    if let Some(key) = item.key.get() {
        return Ok(key);
    }
    let key = conn
        .prepare_cached("INSERT INTO measured_items (item_id) VALUES (:item) RETURNING key")?
        .query_row(named_params! {":item": item.id}, |r| r.get(0))?;
    item.key.set(Some(key));
    Ok(key)
}

/// The `n` of a `values[n]...` path (0 for a single value's plain field names).
fn entry_index(path: &str) -> usize {
    path.strip_prefix("values[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn quantities_keep_their_digits_on_the_stack() {
        for q in [
            "0",
            "10.239",
            "1.50",
            "79228162514264337593543950335",
            "0.0000000001",
        ] {
            let d: Decimal = q.parse().unwrap();
            let mut text = StackText::new();
            write!(text, "{d}").unwrap();
            assert_eq!(text.as_str(), d.to_string());
        }
    }

    #[test]
    fn event_payloads_read_as_a_json_object_would() {
        let touched = Touched {
            measured_at: "2026-03-01T00:00:00+00:00".into(),
            measurement: "m",
            measurement_code: "calls",
            quantity: number("1.50".parse().unwrap()),
            subscription: "s",
            subscription_item: "i",
        };
        let object = serde_json::json!({
            "subscriptionItem": "i",
            "subscription": "s",
            "measurement": "m",
            "measurementCode": "calls",
            "quantity": number("1.50".parse().unwrap()),
            "measuredAt": "2026-03-01T00:00:00+00:00",
        });
        assert_eq!(
            serde_json::to_string(&touched).unwrap(),
            serde_json::to_string(&object).unwrap()
        );
    }

    #[test]
    fn the_page_cache_is_raised_once() {
        let conn = crate::db::memory();
        raise_page_cache(&conn).unwrap();
        let kib: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kib, -BULK_CACHE_KIB);
        conn.execute_batch("PRAGMA cache_size = -131072").unwrap();
        raise_page_cache(&conn).unwrap();
        let kib: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kib, -131072, "a larger cache is left alone");
    }
}
