//! Billing runs through HTTP: amounts on the invoice, dry runs, and exactly-once (the same date
//! twice, two concurrent runs, a run killed part-way and re-run). Subscriptions are inserted
//! straight into the database so these tests do not depend on the subscriptions API.

mod usage;

use crate::common::Server;
use crate::invoices::customer;
use crate::price_plans::{create, product};
use serde_json::{json, Value};

/// An active subscription of `customer` with one item on `plan`, billed from `start`.
fn subscription(s: &Server, customer: &str, product: &str, plan: &str, start: &str) -> String {
    let id = format!("sub-{}", kontor::domain::ids::new_id());
    let conn = s.db();
    conn.execute(
        "INSERT INTO subscriptions (id, tenant_id, customer_id, number, name, status,
             currency_code, contract_start, billing_start, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?1, 'Cloud', 'active', 'EUR', ?4, ?4, ?5, ?5)",
        rusqlite::params![
            id,
            s.tenant_id,
            customer,
            start,
            "2026-01-01T00:00:00+00:00"
        ],
    )
    .expect("subscription");
    conn.execute(
        "INSERT INTO subscription_items (id, tenant_id, subscription_id, product_id, price_plan_id,
             quantity, status, start_date, billing_start, billing_anchor, created_at, updated_at)
         VALUES (?1 || '-item', ?2, ?1, ?3, ?4, '1', 'active', ?5, ?5, ?5, ?6, ?6)",
        rusqlite::params![
            id,
            s.tenant_id,
            product,
            plan,
            start,
            "2026-01-01T00:00:00+00:00"
        ],
    )
    .expect("item");
    id
}

/// A customer with a 30.00 / month flat-fee subscription from `start`.
fn subscribed(s: &Server, start: &str) -> (String, String) {
    let c = customer(s, &s.token, json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = product(s, &s.tenant_id, "product", false);
    let plan = create(
        s,
        &p,
        json!({"type": "flat_fee", "price": {"amount": "30.00"}}),
    );
    let sub = subscription(s, &c, &p, plan["id"].as_str().unwrap(), start);
    (c, sub)
}

fn run(s: &Server, date: &str, dry: bool) -> Value {
    let r = s.post("/billing-runs", &json!({"date": date, "dryRun": dry}));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn count(s: &Server, sql: &str) -> i64 {
    s.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn bills_every_due_period_once_on_one_finalized_invoice() {
    let s = Server::start();
    let (c, sub) = subscribed(&s, "2026-01-01");
    let r = run(&s, "2026-03-01", false);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        (
            r["invoicesCreated"].as_i64(),
            r["subscriptionsBilled"].as_i64()
        ),
        (Some(1), Some(1))
    );
    // Jan, Feb, Mar in advance: 3 × 30.00 = 90.00 net; 19 % of 90.00 = 17.10; gross 107.10.
    let inv: (String, i64, i64, String) = s
        .db()
        .query_row(
            "SELECT id, net_amount, gross_amount, status FROM invoices WHERE customer_id = ?1",
            [&c],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (inv.1, inv.2, inv.3.as_str()),
        (9000, 10710, "STATUS_UNPAID")
    );
    let details = s.get(&format!("/invoices/{}/billing-run", inv.0));
    assert_eq!(details.status, 200, "{}", details.text);
    assert_eq!(details.body["id"], r["id"]);
    assert_eq!(details.body["subscriptions"], json!([{"id": sub}]));
    assert_eq!(
        details.body["subscriptionItems"].as_array().unwrap().len(),
        3
    );
    assert_eq!(details.body["dateRangeFrom"], "2026-01-01T00:00:00");
    assert_eq!(details.body["dateRangeTo"], "2026-03-31T23:59:59");
    // The same date again bills nothing.
    let again = run(&s, "2026-03-01", false);
    assert_eq!(again["invoicesCreated"], 0);
    assert_eq!(count(&s, "SELECT count(*) FROM invoices"), 1);
    assert_eq!(count(&s, "SELECT count(*) FROM billed_periods"), 3);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM outbox WHERE event_type = 'subscription.billed'"
        ),
        1
    );
    // Runs are listed newest first and read one by one.
    let list = s.get("/billing-runs");
    assert_eq!(list.body["data"][0]["id"], again["id"]);
    assert_eq!(list.body["meta"]["pagination"]["totalItems"], 2);
    assert_eq!(
        s.get(&format!("/billing-runs/{}", r["id"].as_str().unwrap()))
            .body["date"],
        "2026-03-01"
    );
    assert_eq!(s.get("/billing-runs/nope").status, 404);
}

