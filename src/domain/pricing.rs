//! The pricing engine (reference 10 §5.4): the six pricing models, tier validation, and the
//! calculation of a period's amount as exact lines plus one rounded total.
//!
//! Quantities are decimals (metered usage may be fractional). A tier `{from, to}` covers the
//! quantities in `(from − 1, to]`, which is `from..=to` for whole units and extends naturally
//! to fractions: with tiers 1–10 and 11–50, 10.5 units are 10 in the first band and 0.5 in the
//! second. All arithmetic is exact or an error (`domain::exact`): never a panic, a wrap, or a
//! silent rounding.

use super::exact;
use super::money::Currency;
use rust_decimal::Decimal;

/// The `type` literals of reference 10 §5.2, in the reference's order.
pub const TYPES: &[&str] = &[
    "flat_fee",
    "per_unit",
    "tiered",
    "volume",
    "stair_step",
    "percentage",
];

/// At most this many tiers per plan: enough for any real price list, and it bounds the work of
/// one calculation.
pub const MAX_TIERS: usize = 100;

/// One band of a tiered, volume or stair-step plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// First unit of the band, ≥ 1.
    pub from: u64,
    /// Last unit of the band; `None` for the open last band.
    pub to: Option<u64>,
    pub unit_price: Decimal,
    pub flat_amount: Decimal,
}

/// How a plan turns a quantity into an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Model {
    /// The price, whatever the quantity.
    FlatFee { price: Decimal },
    /// q' × price.
    PerUnit { price: Decimal },
    /// Graduated: each band priced separately, plus the flat amount of every band reached.
    Tiered { tiers: Vec<Tier> },
    /// All q' units at the band q' falls into, plus that band's flat amount.
    Volume { tiers: Vec<Tier> },
    /// The flat amount of the band q' falls into; 0 when q' = 0.
    StairStep { tiers: Vec<Tier> },
    /// `percent` % of the base value reported as the quantity.
    Percentage { percent: Decimal },
}

impl Model {
    /// The API `type` literal.
    pub fn type_name(&self) -> &'static str {
        match self {
            Model::FlatFee { .. } => "flat_fee",
            Model::PerUnit { .. } => "per_unit",
            Model::Tiered { .. } => "tiered",
            Model::Volume { .. } => "volume",
            Model::StairStep { .. } => "stair_step",
            Model::Percentage { .. } => "percentage",
        }
    }

    /// The tiers of a tiered model; empty for the others.
    pub fn tiers(&self) -> &[Tier] {
        match self {
            Model::Tiered { tiers } | Model::Volume { tiers } | Model::StairStep { tiers } => tiers,
            _ => &[],
        }
    }

    /// Whether `type_name` is one of the models that use `tiers` (the others use `price`).
    pub fn is_tiered(type_name: &str) -> bool {
        matches!(type_name, "tiered" | "volume" | "stair_step")
    }
}

/// Everything the engine needs from a price plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    pub model: Model,
    /// Deducted from the quantity before pricing: q' = max(0, q − free_units).
    pub free_units: Decimal,
    pub currency: Currency,
}

/// What a line prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `quantity` units at `unit_price` (per unit, or a band of a tiered/volume plan).
    Units,
    /// A fixed amount: quantity 1 × `unit_price` (flat fee, a band's flat amount, stair step).
    Flat,
    /// The base value × `unit_price` = percent / 100.
    Percentage,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Units => "units",
            LineKind::Flat => "flat",
            LineKind::Percentage => "percentage",
        }
    }
}

/// One line of a calculation. `net` = `quantity` × `unit_price`, exactly; each line reads like
/// an invoice position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    /// Index of the band in `tiers`, for tiered models.
    pub tier: Option<usize>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub net: Decimal,
}

/// The amount for one period and quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calculation {
    /// q as given.
    pub quantity: Decimal,
    /// q' = max(0, q − free units): the quantity that is priced.
    pub chargeable: Decimal,
    pub lines: Vec<Line>,
    /// Σ line nets, unrounded.
    pub net_exact: Decimal,
    /// `net_exact` rounded once to the currency's minor unit, half away from zero.
    pub net_rounded: Decimal,
}

/// Why a calculation has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingError {
    NegativeQuantity,
    /// A product or sum that does not fit a `Decimal` exactly (about 28 significant digits).
    Overflow,
    /// The plan's tiers break the rules of [`validate_tiers`] (only possible for data that
    /// bypassed validation).
    InvalidTiers,
}

impl std::fmt::Display for PricingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PricingError::NegativeQuantity => "The quantity must not be negative.",
            PricingError::Overflow => "The amount for this quantity is too large to compute.",
            PricingError::InvalidTiers => "The price plan's tiers are invalid.",
        })
    }
}

/// A broken tier rule, with the request path it concerns (`tiers`, `tiers[2].from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierViolation {
    pub path: String,
    pub message: String,
    pub code: &'static str,
}

impl TierViolation {
    fn at(index: usize, field: &str, message: String, code: &'static str) -> TierViolation {
        TierViolation {
            path: format!("tiers[{index}].{field}"),
            message,
            code,
        }
    }
}

