//! Unit tests of due periods and item amounts: the worked examples of issue 5 and reference
//! 08 §1.9–1.10, §7, 10 §5.4, §6.4, with the arithmetic in comments.

use super::*;
use crate::billing::lines::{coupon_discount, item_charge};
use crate::domain::discount::{CouponTerms, DiscountKind, Frequency};
use crate::domain::money::Currency;
use crate::domain::pricing::{Model, Pricing, Tier};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn monthly(start: &str) -> Schedule {
    Schedule {
        interval: Interval::parse("1M").unwrap(),
        billing_start: d(start),
        group: None,
        timing: Timing::Advance,
        pro_rata: true,
        trial_end: None,
        end: None,
        skip_before: None,
        usage: false,
    }
}

/// The schedule of `kind` (a billing group type) for a monthly item whose first billable day
/// is `first_day`.
fn grouped(kind: &str, first_day: &str) -> Option<align::Schedule> {
    let rule = align::Rule::of(kind, None, None).unwrap();
    align::Schedule::new(d(first_day), Interval::parse("1M").unwrap(), rule)
}

fn none(_: NaiveDate) -> Option<NaiveDate> {
    None
}

fn flat(price: Decimal) -> Pricing {
    Pricing {
        model: Model::FlatFee { price },
        free_units: Decimal::ZERO,
        currency: eur(),
    }
}

fn starts(p: &[DuePeriod]) -> Vec<NaiveDate> {
    p.iter().map(|p| p.covered.start).collect()
}

#[test]
fn monthly_from_jan_31_clamps_to_month_ends_in_advance() {
    let due = monthly("2026-01-31").due(d("2026-04-30"), &none);
    assert_eq!(
        starts(&due),
        vec![
            d("2026-01-31"),
            d("2026-02-28"),
            d("2026-03-31"),
            d("2026-04-30")
        ]
    );
    assert!(due
        .iter()
        .all(|p| !p.prorated && p.due_on == p.covered.start));
    // The period from Apr 30 is due on Apr 30, not earlier.
    assert_eq!(monthly("2026-01-31").due(d("2026-04-29"), &none).len(), 3);
}

#[test]
fn started_on_the_17th_of_a_30_day_month_pays_14_of_30_days_in_advance() {
    // start_of_month group: first period 17–30 Apr 2026 (14 days) of the full April (30 days).
    let s = Schedule {
        group: grouped("start_of_month", "2026-04-17"),
        ..monthly("2026-04-17")
    };
    let due = s.due(d("2026-04-17"), &none);
    assert_eq!(due.len(), 1);
    let p = due[0];
    assert_eq!(
        (p.covered.start, p.covered.end),
        (d("2026-04-17"), d("2026-05-01"))
    );
    assert_eq!((p.covered_days(), p.full_days, p.prorated), (14, 30, true));
    // 30.00 × 14 / 30 = 14.00
    let c = item_charge(&flat(dec!(30.00)), Decimal::ONE, &p).unwrap();
    assert_eq!(
        (c.quantity, c.unit_price, c.amount),
        (dec!(1), dec!(14.00), dec!(14.00))
    );
    assert_eq!(c.description.as_deref(), Some("14 of 30 days"));
    // From 1 May the full 30.00 each month, anchored on the group date.
    let may = s.due(d("2026-05-01"), &|x| {
        (x == d("2026-04-17")).then_some(d("2026-05-01"))
    });
    assert_eq!(starts(&may), vec![d("2026-05-01")]);
    let c = item_charge(&flat(dec!(30.00)), Decimal::ONE, &may[0]).unwrap();
    assert_eq!(
        (c.quantity, c.unit_price, c.amount),
        (dec!(1), dec!(30.00), dec!(30.00))
    );
    assert_eq!(s.next_billing_date(d("2026-05-01")), Some(d("2026-06-01")));
}

