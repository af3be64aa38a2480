//! Request bodies of the subscription slice: create (08 §1.5), the `items[]` / `products[]`
//! entries shared with order-products (§1.13), and the `periods` object (§1.12). Every
//! violation is collected before answering 422.

use super::model::parse_date_or_datetime;
use super::terms::{Terms, KEYS};
use crate::domain::custom_fields::{self, Entity};
use crate::domain::period::Interval;
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use crate::resources::price_plans::{self, model::PricePlan};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rusqlite::{named_params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// One new item: a resolved, active price plan and its product.
pub struct NewItem {
    pub plan: PricePlan,
    pub product_id: String,
    pub quantity: Decimal,
    pub start_date: Option<NaiveDate>,
    pub billing_start: Option<NaiveDate>,
}

pub struct Create {
    pub customer_id: String,
    pub customer_number: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub items: Vec<NewItem>,
    pub billing_group: Option<String>,
    pub contract_start: Option<NaiveDate>,
    pub billing_start: Option<NaiveDate>,
    pub contract_end: Option<NaiveDate>,
    pub trial_days: Option<i64>,
    pub payment_method: Option<String>,
    pub invoice_address: Option<String>,
    pub po_number: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub coupon_code: Option<String>,
    pub terms: Terms,
}

const CREATE_FIELDS: &[&str] = &[
    "customer",
    "name",
    "externalId",
    "items",
    "billingGroup",
    "contractStart",
    "billingStart",
    "contractEnd",
    "trialDays",
    "paymentMethod",
    "invoiceAddress",
    "poNumber",
    "customFields",
    "couponCode",
    "periods",
];

/// An optional date field (`YYYY-MM-DD`, or a date-time taken as its tenant-local date).
pub fn date(input: &mut Input, key: &str, tz: Tz) -> Field<NaiveDate> {
    match input.string(key) {
        Field::Value(s) => match parse_date_or_datetime(&s, tz) {
            Some(d) => Field::Value(d),
            None => {
                input.violation(
                    key,
                    "This value is not a valid date (YYYY-MM-DD).",
                    "invalid_date",
                );
                Field::Absent
            }
        },
        Field::Null => Field::Null,
        Field::Absent => Field::Absent,
    }
}

/// An optional string of at most `max` characters; empty reads as not set.
pub fn text(input: &mut Input, key: &str, max: usize) -> Field<String> {
    match input.string(key) {
        Field::Value(s) if s.is_empty() => Field::Null,
        Field::Value(s) => {
            if input.check_len(key, &s, 1, max) {
                Field::Value(s)
            } else {
                Field::Absent
            }
        }
        other => other,
    }
}

/// The `periods` object: each key a `<n><D|W|M|Y>` duration or null.
pub fn terms(input: &mut Input, key: &str) -> Field<Terms> {
    let map = match input.object(key) {
        Field::Value(m) => m,
        Field::Null => return Field::Null,
        Field::Absent => return Field::Absent,
    };
    let mut nested = Input::nested(map, &input.path(key));
    nested.reject_unknown(&KEYS);
    let mut values: [Option<String>; 4] = Default::default();
    for (slot, k) in values.iter_mut().zip(KEYS) {
        if let Field::Value(s) = nested.string(k) {
            if Interval::parse(&s).is_some() {
                *slot = Some(s);
            } else {
                nested.violation(
                    k,
                    "This value is not a valid duration like 1M, 3M, 1Y or 14D.",
                    "invalid_duration",
                );
            }
        }
    }
    input.absorb(nested);
    let [contract_period, cancellation_period, later_contract_period, later_cancellation_period] =
        values;
    Field::Value(Terms {
        contract_period,
        cancellation_period,
        later_contract_period,
        later_cancellation_period,
    })
}

/// The entries of `items[]` (create) or `products[]` (order products), resolved against the
/// tenant's price plans. `currency` collects the plans' common currency.
pub fn items(
    conn: &Connection,
    tenant: &str,
    input: &mut Input,
    key: &str,
    tz: Tz,
) -> ApiResult<Vec<NewItem>> {
    let entries = match input.array(key) {
        Field::Value(v) if !v.is_empty() => v,
        Field::Value(_) => {
            input.violation(
                key,
                "This collection should contain 1 element or more.",
                "too_few",
            );
            return Ok(vec![]);
        }
        Field::Null | Field::Absent => {
            if !input.has(key) || input.raw(key).is_some_and(Value::is_null) {
                input.violation(key, "This value should not be blank.", "not_blank");
            }
            return Ok(vec![]);
        }
    };
    let mut out = Vec::new();
    for (n, entry) in entries.into_iter().enumerate() {
        let path = format!("{key}[{n}]");
        let Value::Object(map) = entry else {
            input.violation(
                &format!("{key}[{n}]"),
                "This value should be of type object.",
                "invalid_type",
            );
            continue;
        };
        let mut e = Input::nested(map, &input.path(&path));
        e.reject_unknown(&[
            "pricePlan",
            "product",
            "quantity",
            "startDate",
            "billingStart",
        ]);
        let plan = match e.required_string("pricePlan") {
            Some(id) => match price_plans::store::get(conn, tenant, &id) {
                Ok(plan) if plan.status == "active" => Some(plan),
                Ok(_) => {
                    e.violation("pricePlan", "This price plan is archived.", "archived");
                    None
                }
                Err(crate::error::ApiError::NotFound(_)) => {
                    e.violation("pricePlan", "This price plan does not exist.", "not_found");
                    None
                }
                Err(other) => return Err(other),
            },
            None => None,
        };
        if let Some(p) = &plan {
            if product_archived(conn, tenant, &p.terms.product)? {
                e.violation(
                    "pricePlan",
                    "The product of this price plan is archived.",
                    "archived",
                );
            }
        }
        let product = e.string("product").value();
        if let (Some(product), Some(p)) = (&product, &plan) {
            if *product != p.terms.product {
                e.violation(
                    "product",
                    "This product does not match the price plan's product.",
                    "mismatch",
                );
            }
        }
        let quantity = match e.decimal_number("quantity") {
            Field::Value(q) if q < Decimal::ZERO => {
                e.violation(
                    "quantity",
                    "This value should be greater than or equal to 0.",
                    "too_small",
                );
                None
            }
            Field::Value(q) => Some(q.normalize()),
            _ => Some(Decimal::ONE),
        };
        let start_date = date(&mut e, "startDate", tz).value();
        let billing_start = date(&mut e, "billingStart", tz).value();
        let valid = e.is_valid();
        input.absorb(e);
        if let (true, Some(plan), Some(quantity)) = (valid, plan, quantity) {
            let product_id = plan.terms.product.clone();
            out.push(NewItem {
                plan,
                product_id,
                quantity,
                start_date,
                billing_start,
            });
        }
    }
    Ok(out)
}

fn product_archived(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT is_archived FROM products WHERE tenant_id = :tenant AND id = :id")?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))
        .optional()?
        .unwrap_or(true))
}

