//! Corrections: cancellation (Storno) documents, with shared fixtures for credit notes
//! (`invoice_corrections/credit.rs`) and for permissions, tenant isolation and "a failed
//! request changes nothing" (`invoice_corrections/access.rs`). Amounts are hand-checked; the
//! arithmetic is in the comments.

pub(crate) mod access;
mod credit;

use crate::common::{assert_problem, Server};
use crate::invoices::{actions, catalog, customer, draft, eur, finalize, line, outbox, totals};
use serde_json::{json, Value};

/// The worked example of reference 06 §6 (German consumer):
/// A 3 × 9.99 = 29.97 at 19 %; B 1 × 100.00 − 10 % = 90.00 at 19 %; C 2 × 4.995 = 9.99 at 7 %.
/// 19 %: 119.97 × 0.19 = 22.7943 -> 22.79; 7 %: 9.99 × 0.07 = 0.6993 -> 0.70.
/// Net 129.96, tax 23.49, gross 153.45.
pub(crate) fn reference_example(s: &Server) -> Value {
    let c = catalog(s, &s.tenant_id);
    let cu = customer(s, &s.token, json!({}));
    let mut b = line(&c, "B", json!(1), "100.00", &c.standard);
    b["discountPercentage"] = json!(10);
    let positions = json!([
        line(&c, "A", json!(3), "9.99", &c.standard),
        b,
        line(&c, "C", json!(2), "4.995", &c.reduced),
    ]);
    let d = draft(s, cu["id"].as_str().unwrap(), positions);
    let inv = finalize(s, id(&d));
    assert_eq!(totals(&inv), (12996, 2349, 15345));
    inv
}

/// A finalized invoice of one 19 % line `quantity` × `price`.
pub(crate) fn single_line(s: &Server, quantity: Value, price: &str) -> Value {
    let c = catalog(s, &s.tenant_id);
    let cu = customer(s, &s.token, json!({}));
    let d = draft(
        s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "Service", quantity, price, &c.standard)]),
    );
    finalize(s, id(&d))
}

pub(crate) fn id(v: &Value) -> &str {
    v["id"].as_str().expect("id")
}

pub(crate) fn positions(inv: &Value) -> Vec<Value> {
    inv["positions"].as_array().expect("positions").clone()
}

pub(crate) fn cancel(s: &Server, inv: &str) -> crate::common::Resp {
    s.post(&format!("/invoices/{inv}/cancel"), &json!({}))
}

/// The original as it must stay: everything but status, money state and update time.
pub(crate) fn frozen(inv: &Value) -> Value {
    let mut v = inv.clone();
    for k in [
        "status",
        "unpaidAmount",
        "paidAmount",
        "payDate",
        "updatedAt",
        "paymentMethod",
    ] {
        v[k] = Value::Null;
    }
    if let Some(ps) = v["positions"].as_array_mut() {
        for p in ps {
            for k in [
                "isCreditable",
                "isFullyCredited",
                "creditableQuantity",
                "updatedAt",
            ] {
                p[k] = Value::Null;
            }
        }
    }
    v
}

#[test]
fn a_cancellation_mirrors_the_invoice_and_references_it() {
    let s = Server::start();
    let inv = reference_example(&s);
    let r = cancel(&s, id(&inv));
    assert_eq!(r.status, 201, "{}", r.text);
    let doc = &r.body;
    assert_eq!(doc["type"], "TYPE_CANCELLATION");
    // Nothing was paid: the Storno is fully set off against the open amount.
    assert_eq!(doc["status"], "STATUS_PAID");
    assert_eq!(doc["number"], "ST-0000000001");
    assert_eq!(doc["referencedInvoice"]["id"], inv["id"]);
    assert_eq!(doc["referencedInvoice"]["number"], inv["number"]);
    assert_eq!(doc["customer"]["id"], inv["customer"]["id"]);
    assert_eq!(
        doc["title"],
        format!(
            "Stornorechnung zu Rechnung {}",
            inv["number"].as_str().unwrap()
        )
    );
    // −(129.96 / 23.49 / 153.45), per rate −(119.97 / 22.79) and −(9.99 / 0.70).
    assert_eq!(totals(doc), (-12996, -2349, -15345));
    assert_eq!(doc["unpaidAmount"], eur(0));
    let rows: Vec<(Value, Value, Value)> = doc["taxBreakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["rate"].clone(),
                b["netAmount"]["amount"].clone(),
                b["taxAmount"]["amount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (json!(19), json!(-11997), json!(-2279)),
            (json!(7), json!(-999), json!(-70))
        ]
    );
    // Every position mirrored with its negated quantity and amounts, pointing at its original.
    let (orig, mirror) = (positions(&inv), positions(doc));
    assert_eq!(mirror.len(), 3);
    for (o, m) in orig.iter().zip(&mirror) {
        assert_eq!(m["name"], o["name"]);
        assert_eq!(m["unitPrice"], o["unitPrice"]);
        assert_eq!(m["referencedPositionItem"]["id"], o["id"]);
        let neg = |k: &str| -o[k]["amount"].as_i64().unwrap();
        assert_eq!(
            m["discountedNetAmount"]["amount"],
            neg("discountedNetAmount")
        );
        assert_eq!(m["netAmount"]["amount"], neg("netAmount"));
        assert_eq!(m["tax"]["rate"], o["tax"]["rate"]);
    }
    let q: Vec<&Value> = mirror.iter().map(|p| &p["quantity"]).collect();
    assert_eq!(q, [&json!(-3), &json!(-1), &json!(-2)]);

    // The original: cancelled, nothing due, every amount and text exactly as before.
    let after = s.get(&format!("/invoices/{}", id(&inv))).body;
    assert_eq!(after["status"], "STATUS_CANCELLED");
    assert_eq!(after["unpaidAmount"], eur(0));
    assert_eq!(frozen(&after), frozen(&inv));
    for p in positions(&after) {
        assert_eq!(p["isCreditable"], false);
    }
    assert_eq!(actions(&s, id(&inv)).last().unwrap(), "cancelled");
    assert_eq!(actions(&s, id(doc)), ["created"]);
    assert_eq!(
        outbox(&s, id(doc)),
        ["invoice.created", "invoice.finalized"]
    );
    assert_eq!(outbox(&s, id(&inv)).last().unwrap(), "invoice.canceled");
    // The cancellation is listed like any document.
    let list = s.get("/invoices?type=TYPE_CANCELLATION").body;
    assert_eq!(list["meta"]["pagination"]["totalItems"], 1);
}

