//! Catalogue measurements (reference 10 §2): create, list (filter `code`), read, update, delete.
//!
//! kontor decisions:
//! - `code`: 1–255 characters without whitespace (usage is reported by code), unique per tenant.
//! - `unit` is written as an id (also an IRI or a `{id, ...}` object, so a GET body can be sent
//!   back); an id that is not one of the tenant's units is a 422 on `unit`. It reads as
//!   `{id, name}` with the name in the request's `locale`.
//! - `PUT` changes the keys sent and keeps the others (like customers). `aggregationType` may be
//!   repeated but not changed (422); the seeded `quantity` measurement keeps its code (422).
//! - `type` is read-only (`recurring`); read-only keys of the read model are ignored on write.
//! - DELETE: the default `quantity` measurement and measurements used by a product are 409.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Reply, Route};
use crate::resources::{products, units};
use model::MeasurementData;

const READ: Access = Access::Scope("measurement:read");
const WRITE: Access = Access::Scope("measurement:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/catalogue/measurements",
            WRITE,
            "Create a measurement",
            create,
        ),
        get(
            "/catalogue/measurements",
            READ,
            "List measurements (filter code)",
            list,
        ),
        get(
            "/catalogue/measurements/{id}",
            READ,
            "Get one measurement",
            show,
        ),
        put(
            "/catalogue/measurements/{id}",
            WRITE,
            "Update a measurement (aggregationType is fixed)",
            update,
        ),
        delete(
            "/catalogue/measurements/{id}",
            WRITE,
            "Delete a measurement no product uses",
            remove,
        ),
    ]
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let locale = units::locale(ctx)?;
    let lookup = store::Lookup { conn: tx, tenant };
    let data = MeasurementData::create(ctx.input()?, &lookup)?;
    Reply::created(&store::create(tx, tenant, &data, &locale)?)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let locale = units::locale(ctx)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page, &locale)?;
    Reply::ok(&page.envelope(&items, total))
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    let locale = units::locale(ctx)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"), &locale)?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let locale = units::locale(ctx)?;
    let current = store::get(tx, tenant, ctx.param("id"), &locale)?;
    let lookup = store::Lookup { conn: tx, tenant };
    let data = MeasurementData::update(ctx.input()?, &lookup, &current)?;
    Reply::ok(&store::update(tx, tenant, &current.id, &data, &locale)?)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(
        tx,
        tenant,
        ctx.param("id"),
        &units::store::locale(tx, tenant, None)?,
    )?;
    if current.is_default {
        return Err(ApiError::Conflict(format!(
            "The default measurement '{}' cannot be deleted.",
            current.code
        )));
    }
    // Archived products count: they still bill in existing subscriptions.
    let users = products::store::using_measurement(tx, tenant, &current.id)?;
    if users > 0 {
        return Err(ApiError::Conflict(format!(
            "The measurement is used by {users} product(s); give them another measurement first."
        )));
    }
    store::delete(tx, tenant, &current.id)?;
    Reply::no_content()
}
