//! Finalization: dates and due-date defaults, snapshots that later customer changes do not
//! touch, the zero-total rules, refused drafts, the invoice address, history and events.

use super::{actions, catalog, customer, draft, eur, finalize, line, outbox, totals};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn days_between(a: &Value, b: &Value) -> i64 {
    let d = |v: &Value| chrono::NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap();
    (d(b) - d(a)).num_days()
}

#[test]
fn finalize_numbers_dates_and_snapshots_the_invoice() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    s.patch(
        "/settings/organization",
        &json!({"companyName": "Acme GmbH", "vatId": "DE123456789"}),
    );
    let cu = customer(
        &s,
        &s.token,
        json!({"companyName": "Muster GmbH", "vatId": "DE999999999"}),
    );
    let cid = cu["id"].as_str().unwrap();
    let inv = draft(
        &s,
        cid,
        json!([line(&c, "a", json!(1), "100.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    let fin = finalize(&s, id);
    assert_eq!(fin["status"], "STATUS_UNPAID");
    assert_eq!(fin["number"], "RE-0000000001");
    assert_eq!(fin["unpaidAmount"], eur(11900));
    assert_eq!(fin["payDate"], Value::Null);
    assert_eq!(
        days_between(&fin["finalizationDate"], &fin["dueDate"]),
        14,
        "billing.defaultDueDays"
    );
    assert_eq!(fin["invoiceAddress"]["city"], "Berlin");
    assert_eq!(fin["vatId"], "DE999999999");
    assert_eq!(fin["customer"]["companyName"], "Muster GmbH");
    assert_eq!(fin["organization"]["companyName"], "Acme GmbH");
    assert_eq!(fin["organization"]["vatId"], "DE123456789");
    assert_eq!(fin["organization"]["name"], "Acme GmbH");
    assert_eq!(fin["positions"][0]["isCreditable"], true);
    assert_eq!(outbox(&s, id), ["invoice.created", "invoice.finalized"]);
    assert_eq!(actions(&s, id), ["created", "finalized"]);
    let h = s.get(&format!("/invoices/{id}/history"));
    let entry = &h.body["data"][1];
    assert_eq!(entry["details"]["number"], "RE-0000000001");
    assert_eq!(entry["details"]["grossAmount"], 11900);
    assert!(entry["userId"].is_string() && entry["createdAt"].is_string());

    // Later changes to the customer do not reach the finalized document.
    let r = s.put(
        &format!("/customers/{cid}"),
        &json!({"companyName": "Neu AG", "vatId": "DE111111111", "city": "Hamburg",
                "street": "Elbchaussee"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    s.patch("/settings/organization", &json!({"companyName": "Other"}));
    let again = s.get(&format!("/invoices/{id}")).body;
    assert_eq!(again, fin);
    // A draft follows the customer.
    let d = draft(&s, cid, json!([]));
    assert_eq!(d["customer"]["companyName"], "Neu AG");
    assert_eq!(d["invoiceAddress"]["city"], "Hamburg");
}

#[test]
fn due_date_from_the_customer_the_tenant_or_the_request() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let cid = cu["id"].as_str().unwrap();
    let pos = json!([line(&c, "a", json!(1), "1.00", &c.standard)]);
    s.patch("/settings/billing", &json!({"defaultDueDays": 30}));
    let fin = finalize(&s, draft(&s, cid, pos.clone())["id"].as_str().unwrap());
    assert_eq!(days_between(&fin["finalizationDate"], &fin["dueDate"]), 30);
    let r = s.patch(
        &format!("/customers/{cid}/settings/billing"),
        &json!({"defaultDueDays": 7}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let fin = finalize(&s, draft(&s, cid, pos.clone())["id"].as_str().unwrap());
    assert_eq!(days_between(&fin["finalizationDate"], &fin["dueDate"]), 7);

    let id = draft(&s, cid, pos.clone())["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/invoices/{id}/finalize");
    for bad in [
        json!({"dueDate": "31.12.2099"}),
        json!({"dueDate": "2000-01-01"}),
        json!({"x": 1}),
    ] {
        let r = s.post(&path, &bad);
        assert_problem(&r, 422);
    }
    let r = s.post(&path, &json!({"dueDate": "2099-12-31"}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["dueDate"], "2099-12-31");
    // The three refused attempts consumed nothing: this is the third invoice number.
    assert_eq!(r.body["number"], "RE-0000000003");
}

#[test]
fn zero_totals_follow_generate_zero_invoices() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "free", json!(1), "0.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    let r = s.post(&format!("/invoices/{id}/finalize"), &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.body["violations"][0]["code"], "zero_total");
    assert!(r.body["violations"][0]["message"]
        .as_str()
        .unwrap()
        .contains("generateZeroInvoices"));
    assert_eq!(
        s.get(&format!("/invoices/{id}")).body["status"],
        "STATUS_DRAFT"
    );

    s.patch("/settings/billing", &json!({"generateZeroInvoices": true}));
    let fin = finalize(&s, id);
    assert_eq!(fin["status"], "STATUS_PAID", "a zero total is paid at once");
    assert_eq!(fin["number"], "RE-0000000001");
    assert_eq!(fin["unpaidAmount"], eur(0));
    assert!(fin["payDate"].is_string());
    assert_eq!(
        outbox(&s, id),
        ["invoice.created", "invoice.finalized", "invoice.paid"]
    );
    assert_eq!(actions(&s, id), ["created", "finalized", "paid"]);
}

#[test]
fn drafts_that_cannot_be_finalized() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let cid = cu["id"].as_str().unwrap();
    // No positions, or only a heading.
    let empty = draft(&s, cid, json!([]));
    let r = s.post(
        &format!("/invoices/{}/finalize", empty["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["positions"]);
    // A negative total belongs on a credit note: 1.00 − 2.00.
    let neg = draft(
        &s,
        cid,
        json!([
            line(&c, "a", json!(1), "1.00", &c.standard),
            line(&c, "b", json!(-1), "2.00", &c.standard)
        ]),
    );
    let r = s.post(
        &format!("/invoices/{}/finalize", neg["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.body["violations"][0]["code"], "negative_total");
    assert_problem(&s.post("/invoices/nope/finalize", &json!({})), 404);
    // Finalizing twice: 409.
    let ok = draft(
        &s,
        cid,
        json!([line(&c, "a", json!(1), "1.00", &c.standard)]),
    );
    let id = ok["id"].as_str().unwrap();
    finalize(&s, id);
    assert_problem(
        &s.post(&format!("/invoices/{id}/finalize"), &json!({})),
        409,
    );
}

#[test]
fn the_invoice_address_can_be_chosen_and_decides_the_tax_country() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({"companyName": "Muster GmbH"}));
    let cid = cu["id"].as_str().unwrap();
    let r = s.post(
        &format!("/customers/{cid}/addresses"),
        &json!({"type": "TYPE_INVOICE", "street": "Bahnhofstr.", "zip": "8001", "city": "Zürich",
                "countryCode": "CH", "vatId": "CHE-123.456.789"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let swiss = r.body["id"].as_str().unwrap().to_string();
    // As the default invoice address it is where a draft goes, ahead of the default address.
    let first = draft(
        &s,
        cid,
        json!([line(&c, "a", json!(1), "100.00", &c.standard)]),
    );
    assert_eq!(first["invoiceAddress"]["city"], "Zürich", "{first}");
    assert_eq!(
        totals(&first),
        (10000, 0, 10000),
        "Switzerland: not taxable here"
    );
    // Not the default invoice address: invoices go to the Berlin default address.
    let r = s.delete(&format!("/customer-addresses/{swiss}/default"));
    assert!(r.status < 300, "{}", r.text);
    let inv = draft(
        &s,
        cid,
        json!([line(&c, "a", json!(1), "100.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    assert_eq!(totals(&inv), (10000, 1900, 11900), "Berlin: 19 %");
    let r = s.post(
        &format!("/invoices/{id}/customer-address"),
        &json!({"customerAddress": swiss}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["invoiceAddress"]["city"], "Zürich");
    assert_eq!(
        r.body["vatId"], "CHE-123.456.789",
        "the VAT id follows the address"
    );
    assert_eq!(
        totals(&r.body),
        (10000, 0, 10000),
        "Switzerland: not taxable here"
    );
    assert_eq!(r.body["positions"][0]["tax"]["countryCode"], "CH");

    let other = customer(&s, &s.token, json!({}));
    let foreign = other["defaultAddress"]["id"].as_str().unwrap();
    for (body, path) in [
        (json!({"customerAddress": foreign}), "customerAddress"),
        (json!({"customerAddress": "nope"}), "customerAddress"),
        (json!({}), "customerAddress"),
        (json!({"customerAddress": swiss, "x": 1}), "x"),
    ] {
        let r = s.post(&format!("/invoices/{id}/customer-address"), &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), [path]);
    }
    let fin = finalize(&s, id);
    assert_eq!(fin["invoiceAddress"]["city"], "Zürich");
    assert_eq!(
        outbox(&s, id),
        ["invoice.created", "invoice.updated", "invoice.finalized"]
    );
    assert_eq!(
        actions(&s, id),
        ["created", "customer_address.set", "finalized"]
    );
}
