//! Coupon discounts (reference 10 §6.3–6.5): the amount taken off an item for a billing period,
//! which periods a coupon covers, and whether a coupon may be redeemed. Pure; exact decimals.

use super::exact;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// What a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountKind {
    /// Percent of the item amount, 0 < x ≤ 100.
    Percentage(Decimal),
    /// A fixed amount off the item's total for the period, in one currency only.
    FixedAmount { amount: Decimal, currency: String },
}

/// How many billed periods a coupon covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// The first billed period only.
    Once,
    /// The first `n` billed periods (n ≥ 1).
    Limited(u32),
    /// Every period.
    Lifetime,
}

impl Frequency {
    /// Whether the next period is discounted when `periods_discounted` periods already were.
    pub fn applies(self, periods_discounted: u32) -> bool {
        self.remaining(periods_discounted) != Some(0)
    }

    /// Periods still to be discounted (`remainingPeriods`, 08 §2.5); `None` for lifetime.
    pub fn remaining(self, periods_discounted: u32) -> Option<u32> {
        match self {
            Frequency::Once => Some(1u32.saturating_sub(periods_discounted)),
            Frequency::Limited(n) => Some(n.saturating_sub(periods_discounted)),
            Frequency::Lifetime => None,
        }
    }
}

/// The terms of a coupon that billing applies to items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponTerms {
    pub kind: DiscountKind,
    pub frequency: Frequency,
    /// Product restriction; empty: every product.
    pub products: Vec<String>,
}

/// One subscription item's amount for one billing period, after pricing and proration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemAmount<'a> {
    pub product_id: &'a str,
    pub amount: Decimal,
    pub currency: &'a str,
}

impl CouponTerms {
    /// Whether the product restriction lets this product through.
    pub fn covers_product(&self, product_id: &str) -> bool {
        self.products.is_empty() || self.products.iter().any(|p| p == product_id)
    }

    /// Whether the coupon can discount this item at all: product and, for a fixed amount, the
    /// currency must match.
    pub fn matches(&self, item: &ItemAmount) -> bool {
        self.covers_product(item.product_id)
            && match &self.kind {
                DiscountKind::Percentage(_) => true,
                DiscountKind::FixedAmount { currency, .. } => currency == item.currency,
            }
    }

    /// The discount for an item's next period, given how many of its periods were discounted
    /// already; `Ok(None)` when the coupon does not apply (other product or currency, periods
    /// used up). The result is exact and never exceeds the item amount; the invoice builder
    /// rounds it as its own `discount` position (06 §6), and since rounding is monotonic the
    /// rounded net can still never go below zero.
    pub fn discount_for(
        &self,
        item: &ItemAmount,
        periods_discounted: u32,
    ) -> Result<Option<Decimal>, Inexact> {
        if !self.matches(item) || !self.frequency.applies(periods_discounted) {
            return Ok(None);
        }
        discount_amount(&self.kind, item.amount).map(Some)
    }
}

/// A percentage discount whose exact value does not fit a `Decimal` (an absurdly large or
/// over-precise amount): refused rather than rounded by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inexact;

impl From<Inexact> for crate::error::ApiError {
    fn from(_: Inexact) -> Self {
        crate::error::ApiError::Internal("discount: exact value does not fit a decimal".into())
    }
}

/// The amount taken off `amount` (the currency was checked by the caller): a percentage of it,
/// or the fixed amount capped at it. Nothing comes off an amount of zero or less (credits).
pub fn discount_amount(kind: &DiscountKind, amount: Decimal) -> Result<Decimal, Inexact> {
    if amount <= Decimal::ZERO {
        return Ok(Decimal::ZERO);
    }
    match kind {
        DiscountKind::Percentage(p) => {
            let p = (*p).clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
            // amount × p × 0.01, each step exact (no silent rounding past 28 digits).
            exact::mul(amount, p)
                .and_then(|x| exact::mul(x, Decimal::new(1, 2)))
                .ok_or(Inexact)
        }
        DiscountKind::FixedAmount { amount: fixed, .. } => {
            Ok((*fixed).max(Decimal::ZERO).min(amount))
        }
    }
}

/// The redemption limits of a coupon (10 §6.2) and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedemptionRules {
    pub enabled: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_redemptions: Option<i64>,
    pub max_redemptions_per_customer: Option<i64>,
}

/// How often a coupon was redeemed so far, in total and by the redeeming customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub total: i64,
    pub by_customer: i64,
}

