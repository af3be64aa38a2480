//! SQL for subscriptions, their items and applied discounts, scoped to one tenant; plus the
//! helpers the billing engine calls (`due_items`, `load`, `refresh_next_billing_date`,
//! `start_pending_items`, `terminate_ended`).

use super::model::{day, fmt_day, ItemRow, SubRow};
use super::terms::Terms;
use crate::domain::period::Interval;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

pub(super) const SUB_COLUMNS: &str = "s.id, s.customer_id, s.number, s.external_id, s.name,
    s.status, s.billing_group_id, s.currency_code, s.contract_start, s.billing_start,
    s.contract_end, s.contract_end_before_cancel, s.trial_ends_on, s.contract_period,
    s.cancellation_period, s.later_contract_period, s.later_cancellation_period,
    s.payment_method_id, s.invoice_address_id, s.po_number, s.custom_fields, s.activated_at,
    s.activation_date, s.cancelled_at, s.cancellation_date_type, s.cancellation_reason,
    s.terminated_at, s.paused_at, s.resumed_at, s.resume_mode, s.resume_next_billing_date,
    s.next_billing_date, s.last_billing_at, s.created_at, s.updated_at";

pub(super) fn sub_row(r: &Row) -> rusqlite::Result<SubRow> {
    Ok(SubRow {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        number: r.get(2)?,
        external_id: r.get(3)?,
        name: r.get(4)?,
        status: r.get(5)?,
        billing_group_id: r.get(6)?,
        currency_code: r.get(7)?,
        contract_start: r.get(8)?,
        billing_start: r.get(9)?,
        contract_end: r.get(10)?,
        contract_end_before_cancel: r.get(11)?,
        trial_ends_on: r.get(12)?,
        terms: Terms {
            contract_period: r.get(13)?,
            cancellation_period: r.get(14)?,
            later_contract_period: r.get(15)?,
            later_cancellation_period: r.get(16)?,
        },
        payment_method_id: r.get(17)?,
        invoice_address_id: r.get(18)?,
        po_number: r.get(19)?,
        custom_fields: r.get(20)?,
        activated_at: r.get(21)?,
        activation_date: r.get(22)?,
        cancelled_at: r.get(23)?,
        cancellation_date_type: r.get(24)?,
        cancellation_reason: r.get(25)?,
        terminated_at: r.get(26)?,
        paused_at: r.get(27)?,
        resumed_at: r.get(28)?,
        resume_mode: r.get(29)?,
        resume_next_billing_date: r.get(30)?,
        next_billing_date: r.get(31)?,
        last_billing_at: r.get(32)?,
        created_at: r.get(33)?,
        updated_at: r.get(34)?,
    })
}

const ITEM_SELECT: &str = "SELECT i.id, i.subscription_id, s.customer_id, i.parent_id, i.type,
    i.product_id, pr.name, i.price_plan_id, pp.billing_interval, pp.pay_in_advance, i.name,
    i.description, i.further_information, i.quantity, i.status, i.start_date, i.billing_start,
    i.trial_ends_on, i.billing_anchor, i.next_period_start, i.next_billing_date,
    i.last_billed_from, i.last_billed_to, i.last_billed_at, i.end_date,
    i.end_date_before_cancel, i.periods, i.activated_at, i.cancelled_at, i.terminated_at,
    i.created_at, i.updated_at
    FROM subscription_items i
    JOIN subscriptions s ON s.id = i.subscription_id
    JOIN products pr ON pr.id = i.product_id
    JOIN price_plans pp ON pp.id = i.price_plan_id";

fn item_row(r: &Row) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        customer_id: r.get(2)?,
        parent_id: r.get(3)?,
        kind: r.get(4)?,
        product_id: r.get(5)?,
        product_name: r.get(6)?,
        price_plan_id: r.get(7)?,
        billing_interval: r.get(8)?,
        pay_in_advance: r.get(9)?,
        name: r.get(10)?,
        description: r.get(11)?,
        further_information: r.get(12)?,
        quantity: r.get(13)?,
        status: r.get(14)?,
        start_date: r.get(15)?,
        billing_start: r.get(16)?,
        trial_ends_on: r.get(17)?,
        billing_anchor: r.get(18)?,
        next_period_start: r.get(19)?,
        next_billing_date: r.get(20)?,
        last_billed_from: r.get(21)?,
        last_billed_to: r.get(22)?,
        last_billed_at: r.get(23)?,
        end_date: r.get(24)?,
        end_date_before_cancel: r.get(25)?,
        periods: r.get(26)?,
        activated_at: r.get(27)?,
        cancelled_at: r.get(28)?,
        terminated_at: r.get(29)?,
        created_at: r.get(30)?,
        updated_at: r.get(31)?,
    })
}

