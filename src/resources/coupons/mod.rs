//! Coupons (reference 10 §6): create, list, read, replace, delete and toggle, each change
//! recorded in the outbox (`coupon.created|updated|deleted|toggled`). The discount arithmetic
//! and the redemption rules live in `domain::discount`.

pub mod model;
pub mod store;

use crate::domain::outbox;
use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Reply, Route};
use model::{CouponWrite, Lookups};

const READ: Access = Access::Scope("coupon:read");
const WRITE: Access = Access::Scope("coupon:write");

pub fn routes() -> Vec<Route> {
    vec![
        post("/coupons", WRITE, "Create a coupon", create),
        get("/coupons", READ, "List coupons", list),
        get("/coupons/{id}", READ, "One coupon", read),
        put("/coupons/{id}", WRITE, "Replace a coupon's fields", replace),
        delete("/coupons/{id}", WRITE, "Delete a coupon", remove),
        put(
            "/coupons/{id}/toggle",
            WRITE,
            "Enable a disabled coupon or disable an enabled one",
            toggle,
        ),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let lookups = Lookups {
        code_taken: &|code| store::code_taken(tx, tenant, code, None),
        product_exists: &|id| store::product_exists(tx, tenant, id),
    };
    let write = CouponWrite::from_input(ctx.input()?, &lookups)?;
    let coupon = store::create(tx, tenant, &write)?;
    outbox::record(tx, tenant, "coupon.created", &coupon.id, &coupon)?;
    Reply::created(&coupon)
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    // 404 before 422: a body is only worth checking for a coupon that exists.
    let current = store::get(tx, tenant, ctx.param("id"))?;
    let lookups = Lookups {
        code_taken: &|code| store::code_taken(tx, tenant, code, Some(&current.id)),
        product_exists: &|id| store::product_exists(tx, tenant, id),
    };
    let write = CouponWrite::from_input(ctx.input()?, &lookups)?;
    let coupon = store::replace(tx, tenant, &current, &write)?;
    outbox::record(tx, tenant, "coupon.updated", &coupon.id, &coupon)?;
    Reply::ok(&coupon)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    store::delete(tx, tenant, &current.id)?;
    // The payload is the coupon as it was last seen, as for every `.deleted` event.
    outbox::record(tx, tenant, "coupon.deleted", &current.id, &current)?;
    Reply::no_content()
}

fn toggle(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let coupon = store::toggle(tx, tenant, ctx.param("id"))?;
    outbox::record(tx, tenant, "coupon.toggled", &coupon.id, &coupon)?;
    Reply::ok(&coupon)
}
