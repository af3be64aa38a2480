//! Which billing periods of one subscription item are due by a billing date (DESIGN §6,
//! reference 08 §7, 06 §3.5): periods anchored on the billing start (or aligned to a billing
//! group's date with a prorated first period), shifted past a trial, cut at a cancellation,
//! due at their start (in advance) or end (in arrears and metered usage). Pure calendar math on
//! tenant-local dates; the database's UNIQUE key on billed periods makes billing exactly-once,
//! this module only says what is due.

use crate::domain::period::{days_between, Interval, Period};
use crate::resources::billing_groups::align;
use chrono::NaiveDate;

/// When a period is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// At the period's start (`payInAdvance` true).
    Advance,
    /// At the period's end: `payInAdvance` false, and always for metered usage.
    Arrears,
}

/// The billing facts of one item, as dates in the tenant's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub interval: Interval,
    /// The anchor of the periods (`billingStart`).
    pub billing_start: NaiveDate,
    /// Billing-group alignment (built from the first billable day): a prorated first period
    /// up to the group date, then every period computed from the group's own day by
    /// [`align::Schedule::period`], so `end_of_month` stays on month ends (31 Jan, 28 Feb,
    /// 31 Mar) instead of drifting from one clamped date. `None`: periods run from the
    /// billing start (also for day and week intervals, which groups do not align).
    pub group: Option<align::Schedule>,
    pub timing: Timing,
    /// `proRata`: a partial period costs days covered / days in the full period.
    pub pro_rata: bool,
    /// First day after the trial (`trialEndsOn`); nothing before it is billed, and billing
    /// starts there (08 §1.10: "the first period starts at trialEndsOn").
    pub trial_end: Option<NaiveDate>,
    /// First day no longer covered (cancellation / termination / contract end); the period
    /// that contains it is cut there and prorated.
    pub end: Option<NaiveDate>,
    /// Resumed with `nextBillingDate` (08 §1.9 "ignore previous billing"): periods starting
    /// before this date are never billed.
    pub skip_before: Option<NaiveDate>,
    /// Metered usage: whatever was measured on a covered day is billed, prorated or not.
    pub usage: bool,
}

/// One period that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuePeriod {
    /// 0 = the first period of the schedule.
    pub index: u32,
    /// The service range actually covered, `end` exclusive (cut by alignment or cancellation).
    pub covered: Period,
    /// Days of the full period the covered range belongs to (the proration denominator).
    pub full_days: u32,
    /// The billing date: `covered.start` in advance, `covered.end` in arrears.
    pub due_on: NaiveDate,
    /// Whether the amount is prorated: `proRata` and the covered range is shorter.
    pub prorated: bool,
    /// The rest of a period that was billed only up to an earlier cut (a cancellation
    /// revoked or moved later since): `covered` starts where that billing stopped.
    pub remainder: bool,
}

impl DuePeriod {
    pub fn covered_days(&self) -> u32 {
        self.covered.days()
    }
}

/// Most periods one call looks at: a daily plan over 27 years. Bounds the work a corrupt
/// billing start (year 1) could cause.
pub const MAX_PERIODS: u32 = 10_000;

impl Schedule {
    /// The first billable day: the billing start, or the trial end when that is later.
    pub fn first_day(&self) -> NaiveDate {
        match self.trial_end {
            Some(t) if t > self.billing_start => t,
            _ => self.billing_start,
        }
    }

    /// The `k`-th full period and the covered part of it, before any cancellation cut.
    fn nth(&self, k: u32) -> Option<(Period, Period)> {
        match &self.group {
            // Aligned: the first period runs from the first day to the group date and is
            // measured against the full group period that ends there; every later period is
            // the group's own k-th period (never derived from an earlier clamped date).
            Some(g) => {
                if k == 0 {
                    let f = g.first()?;
                    // A first period longer than one interval is billed as a whole: never
                    // more than 100 %.
                    let full = Period {
                        start: f.full.start.min(f.first.start),
                        end: f.full.end,
                    };
                    Some((full, f.first))
                } else {
                    let p = g.period(k)?;
                    Some((p, p))
                }
            }
            None => {
                let p = self.interval.period(self.first_day(), k)?;
                Some((p, p))
            }
        }
    }

    /// Every period due on or before `date` that is not billed yet, oldest first.
    /// `billed(start)`: the exclusive end of the billed period that starts on `start`, if any.
    /// A period billed only up to an earlier cut (a cancellation since revoked or moved later)
    /// has its rest due from where that billing stopped: prorated when `proRata` (without it
    /// the cut period already cost the full amount, so nothing is left to bill), and always
    /// for metered usage, which bills what was measured on the days not yet billed.
    pub fn due(
        &self,
        date: NaiveDate,
        billed: &dyn Fn(NaiveDate) -> Option<NaiveDate>,
    ) -> Vec<DuePeriod> {
        let mut out = Vec::new();
        for k in 0..MAX_PERIODS {
            let Some((full, mut covered)) = self.nth(k) else {
                break;
            };
            if let Some(end) = self.end {
                if covered.start >= end {
                    break;
                }
                if covered.end > end {
                    covered.end = end;
                }
            }
            if self.skip_before.is_some_and(|s| covered.start < s) {
                continue;
            }
            let first_start = covered.start;
            while let Some(end) = billed(covered.start) {
                if end <= covered.start {
                    break;
                }
                covered.start = end;
                if covered.start >= covered.end {
                    break;
                }
            }
            let remainder = covered.start > first_start;
            let due_on = match self.timing {
                Timing::Advance => covered.start,
                Timing::Arrears => covered.end,
            };
            // Due dates only grow with k: the first one past the date ends the search.
            if due_on > date {
                break;
            }
            if covered.start >= covered.end || (remainder && !self.pro_rata && !self.usage) {
                continue;
            }
            let full_days = full.days();
            out.push(DuePeriod {
                index: k,
                covered,
                full_days,
                due_on,
                prorated: self.pro_rata && covered.days() < full_days,
                remainder,
            });
        }
        out
    }

    /// The next billing date after everything due by `date` is billed: the due date of the
    /// first period not due yet (`billing.nextBillingAt`); `None` once the item has ended.
    pub fn next_billing_date(&self, date: NaiveDate) -> Option<NaiveDate> {
        for k in 0..MAX_PERIODS {
            let (_, mut covered) = self.nth(k)?;
            if let Some(end) = self.end {
                if covered.start >= end {
                    return None;
                }
                covered.end = covered.end.min(end);
            }
            let due_on = match self.timing {
                Timing::Advance => covered.start,
                Timing::Arrears => covered.end,
            };
            let skipped = self.skip_before.is_some_and(|s| covered.start < s);
            if due_on > date && !skipped {
                return Some(due_on);
            }
        }
        None
    }
}

/// Days covered and days in the full period, for printing ("14 of 30 days").
pub fn proration_text(p: &DuePeriod) -> String {
    format!(
        "{} of {} days",
        days_between(p.covered.start, p.covered.end),
        p.full_days
    )
}

#[cfg(test)]
mod tests;
