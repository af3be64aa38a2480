//! Tax groups (reference 03 §3): list, create, read and replace groups with their rate tables,
//! plus `POST /tax-groups/{id}/resolve`, a kontor extension that shows the tax decision
//! (03 §3.4) for one customer, so the rules can be checked black-box before billing uses them.

pub mod model;
pub mod store;

use crate::domain::tax::{self, TaxDecision};
use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{get, post, put, Access, Ctx, Method, Reply, Route};
use model::{TaxGroupEmbed, TaxGroupWrite};
use serde::Serialize;

const READ: Access = Access::Scope("tax-group:read");
const WRITE: Access = Access::Scope("tax-group:write");

pub fn routes() -> Vec<Route> {
    vec![
        get("/tax-groups", READ, "List tax groups", list),
        post(
            "/tax-groups",
            WRITE,
            "Create a tax group with its rates",
            create,
        ),
        get("/tax-groups/{id}", READ, "One tax group", read),
        put(
            "/tax-groups/{id}",
            WRITE,
            "Replace a tax group's name, type and rates",
            replace,
        ),
        // An action that changes nothing: 200, and only the read scope.
        Route::new(
            Method::Post,
            "/tax-groups/{id}/resolve",
            READ,
            200,
            "The tax decision for a customer buying a product of this group (kontor)",
            resolve,
        )
        .read_only(),
    ]
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let write = TaxGroupWrite::from_input(ctx.input()?)?;
    Reply::created(&store::create(ctx.tx, ctx.tenant(), &write)?)
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    // 404 before 422: a body is only worth checking for a group that exists.
    let current = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let write = TaxGroupWrite::from_input(ctx.input()?)?;
    Reply::ok(&store::replace(ctx.tx, ctx.tenant(), &current.id, &write)?)
}

/// The decision plus what it was made from, so a caller sees why.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resolution {
    #[serde(flatten)]
    decision: TaxDecision,
    customer: String,
    tax_group: TaxGroupEmbed,
}

fn resolve(ctx: &Ctx) -> ApiResult<Reply> {
    let group = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let mut input = ctx.input()?;
    input.reject_unknown(&["customer"]);
    let customer = input
        .required_string("customer")
        .map(|c| reference_id(&c).to_string());
    input.finish()?;
    let customer =
        customer.ok_or_else(|| ApiError::Internal("resolve: customer checked".into()))?;
    let decision = tax::resolve_for_customer(ctx.tx, ctx.tenant(), &group.id, &customer)?;
    let tax_group = group.embed(decision.reverse_charge_type);
    Reply::ok(&Resolution {
        decision,
        customer,
        tax_group,
    })
}

/// A reference may be a plain id or an IRI such as `/customers/{id}` (README §9).
fn reference_id(value: &str) -> &str {
    value.rsplit('/').next().unwrap_or(value)
}