/// One subscription row of the tenant; 404 otherwise.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<SubRow> {
    conn.prepare_cached(&format!(
        "SELECT {SUB_COLUMNS} FROM subscriptions s WHERE s.tenant_id = :tenant AND s.id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, sub_row)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Subscription"))
}

/// The items of a subscription, oldest first.
pub fn items(conn: &Connection, tenant: &str, subscription_id: &str) -> ApiResult<Vec<ItemRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "{ITEM_SELECT} WHERE i.tenant_id = :tenant AND i.subscription_id = :sub
             ORDER BY i.created_at, i.id"
        ))?
        .query_map(
            named_params! {":tenant": tenant, ":sub": subscription_id},
            item_row,
        )?
        .collect::<Result<_, _>>()?)
}

/// A subscription with its items (billing engine entry point); 404 when not in the tenant.
pub fn load(conn: &Connection, tenant: &str, id: &str) -> ApiResult<(SubRow, Vec<ItemRow>)> {
    let sub = get(conn, tenant, id)?;
    let items = items(conn, tenant, id)?;
    Ok((sub, items))
}

/// One item of the tenant; 404 otherwise.
pub fn item(conn: &Connection, tenant: &str, id: &str) -> ApiResult<ItemRow> {
    conn.prepare_cached(&format!(
        "{ITEM_SELECT} WHERE i.tenant_id = :tenant AND i.id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, item_row)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Subscription item"))
}

/// Items the billing engine must look at for a run on `date` (all tenants' rules alike):
///
/// - the subscription is `active`, `cancelled` or `terminated` (never `draft`, `offer` or
///   `paused`: a paused subscription bills nothing until resumed; after a resume without
///   `nextBillingDate` the missed periods are simply still due here);
/// - the item has `next_billing_date <= date` (`pending`, `active`, `canceled`, and
///   `terminated` items that still owe a final period, e.g. usage in arrears up to the end).
///
/// Contract for the engine: bill the periods `billing_anchor + k × interval` from
/// `next_period_start` on (a one-time charge is the single day `next_period_start`), never
/// before `trial_ends_on` (the anchor already respects it), capped at `end_date` inclusive
/// (prorated), advance `next_period_start` / `next_billing_date` / `last_billed_*` with
/// [`mark_billed`], and call [`refresh_next_billing_date`] per subscription. Ordered by
/// customer, subscription and item so one invoice per customer is built in one pass.
pub fn due_items(conn: &Connection, tenant: &str, date: NaiveDate) -> ApiResult<Vec<ItemRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "{ITEM_SELECT} WHERE i.tenant_id = :tenant
               AND s.status IN ('active', 'cancelled', 'terminated')
               AND i.next_billing_date IS NOT NULL AND i.next_billing_date <= :date
             ORDER BY s.customer_id, s.id, i.created_at, i.id"
        ))?
        .query_map(
            named_params! {":tenant": tenant, ":date": fmt_day(date)},
            item_row,
        )?
        .collect::<Result<_, _>>()?)
}

/// When the period starting on `start` falls due: its start when billed in advance, its end
/// otherwise (the day after its last day), or the day after `end` when the item ends inside it.
/// `None` when `start` lies after the item's last covered day: nothing is left to bill.
pub fn due_date(
    start: NaiveDate,
    interval: Option<Interval>,
    pay_in_advance: bool,
    end: Option<NaiveDate>,
) -> Option<NaiveDate> {
    if end.is_some_and(|e| start > e) {
        return None;
    }
    let (Some(interval), false) = (interval, pay_in_advance) else {
        return Some(start);
    };
    let period_end = interval.advance(start, 1)?;
    let capped = end
        .and_then(|e| e.succ_opt())
        .map_or(period_end, |e| e.min(period_end));
    Some(capped)
}

