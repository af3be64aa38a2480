//! Billing one customer for one date, inside the caller's transaction: every due item period
//! becomes a position (grouped by subscription, with its service period), one invoice per
//! currency is created and finalized through the invoice module, and each period is recorded in
//! `billed_periods` in the same transaction, so the invoice and the record commit together or
//! not at all (DESIGN §6, reference 06 §3.5).

use super::context::RunContext;
use super::items;
use super::plan::{plan, Planned};
use super::prefetch::Ahead;
use crate::db::bind::ExecuteNamed;
use crate::domain::money::Currency;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::resources::invoice_positions::model::PositionData;
use crate::resources::invoices::history;
use crate::resources::invoices::input::InvoiceWrite;
use crate::resources::invoices::issue::{issue, Issue, Issued, Written};
use crate::resources::invoices::model::STATUS_DRAFT;
use chrono::NaiveDate;
use rusqlite::{named_params, Connection};
use serde::Serialize;
use serde_json::{json, Map};
use std::collections::BTreeMap;

/// What billing one customer produced (or, in a dry run, would produce).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBill {
    pub customer: String,
    pub invoices: Vec<BilledInvoice>,
    pub subscriptions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BilledInvoice {
    pub invoice: Option<String>,
    pub status: Option<String>,
    pub currency_code: String,
    pub net_amount: i64,
    pub tax_amount: i64,
    pub gross_amount: i64,
    pub periods: Vec<BilledPeriod>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BilledPeriod {
    pub subscription: String,
    pub subscription_item: String,
    pub from: String,
    pub to: String,
    pub amount: i64,
    pub discount: i64,
}

/// Whether this customer already has its invoice in `currency` for `date`: then its remaining
/// due periods wait for a later date instead of making a second invoice (one per date).
fn already_invoiced(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    day: &str,
    currency: &str,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM billing_run_invoices WHERE tenant_id = :tenant
                 AND customer_id = :customer AND billing_date = :date AND currency_code = :cur)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":customer": customer, ":date": day, ":cur": currency},
            |r| r.get(0),
        )?)
}

/// Bills everything of `customer` due by `date` in the caller's transaction. The caller
/// commits it (a real run) or rolls it back (a dry run: the same code, nothing kept).
/// `ahead`: what was read ahead about the customer (`billing::prefetch`), else it is read here.
pub fn bill_customer(
    conn: &Connection,
    customer: &str,
    run: &mut RunContext,
    ahead: Option<Ahead>,
) -> ApiResult<CustomerBill> {
    let (tenant, date) = (run.tenant.clone(), run.date);
    let tenant = tenant.as_str();
    let (all, mut priced) = match ahead {
        Some(Ahead {
            items,
            priced,
            party,
        }) => {
            run.facts.read_ahead(Some(party));
            (items, priced)
        }
        None => {
            run.facts.read_ahead(None);
            let items = items::for_customer(conn, tenant, customer, &mut run.catalogue)?;
            (items, Vec::new())
        }
    };
    // Priced ahead for every item, or here.
    priced.resize_with(all.len(), || None);
    let mut by_currency: BTreeMap<String, Vec<Planned>> = BTreeMap::new();
    for (item, ahead) in all.iter().zip(priced) {
        let priced = match ahead {
            Some(priced) => priced,
            None => plan(conn, tenant, item, date)?,
        };
        if !priced.is_empty() {
            by_currency
                .entry(item.currency.clone())
                .or_default()
                .extend(priced.into_iter().map(|priced| Planned { item, priced }));
        }
    }
    let mut bill = CustomerBill {
        customer: customer.to_string(),
        ..CustomerBill::default()
    };
    for (code, planned) in by_currency {
        if already_invoiced(conn, tenant, customer, &run.day, &code)? {
            continue;
        }
        let invoice = invoice(conn, run, customer, &code, &planned)?;
        for p in &planned {
            if !bill.subscriptions.contains(&p.item.subscription_id) {
                bill.subscriptions.push(p.item.subscription_id.clone());
            }
        }
        bill.invoices.push(invoice);
    }
    for s in &bill.subscriptions {
        after_billing(conn, &all, s, run)?;
    }
    Ok(bill)
}

