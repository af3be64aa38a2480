//! The subscription state machine (reference 08 §1.4, §1.6–§1.11): activate (in
//! `activate.rs`), cancel, revoke-cancellation, terminate, pause, resume, extend-trial,
//! revoke-trial, invoice address and payment method. Any action not allowed in the current
//! status is a 409; each change records its outbox event in the same transaction.
//!
//! "Today" is the tenant-local date. Ends recorded by `immediate` and `terminate` are today
//! inclusive: the day of the action is still covered.

use super::activate::awaits_activation;
use super::model::{day, fmt_day, ItemRow, SubRow};
use super::terms::next_possible_end;
use super::{contact, input, store, view, WRITE};
use crate::domain::period::Interval;
use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::input::Input;
use crate::http::{patch, put, Ctx, Reply, Route};
use chrono::NaiveDate;
use rusqlite::Connection;

pub fn routes() -> Vec<Route> {
    vec![
        put(
            "/subscriptions/{id}/activate",
            WRITE,
            "Activate a draft subscription (all or selected items)",
            super::activate::activate,
        ),
        put(
            "/subscriptions/{id}/cancel",
            WRITE,
            "Cancel a subscription",
            cancel,
        ),
        put(
            "/subscriptions/{id}/revoke-cancellation",
            WRITE,
            "Revoke a cancellation",
            revoke_cancellation,
        ),
        put(
            "/subscriptions/{id}/terminate",
            WRITE,
            "End a subscription now",
            terminate,
        ),
        put("/subscriptions/{id}/pause", WRITE, "Pause billing", pause),
        put(
            "/subscriptions/{id}/resume",
            WRITE,
            "Resume billing",
            resume,
        ),
        put(
            "/subscriptions/{id}/extend-trial",
            WRITE,
            "Move the trial end",
            extend_trial,
        ),
        put(
            "/subscriptions/{id}/revoke-trial",
            WRITE,
            "End the trial now",
            revoke_trial,
        ),
        put(
            "/subscriptions/{id}/invoice-address",
            WRITE,
            "Set the invoice address",
            contact::invoice_address,
        ),
        patch(
            "/subscriptions/{id}/payment-method",
            WRITE,
            "Set the payment method",
            contact::payment_method,
        ),
    ]
}

fn conflict(msg: &str) -> ApiError {
    ApiError::Conflict(msg.to_string())
}

/// Saves the subscription, records `events` with its fresh read shape, answers 200.
pub(super) fn finish(
    tx: &Connection,
    tenant: &str,
    sub: &SubRow,
    events: &[&str],
) -> ApiResult<Reply> {
    store::save(tx, tenant, sub)?;
    let v = view::load(tx, tenant, &sub.id)?;
    for e in events {
        outbox::record(tx, tenant, e, &sub.id, &v)?;
    }
    Reply::ok(&v)
}

fn live_items(tx: &Connection, tenant: &str, sub: &SubRow) -> ApiResult<Vec<ItemRow>> {
    Ok(store::items(tx, tenant, &sub.id)?
        .into_iter()
        .filter(|i| i.status != "terminated")
        .collect())
}

/// The cancel body (08 §1.7), shared with item cancellation.
pub(crate) struct CancelBody {
    pub kind: String,
    pub date: Option<NaiveDate>,
    pub reason: Option<String>,
}

