//! Usage aggregation (reference 10 §2.3, §2.4): how the measurement values of one subscription
//! item become the quantity billed for a period, for all six aggregation types, plus the
//! day-weighted segments fair billing needs. Pure: the caller loads the values (see
//! `resources::subscription_measurements::store::quantity_for_period`).
//!
//! Periods are calendar dates in the tenant's time zone; values carry UTC instants (unix
//! milliseconds). A value belongs to the period whose local dates contain its local date, so
//! the window is [local midnight of `start`, local midnight of `end`) converted to UTC.

use crate::domain::exact;
use crate::domain::period::Period;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::HashSet;

/// The six aggregation types of a catalogue measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Count,
    CountUnique,
    Max,
    Sum,
    LastValue,
    Average,
}

impl Aggregation {
    pub fn parse(s: &str) -> Option<Aggregation> {
        Some(match s {
            "count" => Aggregation::Count,
            "count_unique" => Aggregation::CountUnique,
            "max" => Aggregation::Max,
            "sum" => Aggregation::Sum,
            "last_value" => Aggregation::LastValue,
            "average" => Aggregation::Average,
            _ => return None,
        })
    }

    /// Only `last_value` looks at values from before the period (it carries over).
    pub fn carries_over(self) -> bool {
        self == Aggregation::LastValue
    }
}

/// One reported value. `event` is the caller's event id (`count_unique`); values sent without
/// one are each their own event, so the store passes the value's own id instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Unix milliseconds, UTC.
    pub at: i64,
    pub quantity: Decimal,
    pub event: String,
}

/// A half-open window of UTC unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

impl Window {
    pub fn contains(&self, at: i64) -> bool {
        self.from <= at && at < self.to
    }
}

/// The UTC instant a local calendar day starts. Midnight may not exist (a DST gap at 00:00, as
/// in some American zones): then the day starts at the first local hour that does; an
/// ambiguous midnight takes the earlier instant.
pub fn day_start(day: NaiveDate, tz: Tz) -> i64 {
    for hour in 0..4 {
        if let Some(t) = day
            .and_hms_opt(hour, 0, 0)
            .and_then(|local| tz.from_local_datetime(&local).earliest())
        {
            return t.timestamp_millis();
        }
    }
    // No zone skips four hours; fall back to UTC midnight rather than fail.
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
}

/// The UTC window of a period of local dates.
pub fn window(period: Period, tz: Tz) -> Window {
    Window {
        from: day_start(period.start, tz),
        to: day_start(period.end, tz),
    }
}

/// The billed quantity of `samples` in `window`: 0 when nothing applies; `None` only when an
/// exact sum does not fit a `Decimal`. `samples` must be sorted by time, ties in the order the
/// values arrived (the last of equal instants is the latest). For `last_value` the samples may
/// start before the window; the others ignore anything outside it.
pub fn aggregate(kind: Aggregation, samples: &[Sample], window: Window) -> Option<Decimal> {
    let mut inside = samples.iter().filter(|s| window.contains(s.at));
    match kind {
        Aggregation::Count => Some(Decimal::from(inside.count())),
        Aggregation::CountUnique => {
            let distinct: HashSet<&str> = inside.map(|s| s.event.as_str()).collect();
            Some(Decimal::from(distinct.len()))
        }
        Aggregation::Max => Some(inside.map(|s| s.quantity).max().unwrap_or(Decimal::ZERO)),
        Aggregation::Sum => inside.try_fold(Decimal::ZERO, |acc, s| exact::add(acc, s.quantity)),
        Aggregation::Average => {
            let (sum, n) = inside.try_fold((Decimal::ZERO, 0u64), |(acc, n), s| {
                Some((exact::add(acc, s.quantity)?, n + 1))
            })?;
            // The one inexact step: a mean like 10/3 has no finite decimal; it is carried to
            // 28 significant digits and normalized. Pricing rounds the amount, not this.
            if n == 0 {
                Some(Decimal::ZERO)
            } else {
                sum.checked_div(Decimal::from(n)).map(|d| d.normalize())
            }
        }
        Aggregation::LastValue => Some(
            samples
                .iter()
                .rev()
                .find(|s| s.at < window.to)
                .map_or(Decimal::ZERO, |s| s.quantity),
        ),
    }
}

