//! Pricing the due periods of one subscription item for a billing run: recurring charges
//! (prorated partial periods, coupons) and metered usage in arrears from the measurements of
//! each period (10 §2, 08 §3.5, §7), as positions ready to be written by `billing::bill`.

use super::due::DuePeriod;
use super::items::{self, Item};
use super::lines::{coupon_discount, fair_charge, item_charge, ItemCharge};
use crate::billing::usage::Aggregation;
use crate::domain::money::Currency;
use crate::error::{ApiError, ApiResult};
use crate::resources::invoice_positions::model::PositionData;
use crate::resources::subscription_measurements::store as measurements;
use chrono::NaiveDate;
use rusqlite::Connection;
use rust_decimal::Decimal;
use std::ops::Deref;

/// One due item period with its amounts, before it is written.
pub(super) struct Planned<'a> {
    pub item: &'a Item,
    pub priced: Priced,
}

impl Deref for Planned<'_> {
    type Target = Priced;
    fn deref(&self) -> &Priced {
        &self.priced
    }
}

/// What `plan` decides about one due period of an item (`Planned` without the item, so the
/// run can price ahead on another thread: `billing::prefetch`).
pub struct Priced {
    pub period: DuePeriod,
    pub position: PositionData,
    pub amount: i64,
    pub discount: i64,
    pub coupon: Option<String>,
    /// `billed_periods.reason`: `recurring` or `usage`.
    pub reason: &'static str,
}

fn minor(currency: Currency, value: Decimal) -> ApiResult<i64> {
    currency
        .to_minor(value)
        .ok_or_else(|| ApiError::Internal("billing amount out of range".into()))
}

/// The usage charge of a metered item for one period (always in arrears): the aggregated
/// quantity priced as a whole, or under fair billing of a `last_value` measurement each
/// quantity for its days, Σ price(qᵢ) × daysᵢ / days (the full period's days when a partial
/// period is prorated). Usage is never otherwise prorated: it is what was measured.
fn usage_charge(
    conn: &Connection,
    tenant: &str,
    item: &Item,
    period: &DuePeriod,
) -> ApiResult<(ItemCharge, Decimal)> {
    let pricing = item.terms.pricing();
    // Values sent before activation count in the first period (08 §3.5); the rest of a cut
    // first period starts later and counts only its own days.
    let first = period.index == 0 && !period.remainder;
    let usage = measurements::usage_for_period(conn, tenant, &item.id, period.covered, first)?;
    let bad = |e| ApiError::Internal(format!("subscription item {}: {e}", item.id));
    let fair = usage.fair_billing && usage.aggregation == Aggregation::LastValue;
    let charge = if fair && (usage.segments.len() > 1 || period.prorated) {
        let days = if period.prorated {
            period.full_days
        } else {
            period.covered_days()
        };
        fair_charge(&pricing, &usage.segments, days).map_err(bad)?
    } else {
        let whole = DuePeriod {
            prorated: false,
            ..*period
        };
        item_charge(&pricing, usage.quantity, &whole).map_err(bad)?
    };
    Ok((charge, usage.quantity))
}

/// Prices the due periods of `item` up to `date`.
pub fn plan(
    conn: &Connection,
    tenant: &str,
    item: &Item,
    date: NaiveDate,
) -> ApiResult<Vec<Priced>> {
    let Some(schedule) = &item.schedule else {
        return Ok(vec![]);
    };
    let reason = if item.metered { "usage" } else { "recurring" };
    let billed = items::billed_periods(conn, &item.id, reason)?;
    let due = schedule.due(date, &|d| billed.get(&d).copied());
    if due.is_empty() {
        return Ok(vec![]);
    }
    let pricing = item.terms.pricing();
    let currency = pricing.currency;
    let mut coupons = items::coupons(conn, &item.id)?;
    let mut out = Vec::with_capacity(due.len());
    for period in due {
        let charge = if item.metered {
            usage_charge(conn, tenant, item, &period)?.0
        } else {
            item_charge(&pricing, item.quantity, &period)
                .map_err(|e| ApiError::Internal(format!("subscription item {}: {e}", item.id)))?
        };
        // The first applied coupon that still covers a period discounts it (10 §6.4).
        let mut discount = None;
        for c in coupons.iter_mut() {
            if let Some(d) =
                coupon_discount(&c.terms, &item.product_id, currency, charge.amount, c.used)?
            {
                c.used += 1;
                discount = Some((c.id.clone(), d));
                break;
            }
        }
        let children = discount.as_ref().map(|(_, d)| {
            vec![PositionData {
                // Set rather than appended: appending asks the database for the last one.
                position: Some(1),
                kind: Some("discount".into()),
                name: "Discount".into(),
                quantity: Decimal::ONE,
                unit_id: Some(item.unit_id.clone()),
                unit_price: Some(-*d),
                tax_group_id: Some(item.tax_group_id.clone()),
                subscription_item: Some(item.id.clone()),
                ..PositionData::default()
            }]
        });
        let description = match (&item.description, &charge.description) {
            (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        out.push(Priced {
            period,
            amount: minor(currency, charge.amount)?,
            discount: match &discount {
                Some((_, d)) => minor(currency, *d)?,
                None => 0,
            },
            coupon: discount.map(|(id, _)| id),
            reason,
            position: PositionData {
                kind: Some("product".into()),
                group: Some(item.subscription_label.clone()),
                name: item.name.clone(),
                description,
                quantity: charge.quantity,
                unit_id: Some(item.unit_id.clone()),
                unit_price: Some(charge.unit_price),
                tax_group_id: Some(item.tax_group_id.clone()),
                service_date_from: Some(period.covered.start),
                service_date_to: Some(period.covered.last_day()),
                unit_price_interval: Some(schedule.interval.to_string()),
                subscription_item: Some(item.id.clone()),
                product: Some(item.product_id.clone()),
                children,
                ..PositionData::default()
            },
        });
    }
    Ok(out)
}
