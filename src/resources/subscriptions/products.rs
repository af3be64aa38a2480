//! Order products (reference 08 §1.13): new items on an existing subscription. They start on
//! `startDate` (default today) and bill from `billingStart` (default the start date); on a
//! running subscription they are scheduled at once (prorated by the billing engine, §7).
//! No trial and no coupon carry over to ordered items (kontor).

use super::model::fmt_day;
use super::{input, new_item, store, view};
use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::{Ctx, Reply};
use crate::resources::price_plans;

pub(super) fn order(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let sub = store::get(tx, tenant, ctx.param("id"))?;
    if sub.status == "terminated" {
        return Err(ApiError::Conflict(
            "Products cannot be ordered for a terminated subscription.".into(),
        ));
    }
    let tz = settings::time_zone(tx, tenant)?;
    let today = settings::today(tx, tenant)?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["billingStart", "startDate", "endDate", "products"]);
    let start = input::date(&mut body, "startDate", tz)
        .value()
        .unwrap_or(today);
    let billing_start = input::date(&mut body, "billingStart", tz)
        .value()
        .unwrap_or(start);
    let end = input::date(&mut body, "endDate", tz).value();
    if end.is_some_and(|e| e < start) {
        body.violation(
            "endDate",
            "The end date must not lie before the start date.",
            "before_start",
        );
    }
    let items = input::items(tx, tenant, &mut body, "products", tz)?;
    if items
        .iter()
        .any(|i| i.plan.terms.currency.code != sub.currency_code)
    {
        body.violation(
            "products",
            "All items must use price plans in the subscription's currency.",
            "currency_mismatch",
        );
    }
    body.finish()?;
    let running = matches!(sub.status.as_str(), "active" | "paused" | "cancelled");
    let now = time::now();
    for it in &items {
        let item_start = it.start_date.unwrap_or(start);
        let mut row = new_item(
            &sub,
            it,
            item_start,
            it.billing_start.unwrap_or(billing_start),
            None,
        );
        // A cancelled subscription's new items end with it.
        row.end_date = match (end, sub.contract_end.as_deref()) {
            (Some(e), Some(c)) => Some(fmt_day(e).min(c.to_string())),
            (Some(e), None) => Some(fmt_day(e)),
            (None, c) => c.map(str::to_string),
        };
        if running {
            row.next_period_start = Some(row.billing_anchor.clone());
            if item_start <= today {
                row.status = if sub.status == "cancelled" {
                    "canceled"
                } else {
                    "active"
                }
                .into();
                row.activated_at = Some(now.clone());
            }
        }
        store::insert_item(tx, tenant, &row)?;
        store::reschedule(tx, &row)?;
        price_plans::store::mark_in_use(tx, tenant, &it.plan.id)?;
    }
    store::refresh_next_billing_date(tx, tenant, &sub.id)?;
    let v = view::load(tx, tenant, &sub.id)?;
    outbox::record(tx, tenant, "subscription.products.ordered", &sub.id, &v)?;
    Reply::created(&v)
}