#[test]
fn a_dry_run_writes_nothing_and_shows_what_would_be_billed() {
    let s = Server::start();
    subscribed(&s, "2026-01-01");
    let r = run(&s, "2026-02-01", true);
    assert_eq!(
        (r["dryRun"].as_bool(), r["invoicesCreated"].as_i64()),
        (Some(true), Some(1))
    );
    // Jan + Feb: 60.00 net, 11.40 tax, 71.40 gross.
    assert_eq!(r["preview"][0]["invoices"][0]["grossAmount"], 7140, "{r}");
    assert_eq!(
        r["preview"][0]["invoices"][0]["periods"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(count(&s, "SELECT count(*) FROM invoices"), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM billed_periods"), 0);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM outbox WHERE event_type LIKE 'invoice.%'"
        ),
        0
    );
}

#[test]
fn two_concurrent_runs_bill_each_period_once() {
    let s = Server::start();
    for _ in 0..4 {
        subscribed(&s, "2026-01-01");
    }
    std::thread::scope(|scope| {
        let a = scope.spawn(|| run(&s, "2026-02-01", false));
        let b = scope.spawn(|| run(&s, "2026-02-01", false));
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let total = a["invoicesCreated"].as_i64().unwrap() + b["invoicesCreated"].as_i64().unwrap();
        assert_eq!(total, 4, "{a} {b}");
    });
    assert_eq!(count(&s, "SELECT count(*) FROM invoices"), 4);
    assert_eq!(count(&s, "SELECT count(*) FROM billed_periods"), 8);
    assert_eq!(
        count(&s, "SELECT count(*) FROM (SELECT 1 FROM invoices GROUP BY customer_id HAVING count(*) > 1)"),
        0
    );
}

#[test]
fn a_run_killed_part_way_leaves_complete_invoices_and_a_rerun_bills_the_rest() {
    let s = Server::start();
    let (_, a) = subscribed(&s, "2026-01-01");
    let (_, b) = subscribed(&s, "2026-01-01");
    // Simulate a crash while billing the second subscription's customer.
    s.db()
        .execute_batch(&format!(
            "CREATE TRIGGER crash BEFORE INSERT ON billed_periods WHEN NEW.subscription_id = '{b}'
             BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;"
        ))
        .unwrap();
    let r = run(&s, "2026-02-01", false);
    assert_eq!(
        (r["status"].as_str(), r["invoicesCreated"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert!(
        r["error"].as_str().unwrap().contains("simulated crash"),
        "{r}"
    );
    // Nothing of the failed customer stayed: no half invoice, no draft, no number (the batch
    // ran again with a savepoint per customer; the other invoice has the first number).
    assert_eq!(count(&s, "SELECT count(*) FROM invoices"), 1);
    let number: String = s
        .db()
        .query_row("SELECT number FROM invoices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(number, "RE-0000000001");
    assert_eq!(
        count(
            &s,
            &format!("SELECT count(*) FROM billed_periods WHERE subscription_id = '{a}'")
        ),
        2
    );
    s.db().execute_batch("DROP TRIGGER crash;").unwrap();
    let again = run(&s, "2026-02-01", false);
    assert_eq!(
        (again["status"].as_str(), again["invoicesCreated"].as_i64()),
        (Some("completed"), Some(1))
    );
    assert_eq!(count(&s, "SELECT count(*) FROM invoices"), 2);
    assert_eq!(count(&s, "SELECT count(*) FROM billed_periods"), 4);
}

#[test]
fn scopes_and_manual_invoices() {
    let s = Server::start();
    let r = s.post("/billing-runs", &json!({"date": "2026-13-01"}));
    assert_eq!(r.status, 422, "{}", r.text);
    let r = s.post("/billing-runs", &json!({"when": "x"}));
    assert_eq!(r.status, 422, "{}", r.text);
    // Without subscriptions a run completes with nothing billed.
    let r = run(&s, "2026-02-01", false);
    assert_eq!(
        (r["status"].as_str(), r["invoicesCreated"].as_i64()),
        (Some("completed"), Some(0))
    );
}

/// A run applies each customer's own `manualApproval` and `defaultDueDays`, else the tenant's:
/// it reads every customer's values of a key at once (`Facts::for_run`).
#[test]
fn a_run_applies_each_customers_settings() {
    let s = Server::start();
    let r = s.patch("/settings/billing", &json!({"defaultDueDays": 10}));
    assert_eq!(r.status, 200, "{}", r.text);
    let (held, _) = subscribed(&s, "2026-01-01");
    let (thirty, _) = subscribed(&s, "2026-01-01");
    let (plain, _) = subscribed(&s, "2026-01-01");
    let own = |c: &str, body: Value| {
        let r = s.patch(&format!("/customers/{c}/settings/billing"), &body);
        assert_eq!(r.status, 200, "{}", r.text);
    };
    own(&held, json!({"manualApproval": true}));
    own(&thirty, json!({"defaultDueDays": 30}));
    assert_eq!(run(&s, "2026-01-01", false)["invoicesCreated"], 3);
    let invoice = |c: &str| -> Value {
        let id: String = s
            .db()
            .query_row("SELECT id FROM invoices WHERE customer_id = ?1", [c], |r| {
                r.get(0)
            })
            .unwrap();
        s.get(&format!("/invoices/{id}")).body
    };
    // Days from finalization to due date.
    let days = |inv: &Value| {
        let day = |k: &str| {
            chrono::NaiveDate::parse_from_str(inv[k].as_str().unwrap(), "%Y-%m-%d").unwrap()
        };
        (day("dueDate") - day("finalizationDate")).num_days()
    };
    assert_eq!(invoice(&held)["status"], "STATUS_DRAFT");
    assert_eq!(invoice(&held)["number"], Value::Null);
    let thirty = invoice(&thirty);
    assert_eq!(
        (thirty["status"].as_str(), days(&thirty)),
        (Some("STATUS_UNPAID"), 30)
    );
    let plain = invoice(&plain);
    assert_eq!(
        (plain["status"].as_str(), days(&plain)),
        (Some("STATUS_UNPAID"), 10)
    );
}

/// Every `invoice.finalized` event, and every `invoice.created` event of a billing run's
/// invoice, of an invoice nothing was paid or credited on since equals what
/// `GET /invoices/{id}` answers now: a run builds its invoice in memory and writes it once,
/// and both events carry the read shape it was committed in without reading it back
/// (`invoices::issue`). Returns how many compared.
pub fn assert_finalized_events_match_reads(s: &Server) -> usize {
    let events: Vec<(String, String)> = s
        .db()
        .prepare(
            "SELECT o.object_id, o.payload FROM outbox_events o JOIN invoices i ON i.id = o.object_id
             WHERE (o.event_type = 'invoice.finalized'
                    OR (o.event_type = 'invoice.created'
                        AND i.id IN (SELECT invoice_id FROM billing_run_invoices)))
               AND i.paid_amount = 0 AND i.credited_amount = 0
             ORDER BY o.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, payload) in &events {
        let read = s.get(&format!("/invoices/{id}"));
        assert_eq!(read.status, 200, "{}", read.text);
        let payload: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(payload, read.body, "invoice {id}");
    }
    events.len()
}

fn read_due(s: &Server, id: &str) -> Value {
    s.get(&format!("/invoices/{id}")).body["dueDate"].clone()
}

/// A run creates and seals an invoice in one transaction, so no one ever sees its draft: both
/// `invoice.created` and `invoice.finalized` carry the invoice as committed (numbered, due,
/// with the seller), equal to `GET /invoices/{id}`.
#[test]
fn run_events_carry_the_invoice_as_read() {
    let s = Server::start();
    let (c, _) = subscribed(&s, "2026-01-01");
    assert_eq!(run(&s, "2026-01-01", false)["invoicesCreated"], 1);
    assert_eq!(assert_finalized_events_match_reads(&s), 2);
    let id: String = s
        .db()
        .query_row(
            "SELECT id FROM invoices WHERE customer_id = ?1",
            [&c],
            |r| r.get(0),
        )
        .unwrap();
    let text: String = s
        .db()
        .query_row(
            "SELECT payload FROM outbox WHERE object_id = ?1 AND event_type = 'invoice.created'",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    let created: Value = serde_json::from_str(&text).unwrap();
    assert!(created["dueDate"].is_string(), "{created}");
    // invoice.finalized points at invoice.created's payload instead of a second copy.
    let stored: (bool, bool) = s
        .db()
        .query_row(
            "SELECT f.payload IS NULL, f.payload_of = c.id FROM outbox f
             JOIN outbox c ON c.object_id = f.object_id AND c.event_type = 'invoice.created'
             WHERE f.object_id = ?1 AND f.event_type = 'invoice.finalized'",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(stored, (true, true));
    assert_eq!(
        (
            &created["status"],
            &created["number"],
            &created["dueDate"],
            &created["organization"]["name"],
            &created["unpaidAmount"]["amount"],
            &created["positions"][0]["isCreditable"],
        ),
        (
            &json!("STATUS_UNPAID"),
            &json!("RE-0000000001"),
            &read_due(&s, &id),
            &json!("Acme GmbH"),
            &json!(3570),
            &json!(true)
        )
    );
    // 30.00 net + 19 % = 35.70.
    assert_eq!(created["grossAmount"]["amount"], 3570);
}
