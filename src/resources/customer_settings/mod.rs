//! Customer settings (reference 05 §4): the effective values of one context for one customer,
//! each with its source, and a merge patch that sets or clears the customer's own values.
//! A key sent as `null` removes the customer value, so the key follows the organisation again.

pub mod model;
pub mod store;

use crate::error::ApiResult;
use crate::http::{get, patch, Access, Ctx, Reply, Route};

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/customers/{id}/settings/{context}",
            Access::Scope("customer-settings:read"),
            "Effective settings of one context for a customer, with their source",
            show,
        ),
        patch(
            "/customers/{id}/settings/{context}",
            Access::Scope("customer-settings:write"),
            "Set or clear (null) a customer's own settings in one context",
            update,
        ),
    ]
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    let (customer, context) = (ctx.param("id"), ctx.param("context"));
    Reply::ok(&store::read(ctx.tx, ctx.tenant(), customer, context)?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (customer, context) = (ctx.param("id"), ctx.param("context"));
    // 404s (customer of another tenant, unknown context) come before the body is judged.
    store::ensure(ctx.tx, ctx.tenant(), customer, context)?;
    let changes = model::parse_patch(ctx.input()?, context)?;
    store::apply(ctx.tx, ctx.tenant(), customer, context, &changes)?;
    Reply::ok(&store::read(ctx.tx, ctx.tenant(), customer, context)?)
}
