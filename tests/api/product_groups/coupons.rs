//! Coupons across a tier change (kontor rule, `src/resources/product_groups/coupons.rs`): a
//! coupon covering the new product moves to the new item with its count of discounted periods;
//! one for the old product only, or used up, stays behind. The immediate charge for the rest of
//! the current period is discounted like the old plan's billed period was.
//!
//! Every case: 30.00 / 30D on the lower tier, 60.00 / 30D on the upper, started 9 days ago and
//! billed for its first period (days 1-30), upgraded today, day 10: 21 of 30 days move.

use super::{apply, net, setup_on, tiers, Case};
use crate::common::Server;
use crate::subscriptions::{id, plus_days, today, ymd};
use serde_json::{json, Value};

fn coupon(s: &Server, body: Value) {
    crate::coupons::create(s, body);
}

/// The nets of the customer's invoices (not credit notes), oldest first.
fn invoice_nets(s: &Server) -> Vec<i64> {
    s.db()
        .prepare(
            "SELECT net_amount FROM invoices WHERE type = 'TYPE_INVOICE'
             ORDER BY created_at, rowid",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn item(s: &Server, id: &str) -> Value {
    let r = s.get(&format!("/subscription-items/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// A billing run for the date `days` from today.
fn run_in(s: &Server, days: u64) {
    let date = ymd(plus_days(today(), days));
    let r = s.post("/billing-runs", &json!({"date": date, "dryRun": false}));
    assert_eq!(r.status, 201, "{}", r.text);
}

fn case(timing: &'static str, code: &str) -> Case {
    Case {
        extra: json!({"couponCode": code}),
        ..Case::day_10("pro_rata", timing)
    }
}

#[test]
fn a_coupon_moves_to_the_new_plan_with_its_periods_left() {
    let s = Server::start();
    let t = tiers(&s);
    coupon(
        &s,
        json!({"code": "UP20", "name": "20 % for 3 periods", "type": "percentage",
               "percentage": 20, "frequency": "limited", "frequencyInterval": 3}),
    );
    let (g, old) = setup_on(&s, &t, case("immediately", "UP20"));
    // First period on the old plan: 30.00 − 20 % (6.00) = 24.00; 2 discounted periods left.
    assert_eq!(invoice_nets(&s), vec![2400]);
    assert_eq!(item(&s, &old)["appliedDiscounts"][0]["remainingPeriods"], 2);

    let r = apply(&s, &g, &old);
    assert_eq!(r.status, 200, "{}", r.text);
    // The rest of the period on the new plan, discounted like the period it continues:
    // 60.00 × 21 / 30 = 42.00; − 20 % (8.40) = 33.60.
    assert_eq!(r.body["chargedAmount"], 3360);
    assert_eq!(net(&s, &r.body["invoice"]), 3360);
    // Credit for the unused days 10-30 of what was billed: (30.00 − 6.00) × 21 / 30 = 16.80.
    assert_eq!(net(&s, &r.body["creditNote"]), -1680);
    // The coupon moved, its count kept: the period it continues was counted already.
    let new = r.body["subscriptionItem"].clone();
    let moved = &new["appliedDiscounts"];
    assert_eq!(moved.as_array().unwrap().len(), 1, "{new}");
    assert_eq!(moved[0]["coupon"]["code"], "UP20");
    assert_eq!(moved[0]["remainingPeriods"], 2);
    assert_eq!(moved[0]["subscriptionItem"], new["id"]);
    assert_eq!(item(&s, &old)["appliedDiscounts"], json!([]));
    let applied = s.get(&format!(
        "/subscription-item-applied-discounts/{}",
        moved[0]["id"].as_str().unwrap()
    ));
    assert_eq!(applied.body["subscriptionItem"], new["id"]);

    // Periods 2 and 3 on the new plan: 60.00 − 20 % (12.00) = 48.00 each; period 4: 60.00.
    for days in [21, 51, 81] {
        run_in(&s, days);
    }
    assert_eq!(invoice_nets(&s), vec![2400, 3360, 4800, 4800, 6000]);
    assert_eq!(
        item(&s, id(&new))["appliedDiscounts"][0]["remainingPeriods"],
        0
    );
    // Invoices with discount lines, finalized by runs and by the change, are sent as read:
    // `invoice.finalized` of the 33.60 invoice, the credit note and the three later run
    // invoices (the first, credited since, reads differently now), and `invoice.created` of
    // those three run invoices: 5 + 3.
    assert_eq!(
        crate::billing_runs::assert_finalized_events_match_reads(&s),
        8
    );
}

#[test]
fn a_coupon_for_the_old_product_only_stays_behind() {
    let s = Server::start();
    let t = tiers(&s);
    coupon(
        &s,
        json!({"code": "LOW20", "name": "20 % on the small plan", "type": "percentage",
               "percentage": 20, "frequency": "lifetime", "products": [t.low_product]}),
    );
    let (g, old) = setup_on(&s, &t, case("immediately", "LOW20"));
    // 30.00 − 20 % (6.00) = 24.00.
    assert_eq!(invoice_nets(&s), vec![2400]);
    let r = apply(&s, &g, &old);
    assert_eq!(r.status, 200, "{}", r.text);
    // The new product is not covered: 60.00 × 21 / 30 = 42.00, no discount.
    assert_eq!(r.body["chargedAmount"], 4200);
    // The old plan's credit keeps its discount: (30.00 − 6.00) × 21 / 30 = 16.80.
    assert_eq!(net(&s, &r.body["creditNote"]), -1680);
    assert_eq!(r.body["subscriptionItem"]["appliedDiscounts"], json!([]));
    let kept = &item(&s, &old)["appliedDiscounts"];
    assert_eq!(kept[0]["coupon"]["code"], "LOW20");
    run_in(&s, 21);
    // The next period on the new plan at its full 60.00.
    assert_eq!(invoice_nets(&s), vec![2400, 4200, 6000]);
}

#[test]
fn a_used_up_coupon_stays_but_still_covers_the_period_it_discounted() {
    let s = Server::start();
    let t = tiers(&s);
    // 20 % once: the first period.
    coupon(&s, crate::coupons::percent20());
    let (g, old) = setup_on(&s, &t, case("immediately", "SPRING20"));
    assert_eq!(invoice_nets(&s), vec![2400]);
    let r = apply(&s, &g, &old);
    assert_eq!(r.status, 200, "{}", r.text);
    // The current period was the discounted one, so its rest on the new plan is too:
    // 60.00 × 21 / 30 = 42.00; − 20 % (8.40) = 33.60.
    assert_eq!(r.body["chargedAmount"], 3360);
    // Used up: nothing moves; the old item keeps it as its history.
    assert_eq!(r.body["subscriptionItem"]["appliedDiscounts"], json!([]));
    assert_eq!(item(&s, &old)["appliedDiscounts"][0]["remainingPeriods"], 0);
    run_in(&s, 21);
    assert_eq!(invoice_nets(&s), vec![2400, 3360, 6000]);
}

#[test]
fn end_of_period_moves_the_coupon_to_the_scheduled_item() {
    let s = Server::start();
    let t = tiers(&s);
    // 5.00 off for 3 periods.
    coupon(&s, crate::coupons::fixed5());
    let (g, old) = setup_on(&s, &t, case("end_of_period", "FIVEOFF"));
    // 30.00 − 5.00 = 25.00.
    assert_eq!(invoice_nets(&s), vec![2500]);
    let r = apply(&s, &g, &old);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["invoice"].is_null() && r.body["creditNote"].is_null());
    let new = r.body["subscriptionItem"].clone();
    assert_eq!(new["status"], "pending");
    assert_eq!(new["appliedDiscounts"][0]["remainingPeriods"], 2);
    // From day 31 on the new plan: 60.00 − 5.00 = 55.00 twice, then 60.00.
    for days in [21, 51, 81] {
        run_in(&s, days);
    }
    assert_eq!(invoice_nets(&s), vec![2500, 5500, 5500, 6000]);
}
