//! Customers (reference 05 §1): create, list, read, update, delete, archive/unarchive, default
//! payment method, children. Handlers are HTTP only; rules live in model, write and store.
//!
//! kontor decisions taken here (besides those in the reference):
//! - `PUT /customers/{id}` changes the keys it is given and keeps the others, as Fynn's PUT
//!   does; read-only keys of the read model are ignored so a GET body can be sent back.
//! - `PUT /customers/{id}/unarchive` exists (webhook `customer.unarchived` needs a trigger):
//!   archived -> active; any other status is a 409. Archiving an archived customer is a no-op.
//! - Every change to a customer, its addresses or e-mail addresses writes `customer.updated`
//!   (payload: the customer read model) to the outbox in the request's transaction.

pub mod children;
pub mod fields;
pub mod list;
pub mod model;
pub mod shown;
pub mod store;
pub mod write;

use crate::domain::outbox;
use crate::error::{ApiError, ApiResult};
use crate::http::input::Input;
use crate::http::list::Page;
use crate::http::{delete, get, patch, post, put, Access, Ctx, Reply, Route};
use model::{Customer, CustomerWrite};
use serde_json::Value;

const READ: Access = Access::Scope("customer:read");
const WRITE: Access = Access::Scope("customer:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/customers",
            WRITE,
            "Create a customer with its default address and e-mail",
            create,
        ),
        get(
            "/customers",
            READ,
            "List customers (filters, search, sorting)",
            list,
        ),
        get("/customers/{id}", READ, "Get one customer", show),
        put(
            "/customers/{id}",
            WRITE,
            "Update a customer (the keys sent)",
            update,
        ),
        delete("/customers/{id}", WRITE, "Delete a customer", remove),
        put(
            "/customers/{id}/archive",
            WRITE,
            "Archive a customer",
            archive,
        ),
        put(
            "/customers/{id}/unarchive",
            WRITE,
            "Unarchive an archived customer",
            unarchive,
        ),
        patch(
            "/customers/{id}/payment-method",
            WRITE,
            "Set the customer's default payment method",
            payment_method,
        ),
        get(
            "/customers/{id}/children",
            READ,
            "List child customers (always empty)",
            children,
        ),
    ]
}

/// Records `event` about `customer` in the request's transaction (delivered after commit).
pub fn emit(ctx: &Ctx, event: &str, customer: &Customer) -> ApiResult<()> {
    outbox::record(ctx.tx, ctx.tenant(), event, &customer.id, customer)
}

/// `emit`, answering `status` with the event's payload: the read model is serialized once.
fn emit_reply(ctx: &Ctx, event: &str, customer: &Customer, status: u16) -> ApiResult<Reply> {
    let body = serde_json::to_string(customer)?;
    outbox::record_json(ctx.tx, ctx.tenant(), event, &customer.id, &body)?;
    Ok(Reply {
        status,
        content_type: "application/json",
        body: body.into_bytes(),
        headers: vec![],
    })
}

/// Reads a customer body and adds the database checks, answering 422 with all violations.
fn validate(
    ctx: &Ctx,
    mut input: Input,
    current: Option<&model::CustomerRow>,
) -> ApiResult<CustomerWrite> {
    let request = CustomerWrite::read(&mut input, current.is_none());
    for v in write::conflicts(ctx.tx, ctx.tenant(), current, &request)? {
        input.violation(&v.property_path, &v.message, &v.code);
    }
    input.finish()?;
    Ok(request)
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let request = validate(ctx, ctx.input()?, None)?;
    let customer = write::create(ctx.tx, ctx.tenant(), &request)?;
    emit_reply(ctx, "customer.created", &customer, 201)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = list::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    // Malformed JSON (400) and unknown id (404) answer before validation (422).
    let input = ctx.input()?;
    let current = store::row(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let request = validate(ctx, input, Some(&current))?;
    let customer = write::update(ctx.tx, ctx.tenant(), current, &request)?;
    emit_reply(ctx, "customer.updated", &customer, 200)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let customer = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    // 409 check goes here: a customer with subscriptions, finalized documents or payment
    // transactions must be archived, not deleted (reference 05 §1.1). None of those
    // resources exist yet; each adds its "is this customer referenced?" query here.
    store::delete(ctx.tx, ctx.tenant(), &customer.id)?;
    emit(ctx, "customer.deleted", &customer)?;
    Reply::no_content()
}

fn archive(ctx: &Ctx) -> ApiResult<Reply> {
    let customer = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if customer.status == "STATUS_ARCHIVED" {
        return Reply::ok(&customer);
    }
    store::set_status(ctx.tx, ctx.tenant(), &customer.id, "STATUS_ARCHIVED")?;
    let customer = store::get(ctx.tx, ctx.tenant(), &customer.id)?;
    emit_reply(ctx, "customer.archived", &customer, 200)
}

fn unarchive(ctx: &Ctx) -> ApiResult<Reply> {
    let customer = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if customer.status != "STATUS_ARCHIVED" {
        return Err(ApiError::Conflict(format!(
            "Only an archived customer can be unarchived; this one is {}.",
            customer.status
        )));
    }
    store::set_status(ctx.tx, ctx.tenant(), &customer.id, "STATUS_ACTIVE")?;
    let customer = store::get(ctx.tx, ctx.tenant(), &customer.id)?;
    emit_reply(ctx, "customer.unarchived", &customer, 200)
}

/// `{paymentMethodId}`: a payment method id, or null to clear. Payment methods are not
/// modelled yet, so the id is stored as a reference after a format check; once they exist,
/// "unknown or another customer's payment method" becomes a 422 on `paymentMethodId` here.
fn payment_method(ctx: &Ctx) -> ApiResult<Reply> {
    let mut input = ctx.input()?;
    let current = store::row(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    input.reject_unknown(&["paymentMethodId"]);
    let id = match input.raw("paymentMethodId").cloned() {
        None => {
            input.violation("paymentMethodId", "This field is missing.", "missing_field");
            None
        }
        Some(Value::Null) => None,
        Some(Value::String(s)) if fields::is_uuid(&s) => Some(s),
        Some(_) => {
            input.violation(
                "paymentMethodId",
                "This value should be a payment method id or null.",
                "invalid_reference",
            );
            None
        }
    };
    input.finish()?;
    store::set_payment_method(ctx.tx, ctx.tenant(), &current.id, id.as_deref())?;
    let customer = store::get(ctx.tx, ctx.tenant(), &current.id)?;
    emit_reply(ctx, "customer.updated", &customer, 200)
}

/// kontor has no customer hierarchy (reference 05 §1.4): always an empty page.
fn children(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    store::exists(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    Reply::ok(&page.envelope::<Value>(&[], 0))
}
