//! Money rules of a manual payment (reference 06 §1.13, §1.16): exact amounts in minor units and
//! what a payment does to an invoice's amount due. Pure: no database, no HTTP.

use crate::domain::money::Currency;
use rust_decimal::Decimal;

/// The gateway of a payment recorded without a payment method: money that arrived by bank
/// transfer outside kontor's own collection (the "manual bank transfer").
pub const MANUAL_GATEWAY: &str = "bank_transfer";

/// Why an amount cannot be booked; each maps to one violation on the amount's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// More fractional digits than the currency has (e.g. 10.005 EUR): nobody can pay a
    /// fraction of a cent, and rounding it silently would book money that never arrived.
    TooPrecise,
    /// Zero or negative where a positive amount is needed.
    NotPositive,
    /// Negative where zero is allowed (fees).
    Negative,
    /// More than is still due; the payload is the amount due in minor units.
    ExceedsUnpaid(i64),
    /// Beyond what an i64 of minor units holds.
    TooLarge,
}

impl AmountError {
    pub fn code(self) -> &'static str {
        match self {
            AmountError::TooPrecise => "too_many_decimals",
            AmountError::NotPositive => "not_positive",
            AmountError::Negative => "negative",
            AmountError::ExceedsUnpaid(_) => "exceeds_unpaid_amount",
            AmountError::TooLarge => "too_large",
        }
    }

    pub fn message(self, currency: Currency) -> String {
        match self {
            AmountError::TooPrecise => format!(
                "This value may have at most {} digits after the dot in {}.",
                currency.minor_digits, currency.code
            ),
            AmountError::NotPositive => "This value should be greater than 0.".into(),
            AmountError::Negative => "This value should be 0 or more.".into(),
            AmountError::ExceedsUnpaid(due) => format!(
                "This value exceeds the unpaid amount of {} {}.",
                currency.from_minor(due),
                currency.code
            ),
            AmountError::TooLarge => "This value is too large.".into(),
        }
    }
}

/// The exact number of minor units of `value`; never rounds.
pub fn exact_minor(value: Decimal, currency: Currency) -> Result<i64, AmountError> {
    if value.normalize().scale() > currency.minor_digits {
        return Err(AmountError::TooPrecise);
    }
    currency.to_minor(value).ok_or(AmountError::TooLarge)
}

/// A payment amount in minor units: positive, exact, and at most `unpaid`.
pub fn payment_minor(value: Decimal, currency: Currency, unpaid: i64) -> Result<i64, AmountError> {
    let minor = exact_minor(value, currency)?;
    if minor <= 0 {
        return Err(AmountError::NotPositive);
    }
    if minor > unpaid {
        return Err(AmountError::ExceedsUnpaid(unpaid));
    }
    Ok(minor)
}

/// A fee in minor units: informational, exact, never negative.
pub fn fee_minor(value: Decimal, currency: Currency) -> Result<i64, AmountError> {
    let minor = exact_minor(value, currency)?;
    if minor < 0 {
        return Err(AmountError::Negative);
    }
    Ok(minor)
}

/// The invoice after a payment of `amount` on `unpaid` (both minor units, amount already
/// checked by `payment_minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub unpaid_after: i64,
    /// The payments now cover the amount due: STATUS_PAID, `payDate`, `invoice.paid`.
    pub fully_paid: bool,
}

pub fn settle(unpaid: i64, amount: i64) -> Settlement {
    let unpaid_after = unpaid - amount;
    Settlement {
        unpaid_after,
        fully_paid: unpaid_after == 0,
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
    fn amounts_are_exact_minor_units() {
        assert_eq!(exact_minor(dec!(119.00), eur()), Ok(11900));
        assert_eq!(exact_minor(dec!(0.1), eur()), Ok(10));
        // Trailing zeros beyond the minor digits are still exact.
        assert_eq!(exact_minor(dec!(5.0000), eur()), Ok(500));
        assert_eq!(
            exact_minor(dec!(10.005), eur()),
            Err(AmountError::TooPrecise)
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(exact_minor(dec!(1200), jpy), Ok(1200));
        assert_eq!(exact_minor(dec!(1200.5), jpy), Err(AmountError::TooPrecise));
    }

    #[test]
    fn payments_are_positive_and_at_most_unpaid() {
        assert_eq!(payment_minor(dec!(50), eur(), 11900), Ok(5000));
        assert_eq!(payment_minor(dec!(119.00), eur(), 11900), Ok(11900));
        assert_eq!(
            payment_minor(dec!(119.01), eur(), 11900),
            Err(AmountError::ExceedsUnpaid(11900))
        );
        assert_eq!(
            payment_minor(dec!(0), eur(), 11900),
            Err(AmountError::NotPositive)
        );
        assert_eq!(
            payment_minor(dec!(-1), eur(), 11900),
            Err(AmountError::NotPositive)
        );
        assert_eq!(
            AmountError::ExceedsUnpaid(11900).message(eur()),
            "This value exceeds the unpaid amount of 119.00 EUR."
        );
    }

    #[test]
    fn fees_may_be_zero_not_negative() {
        assert_eq!(fee_minor(dec!(0), eur()), Ok(0));
        assert_eq!(fee_minor(dec!(1.25), eur()), Ok(125));
        assert_eq!(fee_minor(dec!(-0.01), eur()), Err(AmountError::Negative));
    }

    #[test]
    fn partial_payments_add_up_to_paid() {
        // 119.00 due: 50.00 + 69.00 leaves 0 and only the second one pays the invoice.
        let first = settle(11900, 5000);
        assert_eq!(
            first,
            Settlement {
                unpaid_after: 6900,
                fully_paid: false
            }
        );
        let second = settle(first.unpaid_after, 6900);
        assert_eq!(
            second,
            Settlement {
                unpaid_after: 0,
                fully_paid: true
            }
        );
    }
}
