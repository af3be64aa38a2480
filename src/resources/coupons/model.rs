//! Coupon shapes (reference 10 §6.2): the read shape, its conversion to the discount terms
//! billing applies, and the create/replace request with every conditional rule.

use crate::domain::discount::{CouponTerms, DiscountKind, Frequency, RedemptionRules};
use crate::domain::money::{self, Currency, Money};
use crate::domain::tax::serialize_opt_rate;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::input::{Field, Input};
use crate::resources::tax_groups::model::read_percent;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

pub const TYPES: &[&str] = &["percentage", "fixed_amount"];
pub const FREQUENCIES: &[&str] = &["once", "limited", "lifetime"];

/// A coupon as the API shows it. `fixedAmount` is a Money object like every amount in a
/// response (README §11); `percentage` is a plain number like tax rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub id: String,
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(serialize_with = "serialize_opt_rate")]
    pub percentage: Option<Decimal>,
    pub fixed_amount: Option<Money>,
    pub currency_code: Option<String>,
    pub frequency: String,
    pub frequency_interval: Option<i64>,
    pub expires_at: Option<String>,
    pub max_redemptions: Option<i64>,
    pub max_redemptions_per_customer: Option<i64>,
    pub products: Vec<String>,
    pub enabled: bool,
    /// Redemptions so far (kontor, read-only).
    pub times_redeemed: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Coupon {
    /// The discount terms billing applies to subscription items.
    pub fn terms(&self) -> ApiResult<CouponTerms> {
        let corrupt = || ApiError::Internal(format!("coupon {}: inconsistent row", self.id));
        let kind = match (self.kind.as_str(), self.percentage, &self.fixed_amount) {
            ("percentage", Some(p), _) => DiscountKind::Percentage(p),
            ("fixed_amount", _, Some(m)) => DiscountKind::FixedAmount {
                amount: m.value(),
                currency: m.currency_code.clone(),
            },
            _ => return Err(corrupt()),
        };
        let frequency = match (self.frequency.as_str(), self.frequency_interval) {
            ("once", _) => Frequency::Once,
            ("lifetime", _) => Frequency::Lifetime,
            ("limited", Some(n)) => Frequency::Limited(u32::try_from(n).map_err(|_| corrupt())?),
            _ => return Err(corrupt()),
        };
        Ok(CouponTerms {
            kind,
            frequency,
            products: self.products.clone(),
        })
    }

    /// The state and limits a redemption is checked against.
    pub fn rules(&self) -> RedemptionRules {
        RedemptionRules {
            enabled: self.enabled,
            expires_at: self.expires_at.as_deref().and_then(time::parse),
            max_redemptions: self.max_redemptions,
            max_redemptions_per_customer: self.max_redemptions_per_customer,
        }
    }
}

/// `POST /coupons` and `PUT /coupons/{id}`: the writable fields, checked together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponWrite {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub percentage: Option<Decimal>,
    /// Scaled to the currency's minor digits.
    pub fixed_amount: Option<Decimal>,
    pub currency_code: Option<String>,
    pub frequency: String,
    pub frequency_interval: Option<i64>,
    /// Normalized RFC 3339 UTC.
    pub expires_at: Option<String>,
    pub max_redemptions: Option<i64>,
    pub max_redemptions_per_customer: Option<i64>,
    pub products: Vec<String>,
    /// `None` on a replace that did not send it: `enabled` then keeps its value, since it has
    /// its own toggle and a PUT that forgets it must not revive a disabled coupon.
    pub enabled: Option<bool>,
}

/// What validation asks the store: whether a code is taken by another live coupon, and
/// whether a product exists in the tenant.
pub struct Lookups<'a> {
    pub code_taken: &'a dyn Fn(&str) -> ApiResult<bool>,
    pub product_exists: &'a dyn Fn(&str) -> ApiResult<bool>,
}

const FIELDS: &[&str] = &[
    "code",
    "name",
    "type",
    "percentage",
    "fixedAmount",
    "currencyCode",
    "frequency",
    "frequencyInterval",
    "expiresAt",
    "maxRedemptions",
    "maxRedemptionsPerCustomer",
    "products",
    "enabled",
    // Read-only keys a client may echo back from a GET; ignored.
    "id",
    "timesRedeemed",
    "createdAt",
    "updatedAt",
];

