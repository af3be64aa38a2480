//! SQL for measurement values: resolving references (item id, or measurement code + subscription
//! id or number) with per-request caches, bulk insert with one prepared statement, reads, and
//! the billing engine's entry point `usage_for_period` / `quantity_for_period`.

use super::model::{Entry, MeasurementValue, Target};
use crate::billing::usage::{self, Aggregation, Sample, Window};
use crate::domain::period::Period;
use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult, Violation};
use crate::resources::invoice_positions::view::number;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::rc::Rc;

/// What a value needs to know about the item it is stored for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    pub id: String,
    pub subscription_id: String,
    pub subscription_number: String,
    pub measurement_id: String,
    pub code: String,
    pub aggregation: String,
}

const ITEM_SQL: &str = "SELECT i.id, i.subscription_id, s.number, p.measurement_id, m.code,
           m.aggregation_type
    FROM subscription_items i
    JOIN subscriptions s ON s.id = i.subscription_id
    JOIN products p ON p.id = i.product_id
    JOIN measurements m ON m.id = p.measurement_id";

fn item_info(r: &rusqlite::Row) -> rusqlite::Result<ItemInfo> {
    Ok(ItemInfo {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        subscription_number: r.get(2)?,
        measurement_id: r.get(3)?,
        code: r.get(4)?,
        aggregation: r.get(5)?,
    })
}

/// Resolves entry targets to items, caching each lookup for the request: a batch of 1000
/// values for a handful of items costs a handful of queries.
pub struct Resolver<'a> {
    conn: &'a Connection,
    tenant: &'a str,
    items: HashMap<String, Option<Rc<ItemInfo>>>,
    subscriptions: HashMap<String, Option<(String, String)>>,
    by_code: HashMap<(String, String), Rc<[Rc<ItemInfo>]>>,
}

impl<'a> Resolver<'a> {
    pub fn new(conn: &'a Connection, tenant: &'a str) -> Self {
        Resolver {
            conn,
            tenant,
            items: HashMap::new(),
            subscriptions: HashMap::new(),
            by_code: HashMap::new(),
        }
    }

    fn item(&mut self, id: &str) -> ApiResult<Option<Rc<ItemInfo>>> {
        if let Some(hit) = self.items.get(id) {
            return Ok(hit.clone());
        }
        let found = self
            .conn
            .prepare_cached(&format!(
                "{ITEM_SQL} WHERE i.tenant_id = :tenant AND i.id = :id"
            ))?
            .query_row(named_params! {":tenant": self.tenant, ":id": id}, item_info)
            .optional()?
            .map(Rc::new);
        self.items.insert(id.to_string(), found.clone());
        Ok(found)
    }

