//! Invoices: shared fixtures, and the draft lifecycle (create, read, update, delete, validation).
//! Amounts are in `invoices/amounts.rs`, finalization in `finalize.rs`, numbering in
//! `numbering.rs`, immutability in `immutability.rs`, lists in `list.rs`, permissions and
//! tenant isolation in `access.rs`.

mod access;
mod amounts;
mod finalize;
mod immutability;
mod list;
mod numbering;

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// The seeded unit and tax groups of a tenant.
pub struct Catalog {
    pub unit: String,
    pub standard: String,
    pub reduced: String,
    pub zero: String,
}

pub fn catalog(s: &Server, tenant: &str) -> Catalog {
    let conn = s.db();
    let q = |sql: &str| -> String { conn.query_row(sql, [tenant], |r| r.get(0)).unwrap() };
    Catalog {
        unit: q("SELECT id FROM units WHERE tenant_id = ?1"),
        standard: q("SELECT id FROM tax_groups WHERE tenant_id = ?1 AND type = 'standard'"),
        reduced: q("SELECT id FROM tax_groups WHERE tenant_id = ?1 AND type = 'reduced'"),
        zero: q("SELECT id FROM tax_groups WHERE tenant_id = ?1 AND type = 'zero'"),
    }
}

/// A customer through the API (German by default; `extra` overrides body keys).
pub fn customer(s: &Server, token: &str, extra: Value) -> Value {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mut body = json!({
        "email": format!("buyer{n}@example.test"), "firstName": "Erika", "lastName": "Muster",
        "street": "Hauptstr.", "houseNumber": "1", "zip": "10115", "city": "Berlin",
        "countryCode": "DE",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = s.send_as(token, "POST", "/customers", Some(&body));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// A position body: `quantity` × `price` in the tax group `group`.
pub fn line(c: &Catalog, name: &str, quantity: Value, price: &str, group: &str) -> Value {
    json!({"name": name, "quantity": quantity, "unitPrice": price, "unitId": c.unit,
           "taxGroupId": group})
}

/// Creates a draft for `customer` with `positions` (and `extra` body keys).
pub fn draft_with(s: &Server, customer: &str, positions: Value, extra: Value) -> Value {
    let mut body = json!({"customer": customer, "positions": positions});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = s.post("/invoices", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub fn draft(s: &Server, customer: &str, positions: Value) -> Value {
    draft_with(s, customer, positions, json!({}))
}

/// Finalizes and returns the invoice.
pub fn finalize(s: &Server, id: &str) -> Value {
    let r = s.post(&format!("/invoices/{id}/finalize"), &json!({}));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub fn money(amount: i64, code: &str, precision: u32) -> Value {
    json!({"amount": amount, "currencyCode": code, "precision": precision})
}

pub fn eur(cents: i64) -> Value {
    money(cents, "EUR", 2)
}

/// `(net, tax, gross)` of an invoice body, as integers.
pub fn totals(inv: &Value) -> (i64, i64, i64) {
    let a = |k: &str| inv[k]["amount"].as_i64().unwrap();
    (a("netAmount"), a("taxAmount"), a("grossAmount"))
}

pub fn outbox(s: &Server, id: &str) -> Vec<String> {
    let conn = s.db();
    let mut stmt = conn
        .prepare("SELECT event_type FROM outbox WHERE object_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([id], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// The actions of an invoice's history, oldest first.
pub fn actions(s: &Server, id: &str) -> Vec<String> {
    let r = s.get(&format!("/invoices/{id}/history?limit=100"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn creates_a_draft_with_defaults_and_the_read_shape() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({"companyName": "Muster GmbH"}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "Beratung", json!(2), "50.00", &c.standard)]),
    );
    assert_eq!(inv["type"], "TYPE_INVOICE");
    assert_eq!(inv["status"], "STATUS_DRAFT");
    assert_eq!(inv["number"], Value::Null, "drafts carry no number");
    assert_eq!(inv["currencyCode"], "EUR");
    for key in [
        "finalizationDate",
        "dueDate",
        "payDate",
        "organization",
        "file",
        "xmlFile",
        "paymentMethod",
        "referencedInvoice",
        "lastSentAt",
        "lastReminderDate",
    ] {
        assert_eq!(inv[key], Value::Null, "{key}");
    }
    assert_eq!(inv["dunningLevel"], 0);
    assert_eq!(inv["dunningStatus"], "none");
    assert_eq!(
        (inv["title"].as_str(), inv["internalNote"].as_str()),
        (Some(""), Some(""))
    );
    assert_eq!(inv["customFields"], json!({}));
    // 2 × 50.00 = 100.00; 19 % = 19.00; gross 119.00; nothing paid or due on a draft.
    assert_eq!(totals(&inv), (10000, 1900, 11900));
    assert_eq!(inv["unpaidAmount"], eur(0));
    assert_eq!(inv["discountAmount"], eur(0));
    assert_eq!(inv["customer"]["id"], cu["id"]);
    assert_eq!(inv["customer"]["customerNumber"], cu["customerNumber"]);
    assert_eq!(inv["customer"]["companyName"], "Muster GmbH");
    assert_eq!(inv["customer"]["countryCode"], "DE");
    // The draft follows the customer's default address until finalization.
    assert_eq!(inv["invoiceAddress"]["city"], "Berlin");
    assert_eq!(inv["invoiceAddress"]["id"], cu["defaultAddress"]["id"]);
    let p = &inv["positions"][0];
    assert_eq!(p["name"], "Beratung");
    assert_eq!(p["position"], 1);
    assert_eq!(p["quantity"], json!(2));
    assert_eq!(p["unitPrice"], eur(5000));
    assert_eq!(p["unit"]["id"], c.unit.as_str());
    assert_eq!(p["taxGroup"]["id"], c.standard.as_str());
    assert_eq!(p["tax"]["rate"], json!(19));
    assert_eq!(p["tax"]["countryCode"], "DE");
    assert_eq!(
        (p["isCreditable"].as_bool(), p["isFullyCredited"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(p["creditableQuantity"], json!({"quantity": 2}));
    assert_eq!(p["children"], json!([]));

    let id = inv["id"].as_str().unwrap();
    let r = s.get(&format!("/invoices/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, inv);
    assert_eq!(outbox(&s, id), ["invoice.created"]);
    assert_eq!(actions(&s, id), ["created"]);
}

#[test]
fn a_draft_without_positions_and_the_currency_defaults() {
    let s = Server::start();
    let cu = customer(&s, &s.token, json!({"currencyCode": "CHF"}));
    let inv = draft(&s, cu["id"].as_str().unwrap(), json!(null));
    assert_eq!(inv["currencyCode"], "CHF", "the customer's currency");
    assert_eq!(inv["positions"], json!([]));
    assert_eq!(inv["grossAmount"], money(0, "CHF", 2));
    let inv = draft_with(
        &s,
        cu["id"].as_str().unwrap(),
        json!([]),
        json!({"currencyCode": "JPY"}),
    );
    assert_eq!(inv["grossAmount"], money(0, "JPY", 0));
}

#[test]
fn validation_names_every_invalid_field() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let r = s.post("/invoices", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["customer"]);
    let cu = customer(&s, &s.token, json!({}));
    let r = s.post(
        "/invoices",
        &json!({
            "customer": cu["id"], "currencyCode": "EURO", "title": "x".repeat(256),
            "customFields": {"a": 1}, "invoiceAddress": "0190a000-0000-7000-8000-000000000000",
            "extra": true,
            "positions": [
                {"quantity": "x", "unitPrice": 1.5, "unitId": c.unit, "taxGroupId": c.standard},
                {"name": "ok", "unitPrice": "1.00", "unitId": "nope", "taxGroupId": "nope",
                 "discountAmount": "0.50", "discountPercentage": 10},
                {"name": "head", "children": [{"name": "kid", "unitPrice": "1", "unitId": c.unit,
                  "taxGroupId": c.standard, "children": [{"name": "too deep"}]}]},
                "not an object",
                {"name": "dates", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                 "serviceDateFrom": "2026-02-01", "serviceDateTo": "2026-01-31",
                 "currencyCode": "USD", "discountPercentage": 100}
            ]
        }),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    let mut expected = vec![
        "extra",
        "currencyCode",
        "title",
        "customFields.a",
        "invoiceAddress",
        "positions[0].name",
        "positions[0].quantity",
        "positions[0].unitPrice",
        "positions[1].unitId",
        "positions[1].taxGroupId",
        "positions[1].discountPercentage",
        "positions[2].children[0].children",
        "positions[3]",
        "positions[4].serviceDateTo",
        "positions[4].currencyCode",
        "positions[4].discountPercentage",
    ];
    expected.sort();
    assert_eq!(paths, expected, "{}", r.text);
    // Nothing was written.
    assert_eq!(
        s.get("/invoices").body["meta"]["pagination"]["totalItems"],
        0
    );
}

#[test]
fn put_updates_a_draft_and_replaces_positions_when_sent() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let cid = cu["id"].as_str().unwrap();
    let inv = draft(
        &s,
        cid,
        json!([line(&c, "A", json!(1), "10.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    let path = format!("/invoices/{id}");

    let r = s.put(
        &path,
        &json!({"title": "Rechnung März", "customFields": {"po": "4711"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["title"], "Rechnung März");
    assert_eq!(r.body["customFields"], json!({"po": "4711"}));
    assert_eq!(
        r.body["positions"][0]["name"], "A",
        "positions stay when not sent"
    );

    // Sending the read shape back works (read-modify-write); positions then replace.
    let mut body = r.body.clone();
    body["positions"] = json!([line(&c, "B", json!(3), "1.00", &c.reduced)]);
    let r = s.put(&path, &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["positions"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["positions"][0]["name"], "B");
    // 3 × 1.00 = 3.00 at 7 % = 0.21.
    assert_eq!(totals(&r.body), (300, 21, 321));

    let other = customer(&s, &s.token, json!({}));
    let r = s.put(&path, &json!({"customer": other["id"]}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["customer"]);
    assert_problem(&s.put("/invoices/nope", &json!({})), 404);
    // Positions of an invoice body nest through `children`, not `parent`.
    let mut orphan = line(&c, "C", json!(1), "1.00", &c.standard);
    orphan["parent"] = s.get(&path).body["positions"][0]["id"].clone();
    let r = s.put(&path, &json!({"positions": [orphan]}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["positions[0].parent"]);
    assert_eq!(
        outbox(&s, id),
        ["invoice.created", "invoice.updated", "invoice.updated"]
    );
    assert_eq!(actions(&s, id), ["created", "updated", "updated"]);
}

#[test]
fn delete_removes_a_draft_but_keeps_its_history() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "A", json!(1), "10.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    let r = s.delete(&format!("/invoices/{id}"));
    assert_eq!(r.status, 204, "{}", r.text);
    assert_problem(&s.get(&format!("/invoices/{id}")), 404);
    assert_problem(&s.delete(&format!("/invoices/{id}")), 404);
    let conn = s.db();
    let (positions, history): (i64, String) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM invoice_positions WHERE invoice_id = ?1),
                    (SELECT group_concat(action) FROM invoice_history WHERE invoice_id = ?1)",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((positions, history.as_str()), (0, "created,deleted"));
}

/// The value without `createdAt` / `updatedAt` keys (at any depth).
fn without_timestamps(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "createdAt" && *k != "updatedAt")
                .map(|(k, v)| (k.clone(), without_timestamps(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_timestamps).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_draft_sent_back_unchanged_keeps_its_positions() {
    // Read-modify-write with the whole read shape: embeds (`unit`, `taxGroup`, `product`),
    // Money objects and the positions' own ids are accepted back.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let mut discounted = line(&c, "B", json!(3), "9.99", &c.standard);
    discounted["discountPercentage"] = json!(15);
    discounted["discountAmount"] = json!("0.00");
    let head = json!({"name": "Paket", "group": "Abo",
                      "children": [line(&c, "A", json!(2), "0.125", &c.reduced), discounted]});
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([head, line(&c, "C", json!(-1), "1.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    let r = s.put(&format!("/invoices/{id}"), &inv);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        without_timestamps(&r.body["positions"]),
        without_timestamps(&inv["positions"])
    );
    assert_eq!(totals(&r.body), totals(&inv));
    // 7 %: 2 × 0.125 = 0.25 -> 0.02 tax; 19 %: 3 × 9.99 × 0.85 = 25.4745 -> 25.47, − 1.00
    // = 24.47 -> 4.6493 -> 4.65; net 24.72, tax 4.67, gross 29.39.
    assert_eq!(totals(&inv), (2472, 467, 2939));
}
