//! The money documents of an immediate tier change (08 §5.5), written in the request's
//! transaction: the invoice for the rest of the current period on the new plan (built like a
//! billing run's invoice: draft, positions, totals, sealed with its number) and the credit note
//! for the old plan, issued through the invoice corrections slice against the invoice that
//! billed the old plan, so its amounts, numbering, refund and history follow the same rules as
//! any credit note.

use super::coupons::ChargeCoupon;
use crate::billing::due::DuePeriod;
use crate::billing::lines::{coupon_discount, item_charge};
use crate::domain::money::Currency;
use crate::domain::period::Period;
use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::query::Query;
use crate::http::Ctx;
use crate::resources::invoice_positions::model::PositionData;
use crate::resources::invoice_positions::store as positions;
use crate::resources::invoices::finalize::{self, Settlement};
use crate::resources::invoices::input::InvoiceWrite;
use crate::resources::invoices::model::TYPE_INVOICE;
use crate::resources::invoices::totals::{self, TaxSource};
use crate::resources::invoices::{history, store as invoices, view};
use crate::resources::price_plans::model::Terms;
use crate::resources::subscriptions::model::{fmt_day, ItemRow, SubRow};
use chrono::NaiveDate;
use rusqlite::{named_params, OptionalExtension};
use rust_decimal::Decimal;
use serde_json::{json, Map};