pub(crate) fn cancel_body(tx: &Connection, tenant: &str, mut body: Input) -> ApiResult<CancelBody> {
    let tz = settings::time_zone(tx, tenant)?;
    let today = settings::today(tx, tenant)?;
    body.reject_unknown(&[
        "cancellationDateType",
        "cancellationDate",
        "sendConfirmationEmail",
        "reason",
    ]);
    let kind = body.required_string("cancellationDateType");
    if let Some(k) = &kind {
        body.check_one_of(
            "cancellationDateType",
            k,
            &["immediate", "next_possible", "custom"],
        );
    }
    let date = input::date(&mut body, "cancellationDate", tz).value();
    // Accepted for Fynn clients; kontor sends no cancellation e-mails yet.
    let _ = body.bool("sendConfirmationEmail");
    let reason = input::text(&mut body, "reason", 255).value();
    if kind.as_deref() == Some("custom") {
        match date {
            None if !body.has("cancellationDate")
                || body.raw("cancellationDate").is_some_and(|v| v.is_null()) =>
            {
                body.violation(
                    "cancellationDate",
                    "This value should not be blank.",
                    "not_blank",
                )
            }
            Some(d) if d < today => body.violation(
                "cancellationDate",
                "The cancellation date must not lie in the past.",
                "in_the_past",
            ),
            _ => {}
        }
    }
    body.finish()?;
    Ok(CancelBody {
        kind: kind.unwrap_or_default(),
        date,
        reason,
    })
}

/// The last covered day of `item` for a cancellation of kind `c` declared on `today`.
pub(crate) fn item_end(
    sub: &SubRow,
    item: &ItemRow,
    c: &CancelBody,
    today: NaiveDate,
) -> ApiResult<NaiveDate> {
    let end = match c.kind.as_str() {
        "immediate" => today,
        "custom" => c.date.unwrap_or(today),
        _ => {
            let (terms, start) = match item.own_terms()? {
                Some(t) => (t, day(&item.start_date)?),
                None => (sub.terms.clone(), day(&sub.contract_start)?),
            };
            let interval = item.billing_interval.as_deref().and_then(Interval::parse);
            let billing = interval
                .map(|i| day(&item.billing_anchor).map(|a| (a, i)))
                .transpose()?;
            next_possible_end(&terms, start, billing, today).ok_or_else(|| {
                ApiError::Internal(format!("item {}: no cancellation date", item.id))
            })?
        }
    };
    // A fixed end that comes earlier wins (08 §1.12 step 4).
    let fixed = item.end_date.as_deref().map(day).transpose()?;
    Ok(fixed.map_or(end, |f| f.min(end)))
}

/// An item still waiting for its activation (`activate.rs`) that is cancelled or terminated,
/// by itself or with its subscription, is dropped at once (kontor): `terminated`, its last
/// covered day the day before its billing start. It never ran, so it covered no day and nothing
/// is ever billed for it; revoking a cancellation does not bring it back.
fn drop_unactivated(item: &mut ItemRow, now: &str) -> ApiResult<()> {
    let anchor = day(&item.billing_anchor)?;
    item.end_date_before_cancel = item.end_date.clone();
    item.end_date = Some(fmt_day(anchor.pred_opt().unwrap_or(anchor)));
    item.status = "terminated".into();
    item.terminated_at = Some(now.to_string());
    Ok(())
}

/// Applies a cancellation ending on `end` to one item.
pub(crate) fn cancel_item(
    item: &mut ItemRow,
    end: NaiveDate,
    immediate: bool,
    now: &str,
) -> ApiResult<()> {
    if awaits_activation(item) {
        item.cancelled_at = Some(now.to_string());
        return drop_unactivated(item, now);
    }
    item.end_date_before_cancel = item.end_date.clone();
    item.end_date = Some(fmt_day(end));
    item.cancelled_at = Some(now.to_string());
    if immediate {
        item.status = "terminated".into();
        item.terminated_at = Some(now.to_string());
    } else {
        item.status = "canceled".into();
    }
    Ok(())
}

