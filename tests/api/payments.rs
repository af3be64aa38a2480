//! Payments: partial and full payments with exact amounts, overpayment and every refused body,
//! the states that accept none, the payment method of an open invoice, the transaction reads,
//! scopes, tenant isolation and replayed requests. Amounts are hand-checked in comments.

use crate::common::{assert_problem, Server};
use crate::invoice_corrections::access::snapshot;
use crate::invoice_corrections::{id, single_line};
use crate::invoices::{actions, catalog, customer, draft, eur, finalize, line, money, outbox};
use serde_json::{json, Value};

const METHOD: &str = "0190b6e6-7c2a-7d3e-8a51-8f1d2c3b4a59";

fn pay(s: &Server, inv: &Value, body: Value) -> crate::common::Resp {
    s.post(&format!("/invoices/{}/payments", id(inv)), &body)
}

/// 1 × 100.00 at 19 %: gross 119.00.
fn invoice_119(s: &Server) -> Value {
    let inv = single_line(s, json!(1), "100.00");
    assert_eq!(inv["grossAmount"], eur(11900));
    inv
}

fn transactions(s: &Server, query: &str) -> Value {
    let r = s.get(&format!("/payment/transactions?{query}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[test]
fn partial_then_full_payment_pays_the_invoice() {
    let s = Server::start();
    let inv = invoice_119(&s);
    // 50.00 of 119.00: 69.00 left, still open.
    let r = pay(
        &s,
        &inv,
        json!({"description": "First instalment", "amount": 50.00, "feeAmount": 0.35,
               "paymentDate": "2026-01-15", "paymentMethod": METHOD}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["id"], inv["id"]);
    assert_eq!(r.body["status"], "STATUS_UNPAID");
    assert_eq!(r.body["unpaidAmount"], eur(6900));
    assert_eq!(r.body["paidAmount"], eur(5000));
    assert_eq!(r.body["payDate"], Value::Null);
    // The rest, amount omitted: the whole 69.00 still due, by bank transfer, dated today.
    let r = pay(&s, &inv, json!({"description": "Rest"}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "STATUS_PAID");
    assert_eq!(r.body["unpaidAmount"], eur(0));
    assert_eq!(r.body["paidAmount"], eur(11900));
    assert!(r.body["payDate"].as_str().unwrap().ends_with("+00:00"));
    // Amounts and number never move.
    assert_eq!(r.body["grossAmount"], eur(11900));
    assert_eq!(r.body["number"], inv["number"]);

    let list = transactions(&s, &format!("invoice={}", id(&inv)));
    assert_eq!(list["meta"]["pagination"]["totalItems"], 2);
    let first = &list["data"][0];
    assert_eq!(
        (
            first["type"].clone(),
            first["status"].clone(),
            first["gateway"].clone()
        ),
        (json!("payment"), json!("succeeded"), json!("bank_transfer"))
    );
    assert_eq!(first["amount"], eur(5000));
    assert_eq!(first["fee"], eur(35));
    assert_eq!(first["paymentDate"], "2026-01-15");
    assert_eq!(first["paymentMethod"], METHOD);
    assert_eq!(first["customer"], inv["customer"]["id"]);
    assert_eq!(first["number"], "PAY-00000001");
    let second = &list["data"][1];
    assert_eq!(second["amount"], eur(6900));
    assert_eq!(second["fee"], Value::Null);
    assert_eq!(second["paymentMethod"], Value::Null);
    assert_eq!(second["number"], "PAY-00000002");
    let one = s.get(&format!(
        "/payment/transactions/{}",
        first["id"].as_str().unwrap()
    ));
    assert_eq!(one.body, *first);

    assert_eq!(
        &actions(&s, id(&inv))[2..],
        ["payment.recorded", "payment.recorded", "paid"]
    );
    assert_eq!(
        &outbox(&s, id(&inv))[2..],
        ["invoice.updated", "invoice.paid"]
    );
    // Paid: no further payment.
    assert_problem(&pay(&s, &inv, json!({"description": "Again"})), 409);
}

#[test]
fn amounts_are_read_exactly() {
    let s = Server::start();
    // 1 × 84.03 at 19 %: tax 84.03 × 0.19 = 15.9657 -> 15.97, gross 100.00; paid as
    // 0.1 + 33.23 + 66.67 = 100.00 exactly (0.1 has no exact binary float).
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let d = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "X", json!(1), "84.03", &c.standard)]),
    );
    let inv = finalize(&s, id(&d));
    assert_eq!(inv["grossAmount"], eur(10000));
    for (amount, left) in [(json!(0.1), 9990), (json!(33.23), 6667), (json!(66.67), 0)] {
        let r = pay(&s, &inv, json!({"description": "x", "amount": amount}));
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["unpaidAmount"], eur(left));
    }
    assert_eq!(
        s.get(&format!("/invoices/{}", id(&inv))).body["status"],
        "STATUS_PAID"
    );
}