#[test]
fn reference_example_start_of_month_group_from_jan_20() {
    // 20–31 Jan = 12 of 31 days: 30.00 × 12 / 31 = 11.6129… -> 11.61
    let s = Schedule {
        group: grouped("start_of_month", "2026-01-20"),
        ..monthly("2026-01-20")
    };
    let due = s.due(d("2026-02-01"), &none);
    assert_eq!(starts(&due), vec![d("2026-01-20"), d("2026-02-01")]);
    let c = item_charge(&flat(dec!(30.00)), Decimal::ONE, &due[0]).unwrap();
    assert_eq!(c.amount, dec!(11.61));
    assert_eq!(
        item_charge(&flat(dec!(30.00)), Decimal::ONE, &due[1])
            .unwrap()
            .amount,
        dec!(30.00)
    );
}

#[test]
fn end_of_month_group_from_the_17th() {
    // end_of_month: periods start on each month's last day (align.rs), computed from the
    // group's day 31 clamped per month, never from the previous clamped date.
    // Start 17 Jan 2026: first period 17 Jan .. 30 Jan (end 31 Jan exclusive) = 14 days of the
    // full period 31 Dec .. 30 Jan = 31 days: 30.00 × 14 / 31 = 13.5483… -> 13.55.
    let s = Schedule {
        group: grouped("end_of_month", "2026-01-17"),
        ..monthly("2026-01-17")
    };
    let due = s.due(d("2026-04-30"), &none);
    assert_eq!(
        starts(&due),
        vec![
            d("2026-01-17"),
            d("2026-01-31"),
            d("2026-02-28"),
            d("2026-03-31"),
            d("2026-04-30")
        ]
    );
    assert_eq!((due[0].covered_days(), due[0].full_days), (14, 31));
    assert!(due[0].prorated);
    let amount = |p: &DuePeriod| {
        item_charge(&flat(dec!(30.00)), Decimal::ONE, p)
            .unwrap()
            .amount
    };
    assert_eq!(amount(&due[0]), dec!(13.55));
    // Then clean month-end periods across February: 31 Jan .. 27 Feb (28 days),
    // 28 Feb .. 30 Mar (31 days), 31 Mar .. 29 Apr (30 days): 30.00 each, not prorated.
    let ends: Vec<NaiveDate> = due.iter().map(|p| p.covered.end).collect();
    assert_eq!(
        ends,
        vec![
            d("2026-01-31"),
            d("2026-02-28"),
            d("2026-03-31"),
            d("2026-04-30"),
            d("2026-05-31")
        ]
    );
    assert_eq!(
        due[1..].iter().map(|p| p.full_days).collect::<Vec<_>>(),
        vec![28, 31, 30, 31]
    );
    assert!(due[1..]
        .iter()
        .all(|p| !p.prorated && amount(p) == dec!(30.00)));
    assert_eq!(s.next_billing_date(d("2026-04-30")), Some(d("2026-05-31")));
    // Start 17 Feb: 17 Feb .. 27 Feb = 11 days of 31 Jan .. 27 Feb = 28 days:
    // 30.00 × 11 / 28 = 11.7857… -> 11.79; then 28 Feb, 31 Mar, 30 Apr (no drift to 28 Mar).
    let s = Schedule {
        group: grouped("end_of_month", "2026-02-17"),
        ..monthly("2026-02-17")
    };
    let due = s.due(d("2026-04-30"), &none);
    assert_eq!(
        starts(&due),
        vec![
            d("2026-02-17"),
            d("2026-02-28"),
            d("2026-03-31"),
            d("2026-04-30")
        ]
    );
    assert_eq!((due[0].covered_days(), due[0].full_days), (11, 28));
    assert_eq!(amount(&due[0]), dec!(11.79));
    // A start on a group date (30 Apr) has no partial period and keeps month ends: 31 May.
    let s = Schedule {
        group: grouped("end_of_month", "2026-04-30"),
        ..monthly("2026-04-30")
    };
    assert_eq!(
        starts(&s.due(d("2026-06-30"), &none)),
        vec![d("2026-04-30"), d("2026-05-31"), d("2026-06-30")]
    );
}