/// The charge for `[from, until)` on the new plan, as a fraction of the plan's full period
/// `full_days` long, less a carried coupon's discount (a `discount` child position, as a
/// billing run writes it; see `coupons`). Returns the invoice id (`None` when the net is zero:
/// nothing issued) and the net in minor units. The covered range is recorded in
/// `billed_periods` for the new item, so no billing run bills it again.
pub fn charge(
    ctx: &Ctx,
    sub: &SubRow,
    new_item: &ItemRow,
    terms: &Terms,
    covered: Period,
    full_days: u32,
    coupon: Option<&ChargeCoupon>,
) -> ApiResult<(Option<String>, i64)> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let quantity = crate::domain::money::parse_decimal(&new_item.quantity)
        .map_err(|_| ApiError::Internal(format!("item {}: quantity", new_item.id)))?;
    let due = DuePeriod {
        index: 0,
        covered,
        full_days,
        due_on: covered.start,
        prorated: covered.days() < full_days,
        remainder: false,
    };
    let pricing = terms.pricing();
    let line = item_charge(&pricing, quantity, &due)
        .map_err(|e| ApiError::Internal(format!("item {}: {e}", new_item.id)))?;
    let amount = minor(pricing.currency, line.amount)?;
    // The same rounding and cap as the billing engine (10 §6.4). A coupon whose period was
    // counted by the old plan is checked as unused, so `once` still covers this share.
    let discount = match coupon {
        Some(c) => {
            let used = if c.counts { c.applied.used } else { 0 };
            coupon_discount(
                &c.applied.terms,
                &new_item.product_id,
                pricing.currency,
                line.amount,
                used,
            )?
        }
        None => None,
    };
    let discount_minor = discount.map_or(Ok(0), |d| minor(pricing.currency, d))?;
    let net = amount - discount_minor;
    let mut invoice_id = None;
    if net != 0 {
        let (tax_group, unit): (String, String) = tx.query_row(
            "SELECT p.tax_group_id, m.unit_id FROM products p
             JOIN measurements m ON m.id = p.measurement_id WHERE p.id = :id",
            named_params! {":id": new_item.product_id},
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let write = InvoiceWrite {
            customer: sub.customer_id.clone(),
            currency: pricing.currency,
            title: String::new(),
            introduction: String::new(),
            closing: String::new(),
            internal_note: String::new(),
            custom_fields: Map::new(),
            address_id: sub.invoice_address_id.clone(),
            address_copy: None,
            payment_method: sub.payment_method_id.clone(),
            positions: None,
        };
        let id = invoices::insert_draft(tx, tenant, &write, TYPE_INVOICE, None, None)?;
        let position = PositionData {
            kind: Some("product".into()),
            group: Some(sub.name.clone().unwrap_or_else(|| sub.number.clone())),
            name: new_item
                .name
                .clone()
                .unwrap_or_else(|| new_item.product_name.clone()),
            description: line.description.clone(),
            quantity: line.quantity,
            unit_id: Some(unit.clone()),
            unit_price: Some(line.unit_price),
            tax_group_id: Some(tax_group.clone()),
            service_date_from: Some(covered.start),
            service_date_to: Some(covered.last_day()),
            unit_price_interval: new_item.billing_interval.clone(),
            subscription_item: Some(new_item.id.clone()),
            product: Some(new_item.product_id.clone()),
            children: discount.map(|d| {
                vec![PositionData {
                    kind: Some("discount".into()),
                    name: "Discount".into(),
                    quantity: Decimal::ONE,
                    unit_id: Some(unit.clone()),
                    unit_price: Some(-d),
                    tax_group_id: Some(tax_group.clone()),
                    subscription_item: Some(new_item.id.clone()),
                    ..PositionData::default()
                }]
            }),
            ..PositionData::default()
        };
        positions::insert_tree(tx, tenant, &id, &[position], None)?;
        let draft = invoices::get(tx, tenant, &id)?;
        let sums = totals::recompute(tx, tenant, &draft, TaxSource::Resolve)?;
        let why = json!({"subscriptionChange": new_item.id});
        history::append(tx, tenant, &id, None, "created", &why)?;
        outbox::record(
            tx,
            tenant,
            "invoice.created",
            &id,
            &view::read(tx, tenant, &id)?,
        )?;
        // Issued at once, like the credit note it goes with: the change is one business event.
        let draft = invoices::get(tx, tenant, &id)?;
        let number = finalize::seal(
            tx,
            tenant,
            &draft,
            None,
            Settlement::for_invoice(sums.gross),
        )?;
        let sealed = json!({"number": number, "grossAmount": sums.gross});
        history::append(tx, tenant, &id, None, "finalized", &sealed)?;
        outbox::record(
            tx,
            tenant,
            "invoice.finalized",
            &id,
            &view::read(tx, tenant, &id)?,
        )?;
        invoice_id = Some(id);
    }
    // Only a counted coupon period names the discount: that is what the engine counts.
    let counted = coupon
        .filter(|c| c.counts && discount.is_some())
        .map(|c| c.applied.id.clone());
    tx.prepare_cached(
        "INSERT INTO billed_periods (tenant_id, subscription_id, subscription_item_id,
             period_start, period_end, reason, billing_date, amount, discount,
             subscription_discount_id, invoice_id, created_at)
         VALUES (:tenant, :sub, :item, :from, :to, 'recurring', :date, :amount, :discount,
             :coupon, :invoice, :now)",
    )?
    .execute(named_params! {
        ":tenant": tenant, ":sub": sub.id, ":item": new_item.id,
        ":from": fmt_day(covered.start), ":to": fmt_day(covered.last_day()),
        ":date": fmt_day(settings::today(tx, tenant)?), ":amount": amount,
        ":discount": discount_minor, ":coupon": counted, ":invoice": invoice_id,
        ":now": time::now(),
    })?;
    if let Some(id) = &counted {
        tx.prepare_cached(
            "UPDATE subscription_discounts SET remaining_periods = max(remaining_periods - 1, 0)
             WHERE id = :id AND remaining_periods IS NOT NULL",
        )?
        .execute(named_params! {":id": id})?;
    }
    Ok((invoice_id, net))
}

fn minor(currency: Currency, value: Decimal) -> ApiResult<i64> {
    currency
        .to_minor(value)
        .ok_or_else(|| ApiError::Internal("change amount out of range".into()))
}

