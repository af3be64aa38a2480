//! SQL for reading measurement values: one value, and the billing engine's entry point
//! `usage_for_period` / `quantity_for_period`. Storing them is `ingest`.

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

/// One value of the tenant; 404 for a missing or foreign id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<MeasurementValue> {
    let row = conn
        .prepare_cached(
            "SELECT id, subscription_item_id, measurement_id, quantity, measured_at, event_id
             FROM measurement_values WHERE tenant_id = :tenant AND id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((id, item, measurement, quantity, at, event_id)) = row else {
        return Err(ApiError::not_found("Subscription measurement"));
    };
    let q: Decimal = quantity
        .parse()
        .map_err(|_| ApiError::Internal(format!("measurement value {id}: stored quantity")))?;
    Ok(MeasurementValue {
        id,
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
    let (aggregation, fair_billing, initial) = conn
        .prepare_cached(
            "SELECT m.aggregation_type, m.fair_billing, i.quantity
             FROM subscription_items i JOIN products p ON p.id = i.product_id
             JOIN measurements m ON m.id = p.measurement_id
             WHERE i.tenant_id = :tenant AND i.id = :item",
        )?
        .query_row(named_params! {":tenant": tenant, ":item": item_id}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
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
            item_id,
            Window {
                from: i64::MIN,
                to: window.from,
            },
            true,
        )?);
    }
    samples.extend(load(conn, item_id, window, false)?);
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

/// Values of an item in a window, oldest first (ties by arrival); `last_only`: just the latest.
fn load(conn: &Connection, item: &str, w: Window, last_only: bool) -> ApiResult<Vec<Sample>> {
    let sql = if last_only {
        "SELECT id, quantity, measured_at, event_id FROM measurement_values
         WHERE subscription_item_id = :item AND measured_at >= :from AND measured_at < :to
         ORDER BY measured_at DESC, rowid DESC LIMIT 1"
    } else {
        "SELECT id, quantity, measured_at, event_id FROM measurement_values
         WHERE subscription_item_id = :item AND measured_at >= :from AND measured_at < :to
         ORDER BY measured_at, rowid"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(
        named_params! {":item": item, ":from": w.from, ":to": w.to},
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (id, quantity, at, event) = row?;
        let quantity = quantity
            .parse()
            .map_err(|_| ApiError::Internal(format!("measurement value {id}: stored quantity")))?;
        // Without an event id a value is its own event (count_unique counts it once).
        out.push(Sample {
            at,
            quantity,
            event: event.unwrap_or(id),
        });
    }
    Ok(out)
}
