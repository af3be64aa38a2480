//! `POST /price-plans/{id}/calculate` (kontor): what a plan costs for a quantity, line by line,
//! optionally prorated for part of one billing period.
//!
//! Proration rule: `from` starts a billing period of the plan's interval (anchored on `from`,
//! month ends clamped); `to` is the last day covered (inclusive, default: the period's last
//! day) and must lie in that period. With `proRata` and fewer days covered than the period
//! has, netAmount = round(Σ line nets × daysCovered / daysInPeriod), rounded once, half away
//! from zero. Lines are always the full-period amounts, so they show what was prorated.

use super::model::{unit_money, PricePlan};
use crate::domain::money::{parse_decimal, Currency, Money, MAX_FRACTION_DIGITS};
use crate::domain::period::{days_between, prorate, prorate_rounded, Period};
use crate::domain::pricing::{calculate, PricingError};
use crate::error::{ApiError, ApiResult};
use crate::http::input::Input;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalculationView {
    pub price_plan: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub currency_code: &'static str,
    /// q as sent, a decimal string.
    pub quantity: String,
    pub free_units: u64,
    /// q' = max(0, q − freeUnits): the quantity that is priced.
    pub chargeable_quantity: String,
    pub lines: Vec<LineView>,
    pub period: Option<PeriodView>,
    /// The unrounded amount (after proration), as a decimal string.
    pub net_amount_exact: String,
    /// The amount in minor units: rounded once, half away from zero.
    pub net_amount: Money,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineView {
    /// `units`, `flat` or `percentage`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Index into the plan's `tiers`, for tiered models.
    pub tier: Option<usize>,
    pub quantity: String,
    pub unit_price: Money,
    /// quantity × unitPrice, unrounded.
    pub net_amount: Money,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodView {
    /// The billing period starting at `from`: first and last day.
    pub start: String,
    pub end: String,
    /// The days covered, both inclusive.
    pub from: String,
    pub to: String,
    pub days_covered: u32,
    pub days_in_period: u32,
    /// Whether the amount was prorated (`proRata` and a partial period).
    pub prorated: bool,
}

/// Validates the body against the plan and computes the answer.
pub fn run(plan: &PricePlan, mut input: Input) -> ApiResult<CalculationView> {
    input.reject_unknown(&["quantity", "from", "to"]);
    let quantity = quantity(&mut input);
    let from = input.date("from");
    let to = input.date("to");
    let span = match (from, to) {
        (Some(from), Some(to)) => span(&mut input, plan, from, to),
        _ => None,
    };
    input.finish()?;
    let quantity =
        quantity.ok_or_else(|| ApiError::Internal("quantity passed unchecked".into()))?;

    let t = &plan.terms;
    let currency = t.currency;
    let calc = calculate(&t.pricing(), quantity).map_err(|e| match e {
        PricingError::InvalidTiers => ApiError::Internal(format!("price plan {}: {e}", plan.id)),
        PricingError::NegativeQuantity => ApiError::invalid("quantity", &e.to_string(), "negative"),
        PricingError::Overflow => too_large(),
    })?;
    let lines = calc
        .lines
        .iter()
        .map(|l| {
            Ok(LineView {
                kind: l.kind.as_str(),
                tier: l.tier,
                quantity: l.quantity.to_string(),
                unit_price: unit_money(l.unit_price, currency)?,
                net_amount: exact_money(l.net, currency).ok_or_else(too_large)?,
            })
        })
        .collect::<ApiResult<_>>()?;

    let (period, exact, rounded) = match span {
        Some((period, from, to)) => {
            let days_covered = days_between(from, to) + 1;
            let days_in_period = period.days();
            let prorated = t.pro_rata && days_covered < days_in_period;
            let (exact, rounded) = if prorated {
                (
                    prorate(calc.net_exact, days_covered, days_in_period),
                    prorate_rounded(calc.net_exact, days_covered, days_in_period, currency),
                )
            } else {
                (Some(calc.net_exact), Some(calc.net_rounded))
            };
            let view = PeriodView {
                // NaiveDate displays as YYYY-MM-DD.
                start: period.start.to_string(),
                end: period.last_day().to_string(),
                from: from.to_string(),
                to: to.to_string(),
                days_covered,
                days_in_period,
                prorated,
            };
            (Some(view), exact, rounded)
        }
        None => (None, Some(calc.net_exact), Some(calc.net_rounded)),
    };
    let (exact, rounded) = exact.zip(rounded).ok_or_else(too_large)?;
    Ok(CalculationView {
        price_plan: plan.id.clone(),
        kind: t.model.type_name(),
        currency_code: currency.code,
        quantity: calc.quantity.to_string(),
        free_units: t.free_units,
        chargeable_quantity: calc.chargeable.to_string(),
        lines,
        period,
        net_amount_exact: exact_text(exact, currency),
        net_amount: Money::total(rounded, currency).ok_or_else(too_large)?,
    })
}

fn too_large() -> ApiError {
    ApiError::invalid(
        "quantity",
        "The amount for this quantity is too large to compute.",
        "too_large",
    )
}

/// The exact amount without trailing zeros beyond the minor unit: "480.00", "3086.4175".
fn exact_text(value: Decimal, currency: Currency) -> String {
    let mut v = value.normalize();
    if v.scale() < currency.minor_digits {
        v.rescale(currency.minor_digits);
    }
    v.to_string()
}

/// An exact value as Money with as many fractional digits as it has (at most 10); beyond 10
/// digits, or when the scaled integer would not fit, it is rounded to fewer digits. `None`
/// only when even the minor unit does not fit.
fn exact_money(value: Decimal, currency: Currency) -> Option<Money> {
    let digits = value.normalize().scale().clamp(
        currency.minor_digits,
        MAX_FRACTION_DIGITS.max(currency.minor_digits),
    );
    (currency.minor_digits..=digits).rev().find_map(|p| {
        let v = value.round_dp_with_strategy(p, RoundingStrategy::MidpointAwayFromZero);
        Money::unit_price(v, currency)
    })
}

/// `quantity`: a JSON integer or a decimal string; never a float (it could not be exact).
fn quantity(input: &mut Input) -> Option<Decimal> {
    let value = match input.raw("quantity").cloned() {
        None | Some(Value::Null) => {
            input.violation("quantity", "This value should not be blank.", "not_blank");
            return None;
        }
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n
            .as_i64()
            .map(Decimal::from)
            .or(n.as_u64().map(Decimal::from)),
        Some(Value::String(s)) => match parse_decimal(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                input.violation("quantity", &e.message(), e.code());
                return None;
            }
        },
        Some(_) => None,
    };
    let Some(q) = value else {
        input.violation(
            "quantity",
            "This value should be an integer or a decimal string such as \"10.5\".",
            "invalid_type",
        );
        return None;
    };
    if q.is_sign_negative() && !q.is_zero() {
        input.violation("quantity", "The quantity must not be negative.", "negative");
        return None;
    }
    Some(q)
}

/// The billing period starting at `from` and the covered days `from..=to` inside it.
fn span(
    input: &mut Input,
    plan: &PricePlan,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Option<(Period, NaiveDate, NaiveDate)> {
    let from = match (from, to) {
        (None, None) => return None,
        (None, Some(_)) => {
            input.violation("from", "from is required when to is given.", "not_blank");
            return None;
        }
        (Some(from), _) => from,
    };
    let Some(interval) = plan.terms.billing_interval else {
        input.violation(
            "from",
            "This price plan bills a one-time charge; it has no billing period to prorate.",
            "no_billing_period",
        );
        return None;
    };
    let Some(period) = interval.period(from, 0) else {
        input.violation("from", "This date is out of range.", "out_of_range");
        return None;
    };
    let last = period.last_day();
    let to = to.unwrap_or(last);
    if to < from {
        input.violation("to", "This date must not be before from.", "before_from");
        return None;
    }
    if to > last {
        input.violation(
            "to",
            &format!(
                "This date must lie in the billing period starting at from ({from} to {last})."
            ),
            "outside_period",
        );
        return None;
    }
    Some((period, from, to))
}
