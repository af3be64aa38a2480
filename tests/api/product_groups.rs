//! Product groups (08 §5): an upgrade on day 10 of a 30-day period with each credit type,
//! scheduling at the period end, and 404 / 403 / tenant isolation.
//!
//! Day-count convention: the change day is the first day on the new plan. A 30-day period
//! (`30D`, so the test does not depend on today's month) that started 9 days ago has today as
//! day 10: the old plan ran days 1-9, days 10-30 (21 days) move to the new plan.

use crate::common::{assert_problem, Server};
use crate::subscriptions::{customer, draft, id, plan, today, ymd};
use serde_json::{json, Value};

/// An active subscription on 30.00 / 30D (in advance, prorated) billed for its first period,
/// a 60.00 / 30D plan, and a group with both tiers; `credit` and `timing` on the upper tier.
fn setup(credit: &str, timing: &str) -> (Server, Value, String) {
    let s = Server::start();
    let c = customer(&s);
    let (p1, low) = plan(&s, json!({"billingInterval": "30D"}));
    let high = crate::price_plans::create(
        &s,
        &p1,
        json!({"type": "flat_fee", "price": {"amount": "60.00"}, "billingInterval": "30D"}),
    );
    let start = ymd(minus_days(today(), 9));
    let d = draft(
        &s,
        id(&c),
        &low,
        json!({"contractStart": start, "billingStart": start}),
    );
    let r = s.put(&format!("/subscriptions/{}/activate", id(&d)), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post("/billing-runs", &json!({"date": start, "dryRun": false}));
    assert_eq!(r.status, 201, "{}", r.text);
    let g = s.post(
        "/product-groups",
        &json!({"name": "Storage", "memberships": [
            {"position": 1, "product": p1, "pricePlans": [low]},
            {"position": 2, "product": p1, "pricePlans": [id(&high)],
             "changeTiming": timing, "creditType": credit}]}),
    );
    assert_eq!(g.status, 201, "{}", g.text);
    let item = r_item(&s, id(&d));
    let a = s.put(
        &format!("/subscription-items/{}/product-group", id(&item)),
        &json!({"productGroup": id(&g.body)}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    (s, g.body, id(&item).to_string())
}

fn minus_days(d: chrono::NaiveDate, n: u64) -> chrono::NaiveDate {
    d.checked_sub_days(chrono::Days::new(n)).unwrap()
}

fn r_item(s: &Server, sub: &str) -> Value {
    s.get(&format!("/subscriptions/{sub}")).body["items"][0].clone()
}

fn apply(s: &Server, g: &Value, item: &str) -> crate::common::Resp {
    let upper = g["memberships"][1]["id"].as_str().unwrap();
    s.post(
        &format!("/product-group-memberships/{upper}/apply"),
        &json!({"subscriptionItem": item}),
    )
}

fn net(s: &Server, invoice: &Value) -> i64 {
    let r = s.get(&format!("/invoices/{}", invoice.as_str().unwrap()));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["netAmount"]["amount"].as_i64().unwrap()
}

/// Upgrade with `credit`: the charge is 60.00 × 21/30 = 42.00 net in every case; returns the
/// credit note's net (negative) or 0 when there is none.
fn upgrade(credit: &str) -> i64 {
    let (s, g, item) = setup(credit, "immediately");
    let options = s.get(&format!("/subscription-items/{item}/change-options"));
    assert_eq!(options.status, 200, "{}", options.text);
    assert_eq!(options.body["options"][0]["isUpgrade"], true);
    assert_eq!(options.body["hasPendingChange"], false);
    let r = apply(&s, &g, &item);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["effectiveDate"], ymd(today()));
    // 60.00 × 21 / 30 = 42.00
    assert_eq!(r.body["chargedAmount"], 4200);
    assert_eq!(net(&s, &r.body["invoice"]), 4200);
    assert_eq!(r.body["subscriptionItem"]["status"], "active");
    let old = s.get(&format!("/subscription-items/{item}"));
    assert_eq!(old.body["status"], "terminated");
    // A second change from the replaced item is refused; a billing run today bills nothing
    // more (the rest of the period is recorded as billed for the new item).
    assert_eq!(apply(&s, &g, &item).status, 409);
    let run = s.post(
        "/billing-runs",
        &json!({"date": ymd(today()), "dryRun": false}),
    );
    assert_eq!(run.body["invoicesCreated"], 0, "{}", run.text);
    let sub = r.body["subscriptionItem"]["subscription"].as_str().unwrap();
    assert!(crate::subscriptions::outbox(&s, sub).contains(&"subscription.changed".to_string()));
    match r.body["creditNote"].as_str() {
        Some(_) => net(&s, &r.body["creditNote"]),
        None => 0,
    }
}

#[test]
fn upgrade_on_day_10_with_pro_rata_credit() {
    // Unused days 10-30 of the billed 30.00: 30.00 × 21 / 30 = 21.00 credited.
    assert_eq!(upgrade("pro_rata"), -2100);
}

#[test]
fn upgrade_with_full_credit() {
    // The whole billed period: 30.00.
    assert_eq!(upgrade("full"), -3000);
}

#[test]
fn upgrade_with_last_invoiced_credit() {
    // The item's last invoice billed the first period only: 30.00.
    assert_eq!(upgrade("last_invoiced"), -3000);
}

#[test]
fn upgrade_without_credit() {
    assert_eq!(upgrade("none"), 0);
}

#[test]
fn end_of_period_schedules_the_switch() {
    let (s, g, item) = setup("pro_rata", "end_of_period");
    let r = apply(&s, &g, &item);
    assert_eq!(r.status, 200, "{}", r.text);
    // The period started 9 days ago and has 30 days: the next one starts in 21 days.
    let next = ymd(crate::subscriptions::plus_days(today(), 21));
    assert_eq!(r.body["effectiveDate"], next);
    assert!(r.body["invoice"].is_null() && r.body["creditNote"].is_null());
    assert_eq!(r.body["subscriptionItem"]["status"], "pending");
    assert_eq!(r.body["subscriptionItem"]["billing"]["nextBillingAt"], next);
    let old = s.get(&format!("/subscription-items/{item}"));
    assert_eq!(old.body["status"], "canceled");
    let last = ymd(crate::subscriptions::plus_days(today(), 20));
    assert_eq!(old.body["endDate"], last);
    let options = s.get(&format!("/subscription-items/{item}/change-options"));
    assert_eq!(options.body["hasPendingChange"], true);
    assert_eq!(apply(&s, &g, &item).status, 409);
}

#[test]
fn not_found_forbidden_and_other_tenants() {
    let (s, g, item) = setup("pro_rata", "immediately");
    let gid = id(&g).to_string();
    let mid = g["memberships"][1]["id"].as_str().unwrap().to_string();
    let missing = "01900000-0000-7000-8000-000000000000";
    assert_problem(&s.get(&format!("/product-groups/{missing}")), 404);
    assert_problem(
        &s.patch(&format!("/product-groups/{missing}"), &json!({})),
        404,
    );
    assert_problem(
        &s.get(&format!("/subscription-items/{missing}/change-options")),
        404,
    );
    let assign = json!({"productGroup": gid});
    assert_problem(
        &s.put(
            &format!("/subscription-items/{missing}/product-group"),
            &assign,
        ),
        404,
    );
    let body = json!({"subscriptionItem": item});
    assert_problem(
        &s.post(
            &format!("/product-group-memberships/{missing}/apply"),
            &body,
        ),
        404,
    );

    let ro = s.token_with_role("read-only");
    assert_problem(
        &s.send_as(&ro, "POST", "/product-groups", Some(&json!({"name": "x"}))),
        403,
    );
    let path = format!("/product-group-memberships/{mid}/apply");
    assert_problem(&s.send_as(&ro, "POST", &path, Some(&body)), 403);
    assert_eq!(s.get_as(&ro, &format!("/product-groups/{gid}")).status, 200);

    let (_, other) = s.new_tenant("Other", "other@example.test");
    assert_problem(&s.get_as(&other, &format!("/product-groups/{gid}")), 404);
    assert_problem(
        &s.get_as(
            &other,
            &format!("/subscription-items/{item}/change-options"),
        ),
        404,
    );
    assert_problem(&s.send_as(&other, "POST", &path, Some(&body)), 404);
    let p = format!("/product-groups/{gid}");
    assert_problem(
        &s.send_as(&other, "PATCH", &p, Some(&json!({"name": "y"}))),
        404,
    );
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post(
        "/product-groups",
        &json!({"memberships": [{"position": 1, "changeTiming": "later", "creditType": "x"}]}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "memberships[0].changeTiming",
            "memberships[0].creditType",
            "memberships[0].pricePlans",
            "memberships[0].product",
            "name"
        ]
    );
}
