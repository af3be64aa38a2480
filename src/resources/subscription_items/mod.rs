//! Subscription items (reference 08 §2): read, merge-patch the printed texts and contract
//! terms, cancel or terminate one item, and read an applied discount. Item cancellation uses
//! the subscription's cancel body and rules (§1.7); when every item of a subscription is
//! terminated, the subscription is terminated too (§2.4).

use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::{get, patch, put, Ctx, Reply, Route};
use crate::resources::subscriptions::{self as subs, input, model::ItemRow, store, view};
use rusqlite::Connection;

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/subscription-items/{id}",
            subs::READ,
            "One subscription item",
            read,
        ),
        patch(
            "/subscription-items/{id}",
            subs::WRITE,
            "Update a subscription item",
            update,
        ),
        put(
            "/subscription-items/{id}/cancel",
            subs::WRITE,
            "Cancel one item",
            cancel,
        ),
        put(
            "/subscription-items/{id}/terminate",
            subs::WRITE,
            "End one item now",
            terminate,
        ),
        get(
            "/subscription-item-applied-discounts/{id}",
            subs::READ,
            "One applied discount",
            discount,
        ),
    ]
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let item = store::item(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    Reply::ok(&view::item(ctx.tx, ctx.tenant(), item)?)
}

fn discount(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&view::discount(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

/// Saves the item, records `subscription.updated` (and `extra` events) and answers the item.
fn done(tx: &Connection, tenant: &str, item: &ItemRow, extra: &[&str]) -> ApiResult<Reply> {
    store::save_item(tx, item)?;
    store::refresh_next_billing_date(tx, tenant, &item.subscription_id)?;
    let fresh = store::item(tx, tenant, &item.id)?;
    let item_view = view::item(tx, tenant, fresh)?;
    for e in extra {
        outbox::record(tx, tenant, e, &item.id, &item_view)?;
    }
    let sub_view = view::load(tx, tenant, &item.subscription_id)?;
    outbox::record(
        tx,
        tenant,
        "subscription.updated",
        &item.subscription_id,
        &sub_view,
    )?;
    Reply::ok(&item_view)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut item = store::item(tx, tenant, ctx.param("id"))?;
    if item.status == "terminated" {
        return Err(ApiError::Conflict(
            "A terminated item cannot be changed.".into(),
        ));
    }
    let mut body = ctx.input()?;
    body.reject_unknown(&["name", "description", "furtherInformation", "periods"]);
    let name = input::text(&mut body, "name", 255).patch();
    let description = input::text(&mut body, "description", 5000).patch();
    let further = input::text(&mut body, "furtherInformation", 5000).patch();
    let periods = input::terms(&mut body, "periods").patch();
    body.finish()?;
    if let Some(v) = name {
        item.name = v;
    }
    if let Some(v) = description {
        item.description = v;
    }
    if let Some(v) = further {
        item.further_information = v;
    }
    if let Some(p) = periods {
        // `null` (or an empty object) inherits the subscription's terms again.
        item.periods = match p.filter(|t| !t.is_empty()) {
            Some(t) => Some(serde_json::to_string(&t)?),
            None => None,
        };
    }
    done(tx, tenant, &item, &[])
}

fn cancel(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut item = store::item(tx, tenant, ctx.param("id"))?;
    let sub = store::get(tx, tenant, &item.subscription_id)?;
    if !matches!(sub.status.as_str(), "active" | "paused")
        || !matches!(item.status.as_str(), "active" | "pending")
    {
        return Err(ApiError::Conflict(
            "Only a pending or active item of an active or paused subscription can be cancelled."
                .into(),
        ));
    }
    let c = subs::actions_api::cancel_body(tx, tenant, ctx.input()?)?;
    let today = settings::today(tx, tenant)?;
    let end = subs::actions_api::item_end(&sub, &item, &c, today)?;
    let immediate = c.kind == "immediate";
    subs::actions_api::cancel_item(&mut item, end, immediate, &time::now())?;
    // Immediate, or an item never activated: dropped at once.
    if item.status == "terminated" {
        let reply = done(tx, tenant, &item, &["subscription_item.terminated"])?;
        end_subscription_if_done(tx, tenant, &item.subscription_id)?;
        return Ok(reply);
    }
    done(tx, tenant, &item, &[])
}

fn terminate(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut item = store::item(tx, tenant, ctx.param("id"))?;
    let sub = store::get(tx, tenant, &item.subscription_id)?;
    if !matches!(sub.status.as_str(), "active" | "paused" | "cancelled")
        || !matches!(item.status.as_str(), "active" | "pending" | "canceled")
    {
        return Err(ApiError::Conflict(
            "Only a live item of a running subscription can be terminated.".into(),
        ));
    }
    let today = settings::today(tx, tenant)?;
    subs::actions_api::terminate_item(&mut item, today, &time::now())?;
    let reply = done(tx, tenant, &item, &["subscription_item.terminated"])?;
    end_subscription_if_done(tx, tenant, &item.subscription_id)?;
    Ok(reply)
}

/// 08 §2.4: when every item is terminated, the subscription is terminated too.
fn end_subscription_if_done(tx: &Connection, tenant: &str, sub_id: &str) -> ApiResult<()> {
    let items = store::items(tx, tenant, sub_id)?;
    if items.iter().any(|i| i.status != "terminated") {
        return Ok(());
    }
    let mut sub = store::get(tx, tenant, sub_id)?;
    let today = settings::today(tx, tenant)?;
    let last = items.iter().filter_map(|i| i.end_date.clone()).max();
    sub.contract_end = last.or_else(|| Some(subs::model::fmt_day(today)));
    sub.status = "terminated".into();
    sub.terminated_at = Some(time::now());
    store::save(tx, tenant, &sub)?;
    let v = view::load(tx, tenant, sub_id)?;
    outbox::record(tx, tenant, "subscription.terminated", sub_id, &v)
}
