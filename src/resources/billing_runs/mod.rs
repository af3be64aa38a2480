//! Billing runs (reference 06 §3, kontor extension): start a run for a date (or a dry run),
//! list and read runs, and the run behind an invoice. The work is `billing::run`.
//!
//! kontor decisions:
//! - POST runs synchronously and answers 201 with the finished run; it is routed read-only so
//!   it does not hold the writer thread: the run writes through its own connection, one
//!   transaction per customer, and other requests interleave between customers.
//! - A dry run is recorded as a run (`dryRun: true`) and answers `preview`: the invoices it
//!   would create. It does exactly the work of a real run and rolls each customer back.
//! - A run whose customer failed ends `failed` with the first error; the other customers stay
//!   billed, and running the date again bills the rest exactly once.

pub mod store;

use crate::billing::run::run_billing;
use crate::domain::settings;
use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{get, post, Access, Ctx, Reply, Route};
use crate::resources::invoice_positions::fields::date;
use serde_json::json;

const READ: Access = Access::Scope("billing-run:read");
const WRITE: Access = Access::Scope("billing-run:write");
const INVOICE_READ: Access = Access::Scope("invoice:read");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/billing-runs",
            WRITE,
            "Start a billing run for a date (dryRun: compute only)",
            start,
        )
        .read_only(),
        get("/billing-runs", READ, "Billing runs, newest first", list),
        get("/billing-runs/{id}", READ, "One billing run", show),
        get(
            "/invoices/{id}/billing-run",
            INVOICE_READ,
            "The billing run behind an invoice",
            for_invoice,
        ),
    ]
}

fn start(ctx: &Ctx) -> ApiResult<Reply> {
    let tenant = ctx.tenant();
    let mut input = ctx.input()?;
    input.reject_unknown(&["date", "dryRun"]);
    let day = date(&mut input, "date");
    let dry_run = input.bool("dryRun").value().unwrap_or(false);
    input.finish()?;
    let day = match day {
        Some(d) => d,
        None => settings::today(ctx.tx, tenant)?,
    };
    let result = run_billing(&ctx.config.db, tenant, day, dry_run)?;
    let conn = crate::db::open(&ctx.config.db).map_err(crate::error::ApiError::Internal)?;
    let run = store::get(&conn, tenant, &result.id)?;
    let mut body = serde_json::to_value(&run)?;
    if dry_run {
        body["preview"] = json!(result.bills);
    }
    Reply::created(&body)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &page)?;
    Reply::ok(&page.envelope(&items, total))
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn for_invoice(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    crate::resources::invoices::store::get(tx, tenant, ctx.param("id"))?;
    Reply::ok(&store::for_invoice(tx, tenant, ctx.param("id"))?)
}