/// Creates, computes and (unless manual approval) finalizes one invoice, and records its
/// periods.
fn invoice(
    conn: &Connection,
    run: &mut RunContext,
    customer: &str,
    code: &str,
    planned: &[Planned],
) -> ApiResult<BilledInvoice> {
    let (tenant, date, run_id) = (run.tenant.clone(), run.date, run.id.clone());
    let (tenant, run_id) = (tenant.as_str(), run_id.as_str());
    let currency =
        Currency::parse(code).ok_or_else(|| ApiError::Internal(format!("currency {code}")))?;
    let first = planned
        .first()
        .ok_or_else(|| ApiError::Internal("an invoice without periods".into()))?;
    let write = InvoiceWrite {
        customer: customer.to_string(),
        currency,
        title: String::new(),
        introduction: String::new(),
        closing: String::new(),
        internal_note: String::new(),
        custom_fields: Map::new(),
        address_id: first.item.invoice_address_id.clone(),
        address_copy: None,
        payment_method: first.item.payment_method_id.clone(),
        positions: None,
    };
    // Sort orders are set rather than appended: appending asks the database for the last one.
    let tree: Vec<PositionData> = (1..)
        .zip(planned)
        .map(|(n, p)| PositionData {
            position: Some(n),
            ..p.position.clone()
        })
        .collect();
    let manual = run
        .facts
        .customer_setting(conn, tenant, customer, ("billing", "manualApproval"))?
        .as_bool()
        .unwrap_or(false);
    // A zero total is not issued while zero invoices are off (as with manual finalization);
    // the periods are still recorded as billed (at zero), so they are never due again.
    let how = Issue {
        seal: !manual,
        keep_zero: run.zero_invoices,
        locale: &run.locale,
    };
    let Issued { totals, written } = issue(conn, tenant, &write, &tree, how, &mut run.facts)?;
    let mut settled = None;
    let invoice_id = match written {
        Some(Written { id, sealed, shown }) => {
            history::append(
                conn,
                tenant,
                &id,
                None,
                "created",
                &json!({"billingRun": run_id, "billingDate": run.day}),
            )?;
            if let Some(sealed) = &sealed {
                history::append(
                    conn,
                    tenant,
                    &id,
                    None,
                    "finalized",
                    &json!({"number": sealed.number, "grossAmount": totals.gross, "billingRun": run_id}),
                )?;
                settled = Some(sealed.settlement.status);
            }
            run.events.invoice(&id, shown, sealed.is_some())?;
            Some(id)
        }
        None => None,
    };
    let now = time::now();
    let mut periods = Vec::with_capacity(planned.len());
    for p in planned {
        let (from, to) = (
            p.period.covered.start.to_string(),
            p.period.covered.last_day().to_string(),
        );
        conn.prepare_cached(
            "INSERT INTO billed_periods (tenant_id, subscription_id, subscription_item_id,
                 period_start, period_end, reason, billing_date, amount, discount,
                 subscription_discount_id, invoice_id, billing_run_id, created_at)
             VALUES (:tenant, :sub, :item, :from, :to, :reason, :date, :amount, :discount,
                 :coupon, :invoice, :run, :now)",
        )?
        .execute_named(named_params! {
            ":tenant": tenant, ":sub": p.item.subscription_id, ":item": p.item.id,
            ":from": from, ":to": to, ":reason": p.reason, ":date": run.day, ":amount": p.amount, ":discount": p.discount,
            ":coupon": p.coupon, ":invoice": invoice_id, ":run": run_id, ":now": now,
        })?;
        if let Some(c) = &p.coupon {
            conn.prepare_cached(
                "UPDATE subscription_discounts SET remaining_periods = max(remaining_periods - 1, 0)
                 WHERE id = :id AND remaining_periods IS NOT NULL",
            )?
            .execute_named(named_params! {":id": c})?;
        }
        periods.push(BilledPeriod {
            subscription: p.item.subscription_id.clone(),
            subscription_item: p.item.id.clone(),
            from,
            to,
            amount: p.amount,
            discount: p.discount,
        });
    }
    let from = planned
        .iter()
        .map(|p| p.period.covered.start)
        .min()
        .unwrap_or(date);
    let to = planned
        .iter()
        .map(|p| p.period.covered.last_day())
        .max()
        .unwrap_or(date);
    let mut status = None;
    if let Some(id) = &invoice_id {
        // Sealed, or left a draft for manual approval: no need to read the row back.
        status = Some(settled.unwrap_or(STATUS_DRAFT).to_string());
        conn.prepare_cached(
            "INSERT INTO billing_run_invoices (invoice_id, tenant_id, customer_id, billing_date,
                 currency_code, billing_run_id, range_from, range_to, billed_at)
             VALUES (:id, :tenant, :customer, :date, :cur, :run, :from, :to, :now)",
        )?
        .execute_named(named_params! {
            ":id": id, ":tenant": tenant, ":customer": customer, ":date": run.day,
            ":cur": code, ":run": run_id, ":from": from.to_string(), ":to": to.to_string(), ":now": now,
        })?;
    }
    Ok(BilledInvoice {
        invoice: invoice_id,
        status,
        currency_code: code.to_string(),
        net_amount: totals.net,
        tax_amount: totals.tax,
        gross_amount: totals.gross,
        periods,
    })
}