fn guide_tiers() -> Pricing {
    let t = |from, to, p| Tier {
        from,
        to,
        unit_price: p,
        flat_amount: Decimal::ZERO,
    };
    Pricing {
        model: Model::Tiered {
            tiers: vec![
                t(1, Some(10), dec!(10.00)),
                t(11, Some(50), dec!(8.00)),
                t(51, None, dec!(6.00)),
            ],
        },
        free_units: Decimal::ZERO,
        currency: eur(),
    }
}

#[test]
fn tiered_usage_is_billed_in_arrears_at_the_period_end() {
    let s = Schedule {
        timing: Timing::Arrears,
        ..monthly("2026-01-01")
    };
    // January is still running on Jan 31: nothing is due.
    assert!(s.due(d("2026-01-31"), &none).is_empty());
    let due = s.due(d("2026-02-01"), &none);
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].covered.start, due[0].due_on),
        (d("2026-01-01"), d("2026-02-01"))
    );
    // 60 units: 10 × 10.00 + 40 × 8.00 + 10 × 6.00 = 100.00 + 320.00 + 60.00 = 480.00
    let c = item_charge(&guide_tiers(), dec!(60), &due[0]).unwrap();
    assert_eq!(
        (c.quantity, c.unit_price, c.amount),
        (dec!(1), dec!(480.00), dec!(480.00))
    );
    assert_eq!(c.description.as_deref(), Some("10 × 10 + 40 × 8 + 10 × 6"));
    assert_eq!(s.next_billing_date(d("2026-02-01")), Some(d("2026-03-01")));
}

#[test]
fn free_units_come_off_before_pricing() {
    // per unit 5.00, freeUnits 1, 10 units: 9 × 5.00 = 45.00
    let pricing = Pricing {
        model: Model::PerUnit { price: dec!(5.00) },
        free_units: dec!(1),
        currency: eur(),
    };
    let p = monthly("2026-01-01").due(d("2026-01-01"), &none)[0];
    let c = item_charge(&pricing, dec!(10), &p).unwrap();
    assert_eq!(
        (c.quantity, c.unit_price, c.amount),
        (dec!(9), dec!(5.00), dec!(45.00))
    );
    assert_eq!(c.description, None);
}

#[test]
fn a_coupon_limited_to_three_periods() {
    // 30.00 / month, fixed 5.00 limited 3: 25.00, 25.00, 25.00, then 30.00.
    let coupon = CouponTerms {
        kind: DiscountKind::FixedAmount {
            amount: dec!(5.00),
            currency: "EUR".into(),
        },
        frequency: Frequency::Limited(3),
        products: vec![],
    };
    let nets: Vec<Decimal> = (0..4)
        .map(|used| {
            let off = coupon_discount(&coupon, "p", eur(), dec!(30.00), used).unwrap();
            dec!(30.00) - off.unwrap_or_default()
        })
        .collect();
    assert_eq!(
        nets,
        vec![dec!(25.00), dec!(25.00), dec!(25.00), dec!(30.00)]
    );
    // 50.00 off 30.00 -> 30.00 off (0.00 net), never negative.
    let big = CouponTerms {
        kind: DiscountKind::FixedAmount {
            amount: dec!(50.00),
            currency: "EUR".into(),
        },
        ..coupon.clone()
    };
    assert_eq!(
        coupon_discount(&big, "p", eur(), dec!(30.00), 0).unwrap(),
        Some(dec!(30.00))
    );
    // 20 % of a prorated 11.61 = 2.322 -> 2.32; another currency is not discounted.
    let pct = CouponTerms {
        kind: DiscountKind::Percentage(dec!(20)),
        ..coupon.clone()
    };
    assert_eq!(
        coupon_discount(&pct, "p", eur(), dec!(11.61), 0).unwrap(),
        Some(dec!(2.32))
    );
    let usd = Currency::parse("USD").unwrap();
    assert_eq!(
        coupon_discount(&coupon, "p", usd, dec!(30.00), 0).unwrap(),
        None
    );
}

