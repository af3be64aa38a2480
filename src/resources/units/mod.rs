//! Units of measure (reference 10 §1): create, list, read, replace translations, delete.
//!
//! kontor decisions:
//! - The only writable field is `translations` (locale -> name, 1–255 characters each); it must
//!   hold a name for the tenant locale (`organization.locale`). Read-only keys of the read model
//!   (`id`, `name`, `createdAt`, `updatedAt`) may be sent back and are ignored.
//! - `name` is the translation for `?locale=`, then for its language (`en-GB` -> `en`), then for
//!   the tenant locale, then any translation. A malformed `locale` is a 400. The same `locale`
//!   rule applies to every catalogue read (`locale` below is shared with measurements and
//!   products).
//! - A unit used by a measurement cannot be deleted (409). Products reach units only through
//!   their measurement, so that check covers them too; any other reference that a later table
//!   adds is caught by its foreign key and also answered with 409.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use crate::http::{delete, get, post, put, Access, Ctx, Reply, Route};
use crate::resources::measurements;
use model::Locale;

const READ: Access = Access::Scope("unit:read");
const WRITE: Access = Access::Scope("unit:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/units",
            WRITE,
            "Create a unit with its translations",
            create,
        ),
        get("/units", READ, "List units (query locale)", list),
        get("/units/{id}", READ, "Get one unit (query locale)", show),
        put(
            "/units/{id}",
            WRITE,
            "Replace a unit's translations",
            replace,
        ),
        delete(
            "/units/{id}",
            WRITE,
            "Delete a unit no measurement uses",
            remove,
        ),
    ]
}

/// The locale of a catalogue read: `?locale=` (checked; malformed is a 400) over the tenant's.
pub fn locale(ctx: &Ctx) -> ApiResult<Locale> {
    let requested = ctx.query.get("locale").filter(|l| !l.is_empty());
    if let Some(l) = requested {
        if !model::is_locale(l) {
            return Err(ApiError::BadRequest(format!(
                "Query parameter 'locale' must be a locale such as de, en or en-GB, got '{l}'."
            )));
        }
    }
    store::locale(ctx.tx, ctx.tenant(), requested)
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let locale = locale(ctx)?;
    let translations = model::translations_from_input(ctx.input()?, &locale.tenant)?;
    Reply::created(&store::create(
        ctx.tx,
        ctx.tenant(),
        &translations,
        &locale,
    )?)
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let page = Page::from_query(&ctx.query)?;
    let locale = locale(ctx)?;
    let (items, total) = store::list(ctx.tx, ctx.tenant(), &page, &locale)?;
    Reply::ok(&page.envelope(&items, total))
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    let locale = locale(ctx)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"), &locale)?)
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let locale = locale(ctx)?;
    // 404 before 422: another tenant's id must not learn anything from the validation.
    let current = store::get(tx, tenant, ctx.param("id"), &locale)?;
    let translations = model::translations_from_input(ctx.input()?, &locale.tenant)?;
    Reply::ok(&store::replace(
        tx,
        tenant,
        &current.id,
        &translations,
        &locale,
    )?)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let current = store::get(
        tx,
        tenant,
        ctx.param("id"),
        &store::locale(tx, tenant, None)?,
    )?;
    let users = measurements::store::using_unit(tx, tenant, &current.id)?;
    if users > 0 {
        return Err(ApiError::Conflict(format!(
            "The unit is used by {users} measurement(s); change or delete them first."
        )));
    }
    store::delete(tx, tenant, &current.id)?;
    Reply::no_content()
}
