//! SQL for reading measurement values: one value, and the billing engine's entry point
//! `usage_for_period` / `quantity_for_period`; the public id of a value. Storing them is
//! `ingest`.

use super::model::MeasurementValue;
use crate::billing::usage::{self, Aggregation, Sample, Window};
use crate::domain::period::Period;
use crate::domain::{settings, time};
use crate::error::{ApiError, ApiResult};
use crate::resources::invoice_positions::view::number;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use rust_decimal::Decimal;

/// RFC 3339 UTC, with milliseconds only when there are any.
pub fn format_ms(ms: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    if ms.rem_euclid(1000) == 0 {
        time::format(t)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Millis, false)
    }
}

/// Low 62 bits of a UUID's last 8 bytes: where a value id keeps the rowid (RFC 9562 `rand_b`).
const ROWID_BITS: u64 = (1 << 62) - 1;

/// The public id of the value with `rowid`, stored by a batch created at `created_ms`: a UUID
/// v7 of that millisecond with the rowid as its counter (`rand_a` zero). The table stores no
/// id of its own (a second b-tree per row on the bulk path); rowids are never reused (see
/// `measurement_batches` in schema.sql), so neither are these ids.
pub fn value_id(rowid: i64, created_ms: i64) -> String {
    let mut bytes = [0u8; 10];
    bytes[2..].copy_from_slice(&rowid.to_be_bytes());
    let millis = u64::try_from(created_ms).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .to_string()
}

/// The rowid a value id names, if it is shaped like one; [`get`] checks the rest.
fn rowid_of(id: &str) -> Option<i64> {
    let uuid = uuid::Uuid::try_parse(id).ok()?;
    let tail: [u8; 8] = uuid.as_bytes()[8..].try_into().ok()?;
    i64::try_from(u64::from_be_bytes(tail) & ROWID_BITS).ok()
}

/// `created_at` of the batch that stored the value with `rowid` (SQL, `v` the value's alias):
/// the batch with the greatest first value not after it.
const BATCH_MS: &str = "(SELECT b.created_at FROM measurement_batches b
                          WHERE b.first_value <= v.id ORDER BY b.first_value DESC LIMIT 1)";

/// The public id of the stored value with `rowid` (tests and tools; the API derives it on read).
pub fn id_of(conn: &Connection, rowid: i64) -> ApiResult<String> {
    let ms: i64 = conn
        .prepare_cached(&format!(
            "SELECT {BATCH_MS} FROM measurement_values v WHERE v.id = :rowid"
        ))?
        .query_row(named_params! {":rowid": rowid}, |r| r.get(0))
        .optional()?
        .ok_or_else(|| ApiError::not_found("Subscription measurement"))?;
    Ok(value_id(rowid, ms))
}

/// One value of the tenant; 404 for a missing or foreign id, and for any other text that
/// decodes to the same rowid (an id names a value only in the form it was shown).
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<MeasurementValue> {
    let missing = || ApiError::not_found("Subscription measurement");
    let rowid = rowid_of(id).ok_or_else(missing)?;
    let row = conn
        .prepare_cached(&format!(
            "SELECT k.item_id, p.measurement_id, v.quantity, v.measured_at, v.event_id,
                    {BATCH_MS}
             FROM measurement_values v
             JOIN measured_items k ON k.key = v.item
             JOIN subscription_items i ON i.id = k.item_id
             JOIN products p ON p.id = i.product_id
             WHERE v.id = :rowid AND i.tenant_id = :tenant"
        ))?
        .query_row(named_params! {":tenant": tenant, ":rowid": rowid}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .optional()?;
    let Some((item, measurement, quantity, at, event_id, created_ms)) = row else {
        return Err(missing());
    };
    if value_id(rowid, created_ms) != id {
        return Err(missing());
    }
    let q: Decimal = quantity
        .parse()
        .map_err(|_| ApiError::Internal(format!("measurement value {id}: stored quantity")))?;
    Ok(MeasurementValue {
        id: id.to_string(),
        subscription_item: item,
        measurement,
        quantity: number(q),
        measured_at: format_ms(at),
        tenant_id: tenant.to_string(),
        event_id,
    })
}

/// The billed usage of one item for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub aggregation: Aggregation,
    pub fair_billing: bool,
    /// The aggregated quantity (10 §2.3).
    pub quantity: Decimal,
    /// Quantities with the days each held (10 §2.4); one segment unless `last_value` changed
    /// within the period. Days add up to the period's.
    pub segments: Vec<(Decimal, u32)>,
}

