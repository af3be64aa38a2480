//! The tenant (reference 01 §2): the caller's tenants, reading and patching one. A token is bound
//! to one tenant, so it lists and reads only that one; any other id is 404.
//! Creating tenants is an operator task on the command line (`bootstrap.rs`), not an endpoint.

pub mod model;
pub mod store;

use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{get, patch, Access, Ctx, Reply, Route};

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/user/tenants",
            Access::User,
            "List the tenants of the current user (with an API token: the token's tenant)",
            list,
        ),
        get(
            "/tenants/{id}",
            Access::User,
            "Read the current tenant",
            read,
        ),
        patch(
            "/tenants/{id}",
            Access::Scope("tenant:manager"),
            "Update the current tenant (merge patch)",
            update,
        ),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let p = ctx.principal;
    // Every principal today comes from an API token, which is bound to its tenant.
    let (items, total) = store::list_for_user(ctx.tx, &p.user_id, Some(&p.tenant_id), &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    // 404 before validation: another tenant's id must not learn anything from a 422.
    let current = store::get(tx, tenant, ctx.param("id"))?;
    let patch = model::TenantPatch::from_input(ctx.input()?, &|u| {
        store::username_taken(tx, u, &current.id)
    })?;
    Reply::ok(&store::update(tx, tenant, &current.id, &patch)?)
}