impl CouponWrite {
    pub fn from_input(mut input: Input, lookups: &Lookups) -> ApiResult<CouponWrite> {
        input.reject_unknown(FIELDS);
        let code = code(&mut input, lookups)?;
        let name = input
            .required_string("name")
            .filter(|n| input.check_len("name", n, 1, 255));
        let kind = choice(&mut input, "type", TYPES);
        let percentage = match kind.as_deref() {
            Some("percentage") => read_percent(&mut input, "percentage", true),
            _ => {
                must_be_null(&mut input, "percentage", kind.as_deref());
                None
            }
        };
        let (fixed_amount, currency_code) = match kind.as_deref() {
            Some("fixed_amount") => fixed_amount(&mut input),
            _ => {
                must_be_null(&mut input, "fixedAmount", kind.as_deref());
                must_be_null(&mut input, "currencyCode", kind.as_deref());
                (None, None)
            }
        };
        let frequency = choice(&mut input, "frequency", FREQUENCIES);
        let frequency_interval = match frequency.as_deref() {
            Some("limited") => positive(&mut input, "frequencyInterval", true),
            _ => {
                if !matches!(input.raw("frequencyInterval"), None | Some(Value::Null)) {
                    input.violation(
                        "frequencyInterval",
                        "This value is only allowed for frequency 'limited'.",
                        "not_allowed",
                    );
                }
                None
            }
        };
        let expires_at = match input.string("expiresAt") {
            Field::Value(s) => match time::parse(&s) {
                Some(t) => Some(time::format(t)),
                None => {
                    input.violation(
                        "expiresAt",
                        "This value should be an RFC 3339 date-time such as 2026-12-31T23:59:59+01:00.",
                        "invalid_datetime",
                    );
                    None
                }
            },
            _ => None,
        };
        let max_redemptions = positive(&mut input, "maxRedemptions", false);
        let max_per_customer = positive(&mut input, "maxRedemptionsPerCustomer", false);
        let products = products(&mut input, lookups)?;
        let enabled = input.bool("enabled").value();
        input.finish()?;
        let (Some(code), Some(name), Some(kind), Some(frequency)) = (code, name, kind, frequency)
        else {
            return Err(ApiError::Internal(
                "coupon validation passed without values".into(),
            ));
        };
        Ok(CouponWrite {
            code,
            name,
            kind,
            percentage,
            fixed_amount,
            currency_code,
            frequency,
            frequency_interval,
            expires_at,
            max_redemptions,
            max_redemptions_per_customer: max_per_customer,
            products,
            enabled,
        })
    }
}

/// `code`: 1–255 characters without whitespace (customers type it), unique in the tenant
/// regardless of case.
fn code(input: &mut Input, lookups: &Lookups) -> ApiResult<Option<String>> {
    let Some(code) = input.required_string("code") else {
        return Ok(None);
    };
    if !input.check_len("code", &code, 1, 255) {
        return Ok(None);
    }
    if code.chars().any(char::is_whitespace) {
        input.violation(
            "code",
            "This value should not contain spaces.",
            "invalid_format",
        );
        return Ok(None);
    }
    if (lookups.code_taken)(&code)? {
        input.violation("code", "This coupon code is already in use.", "not_unique");
        return Ok(None);
    }
    Ok(Some(code))
}

fn choice(input: &mut Input, key: &str, allowed: &[&str]) -> Option<String> {
    input
        .required_string(key)
        .filter(|v| input.check_one_of(key, v, allowed))
}

/// A field that belongs to the other coupon type must be absent or null, so a coupon never
/// carries a value that silently does nothing.
fn must_be_null(input: &mut Input, key: &str, kind: Option<&str>) {
    let Some(kind) = kind else {
        return;
    };
    if !matches!(input.raw(key), None | Some(Value::Null)) {
        input.violation(
            key,
            &format!("This value is not allowed for type '{kind}'."),
            "not_allowed",
        );
    }
}

