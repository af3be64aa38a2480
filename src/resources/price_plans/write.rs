//! The create / replace body of a price plan (reference 10 §5.2–5.3), validated field by field
//! so that a 422 names every invalid field at once, tier rules included.

use super::amounts::model;
use super::model::Terms;
use crate::domain::money::Currency;
use crate::domain::period::Interval;
use crate::domain::pricing::TYPES;
use crate::error::{ApiError, ApiResult};
use crate::http::input::{Field, Input};
use serde_json::Value;

/// Writable fields (reference 10 §5.2).
const WRITABLE: &[&str] = &[
    "product",
    "internalName",
    "type",
    "currencyCode",
    "billingInterval",
    "price",
    "tiers",
    "payInAdvance",
    "proRata",
    "freeUnits",
    "applyTrial",
    "trialDays",
    "showPricePerInterval",
    "salesChannel",
    "customer",
    "charge",
    "productSetOption",
];

/// Read-only fields a client may echo back from a GET (read-modify-write); they are ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "custom",
    "inUse",
    "checkoutLinkIds",
    "createdAt",
    "updatedAt",
];

const MAX_FREE_UNITS: i64 = 1_000_000_000_000;
/// Ten years: longer trials are typos, not offers.
const MAX_TRIAL_DAYS: i64 = 3650;

/// A product as a price plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRef {
    /// `product`, `charge` or `plan`.
    pub kind: String,
    pub archived: bool,
}

/// The references a body names, resolved within the caller's tenant.
pub trait Lookup {
    fn product(&self, id: &str) -> ApiResult<Option<ProductRef>>;
    fn customer_exists(&self, id: &str) -> ApiResult<bool>;
}

/// A validated `POST /price-plans` or `PUT /price-plans/{id}` body.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub internal_name: Option<String>,
    pub terms: Terms,
}

impl PlanRequest {
    /// `current` is the stored plan on update: a product or charge it already references may
    /// have been archived since, and keeping it is allowed (existing plans keep billing).
    pub fn from_input(
        mut input: Input,
        lookup: &dyn Lookup,
        current: Option<&Terms>,
    ) -> ApiResult<PlanRequest> {
        let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
        input.reject_unknown(&allowed);

        let keep_product = current.map(|c| c.product.as_str());
        let product = match input.required_string("product") {
            Some(id) => {
                product_ref(&mut input, "product", &id, lookup, keep_product)?.map(|p| (id, p.kind))
            }
            None => None,
        };
        let internal_name = match input.string("internalName") {
            Field::Value(s) => input.check_len("internalName", &s, 0, 255).then_some(s),
            _ => None,
        };
        let kind = match input.required_string("type") {
            Some(t) if input.check_one_of("type", &t, TYPES) => Some(t),
            _ => None,
        };
        let currency = match input.required_string("currencyCode") {
            Some(code) => {
                let c = Currency::parse(&code);
                if c.is_none() {
                    input.violation(
                        "currencyCode",
                        "This value is not a valid ISO 4217 currency code.",
                        "invalid_currency",
                    );
                }
                c
            }
            None => None,
        };

        let billing_interval = interval(&mut input, "billingInterval");
        match (&product, billing_interval) {
            (Some((_, kind)), Some(Some(_))) if kind == "charge" => input.violation(
                "billingInterval",
                "One-time charge products have no billing interval; this value must be null.",
                "must_be_null",
            ),
            (Some((_, kind)), Some(None)) if kind != "charge" => input.violation(
                "billingInterval",
                "A billing interval such as \"1M\" is required for recurring products.",
                "not_blank",
            ),
            _ => {}
        }

        let model = match kind.as_deref() {
            Some(k) => model(&mut input, k, currency),
            None => None,
        };

        let pay_in_advance = flag(&mut input, "payInAdvance", true);
        let pro_rata = flag(&mut input, "proRata", true);
        let apply_trial = flag(&mut input, "applyTrial", true);
        let free_units = bounded(&mut input, "freeUnits", MAX_FREE_UNITS);
        let trial_days = bounded(&mut input, "trialDays", MAX_TRIAL_DAYS);
        let show_price_per_interval = interval(&mut input, "showPricePerInterval");
        let sales_channel = match input.object("salesChannel") {
            Field::Value(map) => Some(Value::Object(map)),
            _ => None,
        };
        let customer = match input.string("customer") {
            Field::Value(id) => {
                if !lookup.customer_exists(&id)? {
                    input.violation("customer", "This customer does not exist.", "not_found");
                }
                Some(id)
            }
            _ => None,
        };
        let charge = match input.string("charge") {
            Field::Value(id) => {
                let keep = current.and_then(|c| c.charge.as_deref());
                match product_ref(&mut input, "charge", &id, lookup, keep)? {
                    Some(p) if p.kind != "charge" => input.violation(
                        "charge",
                        "This product is not a one-time charge (type charge).",
                        "not_a_charge",
                    ),
                    _ => {}
                }
                Some(id)
            }
            _ => None,
        };
        let product_set_option = match input.string("productSetOption") {
            Field::Value(id) => {
                if uuid::Uuid::parse_str(&id).is_err() {
                    input.violation(
                        "productSetOption",
                        "This value is not a valid UUID.",
                        "invalid_uuid",
                    );
                }
                Some(id)
            }
            _ => None,
        };
        input.finish()?;

        // After `finish`, every required value is present; a gap is a bug, not a panic.
        let missing = || ApiError::Internal("price plan validation left a gap".into());
        let (product, _) = product.ok_or_else(missing)?;
        Ok(PlanRequest {
            internal_name,
            terms: Terms {
                product,
                customer,
                currency: currency.ok_or_else(missing)?,
                model: model.ok_or_else(missing)?,
                billing_interval: billing_interval.ok_or_else(missing)?,
                pay_in_advance,
                pro_rata,
                free_units: free_units as u64,
                apply_trial,
                trial_days: trial_days as u32,
                show_price_per_interval: show_price_per_interval.ok_or_else(missing)?,
                sales_channel,
                charge,
                product_set_option,
            },
        })
    }
}

