//! Period alignment for billing groups (reference 08 §4.3, §7): the periods of a subscription in
//! a group start on the group's date, and the first, partial period up to that date is prorated.
//!
//! Pure calendar math on local dates. kontor decisions:
//! - The group date is the day periods *start* on (the billing date when paying in advance):
//!   `start_of_month` the 1st, `end_of_month` the last day of the month, `start_of_year` 1 Jan,
//!   `end_of_year` 31 Dec, `custom` `customDay` (of `customMonth` when given). A day beyond a
//!   month's length clamps to its end, always computed from the group's day, so `end_of_month`
//!   never drifts (31 Jan, 28 Feb, 31 Mar, 30 Apr).
//! - Group dates follow the billing interval: a quarterly item in a `start_of_year` group starts
//!   periods on 1 Jan, 1 Apr, 1 Jul, 1 Oct; a monthly one on every 1st. Without a month
//!   (`start_of_month`, `end_of_month`, `custom` without `customMonth`) every month qualifies.
//! - The first period runs from the billing start to the first group date on or after it; it is
//!   prorated against the full period that ends on that date. A billing start on a group date
//!   has no partial period.
//! - Day and week intervals are not aligned (a group date is a day of a month): such items keep
//!   their own schedule from the billing start.

use crate::domain::period::{days_between, Interval, Period, Unit};
use chrono::{Datelike, Months, NaiveDate};

/// The alignment rule of a group: the day periods start on, and the month for yearly phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// 1–31; clamped to each month's length.
    pub day: u32,
    /// 1–12: the month group dates are counted from; `None` for every month.
    pub month: Option<u32>,
}

impl Rule {
    /// The rule of a group `type` (`customDay`/`customMonth` for `custom`); `None` for an
    /// unknown type or a `custom` group without a day.
    pub fn of(kind: &str, custom_day: Option<u32>, custom_month: Option<u32>) -> Option<Rule> {
        Some(match kind {
            "start_of_month" => Rule {
                day: 1,
                month: None,
            },
            "end_of_month" => Rule {
                day: 31,
                month: None,
            },
            "start_of_year" => Rule {
                day: 1,
                month: Some(1),
            },
            "end_of_year" => Rule {
                day: 31,
                month: Some(12),
            },
            "custom" => Rule {
                day: custom_day.filter(|d| (1..=31).contains(d))?,
                month: custom_month.filter(|m| (1..=12).contains(m)),
            },
            _ => return None,
        })
    }
}

/// The schedule of one item in a group: a possibly partial first period, then full periods of
/// the interval starting on group dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    start: NaiveDate,
    /// Month index (year × 12 + month − 1) of the first group date on or after `start`.
    first_month: i64,
    day: u32,
    /// Interval length in months.
    months: i64,
}

/// The first period and its proration: `first` is billed as `days / full_days` of a full
/// period (`full` is the whole period `first` is the tail of). `days == full_days` when the
/// billing start is a group date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstPeriod {
    pub first: Period,
    pub full: Period,
    pub days: u32,
    pub full_days: u32,
}

/// The date of `day` in month index `m`, clamped to the month's length.
fn clamped(m: i64, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(m.div_euclid(12)).ok()?;
    let month = u32::try_from(m.rem_euclid(12)).ok()? + 1;
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let last = first.checked_add_months(Months::new(1))?.pred_opt()?.day();
    NaiveDate::from_ymd_opt(year, month, day.min(last))
}

fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

