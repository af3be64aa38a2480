//! Money: exact decimals (`rust_decimal`), ISO 4217 minor digits, half-away-from-zero rounding,
//! and the `{amount, currencyCode, precision}` JSON object of DESIGN §3.

use super::validate::CURRENCIES;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::str::FromStr;

/// Unit prices may carry up to this many fractional digits.
pub const MAX_FRACTION_DIGITS: u32 = 10;

/// An ISO 4217 currency with its number of minor-unit digits (EUR 2, JPY 0, KWD 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    pub minor_digits: u32,
}

impl Currency {
    pub fn parse(code: &str) -> Option<Currency> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(code, minor_digits)| Currency {
                code,
                minor_digits: *minor_digits,
            })
    }

    /// Rounds to the minor unit, half away from zero (EN 16931).
    pub fn round(&self, value: Decimal) -> Decimal {
        value.round_dp_with_strategy(self.minor_digits, RoundingStrategy::MidpointAwayFromZero)
    }

    /// The rounded value as an integer count of minor units (cents for EUR).
    /// `None` only for values beyond ±9.2 quintillion minor units.
    pub fn to_minor(&self, value: Decimal) -> Option<i64> {
        let scaled = self.round(value) * Decimal::from(10i64.pow(self.minor_digits));
        scaled.to_i64()
    }

    pub fn from_minor(&self, minor: i64) -> Decimal {
        Decimal::new(minor, self.minor_digits)
    }
}

/// Why a decimal string was refused; each maps to a violation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a plain decimal with a dot (`"9.99"`, `"-1"`, `"0.0025"`).
    NotANumber,
    /// More than `MAX_FRACTION_DIGITS` digits after the dot.
    TooPrecise,
}

impl DecimalError {
    pub fn code(self) -> &'static str {
        match self {
            DecimalError::NotANumber => "invalid_decimal",
            DecimalError::TooPrecise => "too_many_decimals",
        }
    }

    pub fn message(self) -> String {
        match self {
            DecimalError::NotANumber => {
                "This value should be a decimal number written as a string, e.g. \"9.99\".".into()
            }
            DecimalError::TooPrecise => {
                format!("This value may have at most {MAX_FRACTION_DIGITS} digits after the dot.")
            }
        }
    }
}

/// Parses a request amount such as `"9.99"`: optional sign, digits, optional dot and up to ten
/// fractional digits. No exponents, commas, spaces or thousands separators.
pub fn parse_decimal(s: &str) -> Result<Decimal, DecimalError> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !plain(int) || !plain(frac) || (digits.contains('.') && frac.is_empty()) {
        return Err(DecimalError::NotANumber);
    }
    if frac.len() > MAX_FRACTION_DIGITS as usize {
        return Err(DecimalError::TooPrecise);
    }
    Decimal::from_str(s).map_err(|_| DecimalError::NotANumber)
}

/// The Money JSON object: `amount` is the value × 10^`precision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: i64,
    pub currency_code: String,
    pub precision: u32,
}

impl Money {
    /// A total in minor units (invoice totals, transaction amounts): precision = minor digits.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money {
            amount: minor,
            currency_code: currency.code.to_string(),
            precision: currency.minor_digits,
        }
    }

    /// A total from an exact value, rounded to the minor unit.
    pub fn total(value: Decimal, currency: Currency) -> Option<Money> {
        Some(Money::from_minor(currency.to_minor(value)?, currency))
    }

    /// A unit price keeps its digits: precision = max(minor digits, digits stored), so
    /// `"0.0125"` EUR is `{amount: 125, precision: 4}`.
    pub fn unit_price(value: Decimal, currency: Currency) -> Option<Money> {
        let value = value.normalize();
        let precision = value.scale().max(currency.minor_digits);
        let amount = (value * Decimal::from(10i64.checked_pow(precision)?)).to_i64()?;
        Some(Money {
            amount,
            currency_code: currency.code.to_string(),
            precision,
        })
    }

    /// The exact value this object encodes.
    pub fn value(&self) -> Decimal {
        Decimal::new(self.amount, self.precision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn parses_decimal_strings_strictly() {
        assert_eq!(parse_decimal("9.99"), Ok(dec!(9.99)));
        assert_eq!(parse_decimal("-0.5"), Ok(dec!(-0.5)));
        assert_eq!(parse_decimal("0.0000000001"), Ok(dec!(0.0000000001)));
        assert_eq!(
            parse_decimal("0.00000000001"),
            Err(DecimalError::TooPrecise)
        );
        for bad in [
            "", "abc", "1,5", "1e3", " 1", "1.", ".5", "+1", "--1", "NaN",
        ] {
            assert_eq!(parse_decimal(bad), Err(DecimalError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn rounds_half_away_from_zero() {
        // 0.125 -> 0.13 and -0.125 -> -0.13 (banker's rounding would give 0.12).
        assert_eq!(eur().round(dec!(0.125)), dec!(0.13));
        assert_eq!(eur().round(dec!(-0.125)), dec!(-0.13));
        assert_eq!(eur().to_minor(dec!(19.994)), Some(1999));
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.to_minor(dec!(1234.5)), Some(1235));
        assert_eq!(Money::total(dec!(1234.5), jpy).unwrap().precision, 0);
    }

    #[test]
    fn money_json_shapes() {
        // Reference README §11: "0.0125" EUR -> amount 125, precision 4.
        let m = Money::unit_price(dec!(0.0125), eur()).unwrap();
        assert_eq!((m.amount, m.precision), (125, 4));
        let m = Money::unit_price(dec!(19.99), eur()).unwrap();
        assert_eq!((m.amount, m.precision), (1999, 2));
        let m = Money::unit_price(dec!(5), eur()).unwrap();
        assert_eq!((m.amount, m.precision), (500, 2));
        assert_eq!(
            serde_json::to_value(Money::from_minor(1190, eur())).unwrap(),
            serde_json::json!({"amount": 1190, "currencyCode": "EUR", "precision": 2})
        );
        assert_eq!(
            Money::unit_price(dec!(0.0025), eur()).unwrap().value(),
            dec!(0.0025)
        );
    }
}