#[test]
fn nothing_is_billed_inside_a_14_day_trial() {
    // Billing start 1 Jan 2026, trialDays 14: trial ends (first paid day) 15 Jan.
    let s = Schedule {
        trial_end: Some(d("2026-01-15")),
        ..monthly("2026-01-01")
    };
    assert!(s.due(d("2026-01-14"), &none).is_empty());
    assert_eq!(s.next_billing_date(d("2026-01-14")), Some(d("2026-01-15")));
    let due = s.due(d("2026-02-15"), &none);
    assert_eq!(starts(&due), vec![d("2026-01-15"), d("2026-02-15")]);
    assert!(!due[0].prorated);
    // In a start_of_month group: 15–31 Jan = 17 of 31 days: 30.00 × 17 / 31 = 16.4516… -> 16.45
    let grouped = Schedule {
        group: grouped("start_of_month", "2026-01-15"),
        ..s
    };
    let first = grouped.due(d("2026-01-15"), &none)[0];
    assert_eq!((first.covered_days(), first.full_days), (17, 31));
    assert_eq!(
        item_charge(&flat(dec!(30.00)), Decimal::ONE, &first)
            .unwrap()
            .amount,
        dec!(16.45)
    );
}

#[test]
fn pause_on_15_jan_and_resume_on_15_apr_in_both_modes() {
    // Monthly from 1 Jan, in advance; cycle 1 (January) billed, paused 15 Jan, resumed 15 Apr.
    let s = monthly("2026-01-01");
    let jan_billed = |x: NaiveDate| (x == d("2026-01-01")).then_some(d("2026-02-01"));
    // "Resume billing": February and March are billed at once, April is due since 1 Apr.
    let resumed = s.due(d("2026-04-15"), &jan_billed);
    assert_eq!(
        starts(&resumed),
        vec![d("2026-02-01"), d("2026-03-01"), d("2026-04-01")]
    );
    // "Ignore previous billing" with nextBillingDate 1 Apr: February and March never.
    let skipping = Schedule {
        skip_before: Some(d("2026-04-01")),
        ..s.clone()
    };
    assert_eq!(
        starts(&skipping.due(d("2026-04-15"), &jan_billed)),
        vec![d("2026-04-01")]
    );
    assert!(skipping.due(d("2026-03-31"), &jan_billed).is_empty());
    assert_eq!(
        skipping.next_billing_date(d("2026-01-15")),
        Some(d("2026-04-01"))
    );
    assert_eq!(s.next_billing_date(d("2026-01-15")), Some(d("2026-02-01")));
}

#[test]
fn a_cancellation_cuts_and_prorates_the_last_period() {
    // Last covered day 15 Mar: March covers 1–15 Mar = 15 of 31 days:
    // 30.00 × 15 / 31 = 14.5161… -> 14.52; nothing after.
    let s = Schedule {
        end: Some(d("2026-03-16")),
        ..monthly("2026-01-01")
    };
    let due = s.due(d("2026-12-31"), &none);
    assert_eq!(
        starts(&due),
        vec![d("2026-01-01"), d("2026-02-01"), d("2026-03-01")]
    );
    assert_eq!(
        (due[2].covered.end, due[2].covered_days(), due[2].full_days),
        (d("2026-03-16"), 15, 31)
    );
    assert_eq!(
        item_charge(&flat(dec!(30.00)), Decimal::ONE, &due[2])
            .unwrap()
            .amount,
        dec!(14.52)
    );
    assert_eq!(s.next_billing_date(d("2026-03-01")), None);
    // In arrears the cut period is due on its cut end.
    let arrears = Schedule {
        timing: Timing::Arrears,
        ..s.clone()
    };
    let due = arrears.due(d("2026-03-16"), &none);
    assert_eq!(due.last().map(|p| p.due_on), Some(d("2026-03-16")));
    // Without proRata a partial period costs the full amount.
    let full = Schedule {
        pro_rata: false,
        ..s
    };
    let last = full.due(d("2026-03-01"), &none)[2];
    assert!(!last.prorated);
    assert_eq!(
        item_charge(&flat(dec!(30.00)), Decimal::ONE, &last)
            .unwrap()
            .amount,
        dec!(30.00)
    );
}

