//! Customer e-mail addresses (reference 05 §3): add, update, make default, delete.
//!
//! The default address is the customer's login e-mail (`customers.email`, unique per tenant);
//! store.rs documents how the two stay equal. Rules (kontor where the reference is silent):
//! - A customer cannot hold the same e-mail twice (422 on `email`, case-insensitive).
//! - An address can only become the default (by `isDefault` or the default action) when no
//!   other customer of the tenant logs in with it: 422 on `email` in a body, 409 on the action.
//! - The default address cannot be deleted (409): make another one the default first.

pub mod model;
pub mod store;

use crate::error::{ApiError, ApiResult};
use crate::http::input::Input;
use crate::http::{delete, post, put, Access, Ctx, Reply, Route};
use crate::resources::customers::{self, store as customers_store};
use model::{EmailAddress, EmailWrite};

const WRITE: Access = Access::Scope("customer:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/customers/{customerId}/email-addresses",
            WRITE,
            "Add an e-mail address to a customer",
            create,
        ),
        put(
            "/customer-email-addresses/{id}",
            WRITE,
            "Update a customer e-mail address",
            update,
        ),
        post(
            "/customer-email-addresses/{id}/default",
            WRITE,
            "Make an e-mail address the customer's default (login) address",
            make_default,
        ),
        delete(
            "/customer-email-addresses/{id}",
            WRITE,
            "Delete a non-default customer e-mail address",
            remove,
        ),
    ]
}

fn customer_changed(ctx: &Ctx, customer_id: &str) -> ApiResult<()> {
    let customer = customers_store::get(ctx.tx, ctx.tenant(), customer_id)?;
    customers::emit(ctx, "customer.updated", &customer)
}

const TAKEN_HERE: &str = "This customer already has this e-mail address.";
const TAKEN_ELSEWHERE: &str = "This e-mail address is already the login of another customer.";

/// Adds the uniqueness violations of `email` for an address of `customer` (`except` = itself).
fn check_unique(
    ctx: &Ctx,
    input: &mut Input,
    customer: &str,
    except: Option<&str>,
    email: &str,
    becomes_default: bool,
) -> ApiResult<()> {
    if email.is_empty() {
        return Ok(());
    }
    if store::customer_has(ctx.tx, customer, email, except)? {
        input.violation("email", TAKEN_HERE, "not_unique");
    } else if becomes_default
        && customers_store::email_taken(ctx.tx, ctx.tenant(), email, Some(customer))?
    {
        input.violation("email", TAKEN_ELSEWHERE, "not_unique");
    }
    Ok(())
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let mut input = ctx.input()?;
    let customer = customers_store::row(ctx.tx, ctx.tenant(), ctx.param("customerId"))?;
    let request = EmailWrite::read(&mut input, true);
    let email = request.email.clone().unwrap_or_default();
    let becomes_default = request.is_default == Some(true);
    check_unique(ctx, &mut input, &customer.id, None, &email, becomes_default)?;
    input.finish()?;
    let mut address = EmailAddress::new(&email);
    address.customer_id = customer.id.clone();
    request.apply(&mut address);
    store::insert(ctx.tx, ctx.tenant(), &mut address)?;
    if becomes_default {
        store::make_default(ctx.tx, ctx.tenant(), &address)?;
    }
    customer_changed(ctx, &customer.id)?;
    Reply::created(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let mut input = ctx.input()?;
    let mut address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let request = EmailWrite::read(&mut input, false);
    if let Some(email) = request.email.as_deref() {
        let customer = address.customer_id.clone();
        let id = address.id.clone();
        check_unique(
            ctx,
            &mut input,
            &customer,
            Some(&id),
            email,
            address.default,
        )?;
    }
    input.finish()?;
    request.apply(&mut address);
    // For the default address this also rewrites the customer's login e-mail.
    store::update(ctx.tx, ctx.tenant(), &address)?;
    customer_changed(ctx, &address.customer_id)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn make_default(ctx: &Ctx) -> ApiResult<Reply> {
    let address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if !address.default {
        if customers_store::email_taken(
            ctx.tx,
            ctx.tenant(),
            &address.email,
            Some(&address.customer_id),
        )? {
            return Err(ApiError::Conflict(TAKEN_ELSEWHERE.into()));
        }
        store::make_default(ctx.tx, ctx.tenant(), &address)?;
        customer_changed(ctx, &address.customer_id)?;
    }
    Reply::created(&store::get(ctx.tx, ctx.tenant(), &address.id)?)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let address = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    if address.default {
        return Err(ApiError::Conflict(
            "The default e-mail address cannot be deleted; make another one the default first."
                .into(),
        ));
    }
    store::delete(ctx.tx, ctx.tenant(), &address.id)?;
    customer_changed(ctx, &address.customer_id)?;
    Reply::no_content()
}
