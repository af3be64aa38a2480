//! Coupons across a tier change (08 §2.5, §5; 10 §6.4). The reference is silent on what
//! happens to an applied coupon when an item changes tiers; kontor's rule (kontor):
//!
//! - A coupon applied to the old item moves to the new item when it covers the new product
//!   (its `products` list is empty or names it; a fixed amount also needs the new plan's
//!   currency) and still has periods left. The applied-discount row itself moves, so the count
//!   of periods it discounted carries over: a `limited` 3 coupon used for one period on the old
//!   plan discounts two more periods on the new one, never three (the billing engine counts a
//!   discount's billed periods by the row's id, whichever item billed them).
//! - A coupon that does not cover the new product, or is used up, stays on the old item as its
//!   history and ends with it.
//! - The coupon moves when the change is applied, also for `end_of_period`: a period of the old
//!   plan billed after that (in arrears) is billed without it and does not use up one of its
//!   periods, which stay for the new plan.
//! - An immediate change splits the current period between the plans. The charge for the new
//!   plan's part is discounted by a covering coupon when the old plan's billed current period
//!   was discounted by it (also when that was its last period: the period is discounted as a
//!   whole); that period was counted already, so the charge does not count again.
//!   When the old plan's current period is not billed yet (in arrears), the charge takes the
//!   next period of a carried coupon and counts it; the old plan's days, billed later by a
//!   billing run, are then billed without the coupon (the period is discounted once).

use crate::billing::items::{coupons as applied, Applied};
use crate::domain::discount::ItemAmount;
use crate::error::ApiResult;
use crate::resources::subscriptions::model::{fmt_day, ItemRow};
use chrono::NaiveDate;
use rusqlite::{named_params, Connection, OptionalExtension};
use rust_decimal::Decimal;

/// The coupon that discounts the new plan's share of the current period.
pub struct ChargeCoupon {
    pub applied: Applied,
    /// Whether this charge is the discounted period the coupon counts (`false`: the old plan's
    /// billed current period counted it already).
    pub counts: bool,
}

/// A coupon of the old item that covers the new item's product (and currency).
pub struct Covering {
    pub applied: Applied,
    /// Moved to the new item (it had periods left); otherwise it stays as the old item's.
    pub moved: bool,
}

/// Moves the old item's coupons that cover the new item and have periods left to it (rule
/// above); returns every covering coupon, oldest first, with its periods used so far.
pub fn carry_over(
    tx: &Connection,
    old: &ItemRow,
    new: &ItemRow,
    currency: &str,
) -> ApiResult<Vec<Covering>> {
    let target = ItemAmount {
        product_id: &new.product_id,
        amount: Decimal::ZERO,
        currency,
    };
    let mut out = Vec::new();
    for a in applied(tx, &old.id)? {
        if !a.terms.matches(&target) {
            continue;
        }
        let moved = a.terms.frequency.applies(a.used);
        if moved {
            tx.prepare_cached(
                "UPDATE subscription_discounts SET subscription_item_id = :new WHERE id = :id",
            )?
            .execute(named_params! {":new": new.id, ":id": a.id})?;
        }
        out.push(Covering { applied: a, moved });
    }
    Ok(out)
}

/// Which covering coupon (if any) discounts the new plan's charge for the period containing
/// `today` (rule above). The old plan's billed period counted its coupon already, used up or
/// not, so that one discounts the new plan's share too: the period is discounted as a whole.
pub fn for_charge(
    tx: &Connection,
    old: &ItemRow,
    covering: Vec<Covering>,
    today: NaiveDate,
) -> ApiResult<Option<ChargeCoupon>> {
    // The old plan's billed period containing today and the discount it was billed with.
    let billed: Option<Option<String>> = tx
        .prepare_cached(
            "SELECT subscription_discount_id FROM billed_periods
             WHERE subscription_item_id = :item AND reason = 'recurring'
               AND period_start <= :day AND period_end >= :day
             ORDER BY period_start DESC LIMIT 1",
        )?
        .query_row(
            named_params! {":item": old.id, ":day": fmt_day(today)},
            |r| r.get(0),
        )
        .optional()?;
    Ok(match billed {
        Some(discount) => covering
            .into_iter()
            .find(|c| discount.as_deref() == Some(c.applied.id.as_str()))
            .map(|c| ChargeCoupon {
                applied: c.applied,
                counts: false,
            }),
        // Not billed yet: the first coupon with periods left takes this period.
        None => covering
            .into_iter()
            .find(|c| c.moved)
            .map(|c| ChargeCoupon {
                applied: c.applied,
                counts: true,
            }),
    })
}
