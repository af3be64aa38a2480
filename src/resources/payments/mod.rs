//! Payments (reference 06 §1.13-1.14, 04 §2): record a manual payment on an invoice, change an
//! open invoice's payment method, read payment transactions. Each change moves the invoice's
//! money state (`ledger`), appends to its history and writes its outbox event in the request's
//! transaction. The amount rules live in `rules`, body checks in `model`.

pub mod ledger;
pub mod model;
pub mod rules;
pub mod store;

use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{get, patch, post, Access, Ctx, Reply, Route};
use crate::resources::invoices::model::{
    STATUS_CANCELLED, STATUS_DRAFT, STATUS_PAID, STATUS_UNPAID, TYPE_INVOICE,
};
use crate::resources::invoices::{history, view};
use ledger::InvoiceState;
use model::{payment_method_ref, Due, PaymentWrite};
use serde_json::json;
use store::NewTransaction;

const INVOICE_WRITE: Access = Access::Scope("invoice:write");
const TRANSACTION_READ: Access = Access::Scope("transaction:read");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/invoices/{id}/payments",
            INVOICE_WRITE,
            "Record a (partial) payment on an open invoice",
            record_payment,
        ),
        patch(
            "/invoices/{id}/payment-method",
            INVOICE_WRITE,
            "Change the payment method of an open invoice",
            change_payment_method,
        ),
        get(
            "/payment/transactions",
            TRANSACTION_READ,
            "List payment transactions",
            list,
        ),
        get(
            "/payment/transactions/{id}",
            TRANSACTION_READ,
            "One payment transaction",
            read,
        ),
    ]
}

/// 409 unless the document is an open invoice: the only kind money can still be paid into
/// and whose collection method still matters.
fn require_open(state: &InvoiceState, action: &str) -> ApiResult<()> {
    if state.kind != TYPE_INVOICE {
        return Err(ApiError::Conflict(format!(
            "{action} only on invoices; this document is a correction ({}).",
            state.kind
        )));
    }
    let why = match state.status.as_str() {
        STATUS_UNPAID => return Ok(()),
        STATUS_DRAFT => "is a draft; finalize it first",
        STATUS_PAID => "is already paid",
        STATUS_CANCELLED => "is cancelled",
        _ => "is not open",
    };
    Err(ApiError::Conflict(format!(
        "{action} only on open invoices; this one {why}."
    )))
}

fn record_payment(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut state = ledger::load(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    require_open(&state, "Payments can be recorded")?;
    if state.unpaid <= 0 {
        // A negative invoice owes money to the customer: that is refunded, not paid.
        return Err(ApiError::Conflict(
            "Nothing is due on this invoice; money owed to the customer is refunded, not paid."
                .into(),
        ));
    }
    let today = settings::today(tx, tenant)?;
    let due = Due {
        currency: state.currency,
        unpaid: state.unpaid,
        today,
    };
    let write = PaymentWrite::from_input(ctx.input()?, due)?;
    let transaction = store::insert(
        tx,
        tenant,
        &NewTransaction {
            kind: "payment",
            status: "succeeded",
            amount: write.amount,
            fee: write.fee,
            currency: state.currency,
            invoice_id: Some(&state.id),
            correction_id: None,
            customer_id: &state.customer_id,
            customer_number: &state.customer_number,
            payment_method_id: write.payment_method_id.as_deref(),
            gateway: rules::MANUAL_GATEWAY,
            description: Some(&write.description),
            payment_date: Some(write.payment_date),
            created_by: &ctx.principal.user_id,
        },
        today,
    )?;
    let settlement = rules::settle(state.unpaid, write.amount);
    state.paid += write.amount;
    state.unpaid = settlement.unpaid_after;
    if settlement.fully_paid {
        state.status = STATUS_PAID.to_string();
        state.pay_date = Some(time::now());
    }
    ledger::save(tx, tenant, &state)?;
    let user = Some(ctx.principal.user_id.as_str());
    history::append(
        tx,
        tenant,
        &state.id,
        user,
        "payment.recorded",
        &json!({
            "transaction": transaction.id, "number": transaction.number,
            "amount": transaction.amount, "fee": transaction.fee,
            "paymentDate": transaction.payment_date, "paymentMethod": transaction.payment_method,
            "unpaidAmount": state.unpaid,
        }),
    )?;
    if settlement.fully_paid {
        history::append(tx, tenant, &state.id, user, "paid", &json!({}))?;
    }
    let invoice = view::read(tx, tenant, &state.id)?;
    // A partial payment changes `unpaidAmount` only: `invoice.updated` lets receivers follow.
    let event = if settlement.fully_paid {
        "invoice.paid"
    } else {
        "invoice.updated"
    };
    outbox::record(tx, tenant, event, &state.id, &invoice)?;
    Reply::created(&invoice)
}

/// `{paymentMethodId}`: the method that collects what is still due, or null for a manual bank
/// transfer. Drafts take their method through `PUT /invoices/{id}` (409 here): this action
/// means "collect the open amount with it", which only a finalized, unpaid invoice has.
fn change_payment_method(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut state = ledger::load(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    require_open(&state, "The payment method can be changed")?;
    let mut input = ctx.input()?;
    input.reject_unknown(&["paymentMethodId"]);
    if !input.has("paymentMethodId") {
        input.violation("paymentMethodId", "This field is missing.", "missing_field");
    }
    let new = payment_method_ref(&mut input, "paymentMethodId");
    input.finish()?;
    let old = state.payment_method_id.clone();
    state.payment_method_id = new.clone();
    ledger::save(tx, tenant, &state)?;
    history::append(
        tx,
        tenant,
        &state.id,
        Some(&ctx.principal.user_id),
        "payment_method.changed",
        &json!({"from": old, "to": new}),
    )?;
    let invoice = view::read(tx, tenant, &state.id)?;
    outbox::record(
        tx,
        tenant,
        "invoice.payment_method.updated",
        &state.id,
        &invoice,
    )?;
    Reply::ok(&invoice)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}
