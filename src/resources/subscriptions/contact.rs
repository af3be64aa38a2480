//! Invoice address and payment method of a subscription (reference 08 §1.11), and keeping a
//! draft's items aligned with its contract dates.

use super::actions::finish;
use super::model::{day, fmt_day, SubRow};
use super::{input, store};
use crate::domain::time;
use crate::error::ApiResult;
use crate::http::input::Field;
use crate::http::{Ctx, Reply};
use rusqlite::{named_params, Connection};

pub(super) fn invoice_address(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["invoiceAddress"]);
    if !body.has("invoiceAddress") {
        body.violation("invoiceAddress", "This field is missing.", "missing");
    }
    let address = body.string("invoiceAddress");
    if let Field::Value(a) = &address {
        if !input::address_of(tx, tenant, &sub.customer_id, a)? {
            body.violation(
                "invoiceAddress",
                "This address does not belong to the customer.",
                "not_found",
            );
        }
    }
    body.finish()?;
    sub.invoice_address_id = address.value();
    finish(tx, tenant, &sub, &["subscription.invoice_address.updated"])
}

pub(super) fn payment_method(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["paymentMethodId"]);
    if !body.has("paymentMethodId") {
        body.violation("paymentMethodId", "This field is missing.", "missing");
    }
    let pm = input::text(&mut body, "paymentMethodId", 255);
    body.finish()?;
    sub.payment_method_id = pm.value();
    finish(tx, tenant, &sub, &["subscription.payment_method.updated"])
}

/// Before activation the items follow the subscription's contract dates (per-item start
/// dates are reset) and the trial keeps its first billable day relative to `billingStart`.
pub(super) fn realign_draft_items(tx: &Connection, tenant: &str, sub: &SubRow) -> ApiResult<()> {
    let bs = day(&sub.billing_start)?;
    let trial = sub.trial_ends_on.as_deref().map(day).transpose()?;
    for item in store::items(tx, tenant, &sub.id)? {
        let item_trial = trial.filter(|_| item.trial_ends_on.is_some());
        let anchor = item_trial.map_or(bs, |t| t.max(bs));
        tx.prepare_cached(
            "UPDATE subscription_items SET start_date = :start, billing_start = :bs,
                 trial_ends_on = :trial, billing_anchor = :anchor, end_date = :end, updated_at = :now
             WHERE id = :id",
        )?
        .execute(named_params! {
            ":start": sub.contract_start, ":bs": sub.billing_start, ":trial": item_trial.map(fmt_day),
            ":anchor": fmt_day(anchor), ":end": sub.contract_end, ":now": time::now(), ":id": item.id,
        })?;
    }
    Ok(())
}
