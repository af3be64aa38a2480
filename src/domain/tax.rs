//! Tax: the EU VAT table and the one rule set that picks a position's rate and legal note
//! (DESIGN §5, reference 03 §3.4). Pure; `resolve_for_customer` adds the database reads.

mod lookup;
#[cfg(test)]
mod tests;

pub use lookup::{load_group, load_party, resolve_for_customer, TaxGroup};

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// Printed when an EU business customer with a valid VAT id owes the tax (§13b UStG).
pub const NOTE_REVERSE_CHARGE: &str =
    "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)";
/// Printed for customers outside the EU: the place of supply is not the tenant's country.
pub const NOTE_NOT_TAXABLE: &str = "Nicht im Inland steuerbare Leistung.";
/// Printed by small businesses (Kleinunternehmer) on every document.
pub const NOTE_SMALL_BUSINESS: &str = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.";
/// Fynn's `reverseChargeType` value when reverse charge applies.
pub const REVERSE_CHARGE: &str = "REVERSE_CHARGE";

/// Rate-table keys besides ISO country codes.
pub const EU_WILDCARD: &str = "EU_*";
pub const ANY_COUNTRY: &str = "*";

/// Tax rates are stored and accepted with at most this many fractional digits. Real rates have
/// at most one or two, so the bound only refuses typos such as `19.000001`.
pub const RATE_MAX_FRACTION_DIGITS: u32 = 4;

/// EU member states with their standard and main reduced VAT rate in tenths of a percent
/// (state of 2025-08: EE 24, FI 25.5, RO 21/11, SK 23/19). `None`: no reduced rate, the
/// standard rate applies. Used for EU membership, for OSS destination rates, and as the
/// fallback when a tax group has no rate for an EU country. Special territories (Canary
/// Islands, Åland, ...) are outside the VAT area but share the ISO code; kontor does not model
/// them.
const EU_VAT: &[(&str, u32, Option<u32>)] = &[
    ("AT", 200, Some(100)),
    ("BE", 210, Some(60)),
    ("BG", 200, Some(90)),
    ("CY", 190, Some(90)),
    ("CZ", 210, Some(120)),
    ("DE", 190, Some(70)),
    ("DK", 250, None),
    ("EE", 240, Some(90)),
    ("ES", 210, Some(100)),
    ("FI", 255, Some(140)),
    ("FR", 200, Some(100)),
    ("GR", 240, Some(130)),
    ("HR", 250, Some(130)),
    ("HU", 270, Some(180)),
    ("IE", 230, Some(135)),
    ("IT", 220, Some(100)),
    ("LT", 210, Some(90)),
    ("LU", 170, Some(80)),
    ("LV", 210, Some(120)),
    ("MT", 180, Some(70)),
    ("NL", 210, Some(90)),
    ("PL", 230, Some(80)),
    ("PT", 230, Some(130)),
    ("RO", 210, Some(110)),
    ("SE", 250, Some(120)),
    ("SI", 220, Some(95)),
    ("SK", 230, Some(190)),
];

fn tenths(n: u32) -> Decimal {
    Decimal::new(i64::from(n), 1).normalize()
}

pub fn is_eu(country: &str) -> bool {
    EU_VAT.iter().any(|(c, _, _)| *c == country)
}

/// An EU member state's rates: `(standard, reduced)`; reduced falls back to standard.
pub fn eu_rates(country: &str) -> Option<(Decimal, Decimal)> {
    EU_VAT
        .iter()
        .find(|(c, _, _)| *c == country)
        .map(|(_, s, r)| {
            let standard = tenths(*s);
            (standard, r.map(tenths).unwrap_or(standard))
        })
}

/// The kind of a tax group (03 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupType {
    Standard,
    Reduced,
    Zero,
}

impl GroupType {
    pub const ALL: &'static [&'static str] = &["standard", "reduced", "zero"];

    pub fn parse(s: &str) -> Option<GroupType> {
        match s {
            "standard" => Some(GroupType::Standard),
            "reduced" => Some(GroupType::Reduced),
            "zero" => Some(GroupType::Zero),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Standard => "standard",
            GroupType::Reduced => "reduced",
            GroupType::Zero => "zero",
        }
    }

    /// This kind's rate in an EU member state from the table.
    pub fn eu_rate(self, country: &str) -> Option<Decimal> {
        let (standard, reduced) = eu_rates(country)?;
        Some(match self {
            GroupType::Standard => standard,
            GroupType::Reduced => reduced,
            GroupType::Zero => Decimal::ZERO,
        })
    }
}

/// One row of a group's rate table: `country` is an ISO code, `EU_*` or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRate {
    pub country: String,
    pub rate: Decimal,
}

/// Rate selection within a group: exact country, then `EU_*` for EU countries, then `*`.
pub fn select_rate(rates: &[GroupRate], country: &str) -> Option<Decimal> {
    let find = |key: &str| rates.iter().find(|r| r.country == key).map(|r| r.rate);
    find(country)
        .or_else(|| is_eu(country).then(|| find(EU_WILDCARD)).flatten())
        .or_else(|| find(ANY_COUNTRY))
}

/// How tax was decided for a position; each treatment has its own note on the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// Customer in the tenant's country.
    Domestic,
    /// EU business with a valid VAT id: 0 %, the customer owes the tax.
    ReverseCharge,
    /// Customer outside the EU: 0 %, not taxable in the tenant's country.
    NonEu,
    /// Tenant in small-business mode (§19 UStG): no VAT at all.
    SmallBusiness,
    /// Customer marked `taxExempt: exempt`.
    Exempt,
    /// EU consumer, or EU business without a valid VAT id: the tenant's (or, with OSS, the
    /// destination country's) rate.
    EuConsumer,
}