/// Reference 10 §5.3: at least one tier; the first starts at 1; each `to` ≥ its `from`; tiers
/// are contiguous (`from` = previous `to` + 1); the last, and only the last, is open
/// (`to: null`), so every quantity falls into exactly one band.
pub fn validate_tiers(tiers: &[Tier]) -> Vec<TierViolation> {
    let mut out = Vec::new();
    if tiers.is_empty() {
        out.push(TierViolation {
            path: "tiers".into(),
            message: "At least one tier is required.".into(),
            code: "not_blank",
        });
        return out;
    }
    if tiers.len() > MAX_TIERS {
        out.push(TierViolation {
            path: "tiers".into(),
            message: format!("A price plan may have at most {MAX_TIERS} tiers."),
            code: "too_many",
        });
        return out;
    }
    let last = tiers.len() - 1;
    for (i, tier) in tiers.iter().enumerate() {
        if i == 0 && tier.from != 1 {
            out.push(TierViolation::at(
                0,
                "from",
                "The first tier must start at 1.".into(),
                "first_tier_start",
            ));
        }
        if i > 0 {
            if let Some(prev_to) = tiers[i - 1].to {
                if Some(tier.from) != prev_to.checked_add(1) {
                    out.push(TierViolation::at(
                        i,
                        "from",
                        format!(
                            "Tiers must be contiguous: this tier must start at {}, one after the previous tier's end.",
                            prev_to.saturating_add(1)
                        ),
                        "not_contiguous",
                    ));
                }
            }
        }
        match tier.to {
            Some(to) if to < tier.from => out.push(TierViolation::at(
                i,
                "to",
                format!(
                    "This value must be greater than or equal to the tier's from ({}).",
                    tier.from
                ),
                "less_than_from",
            )),
            Some(_) if i == last => out.push(TierViolation::at(
                i,
                "to",
                "The last tier must be open-ended (to: null).".into(),
                "last_tier_closed",
            )),
            None if i != last => out.push(TierViolation::at(
                i,
                "to",
                "Only the last tier may be open-ended (to: null).".into(),
                "open_tier_not_last",
            )),
            _ => {}
        }
    }
    out
}

/// Prices `quantity` for one full period (reference 10 §5.4). Proration, when a period is only
/// partly covered, applies to `net_exact` afterwards (`period::prorate_rounded`).
pub fn calculate(pricing: &Pricing, quantity: Decimal) -> Result<Calculation, PricingError> {
    if quantity.is_sign_negative() && !quantity.is_zero() {
        return Err(PricingError::NegativeQuantity);
    }
    let chargeable = exact::sub(quantity, pricing.free_units)
        .ok_or(PricingError::Overflow)?
        .max(Decimal::ZERO);
    let mut lines = Vec::new();
    match &pricing.model {
        Model::FlatFee { price } => lines.push(line(LineKind::Flat, None, Decimal::ONE, *price)?),
        Model::PerUnit { price } => lines.push(line(LineKind::Units, None, chargeable, *price)?),
        Model::Percentage { percent } => {
            // percent × 0.01: the rate as a unit price, e.g. 2.5 % -> 0.025.
            let rate = exact::mul(*percent, Decimal::new(1, 2)).ok_or(PricingError::Overflow)?;
            lines.push(line(LineKind::Percentage, None, chargeable, rate)?);
        }
        Model::Tiered { tiers } => {
            check(tiers)?;
            for (i, tier) in tiers.iter().enumerate() {
                let below = Decimal::from(tier.from - 1);
                if chargeable <= below {
                    break;
                }
                let top = match tier.to.map(Decimal::from) {
                    Some(to) if to < chargeable => to,
                    _ => chargeable,
                };
                let units = exact::sub(top, below).ok_or(PricingError::Overflow)?;
                band_lines(&mut lines, i, tier, units)?;
            }
        }
        Model::Volume { tiers } => {
            check(tiers)?;
            if let Some(i) = band_of(tiers, chargeable) {
                band_lines(&mut lines, i, &tiers[i], chargeable)?;
            }
        }
        Model::StairStep { tiers } => {
            check(tiers)?;
            if let Some(i) = band_of(tiers, chargeable) {
                let flat = tiers[i].flat_amount;
                lines.push(line(LineKind::Flat, Some(i), Decimal::ONE, flat)?);
            }
        }
    }
    let net_exact = lines
        .iter()
        .try_fold(Decimal::ZERO, |sum, l| exact::add(sum, l.net))
        .ok_or(PricingError::Overflow)?;
    Ok(Calculation {
        quantity,
        chargeable,
        lines,
        net_exact,
        net_rounded: pricing.currency.round(net_exact),
    })
}

fn check(tiers: &[Tier]) -> Result<(), PricingError> {
    if validate_tiers(tiers).is_empty() {
        Ok(())
    } else {
        Err(PricingError::InvalidTiers)
    }
}

fn line(
    kind: LineKind,
    tier: Option<usize>,
    quantity: Decimal,
    unit_price: Decimal,
) -> Result<Line, PricingError> {
    let net = exact::mul(quantity, unit_price).ok_or(PricingError::Overflow)?;
    Ok(Line {
        kind,
        tier,
        quantity,
        unit_price,
        net,
    })
}

/// The lines of one reached band: its units, then its flat amount when it has one. A band
/// that is only a flat amount (unit price 0) gets no zero-valued units line.
fn band_lines(
    lines: &mut Vec<Line>,
    i: usize,
    tier: &Tier,
    units: Decimal,
) -> Result<(), PricingError> {
    let has_flat = !tier.flat_amount.is_zero();
    if !tier.unit_price.is_zero() || !has_flat {
        lines.push(line(LineKind::Units, Some(i), units, tier.unit_price)?);
    }
    if has_flat {
        lines.push(line(
            LineKind::Flat,
            Some(i),
            Decimal::ONE,
            tier.flat_amount,
        )?);
    }
    Ok(())
}

/// The band a quantity falls into: `from − 1 < q ≤ to`. `None` for q = 0, which lies below
/// the first band (so volume and stair step price nothing for no units).
fn band_of(tiers: &[Tier], q: Decimal) -> Option<usize> {
    tiers
        .iter()
        .position(|t| q > Decimal::from(t.from - 1) && t.to.is_none_or(|to| q <= Decimal::from(to)))
}

#[cfg(test)]
#[path = "pricing_tests.rs"]
mod tests;
