//! Applying a tier change to a subscription item (08 §5.4-5.5). The item is never edited into
//! another plan: the old item ends and a new item on the new plan takes over, so every billed
//! period, invoice position and credit stays attached to the plan it was billed on.
//!
//! - `immediately`: the old item is terminated with the day before today as its last covered
//!   day; the new item starts today. The rest of the current period, today through the period's
//!   last day, is charged now on the new plan (new price × remaining days / days of the full
//!   period; today counts as a new-plan day) and recorded as billed for the new item, whose
//!   schedule continues at the next period start, so a billing run never bills it again. The
//!   old plan's billed amount is credited by `creditType` with a credit note against the
//!   invoice that billed it. All in the request's one transaction.
//! - `end_of_period`: the old item is cancelled to the current period's last day and the new
//!   item is created `pending` from the next period start; the ordinary billing run bills the
//!   old one up to its end and the new one from then (and activates it). No credit.
//! - Either way, coupons covering the new product move to the new item with their count of
//!   discounted periods (`coupons.rs`).

use super::model::Membership;
use super::store::{self, ChangeRecord};
use super::{coupons, documents};
use crate::domain::ids::new_id;
use crate::domain::period::{days_between, Interval, Period};
use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::Ctx;
use crate::resources::price_plans::{self, model::Terms};
use crate::resources::subscriptions::model::{day, fmt_day, ItemRow, SubRow};
use crate::resources::subscriptions::{store as subs, view};
use chrono::{Days, Months, NaiveDate};
use serde_json::{json, Value};

/// A checked apply request.
pub struct Apply<'a> {
    pub membership: &'a Membership,
    pub sub: SubRow,
    pub item: ItemRow,
    pub plan_id: String,
    pub terms: Terms,
    pub quantity: String,
}

/// The first period boundary after `today` of the old item, or `None` when no period runs yet
/// (the item's billing has not started, e.g. in a trial): then the change swaps plans only.
fn boundary(item: &ItemRow, interval: Interval, today: NaiveDate) -> ApiResult<Option<NaiveDate>> {
    let anchor = day(&item.billing_anchor)?;
    let first = match item.trial_ends_on.as_deref().map(day).transpose()? {
        Some(t) if t > anchor => t,
        _ => anchor,
    };
    if first > today {
        return Ok(None);
    }
    let mut b = match item.next_period_start.as_deref() {
        Some(s) => day(s)?,
        None => first,
    };
    // Bounded like the billing engine's own period search.
    for _ in 0..crate::billing::due::MAX_PERIODS {
        if b > today {
            return Ok(Some(b));
        }
        b = interval
            .advance(b, 1)
            .ok_or_else(|| ApiError::Internal(format!("item {}: period overflow", item.id)))?;
    }
    Err(ApiError::Internal(format!(
        "item {}: no period after today",
        item.id
    )))
}

/// `date` minus one interval, clamped to the month end like `Interval::advance`: the start of
/// the full period that ends at `date` (the proration denominator).
fn back(interval: Interval, date: NaiveDate) -> Option<NaiveDate> {
    use crate::domain::period::Unit;
    let n = interval.count;
    match interval.unit {
        Unit::Day => date.checked_sub_days(Days::new(u64::from(n))),
        Unit::Week => date.checked_sub_days(Days::new(u64::from(n) * 7)),
        Unit::Month => date.checked_sub_months(Months::new(n)),
        Unit::Year => date.checked_sub_months(Months::new(n.checked_mul(12)?)),
    }
}

fn interval_of(terms: &Terms) -> ApiResult<Interval> {
    terms.billing_interval.ok_or_else(|| {
        ApiError::invalid(
            "selectedPricePlan",
            "The price plan must be recurring.",
            "not_recurring",
        )
    })
}

