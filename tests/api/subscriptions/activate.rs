//! Activating all or selected items (`PUT /subscriptions/{id}/activate` with `items`, kontor
//! rule in `src/resources/subscriptions/activate.rs`): items left out stay `pending` and
//! unscheduled until a later activation names them; that later activation starts them on its
//! date; bad selections are 422 naming each entry and change nothing.

use super::{customer, id, outbox, plan, plus_days, today, ymd};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// A draft with two items: 30.00 / month and 10.00 / month (each on its own product), both
/// starting (and billed from) `start`.
fn two_items(s: &Server, start: &str) -> Value {
    let c = customer(s);
    let (_, a) = plan(s, json!({}));
    let (_, b) = plan(s, json!({"price": {"amount": "10.00"}}));
    let r = s.post(
        "/subscriptions",
        &json!({"customer": id(&c), "contractStart": start,
                "items": [{"pricePlan": a}, {"pricePlan": b}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn item_id(sub: &Value, k: usize) -> String {
    sub["items"][k]["id"].as_str().unwrap().to_string()
}

fn invoice_nets(s: &Server) -> Vec<i64> {
    s.db()
        .prepare("SELECT net_amount FROM invoices ORDER BY created_at, rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn activate(s: &Server, sub: &Value, body: Value) -> crate::common::Resp {
    s.put(&format!("/subscriptions/{}/activate", id(sub)), &body)
}

#[test]
fn selected_items_are_activated_the_others_wait() {
    let s = Server::start();
    let t = ymd(today());
    let d = two_items(&s, &t);
    let (a, b) = (item_id(&d, 0), item_id(&d, 1));
    let r = activate(&s, &d, json!({"items": [a]}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    let activated_at = r.body["activatedAt"].clone();
    assert!(activated_at.is_string());
    assert_eq!(r.body["items"][0]["status"], "active");
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], t);
    // Left out: pending and not scheduled.
    assert_eq!(r.body["items"][1]["status"], "pending");
    assert_eq!(r.body["items"][1]["billing"]["nextBillingAt"], Value::Null);
    assert_eq!(r.body["nextBillingDate"], t);

    // A later activation without `items` takes every item still waiting; the subscription
    // keeps its status and activation time.
    let r = activate(&s, &d, json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["activatedAt"], activated_at);
    assert_eq!(r.body["items"][1]["id"], b.as_str());
    assert_eq!(r.body["items"][1]["status"], "active");
    assert_eq!(r.body["items"][1]["billing"]["nextBillingAt"], t);
    assert_eq!(
        outbox(&s, id(&d)),
        vec![
            "subscription.created",
            "subscription.activated",
            "subscription.updated"
        ]
    );
    // Nothing left to activate.
    assert_problem(&activate(&s, &d, json!({})), 409);
    assert_problem(&activate(&s, &d, json!({"items": [b]})), 409);
}

#[test]
fn a_later_activation_starts_the_item_on_its_date() {
    let s = Server::start();
    let start = ymd(today().checked_sub_days(chrono::Days::new(10)).unwrap());
    let d = two_items(&s, &start);
    let (a, b) = (item_id(&d, 0), item_id(&d, 1));
    // The first activation follows the billing start, also in the past (08 §1.6).
    let r = activate(&s, &d, json!({"items": [a], "activationDate": start}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], start);
    // Activated today, the second item starts and is billed from today, not from 10 days ago.
    let t = ymd(today());
    let r = activate(&s, &d, json!({"items": [b]}));
    assert_eq!(r.status, 200, "{}", r.text);
    let item = &r.body["items"][1];
    assert_eq!(item["status"], "active");
    assert_eq!(item["startDate"], t);
    assert_eq!(item["billingStart"], t);
    assert_eq!(item["billing"]["nextBillingAt"], t);
    // The first item is untouched.
    assert_eq!(r.body["items"][0]["startDate"], start);
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], start);
}

#[test]
fn bad_selections_name_each_entry_and_change_nothing() {
    let s = Server::start();
    let t = ymd(today());
    let d = two_items(&s, &t);
    let other = two_items(&s, &t);
    let path = format!("/subscriptions/{}", id(&d));
    let before = s.get(&path).body;
    assert_eq!(
        activate(&s, &d, json!({"items": []})).violation_paths(),
        ["items"]
    );
    assert_eq!(
        activate(&s, &d, json!({"items": "all"})).violation_paths(),
        ["items"]
    );
    // Unknown ids, another subscription's item, a non-string: each named.
    let r = activate(
        &s,
        &d,
        json!({"items": ["nope", item_id(&other, 0), 7, item_id(&d, 0)],
               "activationDate": "soon"}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        ["activationDate", "items[0]", "items[1]", "items[2]"]
    );
    assert_eq!(
        s.get(&path).body,
        before,
        "a refused request changes nothing"
    );
    assert_eq!(outbox(&s, id(&d)), vec!["subscription.created"]);

    // An item already active cannot be selected again.
    let r = activate(&s, &d, json!({"items": [item_id(&d, 0)]}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = activate(&s, &d, json!({"items": [item_id(&d, 1), item_id(&d, 0)]}));
    assert_eq!(r.violation_paths(), ["items[1]"]);
    assert_eq!(s.get(&path).body["items"][1]["status"], "pending");

    // Cancelling drops the item still waiting: terminated at once, its last covered day the
    // day before its billing start (it covered none); revoking brings back only the other.
    let cancel = json!({"cancellationDateType": "next_possible"});
    let r = s.put(&format!("{path}/cancel"), &cancel);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"][0]["status"], "canceled");
    let dropped = &r.body["items"][1];
    assert_eq!(dropped["status"], "terminated");
    assert_eq!(dropped["endDate"], ymd(today().pred_opt().unwrap()));
    assert_problem(&activate(&s, &d, json!({})), 409);
    let r = s.put(&format!("{path}/revoke-cancellation"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"][0]["status"], "active");
    assert_eq!(r.body["items"][1]["status"], "terminated");
    assert_problem(&activate(&s, &d, json!({})), 409);
    assert_eq!(s.put(&format!("{path}/terminate"), &json!({})).status, 200);
    assert_problem(&activate(&s, &d, json!({})), 409);
}

#[test]
fn an_item_waiting_for_activation_is_dropped_when_cancelled_alone() {
    let s = Server::start();
    let t = ymd(today());
    let d = two_items(&s, &t);
    let r = activate(&s, &d, json!({"items": [item_id(&d, 0)]}));
    assert_eq!(r.status, 200, "{}", r.text);
    let waiting = item_id(&d, 1);
    let r = s.put(
        &format!("/subscription-items/{waiting}/cancel"),
        &json!({"cancellationDateType": "next_possible"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "terminated");
    assert_eq!(r.body["billing"]["nextBillingAt"], Value::Null);
    // The other item runs on; the subscription stays active.
    let sub = s.get(&format!("/subscriptions/{}", id(&d))).body;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["items"][0]["status"], "active");
    assert_eq!(outbox(&s, &waiting), vec!["subscription_item.terminated"]);
    // A billing run bills the active item only: 30.00.
    let r = s.post("/billing-runs", &json!({"date": t, "dryRun": false}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(invoice_nets(&s), vec![3000]);
}

/// The billing engine skips items left out of an activation (never scheduled, never billed;
/// `billing::items::for_customer`): a run bills only the activated one.
#[test]
fn a_billing_run_bills_only_activated_items() {
    let s = Server::start();
    let t = ymd(today());
    let d = two_items(&s, &t);
    let r = activate(&s, &d, json!({"items": [item_id(&d, 0)]}));
    assert_eq!(r.status, 200, "{}", r.text);
    let run = |date: &str| {
        let r = s.post("/billing-runs", &json!({"date": date, "dryRun": false}));
        assert_eq!(r.status, 201, "{}", r.text);
    };
    run(&t);
    // Only the 30.00 item.
    assert_eq!(invoice_nets(&s), vec![3000]);
    let sub = s.get(&format!("/subscriptions/{}", id(&d))).body;
    assert_eq!(sub["items"][1]["status"], "pending");
    assert_eq!(sub["items"][1]["billing"]["nextBillingAt"], Value::Null);
    // Activated later, the 10.00 item is billed from its activation on.
    assert_eq!(activate(&s, &d, json!({})).status, 200);
    let tomorrow = ymd(plus_days(today(), 1));
    run(&tomorrow);
    assert_eq!(invoice_nets(&s), vec![3000, 1000]);
}
