//! Invoice corrections (reference 06 §1.8-1.9, DESIGN §6): `POST /invoices/{id}/cancel` creates
//! a cancellation (Storno) document mirroring the invoice, `POST /invoices/{id}/credit` a credit
//! note for chosen positions and quantities. The original's amounts never change: only its
//! status, money state and credited quantities move. Each request writes the new document,
//! the original's history and the outbox events in one transaction.

pub mod amounts;
pub mod model;
pub mod rules;
pub mod store;

use crate::domain::{outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::{post, Access, Ctx, Reply, Route};
use crate::resources::invoices::finalize::Settlement;
use crate::resources::invoices::{history, view};
use crate::resources::payments::{ledger, rules as payment_rules, store as transactions};
use model::CreditRequest;
use rules::{
    Choice, Offset, STATUS_CANCELLED, STATUS_PAID, STATUS_UNPAID, TYPE_CANCELLATION, TYPE_CREDIT,
};
use rust_decimal::Decimal;
use serde_json::json;
use store::{NewCorrection, Original};

const WRITE: Access = Access::Scope("invoice:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/invoices/{id}/cancel",
            WRITE,
            "Cancel a finalized invoice with a cancellation (Storno) document",
            cancel,
        ),
        post(
            "/invoices/{id}/credit",
            WRITE,
            "Credit a finalized invoice, fully or by position and quantity",
            credit,
        ),
    ]
}

/// The correction document's starting state: settled against the original, or open while the
/// customer is owed a refund (`unpaidAmount` negative).
fn settlement(offset: &Offset) -> Settlement {
    let (status, unpaid_amount) = offset.document_state();
    Settlement {
        status,
        unpaid_amount,
        paid: status == STATUS_PAID,
    }
}

fn overflow(id: &str) -> ApiError {
    ApiError::Internal(format!("invoice {id}: correction amounts overflow"))
}

/// Records `invoice.created` and `invoice.finalized` for a new correction document: it skips
/// the draft stage, and receivers that book every finalized document (accounting) need it.
fn announce(ctx: &Ctx, id: &str) -> ApiResult<view::InvoiceView> {
    let doc = view::read(ctx.tx, ctx.tenant(), id)?;
    outbox::record(ctx.tx, ctx.tenant(), "invoice.created", id, &doc)?;
    outbox::record(ctx.tx, ctx.tenant(), "invoice.finalized", id, &doc)?;
    Ok(doc)
}

fn number_of(ctx: &Ctx, id: &str) -> ApiResult<String> {
    Ok(ledger::load(ctx.tx, ctx.tenant(), id)?
        .number
        .unwrap_or_default())
}

/// Storno (06 §1.8). What was paid stays recorded on the original: the cancellation document
/// shows it as owed to the customer (`unpaidAmount` −paid, STATUS_UNPAID) until it is refunded,
/// since the reference returns money only by an explicit refund; with nothing paid it is
/// settled at once (STATUS_PAID). The original becomes STATUS_CANCELLED with `unpaidAmount` 0.
fn cancel(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant, user) = (ctx.tx, ctx.tenant(), ctx.principal.user_id.as_str());
    let mut state = ledger::load(tx, tenant, ctx.param("id"))?;
    rules::check_cancel(
        &state.kind,
        &state.status,
        store::credit_notes(tx, tenant, &state.id)?,
    )
    .map_err(ApiError::Conflict)?;
    let reason = model::cancel_reason(ctx.input()?)?;
    let original = Original::load(tx, tenant, &state.id)?;
    let full: Vec<Decimal> = original.lines.iter().map(|l| l.quantity).collect();
    let none = vec![Decimal::ZERO; full.len()];
    let (amounts, totals) =
        amounts::correction_amounts(state.currency, &original.lines, &none, &full)
            .map_err(|_| overflow(&state.id))?;
    if totals.gross != -original.row.gross_amount {
        return Err(ApiError::Internal(format!(
            "invoice {}: cancellation gross {} does not mirror {}",
            state.id, totals.gross, original.row.gross_amount
        )));
    }
    let offset = rules::offset(original.row.gross_amount, state.unpaid);
    let today = settings::today(tx, tenant)?;
    let number = state.number.clone().unwrap_or_default();
    let language = store::language(tx, tenant, &state.customer_id)?;
    let mirrored: Vec<Decimal> = full.iter().map(|q| -*q).collect();
    let id = store::create(
        tx,
        tenant,
        &original,
        &NewCorrection {
            kind: TYPE_CANCELLATION,
            title: model::title(TYPE_CANCELLATION, &number, &language),
            introduction: String::new(),
            closing: String::new(),
            payment_method: state.payment_method_id.clone(),
            quantities: &mirrored,
            amounts: &amounts,
            totals: &totals,
            reason: None,
            comment: reason.as_deref(),
            settlement: settlement(&offset),
            user,
        },
        today,
    )?;
    state.status = STATUS_CANCELLED.to_string();
    state.unpaid = 0;
    ledger::save(tx, tenant, &state)?;
    let doc_number = number_of(ctx, &id)?;
    history::append(
        tx,
        tenant,
        &state.id,
        Some(user),
        "cancelled",
        &json!({"cancellation": id, "number": doc_number, "reason": reason,
                "refundDue": offset.to_refund}),
    )?;
    history::append(
        tx,
        tenant,
        &id,
        Some(user),
        "created",
        &json!({"type": TYPE_CANCELLATION, "referencedInvoice": state.id, "number": doc_number}),
    )?;
    let doc = announce(ctx, &id)?;
    let cancelled = view::read(tx, tenant, &state.id)?;
    outbox::record(tx, tenant, "invoice.canceled", &state.id, &cancelled)?;
    Reply::created(&doc)
}

