//! Unauthenticated system routes: health, the OpenAPI document, and the webhook event names.

mod openapi;

use crate::error::ApiResult;
use crate::http::{get, Access, Ctx, Reply, Route};
use serde_json::json;

pub fn routes() -> Vec<Route> {
    vec![
        get("/health", Access::Public, "Liveness check", health),
        get(
            "/openapi.json",
            Access::Public,
            "This API as an OpenAPI 3.1 document",
            openapi_doc,
        ),
        get(
            "/available-webhook-events",
            Access::User,
            "The webhook event names a subscription can choose from",
            webhook_events,
        ),
    ]
}

fn health(_: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&json!({"status": "ok"}))
}

fn openapi_doc(_: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&openapi::document(&crate::routes::all()))
}

fn webhook_events(_: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&json!({ "data": WEBHOOK_EVENTS }))
}

/// Reference README §14.4, in its order.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "product.created",
    "product.updated",
    "product.deleted",
    "product.archived",
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
    "coupon.toggled",
    "customer.created",
    "customer.updated",
    "customer.archived",
    "customer.unarchived",
    "customer.deleted",
    "customer.merged",
    "customer.parent.assigned",
    "customer.parent.removed",
    "payment_method.created",
    "payment_method.updated",
    "invoice.created",
    "invoice.finalized",
    "invoice.credited",
    "invoice.updated",
    "invoice.refunded",
    "invoice.canceled",
    "invoice.paid",
    "invoice.closed",
    "invoice.unpaid",
    "invoice.remindered",
    "invoice.requires_approval",
    "invoice.payment_method.updated",
    "invoice.pdf.generation_requested",
    "price_plan.archived",
    "subscription.activated",
    "subscription.billed",
    "subscription.created",
    "subscription.changed",
    "subscription.invoice_address.updated",
    "subscription.delivery_address.updated",
    "subscription.payment_method.updated",
    "subscription.item.instant_metered",
    "subscription.item.metered",
    "subscription.item.quantity_changed",
    "subscription.products.ordered",
    "subscription.trial_expired",
    "subscription.trial_extended",
    "subscription.updated",
    "subscription.paused",
    "subscription.resumed",
    "subscription.canceled",
    "subscription.cancellation_revoked",
    "subscription.terminated",
    "subscription_item.terminated",
    "dunning_document.created",
    "dunning_document.paid",
    "dunning_document.canceled",
    "cart.completed",
    "cart.paid",
    "feature.created",
    "feature.activated",
    "feature.archived",
    "entitlement.state.updated",
];