#[test]
fn overpayment_and_bad_bodies_are_refused_and_change_nothing() {
    let s = Server::start();
    let inv = invoice_119(&s);
    let before = snapshot(&s);
    let r = pay(
        &s,
        &inv,
        json!({"description": "Too much", "amount": 119.01}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["amount"]);
    assert_eq!(r.body["violations"][0]["code"], "exceeds_unpaid_amount");
    assert!(r.body["violations"][0]["message"]
        .as_str()
        .unwrap()
        .contains("119.00 EUR"));
    for (body, paths) in [
        (
            json!({"description": "x", "amount": 10.005}),
            vec!["amount"],
        ),
        (json!({"description": "x", "amount": 0}), vec!["amount"]),
        (json!({"description": "x", "amount": -5}), vec!["amount"]),
        (
            json!({"description": "x", "amount": "lots"}),
            vec!["amount"],
        ),
        (json!({"amount": 10}), vec!["description"]),
        (
            json!({"description": "x", "currencyCode": "USD", "feeAmount": -1,
                   "paymentDate": "2999-01-01", "paymentMethod": "cash", "tip": 1}),
            vec![
                "tip",
                "paymentMethod",
                "currencyCode",
                "feeAmount",
                "paymentDate",
            ],
        ),
        (
            json!({"description": "x", "paymentDate": "15.01.2026"}),
            vec!["paymentDate"],
        ),
    ] {
        let r = pay(&s, &inv, body.clone());
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), paths, "{body}");
    }
    // Exponents are not plain decimals: refused rather than guessed.
    let r = s.send_raw(
        "POST",
        &format!("/invoices/{}/payments", id(&inv)),
        "application/json",
        br#"{"description": "x", "amount": 1e2}"#,
    );
    assert_eq!(r.violation_paths(), ["amount"]);
    assert_eq!(snapshot(&s), before);
}

#[test]
fn only_open_invoices_take_payments() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let d = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "X", json!(1), "10.00", &c.standard)]),
    );
    let r = pay(&s, &d, json!({"description": "x"}));
    assert_problem(&r, 409);
    assert!(
        r.body["detail"].as_str().unwrap().contains("draft"),
        "{}",
        r.text
    );
    let inv = invoice_119(&s);
    let storno = s
        .post(&format!("/invoices/{}/cancel", id(&inv)), &json!({}))
        .body;
    assert_problem(&pay(&s, &inv, json!({"description": "x"})), 409);
    assert_problem(&pay(&s, &storno, json!({"description": "x"})), 409);
    let other = invoice_119(&s);
    let note = s
        .post(&format!("/invoices/{}/credit", id(&other)), &json!({}))
        .body;
    assert_problem(&pay(&s, &note, json!({"description": "x"})), 409);
    assert_problem(
        &s.post(
            "/invoices/0190b6e6-7c2a-7d3e-8a51-8f1d2c3b4a59/payments",
            &json!({"description": "x"}),
        ),
        404,
    );
}

#[test]
fn a_yen_invoice_is_paid_in_whole_yen() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({"currencyCode": "JPY"}));
    let d = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "X", json!(1), "1000", &c.standard)]),
    );
    let inv = finalize(&s, id(&d));
    // 1000 × 0.19 = 190: 1190 yen.
    assert_eq!(inv["grossAmount"], money(1190, "JPY", 0));
    let r = pay(&s, &inv, json!({"description": "x", "amount": 1000.5}));
    assert_eq!(r.violation_paths(), ["amount"]);
    let r = pay(
        &s,
        &inv,
        json!({"description": "x", "amount": 1190, "currencyCode": "JPY"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "STATUS_PAID");
    let t = transactions(&s, &format!("invoice={}", id(&inv)));
    assert_eq!(t["data"][0]["amount"], money(1190, "JPY", 0));
}

#[test]
fn the_payment_method_of_an_open_invoice_can_change() {
    let s = Server::start();
    let inv = invoice_119(&s);
    let path = format!("/invoices/{}/payment-method", id(&inv));
    let r = s.patch(&path, &json!({"paymentMethodId": METHOD}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["paymentMethod"]["id"], METHOD);
    assert_eq!(
        (
            r.body["grossAmount"].clone(),
            r.body["unpaidAmount"].clone()
        ),
        (eur(11900), eur(11900))
    );
    assert_eq!(
        actions(&s, id(&inv)).last().unwrap(),
        "payment_method.changed"
    );
    assert_eq!(
        outbox(&s, id(&inv)).last().unwrap(),
        "invoice.payment_method.updated"
    );
    // null: back to a manual bank transfer.
    let r = s.patch(&path, &json!({"paymentMethodId": null}));
    assert_eq!(r.body["paymentMethod"], Value::Null);
    let before = snapshot(&s);
    assert_eq!(
        s.patch(&path, &json!({})).violation_paths(),
        ["paymentMethodId"]
    );
    assert_eq!(
        s.patch(&path, &json!({"paymentMethodId": "card"}))
            .violation_paths(),
        ["paymentMethodId"]
    );
    assert_eq!(snapshot(&s), before);
    // Drafts take their method with PUT; paid and cancelled invoices have nothing to collect.
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let d = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "X", json!(1), "1.00", &c.standard)]),
    );
    let body = json!({"paymentMethodId": METHOD});
    assert_problem(
        &s.patch(&format!("/invoices/{}/payment-method", id(&d)), &body),
        409,
    );
    pay(&s, &inv, json!({"description": "x"}));
    assert_problem(&s.patch(&path, &body), 409);
}

