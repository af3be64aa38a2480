//! Tenant members (reference 01 §3) and the current user `GET /user/me` (01 §5): list, invite,
//! change role, deactivate, activate.
//!
//! Invitations: the invitation e-mail is not sent here. `POST /tenant/accounts` writes an outbox
//! row of type `notification.account_invited` (object id = the account id, payload = the account
//! in its read shape: membership id, role, and the user's id, names and e-mail) in the request's
//! transaction; the mail worker delivers it later, and nothing is queued when the invite fails.
//!
//! Role changes and deactivation need no token bookkeeping: `auth.rs` reads the account's role
//! and `deactivated` flag on every request, so they take effect on the next request.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{get, post, put, Access, Ctx, Reply, Route};
use crate::resources::roles::store as roles;
use model::Account;
use store::MANAGER;

/// Outbox event type of an invitation, read by the mail worker.
pub const INVITED_EVENT: &str = "notification.account_invited";

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/user/me",
            Access::User,
            "The current user, their membership and the token's permissions",
            me,
        ),
        get(
            "/tenant/accounts",
            Access::User,
            "List the members of the current tenant",
            list,
        ),
        post(
            "/tenant/accounts",
            Access::Scope(MANAGER),
            "Invite a user into the tenant with a role",
            invite,
        ),
        put(
            "/tenant/accounts/{id}/role",
            Access::Scope(MANAGER),
            "Change a member's role",
            change_role,
        ),
        put(
            "/tenant/accounts/{id}/deactivate",
            Access::Scope(MANAGER),
            "Lock a member out of the tenant",
            deactivate,
        ),
        put(
            "/tenant/accounts/{id}/activate",
            Access::Scope(MANAGER),
            "Unlock a member",
            activate,
        ),
    ]
}

fn me(ctx: &Ctx) -> ApiResult<Reply> {
    let p = ctx.principal;
    Reply::ok(&store::me(
        ctx.tx,
        &p.tenant_id,
        &p.account_id,
        &p.permissions,
    )?)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn invite(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let request =
        model::InviteRequest::from_input(ctx.input()?, &|role| roles::exists(tx, tenant, role))?;
    let account = store::invite(tx, tenant, &request)?;
    crate::domain::outbox::record(tx, tenant, INVITED_EVENT, &account.id, &account)?;
    Reply::created(&account)
}

/// The member addressed by `{id}` (404 first, so another tenant's id reveals nothing), refusing
/// the caller's own membership: another manager must change or lock it.
fn other_member(ctx: &Ctx, action: &str) -> ApiResult<Account> {
    let account = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if account.id == ctx.principal.account_id {
        return Err(ApiError::Forbidden(format!(
            "You cannot {action} yourself; another member with '{MANAGER}' must do it."
        )));
    }
    Ok(account)
}

fn change_role(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let account = other_member(ctx, "change the role of")?;
    let role = model::role_request(ctx.input()?, &|role| roles::exists(tx, tenant, role))?;
    Reply::ok(&store::change_role(tx, tenant, &account, &role)?)
}

fn deactivate(ctx: &Ctx) -> ApiResult<Reply> {
    let account = other_member(ctx, "deactivate")?;
    Reply::ok(&store::deactivate(ctx.tx, ctx.tenant(), &account)?)
}

fn activate(ctx: &Ctx) -> ApiResult<Reply> {
    // No self check: a deactivated member's tokens no longer authenticate.
    let account = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    Reply::ok(&store::activate(ctx.tx, ctx.tenant(), &account)?)
}