/// Credit note (06 §1.9). The credited gross first reduces what is still due; a part that had
/// been paid already is refunded: a pending `refund` transaction through the chosen (else the
/// invoice's) payment method, and the credit note stays STATUS_UNPAID until it is paid out.
/// When nothing is due any more the original is closed (STATUS_PAID, `invoice.closed`).
pub fn credit(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant, user) = (ctx.tx, ctx.tenant(), ctx.principal.user_id.as_str());
    let mut state = ledger::load(tx, tenant, ctx.param("id"))?;
    rules::check_credit(&state.kind, &state.status).map_err(ApiError::Conflict)?;
    let (request, mut violations) = CreditRequest::from_input(ctx.input()?);
    let original = Original::load(tx, tenant, &state.id)?;
    let creditables = original.creditables();
    let choice = rules::choose(&creditables, request.positions.as_deref());
    if let Err(more) = &choice {
        violations.extend(more.iter().cloned());
    }
    if !violations.is_empty() {
        return Err(ApiError::Validation(violations));
    }
    let magnitudes = match choice {
        Ok(Choice::Quantities(q)) => q,
        Ok(Choice::NothingLeft) => {
            return Err(ApiError::Conflict(
                "Every position of this invoice is fully credited already.".into(),
            ))
        }
        Err(v) => return Err(ApiError::Validation(v)),
    };
    let before: Vec<Decimal> = creditables.iter().map(|c| c.signed(c.credited)).collect();
    let now: Vec<Decimal> = creditables
        .iter()
        .zip(&magnitudes)
        .map(|(c, m)| c.signed(*m))
        .collect();
    let (amounts, totals) =
        amounts::correction_amounts(state.currency, &original.lines, &before, &now)
            .map_err(|_| overflow(&state.id))?;
    let credited = -totals.gross;
    rules::check_credit_total(state.gross, state.credited, credited, state.currency)
        .map_err(|v| ApiError::Validation(vec![v]))?;
    let offset = rules::offset(credited, state.unpaid);
    let today = settings::today(tx, tenant)?;
    let number = state.number.clone().unwrap_or_default();
    let language = store::language(tx, tenant, &state.customer_id)?;
    let refund_method = request
        .payment_method
        .clone()
        .or_else(|| state.payment_method_id.clone());
    let quantities: Vec<Decimal> = now.iter().map(|q| -*q).collect();
    let id = store::create(
        tx,
        tenant,
        &original,
        &NewCorrection {
            kind: TYPE_CREDIT,
            title: model::title(TYPE_CREDIT, &number, &language),
            introduction: request.introduction.clone().unwrap_or_default(),
            closing: request.closing.clone().unwrap_or_default(),
            payment_method: refund_method.clone(),
            quantities: &quantities,
            amounts: &amounts,
            totals: &totals,
            reason: Some(&request.reason),
            comment: request.comment.as_deref(),
            settlement: settlement(&offset),
            user,
        },
        today,
    )?;
    store::add_credited(&original, &magnitudes, tx)?;
    let refund = if offset.to_refund > 0 {
        Some(transactions::insert(
            tx,
            tenant,
            &transactions::NewTransaction {
                kind: "refund",
                status: "pending",
                amount: offset.to_refund,
                fee: None,
                currency: state.currency,
                invoice_id: Some(&state.id),
                correction_id: Some(&id),
                customer_id: &state.customer_id,
                customer_number: &state.customer_number,
                payment_method_id: refund_method.as_deref(),
                gateway: payment_rules::MANUAL_GATEWAY,
                description: Some("Refund of a credit note"),
                payment_date: None,
                created_by: user,
            },
            today,
        )?)
    } else {
        None
    };
    let unpaid_before = state.unpaid;
    state.credited += credited;
    if let Some(r) = &refund {
        state.paid -= r.amount.amount;
    }
    state.unpaid = state.amount_due();
    if state.unpaid != unpaid_before - offset.against_unpaid {
        return Err(ApiError::Internal(format!(
            "invoice {}: credit left {} due, expected {}",
            state.id,
            state.unpaid,
            unpaid_before - offset.against_unpaid
        )));
    }
    let closed = state.status == STATUS_UNPAID && state.unpaid == 0;
    if closed {
        state.status = STATUS_PAID.to_string();
        state.pay_date = Some(time::now());
    }
    ledger::save(tx, tenant, &state)?;

    let doc_number = number_of(ctx, &id)?;
    let taken: Vec<_> = creditables
        .iter()
        .zip(&now)
        .filter(|(_, q)| !q.is_zero())
        .map(|(c, q)| json!({"positionItem": c.id, "quantity": q.normalize().to_string()}))
        .collect();
    history::append(
        tx,
        tenant,
        &state.id,
        Some(user),
        "credited",
        &json!({"creditNote": id, "number": doc_number, "reason": request.reason,
                "comment": request.comment, "positions": taken, "grossAmount": credited,
                "refund": refund.as_ref().map(|r| &r.id)}),
    )?;
    history::append(
        tx,
        tenant,
        &id,
        Some(user),
        "created",
        &json!({"type": TYPE_CREDIT, "referencedInvoice": state.id, "number": doc_number}),
    )?;
    if closed {
        history::append(tx, tenant, &state.id, Some(user), "closed", &json!({}))?;
    }
    let doc = announce(ctx, &id)?;
    let after = view::read(tx, tenant, &state.id)?;
    outbox::record(tx, tenant, "invoice.credited", &state.id, &after)?;
    if refund.is_some() {
        outbox::record(tx, tenant, "invoice.refunded", &state.id, &after)?;
    }
    if closed {
        outbox::record(tx, tenant, "invoice.closed", &state.id, &after)?;
    }
    Reply::created(&doc)
}
