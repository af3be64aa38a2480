//! Cancellation in its three modes with the dates worked out in comments, revoking it, and
//! terminating. "Today" is the tenant's date, so the contract starts are chosen relative to it.

use super::{active, id, minus_months, outbox, plus_days, plus_months, today, ymd};
use crate::common::assert_problem;
use chrono::Datelike;
use serde_json::{json, Value};

fn terms_12m_3m(start: chrono::NaiveDate) -> Value {
    json!({"contractStart": ymd(start), "billingStart": ymd(start),
           "periods": {"contractPeriod": "12M", "cancellationPeriod": "3M"}})
}

#[test]
fn next_possible_within_the_first_term() {
    // Contract started 2 months ago, 12-month term, 3-month notice.
    // B1 = start + 12M; deadline B1 - 3M = start + 9M, still 7 months ahead: in time.
    // The subscription ends the day before B1: start + 12M - 1 day.
    let start = minus_months(today(), 2);
    let (s, sub) = active(terms_12m_3m(start));
    let r = s.put(
        &format!("/subscriptions/{}/cancel", id(&sub)),
        &json!({"cancellationDateType": "next_possible", "reason": "too_expensive"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let end = plus_months(start, 12).pred_opt().unwrap();
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(end));
    assert_eq!(
        r.body["cancellation"]["cancellationDateType"],
        "next_possible"
    );
    assert_eq!(r.body["cancellation"]["reason"], "too_expensive");
    assert_eq!(r.body["items"][0]["status"], "canceled");
    assert_eq!(r.body["items"][0]["endDate"], ymd(end));
    assert_eq!(outbox(&s, id(&sub))[2..], ["subscription.canceled"]);
}

#[test]
fn next_possible_after_the_notice_deadline_rolls_into_the_renewal() {
    // Contract started 10 months ago: deadline start + 9M has passed, so B1 is missed.
    // Renewal terms default to 12M / 3M: B2 = start + 24M, deadline start + 21M (ahead).
    // Last covered day: start + 24M - 1 day.
    let start = minus_months(today(), 10);
    let (s, sub) = active(terms_12m_3m(start));
    let r = s.put(
        &format!("/subscriptions/{}/cancel", id(&sub)),
        &json!({"cancellationDateType": "next_possible"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let end = plus_months(start, 24).pred_opt().unwrap();
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(end));
}

#[test]
fn a_fixed_contract_end_that_comes_earlier_wins() {
    let start = minus_months(today(), 2);
    let fixed = plus_days(today(), 5);
    let mut body = terms_12m_3m(start);
    body["contractEnd"] = json!(ymd(fixed));
    let (s, sub) = active(body);
    let r = s.put(
        &format!("/subscriptions/{}/cancel", id(&sub)),
        &json!({"cancellationDateType": "next_possible"}),
    );
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(fixed));
}

#[test]
fn immediate_cancellation_terminates_today() {
    let (s, sub) = active(terms_12m_3m(minus_months(today(), 2)));
    let r = s.put(
        &format!("/subscriptions/{}/cancel", id(&sub)),
        &json!({"cancellationDateType": "immediate"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "terminated");
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(today()));
    assert_eq!(r.body["items"][0]["status"], "terminated");
    assert_eq!(
        outbox(&s, id(&sub))[2..],
        ["subscription.canceled", "subscription.terminated"]
    );
}

#[test]
fn custom_date_ignores_terms_and_must_not_be_past() {
    let (s, sub) = active(terms_12m_3m(minus_months(today(), 2)));
    let path = format!("/subscriptions/{}/cancel", id(&sub));
    let r = s.put(&path, &json!({"cancellationDateType": "custom"}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["cancellationDate"]);
    let past = ymd(today().pred_opt().unwrap());
    let r = s.put(
        &path,
        &json!({"cancellationDateType": "custom", "cancellationDate": past}),
    );
    assert_eq!(r.violation_paths(), vec!["cancellationDate"]);
    let r = s.put(&path, &json!({"cancellationDateType": "someday"}));
    assert_eq!(r.violation_paths(), vec!["cancellationDateType"]);
    assert_eq!(
        s.put(&path, &json!({})).violation_paths(),
        vec!["cancellationDateType"]
    );
    // A date-time counts as its tenant-local date.
    let end = plus_days(today(), 20);
    let r = s.put(
        &path,
        &json!({"cancellationDateType": "custom", "cancellationDate": format!("{}T12:00:00+00:00", ymd(end))}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(end));
}

#[test]
fn revoke_cancellation_restores_the_previous_end() {
    let mut body = terms_12m_3m(minus_months(today(), 2));
    let fixed = plus_months(today(), 30);
    body["contractEnd"] = json!(ymd(fixed));
    let (s, sub) = active(body);
    let path = format!("/subscriptions/{}", id(&sub));
    let r = s.put(
        &format!("{path}/cancel"),
        &json!({"cancellationDateType": "next_possible"}),
    );
    assert_ne!(r.body["contractDetails"]["contractEnd"], ymd(fixed));
    let r = s.put(&format!("{path}/revoke-cancellation"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(fixed));
    assert_eq!(r.body["items"][0]["status"], "active");
    assert_eq!(r.body["items"][0]["endDate"], ymd(fixed));
    assert_eq!(r.body["cancellation"]["cancelledAt"], Value::Null);
    assert!(outbox(&s, id(&sub)).contains(&"subscription.cancellation_revoked".to_string()));
    assert_problem(
        &s.put(&format!("{path}/revoke-cancellation"), &json!({})),
        409,
    );
    // Once the end date has passed, revoking is too late.
    assert_eq!(
        s.put(
            &format!("{path}/cancel"),
            &json!({"cancellationDateType": "next_possible"})
        )
        .status,
        200
    );
    s.db()
        .execute("UPDATE subscriptions SET contract_end = '2020-01-01'", [])
        .unwrap();
    assert_problem(
        &s.put(&format!("{path}/revoke-cancellation"), &json!({})),
        409,
    );
}

#[test]
fn terminate_ends_everything_today() {
    let (s, sub) = active(json!({}));
    let r = s.put(
        &format!("/subscriptions/{}/terminate", id(&sub)),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "terminated");
    assert!(r.body["terminatedAt"].is_string());
    assert_eq!(r.body["contractDetails"]["contractEnd"], ymd(today()));
    assert_eq!(r.body["items"][0]["status"], "terminated");
    assert_eq!(r.body["items"][0]["endDate"], ymd(today()));
    assert_eq!(outbox(&s, id(&sub))[2..], ["subscription.terminated"]);
}

/// A cancellation revoked after its cut last period was billed leaves the rest of that period
/// due: the run on its first day bills it, prorated, so the month costs exactly its full price.
#[test]
fn revoking_after_the_cut_period_was_billed_bills_the_rest() {
    let first = today().with_day(1).unwrap();
    let next = plus_months(first, 1);
    let after = plus_months(first, 2);
    let tenth = plus_days(next, 9);
    // Monthly 30.00 in advance, pro rata, from the 1st of last month; cancelled to end on the
    // 10th of next month, and next month (1st-10th) billed in advance on its 1st.
    let (s, sub) = active(json!({"contractStart": ymd(minus_months(first, 1)),
                                 "billingStart": ymd(minus_months(first, 1))}));
    let path = format!("/subscriptions/{}", id(&sub));
    let r = s.put(
        &format!("{path}/cancel"),
        &json!({"cancellationDateType": "custom", "cancellationDate": ymd(tenth)}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let run = |date: chrono::NaiveDate| {
        let r = s.post("/billing-runs", &json!({"date": ymd(date)}));
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["status"], "completed", "{}", r.text);
    };
    run(next);
    let r = s.put(&format!("{path}/revoke-cancellation"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    // The rest (11th to month end) is due in advance on the 11th, not before.
    run(tenth);
    assert_eq!(count_periods(&s), 3);
    run(plus_days(tenth, 1));
    let periods: Vec<(String, String, i64)> = s
        .db()
        .prepare(
            "SELECT period_start, period_end, amount FROM billed_periods ORDER BY period_start",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(periods.len(), 4, "{periods:?}");
    assert_eq!(
        (&periods[2].0, &periods[2].1, &periods[3].0, &periods[3].1),
        (
            &ymd(next),
            &ymd(tenth),
            &ymd(plus_days(tenth, 1)),
            &ymd(after.pred_opt().unwrap())
        )
    );
    // n = days of next month: 30.00 × 10 / n and 30.00 × (n − 10) / n, each rounded half away
    // from zero to the cent (n = 31: 9.677… -> 9.68 and 20.322… -> 20.32; n = 30: 10.00 and
    // 20.00); for n in 28..=31 neither share lands on an exact half cent, so they add up to
    // exactly 30.00.
    let n = (after - next).num_days();
    let share = |k: i64| (3000 * k * 2 + n) / (2 * n);
    assert_eq!((periods[2].2, periods[3].2), (share(10), share(n - 10)));
    assert_eq!(periods[2].2 + periods[3].2, 3000);
    assert!(periods[..2].iter().all(|p| p.2 == 3000));
}

fn count_periods(s: &crate::common::Server) -> i64 {
    s.db()
        .query_row("SELECT count(*) FROM billed_periods", [], |r| r.get(0))
        .unwrap()
}