/// Recomputes an item's `next_billing_date` from its `next_period_start` and `end_date`
/// (after a cancellation, a revocation, a resume or a trial change).
pub fn reschedule(conn: &Connection, item: &ItemRow) -> ApiResult<()> {
    let next = match item.next_period_start.as_deref() {
        Some(start) => {
            let interval = item.billing_interval.as_deref().and_then(Interval::parse);
            let end = item.end_date.as_deref().map(day).transpose()?;
            due_date(day(start)?, interval, item.pay_in_advance, end).map(fmt_day)
        }
        None => None,
    };
    conn.prepare_cached(
        "UPDATE subscription_items SET next_billing_date = :next, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! {":next": next, ":id": item.id, ":now": time::now()})?;
    Ok(())
}

/// Records that the engine billed an item through `billed_to` (last covered day) and moves the
/// schedule to the next period (`next_start`, `None` when the item has nothing left).
pub fn mark_billed(
    conn: &Connection,
    item: &ItemRow,
    billed_from: NaiveDate,
    billed_to: NaiveDate,
    next_start: Option<NaiveDate>,
) -> ApiResult<()> {
    let now = time::now();
    conn.prepare_cached(
        "UPDATE subscription_items SET last_billed_from = :from, last_billed_to = :to,
             last_billed_at = :now, next_period_start = :next, updated_at = :now WHERE id = :id",
    )?
    .execute(named_params! {
        ":from": fmt_day(billed_from), ":to": fmt_day(billed_to),
        ":next": next_start.map(fmt_day), ":now": now, ":id": item.id,
    })?;
    let mut moved = item.clone();
    moved.next_period_start = next_start.map(fmt_day);
    reschedule(conn, &moved)?;
    conn.prepare_cached("UPDATE subscriptions SET last_billing_at = :now WHERE id = :id")?
        .execute(named_params! {":now": now, ":id": item.subscription_id})?;
    Ok(())
}

/// Keeps `subscriptions.next_billing_date` = the earliest `next_billing_date` of its items.
pub fn refresh_next_billing_date(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE subscriptions SET next_billing_date =
             (SELECT min(next_billing_date) FROM subscription_items WHERE subscription_id = :id)
         WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {":tenant": tenant, ":id": id})?;
    Ok(())
}

/// Pending items of running subscriptions whose start date is reached become `active`
/// (scheduler / billing run on `today`). Returns how many changed. Items still waiting for
/// their own activation (never scheduled, never billed: see `activate.rs`) stay `pending`.
pub fn start_pending_items(conn: &Connection, tenant: &str, today: NaiveDate) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE subscription_items SET status = 'active', activated_at = :now, updated_at = :now
             WHERE tenant_id = :tenant AND status = 'pending' AND start_date <= :today
               AND (next_period_start IS NOT NULL OR last_billed_to IS NOT NULL)
               AND subscription_id IN (SELECT id FROM subscriptions
                   WHERE tenant_id = :tenant AND status IN ('active', 'paused', 'cancelled'))",
        )?
        .execute(named_params! {":tenant": tenant, ":today": fmt_day(today), ":now": time::now()})?)
}