/// Why a redemption is refused (10 §6.5), in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Disabled,
    Expired,
    /// `maxRedemptions` reached.
    Exhausted,
    /// `maxRedemptionsPerCustomer` reached for this customer.
    ExhaustedForCustomer,
    /// No item matches the product restriction (or, for a fixed amount, the currency).
    NoMatchingItem,
}

impl Refusal {
    /// The violation code a 422 carries.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Disabled => "coupon_disabled",
            Refusal::Expired => "coupon_expired",
            Refusal::Exhausted => "coupon_exhausted",
            Refusal::ExhaustedForCustomer => "coupon_exhausted_for_customer",
            Refusal::NoMatchingItem => "coupon_not_applicable",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::Disabled => "This coupon is disabled.",
            Refusal::Expired => "This coupon has expired.",
            Refusal::Exhausted => "This coupon has reached its maximum number of redemptions.",
            Refusal::ExhaustedForCustomer => {
                "This customer has already redeemed this coupon the maximum number of times."
            }
            Refusal::NoMatchingItem => "This coupon applies to none of the items.",
        }
    }
}

/// Whether a coupon may be redeemed `now` for items of `items` (`None`: not known yet, e.g. a
/// portal check before a cart exists). The first failing rule is returned.
pub fn check_redemption(
    coupon: &RedemptionRules,
    terms: &CouponTerms,
    now: DateTime<Utc>,
    usage: Usage,
    items: Option<&[ItemAmount]>,
) -> Result<(), Refusal> {
    if !coupon.enabled {
        return Err(Refusal::Disabled);
    }
    // The expiry instant itself already counts as expired.
    if coupon.expires_at.is_some_and(|at| at <= now) {
        return Err(Refusal::Expired);
    }
    if coupon.max_redemptions.is_some_and(|max| usage.total >= max) {
        return Err(Refusal::Exhausted);
    }
    if coupon
        .max_redemptions_per_customer
        .is_some_and(|max| usage.by_customer >= max)
    {
        return Err(Refusal::ExhaustedForCustomer);
    }
    if let Some(items) = items {
        if !items.iter().any(|item| terms.matches(item)) {
            return Err(Refusal::NoMatchingItem);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fixed(amount: Decimal, frequency: Frequency) -> CouponTerms {
        CouponTerms {
            kind: DiscountKind::FixedAmount {
                amount,
                currency: "EUR".into(),
            },
            frequency,
            products: vec![],
        }
    }

    fn item(amount: Decimal) -> ItemAmount<'static> {
        ItemAmount {
            product_id: "p1",
            amount,
            currency: "EUR",
        }
    }

    /// The net billed per period for `periods` periods: item minus discount, if any.
    fn billed(terms: &CouponTerms, amount: Decimal, periods: u32) -> Vec<Decimal> {
        let mut used = 0;
        (0..periods)
            .map(|_| match terms.discount_for(&item(amount), used).unwrap() {
                Some(d) => {
                    used += 1;
                    amount - d
                }
                None => amount,
            })
            .collect()
    }

    #[test]
    fn fixed_five_for_three_periods_then_full_price() {
        // 30.00 - 5.00 = 25.00 for periods 1-3, then 30.00.
        let terms = fixed(dec!(5.00), Frequency::Limited(3));
        assert_eq!(
            billed(&terms, dec!(30.00), 5),
            vec![
                dec!(25.00),
                dec!(25.00),
                dec!(25.00),
                dec!(30.00),
                dec!(30.00)
            ]
        );
        assert_eq!(terms.frequency.remaining(0), Some(3));
        assert_eq!(terms.frequency.remaining(3), Some(0));
    }

    #[test]
    fn fixed_amount_never_goes_below_zero() {
        // min(50.00, 30.00) = 30.00 off: 30.00 - 30.00 = 0.00.
        let terms = fixed(dec!(50.00), Frequency::Lifetime);
        assert_eq!(
            terms.discount_for(&item(dec!(30.00)), 0),
            Ok(Some(dec!(30.00)))
        );
        assert_eq!(billed(&terms, dec!(30.00), 2), vec![dec!(0.00), dec!(0.00)]);
        // A credit (negative amount) is never discounted further.
        assert_eq!(terms.discount_for(&item(dec!(-10)), 0), Ok(Some(dec!(0))));
    }

    #[test]
    fn percentage_of_the_item_amount() {
        // 20 % of 30.00 = 6.00; 30.00 - 6.00 = 24.00.
        let terms = CouponTerms {
            kind: DiscountKind::Percentage(dec!(20)),
            frequency: Frequency::Once,
            products: vec![],
        };
        assert_eq!(
            terms.discount_for(&item(dec!(30.00)), 0),
            Ok(Some(dec!(6.00)))
        );
        assert_eq!(
            billed(&terms, dec!(30.00), 2),
            vec![dec!(24.00), dec!(30.00)]
        );
        // Exact, unrounded: 12.5 % of 9.99 = 1.24875 (the invoice line rounds to 1.25).
        let kind = DiscountKind::Percentage(dec!(12.5));
        assert_eq!(discount_amount(&kind, dec!(9.99)), Ok(dec!(1.24875)));
        assert_eq!(
            discount_amount(&DiscountKind::Percentage(dec!(100)), dec!(9.99)),
            Ok(dec!(9.99))
        );
        // Too many digits for an exact result: refused, never rounded (or a panic).
        let huge = Decimal::MAX;
        assert_eq!(
            discount_amount(&DiscountKind::Percentage(dec!(12.5)), huge),
            Err(Inexact)
        );
    }

    #[test]
    fn frequencies_cover_their_periods() {
        assert!(Frequency::Once.applies(0) && !Frequency::Once.applies(1));
        assert!(Frequency::Limited(2).applies(1) && !Frequency::Limited(2).applies(2));
        assert!(Frequency::Lifetime.applies(u32::MAX));
        assert_eq!(Frequency::Lifetime.remaining(7), None);
        assert_eq!(Frequency::Once.remaining(5), Some(0));
    }

    #[test]
    fn restriction_to_products_and_currency() {
        let mut terms = fixed(dec!(5), Frequency::Lifetime);
        terms.products = vec!["p2".into()];
        assert_eq!(terms.discount_for(&item(dec!(30)), 0), Ok(None));
        terms.products.push("p1".into());
        assert_eq!(terms.discount_for(&item(dec!(30)), 0), Ok(Some(dec!(5))));
        let usd = ItemAmount {
            currency: "USD",
            ..item(dec!(30))
        };
        assert_eq!(terms.discount_for(&usd, 0), Ok(None));
        let pct = CouponTerms {
            kind: DiscountKind::Percentage(dec!(10)),
            ..terms
        };
        assert_eq!(pct.discount_for(&usd, 0), Ok(Some(dec!(3.0))));
    }

    #[test]
    fn redemption_rules_report_the_failing_rule() {
        let now = crate::domain::time::parse("2026-03-01T12:00:00Z").unwrap();
        let open = RedemptionRules {
            enabled: true,
            expires_at: None,
            max_redemptions: None,
            max_redemptions_per_customer: None,
        };
        let terms = fixed(dec!(5), Frequency::Once);
        let check = |rules: &RedemptionRules, usage, items| {
            check_redemption(rules, &terms, now, usage, items)
        };
        let used = |total, by_customer| Usage { total, by_customer };
        assert_eq!(check(&open, used(1000, 1000), None), Ok(()));
        let disabled = RedemptionRules {
            enabled: false,
            ..open.clone()
        };
        assert_eq!(
            check(&disabled, Usage::default(), None),
            Err(Refusal::Disabled)
        );
        let expiring = |at: &str| RedemptionRules {
            expires_at: crate::domain::time::parse(at),
            ..open.clone()
        };
        assert_eq!(
            check(&expiring("2026-03-01T12:00:00Z"), Usage::default(), None),
            Err(Refusal::Expired)
        );
        assert_eq!(
            check(&expiring("2026-03-01T12:00:01Z"), Usage::default(), None),
            Ok(())
        );
        let limited = RedemptionRules {
            max_redemptions: Some(3),
            max_redemptions_per_customer: Some(1),
            ..open.clone()
        };
        assert_eq!(check(&limited, used(2, 0), None), Ok(()));
        assert_eq!(check(&limited, used(3, 0), None), Err(Refusal::Exhausted));
        assert_eq!(
            check(&limited, used(2, 1), None),
            Err(Refusal::ExhaustedForCustomer)
        );
        let usd = [ItemAmount {
            product_id: "p1",
            amount: dec!(30),
            currency: "USD",
        }];
        assert_eq!(
            check(&open, Usage::default(), Some(&usd)),
            Err(Refusal::NoMatchingItem)
        );
        assert_eq!(
            check(&open, Usage::default(), Some(&[item(dec!(30))])),
            Ok(())
        );
        assert_eq!(Refusal::Expired.code(), "coupon_expired");
    }
}
