//! Loading what a billing run needs about one customer's subscription items: the rows, their
//! schedules (08 §7 via `billing::due`), the periods already billed, and their coupons.

use super::context::Catalogue;
use super::due::{Schedule, Timing};
use crate::domain::discount::{CouponTerms, DiscountKind, Frequency};
use crate::domain::money::parse_decimal;
use crate::error::{ApiError, ApiResult};
use crate::resources::billing_groups::align;
use crate::resources::price_plans::model::Terms;
use chrono::{Days, NaiveDate};
use rusqlite::{named_params, Connection};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// One billable subscription item with its subscription's facts.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub subscription_id: String,
    /// Printed as the group heading of the item's positions.
    pub subscription_label: String,
    pub product_id: String,
    pub name: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub currency: String,
    pub invoice_address_id: Option<String>,
    pub payment_method_id: Option<String>,
    pub tax_group_id: String,
    pub unit_id: String,
    /// The product's measurement is not the default `quantity` one: usage, billed in arrears.
    pub metered: bool,
    pub terms: Terms,
    pub schedule: Option<Schedule>,
}

fn date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
}

/// The customer's items that may have something due: subscriptions that are billed (active,
/// cancelled until their end, terminated for what ran up to the end; never drafts, offers or
/// paused ones), in creation order so invoices list subscriptions as they were made.
pub fn for_customer(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    catalogue: &mut Catalogue,
) -> ApiResult<Vec<Item>> {
    let mut stmt = conn.prepare_cached(
        "SELECT si.id, si.subscription_id, COALESCE(s.name, s.number), si.product_id,
                si.price_plan_id, COALESCE(si.name, p.name), si.description, si.quantity,
                si.billing_anchor, si.trial_ends_on, si.end_date, si.terminated_at,
                s.contract_end, s.resume_mode, s.resume_next_billing_date, s.currency_code,
                s.invoice_address_id, s.payment_method_id, p.tax_group_id, m.unit_id,
                m.is_default, s.billing_group_id
         FROM subscription_items si
         JOIN subscriptions s ON s.id = si.subscription_id
         JOIN products p ON p.id = si.product_id
         JOIN measurements m ON m.id = p.measurement_id
         WHERE si.tenant_id = :tenant AND s.customer_id = :customer
           -- Spelled out: an IN list of three constants builds a temporary b-tree per query.
           AND (s.status = 'active' OR s.status = 'cancelled' OR s.status = 'terminated')
           -- An item left out of a selective activation waits, unscheduled and never billed,
           -- until an activation names it (a pending item with a future start is scheduled).
           AND NOT (si.status = 'pending' AND si.next_period_start IS NULL
                    AND si.last_billed_to IS NULL)
         ORDER BY s.created_at, s.id, si.created_at, si.id",
    )?;
    let rows = stmt.query_map(
        named_params! {":tenant": tenant, ":customer": customer},
        |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                ),
                (
                    r.get::<_, String>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                    r.get::<_, Option<String>>(12)?,
                    r.get::<_, Option<String>>(13)?,
                    r.get::<_, Option<String>>(14)?,
                ),
                (
                    r.get::<_, String>(15)?,
                    r.get::<_, Option<String>>(16)?,
                    r.get::<_, Option<String>>(17)?,
                    r.get::<_, String>(18)?,
                    r.get::<_, String>(19)?,
                    r.get::<_, bool>(20)?,
                    r.get::<_, Option<String>>(21)?,
                ),
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (
            (id, subscription_id, label, product_id, plan_id, name, description, quantity),
            (anchor, trial, end_date, terminated_at, contract_end, resume_mode, resume_next),
            (currency, address, payment_method, tax_group_id, unit_id, is_default, group),
        ) = row?;
        let corrupt =
            |what: &str| ApiError::Internal(format!("subscription item {id}: bad {what}"));
        let quantity = parse_decimal(&quantity).map_err(|_| corrupt("quantity"))?;
        let anchor = date(Some(anchor)).ok_or_else(|| corrupt("billing_anchor"))?;
        let terms = catalogue.terms(conn, tenant, &plan_id)?.clone();
        // The last covered day: the item's end, the subscription's end, or the termination day.
        let last_day = [date(end_date), date(contract_end), date(terminated_at)]
            .into_iter()
            .flatten()
            .min();
        let metered = !is_default;
        let mut schedule = terms.billing_interval.map(|interval| Schedule {
            interval,
            billing_start: anchor,
            group: None,
            timing: if metered || !terms.pay_in_advance {
                Timing::Arrears
            } else {
                Timing::Advance
            },
            pro_rata: terms.pro_rata,
            trial_end: date(trial),
            end: last_day.and_then(|d| d.checked_add_days(Days::new(1))),
            skip_before: (resume_mode.as_deref() == Some("skip"))
                .then(|| date(resume_next))
                .flatten(),
            usage: metered,
        });
        // Billing-group alignment: a prorated first period up to the group date, then the
        // group's own periods (08 §4.3); day and week intervals stay unaligned.
        if let (Some(s), Some(g)) = (schedule.as_mut(), group.as_deref()) {
            let rule = catalogue.group_rule(conn, tenant, g)?;
            s.group = align::Schedule::new(s.first_day(), s.interval, rule);
        }
        out.push(Item {
            id,
            subscription_id,
            subscription_label: label,
            product_id,
            name,
            description,
            quantity,
            currency,
            invoice_address_id: address,
            payment_method_id: payment_method,
            tax_group_id,
            unit_id,
            metered,
            terms,
            schedule,
        });
    }
    Ok(out)
}

