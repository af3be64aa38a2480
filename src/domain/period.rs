//! Billing intervals (`<n><D|W|M|Y>`), periods anchored on a start date with month-end clamping,
//! and proration by days with exact half-away-from-zero rounding (DESIGN §6, reference 08 §7).
//!
//! All of it is calendar math on `chrono::NaiveDate`: the caller converts to the tenant's time
//! zone first, so there are no clocks, offsets or DST transitions in here.

use super::exact;
use super::money::Currency;
use chrono::{Days, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;

/// The unit of a billing interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
    Month,
    Year,
}

/// Upper bound on `n` in `<n><unit>`: keeps every date computation far inside chrono's range
/// (and no business bills every 10,000 years).
pub const MAX_COUNT: u32 = 9999;

/// A billing interval such as `1M`, `3M`, `1Y`, `14D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub count: u32,
    pub unit: Unit,
}

impl Interval {
    /// Parses `<n><D|W|M|Y>` with 1 ≤ n ≤ 9999, digits without leading zeros, upper-case unit
    /// letter. Strict on purpose: the stored text is the canonical form, so `"01M"` or `"1m"`
    /// would be two spellings of one interval.
    pub fn parse(s: &str) -> Option<Interval> {
        // Match the last byte before slicing: only an ASCII letter makes `len - 1` a char
        // boundary, so `"1ä"` is refused instead of panicking.
        let unit = match s.as_bytes().last()? {
            b'D' => Unit::Day,
            b'W' => Unit::Week,
            b'M' => Unit::Month,
            b'Y' => Unit::Year,
            _ => return None,
        };
        let digits = &s[..s.len() - 1];
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let count: u32 = digits.parse().ok()?;
        (count <= MAX_COUNT).then_some(Interval { count, unit })
    }

    /// `anchor` plus `k` whole intervals, always computed from the anchor (never by stepping
    /// from the previous period), so a clamped month end does not drift: monthly from Jan 31
    /// gives Feb 28 (29), Mar 31, Apr 30. Years are 12 months, so Feb 29 + 1Y = Feb 28.
    /// `None` only beyond chrono's date range.
    pub fn advance(&self, anchor: NaiveDate, k: u32) -> Option<NaiveDate> {
        let n = self.count.checked_mul(k)?;
        match self.unit {
            Unit::Day => anchor.checked_add_days(Days::new(u64::from(n))),
            Unit::Week => anchor.checked_add_days(Days::new(u64::from(n) * 7)),
            // chrono clamps the day to the target month's length.
            Unit::Month => anchor.checked_add_months(Months::new(n)),
            Unit::Year => anchor.checked_add_months(Months::new(n.checked_mul(12)?)),
        }
    }

    /// The `k`-th period (0 = the first) of a schedule anchored on `anchor`.
    pub fn period(&self, anchor: NaiveDate, k: u32) -> Option<Period> {
        Some(Period {
            start: self.advance(anchor, k)?,
            end: self.advance(anchor, k.checked_add(1)?)?,
        })
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            Unit::Day => 'D',
            Unit::Week => 'W',
            Unit::Month => 'M',
            Unit::Year => 'Y',
        };
        write!(f, "{}{unit}", self.count)
    }
}

/// A billing period: `start` inclusive, `end` exclusive (the next period's start). Invoices
/// print `start` to `last_day()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// The last day that belongs to the period.
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.end)
    }

    /// Number of calendar days in the period (Jan 1 – Jan 31 = 31).
    pub fn days(&self) -> u32 {
        days_between(self.start, self.end)
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day < self.end
    }
}

/// Whole days from `from` (inclusive) to `until` (exclusive); 0 when `until` is not later.
pub fn days_between(from: NaiveDate, until: NaiveDate) -> u32 {
    u32::try_from((until - from).num_days()).unwrap_or(0)
}

/// `amount × days_covered / days_in_period` (DESIGN §6), multiplying first so the only inexact
/// step is the final division, carried to 28 significant digits. Use it to show or to sum
/// prorated values; use [`prorate_rounded`] for the amount that is billed. `None` when
/// `days_in_period` is 0, `days_covered` exceeds it, or on overflow.
pub fn prorate(amount: Decimal, days_covered: u32, days_in_period: u32) -> Option<Decimal> {
    if days_in_period == 0 || days_covered > days_in_period {
        return None;
    }
    exact::mul(amount, Decimal::from(days_covered))?.checked_div(Decimal::from(days_in_period))
}

