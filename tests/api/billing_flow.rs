//! The whole path through the API only: a subscription created and activated with
//! `POST /subscriptions` + `PUT .../activate`, billed by `POST /billing-runs`, read back as a
//! finalized invoice.

use crate::subscriptions::{customer, draft, id, plan};
use serde_json::{json, Value};

fn run(s: &crate::common::Server, date: &str) -> Value {
    let r = s.post("/billing-runs", &json!({"date": date, "dryRun": false}));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn invoices(s: &crate::common::Server) -> Vec<Value> {
    let r = s.get("/invoices?order[createdAt]=asc");
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].as_array().unwrap().clone()
}

#[test]
fn an_activated_subscription_is_billed_once_per_period() {
    let s = crate::common::Server::start();
    let c = customer(&s);
    // flat_fee 30.00 EUR per month, paid in advance (the fixture's defaults).
    let (_, p) = plan(&s, json!({}));
    let d = draft(
        &s,
        id(&c),
        &p,
        json!({"contractStart": "2026-01-31", "billingStart": "2026-01-31"}),
    );
    let r = s.put(&format!("/subscriptions/{}/activate", id(&d)), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);

    // Periods anchored on Jan 31 clamp to month ends: Jan 31-Feb 27, Feb 28-Mar 30, Mar 31-...
    // A run on Feb 27 bills the first period only: 30.00 net, 19 % = 5.70, gross 35.70.
    let first = run(&s, "2026-02-27");
    assert_eq!(first["invoicesCreated"], 1, "{first}");
    let list = invoices(&s);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "STATUS_UNPAID");
    assert_eq!(list[0]["netAmount"]["amount"], 3000);
    assert_eq!(list[0]["taxAmount"]["amount"], 570);
    assert_eq!(list[0]["grossAmount"]["amount"], 3570);
    assert!(list[0]["number"].as_str().unwrap().starts_with("RE-"));

    // The same date again bills nothing more.
    assert_eq!(run(&s, "2026-02-27")["invoicesCreated"], 0);
    assert_eq!(invoices(&s).len(), 1);

    // Feb 28 starts the second period (Feb 28 = Jan 31 + 1 month, clamped): one more 30.00.
    assert_eq!(run(&s, "2026-02-28")["invoicesCreated"], 1);
    // Mar 30 is still inside it; Mar 31 starts the third.
    assert_eq!(run(&s, "2026-03-30")["invoicesCreated"], 0);
    assert_eq!(run(&s, "2026-03-31")["invoicesCreated"], 1);
    let list = invoices(&s);
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|i| i["grossAmount"]["amount"] == 3570));
    let billed: i64 = s
        .db()
        .query_row("SELECT count(*) FROM billed_periods", [], |r| r.get(0))
        .unwrap();
    assert_eq!(billed, 3, "one billed period per item and period");
}
