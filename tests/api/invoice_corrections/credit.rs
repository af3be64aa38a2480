//! Credit notes: full and partial, quantities that add up exactly, rounding, mixed rates,
//! refunds of paid parts, and every refusal.

use super::{frozen, id, positions, reference_example, single_line};
use crate::common::{assert_problem, Server};
use crate::invoices::{actions, eur, outbox, totals};
use serde_json::{json, Value};

fn credit(s: &Server, inv: &str, body: Value) -> crate::common::Resp {
    s.post(&format!("/invoices/{inv}/credit"), &body)
}

fn take(pos: &Value, quantity: Value) -> Value {
    json!({"positionItem": pos["id"], "quantity": quantity})
}

fn read(s: &Server, inv: &Value) -> Value {
    s.get(&format!("/invoices/{}", id(inv))).body
}

#[test]
fn a_full_credit_mirrors_the_invoice_and_closes_it() {
    let s = Server::start();
    let inv = reference_example(&s);
    let r = credit(
        &s,
        id(&inv),
        json!({"reason": "incorrect", "comment": "Wrong customer"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let note = &r.body;
    assert_eq!(note["type"], "TYPE_CREDIT");
    assert_eq!(note["number"], "GS-0000000001");
    assert_eq!(note["referencedInvoice"]["id"], inv["id"]);
    assert_eq!(note["status"], "STATUS_PAID");
    // The whole 153.45 taken back: −129.96 net, −23.49 tax.
    assert_eq!(totals(note), (-12996, -2349, -15345));
    let q: Vec<Value> = positions(note)
        .iter()
        .map(|p| p["quantity"].clone())
        .collect();
    assert_eq!(q, [json!(-3), json!(-1), json!(-2)]);

    // Credit notes cover the amount due: closed as paid (06 §1.17), amounts untouched.
    let after = read(&s, &inv);
    assert_eq!(after["status"], "STATUS_PAID");
    assert_eq!(after["unpaidAmount"], eur(0));
    assert_eq!(frozen(&after), frozen(&inv));
    for p in positions(&after) {
        assert_eq!(p["isFullyCredited"], true, "{p}");
        assert_eq!(p["isCreditable"], false);
        assert_eq!(p["creditableQuantity"]["quantity"], json!(0));
    }
    assert_eq!(
        &actions(&s, id(&inv))[2..],
        ["credited", "closed"],
        "created, finalized, then the credit"
    );
    assert_eq!(
        &outbox(&s, id(&inv))[2..],
        ["invoice.credited", "invoice.closed"]
    );
    assert_eq!(
        outbox(&s, id(note)),
        ["invoice.created", "invoice.finalized"]
    );
    let h = s.get(&format!("/invoices/{}/history", id(&inv))).body;
    let entry = &h["data"][2]["details"];
    assert_eq!(entry["reason"], "incorrect");
    assert_eq!(entry["comment"], "Wrong customer");
    assert_eq!(entry["grossAmount"], 15345);
    // Nothing is left to credit.
    assert_problem(&credit(&s, id(&inv), json!({})), 409);
}

#[test]
fn partial_credits_add_up_to_the_invoice() {
    let s = Server::start();
    // 3 × 9.99 at 19 %: net 29.97, tax 29.97 × 0.19 = 5.6943 -> 5.69, gross 35.66.
    let inv = single_line(&s, json!(3), "9.99");
    assert_eq!(totals(&inv), (2997, 569, 3566));
    let pos = positions(&inv)[0].clone();

    // One: net 9.99, tax 9.99 × 0.19 = 1.8981 -> 1.90, gross 11.89.
    let first = credit(&s, id(&inv), json!({"positions": [take(&pos, json!(1))]}));
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(totals(&first.body), (-999, -190, -1189));
    let p = positions(&read(&s, &inv))[0].clone();
    assert_eq!(p["creditableQuantity"]["quantity"], json!(2));
    assert_eq!(
        (p["isCreditable"].clone(), p["isFullyCredited"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(read(&s, &inv)["unpaidAmount"], eur(3566 - 1189));

    // Two more would be 2 × 9.99 = 19.98 and 19.98 × 0.19 = 3.7962 -> 3.80 on their own, which
    // would take back 35.67 in all. Instead the rest is what is left: net 29.97 − 9.99 = 19.98,
    // tax 5.69 − 1.90 = 3.79, gross 23.77; 11.89 + 23.77 = 35.66 exactly.
    let second = credit(&s, id(&inv), json!({"positions": [take(&pos, json!(2))]}));
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(totals(&second.body), (-1998, -379, -2377));
    assert_eq!(second.body["number"], "GS-0000000002");
    let after = read(&s, &inv);
    assert_eq!(after["unpaidAmount"], eur(0));
    assert_eq!(after["status"], "STATUS_PAID");
    assert_eq!(positions(&after)[0]["isFullyCredited"], true);

    // Crediting beyond the quantity is refused, naming the position.
    let r = credit(&s, id(&inv), json!({"positions": [take(&pos, json!(1))]}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["positions[0].quantity"]);
    let message = r.body["violations"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("'Service'") && message.contains("0 of 3"),
        "{message}"
    );
}

#[test]
fn crediting_twice_beyond_the_quantity_is_refused() {
    let s = Server::start();
    let inv = single_line(&s, json!(2), "10.00");
    let pos = positions(&inv)[0].clone();
    assert_eq!(
        credit(&s, id(&inv), json!({"positions": [take(&pos, json!(1.5))]})).status,
        201
    );
    let r = credit(&s, id(&inv), json!({"positions": [take(&pos, json!(1))]}));
    assert_problem(&r, 422);
    assert_eq!(
        r.body["violations"][0]["code"],
        "exceeds_creditable_quantity"
    );
    let p = positions(&read(&s, &inv))[0].clone();
    assert_eq!(p["creditableQuantity"]["quantity"], json!(0.5));
    // The half that is left can be credited: 0.5 × 10.00 = 5.00, tax 0.95.
    let r = credit(&s, id(&inv), json!({"positions": [take(&pos, json!(0.5))]}));
    assert_eq!(totals(&r.body), (-500, -95, -595));
}

#[test]
fn thirds_of_a_rounded_line_add_up_to_the_cent() {
    let s = Server::start();
    // 3 × 0.333 = 0.999 -> 1.00 net, tax 0.19, gross 1.19.
    let inv = single_line(&s, json!(3), "0.333");
    assert_eq!(totals(&inv), (100, 19, 119));
    let pos = positions(&inv)[0].clone();
    let mut sum = (0, 0, 0);
    let mut parts = Vec::new();
    for _ in 0..3 {
        let r = credit(&s, id(&inv), json!({"positions": [take(&pos, json!(1))]}));
        assert_eq!(r.status, 201, "{}", r.text);
        let t = totals(&r.body);
        sum = (sum.0 + t.0, sum.1 + t.1, sum.2 + t.2);
        parts.push(t);
    }
    // 1: 0.333 -> 0.33, tax 0.0627 -> 0.06. 2: calc(2) = 0.666 -> 0.67, tax 0.1273 -> 0.13,
    // minus the first: 0.34, 0.07. 3: 1.00 − 0.67 = 0.33, 0.19 − 0.13 = 0.06.
    assert_eq!(parts, [(-33, -6, -39), (-34, -7, -41), (-33, -6, -39)]);
    assert_eq!(sum, (-100, -19, -119));
    assert_eq!(read(&s, &inv)["unpaidAmount"], eur(0));
    for p in positions(&read(&s, &inv)) {
        assert_eq!(p["isFullyCredited"], true, "{p}");
    }
}

#[test]
fn crediting_one_rate_of_a_mixed_invoice() {
    let s = Server::start();
    let inv = reference_example(&s);
    let c = positions(&inv)[2].clone();
    assert_eq!(c["name"], "C");
    // Line C only: 2 × 4.995 = 9.99 at 7 %, tax 0.6993 -> 0.70, gross 10.69.
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [{"positionItem": c["id"]}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(totals(&r.body), (-999, -70, -1069));
    let rates: Vec<Value> = r.body["taxBreakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["rate"].clone())
        .collect();
    assert_eq!(rates, [json!(7)]);
    assert_eq!(positions(&r.body).len(), 1);
    // 153.45 − 10.69 = 142.76 still due; the original's amounts are untouched.
    let after = read(&s, &inv);
    assert_eq!(after["unpaidAmount"], eur(14276));
    assert_eq!(after["status"], "STATUS_UNPAID");
    assert_eq!(totals(&after), (12996, 2349, 15345));
    // Then the rest: 19 % lines A and B (119.97 net, 22.79 tax) close the invoice exactly.
    let rest = credit(&s, id(&inv), json!({}));
    assert_eq!(totals(&rest.body), (-11997, -2279, -14276));
    assert_eq!(read(&s, &inv)["unpaidAmount"], eur(0));
    for p in positions(&read(&s, &inv)) {
        assert_eq!(p["isFullyCredited"], true, "{p}");
    }
}

#[test]
fn crediting_a_paid_invoice_refunds_the_paid_part() {
    let s = Server::start();
    // 2 × 50.00 at 19 %: gross 119.00, fully paid.
    let inv = single_line(&s, json!(2), "50.00");
    let paid = s.post(
        &format!("/invoices/{}/payments", id(&inv)),
        &json!({"description": "Transfer"}),
    );
    assert_eq!(paid.body["status"], "STATUS_PAID");
    let pos = positions(&inv)[0].clone();
    let method = "0190b6e6-7c2a-7d3e-8a51-8f1d2c3b4a59";
    // One of two: net 50.00, tax 9.50, gross 59.50, all of it owed back.
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [take(&pos, json!(1))], "paymentMethod": method,
               "customIntroduction": "We credit one item.", "reason": "product_unsatisfactory"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let note = r.body.clone();
    assert_eq!(note["status"], "STATUS_UNPAID");
    assert_eq!(note["unpaidAmount"], eur(-5950));
    assert_eq!(note["introduction"], "We credit one item.");
    assert_eq!(note["paymentMethod"]["id"], method);
    let refunds = s
        .get(&format!(
            "/payment/transactions?type=refund&invoice={}",
            id(&note)
        ))
        .body;
    assert_eq!(refunds["meta"]["pagination"]["totalItems"], 1);
    let refund = &refunds["data"][0];
    assert_eq!(refund["status"], "pending");
    assert_eq!(refund["amount"], eur(5950));
    assert_eq!(refund["invoice"], inv["id"]);
    assert_eq!(refund["creditNote"], note["id"]);
    assert_eq!(refund["paymentMethod"], method);
    // Not paid out yet: no payment date.
    assert_eq!(refund["paymentDate"], Value::Null);
    // The original: 119.00 − (119.00 paid − 59.50 refunded) − 59.50 credited = 0 due.
    let after = read(&s, &inv);
    assert_eq!(after["status"], "STATUS_PAID");
    assert_eq!(after["unpaidAmount"], eur(0));
    assert_eq!(after["paidAmount"], eur(5950));
    assert_eq!(outbox(&s, id(&inv)).last().unwrap(), "invoice.refunded");
}

#[test]
fn a_credit_on_a_partly_paid_invoice_sets_off_first() {
    let s = Server::start();
    // 1 × 100.00: 119.00 due, 100.00 paid, 19.00 left. Crediting it all: 19.00 set off,
    // 100.00 refunded.
    let inv = single_line(&s, json!(1), "100.00");
    s.post(
        &format!("/invoices/{}/payments", id(&inv)),
        &json!({"description": "Part", "amount": 100}),
    );
    let r = credit(&s, id(&inv), json!({}));
    assert_eq!(r.body["unpaidAmount"], eur(-10000));
    let after = read(&s, &inv);
    assert_eq!(
        (after["status"].clone(), after["unpaidAmount"].clone()),
        (json!("STATUS_PAID"), eur(0))
    );
    assert_eq!(after["paidAmount"], eur(0));
}

#[test]
fn credit_requests_name_every_bad_field() {
    let s = Server::start();
    let inv = single_line(&s, json!(2), "10.00");
    let other = single_line(&s, json!(1), "10.00");
    let mine = positions(&inv)[0]["id"].clone();
    let foreign = positions(&other)[0]["id"].clone();
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [
                {"positionItem": foreign, "quantity": 1},
                {"positionItem": mine, "quantity": 0},
                {"positionItem": mine, "quantity": 1},
                {"quantity": 1}],
               "reason": "because", "comment": 3}),
    );
    // One answer names the malformed fields and the positions that do not fit the invoice.
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        [
            "positions[3].positionItem",
            "reason",
            "comment",
            "positions[0].positionItem",
            "positions[1].quantity",
            "positions[2].positionItem"
        ]
    );
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [{"positionItem": mine, "quantity": 2.5}]}),
    );
    assert_eq!(r.violation_paths(), ["positions[0].quantity"]);
    assert_problem(&credit(&s, id(&inv), json!({"positions": []})), 422);
    assert_problem(&credit(&s, id(&inv), json!({"positions": "all"})), 422);
    // None of it changed the invoice.
    assert_eq!(read(&s, &inv)["unpaidAmount"], eur(2380));
    let n: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM invoices WHERE type = 'TYPE_CREDIT'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn only_finalized_invoices_can_be_credited() {
    let s = Server::start();
    let inv = single_line(&s, json!(1), "10.00");
    let note = credit(&s, id(&inv), json!({})).body;
    assert_problem(&credit(&s, id(&note), json!({})), 409);
    let other = single_line(&s, json!(1), "10.00");
    let storno = super::cancel(&s, id(&other)).body;
    assert_problem(&credit(&s, id(&other), json!({})), 409);
    assert_problem(&credit(&s, id(&storno), json!({})), 409);
    let c = crate::invoices::catalog(&s, &s.tenant_id);
    let cu = crate::invoices::customer(&s, &s.token, json!({}));
    let d = crate::invoices::draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([crate::invoices::line(
            &c,
            "X",
            json!(1),
            "5.00",
            &c.standard
        )]),
    );
    assert_problem(&credit(&s, id(&d), json!({})), 409);
    assert_problem(
        &credit(&s, "0190b6e6-7c2a-7d3e-8a51-8f1d2c3b4a59", json!({})),
        404,
    );
}

#[test]
fn a_discount_line_is_credited_with_what_it_discounts() {
    let s = Server::start();
    let c = crate::invoices::catalog(&s, &s.tenant_id);
    let cu = crate::invoices::customer(&s, &s.token, json!({}));
    // 1 × 100.00 and −1 × 10.00 at 19 %: net 90.00, tax 17.10, gross 107.10.
    let d = crate::invoices::draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([
            crate::invoices::line(&c, "Product", json!(1), "100.00", &c.standard),
            crate::invoices::line(&c, "Discount", json!(-1), "10.00", &c.standard),
        ]),
    );
    let inv = crate::invoices::finalize(&s, id(&d));
    assert_eq!(totals(&inv), (9000, 1710, 10710));
    let (product, discount) = (positions(&inv)[0].clone(), positions(&inv)[1].clone());
    // What is left to credit is an amount of the position: 1 of the −1 line.
    assert_eq!(discount["creditableQuantity"]["quantity"], json!(1));
    // The product alone would credit 119.00 of an invoice worth 107.10.
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [take(&product, json!(1))]}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.body["violations"][0]["code"], "exceeds_invoice_total");
    // The discount alone would make the customer owe 11.90 more.
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [take(&discount, json!(1))]}),
    );
    assert_eq!(r.body["violations"][0]["code"], "not_a_credit");
    // Quantities to credit are positive, also on a negative line.
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [take(&discount, json!(-1))]}),
    );
    assert_eq!(r.violation_paths(), ["positions[0].quantity"]);
    // Together: exactly the invoice, and the discount line is mirrored as +1.
    let r = credit(
        &s,
        id(&inv),
        json!({"positions": [take(&product, json!(1)), take(&discount, json!(1))]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(totals(&r.body), (-9000, -1710, -10710));
    let q: Vec<Value> = positions(&r.body)
        .iter()
        .map(|p| p["quantity"].clone())
        .collect();
    assert_eq!(q, [json!(-1), json!(1)]);
    assert_eq!(read(&s, &inv)["unpaidAmount"], eur(0));
    for p in positions(&read(&s, &inv)) {
        assert_eq!(p["isFullyCredited"], true, "{p}");
    }
}
