//! Builds the read shapes of subscriptions, items and applied discounts from stored rows.

use super::model::{
    exact_number, AppliedCoupon, AppliedDiscount, BillingView, CancellationView, ContractDetails,
    CustomerSummary, IdRef, Item, ItemRow, PauseView, ProductRef, SubRow, Subscription,
};
use crate::domain::custom_fields::{self, Entity};
use crate::domain::money::{Currency, Money};
use crate::error::{ApiError, ApiResult};
use crate::resources::{customer_addresses, price_plans};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// The subscription as the API shows it.
pub fn subscription(conn: &Connection, tenant: &str, sub: SubRow) -> ApiResult<Subscription> {
    let rows = super::store::items(conn, tenant, &sub.id)?;
    let items = rows
        .into_iter()
        .map(|i| item(conn, tenant, i))
        .collect::<ApiResult<Vec<_>>>()?;
    let customer = customer(conn, tenant, &sub.customer_id)?;
    let invoice_address = match &sub.invoice_address_id {
        Some(id) => Some(customer_addresses::store::get(conn, tenant, id)?),
        None => None,
    };
    let stored: Map<String, Value> = serde_json::from_str(&sub.custom_fields)
        .map_err(|_| ApiError::Internal(format!("subscription {}: custom fields", sub.id)))?;
    let custom_fields = custom_fields::visible(conn, tenant, Entity::Subscription, &stored)?;
    Ok(Subscription {
        external_id: sub.external_id,
        number: sub.number,
        // 08 §1.3: defaults to the first item's product name (kontor has no plans).
        name: sub
            .name
            .or_else(|| items.first().map(|i| i.product.name.clone())),
        status: sub.status,
        customer,
        plan: None,
        periods: vec![sub.terms.rendered()],
        items,
        payment_method: sub.payment_method_id.map(|id| IdRef { id }),
        invoice_address,
        billing_group: sub.billing_group_id.map(|id| IdRef { id }),
        contract_details: ContractDetails {
            contract_start: sub.contract_start,
            contract_end: sub.contract_end,
            billing_start: sub.billing_start,
        },
        currency_code: sub.currency_code,
        trial_ends_on: sub.trial_ends_on,
        activated_at: sub.activated_at,
        terminated_at: sub.terminated_at,
        cancellation: CancellationView {
            cancelled_at: sub.cancelled_at,
            cancellation_date_type: sub.cancellation_date_type,
            reason: sub.cancellation_reason,
        },
        pause: PauseView {
            paused_at: sub.paused_at,
            resumed_at: sub.resumed_at,
            resume_mode: sub.resume_mode,
            next_billing_date: sub.resume_next_billing_date,
        },
        po_number: sub.po_number,
        custom_fields,
        next_billing_date: sub.next_billing_date,
        last_billing_at: sub.last_billing_at,
        partner: None,
        id: sub.id,
        created_at: sub.created_at,
        updated_at: sub.updated_at,
    })
}

/// One subscription read fresh from the database.
pub fn load(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Subscription> {
    subscription(conn, tenant, super::store::get(conn, tenant, id)?)
}

fn customer(conn: &Connection, tenant: &str, id: &str) -> ApiResult<CustomerSummary> {
    conn.prepare_cached(
        "SELECT id, customer_number, COALESCE(NULLIF(company_name, ''),
                trim(first_name || ' ' || last_name)), email
         FROM customers WHERE tenant_id = :tenant AND id = :id",
    )?
    .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
        Ok(CustomerSummary {
            id: r.get(0)?,
            customer_number: r.get(1)?,
            name: r.get(2)?,
            email: r.get(3)?,
        })
    })
    .optional()?
    .ok_or_else(|| ApiError::Internal(format!("customer {id} of a subscription missing")))
}

