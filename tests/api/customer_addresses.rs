//! Customer addresses: add (becomes default), defaults per type and their fallbacks, update,
//! archive, validation, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn customer(s: &Server, body: Value) -> Value {
    let r = s.post("/customers", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn add(s: &Server, customer_id: &str, body: Value) -> Value {
    let r = s.post(&format!("/customers/{customer_id}/addresses"), &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn get_customer(s: &Server, c: &Value) -> Value {
    s.get(&format!("/customers/{}", id(c))).body
}

fn count(s: &Server, table: &str) -> i64 {
    s.db()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_address_becomes_the_default_of_its_type() {
    let s = Server::start();
    let c = customer(
        &s,
        json!({"email": "a@example.com", "countryCode": "FR", "vatId": "FR12345678901"}),
    );
    let cid = id(&c);
    let invoice = add(
        &s,
        &cid,
        json!({"type": "TYPE_INVOICE", "companyName": "Buchhaltung", "salutation": "Firma",
               "street": "Rechnungsweg", "houseNumber": "7", "zip": "75001", "city": "Paris",
               "costCentre": "KST-1"}),
    );
    let keys: Vec<&String> = invoice.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 16, "{keys:?}");
    assert_eq!(invoice["type"], "TYPE_INVOICE");
    assert_eq!(invoice["default"], true);
    assert_eq!(invoice["status"], "active");
    // countryCode and vatId default to the customer's.
    assert_eq!(invoice["countryCode"], "FR");
    assert_eq!(invoice["vatId"], "FR12345678901");
    assert_eq!(invoice["firstName"], Value::Null);
    assert_eq!(invoice["addition"], "");

    let after = get_customer(&s, &c);
    assert_eq!(after["defaultInvoiceAddress"], invoice);
    assert_eq!(after["defaultAddress"], c["defaultAddress"]);
    assert_eq!(after["addresses"].as_array().unwrap().len(), 2);

    // A second TYPE_DEFAULT address replaces the default address (and the customer country).
    let home = add(
        &s,
        &cid,
        json!({"type": "TYPE_DEFAULT", "street": "Neuweg", "city": "Lyon", "countryCode": "be"}),
    );
    let after = get_customer(&s, &c);
    assert_eq!(after["defaultAddress"], home);
    assert_eq!(after["countryCode"], "BE");
    let old = s.get(&format!(
        "/customer-addresses/{}",
        c["defaultAddress"]["id"].as_str().unwrap()
    ));
    assert_eq!(old.body["default"], false);
    let events: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM outbox WHERE object_id = ?1 AND event_type = 'customer.updated'",
            [&cid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 2);
}

#[test]
fn validation_names_every_invalid_field() {
    let s = Server::start();
    let c = customer(&s, json!({"email": "a@example.com"}));
    let path = format!("/customers/{}/addresses", id(&c));
    let before = count(&s, "customer_addresses");
    let r = s.post(
        &path,
        &json!({"salutation": "Dr", "street": "S", "city": "C", "countryCode": "XX",
                "costCentre": "K", "vatId": "V", "companyName": 1, "nope": 1}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "city",
            "companyName",
            "costCentre",
            "countryCode",
            "nope",
            "salutation",
            "street",
            "type",
            "vatId"
        ]
    );
    let r = s.post(&path, &json!({"type": "TYPE_OTHER"}));
    assert_eq!(r.violation_paths(), vec!["type"]);
    assert_eq!(count(&s, "customer_addresses"), before);
    assert_problem(
        &s.post(
            "/customers/nope/addresses",
            &json!({"type": "TYPE_INVOICE"}),
        ),
        404,
    );
}

#[test]
fn set_and_unset_defaults() {
    let s = Server::start();
    let c = customer(&s, json!({"email": "a@example.com"}));
    let cid = id(&c);
    let first = add(&s, &cid, json!({"type": "TYPE_INVOICE", "city": "Erste"}));
    let second = add(&s, &cid, json!({"type": "TYPE_INVOICE", "city": "Zweite"}));
    assert_eq!(
        get_customer(&s, &c)["defaultInvoiceAddress"]["id"],
        second["id"]
    );

    let r = s.act(
        "POST",
        &format!("/customer-addresses/{}/default", id(&first)),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["default"], true);
    assert_eq!(
        get_customer(&s, &c)["defaultInvoiceAddress"]["id"],
        first["id"]
    );
    // Making the default the default again is harmless.
    assert_eq!(
        s.act(
            "POST",
            &format!("/customer-addresses/{}/default", id(&first))
        )
        .status,
        201
    );

    // Only the default invoice address can be unset.
    assert_problem(
        &s.act(
            "DELETE",
            &format!("/customer-addresses/{}/default", id(&second)),
        ),
        409,
    );
    let default_address = c["defaultAddress"]["id"].as_str().unwrap();
    assert_problem(
        &s.act(
            "DELETE",
            &format!("/customer-addresses/{default_address}/default"),
        ),
        409,
    );
    let r = s.act(
        "DELETE",
        &format!("/customer-addresses/{}/default", id(&first)),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["default"], false);
    // Billing falls back to the default address.
    let after = get_customer(&s, &c);
    assert_eq!(after["defaultInvoiceAddress"], after["defaultAddress"]);
    assert_problem(&s.act("POST", "/customer-addresses/nope/default"), 404);
    assert_problem(&s.act("DELETE", "/customer-addresses/nope/default"), 404);
}

#[test]
fn get_and_update_an_address() {
    let s = Server::start();
    let c = customer(&s, json!({"email": "a@example.com", "street": "Altweg"}));
    let path = format!(
        "/customer-addresses/{}",
        c["defaultAddress"]["id"].as_str().unwrap()
    );
    let r = s.get(&path);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, c["defaultAddress"]);

    let r = s.put(
        &path,
        &json!({"street": "Neuweg", "salutation": "Herr", "firstName": "Max", "countryCode": "AT"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["street"], "Neuweg");
    assert_eq!(r.body["salutation"], "Herr");
    assert_eq!(r.body["countryCode"], "AT");
    assert_eq!(r.body["default"], true);
    assert_eq!(get_customer(&s, &c)["countryCode"], "AT");

    let r = s.put(&path, &json!({"street": "N", "zip": 5}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths().len(), 2);
    // The type of a default address cannot change.
    assert_problem(&s.put(&path, &json!({"type": "TYPE_INVOICE"})), 409);
    assert_eq!(s.get(&path).body["street"], "Neuweg");
    assert_problem(&s.get("/customer-addresses/nope"), 404);
    assert_problem(&s.put("/customer-addresses/nope", &json!({})), 404);
}

#[test]
fn archive_rules() {
    let s = Server::start();
    let c = customer(&s, json!({"email": "a@example.com"}));
    let cid = id(&c);
    let default_address = c["defaultAddress"]["id"].as_str().unwrap();
    assert_problem(
        &s.act(
            "PUT",
            &format!("/customer-addresses/{default_address}/archive"),
        ),
        409,
    );
    let invoice = add(&s, &cid, json!({"type": "TYPE_INVOICE"}));
    let r = s.act(
        "PUT",
        &format!("/customer-addresses/{}/archive", id(&invoice)),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "archived");
    assert_eq!(
        r.body["default"], false,
        "archiving unsets the invoice default"
    );
    let after = get_customer(&s, &c);
    assert_eq!(after["defaultInvoiceAddress"], after["defaultAddress"]);
    // Archived addresses stay listed with their status, and cannot become a default.
    assert_eq!(after["addresses"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.act(
            "PUT",
            &format!("/customer-addresses/{}/archive", id(&invoice))
        )
        .status,
        200
    );
    assert_problem(
        &s.act(
            "POST",
            &format!("/customer-addresses/{}/default", id(&invoice)),
        ),
        409,
    );
    // Once replaced, the old default address can be archived.
    add(&s, &cid, json!({"type": "TYPE_DEFAULT"}));
    let r = s.act(
        "PUT",
        &format!("/customer-addresses/{default_address}/archive"),
    );
    assert_eq!(r.status, 200);
    assert_problem(&s.act("PUT", "/customer-addresses/nope/archive"), 404);
}

#[test]
fn read_only_token_cannot_write() {
    let s = Server::start();
    let c = customer(&s, json!({"email": "a@example.com"}));
    let aid = c["defaultAddress"]["id"].as_str().unwrap().to_string();
    let ro = s.token_with_role("read-only");
    assert_eq!(
        s.get_as(&ro, &format!("/customer-addresses/{aid}")).status,
        200
    );
    let body = json!({"type": "TYPE_INVOICE"});
    for (method, path) in [
        ("POST", format!("/customers/{}/addresses", id(&c))),
        ("POST", format!("/customer-addresses/{aid}/default")),
        ("DELETE", format!("/customer-addresses/{aid}/default")),
        ("PUT", format!("/customer-addresses/{aid}")),
        ("PUT", format!("/customer-addresses/{aid}/archive")),
    ] {
        let r = s.send_as(&ro, method, &path, Some(&body));
        assert_problem(&r, 403);
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("customer:write"));
    }
    assert_problem(
        &s.send(
            "GET",
            &format!("/customer-addresses/{aid}"),
            None,
            None,
            &[],
        ),
        401,
    );
}

#[test]
fn another_tenant_gets_404_and_changes_nothing() {
    let s = Server::start();
    let c = customer(&s, json!({"email": "a@example.com"}));
    let cid = id(&c);
    let invoice = add(&s, &cid, json!({"type": "TYPE_INVOICE", "city": "Berlin"}));
    let plain = add(&s, &cid, json!({"type": "TYPE_INVOICE", "city": "Bonn"}));
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let before = get_customer(&s, &c);
    let rows_before = count(&s, "customer_addresses");
    let body = json!({"type": "TYPE_INVOICE", "city": "Hacked"});
    for (method, path) in [
        ("POST", format!("/customers/{cid}/addresses")),
        (
            "POST",
            format!("/customer-addresses/{}/default", id(&invoice)),
        ),
        (
            "DELETE",
            format!("/customer-addresses/{}/default", id(&plain)),
        ),
        ("GET", format!("/customer-addresses/{}", id(&plain))),
        ("PUT", format!("/customer-addresses/{}", id(&plain))),
        (
            "PUT",
            format!("/customer-addresses/{}/archive", id(&invoice)),
        ),
    ] {
        let r = s.send_as(&other, method, &path, Some(&body));
        assert_problem(&r, 404);
        assert_eq!(get_customer(&s, &c), before, "{method} {path}");
    }
    assert_eq!(count(&s, "customer_addresses"), rows_before);
}