/// Fair billing (10 §2.4): the quantities in effect during the period with the number of days
/// each held, in order, adjacent equal quantities merged; the days add up to the period's.
/// The quantity of a day is the last value measured up to the end of that local day (an
/// upgrade at 15:00 counts for the whole day), carried over from before the period; days
/// before the first value ever have quantity 0. Only `last_value` changes within a period;
/// every other type yields one segment of the whole period with its aggregate.
pub fn fair_segments(
    kind: Aggregation,
    samples: &[Sample],
    period: Period,
    tz: Tz,
) -> Option<Vec<(Decimal, u32)>> {
    if kind != Aggregation::LastValue {
        let q = aggregate(kind, samples, window(period, tz))?;
        return Some(vec![(q, period.days())]);
    }
    let mut segments: Vec<(Decimal, u32)> = Vec::new();
    let mut current = Decimal::ZERO;
    let mut next = 0;
    let mut day = period.start;
    while day < period.end {
        let following = day.succ_opt()?;
        let end_of_day = day_start(following, tz);
        while next < samples.len() && samples[next].at < end_of_day {
            current = samples[next].quantity;
            next += 1;
        }
        match segments.last_mut() {
            Some((q, days)) if *q == current => *days += 1,
            _ => segments.push((current, 1)),
        }
        day = following;
    }
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    fn sample(t: &str, q: Decimal, event: &str) -> Sample {
        Sample {
            at: at(t),
            quantity: q,
            event: event.into(),
        }
    }

    fn march() -> Period {
        Period {
            start: d("2026-03-01"),
            end: d("2026-04-01"),
        }
    }

    /// Values around March 2026 in Berlin (UTC+1 until 29 Mar, UTC+2 after).
    fn values() -> Vec<Sample> {
        vec![
            // 28 Feb 23:30 UTC is 1 Mar 00:30 in Berlin: inside March.
            sample("2026-02-28T22:59:59Z", dec!(7), "a"),
            sample("2026-02-28T23:30:00Z", dec!(2), "b"),
            sample("2026-03-10T12:00:00Z", dec!(5.5), "b"),
            sample("2026-03-20T08:00:00Z", dec!(1.25), "c"),
            // 31 Mar 22:30 UTC is 1 Apr 00:30 in Berlin (summer time): outside March.
            sample("2026-03-31T22:30:00Z", dec!(100), "d"),
        ]
    }

    #[test]
    fn parses_the_six_types() {
        for s in [
            "count",
            "count_unique",
            "max",
            "sum",
            "last_value",
            "average",
        ] {
            assert!(Aggregation::parse(s).is_some(), "{s}");
        }
        assert_eq!(Aggregation::parse("avg"), None);
        assert!(Aggregation::LastValue.carries_over() && !Aggregation::Sum.carries_over());
    }

    #[test]
    fn windows_are_local_midnights() {
        let w = window(march(), Berlin);
        // 1 Mar 00:00 CET = 28 Feb 23:00 UTC; 1 Apr 00:00 CEST = 31 Mar 22:00 UTC.
        assert_eq!(w.from, at("2026-02-28T23:00:00Z"));
        assert_eq!(w.to, at("2026-03-31T22:00:00Z"));
        assert_eq!(
            day_start(d("2026-01-01"), chrono_tz::UTC),
            at("2026-01-01T00:00:00Z")
        );
        // America/Santiago skipped 00:00 on 2022-09-11: the day began at 01:00 (-03).
        assert_eq!(
            day_start(d("2022-09-11"), chrono_tz::America::Santiago),
            at("2022-09-11T04:00:00Z")
        );
    }

    #[test]
    fn each_type_over_march() {
        let v = values();
        let w = window(march(), Berlin);
        let agg = |k| aggregate(k, &v, w).unwrap();
        // In March: 2, 5.5, 1.25 (events b, b, c).
        assert_eq!(agg(Aggregation::Count), dec!(3));
        assert_eq!(agg(Aggregation::CountUnique), dec!(2));
        assert_eq!(agg(Aggregation::Max), dec!(5.5));
        // 2 + 5.5 + 1.25 = 8.75
        assert_eq!(agg(Aggregation::Sum), dec!(8.75));
        // 8.75 / 3 = 2.9166…
        assert_eq!(
            agg(Aggregation::Average),
            dec!(2.9166666666666666666666666667)
        );
        // The latest value before 1 Apr local, not the one measured on 1 Apr.
        assert_eq!(agg(Aggregation::LastValue), dec!(1.25));
        // 2 + 4 = 6 -> exactly 3.
        let two = vec![
            sample("2026-03-02T00:00:00Z", dec!(2), "x"),
            sample("2026-03-03T00:00:00Z", dec!(4), "y"),
        ];
        assert_eq!(aggregate(Aggregation::Average, &two, w), Some(dec!(3)));
    }

    #[test]
    fn empty_periods_and_carry_over() {
        let v = values();
        let april = window(
            Period {
                start: d("2026-04-01"),
                end: d("2026-05-01"),
            },
            Berlin,
        );
        let may = window(
            Period {
                start: d("2026-05-01"),
                end: d("2026-06-01"),
            },
            Berlin,
        );
        assert_eq!(aggregate(Aggregation::Count, &v, may), Some(dec!(0)));
        assert_eq!(aggregate(Aggregation::Max, &v, may), Some(dec!(0)));
        assert_eq!(aggregate(Aggregation::Sum, &v, may), Some(dec!(0)));
        assert_eq!(aggregate(Aggregation::Average, &v, may), Some(dec!(0)));
        assert_eq!(aggregate(Aggregation::CountUnique, &v, may), Some(dec!(0)));
        // last_value carries 100 (measured 1 Apr) into April and May.
        assert_eq!(
            aggregate(Aggregation::LastValue, &v, april),
            Some(dec!(100))
        );
        assert_eq!(aggregate(Aggregation::LastValue, &v, may), Some(dec!(100)));
        // Nothing ever measured: 0.
        assert_eq!(aggregate(Aggregation::LastValue, &[], may), Some(dec!(0)));
        // Equal instants: the later arrival wins.
        let tie = vec![
            sample("2026-05-02T00:00:00Z", dec!(1), "x"),
            sample("2026-05-02T00:00:00Z", dec!(9), "y"),
        ];
        assert_eq!(aggregate(Aggregation::LastValue, &tie, may), Some(dec!(9)));
        assert_eq!(aggregate(Aggregation::Max, &tie, may), Some(dec!(9)));
    }

    #[test]
    fn negative_values_and_overflow() {
        let w = window(march(), Berlin);
        let v = vec![
            sample("2026-03-02T00:00:00Z", dec!(-3), "x"),
            sample("2026-03-03T00:00:00Z", dec!(-1), "y"),
        ];
        assert_eq!(aggregate(Aggregation::Max, &v, w), Some(dec!(-1)));
        assert_eq!(aggregate(Aggregation::Sum, &v, w), Some(dec!(-4)));
        let huge = vec![
            sample("2026-03-02T00:00:00Z", Decimal::MAX, "x"),
            sample("2026-03-03T00:00:00Z", Decimal::MAX, "y"),
        ];
        assert_eq!(aggregate(Aggregation::Sum, &huge, w), None);
        assert_eq!(aggregate(Aggregation::Average, &huge, w), None);
    }

    #[test]
    fn fair_segments_weight_days() {
        let v = values();
        let segs = fair_segments(Aggregation::LastValue, &v, march(), Berlin).unwrap();
        // 1–9 Mar: 2 (measured 00:30 local on 1 Mar); 10–19 Mar: 5.5; 20–31 Mar: 1.25.
        assert_eq!(segs, vec![(dec!(2), 9), (dec!(5.5), 10), (dec!(1.25), 12)]);
        assert_eq!(segs.iter().map(|s| s.1).sum::<u32>(), 31);
        // Before any value: 0 until the first one.
        let late = vec![sample("2026-03-31T08:00:00Z", dec!(4), "x")];
        assert_eq!(
            fair_segments(Aggregation::LastValue, &late, march(), Berlin).unwrap(),
            vec![(dec!(0), 30), (dec!(4), 1)]
        );
        // Usage types: one segment with the aggregate.
        assert_eq!(
            fair_segments(Aggregation::Sum, &v, march(), Berlin).unwrap(),
            vec![(dec!(8.75), 31)]
        );
    }
}
