//! Billing groups (reference 08 §4): create, read, and a customer's groups. A subscription
//! joins a group through `billingGroup` at creation; its periods then start on the group date
//! with a prorated first period (`align`, used by the billing engine through
//! `store::first_period_end`).
//!
//! kontor decisions:
//! - `customer` is required on create (an id, an IRI or `{id}`); an unknown one is a 422 on
//!   `customer`. The read model shows it too, and `subscriptions` lists the ids of the
//!   subscriptions in the group.
//! - `customDay` (1–31) is required for `custom`, `customMonth` (1–12) optional; on the other
//!   types they are refused unless `null` (a read model sent back).
//! - Groups are not changed or deleted through the API (the reference has no such endpoint):
//!   moving the group date under running subscriptions would re-cut billed periods.
//! - `GET /customers/{id}/billing-groups` is paginated like every collection; 404 for an
//!   unknown customer.

pub mod align;
pub mod model;
pub mod store;

use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{get, post, Access, Ctx, Reply, Route};
use crate::resources::customers;
use model::BillingGroupData;

const READ: Access = Access::Scope("billing-group:read");
const WRITE: Access = Access::Scope("billing-group:write");

pub fn routes() -> Vec<Route> {
    vec![
        post("/billing-groups", WRITE, "Create a billing group", create),
        get("/billing-groups/{id}", READ, "One billing group", show),
        get(
            "/customers/{id}/billing-groups",
            READ,
            "A customer's billing groups",
            for_customer,
        ),
    ]
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let exists = |id: &str| Ok(customers::store::exists(tx, tenant, id).is_ok());
    let data = BillingGroupData::create(ctx.input()?, &exists)?;
    Reply::created(&store::create(tx, tenant, &data)?)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn for_customer(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    customers::store::exists(tx, tenant, ctx.param("id"))?;
    let (items, total) = store::for_customer(tx, tenant, ctx.param("id"), &page)?;
    Reply::ok(&page.envelope(&items, total))
}
