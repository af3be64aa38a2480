//! Product families (reference 10 §4): create, list, read, rename, delete.
//!
//! kontor decisions: `name` (1–255) is the only writable field and need not be unique; read-only
//! keys of the read model may be sent back and are ignored. `locale` is accepted like on every
//! catalogue read, but family names have one language. A family that still holds a product
//! (archived ones included) cannot be deleted: 409.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Reply, Route};
use crate::resources::{products, units};

const READ: Access = Access::Scope("product-family:read");
const WRITE: Access = Access::Scope("product-family:write");

pub fn routes() -> Vec<Route> {
    vec![
        get("/product-families", READ, "List product families", list),
        post(
            "/product-families",
            WRITE,
            "Create a product family",
            create,
        ),
        get(
            "/product-families/{id}",
            READ,
            "Get one product family",
            show,
        ),
        put(
            "/product-families/{id}",
            WRITE,
            "Rename a product family",
            update,
        ),
        delete(
            "/product-families/{id}",
            WRITE,
            "Delete a product family no product is in",
            remove,
        ),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    units::locale(ctx)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let name = model::name_from_input(ctx.input()?)?;
    Reply::created(&store::create(ctx.tx, ctx.tenant(), &name)?)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    units::locale(ctx)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    // 404 before 422: another tenant's id must not learn anything from the validation.
    let current = store::get(tx, tenant, ctx.param("id"))?;
    let name = model::name_from_input(ctx.input()?)?;
    Reply::ok(&store::update(tx, tenant, &current.id, &name)?)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    let members = products::store::in_family(tx, tenant, &current.id)?;
    if members > 0 {
        return Err(ApiError::Conflict(format!(
            "The product family still holds {members} product(s); remove them from it first."
        )));
    }
    store::delete(tx, tenant, &current.id)?;
    Reply::no_content()
}
