//! Catalogue products (reference 10 §3): create, list, read, update, archive; outbox events
//! `product.created`, `product.updated`, `product.archived` (payload: the product read shape in
//! the tenant locale).
//!
//! kontor decisions:
//! - `taxGroup` may be left out on create: the product then gets the tenant's `standard` tax
//!   group (the oldest one, i.e. the seeded "Standard"), just as `measurement` defaults to the
//!   tenant's `quantity` measurement. Sent as `null`, either is a 422. Every reference
//!   (`measurement`, `taxGroup`, `productFamilies[i]`, `costCentre`) is written as an id, an IRI
//!   ending in the id, or a `{id, ...}` object; an id the tenant does not have is a 422 on that
//!   field. `costCentre` is stored as given (no cost-centre resource exists yet) and reads as
//!   `{id}`.
//! - `PUT` changes the keys sent and keeps the others (like customers and measurements); `null`
//!   clears `description`, `internalName`, `number`, `costCentre`, `productFamilies` and
//!   `customFields`. `type` may be repeated but not changed (422). Read-only keys of the read
//!   model are ignored, so a GET body can be sent back.
//! - `customFields` is checked by `domain::custom_fields` (always on create, so required
//!   definitions apply; on update when sent) and replaced as a whole when sent.
//! - Archived products can still be updated (descriptions of running subscriptions may need
//!   fixing). Archiving twice answers 200 with the product and records no second event.
//! - The list never shows `plan` products; `GET /catalogue/products/{id}` does. Filter `type`
//!   (`product` | `charge`), sort by `name` or `createdAt`. `locale` picks the language of the
//!   embedded unit name; product texts have the tenant's one language.
//! - `number` is the caller's article number and need not be unique (variants of one article).

mod embed;
pub mod model;
pub mod store;

use crate::domain::outbox;
use crate::error::ApiResult;
use crate::http::list::Page;
use crate::http::{get, post, put, Access, Ctx, Reply, Route};
use crate::resources::units;
use crate::resources::units::model::Locale;
use model::{Product, ProductData};

const READ: Access = Access::Scope("product:read");
const WRITE: Access = Access::Scope("product:write");

pub fn routes() -> Vec<Route> {
    vec![
        get(
            "/catalogue/products",
            READ,
            "List products (showArchived, type, locale)",
            list,
        ),
        post("/catalogue/products", WRITE, "Create a product", create),
        get("/catalogue/products/{id}", READ, "Get one product", show),
        put(
            "/catalogue/products/{id}",
            WRITE,
            "Update a product (the keys sent; type is fixed)",
            update,
        ),
        put(
            "/catalogue/products/{id}/archive",
            WRITE,
            "Archive a product",
            archive,
        ),
    ]
}

/// Records `event` with the product as the tenant sees it, whatever locale the client asked for.
fn emit(ctx: &Ctx, event: &str, id: &str, locale: &Locale) -> ApiResult<()> {
    let product: Product = store::get(ctx.tx, ctx.tenant(), id, &locale.tenant_only())?;
    outbox::record(ctx.tx, ctx.tenant(), event, id, &product)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let locale = units::locale(ctx)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &ctx.query, &page, &locale)?;
    Reply::ok(&page.envelope(&items, total))
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let locale = units::locale(ctx)?;
    let data = ProductData::create(ctx.input()?, &store::Lookup { conn: tx, tenant })?;
    let id = store::create(tx, tenant, &data)?;
    emit(ctx, "product.created", &id, &locale)?;
    Reply::created(&store::get(tx, tenant, &id, &locale)?)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    let locale = units::locale(ctx)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"), &locale)?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant, id) = (ctx.tx, ctx.tenant(), ctx.param("id"));
    let locale = units::locale(ctx)?;
    // 404 before 422: another tenant's id must not learn anything from the validation.
    let current = store::data(tx, tenant, id)?;
    let data = ProductData::update(ctx.input()?, &store::Lookup { conn: tx, tenant }, current)?;
    store::update(tx, tenant, id, &data)?;
    emit(ctx, "product.updated", id, &locale)?;
    Reply::ok(&store::get(tx, tenant, id, &locale)?)
}

fn archive(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant, id) = (ctx.tx, ctx.tenant(), ctx.param("id"));
    let locale = units::locale(ctx)?;
    if store::archive(tx, tenant, id)? {
        emit(ctx, "product.archived", id, &locale)?;
    }
    Reply::ok(&store::get(tx, tenant, id, &locale)?)
}