impl Schedule {
    /// The aligned schedule of an item billed every `interval` from `start` in a group with
    /// `rule`; `None` for day and week intervals (not aligned) or beyond the calendar.
    pub fn new(start: NaiveDate, interval: Interval, rule: Rule) -> Option<Schedule> {
        let months = i64::from(match interval.unit {
            Unit::Month => interval.count,
            Unit::Year => interval.count.checked_mul(12)?,
            Unit::Day | Unit::Week => return None,
        });
        // Group dates repeat every `step` months: each interval, but at least once a year
        // when the group names a month (a 2-year item in a 1 Jan group starts on the first
        // 1 Jan after its start).
        let step = match rule.month {
            Some(_) => months.min(12),
            None => 1,
        };
        let phase = rule.month.map_or(0, |m| i64::from(m) - 1);
        let s = month_index(start);
        let first_month = (s..=s + 12 + step)
            .filter(|m| (m - phase).rem_euclid(step) == 0)
            .find(|m| clamped(*m, rule.day).is_some_and(|d| d >= start))?;
        Some(Schedule {
            start,
            first_month,
            day: rule.day,
            months,
        })
    }

    /// The first group date on or after the billing start.
    pub fn first_group_date(&self) -> Option<NaiveDate> {
        clamped(self.first_month, self.day)
    }

    /// The first period (partial unless the start is a group date) and its proration.
    pub fn first(&self) -> Option<FirstPeriod> {
        let aligned = self.first_group_date()?;
        if aligned == self.start {
            let p = self.period(0)?;
            return Some(FirstPeriod {
                first: p,
                full: p,
                days: p.days(),
                full_days: p.days(),
            });
        }
        let full = Period {
            start: clamped(self.first_month - self.months, self.day)?,
            end: aligned,
        };
        let first = Period {
            start: self.start,
            end: aligned,
        };
        Some(FirstPeriod {
            first,
            full,
            days: days_between(first.start, first.end),
            full_days: full.days(),
        })
    }