fn cancel(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    if !matches!(sub.status.as_str(), "active" | "paused") {
        return Err(conflict(
            "Only an active or paused subscription can be cancelled.",
        ));
    }
    let c = cancel_body(tx, tenant, ctx.input()?)?;
    let today = settings::today(tx, tenant)?;
    let immediate = c.kind == "immediate";
    let now = time::now();
    let mut last: Option<NaiveDate> = None;
    for mut item in live_items(tx, tenant, &sub)? {
        let end = item_end(&sub, &item, &c, today)?;
        last = Some(last.map_or(end, |l| l.max(end)));
        cancel_item(&mut item, end, immediate, &now)?;
        store::save_item(tx, &item)?;
    }
    let end = last.unwrap_or(today);
    let fixed = sub.contract_end.as_deref().map(day).transpose()?;
    sub.contract_end_before_cancel = sub.contract_end.clone();
    sub.contract_end = Some(fmt_day(fixed.map_or(end, |f| f.min(end))));
    sub.cancelled_at = Some(now.clone());
    sub.cancellation_date_type = Some(c.kind.clone());
    sub.cancellation_reason = c.reason;
    if immediate {
        sub.status = "terminated".into();
        sub.terminated_at = Some(now);
        finish(
            tx,
            tenant,
            &sub,
            &["subscription.canceled", "subscription.terminated"],
        )
    } else {
        sub.status = "cancelled".into();
        finish(tx, tenant, &sub, &["subscription.canceled"])
    }
}

fn revoke_cancellation(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    let today = settings::today(tx, tenant)?;
    let reached = sub
        .contract_end
        .as_deref()
        .map(day)
        .transpose()?
        .is_some_and(|e| e < today);
    if sub.status != "cancelled" || reached {
        return Err(conflict(
            "Only a cancelled subscription whose end date has not been reached can be revoked.",
        ));
    }
    for mut item in store::items(tx, tenant, &sub.id)? {
        if item.status != "canceled" {
            continue;
        }
        item.status = if day(&item.start_date)? <= today {
            "active"
        } else {
            "pending"
        }
        .into();
        item.end_date = item.end_date_before_cancel.take();
        item.cancelled_at = None;
        store::save_item(tx, &item)?;
    }
    sub.status = "active".into();
    sub.contract_end = sub.contract_end_before_cancel.take();
    sub.cancelled_at = None;
    sub.cancellation_date_type = None;
    sub.cancellation_reason = None;
    finish(tx, tenant, &sub, &["subscription.cancellation_revoked"])
}

/// Ends an item today (its end stays earlier if it already was).
pub(crate) fn terminate_item(item: &mut ItemRow, today: NaiveDate, now: &str) -> ApiResult<()> {
    if awaits_activation(item) {
        return drop_unactivated(item, now);
    }
    let end = item
        .end_date
        .as_deref()
        .map(day)
        .transpose()?
        .map_or(today, |e| e.min(today));
    item.end_date = Some(fmt_day(end));
    item.status = "terminated".into();
    item.terminated_at = Some(now.to_string());
    Ok(())
}

fn terminate(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    if !matches!(sub.status.as_str(), "active" | "paused" | "cancelled") {
        return Err(conflict(
            "Only an active, paused or cancelled subscription can be terminated.",
        ));
    }
    let today = settings::today(tx, tenant)?;
    let now = time::now();
    for mut item in live_items(tx, tenant, &sub)? {
        terminate_item(&mut item, today, &now)?;
        store::save_item(tx, &item)?;
    }
    let end = sub
        .contract_end
        .as_deref()
        .map(day)
        .transpose()?
        .map_or(today, |e| e.min(today));
    sub.contract_end = Some(fmt_day(end));
    sub.status = "terminated".into();
    sub.terminated_at = Some(now);
    finish(tx, tenant, &sub, &["subscription.terminated"])
}

fn pause(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    if sub.status != "active" {
        return Err(conflict("Only an active subscription can be paused."));
    }
    sub.status = "paused".into();
    sub.paused_at = Some(fmt_day(settings::today(tx, tenant)?));
    sub.resumed_at = None;
    sub.resume_mode = None;
    sub.resume_next_billing_date = None;
    finish(tx, tenant, &sub, &["subscription.paused"])
}

