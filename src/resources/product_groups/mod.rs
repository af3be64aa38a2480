//! Product groups (reference 08 §5): tiers for up- and downgrades, their assignment to a
//! subscription item, the item's change options, and applying a tier (`change.rs`). Reading a
//! group needs `product:read` (the reference names only `product-group:write`; a group is
//! catalogue data like the products it lists).

mod change;
mod coupons;
mod documents;
pub mod model;
pub mod store;

use crate::domain::settings;
use crate::error::{ApiError, ApiResult};
use crate::http::input::Field;
use crate::http::{get, patch, post, put, Access, Ctx, Reply, Route};
use crate::resources::price_plans;
use crate::resources::subscriptions::model::fmt_day;
use crate::resources::subscriptions::{store as subs, view};
use model::{GroupInput, Membership};
use serde_json::json;

const WRITE: Access = Access::Scope("product-group:write");
const READ: Access = Access::Scope("product:read");
const SUB_READ: Access = Access::Scope("subscription:read");
const SUB_WRITE: Access = Access::Scope("subscription:write");

pub fn routes() -> Vec<Route> {
    vec![
        post("/product-groups", WRITE, "Create a product group", create),
        get("/product-groups/{id}", READ, "One product group", read),
        patch(
            "/product-groups/{id}",
            WRITE,
            "Update a product group",
            update,
        ),
        put(
            "/subscription-items/{id}/product-group",
            SUB_WRITE,
            "Assign a product group to an item",
            assign,
        ),
        get(
            "/subscription-items/{id}/change-options",
            SUB_READ,
            "Available up- and downgrades of an item",
            options,
        ),
        post(
            "/product-group-memberships/{id}/apply",
            SUB_WRITE,
            "Apply a tier change to an item",
            apply,
        )
        .with_status(200),
    ]
}

trait WithStatus {
    fn with_status(self, status: u16) -> Self;
}
impl WithStatus for Route {
    fn with_status(mut self, status: u16) -> Route {
        self.status = status;
        self
    }
}

/// 422 unless every product and price plan of the tiers is the tenant's, and each plan belongs
/// to its tier's product.
fn check_refs(ctx: &Ctx, g: &GroupInput) -> ApiResult<()> {
    let mut violations = Vec::new();
    for (i, m) in g.memberships.iter().flatten().enumerate() {
        if !crate::resources::products::store::exists(ctx.tx, ctx.tenant(), &m.product)? {
            let path = format!("memberships[{i}].product");
            violations.push(crate::error::Violation::new(
                path,
                "Product not found.",
                "not_found",
            ));
        }
        for plan in &m.price_plans {
            let ok = match price_plans::store::get(ctx.tx, ctx.tenant(), plan) {
                Ok(p) => p.terms.product == m.product,
                Err(ApiError::NotFound(_)) => false,
                Err(e) => return Err(e),
            };
            if !ok {
                let path = format!("memberships[{i}].pricePlans");
                let msg = format!("Price plan {plan} is not a plan of this product.");
                violations.push(crate::error::Violation::new(path, msg, "not_found"));
            }
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(violations))
    }
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let g = GroupInput::read(ctx.input()?, false)?;
    check_refs(ctx, &g)?;
    let id = store::insert(ctx.tx, ctx.tenant(), &g)?;
    Reply::created(&store::get(ctx.tx, ctx.tenant(), &id)?)
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let id = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?.id;
    let g = GroupInput::read(ctx.input()?, true)?;
    check_refs(ctx, &g)?;
    store::update(ctx.tx, ctx.tenant(), &id, &g)?;
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), &id)?)
}

fn assign(ctx: &Ctx) -> ApiResult<Reply> {
    let item = subs::item(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let mut body = ctx.input()?;
    body.reject_unknown(&["productGroup"]);
    let group = body.required_string("productGroup");
    body.finish()?;
    let group = group.unwrap_or_default();
    let group_id = group.rsplit('/').next().unwrap_or(&group);
    let g = match store::get(ctx.tx, ctx.tenant(), group_id) {
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::invalid(
                "productGroup",
                "Product group not found.",
                "not_found",
            ))
        }
        other => other?,
    };
    if tier_of(&g.memberships, &item.price_plan_id).is_none() {
        return Err(ApiError::invalid(
            "productGroup",
            "The item's price plan is in none of the group's tiers.",
            "not_in_group",
        ));
    }
    store::assign(ctx.tx, ctx.tenant(), &item.id, &g.id)?;
    Reply::ok(&view::item(ctx.tx, ctx.tenant(), item)?)
}

