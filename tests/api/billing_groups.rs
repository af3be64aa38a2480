//! Billing groups API tests: create (every type, all violations at once), read, a customer's
//! groups, scopes (billing-group:read/write) and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn customer(s: &Server, token: &str, email: &str) -> String {
    let r = s.send_as(
        token,
        "POST",
        "/customers",
        Some(&json!({ "email": email })),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().expect("id").to_string()
}

fn group(s: &Server, body: Value) -> Value {
    let r = s.post("/billing-groups", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

#[test]
fn create_and_read_every_type() {
    let s = Server::start();
    let c = customer(&s, &s.token, "group@acme.test");
    for kind in [
        "start_of_month",
        "end_of_month",
        "start_of_year",
        "end_of_year",
    ] {
        let g = group(&s, json!({"customer": c, "name": kind, "type": kind}));
        assert_eq!(g["type"], kind);
        assert_eq!(g["customDay"], Value::Null);
        assert_eq!(g["customMonth"], Value::Null);
        assert_eq!(g["customer"], c.as_str());
        assert_eq!(g["subscriptions"], json!([]));
        let one = s.get(&format!("/billing-groups/{}", g["id"].as_str().unwrap()));
        assert_eq!(one.status, 200);
        assert_eq!(one.body, g);
    }
    let custom = group(
        &s,
        json!({"customer": format!("/customers/{c}"), "name": "15 June", "type": "custom",
               "customDay": 15, "customMonth": 6}),
    );
    assert_eq!(
        (custom["customDay"].as_i64(), custom["customMonth"].as_i64()),
        (Some(15), Some(6))
    );
    // A GET body sent back is a valid create body (read-only keys ignored).
    let again = group(&s, custom.clone());
    assert_ne!(again["id"], custom["id"]);

    let list = s.get(&format!("/customers/{c}/billing-groups?limit=2"));
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["meta"]["pagination"]["totalItems"], 6);
    assert_eq!(list.body["meta"]["pagination"]["lastPage"], 3);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["data"][0]["type"], "start_of_month");
    // Another customer has none; an unknown customer is 404; a bad page is 400.
    let other = customer(&s, &s.token, "other@acme.test");
    let empty = s.get(&format!("/customers/{other}/billing-groups"));
    assert_eq!(empty.body["meta"]["pagination"]["totalItems"], 0);
    assert_problem(&s.get("/customers/nope/billing-groups"), 404);
    assert_problem(
        &s.get(&format!("/customers/{c}/billing-groups?limit=101")),
        400,
    );
    assert_problem(&s.get("/billing-groups/nope"), 404);
}

#[test]
fn invalid_bodies_name_every_field() {
    let s = Server::start();
    let c = customer(&s, &s.token, "group@acme.test");
    let r = s.post(
        "/billing-groups",
        &json!({"customer": "nope", "name": "", "type": "weekly", "customDay": 0,
                "customMonth": 13}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec!["customer", "name", "type", "customDay", "customMonth"]
    );
    let r = s.post(
        "/billing-groups",
        &json!({"customer": c, "name": "x", "type": "custom"}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["customDay"]);
    let r = s.post(
        "/billing-groups",
        &json!({"customer": c, "name": "x", "type": "end_of_month", "customDay": 5,
                "customMonth": 2}),
    );
    assert_eq!(r.violation_paths(), vec!["customDay", "customMonth"]);
    let r = s.post(
        "/billing-groups",
        &json!({"customer": c, "name": "x".repeat(256), "type": "custom", "customDay": "5"}),
    );
    assert_eq!(r.violation_paths(), vec!["name", "customDay"]);
    assert_problem(&s.post("/billing-groups", &json!([])), 400);
    // Nothing was stored.
    let list = s.get(&format!("/customers/{c}/billing-groups"));
    assert_eq!(list.body["meta"]["pagination"]["totalItems"], 0);
}

#[test]
fn scopes_and_tenants() {
    let s = Server::start();
    let c = customer(&s, &s.token, "group@acme.test");
    let g = group(
        &s,
        json!({"customer": c, "name": "Month", "type": "start_of_month"}),
    );
    let one = format!("/billing-groups/{}", g["id"].as_str().unwrap());
    let list = format!("/customers/{c}/billing-groups");
    let body = json!({"customer": c, "name": "Other", "type": "end_of_year"});

    for (method, path, b) in [
        ("GET", &one, None),
        ("GET", &list, None),
        ("POST", &"/billing-groups".to_string(), Some(&body)),
    ] {
        assert_problem(&s.send(method, path, None, b, &[]), 401);
    }
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, &one).status, 200);
    assert_eq!(s.get_as(&ro, &list).status, 200);
    let r = s.send_as(&ro, "POST", "/billing-groups", Some(&body));
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("billing-group:write"));
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    for path in [&one, &list] {
        let r = s.get_as(&none, path);
        assert_problem(&r, 403);
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("billing-group:read"));
    }

    // Another tenant sees nothing and cannot use our customer.
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    assert_problem(&s.get_as(&other, &one), 404);
    assert_problem(&s.get_as(&other, &list), 404);
    let r = s.send_as(&other, "POST", "/billing-groups", Some(&body));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["customer"]);
    let theirs = customer(&s, &other, "x@other.test");
    let r = s.send_as(
        &other,
        "POST",
        "/billing-groups",
        Some(&json!({"customer": theirs, "name": "T", "type": "start_of_month"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_problem(
        &s.get(&format!(
            "/billing-groups/{}",
            r.body["id"].as_str().unwrap()
        )),
        404,
    );
    assert_eq!(s.get(&list).body["meta"]["pagination"]["totalItems"], 1);
}