/// The item's billed periods for `reason`: each start with the day after its end.
pub fn billed_periods(
    conn: &Connection,
    item: &str,
    reason: &str,
) -> ApiResult<HashMap<NaiveDate, NaiveDate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT period_start, period_end FROM billed_periods
         WHERE subscription_item_id = :item AND reason = :reason",
    )?;
    let rows = stmt.query_map(named_params! {":item": item, ":reason": reason}, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = HashMap::new();
    for r in rows {
        let (start, last) = r?;
        if let (Some(start), Some(end)) = (
            date(Some(start)),
            date(Some(last)).and_then(|d| d.succ_opt()),
        ) {
            out.insert(start, end);
        }
    }
    Ok(out)
}

/// A coupon applied to an item, with how many of its periods it discounted already.
#[derive(Debug, Clone)]
pub struct Applied {
    pub id: String,
    pub terms: CouponTerms,
    pub used: u32,
}

/// The item's applied coupons, oldest first. `used` counts the billed periods each discounted
/// (the billed periods are the record; `remaining_periods` is kept in step for the API).
pub fn coupons(conn: &Connection, item: &str) -> ApiResult<Vec<Applied>> {
    let mut stmt = conn.prepare_cached(
        "SELECT sd.id, c.id, c.type, c.percentage, c.fixed_amount, c.currency_code, c.frequency,
                c.frequency_interval,
                (SELECT count(*) FROM billed_periods b WHERE b.subscription_discount_id = sd.id)
         FROM subscription_discounts sd JOIN coupons c ON c.id = sd.coupon_id
         WHERE sd.subscription_item_id = :item ORDER BY sd.created_at, sd.id",
    )?;
    let rows = stmt.query_map(named_params! {":item": item}, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<u32>>(7)?,
            r.get::<_, u32>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, coupon, kind, pct, fixed, currency, frequency, interval, used) = row?;
        let bad = || ApiError::Internal(format!("coupon {coupon}: bad terms"));
        let dec = |s: Option<String>| s.and_then(|s| parse_decimal(&s).ok());
        let kind = match kind.as_str() {
            "percentage" => DiscountKind::Percentage(dec(pct).ok_or_else(bad)?),
            _ => DiscountKind::FixedAmount {
                amount: dec(fixed).ok_or_else(bad)?,
                currency: currency.ok_or_else(bad)?,
            },
        };
        let frequency = match (frequency.as_str(), interval) {
            ("once", _) => Frequency::Once,
            ("limited", Some(n)) => Frequency::Limited(n),
            ("lifetime", _) => Frequency::Lifetime,
            _ => return Err(bad()),
        };
        let products = conn
            .prepare_cached(
                "SELECT product_id FROM coupon_products WHERE coupon_id = :c ORDER BY position",
            )?
            .query_map(named_params! {":c": coupon}, |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Applied {
            id,
            terms: CouponTerms {
                kind,
                frequency,
                products,
            },
            used,
        });
    }
    Ok(out)
}
