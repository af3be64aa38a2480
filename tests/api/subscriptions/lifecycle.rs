//! The state machine: activate, pause/resume in both modes, trials, invoice address and payment
//! method, order products, and a 409 for every action outside its allowed statuses.

use super::{active, customer, draft, id, outbox, plan, plus_days, today, ymd};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

#[test]
fn activate_schedules_billing_and_starts_items() {
    let s = Server::start();
    let c = customer(&s);
    let (_, p) = plan(&s, json!({}));
    let future = ymd(plus_days(today(), 10));
    let d = draft(&s, id(&c), &p, json!({}));
    // A second item starting later stays pending until its start date.
    let r = s.post(
        "/subscriptions",
        &json!({"customer": id(&c), "items": [{"pricePlan": p}, {"pricePlan": p, "startDate": future}]}),
    );
    let two = r.body;
    let a = s.put(&format!("/subscriptions/{}/activate", id(&d)), &json!({}));
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["status"], "active");
    assert!(a.body["activatedAt"].is_string());
    assert_eq!(a.body["items"][0]["status"], "active");
    assert_eq!(a.body["nextBillingDate"], ymd(today()));
    assert_eq!(
        outbox(&s, id(&d)),
        vec!["subscription.created", "subscription.activated"]
    );
    let a = s
        .put(&format!("/subscriptions/{}/activate", id(&two)), &json!({}))
        .body;
    assert_eq!(a["items"][0]["status"], "active");
    assert_eq!(a["items"][1]["status"], "pending");
    // A second activation is a state conflict.
    assert_problem(
        &s.put(&format!("/subscriptions/{}/activate", id(&d)), &json!({})),
        409,
    );
    let r = s.put(
        &format!("/subscriptions/{}/activate", id(&d)),
        &json!({"activationDate": "x"}),
    );
    assert_problem(&r, 409);
}

#[test]
fn pause_and_resume_billing_missed_periods() {
    let (s, sub) = active(json!({"billingStart": "2026-01-01"}));
    let path = format!("/subscriptions/{}", id(&sub));
    let p = s.put(&format!("{path}/pause"), &json!({}));
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["status"], "paused");
    assert_eq!(p.body["pause"]["pausedAt"], ymd(today()));
    assert_problem(&s.put(&format!("{path}/pause"), &json!({})), 409);
    // Without nextBillingDate the schedule stays: every missed period is still due.
    let r = s.put(&format!("{path}/resume"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["pause"]["resumedAt"], ymd(today()));
    assert_eq!(r.body["pause"]["resumeMode"], "bill_missed");
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], "2026-01-01");
    assert_problem(&s.put(&format!("{path}/resume"), &json!({})), 409);
    assert_eq!(
        outbox(&s, id(&sub))[2..],
        ["subscription.paused", "subscription.resumed"]
    );
}

#[test]
fn resume_with_next_billing_date_skips_the_pause() {
    // 08 §1.9 example: paused after the first cycle, resumed with nextBillingDate = a later
    // first of the month: the periods in between are never billed, the schedule restarts there.
    let (s, sub) = active(json!({"billingStart": ymd(today())}));
    let path = format!("/subscriptions/{}", id(&sub));
    // The engine billed the first cycle: the next period starts one month later.
    let next_period = super::plus_months(today(), 1);
    s.db()
        .execute(
            "UPDATE subscription_items SET next_period_start = ?1, next_billing_date = ?1",
            [ymd(next_period)],
        )
        .unwrap();
    assert_eq!(s.put(&format!("{path}/pause"), &json!({})).status, 200);
    // Earlier than the already billed cycle: refused, it would bill days twice.
    let r = s.put(
        &format!("{path}/resume"),
        &json!({"nextBillingDate": ymd(today())}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["nextBillingDate"]);
    let restart = super::plus_months(today(), 3);
    let r = s.put(
        &format!("{path}/resume"),
        &json!({"nextBillingDate": ymd(restart)}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["pause"]["resumeMode"], "skip");
    assert_eq!(r.body["pause"]["nextBillingDate"], ymd(restart));
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], ymd(restart));
    assert_eq!(r.body["nextBillingDate"], ymd(restart));
}

