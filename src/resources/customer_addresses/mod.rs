//! Customer addresses (reference 05 §2): add, read, update, archive, set and unset the default.
//!
//! Rules (kontor where the reference is silent):
//! - A new address becomes the default of its type; the old default stays as a plain address.
//! - Exactly one `TYPE_DEFAULT` address is the default at all times: it cannot be archived or
//!   unset (409), only replaced by making another address the default.
//! - Only the default `TYPE_INVOICE` address can be unset; billing then uses the default address.
//! - Archiving the default `TYPE_INVOICE` address also unsets it; an archived address cannot
//!   become a default (409). Archiving an archived address is a no-op.
//! - The `type` of a default address cannot change (409): that would leave its type without a
//!   default or give the other type two.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::{get, post, put, Access, Ctx, Method, Reply, Route};
use crate::resources::customers::{self, store as customers_store};
use model::{Address, AddressWrite};

const READ: Access = Access::Scope("customer:read");
const WRITE: Access = Access::Scope("customer:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/customers/{customerId}/addresses",
            WRITE,
            "Add an address; it becomes the default for its type",
            create,
        ),
        post(
            "/customer-addresses/{id}/default",
            WRITE,
            "Make an address the default for its type",
            make_default,
        ),
        Route::new(
            Method::Delete,
            "/customer-addresses/{id}/default",
            WRITE,
            200,
            "Unset the default invoice address",
            unset_default,
        ),
        get(
            "/customer-addresses/{id}",
            READ,
            "Get one customer address",
            show,
        ),
        put(
            "/customer-addresses/{id}",
            WRITE,
            "Update a customer address",
            update,
        ),
        put(
            "/customer-addresses/{id}/archive",
            WRITE,
            "Archive a customer address",
            archive,
        ),
    ]
}

/// Writes `customer.updated` for the address's customer: the customer read model changed.
fn customer_changed(ctx: &Ctx, customer_id: &str) -> ApiResult<()> {
    let customer = customers_store::get(ctx.tx, ctx.tenant(), customer_id)?;
    customers::emit(ctx, "customer.updated", &customer)
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let mut input = ctx.input()?;
    let customer = customers_store::get(ctx.tx, ctx.tenant(), ctx.param("customerId"))?;
    let request = AddressWrite::read(&mut input, true);
    input.finish()?;
    // countryCode and vatId default to the customer's (reference 05 §2.2).
    let mut address = Address::blank("TYPE_DEFAULT", &customer.country_code, &customer.vat_id);
    address.customer_id = customer.id.clone();
    address.default = true;
    request.apply(&mut address, &customer.country_code);
    store::insert(ctx.tx, ctx.tenant(), &mut address)?;
    customer_changed(ctx, &customer.id)?;
    Reply::created(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn make_default(ctx: &Ctx) -> ApiResult<Reply> {
    let address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if address.is_archived() {
        return Err(ApiError::Conflict(
            "An archived address cannot become a default address.".into(),
        ));
    }
    if !address.default {
        store::make_default(ctx.tx, ctx.tenant(), &address)?;
        customer_changed(ctx, &address.customer_id)?;
    }
    Reply::created(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn unset_default(ctx: &Ctx) -> ApiResult<Reply> {
    let address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if !(address.default && address.kind == "TYPE_INVOICE") {
        return Err(ApiError::Conflict(
            "Only the default invoice address can be unset; the default address can only be \
             replaced by making another address the default."
                .into(),
        ));
    }
    store::set_flags(
        ctx.tx,
        ctx.tenant(),
        &address.id,
        false,
        &address.status,
        &crate::domain::time::now(),
    )?;
    customer_changed(ctx, &address.customer_id)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let mut input = ctx.input()?;
    let mut address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let request = AddressWrite::read(&mut input, false);
    input.finish()?;
    if address.default && request.kind.as_deref().is_some_and(|k| k != address.kind) {
        return Err(ApiError::Conflict(
            "The type of a default address cannot change; make another address the default first."
                .into(),
        ));
    }
    let country = if request.country_code.as_deref() == Some("") {
        customers_store::get(ctx.tx, ctx.tenant(), &address.customer_id)?.country_code
    } else {
        String::new()
    };
    request.apply(&mut address, &country);
    store::update(ctx.tx, ctx.tenant(), &address)?;
    customer_changed(ctx, &address.customer_id)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn archive(ctx: &Ctx) -> ApiResult<Reply> {
    let address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if address.default && address.kind == "TYPE_DEFAULT" {
        return Err(ApiError::Conflict(
            "The default address cannot be archived; make another address the default first."
                .into(),
        ));
    }
    if address.is_archived() {
        return Reply::ok(&address);
    }
    store::set_flags(
        ctx.tx,
        ctx.tenant(),
        &address.id,
        false,
        "archived",
        &crate::domain::time::now(),
    )?;
    customer_changed(ctx, &address.customer_id)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}
