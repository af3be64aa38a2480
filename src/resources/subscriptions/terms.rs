//! Contract terms (reference 08 §1.12): the `periods` object and the earliest cancellation date
//! (`next_possible`). Pure calendar math on tenant-local dates, unit-tested with the reference's
//! worked example.

use crate::domain::period::{Interval, Unit};
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The four duration strings as stored (`<n><D|W|M|Y>`), `None` = not set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Terms {
    pub contract_period: Option<String>,
    pub cancellation_period: Option<String>,
    pub later_contract_period: Option<String>,
    pub later_cancellation_period: Option<String>,
}

/// The keys of a `periods` object, in the order they are reported.
pub const KEYS: [&str; 4] = [
    "contractPeriod",
    "cancellationPeriod",
    "laterContractPeriod",
    "laterCancellationPeriod",
];

impl Terms {
    /// The read shape: later terms default to the first ones (08 §1.12).
    pub fn rendered(&self) -> Terms {
        Terms {
            contract_period: self.contract_period.clone(),
            cancellation_period: self.cancellation_period.clone(),
            later_contract_period: self
                .later_contract_period
                .clone()
                .or_else(|| self.contract_period.clone()),
            later_cancellation_period: self
                .later_cancellation_period
                .clone()
                .or_else(|| self.cancellation_period.clone()),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Terms::default()
    }
}

/// `date` minus `n` intervals, clamped to the month end like `Interval::advance` (so
/// 2027-05-31 − 3M = 2027-02-28).
pub fn subtract(date: NaiveDate, i: Interval) -> Option<NaiveDate> {
    match i.unit {
        Unit::Day => date.checked_sub_days(Days::new(u64::from(i.count))),
        Unit::Week => date.checked_sub_days(Days::new(u64::from(i.count) * 7)),
        Unit::Month => date.checked_sub_months(Months::new(i.count)),
        Unit::Year => date.checked_sub_months(Months::new(i.count.checked_mul(12)?)),
    }
}

/// The default notice when none is set: one day, so a cancellation reaches the end of the
/// current term as long as it arrives before that term's last day is over.
const ONE_DAY: Interval = Interval {
    count: 1,
    unit: Unit::Day,
};

/// Upper bound on term boundaries tried: a daily term over 270 years. Only absurd data hits it.
const MAX_TERMS: u32 = 100_000;

/// The last covered day of a `next_possible` cancellation declared on `today`.
///
/// With a `contractPeriod`: boundaries B1 = `contract_start` + contractPeriod, then
/// B(k+1) = B1 + k × laterContractPeriod (computed from B1, so month ends do not drift). The
/// first Bk with `today` ≤ Bk − notice wins (notice = cancellationPeriod for B1, the later one
/// after), and the last covered day is Bk − 1 day.
///
/// Without one, the term is the billing period: boundaries are `billing` = (anchor, interval)
/// periods, the anchor itself included (so a cancellation inside a trial ends before the first
/// billed day). Without an interval either (one-time charges), the end is `today`.
pub fn next_possible_end(
    terms: &Terms,
    contract_start: NaiveDate,
    billing: Option<(NaiveDate, Interval)>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let parse = |s: &Option<String>| s.as_deref().and_then(Interval::parse);
    let first_notice = parse(&terms.cancellation_period).unwrap_or(ONE_DAY);
    let later_notice = parse(&terms.later_cancellation_period).unwrap_or(first_notice);
    let boundary_ok =
        |b: NaiveDate, notice: Interval| subtract(b, notice).is_some_and(|d| today <= d);
    match parse(&terms.contract_period) {
        Some(first) => {
            let later = parse(&terms.later_contract_period).unwrap_or(first);
            let b1 = first.advance(contract_start, 1)?;
            if boundary_ok(b1, first_notice) {
                return b1.pred_opt();
            }
            (1..MAX_TERMS)
                .map_while(|k| later.advance(b1, k))
                .find(|b| boundary_ok(*b, later_notice))
                .and_then(|b| b.pred_opt())
        }
        None => match billing {
            Some((anchor, interval)) => (0..MAX_TERMS)
                .map_while(|k| interval.advance(anchor, k))
                .find(|b| boundary_ok(*b, first_notice))
                .and_then(|b| b.pred_opt()),
            None => Some(today),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn terms(c: &str, n: &str, lc: Option<&str>, ln: Option<&str>) -> Terms {
        Terms {
            contract_period: Some(c.into()),
            cancellation_period: Some(n.into()),
            later_contract_period: lc.map(Into::into),
            later_cancellation_period: ln.map(Into::into),
        }
    }

    #[test]
    fn reference_worked_example() {
        // 08 §1.12: start 2026-01-15, 12M term, 3M notice, renewals 1M with 1M notice.
        let t = terms("12M", "3M", Some("1M"), Some("1M"));
        let start = d("2026-01-15");
        // B1 = 2027-01-15, deadline 2026-10-15: in time, last covered day 2027-01-14.
        assert_eq!(
            next_possible_end(&t, start, None, d("2026-10-01")),
            Some(d("2027-01-14"))
        );
        // The deadline day itself is still in time.
        assert_eq!(
            next_possible_end(&t, start, None, d("2026-10-15")),
            Some(d("2027-01-14"))
        );
        // Too late for B1 -> B2 = 2027-02-15 (deadline 2027-01-15): last day 2027-02-14.
        assert_eq!(
            next_possible_end(&t, start, None, d("2026-11-01")),
            Some(d("2027-02-14"))
        );
    }

    #[test]
    fn renewals_default_to_the_first_term() {
        // 12M/3M without later terms: B2 = 2028-01-15, deadline 2027-10-15.
        let t = terms("12M", "3M", None, None);
        assert_eq!(
            next_possible_end(&t, d("2026-01-15"), None, d("2026-10-16")),
            Some(d("2028-01-14"))
        );
    }

    #[test]
    fn without_terms_the_billing_period_ends_it() {
        // Monthly from Jan 31 (clamped: Feb 28, Mar 31): cancelled on Mar 5 -> last day Mar 30.
        let monthly = Interval::parse("1M").unwrap();
        let t = Terms::default();
        let billing = Some((d("2026-01-31"), monthly));
        assert_eq!(
            next_possible_end(&t, d("2026-01-31"), billing, d("2026-03-05")),
            Some(d("2026-03-30"))
        );
        // On the last day of a period (Feb 27, the day before Feb 28) the 1-day notice holds.
        assert_eq!(
            next_possible_end(&t, d("2026-01-31"), billing, d("2026-02-27")),
            Some(d("2026-02-27"))
        );
        assert_eq!(
            next_possible_end(&t, d("2026-01-31"), None, d("2026-02-27")),
            Some(d("2026-02-27"))
        );
    }

    #[test]
    fn subtract_clamps_to_month_end() {
        let three = Interval::parse("3M").unwrap();
        assert_eq!(subtract(d("2027-05-31"), three), Some(d("2027-02-28")));
        assert_eq!(
            Terms {
                contract_period: Some("1Y".into()),
                ..Terms::default()
            }
            .rendered()
            .later_contract_period,
            Some("1Y".into())
        );
    }
}