#[test]
fn transaction_lists_filter_and_page() {
    let s = Server::start();
    let a = invoice_119(&s);
    let b = invoice_119(&s);
    pay(&s, &a, json!({"description": "a1", "amount": 10}));
    pay(&s, &a, json!({"description": "a2", "amount": 20}));
    pay(&s, &b, json!({"description": "b1"}));
    assert_eq!(transactions(&s, "")["meta"]["pagination"]["totalItems"], 3);
    assert_eq!(
        transactions(&s, &format!("invoice={}", id(&a)))["meta"]["pagination"]["totalItems"],
        2
    );
    let both = format!("invoice[]={}&invoice[]={}", id(&a), id(&b));
    assert_eq!(
        transactions(&s, &both)["meta"]["pagination"]["totalItems"],
        3
    );
    let by_customer = format!("customer={}", b["customer"]["id"].as_str().unwrap());
    assert_eq!(
        transactions(&s, &by_customer)["data"][0]["description"],
        "b1"
    );
    assert_eq!(
        transactions(&s, "type=refund")["meta"]["pagination"]["totalItems"],
        0
    );
    assert_eq!(
        transactions(&s, "status=succeeded")["meta"]["pagination"]["totalItems"],
        3
    );
    let page = transactions(&s, "limit=1&page=2&order[createdAt]=desc");
    assert_eq!(page["data"][0]["description"], "a2");
    assert_eq!(page["meta"]["pagination"]["lastPage"], 3);
    assert_problem(&s.get("/payment/transactions?type=gift"), 400);
    assert_problem(&s.get("/payment/transactions?order[amount]=asc"), 400);
    assert_problem(&s.get("/payment/transactions/nope"), 404);
}

#[test]
fn scopes_and_tenants_guard_every_endpoint() {
    let s = Server::start();
    let inv = invoice_119(&s);
    pay(&s, &inv, json!({"description": "x", "amount": 10}));
    let tx = transactions(&s, "")["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read_only = s.token_with_role("read-only");
    let (_, other) = s.new_tenant("Other GmbH", "owner@other.test");
    let before = snapshot(&s);
    let writes = [
        (
            "POST",
            format!("/invoices/{}/payments", id(&inv)),
            json!({"description": "x"}),
        ),
        (
            "PATCH",
            format!("/invoices/{}/payment-method", id(&inv)),
            json!({"paymentMethodId": METHOD}),
        ),
    ];
    for (method, path, body) in &writes {
        let r = s.send_as(&read_only, method, path, Some(body));
        assert_problem(&r, 403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("invoice:write"),
            "{}",
            r.text
        );
        assert_problem(&s.send_as(&other, method, path, Some(body)), 404);
        assert_problem(&s.send(method, path, None, Some(body), &[]), 401);
    }
    // Reading transactions needs transaction:read, which read-only members have; a role with
    // invoice scopes only does not.
    assert_eq!(
        s.get_as(&read_only, &format!("/payment/transactions/{tx}"))
            .status,
        200
    );
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, created_at)
             VALUES (?1, 'invoicer', 'Invoicer', '[\"invoice:read\",\"invoice:write\"]',
                     '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let invoicer = s.token_with_role("invoicer");
    for path in [
        "/payment/transactions".to_string(),
        format!("/payment/transactions/{tx}"),
    ] {
        let r = s.get_as(&invoicer, &path);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("transaction:read"),
            "{}",
            r.text
        );
    }
    assert_problem(
        &s.get_as(&other, &format!("/payment/transactions/{tx}")),
        404,
    );
    let theirs = s.get_as(&other, "/payment/transactions");
    assert_eq!(theirs.body["meta"]["pagination"]["totalItems"], 0);
    assert_eq!(snapshot(&s), before);
}

#[test]
fn a_replayed_payment_is_booked_once() {
    let s = Server::start();
    let inv = invoice_119(&s);
    let path = format!("/invoices/{}/payments", id(&inv));
    let body = json!({"description": "Transfer", "amount": 19});
    let key = [("Idempotency-Key", "bank-line-4711")];
    let first = s.send("POST", &path, Some(&s.token), Some(&body), &key);
    let again = s.send("POST", &path, Some(&s.token), Some(&body), &key);
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(again.body, first.body);
    assert_eq!(again.body["unpaidAmount"], eur(10000));
    let t = transactions(&s, &format!("invoice={}", id(&inv)));
    assert_eq!(t["meta"]["pagination"]["totalItems"], 1);
    // The same key with another amount is a conflict, not a second payment.
    let other = json!({"description": "Transfer", "amount": 20});
    assert_problem(
        &s.send("POST", &path, Some(&s.token), Some(&other), &key),
        409,
    );
}