/// The currency every item shares, or a violation on `key` when they differ.
pub fn common_currency(input: &mut Input, key: &str, items: &[NewItem]) -> Option<String> {
    let first = items.first()?.plan.terms.currency.code.to_string();
    if items.iter().any(|i| i.plan.terms.currency.code != first) {
        input.violation(
            key,
            "All items must use price plans of one currency.",
            "currency_mismatch",
        );
        return None;
    }
    Some(first)
}

/// Whether `address` is an address of `customer` in the tenant.
pub fn address_of(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    address: &str,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM customer_addresses a JOIN customers c ON c.id = a.customer_id
             WHERE c.tenant_id = :tenant AND c.id = :customer AND a.id = :address",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":customer": customer, ":address": address},
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

impl Create {
    pub fn parse(conn: &Connection, tenant: &str, mut input: Input, tz: Tz) -> ApiResult<Create> {
        input.reject_unknown(CREATE_FIELDS);
        let customer = input.required_string("customer");
        let customer_row = match &customer {
            Some(id) => conn
                .prepare_cached(
                    "SELECT customer_number FROM customers WHERE tenant_id = :tenant AND id = :id",
                )?
                .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
                    r.get::<_, String>(0)
                })
                .optional()?,
            None => None,
        };
        if customer.is_some() && customer_row.is_none() {
            input.violation("customer", "This customer does not exist.", "not_found");
        }
        let name = text(&mut input, "name", 255).value();
        let external_id = text(&mut input, "externalId", 255).value();
        let items = items(conn, tenant, &mut input, "items", tz)?;
        common_currency(&mut input, "items", &items);
        let billing_group = text(&mut input, "billingGroup", 255).value();
        if let (Some(group), Some(customer)) = (&billing_group, &customer) {
            let owner: Option<String> = conn
                .prepare_cached(
                    "SELECT customer_id FROM billing_groups WHERE tenant_id = :tenant AND id = :id",
                )?
                .query_row(named_params! {":tenant": tenant, ":id": group}, |r| {
                    r.get(0)
                })
                .optional()?;
            if owner.as_deref() != Some(customer.as_str()) {
                input.violation(
                    "billingGroup",
                    "This billing group does not exist for the customer.",
                    "not_found",
                );
            }
        }
        let contract_start = date(&mut input, "contractStart", tz).value();
        let billing_start = date(&mut input, "billingStart", tz).value();
        let contract_end = date(&mut input, "contractEnd", tz).value();
        if let (Some(s), Some(e)) = (contract_start, contract_end) {
            if e < s {
                input.violation(
                    "contractEnd",
                    "The contract end must not lie before the contract start.",
                    "before_start",
                );
            }
        }
        let trial_days = match input.int("trialDays") {
            Field::Value(d) if !(0..=3650).contains(&d) => {
                input.violation(
                    "trialDays",
                    "This value should be between 0 and 3650.",
                    "out_of_range",
                );
                None
            }
            f => f.value(),
        };
        let payment_method = text(&mut input, "paymentMethod", 255).value();
        let invoice_address = text(&mut input, "invoiceAddress", 255).value();
        if let (Some(a), Some(c)) = (&invoice_address, &customer) {
            if customer_row.is_some() && !address_of(conn, tenant, c, a)? {
                input.violation(
                    "invoiceAddress",
                    "This address does not belong to the customer.",
                    "not_found",
                );
            }
        }
        let po_number = text(&mut input, "poNumber", 255).value();
        let custom = input.object("customFields").value().unwrap_or_default();
        let custom_violations =
            custom_fields::validate(conn, tenant, Entity::Subscription, &custom)?;
        for v in custom_violations {
            let key = v.property_path.clone();
            input.violation(&key, &v.message, &v.code);
        }
        let coupon_code = text(&mut input, "couponCode", 255).value();
        let terms = terms(&mut input, "periods").value().unwrap_or_default();
        input.finish()?;
        Ok(Create {
            customer_id: customer.unwrap_or_default(),
            customer_number: customer_row.unwrap_or_default(),
            name,
            external_id,
            items,
            billing_group,
            contract_start,
            billing_start,
            contract_end,
            trial_days,
            payment_method,
            invoice_address,
            po_number,
            custom_fields: custom,
            coupon_code,
            terms,
        })
    }
}