/// The usage of `item_id` in `period` (local dates of the tenant's time zone, end exclusive),
/// aggregated by the item's measurement. For `last_value`, the item's own `quantity` (set at
/// creation) is the value in effect before the first measured one. With `first_period`,
/// values measured before the period start count too (usage sent before activation counts
/// from the billing start, 08 §3.5). 404 for an unknown item.
pub fn usage_for_period(
    conn: &Connection,
    tenant: &str,
    item_id: &str,
    period: Period,
    first_period: bool,
) -> ApiResult<Usage> {
    let (aggregation, fair_billing, initial, key) = conn
        .prepare_cached(
            "SELECT m.aggregation_type, m.fair_billing, i.quantity, k.key
             FROM subscription_items i JOIN products p ON p.id = i.product_id
             JOIN measurements m ON m.id = p.measurement_id
             LEFT JOIN measured_items k ON k.item_id = i.id
             WHERE i.tenant_id = :tenant AND i.id = :item",
        )?
        .query_row(named_params! {":tenant": tenant, ":item": item_id}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .optional()?
        .ok_or_else(|| ApiError::not_found("Subscription item"))?;
    let corrupt = |what: &str| ApiError::Internal(format!("item {item_id}: stored {what}"));
    let kind = Aggregation::parse(&aggregation).ok_or_else(|| corrupt("aggregation type"))?;
    let tz = settings::time_zone(conn, tenant)?;
    let mut window = usage::window(period, tz);
    if first_period {
        window.from = i64::MIN;
    }
    let mut samples = Vec::new();
    if kind.carries_over() {
        let initial: Decimal = initial.parse().map_err(|_| corrupt("quantity"))?;
        samples.push(Sample {
            at: i64::MIN,
            quantity: initial,
            event: String::new(),
        });
        // Only the last value before the window matters for what carries over.
        samples.extend(load(
            conn,
            key,
            Window {
                from: i64::MIN,
                to: window.from,
            },
            true,
        )?);
    }
    samples.extend(load(conn, key, window, false)?);
    let overflow = || ApiError::Internal(format!("item {item_id}: usage overflows"));
    let quantity = usage::aggregate(kind, &samples, window).ok_or_else(overflow)?;
    let segments = usage::fair_segments(kind, &samples, period, tz).ok_or_else(overflow)?;
    Ok(Usage {
        aggregation: kind,
        fair_billing,
        quantity,
        segments,
    })
}

/// The aggregated quantity of `item_id` in `period`; see [`usage_for_period`].
pub fn quantity_for_period(
    conn: &Connection,
    tenant: &str,
    item_id: &str,
    period: Period,
) -> ApiResult<Decimal> {
    Ok(usage_for_period(conn, tenant, item_id, period, false)?.quantity)
}

/// Values of an item (its `measured_items` key; `None`: it has none) in a window, oldest first
/// (ties by arrival); `last_only`: just the latest.
fn load(conn: &Connection, key: Option<i64>, w: Window, last_only: bool) -> ApiResult<Vec<Sample>> {
    let Some(key) = key else {
        return Ok(Vec::new());
    };
    // The batch's time only for values without an event id: they are their own event, named
    // by their public id.
    let sql = if last_only {
        format!(
            "SELECT v.id, v.quantity, v.measured_at, v.event_id,
                    CASE WHEN v.event_id IS NULL THEN {BATCH_MS} END
             FROM measurement_values v
             WHERE v.item = :item AND v.measured_at >= :from AND v.measured_at < :to
             ORDER BY v.measured_at DESC, v.id DESC LIMIT 1"
        )
    } else {
        format!(
            "SELECT v.id, v.quantity, v.measured_at, v.event_id,
                    CASE WHEN v.event_id IS NULL THEN {BATCH_MS} END
             FROM measurement_values v
             WHERE v.item = :item AND v.measured_at >= :from AND v.measured_at < :to
             ORDER BY v.measured_at, v.id"
        )
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! {":item": key, ":from": w.from, ":to": w.to},
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (rowid, quantity, at, event, created_ms) = row?;
        let quantity = quantity.parse().map_err(|_| {
            ApiError::Internal(format!("measurement value {rowid}: stored quantity"))
        })?;
        // Without an event id a value is its own event (count_unique counts it once).
        let event = event.unwrap_or_else(|| value_id(rowid, created_ms.unwrap_or_default()));
        out.push(Sample {
            at,
            quantity,
            event,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ids_are_uuid_v7_and_decode_to_their_rowid() {
        let ms = 1_772_323_200_123;
        for rowid in [1, 2, 1000, i64::from(u32::MAX) + 7, (1 << 62) - 1] {
            let id = value_id(rowid, ms);
            let uuid = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(uuid.get_version_num(), 7);
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = uuid.get_timestamp().unwrap().to_unix();
            assert_eq!((secs, nanos / 1_000_000), (1_772_323_200, 123));
            assert_eq!(rowid_of(&id), Some(rowid));
        }
        assert!(value_id(1, ms) < value_id(2, ms), "ids of a batch ascend");
        assert_eq!(rowid_of("nope"), None);
    }
}