fn tier_of<'m>(tiers: &'m [Membership], plan: &str) -> Option<&'m Membership> {
    tiers
        .iter()
        .find(|m| m.price_plans.iter().any(|p| p == plan))
}

fn options(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let item = subs::item(tx, tenant, ctx.param("id"))?;
    let today = fmt_day(settings::today(tx, tenant)?);
    let pending = store::was_changed(tx, tenant, &item.id)?
        || store::pending_into(tx, tenant, &item.id, &today)?;
    let Some(group) = store::group_of(tx, tenant, &item.id)? else {
        return Reply::ok(&json!({"current": null, "options": [], "hasPendingChange": pending}));
    };
    let g = store::get(tx, tenant, &group)?;
    let current = tier_of(&g.memberships, &item.price_plan_id);
    let position = current.map(|c| c.position);
    let options: Vec<_> = g
        .memberships
        .iter()
        .filter(|m| Some(m.position) != position)
        .map(|m| {
            json!({
                "membership": m,
                "isUpgrade": position.is_some_and(|p| m.position > p),
                "isDowngrade": position.is_some_and(|p| m.position < p),
                "changeTiming": m.change_timing,
                "creditType": m.credit_type,
                "pricePlans": m.price_plans,
            })
        })
        .collect();
    Reply::ok(&json!({
        "current": current.map(|c| json!({"membership": c, "pricePlan": item.price_plan_id})),
        "productGroup": g.id,
        "options": options,
        "hasPendingChange": pending,
    }))
}

fn apply(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let membership = store::membership(tx, tenant, ctx.param("id"))?;
    let mut body = ctx.input()?;
    body.reject_unknown(&[
        "subscriptionItem",
        "selectedPricePlan",
        "quantity",
        "sendInvoiceEmail",
    ]);
    let item_id = body.required_string("subscriptionItem");
    let selected = body.string("selectedPricePlan").value();
    let quantity = match body.decimal_number("quantity") {
        Field::Value(q) if q < rust_decimal::Decimal::ZERO => {
            body.violation("quantity", "This value should be positive.", "negative");
            None
        }
        Field::Value(q) => Some(q),
        _ => None,
    };
    let _ = body.bool("sendInvoiceEmail");
    body.finish()?;
    let item = match subs::item(tx, tenant, &item_id.unwrap_or_default()) {
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::invalid(
                "subscriptionItem",
                "Subscription item not found.",
                "not_found",
            ))
        }
        other => other?,
    };
    if store::group_of(tx, tenant, &item.id)?.as_deref() != Some(&membership.product_group) {
        return Err(ApiError::invalid(
            "subscriptionItem",
            "The item is not assigned to this membership's product group.",
            "not_in_group",
        ));
    }
    let sub = subs::get(tx, tenant, &item.subscription_id)?;
    if sub.status != "active"
        || item.status != "active"
        || store::was_changed(tx, tenant, &item.id)?
    {
        return Err(ApiError::Conflict(
            "Only an active item of an active subscription without a pending change can change tiers."
                .into(),
        ));
    }
    let plan_id = match (membership.price_plans.as_slice(), selected) {
        (_, Some(p)) if membership.price_plans.contains(&p) => p,
        ([only], None) => only.clone(),
        _ => {
            return Err(ApiError::invalid(
                "selectedPricePlan",
                "Choose one of the membership's price plans.",
                "invalid_choice",
            ))
        }
    };
    if plan_id == item.price_plan_id {
        return Err(ApiError::Conflict(
            "The item is on this price plan already.".into(),
        ));
    }
    if quantity.is_some() && !membership.quantity_change_allowed {
        return Err(ApiError::invalid(
            "quantity",
            "This tier does not allow quantity changes.",
            "not_allowed",
        ));
    }
    let plan = price_plans::store::get(tx, tenant, &plan_id)?;
    let group = store::get(tx, tenant, &membership.product_group)?;
    if plan.terms.currency.code != sub.currency_code {
        return Err(ApiError::invalid(
            "selectedPricePlan",
            "The plan's currency differs from the subscription's.",
            "currency",
        ));
    }
    let same = plan.terms.billing_interval.map(|i| i.to_string()) == item.billing_interval;
    if group.same_billing_interval_only && !same {
        return Err(ApiError::invalid(
            "selectedPricePlan",
            "The group allows only plans with the item's billing interval.",
            "interval",
        ));
    }
    let quantity = quantity.map_or(item.quantity.clone(), |q| q.normalize().to_string());
    let out = change::apply(
        ctx,
        change::Apply {
            membership: &membership,
            sub,
            item,
            plan_id,
            terms: plan.terms,
            quantity,
        },
    )?;
    Reply::ok(&out)
}