/// Moves the subscription's and its items' billing dates on and records `subscription.billed`.
/// `all` are the customer's items as loaded for this bill (billing writes none of the columns
/// they are built from).
fn after_billing(
    conn: &Connection,
    all: &[items::Item],
    subscription: &str,
    run: &mut RunContext,
) -> ApiResult<()> {
    let date = run.date;
    let now = time::now();
    let mut next_dates = Vec::new();
    for item in all.iter().filter(|i| i.subscription_id == subscription) {
        let Some(s) = &item.schedule else { continue };
        let next = s.next_billing_date(date);
        next_dates.extend(next);
        let last = conn
            .prepare_cached(
                "SELECT period_start, period_end FROM billed_periods
                 WHERE subscription_item_id = :item ORDER BY period_start DESC LIMIT 1",
            )?
            .query_row(named_params! {":item": item.id}, |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .ok();
        let next_start = last.as_ref().and_then(|(_, to)| {
            NaiveDate::parse_from_str(to, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.succ_opt())
        });
        conn.prepare_cached(
            "UPDATE subscription_items SET next_billing_date = :next,
                 next_period_start = CASE WHEN :next IS NULL THEN NULL
                     ELSE COALESCE(:start, next_period_start, billing_anchor) END,
                 last_billed_from = COALESCE(:from, last_billed_from),
                 last_billed_to = COALESCE(:to, last_billed_to),
                 last_billed_at = :now, updated_at = :now
             WHERE id = :id",
        )?
        .execute_named(named_params! {
            ":next": next.map(|d| d.to_string()), ":start": next_start.map(|d| d.to_string()),
            ":from": last.as_ref().map(|l| l.0.clone()), ":to": last.as_ref().map(|l| l.1.clone()),
            ":now": now, ":id": item.id,
        })?;
    }
    let next = next_dates.into_iter().min().map(|d| d.to_string());
    conn.prepare_cached(
        "UPDATE subscriptions SET last_billing_at = :now, next_billing_date = :next, updated_at = :now
         WHERE id = :id",
    )?
    .execute_named(named_params! {":now": now, ":next": next, ":id": subscription})?;
    run.events.record(
        "subscription.billed",
        subscription,
        &json!({"id": subscription, "billingDate": run.day, "nextBillingDate": next}),
    )
}
