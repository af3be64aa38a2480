//! `PUT /subscriptions/{id}/activate` (reference 08 §1.6): activate all items, or only the
//! items named in `items`.
//!
//! The reference's kontor note says kontor always activates every item; issue 5 asks for
//! Fynn's "all or selected items", so kontor accepts an optional `items` list (kontor):
//!
//! - Without `items` (or `null`), every item still waiting for activation is activated: the
//!   reference's behaviour.
//! - With `items` (ids of the subscription's items), only those are activated. The others stay
//!   as they are: `pending`, not scheduled (`billing.nextBillingAt` null) and never billed
//!   until a later activation names them (or leaves `items` out).
//! - The first activation moves a `draft` or `offer` subscription to `active`, sets
//!   `activatedAt` and records `subscription.activated`. An `active` or `paused` subscription
//!   with items still waiting can be activated again for them; its status and `activatedAt`
//!   stay, and `subscription.updated` is recorded. Nothing left to activate, or any other
//!   status: 409.
//! - Billing follows each item's `billingStart` at the first activation (08 §1.6; a billing
//!   start in the past is billed from there, as in migrations). An item activated later starts
//!   on its activation date: when its start date or billing start lies before `activationDate`,
//!   it moves to that date, so nothing before it is billed. Items whose start date lies after the
//!   activation date stay `pending` until that date, as before.
//! - Child items follow their parent.
//! - An item still waiting that is cancelled or terminated (by itself or with its subscription)
//!   is dropped at once: `terminated`, covering no day, never billed (`actions.rs`).
//! - Items waiting stay `pending` when their start date passes (`store::start_pending_items`)
//!   and cannot change tiers (the product group change needs an `active` item).

use super::actions::finish;
use super::model::{day, fmt_day, ItemRow};
use super::{input, store};
use crate::domain::{settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::input::Field;
use crate::http::{Ctx, Reply};
use chrono::NaiveDate;
use std::collections::HashSet;

/// Whether the item is still waiting for activation: never scheduled and never billed.
/// (Items ordered on a running subscription and new items of a tier change are scheduled at
/// once; after billing, an item's schedule stays set or it has billed periods.)
pub(crate) fn awaits_activation(item: &ItemRow) -> bool {
    item.status == "pending" && item.next_period_start.is_none() && item.last_billed_to.is_none()
}

/// Starts an item's schedule; a later activation moves the item's start to `date` first.
fn schedule(item: &mut ItemRow, date: NaiveDate, later: bool, now: &str) -> ApiResult<()> {
    if later {
        if day(&item.start_date)? < date {
            item.start_date = fmt_day(date);
        }
        if day(&item.billing_start)? < date {
            item.billing_start = fmt_day(date);
        }
        if day(&item.billing_anchor)? < date {
            item.billing_anchor = fmt_day(date);
        }
    }
    if day(&item.start_date)? <= date {
        item.status = "active".into();
        item.activated_at = Some(now.to_string());
    }
    item.next_period_start = Some(item.billing_anchor.clone());
    Ok(())
}

pub(super) fn activate(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    let first = matches!(sub.status.as_str(), "draft" | "offer");
    let items = store::items(tx, tenant, &sub.id)?;
    let waiting: Vec<&ItemRow> = items.iter().filter(|i| awaits_activation(i)).collect();
    let again = matches!(sub.status.as_str(), "active" | "paused") && !waiting.is_empty();
    if !first && !again {
        return Err(ApiError::Conflict(
            "Only a draft or offer subscription, or an active or paused one with items waiting \
             for activation, can be activated."
                .into(),
        ));
    }
    let tz = settings::time_zone(tx, tenant)?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["activationDate", "items"]);
    let date = input::date(&mut body, "activationDate", tz).value();
    let mut chosen: Option<HashSet<String>> = None;
    if let Field::Value(list) = body.array("items") {
        if list.is_empty() {
            body.violation("items", "Select at least one item.", "too_few");
        }
        let mut set = HashSet::new();
        for (k, v) in list.iter().enumerate() {
            let path = format!("items[{k}]");
            match v.as_str().and_then(|id| items.iter().find(|i| i.id == id)) {
                None => body.violation(
                    &path,
                    "This item does not belong to the subscription.",
                    "not_found",
                ),
                Some(i) if !awaits_activation(i) => {
                    body.violation(&path, "This item is already activated.", "already_active")
                }
                Some(i) => {
                    set.insert(i.id.clone());
                }
            }
        }
        chosen = Some(set);
    }
    body.finish()?;
    let date = match date {
        Some(d) => d,
        None => settings::today(tx, tenant)?,
    };
    let picked = |i: &ItemRow| {
        let named = |id: &str| chosen.as_ref().is_none_or(|c| c.contains(id));
        // Child items follow their parent.
        named(&i.id) || i.parent_id.as_deref().is_some_and(named)
    };
    let now = time::now();
    for item in waiting {
        if !picked(item) {
            continue;
        }
        let mut item = item.clone();
        schedule(&mut item, date, !first, &now)?;
        store::save_item(tx, &item)?;
    }
    if first {
        sub.status = "active".into();
        sub.activated_at = Some(now);
        sub.activation_date = Some(fmt_day(date));
        finish(tx, tenant, &sub, &["subscription.activated"])
    } else {
        finish(tx, tenant, &sub, &["subscription.updated"])
    }
}