    /// The `k`-th period, 0 being the first (partial or not).
    pub fn period(&self, k: u32) -> Option<Period> {
        let aligned = self.first_group_date()?;
        // With a partial first period, period 1 is the first full one from the group date.
        let offset = if aligned == self.start {
            i64::from(k)
        } else if k == 0 {
            return Some(Period {
                start: self.start,
                end: aligned,
            });
        } else {
            i64::from(k) - 1
        };
        let m = self
            .first_month
            .checked_add(offset.checked_mul(self.months)?)?;
        Some(Period {
            start: clamped(m, self.day)?,
            end: clamped(m.checked_add(self.months)?, self.day)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn schedule(
        start: &str,
        interval: &str,
        kind: &str,
        day: Option<u32>,
        month: Option<u32>,
    ) -> Schedule {
        Schedule::new(
            d(start),
            Interval::parse(interval).unwrap(),
            Rule::of(kind, day, month).unwrap(),
        )
        .unwrap()
    }

    fn p(a: &str, b: &str) -> Period {
        Period {
            start: d(a),
            end: d(b),
        }
    }

    #[test]
    fn end_of_month_group_for_a_start_on_the_17th() {
        let s = schedule("2026-01-17", "1M", "end_of_month", None, None);
        let f = s.first().unwrap();
        // 17 Jan .. 30 Jan inclusive = 14 days of the period 31 Dec .. 30 Jan (31 days).
        assert_eq!(f.first, p("2026-01-17", "2026-01-31"));
        assert_eq!(f.full, p("2025-12-31", "2026-01-31"));
        assert_eq!((f.days, f.full_days), (14, 31));
        // Then month ends without drift: 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May.
        assert_eq!(s.period(1), Some(p("2026-01-31", "2026-02-28")));
        assert_eq!(s.period(2), Some(p("2026-02-28", "2026-03-31")));
        assert_eq!(s.period(3), Some(p("2026-03-31", "2026-04-30")));
        assert_eq!(s.period(4), Some(p("2026-04-30", "2026-05-31")));
        // In a 30-day month: 17 Apr .. 29 Apr = 13 of 30 days (31 Mar .. 29 Apr).
        let f = schedule("2026-04-17", "1M", "end_of_month", None, None)
            .first()
            .unwrap();
        assert_eq!((f.days, f.full_days), (13, 30));
        assert_eq!(f.full, p("2026-03-31", "2026-04-30"));
    }

    #[test]
    fn start_of_month_reference_example() {
        // 08 §7: start 20 Jan 2026, first period 20–31 Jan = 12 of 31 days, then from 1 Feb.
        let s = schedule("2026-01-20", "1M", "start_of_month", None, None);
        let f = s.first().unwrap();
        assert_eq!(f.first, p("2026-01-20", "2026-02-01"));
        assert_eq!((f.days, f.full_days), (12, 31));
        assert_eq!(s.period(1), Some(p("2026-02-01", "2026-03-01")));
        // A start on the group date: no partial period.
        let s = schedule("2026-02-01", "1M", "start_of_month", None, None);
        let f = s.first().unwrap();
        assert_eq!(f.first, p("2026-02-01", "2026-03-01"));
        assert_eq!((f.days, f.full_days), (28, 28));
        assert_eq!(s.period(1), Some(p("2026-03-01", "2026-04-01")));
    }

    #[test]
    fn yearly_groups_and_intervals() {
        // Yearly item in a 1 Jan group from 15 Mar 2026: 15 Mar .. 31 Dec = 292 of 365 days.
        let s = schedule("2026-03-15", "1Y", "start_of_year", None, None);
        let f = s.first().unwrap();
        assert_eq!(f.first, p("2026-03-15", "2027-01-01"));
        assert_eq!(f.full, p("2026-01-01", "2027-01-01"));
        assert_eq!((f.days, f.full_days), (292, 365));
        assert_eq!(s.period(1), Some(p("2027-01-01", "2028-01-01")));
        // end_of_year: periods start on 31 Dec.
        let s = schedule("2026-03-15", "1Y", "end_of_year", None, None);
        assert_eq!(s.first().unwrap().first, p("2026-03-15", "2026-12-31"));
        // Quarterly in a 1 Jan group: quarters.
        let s = schedule("2026-02-10", "3M", "start_of_year", None, None);
        let f = s.first().unwrap();
        assert_eq!(f.first, p("2026-02-10", "2026-04-01"));
        assert_eq!((f.days, f.full_days), (50, 90));
        assert_eq!(s.period(1), Some(p("2026-04-01", "2026-07-01")));
        // Monthly in a 1 Jan group: every 1st.
        let s = schedule("2026-02-10", "1M", "start_of_year", None, None);
        assert_eq!(s.first().unwrap().first, p("2026-02-10", "2026-03-01"));
    }

    #[test]
    fn custom_days_clamp_and_months() {
        // Day 30 each month from 10 Feb 2026: Feb has 28 days -> 28 Feb, then 30 Mar.
        let s = schedule("2026-02-10", "1M", "custom", Some(30), None);
        let f = s.first().unwrap();
        assert_eq!(f.first, p("2026-02-10", "2026-02-28"));
        assert_eq!(f.full, p("2026-01-30", "2026-02-28"));
        assert_eq!((f.days, f.full_days), (18, 29));
        assert_eq!(s.period(1), Some(p("2026-02-28", "2026-03-30")));
        // Yearly on 15 Jun.
        let s = schedule("2026-07-01", "1Y", "custom", Some(15), Some(6));
        assert_eq!(s.first().unwrap().first, p("2026-07-01", "2027-06-15"));
        assert_eq!(s.period(1), Some(p("2027-06-15", "2028-06-15")));
        // 29 Feb yearly clamps to 28 Feb outside leap years and returns in 2028.
        let s = schedule("2026-03-01", "1Y", "custom", Some(29), Some(2));
        assert_eq!(s.period(1), Some(p("2027-02-28", "2028-02-29")));
    }

    #[test]
    fn rules_and_unaligned_intervals() {
        assert_eq!(Rule::of("custom", None, None), None);
        assert_eq!(Rule::of("custom", Some(32), None), None);
        assert_eq!(Rule::of("weekly", None, None), None);
        let rule = Rule::of("start_of_month", None, None).unwrap();
        assert_eq!(
            Schedule::new(d("2026-01-05"), Interval::parse("14D").unwrap(), rule),
            None
        );
        assert_eq!(
            Schedule::new(d("2026-01-05"), Interval::parse("1W").unwrap(), rule),
            None
        );
    }
}