#[test]
fn trial_extend_and_revoke() {
    let s = Server::start();
    let c = customer(&s);
    let (_, p) = plan(&s, json!({"trialDays": 14}));
    let d = draft(&s, id(&c), &p, json!({}));
    let path = format!("/subscriptions/{}", id(&d));
    let ends = plus_days(today(), 14);
    assert_eq!(d["trialEndsOn"], ymd(ends));
    assert_eq!(s.put(&format!("{path}/activate"), &json!({})).status, 200);
    // Billing starts at the trial end.
    let sub = s.get(&path).body;
    assert_eq!(sub["items"][0]["billing"]["nextBillingAt"], ymd(ends));
    let r = s.put(
        &format!("{path}/extend-trial"),
        &json!({"trialEndsOn": ymd(today())}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["trialEndsOn"]);
    assert_eq!(
        s.put(&format!("{path}/extend-trial"), &json!({}))
            .violation_paths(),
        vec!["trialEndsOn"]
    );
    let later = plus_days(today(), 30);
    let r = s.put(
        &format!("{path}/extend-trial"),
        &json!({"trialEndsOn": ymd(later)}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["trialEndsOn"], ymd(later));
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], ymd(later));
    let r = s.put(&format!("{path}/revoke-trial"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["trialEndsOn"], ymd(today()));
    assert_eq!(r.body["items"][0]["billing"]["nextBillingAt"], ymd(today()));
    // No trial running any more: both are conflicts.
    assert_problem(&s.put(&format!("{path}/revoke-trial"), &json!({})), 409);
    assert_problem(
        &s.put(
            &format!("{path}/extend-trial"),
            &json!({"trialEndsOn": ymd(later)}),
        ),
        409,
    );
    let events = outbox(&s, id(&d));
    assert!(events.contains(&"subscription.trial_extended".to_string()));
    assert!(events.contains(&"subscription.trial_expired".to_string()));
}

#[test]
fn invoice_address_and_payment_method() {
    let (s, sub) = active(json!({}));
    let path = format!("/subscriptions/{}", id(&sub));
    let address = sub["customer"]["id"].as_str().unwrap();
    let addr_id: String = s
        .db()
        .query_row(
            "SELECT id FROM customer_addresses WHERE customer_id = ?1",
            [address],
            |r| r.get(0),
        )
        .unwrap();
    let r = s.put(
        &format!("{path}/invoice-address"),
        &json!({"invoiceAddress": addr_id}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["invoiceAddress"]["id"], addr_id.as_str());
    let other = customer(&s);
    let foreign = other["addresses"][0]["id"].as_str().unwrap();
    let r = s.put(
        &format!("{path}/invoice-address"),
        &json!({"invoiceAddress": foreign}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["invoiceAddress"]);
    let r = s.put(
        &format!("{path}/invoice-address"),
        &json!({"invoiceAddress": null}),
    );
    assert_eq!(r.body["invoiceAddress"], Value::Null);
    let r = s.patch(
        &format!("{path}/payment-method"),
        &json!({"paymentMethodId": "pm-1"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["paymentMethod"]["id"], "pm-1");
    assert_problem(&s.patch(&format!("{path}/payment-method"), &json!({})), 422);
    let events = outbox(&s, id(&sub));
    assert!(events.contains(&"subscription.invoice_address.updated".to_string()));
    assert!(events.contains(&"subscription.payment_method.updated".to_string()));
}

#[test]
fn order_products_adds_scheduled_items() {
    let (s, sub) = active(json!({}));
    let path = format!("/subscriptions/{}/products", id(&sub));
    let (_, p) = plan(&s, json!({}));
    let r = s.post(
        &path,
        &json!({"products": [{"pricePlan": p, "quantity": 2.5}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let item = &r.body["items"][1];
    assert_eq!(item["status"], "active");
    assert_eq!(item["quantity"], json!(2.5));
    assert_eq!(item["billing"]["nextBillingAt"], ymd(today()));
    assert_problem(&s.post(&path, &json!({"products": []})), 422);
    let (_, usd) = plan(&s, json!({"currencyCode": "USD"}));
    let r = s.post(&path, &json!({"products": [{"pricePlan": usd}]}));
    assert_eq!(r.violation_paths(), vec!["products"]);
    assert!(outbox(&s, id(&sub)).contains(&"subscription.products.ordered".to_string()));
    assert_eq!(
        s.put(
            &format!("/subscriptions/{}/terminate", id(&sub)),
            &json!({})
        )
        .status,
        200
    );
    assert_problem(
        &s.post(&path, &json!({"products": [{"pricePlan": p}]})),
        409,
    );
}

#[test]
fn every_action_outside_its_statuses_is_a_conflict() {
    let s = Server::start();
    let c = customer(&s);
    let (_, p) = plan(&s, json!({}));
    let d = draft(&s, id(&c), &p, json!({"trialDays": 0}));
    let path = format!("/subscriptions/{}", id(&d));
    let cancel = json!({"cancellationDateType": "next_possible"});
    // Draft: only activate (and update) are allowed.
    for (action, body) in [
        ("cancel", cancel.clone()),
        ("revoke-cancellation", json!({})),
        ("terminate", json!({})),
        ("pause", json!({})),
        ("resume", json!({})),
        ("revoke-trial", json!({})),
        ("extend-trial", json!({"trialEndsOn": "2099-01-01"})),
    ] {
        assert_problem(&s.put(&format!("{path}/{action}"), &body), 409);
    }
    assert_eq!(s.put(&format!("{path}/activate"), &json!({})).status, 200);
    // Active: no resume, no revoke-cancellation.
    assert_problem(&s.put(&format!("{path}/resume"), &json!({})), 409);
    assert_problem(
        &s.put(&format!("{path}/revoke-cancellation"), &json!({})),
        409,
    );
    // Paused: no second pause, no activate; cancel is allowed.
    assert_eq!(s.put(&format!("{path}/pause"), &json!({})).status, 200);
    assert_problem(&s.put(&format!("{path}/activate"), &json!({})), 409);
    let r = s.put(&format!("{path}/cancel"), &cancel);
    assert_eq!(r.status, 200, "{}", r.text);
    // Cancelled: no pause, no resume, no second cancel.
    for action in ["pause", "resume", "activate"] {
        assert_problem(&s.put(&format!("{path}/{action}"), &json!({})), 409);
    }
    assert_problem(&s.put(&format!("{path}/cancel"), &cancel), 409);
    assert_eq!(s.put(&format!("{path}/terminate"), &json!({})).status, 200);
    // Terminated is final.
    for action in [
        "activate",
        "pause",
        "resume",
        "terminate",
        "revoke-cancellation",
    ] {
        assert_problem(&s.put(&format!("{path}/{action}"), &json!({})), 409);
    }
    assert_problem(&s.put(&format!("{path}/cancel"), &cancel), 409);
    assert_problem(&s.patch(&path, &json!({"name": "x"})), 409);
}
