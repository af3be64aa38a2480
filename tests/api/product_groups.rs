//! Product groups (08 §5): an upgrade on day 10 of a 30-day period with each credit type,
//! scheduling at the period end, and 404 / 403 / tenant isolation.
//!
//! Day-count convention: the change day is the first day on the new plan. A 30-day period
//! (`30D`, so the test does not depend on today's month) that started 9 days ago has today as
//! day 10: the old plan ran days 1-9, days 10-30 (21 days) move to the new plan.

use crate::common::{assert_problem, Server};
use crate::subscriptions::{customer, draft, id, plan, today, ymd};

mod coupons;
use serde_json::{json, Value};

/// How a test's subscription is set up before it changes tiers.
pub struct Case {
    pub credit: &'static str,
    pub timing: &'static str,
    /// The subscription started this many days ago (contract and billing start).
    pub started: u64,
    /// Billing runs before the change, each for the date this many days ago.
    pub runs: &'static [u64],
    /// Extra keys of the create body (e.g. `couponCode`).
    pub extra: Value,
}

impl Case {
    /// Started 9 days ago and billed for its first period: today is day 10 of 30.
    pub fn day_10(credit: &'static str, timing: &'static str) -> Case {
        Case {
            credit,
            timing,
            started: 9,
            runs: &[9],
            extra: json!({}),
        }
    }
}

/// Products and plans of a setup: the lower tier (30.00 / 30D) and the upper (60.00 / 30D),
/// each on its own product.
pub struct Tiers {
    pub low_product: String,
    pub low: String,
    pub high_product: String,
    pub high: String,
}

pub fn tiers(s: &Server) -> Tiers {
    let (low_product, low) = plan(s, json!({"billingInterval": "30D"}));
    let (high_product, high) = plan(
        s,
        json!({"price": {"amount": "60.00"}, "billingInterval": "30D"}),
    );
    Tiers {
        low_product,
        low,
        high_product,
        high,
    }
}

/// An active subscription on the lower tier (in advance, prorated) set up as `case` says, and
/// a group with both tiers; `credit` and `timing` on the upper tier. Returns the group and the
/// item id.
pub fn setup_on(s: &Server, t: &Tiers, case: Case) -> (Value, String) {
    let c = customer(s);
    let start = ymd(minus_days(today(), case.started));
    let mut extra = json!({"contractStart": start, "billingStart": start});
    for (k, v) in case.extra.as_object().unwrap() {
        extra[k] = v.clone();
    }
    let d = draft(s, id(&c), &t.low, extra);
    let r = s.put(&format!("/subscriptions/{}/activate", id(&d)), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    for days in case.runs {
        let date = ymd(minus_days(today(), *days));
        let r = s.post("/billing-runs", &json!({"date": date, "dryRun": false}));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let g = s.post(
        "/product-groups",
        &json!({"name": "Storage", "memberships": [
            {"position": 1, "product": t.low_product, "pricePlans": [t.low]},
            {"position": 2, "product": t.high_product, "pricePlans": [t.high],
             "changeTiming": case.timing, "creditType": case.credit}]}),
    );
    assert_eq!(g.status, 201, "{}", g.text);
    let item = r_item(s, id(&d));
    let a = s.put(
        &format!("/subscription-items/{}/product-group", id(&item)),
        &json!({"productGroup": id(&g.body)}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    (g.body, id(&item).to_string())
}

/// `setup_on` with a fresh server and tiers.
fn setup(case: Case) -> (Server, Value, String) {
    let s = Server::start();
    let t = tiers(&s);
    let (g, item) = setup_on(&s, &t, case);
    (s, g, item)
}

pub fn minus_days(d: chrono::NaiveDate, n: u64) -> chrono::NaiveDate {
    d.checked_sub_days(chrono::Days::new(n)).unwrap()
}

pub fn r_item(s: &Server, sub: &str) -> Value {
    s.get(&format!("/subscriptions/{sub}")).body["items"][0].clone()
}

pub fn apply(s: &Server, g: &Value, item: &str) -> crate::common::Resp {
    let upper = g["memberships"][1]["id"].as_str().unwrap();
    s.post(
        &format!("/product-group-memberships/{upper}/apply"),
        &json!({"subscriptionItem": item}),
    )
}

pub fn net(s: &Server, invoice: &Value) -> i64 {
    let r = s.get(&format!("/invoices/{}", invoice.as_str().unwrap()));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["netAmount"]["amount"].as_i64().unwrap()
}

/// Upgrade with `credit`: the charge is 60.00 × 21/30 = 42.00 net in every case; returns the
/// credit note's net (negative) or 0 when there is none.
fn upgrade(credit: &'static str) -> i64 {
    let (s, g, item) = setup(Case::day_10(credit, "immediately"));
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
    // The item's last invoice billed the first period only: 30.00, the same as `full` here
    // (see `last_invoiced_credits_the_last_invoice_full_the_current_period`).
    assert_eq!(upgrade("last_invoiced"), -3000);
}

#[test]
fn upgrade_without_credit() {
    assert_eq!(upgrade("none"), 0);
}

/// Started 39 days ago, first billed by a run 9 days ago that caught up both periods due by
/// then on one invoice: days 1-30 and 31-60 (today is day 40, day 10 of the second period),
/// 2 × 30.00 = 60.00. Upgrades today with `credit`; returns the credit note's net.
fn upgrade_after_a_catch_up_run(credit: &'static str) -> i64 {
    let (s, g, item) = setup(Case {
        credit,
        timing: "immediately",
        started: 39,
        runs: &[9],
        extra: json!({}),
    });
    let invoices: Vec<i64> = s
        .db()
        .prepare("SELECT net_amount FROM invoices WHERE type = 'TYPE_INVOICE'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(invoices, vec![6000], "one invoice for both periods");
    let r = apply(&s, &g, &item);
    assert_eq!(r.status, 200, "{}", r.text);
    // The rest of the second period on the new plan: 60.00 × 21 / 30 = 42.00.
    assert_eq!(r.body["chargedAmount"], 4200);
    match r.body["creditNote"].as_str() {
        Some(_) => net(&s, &r.body["creditNote"]),
        None => 0,
    }
}

/// `full` credits the current period as it was billed; `last_invoiced` credits what the
/// item's last invoice billed, here two periods: the two differ whenever that invoice billed
/// more (or other) than the current period.
#[test]
fn last_invoiced_credits_the_last_invoice_full_the_current_period() {
    // full: the current period only, 30.00.
    assert_eq!(upgrade_after_a_catch_up_run("full"), -3000);
    // last_invoiced: the whole last invoice, 30.00 + 30.00 = 60.00.
    assert_eq!(upgrade_after_a_catch_up_run("last_invoiced"), -6000);
    // pro_rata: the unused days 10-30 of the current period, 30.00 × 21 / 30 = 21.00.
    assert_eq!(upgrade_after_a_catch_up_run("pro_rata"), -2100);
}

#[test]
fn end_of_period_schedules_the_switch() {
    let (s, g, item) = setup(Case::day_10("pro_rata", "end_of_period"));
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
    let (s, g, item) = setup(Case::day_10("pro_rata", "immediately"));
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
