//! Invoice amounts per EN 16931 (DESIGN §5, reference 06 §6): each line net is rounded to the
//! currency's minor unit; tax is computed once per (treatment, rate) on the sum of the line nets
//! at that rate and then rounded; gross = net + tax. Rounded gross lines are never summed.
//! Pure: no database, no I/O, no floating point. Every amount out is an integer of minor units.

use crate::domain::exact;
use crate::domain::money::Currency;
use crate::domain::tax::Treatment;
use rust_decimal::Decimal;

/// A line's discount as entered (reference 06 §2.2): per unit, or a percentage of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    None,
    /// Net amount subtracted from the unit price (`discountAmount`).
    PerUnit(Decimal),
    /// 0 < x < 100 (`discountPercentage`).
    Percentage(Decimal),
}

/// The tax a line is subject to: its rate in percent, why, and the note printed for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxKey {
    pub rate: Decimal,
    pub treatment: Treatment,
    pub note: Option<String>,
}

/// One position as the calculation sees it. `unit_price: None` is a heading: it counts 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub quantity: Decimal,
    pub unit_price: Option<Decimal>,
    pub discount: Discount,
    /// `None` only for headings (no price, no tax).
    pub tax: Option<TaxKey>,
}

/// A line's amounts in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineAmounts {
    /// round(quantity × unit price): the reference's `netAmount` of a position.
    pub net_before_discount: i64,
    /// What the discount took off: `net_before_discount − net`, so the printed columns add up.
    pub discount: i64,
    /// The line net that enters the totals (after discount).
    pub net: i64,
    /// round(net × rate): informational only; the invoice's tax is computed per rate.
    pub tax: i64,
}

/// One row of the tax breakdown: the lines of one treatment and rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTotal {
    pub rate: Decimal,
    pub treatment: Treatment,
    pub note: Option<String>,
    pub net: i64,
    pub tax: i64,
}

/// The document totals in minor units; `gross == net + tax` always.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    pub discount: i64,
    /// In order of first appearance on the document.
    pub breakdown: Vec<RateTotal>,
}

/// An amount does not fit: more than 28 significant digits or beyond ±9.2 × 10¹⁸ minor units.
/// Requests are bounded so that this cannot happen for valid input; it is refused, never rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// `value / 100`, exactly (moves the decimal point; refuses when the scale would exceed 28).
fn percent(value: Decimal) -> Result<Decimal, Overflow> {
    let mut v = value;
    v.set_scale(value.scale() + 2).map_err(|_| Overflow)?;
    Ok(v)
}

fn minor(currency: Currency, value: Decimal) -> Result<i64, Overflow> {
    currency.to_minor(value).ok_or(Overflow)
}

/// round(net × rate / 100) for a net given in minor units.
pub fn tax_on(currency: Currency, net_minor: i64, rate: Decimal) -> Result<i64, Overflow> {
    let net = currency.from_minor(net_minor);
    minor(currency, percent(exact::mul(net, rate).ok_or(Overflow)?)?)
}

/// The amounts of one line (06 §6 step 1).
pub fn line_amounts(currency: Currency, line: &Line) -> Result<LineAmounts, Overflow> {
    let Some(price) = line.unit_price else {
        return Ok(LineAmounts::default());
    };
    let q = line.quantity;
    let gross_value = exact::mul(q, price).ok_or(Overflow)?;
    let net_before_discount = minor(currency, gross_value)?;
    let net = match line.discount {
        Discount::None => net_before_discount,
        // round(q × (price − discount)): the discount is per unit, so it scales with quantity.
        Discount::PerUnit(d) => {
            let unit = exact::sub(price, d).ok_or(Overflow)?;
            minor(currency, exact::mul(q, unit).ok_or(Overflow)?)?
        }
        // round(q × price × (100 − p) / 100), rounded once, not per factor.
        Discount::Percentage(p) => {
            let keep = exact::sub(Decimal::ONE_HUNDRED, p).ok_or(Overflow)?;
            minor(
                currency,
                percent(exact::mul(gross_value, keep).ok_or(Overflow)?)?,
            )?
        }
    };
    let tax = match &line.tax {
        Some(t) => tax_on(currency, net, t.rate)?,
        None => 0,
    };
    Ok(LineAmounts {
        net_before_discount,
        discount: net_before_discount.checked_sub(net).ok_or(Overflow)?,
        net,
        tax,
    })
}

/// Every line's amounts and the document totals (06 §6 steps 1–4).
pub fn calculate(
    currency: Currency,
    lines: &[Line],
) -> Result<(Vec<LineAmounts>, Totals), Overflow> {
    let amounts = lines
        .iter()
        .map(|l| line_amounts(currency, l))
        .collect::<Result<Vec<_>, _>>()?;
    let mut totals = Totals::default();
    for (line, a) in lines.iter().zip(&amounts) {
        totals.discount = totals.discount.checked_add(a.discount).ok_or(Overflow)?;
        let Some(key) = &line.tax else { continue };
        // Grouped by treatment as well as rate: 0 % reverse charge and 0 % export carry
        // different notes and are separate categories in an e-invoice.
        match totals
            .breakdown
            .iter_mut()
            .find(|r| r.rate == key.rate && r.treatment == key.treatment)
        {
            Some(row) => row.net = row.net.checked_add(a.net).ok_or(Overflow)?,
            None => totals.breakdown.push(RateTotal {
                rate: key.rate,
                treatment: key.treatment,
                note: key.note.clone(),
                net: a.net,
                tax: 0,
            }),
        }
    }
    for row in &mut totals.breakdown {
        row.tax = tax_on(currency, row.net, row.rate)?;
        totals.tax = totals.tax.checked_add(row.tax).ok_or(Overflow)?;
    }
    // Headings contribute 0, so the net is the sum of every line's net.
    totals.net = amounts
        .iter()
        .try_fold(0i64, |s, a| s.checked_add(a.net))
        .ok_or(Overflow)?;
    totals.gross = totals.net.checked_add(totals.tax).ok_or(Overflow)?;
    Ok((amounts, totals))
}

/// The stored name of a treatment (the `serde` name of `Treatment`).
pub fn treatment_name(t: Treatment) -> &'static str {
    match t {
        Treatment::Domestic => "domestic",
        Treatment::ReverseCharge => "reverse_charge",
        Treatment::NonEu => "non_eu",
        Treatment::SmallBusiness => "small_business",
        Treatment::Exempt => "exempt",
        Treatment::EuConsumer => "eu_consumer",
    }
}

/// The inverse of `treatment_name`.
pub fn parse_treatment(s: &str) -> Option<Treatment> {
    Some(match s {
        "domestic" => Treatment::Domestic,
        "reverse_charge" => Treatment::ReverseCharge,
        "non_eu" => Treatment::NonEu,
        "small_business" => Treatment::SmallBusiness,
        "exempt" => Treatment::Exempt,
        "eu_consumer" => Treatment::EuConsumer,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
