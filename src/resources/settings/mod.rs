//! Tenant settings by context (reference 03 §1): read one context with defaults filled in, and
//! change it with a merge patch.
//!
//! kontor decisions (the reference is silent on them):
//! - A key sent as `null` resets it to its system default (the stored value is deleted), so
//!   "back to default" needs no knowledge of what the default is. For customer settings the same
//!   `null` makes the customer follow the organisation again (05 §4.3).
//! - Object values (`bankAccount`) are merged like the rest of the patch: only the sub-keys sent
//!   change, and a sub-key sent as `null` goes back to its default (`""`).
//! - `mail.smtpPassword` is write-only. It is read back as `"**********"` when set and `null`
//!   otherwise; sending the mask itself leaves the password unchanged, so a client may PATCH back
//!   what it read without wiping the password.
//! - IBAN, BIC and the SEPA creditor identifier are checked (checksum, shape) and stored without
//!   spaces in capitals.

pub mod model;
pub mod store;

use crate::error::ApiResult;
use crate::http::{get, patch, Access, Ctx, Reply, Route};

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/settings/{context}",
            Access::Scope("setting:read"),
            "All keys of one settings context, with defaults filled in",
            show,
        ),
        patch(
            "/settings/{context}",
            Access::Scope("setting:write"),
            "Merge patch of one settings context (null resets a key to its default)",
            update,
        ),
    ]
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::read(ctx.tx, ctx.tenant(), ctx.param("context"))?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let context = ctx.param("context");
    // Also the 404 for an unknown context, before the body is looked at.
    let current = store::effective(ctx.tx, ctx.tenant(), context)?;
    let changes = model::parse_patch(ctx.input()?, context, &current)?;
    store::apply(ctx.tx, ctx.tenant(), context, &changes)?;
    Reply::ok(&store::read(ctx.tx, ctx.tenant(), context)?)
}