/// 08 §1.9. Without `nextBillingDate` the schedule is untouched, so the next billing run bills
/// every period missed during the pause ("resume billing"). With it, every item restarts on
/// that date ("ignore previous billing"): the missed periods are never billed.
fn resume(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    if sub.status != "paused" {
        return Err(conflict("Only a paused subscription can be resumed."));
    }
    let tz = settings::time_zone(tx, tenant)?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["nextBillingDate"]);
    let next = input::date(&mut body, "nextBillingDate", tz).value();
    let items = live_items(tx, tenant, &sub)?;
    if let Some(next) = next {
        // Never re-bill: periods before the pause, or already billed in advance, stay billed.
        let mut floor = sub.paused_at.as_deref().map(day).transpose()?;
        for i in &items {
            if let Some(s) = i.next_period_start.as_deref() {
                floor = floor.max(Some(day(s)?));
            }
        }
        if let Some(f) = floor.filter(|f| next < *f) {
            body.violation(
                "nextBillingDate",
                &format!("The next billing date must not lie before {}.", fmt_day(f)),
                "too_early",
            );
        }
    }
    body.finish()?;
    if let Some(next) = next {
        for mut item in items {
            if item.next_period_start.is_some() {
                item.billing_anchor = fmt_day(next);
                item.next_period_start = Some(fmt_day(next));
                store::save_item(tx, &item)?;
            }
        }
    }
    sub.status = "active".into();
    sub.resumed_at = Some(fmt_day(settings::today(tx, tenant)?));
    sub.resume_mode = Some(
        if next.is_some() {
            "skip"
        } else {
            "bill_missed"
        }
        .into(),
    );
    sub.resume_next_billing_date = next.map(fmt_day);
    finish(tx, tenant, &sub, &["subscription.resumed"])
}

/// Moves the trial end of the subscription and of its items still in trial; an item's first
/// period is re-anchored unless something was billed already.
fn move_trial(tx: &Connection, tenant: &str, sub: &mut SubRow, end: NaiveDate) -> ApiResult<()> {
    sub.trial_ends_on = Some(fmt_day(end));
    for mut item in live_items(tx, tenant, sub)? {
        if item.trial_ends_on.is_none() || item.last_billed_from.is_some() {
            continue;
        }
        item.trial_ends_on = Some(fmt_day(end));
        item.billing_anchor = fmt_day(end.max(day(&item.billing_start)?));
        if item.next_period_start.is_some() {
            item.next_period_start = Some(item.billing_anchor.clone());
        }
        store::save_item(tx, &item)?;
    }
    Ok(())
}

fn running_trial(tx: &Connection, tenant: &str, sub: &SubRow) -> ApiResult<NaiveDate> {
    let today = settings::today(tx, tenant)?;
    match sub.trial_ends_on.as_deref().map(day).transpose()? {
        Some(end) if end > today && sub.status != "terminated" => Ok(end),
        _ => Err(conflict("The subscription has no running trial.")),
    }
}

fn extend_trial(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    let current = running_trial(tx, tenant, &sub)?;
    let tz = settings::time_zone(tx, tenant)?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["trialEndsOn"]);
    let end = input::date(&mut body, "trialEndsOn", tz).value();
    match end {
        None if body.is_valid() => body.violation(
            "trialEndsOn",
            "This value should not be blank.",
            "not_blank",
        ),
        Some(e) if e <= current => body.violation(
            "trialEndsOn",
            "The new trial end must be later than the current one.",
            "too_early",
        ),
        _ => {}
    }
    body.finish()?;
    move_trial(tx, tenant, &mut sub, end.unwrap_or(current))?;
    finish(tx, tenant, &sub, &["subscription.trial_extended"])
}

fn revoke_trial(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    running_trial(tx, tenant, &sub)?;
    // Billing starts today: today becomes the first billable day.
    move_trial(tx, tenant, &mut sub, settings::today(tx, tenant)?)?;
    finish(tx, tenant, &sub, &["subscription.trial_expired"])
}