/// Cancelled items and subscriptions whose last covered day is before `today` become
/// `terminated` (scheduler / billing run). Returns the ids of subscriptions that ended, so the
/// caller can record `subscription.terminated` for each.
pub fn terminate_ended(
    conn: &Connection,
    tenant: &str,
    today: NaiveDate,
) -> ApiResult<Vec<String>> {
    let (today, now) = (fmt_day(today), time::now());
    conn.prepare_cached(
        "UPDATE subscription_items SET status = 'terminated', terminated_at = :now, updated_at = :now
         WHERE tenant_id = :tenant AND status = 'canceled' AND end_date < :today",
    )?
    .execute(named_params! {":tenant": tenant, ":today": today, ":now": now})?;
    Ok(conn
        .prepare_cached(
            "UPDATE subscriptions SET status = 'terminated', terminated_at = :now, updated_at = :now
             WHERE tenant_id = :tenant AND status = 'cancelled' AND contract_end < :today
             RETURNING id",
        )?
        .query_map(named_params! {":tenant": tenant, ":today": today, ":now": now}, |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?)
}

/// Inserts a subscription row as given.
pub fn insert(conn: &Connection, tenant: &str, s: &SubRow) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (id, tenant_id, customer_id, number, external_id, name, status,
             billing_group_id, currency_code, contract_start, billing_start, contract_end,
             trial_ends_on, contract_period, cancellation_period, later_contract_period,
             later_cancellation_period, payment_method_id, invoice_address_id, po_number,
             custom_fields, created_at, updated_at)
         VALUES (:id, :tenant, :customer, :number, :external_id, :name, :status, :group,
             :currency, :contract_start, :billing_start, :contract_end, :trial, :cp, :np, :lcp,
             :lnp, :pm, :address, :po, :custom, :now, :now)",
    )?
    .execute(named_params! {
        ":id": s.id, ":tenant": tenant, ":customer": s.customer_id, ":number": s.number,
        ":external_id": s.external_id, ":name": s.name, ":status": s.status,
        ":group": s.billing_group_id, ":currency": s.currency_code,
        ":contract_start": s.contract_start, ":billing_start": s.billing_start,
        ":contract_end": s.contract_end, ":trial": s.trial_ends_on,
        ":cp": s.terms.contract_period, ":np": s.terms.cancellation_period,
        ":lcp": s.terms.later_contract_period, ":lnp": s.terms.later_cancellation_period,
        ":pm": s.payment_method_id, ":address": s.invoice_address_id, ":po": s.po_number,
        ":custom": s.custom_fields, ":now": s.created_at,
    })?;
    Ok(())
}

/// Writes every mutable column of a subscription row back (the handlers change the row in
/// memory, then save it once).
pub fn save(conn: &Connection, tenant: &str, s: &SubRow) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE subscriptions SET external_id = :external_id, name = :name, status = :status,
             billing_group_id = :group, contract_start = :contract_start,
             billing_start = :billing_start, contract_end = :contract_end,
             contract_end_before_cancel = :end_before, trial_ends_on = :trial,
             contract_period = :cp, cancellation_period = :np, later_contract_period = :lcp,
             later_cancellation_period = :lnp, payment_method_id = :pm,
             invoice_address_id = :address, po_number = :po, custom_fields = :custom,
             activated_at = :activated_at, activation_date = :activation_date,
             cancelled_at = :cancelled_at, cancellation_date_type = :cancel_type,
             cancellation_reason = :reason, terminated_at = :terminated_at,
             paused_at = :paused_at, resumed_at = :resumed_at, resume_mode = :resume_mode,
             resume_next_billing_date = :resume_next, updated_at = :now
         WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {
        ":id": s.id, ":tenant": tenant, ":external_id": s.external_id, ":name": s.name,
        ":status": s.status, ":group": s.billing_group_id,
        ":contract_start": s.contract_start, ":billing_start": s.billing_start,
        ":contract_end": s.contract_end, ":end_before": s.contract_end_before_cancel,
        ":trial": s.trial_ends_on, ":cp": s.terms.contract_period,
        ":np": s.terms.cancellation_period, ":lcp": s.terms.later_contract_period,
        ":lnp": s.terms.later_cancellation_period, ":pm": s.payment_method_id,
        ":address": s.invoice_address_id, ":po": s.po_number, ":custom": s.custom_fields,
        ":activated_at": s.activated_at, ":activation_date": s.activation_date,
        ":cancelled_at": s.cancelled_at, ":cancel_type": s.cancellation_date_type,
        ":reason": s.cancellation_reason, ":terminated_at": s.terminated_at,
        ":paused_at": s.paused_at, ":resumed_at": s.resumed_at, ":resume_mode": s.resume_mode,
        ":resume_next": s.resume_next_billing_date, ":now": time::now(),
    })?;
    refresh_next_billing_date(conn, tenant, &s.id)
}

