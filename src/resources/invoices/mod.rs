//! Invoices (reference 06 §1): manual drafts (create, list, read, update, delete), the invoice
//! address, finalization into a numbered immutable document, and the history (kontor). Every
//! change appends to the history and writes an outbox event in the same transaction. The
//! amounts come from `billing::invoice_calc`; positions live in `invoice_positions`.
//!
//! Decisions (kontor):
//! - Numbers are unique per (tenant, type), i.e. per number range; drafts have none.
//! - `finalizationDate` and `dueDate` are calendar dates in the tenant's time zone.
//! - Tax is resolved on every draft change and again at finalization (the facts of the invoice
//!   date count); the invoice address's country and VAT id decide it, as printed.
//! - Finalize refuses (422 on `grossAmount`) a zero total while `billing.generateZeroInvoices`
//!   is off (`zero_total`), and a negative total (`negative_total`: that is a credit note).
//! - PUT keeps absent keys; `positions`, when sent, replaces all positions.
//! - Deleting a draft keeps its history; there is no webhook event for it (Fynn has none).
//! - List items carry totals and the tax breakdown; positions only in the detail view.
//!
//! Helpers for other slices (corrections, payments, billing runs):
//! - `store::get` (row), `view::read` (read shape with positions), `store::insert_draft`;
//! - `totals::recompute` (with `TaxSource::Resolve` or `Stored`), `finalize::seal` (number from
//!   the range of the document type, snapshots, dates, status);
//! - `history::append`, `emit` (outbox event with the current read shape).

pub mod facts;
pub mod finalize;
pub mod history;
pub mod input;
pub mod issue;
pub mod model;
pub mod party;
pub mod store;
#[cfg(test)]
mod tests;
pub mod totals;
pub mod view;

use crate::domain::{outbox, settings};
use crate::error::{ApiError, ApiResult};
use crate::http::input::Input;
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Method, Reply, Route};
use crate::resources::customers::fields;
use crate::resources::invoice_positions::{fields::date, store as positions};
use crate::resources::units;
use finalize::Settlement;
use model::{STATUS_PAID, TYPE_INVOICE};
use serde_json::{json, Value};
use totals::TaxSource;
use view::{InvoiceView, Viewer};

pub const READ: Access = Access::Scope("invoice:read");
pub const WRITE: Access = Access::Scope("invoice:write");

pub fn routes() -> Vec<Route> {
    vec![
        post("/invoices", WRITE, "Create a manual invoice draft", create),
        get(
            "/invoices",
            READ,
            "List invoices (filters customer, status, type, number, dunningStatus, date ranges)",
            list,
        ),
        get(
            "/invoices/{id}",
            READ,
            "One invoice with its positions",
            read,
        ),
        put(
            "/invoices/{id}",
            WRITE,
            "Update a draft (409 once finalized)",
            replace,
        ),
        delete(
            "/invoices/{id}",
            WRITE,
            "Delete a draft (409 once finalized)",
            remove,
        ),
        post(
            "/invoices/{id}/finalize",
            WRITE,
            "Finalize a draft: number, dates, snapshots; immutable afterwards",
            finalize,
        ),
        Route::new(
            Method::Post,
            "/invoices/{id}/customer-address",
            WRITE,
            200,
            "Set a draft's invoice address from the customer's addresses",
            customer_address,
        ),
        get(
            "/invoices/{id}/history",
            READ,
            "The invoice's append-only history (kontor)",
            history_list,
        ),
    ]
}

/// The acting user for the history.
pub fn user<'a>(ctx: &'a Ctx<'_>) -> Option<&'a str> {
    Some(ctx.principal.user_id.as_str()).filter(|u| !u.is_empty())
}

/// Records `event` (`invoice.created`, ...) with the invoice's current read shape.
pub fn emit(ctx: &Ctx, event: &str, view: &InvoiceView) -> ApiResult<()> {
    outbox::record(ctx.tx, ctx.tenant(), event, &view.id, view)
}

