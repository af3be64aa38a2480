//! Price plans (reference 10 §5): create, list (filters `product`, `customer`, `type`,
//! `showArchived`), read, replace (frozen terms when in use: 409), archive (event
//! `price_plan.archived`), and the kontor extension `POST /price-plans/{id}/calculate`.
//! The arithmetic lives in `domain::pricing` and `domain::period`.

pub mod amounts;
pub mod calculate;
pub mod model;
pub mod store;
pub mod write;

use crate::domain::outbox;
use crate::error::{ApiError, ApiResult};
use crate::http::{get, post, put, Access, Ctx, Method, Reply, Route};
use store::DbLookup;
use write::PlanRequest;

const READ: Access = Access::Scope("price-plan:read");
const WRITE: Access = Access::Scope("price-plan:write");

pub fn routes() -> Vec<Route> {
    vec![
        post("/price-plans", WRITE, "Create a price plan", create),
        get(
            "/price-plans",
            READ,
            "List price plans (filters product, customer, type; showArchived)",
            list,
        ),
        get("/price-plans/{id}", READ, "One price plan", read),
        put(
            "/price-plans/{id}",
            WRITE,
            "Replace a price plan; when in use only internalName may change",
            replace,
        ),
        put(
            "/price-plans/{id}/archive",
            WRITE,
            "Archive a price plan",
            archive,
        ),
        // A computation, not a creation: 200. Read scope, since nothing is stored.
        Route::new(
            Method::Post,
            "/price-plans/{id}/calculate",
            READ,
            200,
            "Price a quantity with the plan, optionally prorated for part of a period",
            calculate,
        )
        .read_only(),
    ]
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let lookup = DbLookup { conn: tx, tenant };
    let request = PlanRequest::from_input(ctx.input()?, &lookup, None)?;
    Reply::created(&store::create(tx, tenant, &request)?.view()?)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let (items, total, page) = store::list(ctx.tx, ctx.tenant(), &ctx.query)?;
    let views = items
        .iter()
        .map(|p| p.view())
        .collect::<ApiResult<Vec<_>>>()?;
    Reply::ok(&page.envelope(&views, total))
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?.view()?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    let lookup = DbLookup { conn: tx, tenant };
    let request = PlanRequest::from_input(ctx.input()?, &lookup, Some(&current.terms))?;
    // Subscriptions bill by these terms and issued invoices show them: only the name may
    // change. Sending the same terms back (read-modify-write) is fine.
    if current.in_use && request.terms != current.terms {
        return Err(ApiError::Conflict(
            "This price plan is in use by subscriptions: only internalName may change. \
             Create a new price plan for new terms."
                .into(),
        ));
    }
    Reply::ok(&store::replace(tx, tenant, &current.id, &request)?.view()?)
}

fn archive(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(tx, tenant, ctx.param("id"))?;
    // Archiving twice is answered like the first time, without a second event.
    let changed = store::archive(tx, tenant, &current.id)?;
    let view = store::get(tx, tenant, &current.id)?.view()?;
    if changed {
        outbox::record(tx, tenant, "price_plan.archived", &current.id, &view)?;
    }
    Reply::ok(&view)
}

fn calculate(ctx: &Ctx) -> ApiResult<Reply> {
    let plan = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    Reply::ok(&calculate::run(&plan, ctx.input()?)?)
}
