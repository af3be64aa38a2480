//! The money part of a price plan body: the model from `type` with its `price` or `tiers`,
//! amounts as decimal strings (or the Money objects of a GET echoed back), tier rules.

use crate::domain::money::{parse_decimal, Currency, Money, MAX_FRACTION_DIGITS};
use crate::domain::pricing::{validate_tiers, Model, Tier};
use crate::http::input::{Field, Input};
use rust_decimal::Decimal;
use serde_json::Value;

/// Keys the read shape puts into `price` besides the amount or percentage.
const PRICE_BOOKKEEPING: &[&str] = &["createdAt", "updatedAt", "tenantId"];

/// The pricing model from `type` with its `price` or `tiers`.
pub fn model(input: &mut Input, kind: &str, currency: Option<Currency>) -> Option<Model> {
    if Model::is_tiered(kind) {
        if !matches!(input.raw("price"), None | Some(Value::Null)) {
            input.violation(
                "price",
                &format!("Type {kind} is priced by its tiers; price must be null."),
                "not_allowed",
            );
        }
        let tiers = tiers(input, currency)?;
        return Some(match kind {
            "tiered" => Model::Tiered { tiers },
            "volume" => Model::Volume { tiers },
            _ => Model::StairStep { tiers },
        });
    }
    match input.raw("tiers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(_) => input.violation(
            "tiers",
            &format!("Type {kind} has no tiers; use price."),
            "not_allowed",
        ),
    }
    let mut price = match input.object("price") {
        Field::Value(map) => Input::nested(map, "price"),
        Field::Null | Field::Absent => {
            if !matches!(input.raw("price"), Some(v) if !v.is_null()) {
                input.violation("price", "This value should not be blank.", "not_blank");
            }
            return None;
        }
    };
    let (key, model) = if kind == "percentage" {
        let percent = percentage(&mut price);
        (
            "percentage",
            percent.map(|percent| Model::Percentage { percent }),
        )
    } else {
        let amount = amount(&mut price, "amount", currency, None);
        let model = amount.map(|price| match kind {
            "flat_fee" => Model::FlatFee { price },
            _ => Model::PerUnit { price },
        });
        ("amount", model)
    };
    let allowed: Vec<&str> = std::iter::once(key)
        .chain(PRICE_BOOKKEEPING.iter().copied())
        .collect();
    price.reject_unknown(&allowed);
    let valid = price.is_valid();
    input.absorb(price);
    model.filter(|_| valid)
}

/// `price.percentage`: a decimal string, 0 < x ≤ 100.
fn percentage(price: &mut Input) -> Option<Decimal> {
    match price.decimal("percentage") {
        Field::Value(p) if p > Decimal::ZERO && p <= Decimal::ONE_HUNDRED => Some(p),
        Field::Value(_) => {
            price.violation(
                "percentage",
                "This value should be greater than 0 and at most 100.",
                "out_of_range",
            );
            None
        }
        Field::Absent if price.has("percentage") => None,
        _ => {
            price.violation("percentage", "This value should not be blank.", "not_blank");
            None
        }
    }
}

/// An amount: a decimal string (`"9.99"`, ≤ 10 fractional digits), or the Money object of the
/// read shape echoed back. Must be ≥ 0 and representable as a Money object. `default` applies
/// when absent or null; without one, the amount is required.
fn amount(
    input: &mut Input,
    key: &str,
    currency: Option<Currency>,
    default: Option<Decimal>,
) -> Option<Decimal> {
    let value = match input.raw(key).cloned() {
        None | Some(Value::Null) => {
            if default.is_none() {
                input.violation(key, "This value should not be blank.", "not_blank");
            }
            return default;
        }
        Some(Value::String(s)) => match parse_decimal(&s) {
            Ok(d) => d,
            Err(e) => {
                input.violation(key, &e.message(), e.code());
                return None;
            }
        },
        Some(Value::Object(m)) => money_echo(input, key, &m, currency)?,
        Some(_) => {
            input.violation(
                key,
                "This value should be a decimal number written as a string, e.g. \"9.99\".",
                "invalid_type",
            );
            return None;
        }
    };
    if value.is_sign_negative() && !value.is_zero() {
        input.violation(key, "This value must not be negative.", "negative");
        return None;
    }
    if currency.is_some_and(|c| Money::unit_price(value, c).is_none()) {
        input.violation(key, "This amount is too large.", "too_large");
        return None;
    }
    Some(value)
}