/// Recomputes a changed draft, appends `action` to its history, records `invoice.updated`
/// and returns the new read shape: the common tail of every draft edit.
pub fn after_edit(ctx: &Ctx, id: &str, action: &str, details: Value) -> ApiResult<InvoiceView> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let inv = store::get(tx, tenant, id)?;
    let t = totals::recompute(tx, tenant, &inv, TaxSource::Resolve)?;
    // The audit trail records the amounts each change led to.
    let mut details = details;
    if let Value::Object(map) = &mut details {
        map.insert("netAmount".into(), json!(t.net));
        map.insert("taxAmount".into(), json!(t.tax));
        map.insert("grossAmount".into(), json!(t.gross));
    }
    history::append(tx, tenant, id, user(ctx), action, &details)?;
    let view = view::read(tx, tenant, id)?;
    emit(ctx, "invoice.updated", &view)?;
    Ok(view)
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let w = input::read(tx, tenant, ctx.input()?, None)?;
    let id = store::insert_draft(tx, tenant, &w, TYPE_INVOICE, None, user(ctx))?;
    let items = w.positions.as_deref().unwrap_or(&[]);
    positions::insert_tree(tx, tenant, &id, items, None)?;
    totals::recompute(
        tx,
        tenant,
        &store::get(tx, tenant, &id)?,
        TaxSource::Resolve,
    )?;
    history::append(
        tx,
        tenant,
        &id,
        user(ctx),
        "created",
        &json!({"positions": items.len()}),
    )?;
    let view = view::read(tx, tenant, &id)?;
    emit(ctx, "invoice.created", &view)?;
    Reply::created(&view)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let page = Page::from_query(&ctx.query)?;
    let (rows, total) = store::list(tx, tenant, &ctx.query, &page)?;
    let locale = units::store::locale(tx, tenant, ctx.query.get("locale"))?;
    let mut viewer = Viewer::new(tx, tenant, locale);
    let items = rows
        .iter()
        .map(|r| viewer.view(r, false))
        .collect::<ApiResult<Vec<_>>>()?;
    Reply::ok(&page.envelope(&items, total))
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let inv = store::get(tx, tenant, ctx.param("id"))?;
    let locale = units::store::locale(tx, tenant, ctx.query.get("locale"))?;
    Reply::ok(&Viewer::new(tx, tenant, locale).view(&inv, true)?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    // 404, then 409, then 422: a body is only worth checking for a draft that exists.
    let current = store::get(tx, tenant, ctx.param("id"))?;
    current.ensure_draft()?;
    let body = ctx.input()?;
    let sent: Vec<String> = body.keys().cloned().collect();
    let w = input::read(tx, tenant, body, Some(&current))?;
    store::update_draft(tx, tenant, &current.id, &w)?;
    if let Some(items) = &w.positions {
        positions::delete_all(tx, &current.id)?;
        positions::insert_tree(tx, tenant, &current.id, items, None)?;
    }
    let view = after_edit(ctx, &current.id, "updated", json!({"fields": sent}))?;
    Reply::ok(&view)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    current.ensure_draft()?;
    store::delete_draft(tx, tenant, &current.id)?;
    // The history outlives the draft: who deleted what, with the totals it had.
    history::append(
        tx,
        tenant,
        &current.id,
        user(ctx),
        "deleted",
        &json!({"grossAmount": current.gross_amount, "currencyCode": current.currency.code}),
    )?;
    Reply::no_content()
}

fn zero_invoices_allowed(ctx: &Ctx) -> ApiResult<bool> {
    Ok(
        settings::get(ctx.tx, ctx.tenant(), "billing", "generateZeroInvoices")?
            .as_bool()
            .unwrap_or(false),
    )
}

fn finalize(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let inv = store::get(tx, tenant, ctx.param("id"))?;
    inv.ensure_draft()?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["dueDate"]);
    let due = date(&mut body, "dueDate");
    body.finish()?;
    let rows = positions::for_invoice(tx, &inv.id)?;
    if !rows.iter().any(|p| p.unit_price.is_some()) {
        return Err(ApiError::invalid(
            "positions",
            "An invoice needs at least one position with a unit price before it can be finalized.",
            "no_positions",
        ));
    }
    // Tax facts (VAT id validity, §19 mode, address) as of the invoice date.
    let totals = totals::recompute(tx, tenant, &inv, TaxSource::Resolve)?;
    if inv.kind == TYPE_INVOICE && totals.gross < 0 {
        return Err(ApiError::invalid(
            "grossAmount",
            "An invoice cannot have a negative total; issue a credit note instead.",
            "negative_total",
        ));
    }
    if totals.gross == 0 && !zero_invoices_allowed(ctx)? {
        return Err(ApiError::invalid(
            "grossAmount",
            "The invoice total is 0 and the billing setting generateZeroInvoices is off: zero invoices are not issued. Delete the draft, add positions, or turn the setting on.",
            "zero_total",
        ));
    }
    let inv = store::get(tx, tenant, &inv.id)?;
    let settlement = Settlement::for_invoice(totals.gross);
    let number = finalize::seal(tx, tenant, &inv, due, settlement)?;
    let view = view::read(tx, tenant, &inv.id)?;
    history::append(
        tx,
        tenant,
        &inv.id,
        user(ctx),
        "finalized",
        &json!({
            "number": number, "netAmount": totals.net, "taxAmount": totals.tax,
            "grossAmount": totals.gross, "currencyCode": inv.currency.code,
            "dueDate": view.due_date,
        }),
    )?;
    emit(ctx, "invoice.finalized", &view)?;
    if settlement.status == STATUS_PAID {
        history::append(
            tx,
            tenant,
            &inv.id,
            user(ctx),
            "paid",
            &json!({"reason": "zero_total"}),
        )?;
        emit(ctx, "invoice.paid", &view)?;
    }
    Reply::created(&view)
}

fn customer_address(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let inv = store::get(tx, tenant, ctx.param("id"))?;
    inv.ensure_draft()?;
    let mut body: Input = ctx.input()?;
    body.reject_unknown(&["customerAddress"]);
    let chosen = match fields::reference(&mut body, "customerAddress").flatten() {
        Some(id) => input::address_of(
            tx,
            tenant,
            &inv.customer_id,
            &mut body,
            "customerAddress",
            &id,
        )?,
        None => {
            body.violation(
                "customerAddress",
                "This value should not be blank.",
                "not_blank",
            );
            None
        }
    };
    body.finish()?;
    let Some((address_id, copy)) = chosen else {
        return Err(ApiError::Internal(
            "address check passed without an address".into(),
        ));
    };
    store::set_address(tx, tenant, &inv.id, &address_id, &copy)?;
    // The address's country can change the tax: recomputed in after_edit.
    let view = after_edit(
        ctx,
        &inv.id,
        "customer_address.set",
        json!({"address": address_id}),
    )?;
    Reply::ok(&view)
}

fn history_list(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let page = Page::from_query(&ctx.query)?;
    let inv = store::get(tx, tenant, ctx.param("id"))?;
    let (items, total) = history::list(tx, tenant, &inv.id, &page)?;
    Reply::ok(&page.envelope(&items, total))
}
