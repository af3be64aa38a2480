//! The amount of one due item period as an invoice line (reference 10 §5.4, §6.4, 08 §7):
//! price the quantity, prorate a partial period by days, take a coupon off. Pure; exact
//! decimals, each amount rounded once to the currency's minor unit, half away from zero.

use super::due::{proration_text, DuePeriod};
use crate::domain::discount::{CouponTerms, Inexact, ItemAmount};
use crate::domain::money::Currency;
use crate::domain::period::round_ratio;
use crate::domain::pricing::{self, LineKind, Pricing, PricingError};
use rust_decimal::Decimal;

/// What one item period puts on the invoice before any coupon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCharge {
    /// Position quantity and unit price: `quantity × unit_price` = `amount` exactly.
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// The line net in currency units, rounded once.
    pub amount: Decimal,
    /// How the amount came about when the position cannot show it as quantity × price
    /// (tiers, proration): e.g. "10 × 10.00 + 40 × 8.00 + 10 × 6.00; 14 of 30 days".
    pub description: Option<String>,
}

fn shown(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Prices `quantity` for the period `due`. A single undivided line (flat fee, per unit) keeps
/// its quantity and unit price, as a reader expects (`5 × 10.00`); anything else (several
/// tier bands, a prorated period) becomes `1 × amount` with the arithmetic in the
/// description, so the invoice rounds exactly once and the printed line still explains itself.
pub fn item_charge(
    pricing: &Pricing,
    quantity: Decimal,
    due: &DuePeriod,
) -> Result<ItemCharge, PricingError> {
    let calc = pricing::calculate(pricing, quantity)?;
    let currency = pricing.currency;
    if !due.prorated {
        if let [line] = calc.lines.as_slice() {
            // A flat fee is one unit whatever the measured quantity.
            if line.kind != LineKind::Percentage || line.quantity.is_zero() {
                return Ok(ItemCharge {
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    amount: currency.round(line.net),
                    description: None,
                });
            }
        }
    }
    let breakdown: Vec<String> = calc
        .lines
        .iter()
        .map(|l| format!("{} × {}", shown(l.quantity), shown(l.unit_price)))
        .collect();
    let mut parts = Vec::new();
    if calc.lines.len() > 1 || calc.lines.iter().any(|l| l.kind == LineKind::Percentage) {
        parts.push(breakdown.join(" + "));
    }
    let amount = if due.prorated {
        parts.push(proration_text(due));
        let numerator =
            crate::domain::exact::mul(calc.net_exact, Decimal::from(due.covered_days()))
                .ok_or(PricingError::Overflow)?;
        round_ratio(numerator, Decimal::from(due.full_days), currency)
            .ok_or(PricingError::Overflow)?
    } else {
        calc.net_rounded
    };
    Ok(ItemCharge {
        quantity: Decimal::ONE,
        unit_price: amount,
        amount,
        description: (!parts.is_empty()).then(|| parts.join("; ")),
    })
}

/// The coupon discount on an item's period amount, rounded to the minor unit; `None` when the
/// coupon does not apply (other product or currency, periods used up) or takes nothing off.
/// `periods_discounted`: periods of this item the coupon already discounted.
pub fn coupon_discount(
    coupon: &CouponTerms,
    product_id: &str,
    currency: Currency,
    amount: Decimal,
    periods_discounted: u32,
) -> Result<Option<Decimal>, Inexact> {
    let item = ItemAmount {
        product_id,
        amount,
        currency: currency.code,
    };
    Ok(coupon
        .discount_for(&item, periods_discounted)?
        // Rounding is monotonic, so a discount capped at the amount stays capped.
        .map(|d| currency.round(d))
        .filter(|d| !d.is_zero()))
}

/// Fair billing of usage (10 §2.4, 08 §7): each quantity priced for the days it held,
/// Σ price(qᵢ) × daysᵢ / `days`, rounded once (`days`: the period's days, or the full period's
/// when a partial period is prorated). One `1 × amount` line with the segments described.
pub fn fair_charge(
    pricing: &Pricing,
    segments: &[(Decimal, u32)],
    days: u32,
) -> Result<ItemCharge, PricingError> {
    let mut numerator = Decimal::ZERO;
    let mut parts = Vec::with_capacity(segments.len());
    for (q, d) in segments {
        let calc = pricing::calculate(pricing, *q)?;
        let weighted = crate::domain::exact::mul(calc.net_exact, Decimal::from(*d))
            .ok_or(PricingError::Overflow)?;
        numerator = numerator
            .checked_add(weighted)
            .ok_or(PricingError::Overflow)?;
        parts.push(format!("{} for {d} days", shown(*q)));
    }
    let amount = round_ratio(numerator, Decimal::from(days.max(1)), pricing.currency)
        .ok_or(PricingError::Overflow)?;
    Ok(ItemCharge {
        quantity: Decimal::ONE,
        unit_price: amount,
        amount,
        description: Some(format!("{} of {days} days", parts.join(" + "))),
    })
}
