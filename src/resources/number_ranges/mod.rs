//! Number ranges of the tenant (reference 03 §2): list them, change a range's format and/or
//! next number. Numbers are assigned by `domain::numbering`, which never reissues a number.
//!
//! kontor decisions: `nextNumber` may stay equal or grow, never shrink (422), so a counter can
//! never walk back over numbers it produced; changing the format does not reset the counter.
//! The read-only fields `type` and `updatedAt` may be sent back unchanged with a PUT.

pub mod model;
pub mod store;

use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{get, put, Access, Ctx, Reply, Route};

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/number-ranges",
            Access::Scope("setting:read"),
            "All number ranges of the tenant, one per type",
            list,
        ),
        put(
            "/number-ranges/{type}",
            Access::Scope("setting:write"),
            "Change a range's format and/or next number (which may only grow)",
            update,
        ),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    // Read first (404 for an unknown type): the "only grow" rule compares with the stored
    // counter, and the write lock of this PUT keeps it from moving until we commit.
    let current = store::get(ctx.tx, ctx.tenant(), ctx.param("type"))?;
    let change = model::Update::from_input(ctx.input()?, &current)?;
    Reply::ok(&store::update(ctx.tx, ctx.tenant(), &current, &change)?)
}