/// The outcome for one position: rate in percent, treatment, and the note to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxDecision {
    #[serde(serialize_with = "serialize_rate")]
    pub rate: Decimal,
    pub treatment: Treatment,
    pub note: Option<&'static str>,
    /// `Some("REVERSE_CHARGE")` exactly when reverse charge applies (Fynn's `reverseChargeType`).
    pub reverse_charge_type: Option<&'static str>,
}

impl TaxDecision {
    fn zero(treatment: Treatment, note: Option<&'static str>) -> TaxDecision {
        TaxDecision {
            rate: Decimal::ZERO,
            treatment,
            note,
            reverse_charge_type: None,
        }
    }
}

/// The customer facts tax depends on (from the customer and its invoice address).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxParty {
    pub country: String,
    pub vat_id: String,
    pub vat_id_valid: bool,
    pub has_company_name: bool,
    /// `taxExempt: exempt`.
    pub exempt: bool,
}

impl TaxParty {
    /// Business (B2B) when a VAT id or a company name is present (03 §3.4 rule 1).
    pub fn is_business(&self) -> bool {
        !self.vat_id.trim().is_empty() || self.has_company_name
    }
}

/// Everything `resolve` reads: tenant, product tax group, customer.
#[derive(Debug, Clone)]
pub struct TaxInput<'a> {
    pub tenant_country: &'a str,
    /// `billing.smallBusiness`.
    pub small_business: bool,
    /// One-Stop-Shop: EU consumers pay the destination country's rate. No setting exists yet,
    /// so callers pass `false` until one does.
    pub oss: bool,
    pub group_type: GroupType,
    pub rates: &'a [GroupRate],
    pub customer: &'a TaxParty,
}

/// Neither the group nor the EU table has a rate for this country: the group must be
/// completed before the position can be billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRate {
    pub country: String,
}

/// The group's rate for `country`; EU countries fall back to the table by group type, and a
/// zero group is 0 % everywhere.
fn rate_for(input: &TaxInput, country: &str) -> Result<Decimal, MissingRate> {
    select_rate(input.rates, country)
        .or_else(|| input.group_type.eu_rate(country))
        .or_else(|| (input.group_type == GroupType::Zero).then_some(Decimal::ZERO))
        .ok_or_else(|| MissingRate {
            country: country.to_string(),
        })
}

/// The one place that decides a position's tax, in the order of 03 §3.4.
pub fn resolve(input: &TaxInput) -> Result<TaxDecision, MissingRate> {
    let customer = input.customer;
    if input.small_business {
        return Ok(TaxDecision::zero(
            Treatment::SmallBusiness,
            Some(NOTE_SMALL_BUSINESS),
        ));
    }
    if customer.exempt {
        return Ok(TaxDecision::zero(Treatment::Exempt, None));
    }
    let domestic = |treatment| {
        Ok(TaxDecision {
            rate: rate_for(input, input.tenant_country)?,
            treatment,
            note: None,
            reverse_charge_type: None,
        })
    };
    if customer.country == input.tenant_country {
        return domestic(Treatment::Domestic);
    }
    // Reverse charge and OSS exist only between two EU member states; a tenant outside the EU
    // exports to every foreign customer.
    if !(is_eu(input.tenant_country) && is_eu(&customer.country)) {
        return Ok(TaxDecision::zero(Treatment::NonEu, Some(NOTE_NOT_TAXABLE)));
    }
    // A VAT id only counts once it was confirmed valid: an unchecked or invalid id leaves the
    // supplier liable for the tax, so such a business is taxed like a consumer.
    if customer.is_business() && !customer.vat_id.trim().is_empty() && customer.vat_id_valid {
        return Ok(TaxDecision {
            rate: Decimal::ZERO,
            treatment: Treatment::ReverseCharge,
            note: Some(NOTE_REVERSE_CHARGE),
            reverse_charge_type: Some(REVERSE_CHARGE),
        });
    }
    if input.oss {
        // Destination rate: the group's explicit rate for that country, else the table's
        // rate for the group type (an `EU_*` row is one rate for all states, which cannot be
        // right for OSS, so it comes after the table).
        let country = customer.country.as_str();
        let rate = match input.rates.iter().find(|r| r.country == country) {
            Some(r) => r.rate,
            None => match input.group_type.eu_rate(country) {
                Some(rate) => rate,
                None => rate_for(input, country)?,
            },
        };
        return Ok(TaxDecision {
            rate,
            treatment: Treatment::EuConsumer,
            note: None,
            reverse_charge_type: None,
        });
    }
    domestic(Treatment::EuConsumer)
}

/// Parses a stored or sent rate such as `19`, `"7.7"` or the text of a JSON number
/// (`7.7`, `1e1`); `None` when it is not a number.
pub fn parse_rate(text: &str) -> Option<Decimal> {
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
        .map(|d| d.normalize())
}

/// Writes a rate as a JSON number, as the reference shows them (`19`, `7.7`), from its exact
/// decimal text: serde_json keeps numbers as text (`arbitrary_precision`), so no float is
/// involved. Display only, never used for arithmetic.
pub fn serialize_rate<S: Serializer>(rate: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    let text = rate.normalize().to_string();
    match text.parse::<serde_json::Number>() {
        Ok(n) => n.serialize(s),
        Err(_) => s.serialize_str(&text),
    }
}

/// `serialize_rate` for optional values (`null` when absent).
pub fn serialize_opt_rate<S: Serializer>(rate: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match rate {
        Some(r) => serialize_rate(r, s),
        None => s.serialize_none(),
    }
}
