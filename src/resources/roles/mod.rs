//! Roles and their permission scopes (reference 01 §4): list, create, replace and delete custom
//! roles. Predefined roles are read-only (409). Scopes are read per request by `auth.rs`, so a
//! change here takes effect on the very next request of every account holding the role.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Reply, Route};
use crate::resources::accounts::store::{active_managers, MANAGER};

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/roles",
            Access::User,
            "List the tenant's roles with their permissions",
            list,
        ),
        post(
            "/roles",
            Access::Scope(MANAGER),
            "Create a custom role",
            create,
        ),
        put(
            "/roles/{id}",
            Access::Scope(MANAGER),
            "Replace a custom role's name and permissions",
            replace,
        ),
        delete(
            "/roles/{id}",
            Access::Scope(MANAGER),
            "Delete a custom role that no account holds",
            remove,
        ),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let request =
        model::CreateRequest::from_input(ctx.input()?, &|id| store::exists(tx, tenant, id))?;
    Reply::created(&store::create(tx, tenant, &request)?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    if current.predefined {
        return Err(ApiError::Conflict(format!(
            "The predefined role '{}' cannot be changed; create a custom role instead.",
            current.id
        )));
    }
    let request = model::ReplaceRequest::from_input(ctx.input()?, &current.id)?;
    // Taking `tenant:manager` away from the role every active manager holds would leave the
    // tenant without anyone able to manage members and roles.
    let drops_manager = current.has(MANAGER) && !request.permissions.iter().any(|p| p == MANAGER);
    if drops_manager
        && active_managers(tx, tenant, None, None)? > 0
        && active_managers(tx, tenant, None, Some(&current.id))? == 0
    {
        return Err(ApiError::Conflict(format!(
            "Removing '{MANAGER}' from role '{}' would leave no active member holding it.",
            current.id
        )));
    }
    let role = store::replace(tx, tenant, &current.id, &request.name, &request.permissions)?;
    Reply::ok(&role)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    if current.predefined {
        return Err(ApiError::Conflict(format!(
            "The predefined role '{}' cannot be deleted.",
            current.id
        )));
    }
    // Deactivated accounts count too: activating them again needs their role to exist.
    let holders = store::assigned(tx, tenant, &current.id)?;
    if holders > 0 {
        return Err(ApiError::Conflict(format!(
            "The role '{}' is still assigned to {holders} account(s); assign them another role first.",
            current.id
        )));
    }
    store::delete(tx, tenant, &current.id)?;
    Reply::no_content()
}
