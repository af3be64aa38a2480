//! API tokens of the calling user (reference 01 §1): list, create (secret shown once), revoke.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{delete, get, post, Access, Ctx, Reply, Route};

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/user/api-tokens",
            Access::Scope("user:api-token:read"),
            "List the caller's API tokens",
            list,
        ),
        post(
            "/user/api-tokens",
            Access::Scope("user:api-token:write"),
            "Create an API token; the secret is returned only here",
            create,
        ),
        delete(
            "/user/api-tokens/{id}",
            Access::Scope("user:api-token:write"),
            "Revoke an API token at once",
            remove,
        ),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let p = ctx.principal;
    let (items, total) = store::list(ctx.tx, &p.tenant_id, &p.user_id, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let request = model::CreateRequest::from_input(ctx.input()?)?;
    let p = ctx.principal;
    let created = store::create(
        ctx.tx,
        &p.tenant_id,
        &p.user_id,
        request.description.as_deref(),
        request.expires_at.as_deref(),
    )?;
    Reply::created(&created)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let p = ctx.principal;
    if !store::delete(ctx.tx, &p.tenant_id, &p.user_id, ctx.param("id"))? {
        return Err(ApiError::not_found("API token"));
    }
    Reply::no_content()
}