/// Resolves a product id in the tenant: unknown, or archived (unless `keep` is this id): 422.
fn product_ref(
    input: &mut Input,
    key: &str,
    id: &str,
    lookup: &dyn Lookup,
    keep: Option<&str>,
) -> ApiResult<Option<ProductRef>> {
    match lookup.product(id)? {
        None => {
            input.violation(key, "This product does not exist.", "not_found");
            Ok(None)
        }
        Some(p) if p.archived && keep != Some(id) => {
            input.violation(
                key,
                "This product is archived and cannot be used in new price plans.",
                "archived",
            );
            Ok(None)
        }
        Some(p) => Ok(Some(p)),
    }
}

/// `Some(None)` when absent or null, `Some(Some(_))` when valid, `None` when invalid.
fn interval(input: &mut Input, key: &str) -> Option<Option<Interval>> {
    match input.string(key) {
        Field::Value(s) => {
            let parsed = Interval::parse(&s);
            if parsed.is_none() {
                input.violation(
                    key,
                    "This value should be an interval <n><D|W|M|Y> such as \"1M\", \"3M\", \"1Y\" or \"14D\" (1 ≤ n ≤ 9999).",
                    "invalid_interval",
                );
                return None;
            }
            Some(parsed)
        }
        Field::Null => Some(None),
        // Absent, or of the wrong type (already reported).
        Field::Absent if input.has(key) => None,
        Field::Absent => Some(None),
    }
}

/// A boolean with a default for absent or null.
fn flag(input: &mut Input, key: &str, default: bool) -> bool {
    input.bool(key).value().unwrap_or(default)
}

/// A non-negative integer up to `max`, 0 when absent or null.
fn bounded(input: &mut Input, key: &str, max: i64) -> i64 {
    match input.int(key) {
        Field::Value(n) if (0..=max).contains(&n) => n,
        Field::Value(_) => {
            input.violation(
                key,
                &format!("This value should be between 0 and {max}."),
                "out_of_range",
            );
            0
        }
        _ => 0,
    }
}