/// The old item's billed period that contains `day`: `(start, last day, invoice)`.
pub fn billed_period_at(
    ctx: &Ctx,
    item: &str,
    day: NaiveDate,
) -> ApiResult<Option<(NaiveDate, NaiveDate, Option<String>)>> {
    let row: Option<(String, String, Option<String>)> = ctx
        .tx
        .prepare_cached(
            "SELECT period_start, period_end, invoice_id FROM billed_periods
             WHERE subscription_item_id = :item AND reason = 'recurring'
               AND period_start <= :day AND period_end >= :day
             ORDER BY period_start DESC LIMIT 1",
        )?
        .query_row(named_params! {":item": item, ":day": fmt_day(day)}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((from, to, invoice)) = row else {
        return Ok(None);
    };
    let parse = |s: &str| crate::resources::subscriptions::model::day(s);
    Ok(Some((parse(&from)?, parse(&to)?, invoice)))
}

/// The latest finalized invoice (not a correction) with a position of the item.
pub fn last_invoice_of(ctx: &Ctx, item: &str) -> ApiResult<Option<String>> {
    Ok(ctx
        .tx
        .prepare_cached(
            "SELECT i.id FROM invoices i JOIN invoice_positions p ON p.invoice_id = i.id
             WHERE i.tenant_id = :tenant AND i.type = 'TYPE_INVOICE'
               AND i.status <> 'STATUS_DRAFT' AND p.subscription_item_id = :item
             ORDER BY i.created_at DESC, i.id DESC LIMIT 1",
        )?
        .query_row(
            named_params! {":tenant": ctx.tenant(), ":item": item},
            |r| r.get(0),
        )
        .optional()?)
}

/// A position: id, quantity, credited quantity, its service start, its parent's service start.
type PositionLeft = (String, String, String, Option<String>, Option<String>);

/// Credits `numerator / denominator` of what is left of the item's positions on `invoice`
/// (those starting on `service_from` when given; their discount children go with them, since
/// they carry the item too). Returns the credit note's id, `None` when nothing is left.
pub fn credit(
    ctx: &Ctx,
    invoice: &str,
    item: &str,
    service_from: Option<NaiveDate>,
    numerator: u32,
    denominator: u32,
) -> ApiResult<Option<String>> {
    let rows: Vec<PositionLeft> = ctx
        .tx
        .prepare_cached(
            "SELECT p.id, p.quantity, p.credited_quantity, p.service_date_from,
                    (SELECT q.service_date_from FROM invoice_positions q WHERE q.id = p.parent_id)
             FROM invoice_positions p WHERE p.invoice_id = :invoice
               AND p.subscription_item_id = :item AND p.unit_price IS NOT NULL",
        )?
        .query_map(named_params! {":invoice": invoice, ":item": item}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let wanted = service_from.map(fmt_day);
    let mut taken = Vec::new();
    for (id, quantity, credited, from, parent_from) in rows {
        if wanted.is_some() && from.or(parent_from) != wanted {
            continue;
        }
        let dec = |s: &str| {
            crate::domain::money::parse_decimal(s)
                .map_err(|_| ApiError::Internal(format!("position {id}: quantity")))
        };
        let left = dec(&quantity)?.abs() - dec(&credited)?;
        // Exact when the fraction terminates (21/30 = 0.7); otherwise 10 digits, the most a
        // position quantity holds, which moves an amount below 10^8 by < 0.005 (no cent).
        let share = (left * Decimal::from(numerator) / Decimal::from(denominator.max(1)))
            .round_dp(10)
            .normalize();
        if share > Decimal::ZERO {
            taken.push(json!({"positionItem": id, "quantity": share.to_string()}));
        }
    }
    if taken.is_empty() {
        return Ok(None);
    }
    let body = serde_json::to_vec(&json!({
        "positions": taken,
        "reason": "order_change",
        "comment": "Subscription plan change",
    }))?;
    let inner = Ctx {
        principal: ctx.principal,
        tx: ctx.tx,
        params: vec![("id", invoice.to_string())],
        query: Query::parse(""),
        body: &body,
        content_type: "application/json".into(),
        base_url: ctx.base_url.clone(),
        config: ctx.config,
    };
    let reply = crate::resources::invoice_corrections::credit(&inner)?;
    let doc: serde_json::Value = serde_json::from_slice(&reply.body)?;
    Ok(doc["id"].as_str().map(str::to_string))
}