/// `fixedAmount` (> 0, at most the currency's minor digits) with its required `currencyCode`.
/// The amount is a decimal string; the Money object of a GET is accepted too, so a read
/// coupon can be sent back as it is.
fn fixed_amount(input: &mut Input) -> (Option<Decimal>, Option<String>) {
    let (amount, object_currency) = match input.raw("fixedAmount").cloned() {
        None | Some(Value::Null) => {
            input.violation(
                "fixedAmount",
                "This value should not be blank.",
                "not_blank",
            );
            (None, None)
        }
        Some(Value::String(s)) => match money::parse_decimal(&s) {
            Ok(d) => (Some(d), None),
            Err(e) => {
                input.violation("fixedAmount", &e.message(), e.code());
                (None, None)
            }
        },
        Some(Value::Object(m)) => money_object(input, &m),
        Some(_) => {
            input.violation(
                "fixedAmount",
                "This value should be a decimal string such as \"5.00\".",
                "invalid_type",
            );
            (None, None)
        }
    };
    let amount = amount.filter(|a| {
        let positive = *a > Decimal::ZERO;
        if !positive {
            input.violation(
                "fixedAmount",
                "This value should be greater than 0.",
                "out_of_range",
            );
        }
        positive
    });
    let currency = input
        .required_string("currencyCode")
        .filter(|c| input.check_currency("currencyCode", c));
    let Some(cur) = currency.as_deref().and_then(Currency::parse) else {
        return (None, None);
    };
    if object_currency.is_some_and(|c| c != cur.code) {
        input.violation(
            "fixedAmount",
            "The Money object's currencyCode differs from the coupon's currencyCode.",
            "currency_mismatch",
        );
        return (None, currency);
    }
    let amount = amount.and_then(|a| {
        let mut a = a.normalize();
        if a.scale() > cur.minor_digits {
            input.violation(
                "fixedAmount",
                &format!(
                    "This value may have at most {} decimals in {}.",
                    cur.minor_digits, cur.code
                ),
                "too_many_decimals",
            );
            return None;
        }
        a.rescale(cur.minor_digits);
        Some(a)
    });
    (amount, currency)
}

/// `{"amount": 500, "currencyCode": "EUR", "precision": 2}` as sent back from a GET: the
/// value and the object's currency, if it names one.
fn money_object(
    input: &mut Input,
    m: &serde_json::Map<String, Value>,
) -> (Option<Decimal>, Option<String>) {
    let amount = m.get("amount").and_then(Value::as_i64);
    let precision = m
        .get("precision")
        .and_then(Value::as_u64)
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| *p <= money::MAX_FRACTION_DIGITS);
    let currency = match m.get("currencyCode") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(c)) => Some(Some(c.clone())),
        Some(_) => None,
    };
    match (amount, precision, currency) {
        (Some(a), Some(p), Some(c)) => (Some(Decimal::new(a, p)), c),
        _ => {
            input.violation(
                "fixedAmount",
                "This value should be a decimal string, or a Money object {amount, currencyCode, precision}.",
                "invalid_money",
            );
            (None, None)
        }
    }
}

/// An integer ≥ 1 (and within `u32`, the period counter of billing); null allowed unless
/// `required`.
fn positive(input: &mut Input, key: &str, required: bool) -> Option<i64> {
    match input.int(key) {
        Field::Value(n) if (1..=i64::from(u32::MAX)).contains(&n) => Some(n),
        Field::Value(_) => {
            input.violation(key, "This value should be 1 or more.", "out_of_range");
            None
        }
        Field::Null | Field::Absent => {
            if required && matches!(input.raw(key), None | Some(Value::Null)) {
                input.violation(key, "This value should not be blank.", "not_blank");
            }
            None
        }
    }
}

/// `products`: ids (or IRIs) of products of the tenant, each named `products[i]` when unknown;
/// duplicates collapse, since the restriction is a set.
fn products(input: &mut Input, lookups: &Lookups) -> ApiResult<Vec<String>> {
    let items = match input.array("products") {
        Field::Value(items) => items,
        _ => return Ok(vec![]),
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("products[{i}]");
        let Some(raw) = item.as_str() else {
            input.violation(&key, "This value should be of type string.", "invalid_type");
            continue;
        };
        let id = raw.rsplit('/').next().unwrap_or(raw);
        if id.is_empty() || !(lookups.product_exists)(id)? {
            input.violation(&key, "This product does not exist.", "not_found");
        } else if !out.iter().any(|p| p == id) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}