/// `{amount, currencyCode, precision}` as returned by a GET, in the plan's currency.
fn money_echo(
    input: &mut Input,
    key: &str,
    m: &serde_json::Map<String, Value>,
    currency: Option<Currency>,
) -> Option<Decimal> {
    let amount = m.get("amount").and_then(Value::as_i64);
    let precision = m
        .get("precision")
        .and_then(Value::as_u64)
        .filter(|p| *p <= u64::from(MAX_FRACTION_DIGITS));
    let code = m.get("currencyCode").and_then(Value::as_str);
    let (Some(amount), Some(precision), Some(code), 3) = (amount, precision, code, m.len()) else {
        input.violation(
            key,
            "This value should be a decimal string or a Money object {amount, currencyCode, precision} (precision ≤ 10).",
            "invalid_money",
        );
        return None;
    };
    if currency.is_some_and(|c| c.code != code) {
        input.violation(
            key,
            "The Money object's currencyCode must be the plan's currencyCode.",
            "currency_mismatch",
        );
        return None;
    }
    // precision ≤ 10 < 28, so `Decimal::new` cannot panic.
    Some(Decimal::new(amount, precision as u32))
}

/// `tiers`: each `{from, to, unitPrice, flatAmount}` checked alone, then the rules across tiers
/// (reference 10 §5.3) once every tier is readable.
fn tiers(input: &mut Input, currency: Option<Currency>) -> Option<Vec<Tier>> {
    let items = match input.array("tiers") {
        Field::Value(items) => items,
        Field::Absent if input.has("tiers") => return None,
        _ => {
            input.violation("tiers", "At least one tier is required.", "not_blank");
            return None;
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut readable = true;
    for (i, item) in items.into_iter().enumerate() {
        let prefix = format!("tiers[{i}]");
        let Value::Object(map) = item else {
            input.violation(
                &prefix,
                "This value should be of type object.",
                "invalid_type",
            );
            readable = false;
            continue;
        };
        let mut t = Input::nested(map, &prefix);
        t.reject_unknown(&["from", "to", "unitPrice", "flatAmount"]);
        let from = match t.int("from") {
            Field::Value(n) if n >= 1 => Some(n as u64),
            Field::Value(_) => {
                t.violation(
                    "from",
                    "This value should be an integer of 1 or more.",
                    "too_small",
                );
                None
            }
            Field::Absent if t.has("from") => None,
            _ => {
                t.violation("from", "This value should not be blank.", "not_blank");
                None
            }
        };
        let to = match t.int("to") {
            Field::Value(n) if n >= 1 => Some(Some(n as u64)),
            Field::Value(_) => {
                t.violation(
                    "to",
                    "This value should be an integer of 1 or more, or null.",
                    "too_small",
                );
                None
            }
            Field::Absent if t.has("to") => None,
            // Absent reads as null: the open end.
            _ => Some(None),
        };
        let unit_price = amount(&mut t, "unitPrice", currency, Some(Decimal::ZERO));
        let flat_amount = amount(&mut t, "flatAmount", currency, Some(Decimal::ZERO));
        readable &= t.is_valid();
        input.absorb(t);
        if let (Some(from), Some(to), Some(unit_price), Some(flat_amount)) =
            (from, to, unit_price, flat_amount)
        {
            out.push(Tier {
                from,
                to,
                unit_price,
                flat_amount,
            });
        }
    }
    if !readable {
        return None;
    }
    let violations = validate_tiers(&out);
    if violations.is_empty() {
        return Some(out);
    }
    for v in violations {
        input.violation(&v.path, &v.message, v.code);
    }
    None
}