/// The item as the API shows it.
pub fn item(conn: &Connection, tenant: &str, i: ItemRow) -> ApiResult<Item> {
    let price_plan = price_plans::store::get(conn, tenant, &i.price_plan_id)?.view()?;
    let own = i.own_terms()?;
    let periods = match &own {
        Some(t) => vec![t.rendered()],
        None => {
            let sub = super::store::get(conn, tenant, &i.subscription_id)?;
            vec![sub.terms.rendered()]
        }
    };
    Ok(Item {
        subscription: i.subscription_id.clone(),
        parent: i.parent_id.map(|id| IdRef { id }),
        kind: i.kind,
        status: i.status,
        name: i.name.unwrap_or_else(|| i.product_name.clone()),
        description: i.description,
        further_information: i.further_information,
        plan: None,
        price_plan,
        product: ProductRef {
            id: i.product_id,
            name: i.product_name,
        },
        quantity: exact_number(&i.quantity)?,
        measurement_values: vec![],
        current_measurement_value: None,
        billing: BillingView {
            last_billed_at: i.last_billed_at,
            last_billed_from: i.last_billed_from,
            last_billed_to: i.last_billed_to,
            next_billing_at: i.next_billing_date,
            billing_interval: i.billing_interval,
        },
        periods,
        inherited_period: own.is_none(),
        applied_discounts: discounts_of(conn, tenant, &i.id)?,
        activated_at: i.activated_at,
        start_date: i.start_date,
        billing_start: i.billing_start,
        end_date: i.end_date,
        trial_ends_on: i.trial_ends_on,
        cancelled_at: i.cancelled_at,
        terminated_at: i.terminated_at,
        id: i.id,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

const DISCOUNT_SELECT: &str = "SELECT d.id, d.subscription_item_id, d.remaining_periods,
    d.created_at, c.id, c.code, c.name, c.type, c.percentage, c.fixed_amount, c.currency_code,
    c.frequency
    FROM subscription_discounts d JOIN coupons c ON c.id = d.coupon_id";

struct RawDiscount {
    discount: AppliedDiscount,
    percentage: Option<String>,
    fixed_amount: Option<String>,
}

fn raw_discount(r: &Row) -> rusqlite::Result<RawDiscount> {
    Ok(RawDiscount {
        discount: AppliedDiscount {
            id: r.get(0)?,
            subscription_item: r.get(1)?,
            remaining_periods: r.get(2)?,
            created_at: r.get(3)?,
            coupon: AppliedCoupon {
                id: r.get(4)?,
                code: r.get(5)?,
                name: r.get(6)?,
                kind: r.get(7)?,
                percentage: None,
                fixed_amount: None,
                currency_code: r.get(10)?,
                frequency: r.get(11)?,
            },
        },
        percentage: r.get(8)?,
        fixed_amount: r.get(9)?,
    })
}

fn decode(raw: RawDiscount) -> ApiResult<AppliedDiscount> {
    let mut d = raw.discount;
    let corrupt = || ApiError::Internal(format!("coupon {}: stored amount", d.coupon.id));
    if let Some(p) = raw.percentage {
        d.coupon.percentage = Some(exact_number(&p)?);
    }
    if let Some(a) = raw.fixed_amount {
        let value: Decimal = a.parse().map_err(|_| corrupt())?;
        let currency = d
            .coupon
            .currency_code
            .as_deref()
            .and_then(Currency::parse)
            .ok_or_else(corrupt)?;
        d.coupon.fixed_amount = Some(Money::unit_price(value, currency).ok_or_else(corrupt)?);
    }
    Ok(d)
}

fn discounts_of(conn: &Connection, tenant: &str, item_id: &str) -> ApiResult<Vec<AppliedDiscount>> {
    conn.prepare_cached(&format!(
        "{DISCOUNT_SELECT} WHERE d.tenant_id = :tenant AND d.subscription_item_id = :item
         ORDER BY d.created_at, d.id"
    ))?
    .query_map(
        named_params! {":tenant": tenant, ":item": item_id},
        raw_discount,
    )?
    .collect::<Result<Vec<_>, _>>()?
    .into_iter()
    .map(decode)
    .collect()
}

/// One applied discount of the tenant; 404 otherwise.
pub fn discount(conn: &Connection, tenant: &str, id: &str) -> ApiResult<AppliedDiscount> {
    let raw = conn
        .prepare_cached(&format!(
            "{DISCOUNT_SELECT} WHERE d.tenant_id = :tenant AND d.id = :id"
        ))?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw_discount)
        .optional()?
        .ok_or_else(|| ApiError::not_found("Applied discount"))?;
    decode(raw)
}
