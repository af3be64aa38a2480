//! Custom field definitions (reference 03 §7): list, create, read, replace and delete the
//! attributes customers, products and subscriptions may carry in `customFields`. Value checks
//! live in `domain::custom_fields`.
//!
//! kontor decisions (the reference is silent on them):
//! - `name` is a letter followed by letters, digits, `_` or `-` (at most 64), so that the
//!   violation path `customFields.<name>` is unambiguous.
//! - `entity`, `name` and `type` are immutable: stored values depend on them. A PUT may echo
//!   them back unchanged; PUT replaces `label`, `choices` and `required` (absent: `false`).
//! - Selection types need 1 to 100 choices with unique values; other types take none.
//! - Changing choices or making a field required does not touch stored values; an owner whose
//!   values no longer fit gets the 422 on its next write of `customFields`.
//! - DELETE removes the definition only. Values stay stored, hidden from responses and refused
//!   on write; defining the same name again makes them visible again.
//! - List: filter `entity`, sorting `order[name|label|createdAt]`, default creation order.

pub mod model;
pub mod store;

use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Reply, Route};

const READ: Access = Access::Scope("setting:read");
const WRITE: Access = Access::Scope("setting:write");

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/custom-fields",
            READ,
            "List custom field definitions (filter: entity)",
            list,
        ),
        post(
            "/custom-fields",
            WRITE,
            "Define a custom field for customers, products or subscriptions",
            create,
        ),
        get(
            "/custom-fields/{id}",
            READ,
            "One custom field definition",
            show,
        ),
        put(
            "/custom-fields/{id}",
            WRITE,
            "Replace a definition's label, choices and required flag",
            replace,
        ),
        delete(
            "/custom-fields/{id}",
            WRITE,
            "Delete a definition; stored values are kept but hidden",
            remove,
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
    let request = model::CreateRequest::from_input(ctx.input()?, &|entity, name| {
        store::name_taken(tx, tenant, entity, name)
    })?;
    Reply::created(&store::create(tx, tenant, &request)?)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    let request = model::ReplaceRequest::from_input(ctx.input()?, &current)?;
    Reply::ok(&store::replace(tx, tenant, &current.id, &request)?)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    store::delete(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    Reply::no_content()
}