    /// `(id, number)` of the tenant's subscription with this id or number.
    fn subscription(&mut self, reference: &str) -> ApiResult<Option<(String, String)>> {
        if let Some(hit) = self.subscriptions.get(reference) {
            return Ok(hit.clone());
        }
        let found = self
            .conn
            .prepare_cached(
                "SELECT id, number FROM subscriptions
                 WHERE tenant_id = :tenant AND (id = :ref OR number = :ref) LIMIT 1",
            )?
            .query_row(
                named_params! {":tenant": self.tenant, ":ref": reference},
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        self.subscriptions
            .insert(reference.to_string(), found.clone());
        Ok(found)
    }

    fn items_with_code(&mut self, subscription: &str, code: &str) -> ApiResult<Rc<[Rc<ItemInfo>]>> {
        let key = (subscription.to_string(), code.to_string());
        if let Some(hit) = self.by_code.get(&key) {
            return Ok(hit.clone());
        }
        let found: Vec<Rc<ItemInfo>> = self
            .conn
            .prepare_cached(&format!(
                "{ITEM_SQL} WHERE i.tenant_id = :tenant AND i.subscription_id = :sub
                   AND m.code = :code ORDER BY i.created_at, i.id"
            ))?
            .query_map(
                named_params! {":tenant": self.tenant, ":sub": subscription, ":code": code},
                item_info,
            )?
            .map(|r| r.map(Rc::new))
            .collect::<Result<_, _>>()?;
        let found: Rc<[Rc<ItemInfo>]> = found.into();
        self.by_code.insert(key, found.clone());
        Ok(found)
    }

    /// The items an entry is stored for; violations (prefixed) for references that do not
    /// resolve or do not match each other.
    pub fn resolve(
        &mut self,
        target: &Target,
        prefix: &str,
        out: &mut Vec<Violation>,
    ) -> ApiResult<Rc<[Rc<ItemInfo>]>> {
        let none: Rc<[Rc<ItemInfo>]> = Rc::new([]);
        let mut bad = |key: &str, message: &str| {
            out.push(Violation::new(
                format!("{prefix}{key}"),
                message,
                "not_found",
            ));
        };
        match target {
            Target::Item {
                item,
                code,
                subscription,
            } => {
                let Some(info) = self.item(item)? else {
                    bad("subscriptionItem", "This subscription item does not exist.");
                    return Ok(none);
                };
                let mut ok = true;
                if code.as_ref().is_some_and(|c| *c != info.code) {
                    bad(
                        "measurementCode",
                        "The subscription item does not use this measurement.",
                    );
                    ok = false;
                }
                if subscription
                    .as_ref()
                    .is_some_and(|s| *s != info.subscription_id && *s != info.subscription_number)
                {
                    bad(
                        "subscription",
                        "The subscription item does not belong to this subscription.",
                    );
                    ok = false;
                }
                Ok(if ok { Rc::new([info]) } else { none })
            }
            Target::Code { code, subscription } => {
                let Some((sub_id, _)) = self.subscription(subscription)? else {
                    bad("subscription", "This subscription does not exist.");
                    return Ok(none);
                };
                let items = self.items_with_code(&sub_id, code)?;
                if items.is_empty() {
                    bad(
                        "measurementCode",
                        "No item of the subscription uses a measurement with this code.",
                    );
                }
                Ok(items)
            }
        }
    }
}

/// Resolves every entry, then stores one row per entry and item, all or nothing: `violations`
/// (of entries that were not well-formed) plus every entry that does not resolve make one
/// 422, in entry order, and nothing is written. Records one outbox event
/// per item touched (`subscription.item.quantity_changed` for `last_value` measurements,
/// `subscription.item.metered` otherwise) carrying the item's latest value of the request.
/// Returns how many rows were stored.
pub fn ingest(
    conn: &Connection,
    tenant: &str,
    entries: &[(String, Entry)],
    mut violations: Vec<Violation>,
    batch_id: Option<&str>,
) -> ApiResult<usize> {
    let mut resolver = Resolver::new(conn, tenant);
    let mut targets = Vec::with_capacity(entries.len());
    for (prefix, entry) in entries {
        targets.push(resolver.resolve(&entry.target, prefix, &mut violations)?);
    }
    if !violations.is_empty() {
        violations.sort_by_key(|v| entry_index(&v.property_path));
        return Err(ApiError::Validation(violations));
    }
    let now = Utc::now();
    let (now_ms, created_at) = (now.timestamp_millis(), time::format(now));
    // Positional parameters; the ones shared by every row are bound once, and a bound value
    // stays bound across executions, so each row binds only its own six.
    let mut insert = conn.prepare_cached(
        "INSERT INTO measurement_values (id, tenant_id, subscription_item_id, measurement_id,
                                         quantity, measured_at, event_id, batch_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    insert.raw_bind_parameter(2, tenant)?;
    insert.raw_bind_parameter(8, batch_id)?;
    insert.raw_bind_parameter(9, created_at.as_str())?;
    let mut stored = 0;
    // Per item: the index of its latest entry in this request (by measuredAt, then arrival).
    let mut latest: HashMap<&str, (i64, usize, &ItemInfo)> = HashMap::new();
    let mut id_buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    for (n, ((_, entry), items)) in entries.iter().zip(&targets).enumerate() {
        let at = entry.measured_at.unwrap_or(now_ms);
        let quantity = entry.quantity.to_string();
        insert.raw_bind_parameter(5, quantity.as_str())?;
        insert.raw_bind_parameter(6, at)?;
        insert.raw_bind_parameter(7, entry.event_id.as_deref())?;
        for info in items.iter() {
            // The same text as `new_id()`, written without a String per row.
            let id: &str = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut id_buf);
            insert.raw_bind_parameter(1, id)?;
            insert.raw_bind_parameter(3, info.id.as_str())?;
            insert.raw_bind_parameter(4, info.measurement_id.as_str())?;
            insert.raw_execute()?;
            stored += 1;
            let slot = latest.entry(info.id.as_str()).or_insert((at, n, info));
            if at >= slot.0 {
                *slot = (at, n, info);
            }
        }
    }
    drop(insert);
    // Sorted so the events of one request come out in a stable order.
    let mut touched: Vec<_> = latest.into_values().collect();
    touched.sort_by(|a, b| (a.2.id.as_str()).cmp(b.2.id.as_str()));
    for (at, n, info) in touched {
        let entry = &entries[n].1;
        let event = if info.aggregation == "last_value" {
            "subscription.item.quantity_changed"
        } else {
            "subscription.item.metered"
        };
        let payload = serde_json::json!({
            "subscriptionItem": info.id,
            "subscription": info.subscription_id,
            "measurement": info.measurement_id,
            "measurementCode": info.code,
            "quantity": number(entry.quantity),
            "measuredAt": format_ms(at),
        });
        outbox::record(conn, tenant, event, &info.id, &payload)?;
    }
    Ok(stored)
}

/// The `n` of a `values[n]...` path (0 for a single value's plain field names).
fn entry_index(path: &str) -> usize {
    path.strip_prefix("values[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

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