/// The billed prorated amount: `amount × days_covered / days_in_period` rounded once, at the
/// end, to the currency's minor unit, half away from zero: exactly, see [`round_ratio`].
pub fn prorate_rounded(
    amount: Decimal,
    days_covered: u32,
    days_in_period: u32,
    currency: Currency,
) -> Option<Decimal> {
    if days_in_period == 0 || days_covered > days_in_period {
        return None;
    }
    let numerator = exact::mul(amount, Decimal::from(days_covered))?;
    round_ratio(numerator, Decimal::from(days_in_period), currency)
}

/// `numerator / denominator` rounded half away from zero to the currency's minor unit, exactly.
///
/// Why not just `currency.round(n / d)`: a quotient such as 10/3 has no finite decimal form;
/// `Decimal` stops at 28 digits. To be sure that cut-off never moves a value across a rounding
/// midpoint, the candidate `r` is checked with exact multiplications only: the true quotient
/// rounds to `r` iff `(r − ½ unit)·d ≤ n < (r + ½ unit)·d` (for n ≥ 0; the sign is symmetric).
/// Fair billing uses it as `round_ratio(Σ price(qᵢ) × daysᵢ, days)`. `None` when the
/// denominator is not positive or on overflow.
pub fn round_ratio(
    numerator: Decimal,
    denominator: Decimal,
    currency: Currency,
) -> Option<Decimal> {
    if denominator <= Decimal::ZERO {
        return None;
    }
    let n = numerator.abs();
    let unit = Decimal::new(1, currency.minor_digits);
    let half = unit.checked_div(Decimal::TWO)?;
    let mut r = n.checked_div(denominator)?.round_dp_with_strategy(
        currency.minor_digits,
        RoundingStrategy::MidpointAwayFromZero,
    );
    // At most one step is ever needed; the loop bound only guards against surprises.
    for _ in 0..3 {
        let low = exact::mul(exact::sub(r, half)?, denominator)?;
        let high = exact::mul(exact::add(r, half)?, denominator)?;
        if n < low {
            r = exact::sub(r, unit)?;
        } else if n >= high {
            r = exact::add(r, unit)?;
        } else {
            break;
        }
    }
    Some(if numerator.is_sign_negative() { -r } else { r })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn parses_intervals_strictly() {
        let m = Interval::parse("1M").unwrap();
        assert_eq!((m.count, m.unit), (1, Unit::Month));
        assert_eq!(Interval::parse("14D").unwrap().unit, Unit::Day);
        assert_eq!(Interval::parse("2W").unwrap().unit, Unit::Week);
        assert_eq!(Interval::parse("9999Y").unwrap().count, 9999);
        for s in ["3M", "1Y", "14D", "2W"] {
            assert_eq!(Interval::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "",
            "M",
            "0M",
            "01M",
            "1m",
            "1",
            "-1M",
            "1.5M",
            "1H",
            "10000D",
            " 1M",
            "1M ",
            "1MM",
            "99999999999M",
            "1ä",
            "ä",
        ] {
            assert_eq!(Interval::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn months_clamp_to_the_month_end_without_drift() {
        let monthly = Interval::parse("1M").unwrap();
        let jan31 = d("2026-01-31");
        // 2026 is not a leap year: Feb has 28 days.
        assert_eq!(monthly.advance(jan31, 1), Some(d("2026-02-28")));
        // Anchored on Jan 31, not on Feb 28: + 2M is Mar 31, not Mar 28.
        assert_eq!(monthly.advance(jan31, 2), Some(d("2026-03-31")));
        assert_eq!(monthly.advance(jan31, 3), Some(d("2026-04-30")));
        assert_eq!(monthly.advance(jan31, 4), Some(d("2026-05-31")));
        // Leap year 2028: Feb 29.
        assert_eq!(monthly.advance(d("2028-01-31"), 1), Some(d("2028-02-29")));
        // Quarterly from Nov 30: Feb 28, May 30.
        let quarterly = Interval::parse("3M").unwrap();
        assert_eq!(quarterly.advance(d("2025-11-30"), 1), Some(d("2026-02-28")));
        assert_eq!(quarterly.advance(d("2025-11-30"), 2), Some(d("2026-05-30")));
        // Crossing a year: Dec 31 + 2M = Feb 28.
        assert_eq!(monthly.advance(d("2025-12-31"), 2), Some(d("2026-02-28")));
    }

    #[test]
    fn years_from_a_leap_day() {
        let yearly = Interval::parse("1Y").unwrap();
        let feb29 = d("2024-02-29");
        assert_eq!(yearly.advance(feb29, 1), Some(d("2025-02-28")));
        assert_eq!(yearly.advance(feb29, 4), Some(d("2028-02-29")));
        assert_eq!(
            Interval::parse("4Y").unwrap().advance(feb29, 1),
            Some(d("2028-02-29"))
        );
        // 2100 is not a leap year (divisible by 100, not by 400).
        assert_eq!(
            Interval::parse("76Y").unwrap().advance(feb29, 1),
            Some(d("2100-02-28"))
        );
    }

    #[test]
    fn days_and_weeks() {
        let two_weeks = Interval::parse("2W").unwrap();
        assert_eq!(two_weeks.advance(d("2026-02-20"), 1), Some(d("2026-03-06")));
        let p = Interval::parse("14D")
            .unwrap()
            .period(d("2026-03-25"), 0)
            .unwrap();
        assert_eq!(
            (p.start, p.end, p.last_day()),
            (d("2026-03-25"), d("2026-04-08"), d("2026-04-07"))
        );
        assert_eq!(p.days(), 14);
    }

    #[test]
    fn periods_and_their_days() {
        let monthly = Interval::parse("1M").unwrap();
        let feb = monthly.period(d("2026-01-31"), 1).unwrap();
        // Feb 28 .. Mar 30 inclusive: the period ends where the next (Mar 31) starts.
        assert_eq!(
            (feb.start, feb.last_day()),
            (d("2026-02-28"), d("2026-03-30"))
        );
        assert_eq!(feb.days(), 31);
        let jan = monthly.period(d("2026-01-01"), 0).unwrap();
        assert_eq!(jan.days(), 31);
        assert!(jan.contains(d("2026-01-31")) && !jan.contains(d("2026-02-01")));
        assert_eq!(
            Interval::parse("1Y")
                .unwrap()
                .period(d("2028-01-01"), 0)
                .unwrap()
                .days(),
            366
        );
        assert_eq!(days_between(d("2026-02-01"), d("2026-01-01")), 0);
    }

    #[test]
    fn proration_is_exact_until_the_final_rounding() {
        // 30.00 × 14 / 30 = 420.00 / 30 = 14.00
        assert_eq!(prorate(dec!(30.00), 14, 30), Some(dec!(14.00)));
        assert_eq!(
            prorate_rounded(dec!(30.00), 14, 30, eur()),
            Some(dec!(14.00))
        );
        // 10.00 × 1 / 3 = 3.3333… -> 3.33
        assert_eq!(
            prorate(dec!(10.00), 1, 3).unwrap().round_dp(4),
            dec!(3.3333)
        );
        assert_eq!(prorate_rounded(dec!(10.00), 1, 3, eur()), Some(dec!(3.33)));
        // 10.00 × 2 / 3 = 6.6666… -> 6.67
        assert_eq!(prorate_rounded(dec!(10.00), 2, 3, eur()), Some(dec!(6.67)));
        // Half a cent rounds away from zero: 10.01 × 15 / 30 = 150.15 / 30 = 5.005 -> 5.01
        // (banker's rounding would give 5.00).
        assert_eq!(prorate(dec!(10.01), 15, 30), Some(dec!(5.005)));
        assert_eq!(
            prorate_rounded(dec!(10.01), 15, 30, eur()),
            Some(dec!(5.01))
        );
        assert_eq!(
            prorate_rounded(dec!(-10.01), 15, 30, eur()),
            Some(dec!(-5.01))
        );
        // Reference 08 §7: 30.00 × 12 / 31 = 360.00 / 31 = 11.6129… -> 11.61
        assert_eq!(
            prorate_rounded(dec!(30.00), 12, 31, eur()),
            Some(dec!(11.61))
        );
        // JPY has no minor unit: 1000 × 1 / 3 = 333.33… -> 333; 1001 × 1 / 2 = 500.5 -> 501.
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(prorate_rounded(dec!(1000), 1, 3, jpy), Some(dec!(333)));
        assert_eq!(prorate_rounded(dec!(1001), 1, 2, jpy), Some(dec!(501)));
        // A full period is the amount itself; nothing covered is nothing.
        assert_eq!(
            prorate_rounded(dec!(29.99), 31, 31, eur()),
            Some(dec!(29.99))
        );
        assert_eq!(prorate_rounded(dec!(29.99), 0, 31, eur()), Some(dec!(0.00)));
        assert_eq!(prorate(dec!(1), 0, 0), None);
        assert_eq!(prorate(dec!(1), 32, 31), None);
    }

    #[test]
    fn round_ratio_is_exact_where_28_digits_are_not() {
        // 0.025 exactly: half a cent -> 0.03.
        assert_eq!(round_ratio(dec!(0.05), dec!(2), eur()), Some(dec!(0.03)));
        // A sub-cent numerator with a large day count: 0.0000000155 × 31 / 31 stays 0.00.
        assert_eq!(
            round_ratio(dec!(0.0000004805), dec!(31), eur()),
            Some(dec!(0.00))
        );
        // Just below a midpoint: (0.005 × 7 − 10⁻²⁰) / 7 = 0.0049999… -> 0.00, and exactly at
        // the midpoint -> 0.01.
        let just_below = dec!(0.035) - dec!(0.00000000000000000001);
        assert_eq!(round_ratio(just_below, dec!(7), eur()), Some(dec!(0.00)));
        assert_eq!(round_ratio(dec!(0.035), dec!(7), eur()), Some(dec!(0.01)));
        // Where 28 digits are not enough: (0.035 − 10⁻²⁸) / 7 = 0.00499…99857… lies below the
        // midpoint, but `Decimal` division rounds its last digit up to 0.005 exactly; the
        // exact check corrects the naive 0.01 to 0.00.
        let tiny_below = dec!(0.035) - Decimal::new(1, 28);
        assert_eq!(
            (tiny_below / dec!(7))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
            dec!(0.01),
            "the naive way is wrong here"
        );
        assert_eq!(round_ratio(tiny_below, dec!(7), eur()), Some(dec!(0.00)));
        assert_eq!(round_ratio(-tiny_below, dec!(7), eur()), Some(dec!(0.00)));
        assert_eq!(round_ratio(dec!(1), dec!(0), eur()), None);
    }

    #[test]
    fn quarterly_from_a_leap_day_never_drifts() {
        // Counted from the anchor each time: May 29, Aug 29, Nov 29, then Feb 28 2029 (no Feb 29)
        // and back to May 29, not May 28.
        let q = Interval::parse("3M").unwrap();
        let anchor = d("2028-02-29");
        let starts: Vec<_> = (1..=5).map(|k| q.advance(anchor, k).unwrap()).collect();
        assert_eq!(
            starts,
            [
                "2028-05-29",
                "2028-08-29",
                "2028-11-29",
                "2029-02-28",
                "2029-05-29"
            ]
            .map(d)
        );
    }

    #[test]
    fn weekly_periods_across_the_berlin_dst_changes() {
        use chrono::{Datelike, TimeZone};
        let berlin = chrono_tz::Europe::Berlin;
        // Periods are calendar dates, so the 23-hour day of 29 Mar 2026 and the 25-hour day of
        // 25 Oct 2026 still give 7-day weeks starting on Mondays.
        let w = Interval::parse("1W").unwrap();
        for anchor in [d("2026-03-23"), d("2026-10-19")] {
            for k in 0..3 {
                let p = w.period(anchor, k).unwrap();
                assert_eq!(p.days(), 7);
                assert_eq!(p.start.weekday(), chrono::Weekday::Mon);
            }
        }
        // The date a billing run sees is the tenant's local date: 00:30 on the DST days in
        // Berlin is still 22:30 / 23:30 UTC of the day before.
        let spring = chrono::Utc
            .with_ymd_and_hms(2026, 3, 28, 23, 30, 0)
            .unwrap();
        assert_eq!(spring.with_timezone(&berlin).date_naive(), d("2026-03-29"));
        let autumn = chrono::Utc
            .with_ymd_and_hms(2026, 10, 24, 22, 30, 0)
            .unwrap();
        assert_eq!(autumn.with_timezone(&berlin).date_naive(), d("2026-10-25"));
        // And the week containing the spring change is billed from its Monday like any other.
        let p = w.period(d("2026-03-23"), 0).unwrap();
        assert!(p.contains(d("2026-03-29")));
        assert_eq!(p.last_day(), d("2026-03-29"));
    }
}