#[test]
fn cancellation_numbers_come_from_their_own_range() {
    let s = Server::start();
    let a = single_line(&s, json!(1), "10.00");
    let b = single_line(&s, json!(1), "20.00");
    assert_eq!(cancel(&s, id(&a)).body["number"], "ST-0000000001");
    assert_eq!(cancel(&s, id(&b)).body["number"], "ST-0000000002");
    // The invoice range moved on by the two invoices only.
    let c = single_line(&s, json!(1), "30.00");
    assert_eq!(c["number"], "RE-0000000003");
}

#[test]
fn only_open_or_paid_invoices_can_be_cancelled() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let d = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "X", json!(1), "5.00", &c.standard)]),
    );
    assert_problem(&cancel(&s, id(&d)), 409);
    let inv = finalize(&s, id(&d));
    let storno = cancel(&s, id(&inv));
    assert_eq!(storno.status, 201);
    // Twice: the invoice is cancelled; a cancellation document cannot be cancelled either.
    assert_problem(&cancel(&s, id(&inv)), 409);
    assert_problem(&cancel(&s, id(&storno.body)), 409);
    assert_problem(&cancel(&s, "0190b6e6-7c2a-7d3e-8a51-8f1d2c3b4a59"), 404);
    assert_problem(&cancel(&s, "not-an-id"), 404);
    // A paid invoice can be cancelled.
    let paid = single_line(&s, json!(1), "10.00");
    let r = s.post(
        &format!("/invoices/{}/payments", id(&paid)),
        &json!({"description": "Transfer"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(cancel(&s, id(&paid)).status, 201);
    // Exactly two cancellation numbers were issued: failures consume none.
    let n: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM issued_numbers WHERE range_type = 'cancellation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn paid_money_stays_recorded_and_is_owed_back() {
    let s = Server::start();
    // 1 × 100.00 at 19 %: gross 119.00; 50.00 paid, 69.00 open.
    let inv = single_line(&s, json!(1), "100.00");
    let r = s.post(
        &format!("/invoices/{}/payments", id(&inv)),
        &json!({"description": "Part", "amount": 50.00}),
    );
    assert_eq!(r.body["unpaidAmount"], eur(6900));
    let r = s.post(
        &format!("/invoices/{}/cancel", id(&inv)),
        &json!({"reason": "Ordered twice"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // 69.00 set off against the open amount; the 50.00 received is owed to the customer.
    assert_eq!(r.body["status"], "STATUS_UNPAID");
    assert_eq!(r.body["unpaidAmount"], eur(-5000));
    assert_eq!(r.body["grossAmount"], eur(-11900));
    let after = s.get(&format!("/invoices/{}", id(&inv))).body;
    assert_eq!(after["status"], "STATUS_CANCELLED");
    assert_eq!(after["unpaidAmount"], eur(0));
    assert_eq!(after["paidAmount"], eur(5000));
    // No refund is made by itself (06 §1.8); the payment stays as it was.
    let t = s
        .get(&format!("/payment/transactions?invoice={}", id(&inv)))
        .body;
    assert_eq!(t["meta"]["pagination"]["totalItems"], 1);
    assert_eq!(t["data"][0]["type"], "payment");
    let h = s.get(&format!("/invoices/{}/history", id(&inv))).body;
    let last = h["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "cancelled");
    assert_eq!(last["details"]["reason"], "Ordered twice");
    assert_eq!(last["details"]["refundDue"], 5000);
}

#[test]
fn a_credited_invoice_is_not_cancelled_twice_over() {
    let s = Server::start();
    let inv = single_line(&s, json!(2), "10.00");
    let pos = positions(&inv)[0]["id"].clone();
    let r = s.post(
        &format!("/invoices/{}/credit", id(&inv)),
        &json!({"positions": [{"positionItem": pos, "quantity": 1}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = cancel(&s, id(&inv));
    assert_problem(&r, 409);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Credit the remaining"),
        "{}",
        r.text
    );
}

#[test]
fn cancel_body_is_checked_and_a_replay_cancels_once() {
    let s = Server::start();
    let inv = single_line(&s, json!(1), "10.00");
    let path = format!("/invoices/{}/cancel", id(&inv));
    let r = s.post(&path, &json!({"reason": 5, "extra": true}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["extra", "reason"]);
    assert_eq!(
        s.get(&format!("/invoices/{}", id(&inv))).body["status"],
        "STATUS_UNPAID"
    );
    // The same Idempotency-Key replays the first answer instead of cancelling again.
    let key = [("Idempotency-Key", "storno-1")];
    let body = json!({"reason": "typo"});
    let first = s.send("POST", &path, Some(&s.token), Some(&body), &key);
    let second = s.send("POST", &path, Some(&s.token), Some(&body), &key);
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(second.status, 201);
    assert_eq!(first.body, second.body);
    let list = s.get("/invoices?type=TYPE_CANCELLATION").body;
    assert_eq!(list["meta"]["pagination"]["totalItems"], 1);
}
