//! Customer e-mail addresses: both schema generations, the default address as login e-mail
//! (kept in sync with `customers.email`), uniqueness, delete rules, permissions, isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn customer(s: &Server, email: &str) -> Value {
    let r = s.post("/customers", &json!({"email": email}));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn add(s: &Server, c: &Value, body: Value) -> Value {
    let r = s.post(&format!("/customers/{}/email-addresses", id(c)), &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn get_customer(s: &Server, c: &Value) -> Value {
    s.get(&format!("/customers/{}", id(c))).body
}

fn login(s: &Server, c: &Value) -> String {
    s.db()
        .query_row("SELECT email FROM customers WHERE id = ?1", [id(c)], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn create_current_generation() {
    let s = Server::start();
    let c = customer(&s, "a@example.com");
    let e = add(
        &s,
        &c,
        json!({"email": "billing@example.com", "receiverName": "Buchhaltung",
               "isInvoiceEmail": true, "isDunningEmail": true}),
    );
    assert_eq!(
        e,
        json!({"id": e["id"], "email": "billing@example.com", "receiverName": "Buchhaltung",
               "isInvoiceEmail": true, "isDunningEmail": true, "default": false})
    );
    let after = get_customer(&s, &c);
    assert_eq!(after["emailAddresses"].as_array().unwrap().len(), 2);
    assert_eq!(after["defaultEmailAddress"]["email"], "a@example.com");
    assert_eq!(after["defaultInvoiceEmailAddress"], e);
    assert_eq!(login(&s, &c), "a@example.com");
}

#[test]
fn create_older_generation_answers_the_current_one() {
    let s = Server::start();
    let c = customer(&s, "a@example.com");
    let e = add(
        &s,
        &c,
        json!({"email": "inv@example.com", "receiverName": "Rechnung", "type": "TYPE_INVOICE"}),
    );
    assert_eq!(e["isInvoiceEmail"], true);
    assert!(e.get("type").is_none());
    let e = add(
        &s,
        &c,
        json!({"email": "co@example.com", "receiverName": "Firma", "type": "TYPE_COMPANY"}),
    );
    assert_eq!(e["isInvoiceEmail"], false);
    // In the older generation receiverName and a valid type are required.
    let r = s.post(
        &format!("/customers/{}/email-addresses", id(&c)),
        &json!({"email": "x@example.com", "type": "TYPE_PRIVATE"}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(paths, vec!["receiverName", "type"]);
}

#[test]
fn validation_and_uniqueness() {
    let s = Server::start();
    let c = customer(&s, "a@example.com");
    let other = customer(&s, "b@example.com");
    let path = format!("/customers/{}/email-addresses", id(&c));
    let rows = |s: &Server| -> i64 {
        s.db()
            .query_row("SELECT count(*) FROM customer_email_addresses", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let before = rows(&s);
    let r = s.post(
        &path,
        &json!({"email": "nope", "receiverName": 3, "isInvoiceEmail": "yes", "isDunningEmail": null, "x": 1}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "email",
            "isDunningEmail",
            "isInvoiceEmail",
            "receiverName",
            "x"
        ]
    );
    assert_eq!(s.post(&path, &json!({})).violation_paths(), vec!["email"]);
    // The same address twice on one customer.
    let r = s.post(&path, &json!({"email": "A@example.com"}));
    assert_eq!(r.violation_paths(), vec!["email"]);
    // Another customer's login may be a plain address here, but not the default.
    add(&s, &c, json!({"email": "b@example.com"}));
    let r = s.post(
        &format!("/customers/{}/email-addresses", id(&other)),
        &json!({"email": "a@example.com", "isDefault": true}),
    );
    assert_eq!(r.violation_paths(), vec!["email"]);
    assert_eq!(rows(&s), before + 1);
    assert_problem(
        &s.post(
            "/customers/nope/email-addresses",
            &json!({"email": "z@example.com"}),
        ),
        404,
    );
}

#[test]
fn the_default_address_is_the_login_email() {
    let s = Server::start();
    let c = customer(&s, "old@example.com");
    // isDefault on create switches the default and the login.
    let e = add(
        &s,
        &c,
        json!({"email": "new@example.com", "isDefault": true}),
    );
    assert_eq!(e["default"], true);
    assert_eq!(login(&s, &c), "new@example.com");
    let after = get_customer(&s, &c);
    assert_eq!(after["defaultEmailAddress"], e);
    let defaults = after["emailAddresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["default"] == true)
        .count();
    assert_eq!(defaults, 1);
    // The old login is free for other customers, the new one is not.
    customer(&s, "old@example.com");
    assert_problem(
        &s.post("/customers", &json!({"email": "new@example.com"})),
        422,
    );

    // Editing the default address edits the login.
    let r = s.put(
        &format!("/customer-email-addresses/{}", id(&e)),
        &json!({"email": "newer@example.com", "receiverName": "Chef", "isDunningEmail": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["receiverName"], "Chef");
    assert_eq!(login(&s, &c), "newer@example.com");
    // ...but not to another customer's login.
    let r = s.put(
        &format!("/customer-email-addresses/{}", id(&e)),
        &json!({"email": "OLD@example.com", "receiverName": 5}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(paths, vec!["email", "receiverName"]);
    assert_eq!(login(&s, &c), "newer@example.com");
    assert_problem(
        &s.put(
            "/customer-email-addresses/nope",
            &json!({"email": "q@example.com"}),
        ),
        404,
    );
}

#[test]
fn make_default_action_and_delete_rules() {
    let s = Server::start();
    let c = customer(&s, "a@example.com");
    let first_default = c["defaultEmailAddress"].clone();
    let extra = add(&s, &c, json!({"email": "extra@example.com"}));
    let r = s.act(
        "POST",
        &format!("/customer-email-addresses/{}/default", id(&extra)),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["default"], true);
    assert_eq!(login(&s, &c), "extra@example.com");
    assert_eq!(
        get_customer(&s, &c)["defaultEmailAddress"]["id"],
        extra["id"]
    );

    // The default cannot be deleted; the former default now can.
    assert_problem(
        &s.act(
            "DELETE",
            &format!("/customer-email-addresses/{}", id(&extra)),
        ),
        409,
    );
    assert_eq!(
        s.act(
            "DELETE",
            &format!("/customer-email-addresses/{}", id(&first_default))
        )
        .status,
        204
    );
    assert_eq!(
        get_customer(&s, &c)["emailAddresses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_problem(&s.act("DELETE", "/customer-email-addresses/nope"), 404);

    // An address that is another customer's login cannot become this one's default: 409.
    let other = customer(&s, "other@example.com");
    let shared = add(&s, &c, json!({"email": "other@example.com"}));
    assert_problem(
        &s.act(
            "POST",
            &format!("/customer-email-addresses/{}/default", id(&shared)),
        ),
        409,
    );
    assert_eq!(login(&s, &c), "extra@example.com");
    assert_eq!(login(&s, &other), "other@example.com");
    assert_problem(
        &s.act("POST", "/customer-email-addresses/nope/default"),
        404,
    );
}

#[test]
fn read_only_token_cannot_write() {
    let s = Server::start();
    let c = customer(&s, "a@example.com");
    let eid = c["defaultEmailAddress"]["id"].as_str().unwrap().to_string();
    let ro = s.token_with_role("read-only");
    let body = json!({"email": "x@example.com"});
    for (method, path) in [
        ("POST", format!("/customers/{}/email-addresses", id(&c))),
        ("PUT", format!("/customer-email-addresses/{eid}")),
        ("POST", format!("/customer-email-addresses/{eid}/default")),
        ("DELETE", format!("/customer-email-addresses/{eid}")),
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
            "DELETE",
            &format!("/customer-email-addresses/{eid}"),
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
    let c = customer(&s, "a@example.com");
    let extra = add(&s, &c, json!({"email": "extra@example.com"}));
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let before = get_customer(&s, &c);
    let body = json!({"email": "hacked@example.com", "isDefault": true});
    for (method, path) in [
        ("POST", format!("/customers/{}/email-addresses", id(&c))),
        ("PUT", format!("/customer-email-addresses/{}", id(&extra))),
        (
            "POST",
            format!("/customer-email-addresses/{}/default", id(&extra)),
        ),
        (
            "DELETE",
            format!("/customer-email-addresses/{}", id(&extra)),
        ),
    ] {
        let r = s.send_as(&other, method, &path, Some(&body));
        assert_problem(&r, 404);
        assert_eq!(get_customer(&s, &c), before, "{method} {path}");
    }
    assert_eq!(login(&s, &c), "a@example.com");
}
