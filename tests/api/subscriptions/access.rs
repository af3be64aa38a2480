//! Permissions (subscription:read / subscription:write, 403 naming the scope) and tenant
//! isolation (another tenant's subscription is a 404) on every subscription and item endpoint.

use super::{active, id};
use crate::common::assert_problem;
use serde_json::{json, Value};

fn endpoints(sub: &str, item: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let s = format!("/subscriptions/{sub}");
    let i = format!("/subscription-items/{item}");
    let mut v: Vec<(&'static str, String, Option<Value>)> = vec![
        ("GET", "/subscriptions".into(), None),
        ("GET", s.clone(), None),
        ("GET", i.clone(), None),
        ("POST", "/subscriptions".into(), Some(json!({}))),
        ("PATCH", s.clone(), Some(json!({}))),
        ("PUT", s.clone(), Some(json!({}))),
        ("POST", format!("{s}/products"), Some(json!({}))),
        ("PATCH", format!("{s}/payment-method"), Some(json!({}))),
        ("PATCH", i.clone(), Some(json!({}))),
        ("PUT", format!("{i}/cancel"), Some(json!({}))),
        ("PUT", format!("{i}/terminate"), Some(json!({}))),
    ];
    for action in [
        "activate",
        "cancel",
        "revoke-cancellation",
        "terminate",
        "pause",
        "resume",
        "extend-trial",
        "revoke-trial",
        "invoice-address",
    ] {
        v.push(("PUT", format!("{s}/{action}"), Some(json!({}))));
    }
    v
}

#[test]
fn scopes_are_enforced_on_every_endpoint() {
    let (s, sub) = active(json!({}));
    let item = sub["items"][0]["id"].as_str().unwrap();
    let ro = s.token_with_role("read-only");
    for (method, path, body) in endpoints(id(&sub), item) {
        assert_problem(&s.send(method, &path, None, body.as_ref(), &[]), 401);
        let r = s.send_as(&ro, method, &path, body.as_ref());
        if method == "GET" {
            assert_eq!(r.status, 200, "{method} {path}: {}", r.text);
        } else {
            assert_problem(&r, 403);
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("subscription:write"),
                "{method} {path}"
            );
        }
    }
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    let r = s.get_as(&none, &format!("/subscriptions/{}", id(&sub)));
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("subscription:read"));
}

#[test]
fn another_tenants_subscription_is_not_found() {
    let (s, sub) = active(json!({}));
    let item = sub["items"][0]["id"].as_str().unwrap();
    let (_, other) = s.new_tenant("Other GmbH", "admin@other.test");
    for (method, path, body) in endpoints(id(&sub), item) {
        if path == "/subscriptions" {
            continue;
        }
        let r = s.send_as(&other, method, &path, body.as_ref());
        assert_problem(&r, 404);
    }
    let list = s.get_as(&other, "/subscriptions");
    assert_eq!(list.body["meta"]["pagination"]["totalItems"], 0);
    // The other tenant cannot use this tenant's customer or plan either.
    let r = s.send_as(
        &other,
        "POST",
        "/subscriptions",
        Some(&json!({"customer": sub["customer"]["id"], "items": [{"pricePlan": sub["items"][0]["pricePlan"]["id"]}]})),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["customer", "items[0].pricePlan"]);
}