#[test]
fn billed_periods_are_never_due_again() {
    let s = monthly("2026-01-01");
    let billed = |x: NaiveDate| (x <= d("2026-02-01")).then(|| x + chrono::Months::new(1));
    assert_eq!(
        starts(&s.due(d("2026-03-01"), &billed)),
        vec![d("2026-03-01")]
    );
    // A billing start far in the past is bounded, not a runaway loop.
    let old = Schedule {
        interval: Interval::parse("1D").unwrap(),
        ..monthly("1990-01-01")
    };
    assert_eq!(old.due(d("2026-01-01"), &none).len(), MAX_PERIODS as usize);
}

#[test]
fn fair_billing_weights_each_quantity_by_its_days() {
    // Per unit 10.00; 5 seats for 10 days, then 8 seats for 21 days of March (31 days):
    // (5 × 10.00 × 10 + 8 × 10.00 × 21) / 31 = (500.00 + 1680.00) / 31 = 70.3225… -> 70.32
    let pricing = Pricing {
        model: Model::PerUnit { price: dec!(10.00) },
        free_units: Decimal::ZERO,
        currency: eur(),
    };
    let c =
        crate::billing::lines::fair_charge(&pricing, &[(dec!(5), 10), (dec!(8), 21)], 31).unwrap();
    assert_eq!((c.quantity, c.amount), (dec!(1), dec!(70.32)));
    assert_eq!(
        c.description.as_deref(),
        Some("5 for 10 days + 8 for 21 days of 31 days")
    );
}

#[test]
fn the_rest_of_a_cut_period_is_due_once_the_cut_is_revoked() {
    // Monthly 30.00 in advance, pro rata, from 1 Jan. Cancelled to end on 10 Mar, March was
    // billed for 1-10 Mar (30.00 × 10 / 31 = 9.68); the cancellation is then revoked.
    let s = monthly("2026-01-01");
    let mut billed: std::collections::HashMap<NaiveDate, NaiveDate> = [
        (d("2026-01-01"), d("2026-02-01")),
        (d("2026-02-01"), d("2026-03-01")),
        (d("2026-03-01"), d("2026-03-11")),
    ]
    .into();
    let due = s.due(d("2026-03-20"), &|x| billed.get(&x).copied());
    assert_eq!(due.len(), 1);
    let p = due[0];
    assert_eq!(
        (p.covered.start, p.covered.end, p.due_on),
        (d("2026-03-11"), d("2026-04-01"), d("2026-03-11"))
    );
    assert_eq!(
        (p.covered_days(), p.full_days, p.prorated, p.remainder),
        (21, 31, true, true)
    );
    // 30.00 × 21 / 31 = 20.3225… -> 20.32; with the 9.68 billed, March costs exactly 30.00.
    let c = item_charge(&flat(dec!(30.00)), Decimal::ONE, &p).unwrap();
    assert_eq!(c.amount, dec!(20.32));
    // Without proRata the cut March cost the full 30.00 already: no rest is due.
    let full = Schedule {
        pro_rata: false,
        ..s.clone()
    };
    assert!(full
        .due(d("2026-03-20"), &|x| billed.get(&x).copied())
        .is_empty());
    // Metered usage bills the days not yet billed, prorated or not, in arrears at the end.
    let usage = Schedule {
        pro_rata: false,
        usage: true,
        timing: Timing::Arrears,
        ..s.clone()
    };
    assert!(usage
        .due(d("2026-03-31"), &|x| billed.get(&x).copied())
        .is_empty());
    let rest = usage.due(d("2026-04-01"), &|x| billed.get(&x).copied());
    assert_eq!(
        (rest[0].covered.start, rest[0].due_on, rest[0].remainder),
        (d("2026-03-11"), d("2026-04-01"), true)
    );
    // Once the rest is billed too, nothing of March is due again; April is, on 1 Apr.
    billed.insert(d("2026-03-11"), d("2026-04-01"));
    assert_eq!(
        starts(&s.due(d("2026-04-01"), &|x| billed.get(&x).copied())),
        vec![d("2026-04-01")]
    );
}