/// Inserts an item row as given (schedule columns included).
pub fn insert_item(conn: &Connection, tenant: &str, i: &ItemRow) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO subscription_items (id, tenant_id, subscription_id, parent_id, type,
             product_id, price_plan_id, name, description, further_information, quantity, status,
             start_date, billing_start, trial_ends_on, billing_anchor, next_period_start,
             next_billing_date, end_date, periods, activated_at, created_at, updated_at)
         VALUES (:id, :tenant, :sub, :parent, :type, :product, :plan, :name, :description,
             :further, :quantity, :status, :start, :billing_start, :trial, :anchor, :next_start,
             :next_billing, :end, :periods, :activated_at, :now, :now)",
    )?
    .execute(named_params! {
        ":id": i.id, ":tenant": tenant, ":sub": i.subscription_id, ":parent": i.parent_id,
        ":type": i.kind, ":product": i.product_id, ":plan": i.price_plan_id, ":name": i.name,
        ":description": i.description, ":further": i.further_information,
        ":quantity": i.quantity, ":status": i.status, ":start": i.start_date,
        ":billing_start": i.billing_start, ":trial": i.trial_ends_on, ":anchor": i.billing_anchor,
        ":next_start": i.next_period_start, ":next_billing": i.next_billing_date,
        ":end": i.end_date, ":periods": i.periods, ":activated_at": i.activated_at,
        ":now": i.created_at,
    })?;
    Ok(())
}

/// Writes the mutable columns of an item back and recomputes its due date.
pub fn save_item(conn: &Connection, i: &ItemRow) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE subscription_items SET name = :name, description = :description,
             further_information = :further, status = :status, start_date = :start,
             billing_start = :billing_start, trial_ends_on = :trial,
             billing_anchor = :anchor, next_period_start = :next_start, end_date = :end,
             end_date_before_cancel = :end_before, periods = :periods,
             activated_at = :activated_at, cancelled_at = :cancelled_at,
             terminated_at = :terminated_at, updated_at = :now
         WHERE id = :id",
    )?
    .execute(named_params! {
        ":id": i.id, ":name": i.name, ":description": i.description,
        ":further": i.further_information, ":status": i.status, ":start": i.start_date,
        ":billing_start": i.billing_start, ":trial": i.trial_ends_on,
        ":anchor": i.billing_anchor, ":next_start": i.next_period_start, ":end": i.end_date,
        ":end_before": i.end_date_before_cancel, ":periods": i.periods,
        ":activated_at": i.activated_at, ":cancelled_at": i.cancelled_at,
        ":terminated_at": i.terminated_at, ":now": time::now(),
    })?;
    reschedule(conn, i)
}

/// Records a coupon applied to an item.
pub fn insert_discount(
    conn: &Connection,
    tenant: &str,
    item: &ItemRow,
    coupon_id: &str,
    remaining: Option<u32>,
) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO subscription_discounts (id, tenant_id, subscription_id, subscription_item_id,
             coupon_id, remaining_periods, created_at)
         VALUES (:id, :tenant, :sub, :item, :coupon, :remaining, :now)",
    )?
    .execute(named_params! {
        ":id": crate::domain::ids::new_id(), ":tenant": tenant, ":sub": item.subscription_id,
        ":item": item.id, ":coupon": coupon_id, ":remaining": remaining, ":now": time::now(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn due_dates_in_advance_arrears_and_at_the_end() {
        let monthly = Interval::parse("1M");
        // In advance: due at the period start.
        assert_eq!(
            due_date(d("2026-01-31"), monthly, true, None),
            Some(d("2026-01-31"))
        );
        // In arrears: due when the period is over (31 Jan + 1M = 28 Feb, clamped).
        assert_eq!(
            due_date(d("2026-01-31"), monthly, false, None),
            Some(d("2026-02-28"))
        );
        // Ending inside the period (last day 15 Feb): the partial period is due on 16 Feb.
        let end = Some(d("2026-02-15"));
        assert_eq!(
            due_date(d("2026-01-31"), monthly, false, end),
            Some(d("2026-02-16"))
        );
        // Nothing left after the last covered day.
        assert_eq!(due_date(d("2026-02-28"), monthly, true, end), None);
        // One-time charges fall due on their day.
        assert_eq!(
            due_date(d("2026-03-01"), None, false, None),
            Some(d("2026-03-01"))
        );
    }
}