/// Performs the change; returns the response body.
pub fn apply(ctx: &Ctx, a: Apply) -> ApiResult<Value> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let today = settings::today(tx, tenant)?;
    let old_interval = a
        .item
        .billing_interval
        .as_deref()
        .and_then(Interval::parse)
        .ok_or_else(|| ApiError::Conflict("A one-time item cannot change tiers.".into()))?;
    let new_interval = interval_of(&a.terms)?;
    let next = boundary(&a.item, old_interval, today)?;
    let immediate = a.membership.change_timing == "immediately";
    let now = time::now();
    let effective = if immediate {
        today
    } else {
        next.unwrap_or(today)
    };

    // The new item: anchored on the next period start, so its periods continue the old ones.
    let anchor = next.unwrap_or(day(&a.item.billing_anchor)?);
    let mut new_item = a.item.clone();
    new_item.id = new_id();
    new_item.product_id = a.terms.product.clone();
    new_item.price_plan_id = a.plan_id.clone();
    new_item.billing_interval = Some(new_interval.to_string());
    new_item.pay_in_advance = a.terms.pay_in_advance;
    new_item.name = None;
    new_item.product_name = product_name(ctx, &a.terms.product)?;
    new_item.quantity = a.quantity.clone();
    new_item.status = if effective <= today {
        "active"
    } else {
        "pending"
    }
    .into();
    new_item.start_date = fmt_day(effective);
    new_item.billing_start = fmt_day(anchor);
    new_item.billing_anchor = fmt_day(anchor);
    new_item.trial_ends_on = None;
    new_item.next_period_start = Some(fmt_day(anchor));
    new_item.next_billing_date = None;
    (
        new_item.last_billed_from,
        new_item.last_billed_to,
        new_item.last_billed_at,
    ) = (None, None, None);
    new_item.end_date = a
        .item
        .end_date_before_cancel
        .clone()
        .or(a.item.end_date.clone());
    new_item.end_date_before_cancel = None;
    new_item.activated_at = (effective <= today).then(|| now.clone());
    (new_item.cancelled_at, new_item.terminated_at) = (None, None);
    new_item.created_at = now.clone();
    subs::insert_item(tx, tenant, &new_item)?;
    subs::reschedule(tx, &new_item)?;
    price_plans::store::mark_in_use(tx, tenant, &a.plan_id)?;
    store::assign(tx, tenant, &new_item.id, &a.membership.product_group)?;

    // The old item ends the day before the new one starts.
    let mut old = a.item.clone();
    let last_day = effective.pred_opt().unwrap_or(effective);
    old.end_date_before_cancel = old.end_date.clone();
    old.end_date = Some(fmt_day(last_day));
    if immediate {
        old.status = "terminated".into();
        old.terminated_at = Some(now.clone());
    } else {
        old.status = "canceled".into();
        old.cancelled_at = Some(now.clone());
    }
    subs::save_item(tx, &old)?;
    let covering = coupons::carry_over(tx, &a.item, &new_item, a.terms.currency.code)?;

    let (mut invoice, mut credit_note, mut charged) = (None, None, 0);
    if let (true, Some(b)) = (immediate, next) {
        let coupon = coupons::for_charge(tx, &a.item, covering, today)?;
        // Full period on the new plan ending at the boundary: the proration denominator.
        let full_start =
            back(new_interval, b).ok_or_else(|| ApiError::Internal("period underflow".into()))?;
        let covered = Period {
            start: today,
            end: b,
        };
        (invoice, charged) = documents::charge(
            ctx,
            &a.sub,
            &new_item,
            &a.terms,
            covered,
            days_between(full_start, b),
            coupon.as_ref(),
        )?;
        credit_note = credit(ctx, &a.item.id, &a.membership.credit_type, today)?;
    }
    subs::refresh_next_billing_date(tx, tenant, &a.sub.id)?;
    store::record_change(
        tx,
        tenant,
        &ChangeRecord {
            subscription: &a.sub.id,
            from_item: &a.item.id,
            to_item: &new_item.id,
            membership: &a.membership.id,
            timing: &a.membership.change_timing,
            credit_type: &a.membership.credit_type,
            effective_date: &fmt_day(effective),
            charge_invoice: invoice.as_deref(),
            credit_note: credit_note.as_deref(),
        },
    )?;
    let fresh = subs::item(tx, tenant, &new_item.id)?;
    let item_view = view::item(tx, tenant, fresh)?;
    if immediate {
        let old_view = view::item(tx, tenant, subs::item(tx, tenant, &old.id)?)?;
        outbox::record(
            tx,
            tenant,
            "subscription_item.terminated",
            &old.id,
            &old_view,
        )?;
    }
    let body = json!({
        "subscriptionItem": item_view,
        "previousSubscriptionItem": a.item.id,
        "changeTiming": a.membership.change_timing,
        "creditType": if immediate { a.membership.credit_type.as_str() } else { "none" },
        "effectiveDate": fmt_day(effective),
        "chargedAmount": charged,
        "invoice": invoice,
        "creditNote": credit_note,
    });
    let sub_view = view::load(tx, tenant, &a.sub.id)?;
    outbox::record(
        tx,
        tenant,
        "subscription.changed",
        &a.sub.id,
        &json!({"subscription": sub_view, "change": body}),
    )?;
    Ok(body)
}

fn product_name(ctx: &Ctx, product: &str) -> ApiResult<String> {
    Ok(ctx.tx.query_row(
        "SELECT name FROM products WHERE id = :id",
        rusqlite::named_params! {":id": product},
        |r| r.get(0),
    )?)
}

/// The credit for the old plan by `creditType` (08 §5.5). Only what was billed can be
/// credited: an old period not billed yet (in arrears, or before its billing run) is billed
/// later for the days it ran, so it needs no credit.
fn credit(ctx: &Ctx, item: &str, kind: &str, today: NaiveDate) -> ApiResult<Option<String>> {
    match kind {
        "pro_rata" | "full" => {
            let Some((from, to, Some(invoice))) = documents::billed_period_at(ctx, item, today)?
            else {
                return Ok(None);
            };
            let end = to.succ_opt().unwrap_or(to);
            // Unused days (today through the last billed day) of the days that invoice billed.
            let (unused, billed) = (days_between(today, end), days_between(from, end));
            let (n, d) = if kind == "full" {
                (1, 1)
            } else {
                (unused, billed)
            };
            documents::credit(ctx, &invoice, item, Some(from), n, d)
        }
        "last_invoiced" => match documents::last_invoice_of(ctx, item)? {
            Some(invoice) => documents::credit(ctx, &invoice, item, None, 1, 1),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}
