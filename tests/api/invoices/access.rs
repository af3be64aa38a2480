//! Permissions and tenant isolation for every invoice and position endpoint: `invoice:read`
//! for reads, `invoice:write` for writes (403 naming the scope), 401 without a token, and
//! another tenant's invoices, positions, customers and catalogue are not found.

use super::{catalog, customer, draft, line};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// Every endpoint as (method, path, body, is_write) for one draft and one of its positions.
fn endpoints(id: &str, pid: &str) -> Vec<(&'static str, String, Option<Value>, bool)> {
    vec![
        ("GET", "/invoices".into(), None, false),
        ("GET", format!("/invoices/{id}"), None, false),
        ("GET", format!("/invoices/{id}/history"), None, false),
        ("GET", format!("/invoice-position-items/{pid}"), None, false),
        ("POST", "/invoices".into(), Some(json!({})), true),
        (
            "PUT",
            format!("/invoices/{id}"),
            Some(json!({"title": "x"})),
            true,
        ),
        ("DELETE", format!("/invoices/{id}"), None, true),
        (
            "POST",
            format!("/invoices/{id}/finalize"),
            Some(json!({})),
            true,
        ),
        (
            "POST",
            format!("/invoices/{id}/customer-address"),
            Some(json!({})),
            true,
        ),
        (
            "POST",
            format!("/invoices/{id}/position-items"),
            Some(json!({})),
            true,
        ),
        (
            "PUT",
            format!("/invoice-position-items/{pid}"),
            Some(json!({})),
            true,
        ),
        (
            "DELETE",
            format!("/invoice-position-items/{pid}"),
            None,
            true,
        ),
    ]
}

fn setup(s: &Server) -> (String, String) {
    let c = catalog(s, &s.tenant_id);
    let cu = customer(s, &s.token, json!({}));
    let inv = draft(
        s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "a", json!(1), "1.00", &c.standard)]),
    );
    let pid = inv["positions"][0]["id"].as_str().unwrap().to_string();
    (inv["id"].as_str().unwrap().to_string(), pid)
}

#[test]
fn scopes_are_enforced_on_every_endpoint() {
    let s = Server::start();
    let (id, pid) = setup(&s);
    let before = s.get(&format!("/invoices/{id}")).body;
    let read_only = s.token_with_role("read-only");
    let r = s.post(
        "/roles",
        &json!({"id": "support", "name": "Support", "permissions": ["customer:read"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let no_invoices = s.token_with_role("support");
    for (method, path, body, write) in endpoints(&id, &pid) {
        let r = s.send(method, &path, Some(&read_only), body.as_ref(), &[]);
        if write {
            assert_problem(&r, 403);
            assert!(
                r.body["detail"].as_str().unwrap().contains("invoice:write"),
                "{method} {path}"
            );
        } else {
            assert_eq!(r.status, 200, "{method} {path}: {}", r.text);
        }
        let r = s.send(method, &path, Some(&no_invoices), body.as_ref(), &[]);
        assert_problem(&r, 403);
        let scope = if write {
            "invoice:write"
        } else {
            "invoice:read"
        };
        assert!(
            r.body["detail"].as_str().unwrap().contains(scope),
            "{method} {path}"
        );
        assert_problem(&s.send(method, &path, None, body.as_ref(), &[]), 401);
    }
    assert_eq!(
        s.get(&format!("/invoices/{id}")).body,
        before,
        "nothing changed"
    );
}

#[test]
fn another_tenants_invoices_are_not_found() {
    let s = Server::start();
    let (id, pid) = setup(&s);
    let before = s.get(&format!("/invoices/{id}")).body;
    let (other_tenant, other) = s.new_tenant("Other GmbH", "admin@other.test");
    for (method, path, body, _) in endpoints(&id, &pid) {
        if path == "/invoices" {
            continue;
        }
        let r = s.send(method, &path, Some(&other), body.as_ref(), &[]);
        assert_problem(&r, 404);
    }
    let r = s.get_as(&other, "/invoices");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 0);
    assert_eq!(s.get(&format!("/invoices/{id}")).body, before);

    // Our customer, unit and tax group are unknown references to the other tenant (422).
    let c = catalog(&s, &s.tenant_id);
    let customer_id = before["customer"]["id"].as_str().unwrap();
    let r = s.send_as(
        &other,
        "POST",
        "/invoices",
        Some(&json!({"customer": customer_id})),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["customer"]);
    let theirs = customer(&s, &other, json!({}));
    let r = s.send_as(
        &other,
        "POST",
        "/invoices",
        Some(&json!({"customer": theirs["id"], "positions": [line(&c, "a", json!(1), "1", &c.standard)]})),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        ["positions[0].unitId", "positions[0].taxGroupId"]
    );
    // With its own catalogue it works, and numbering is per tenant.
    let oc = catalog(&s, &other_tenant);
    let r = s.send_as(
        &other,
        "POST",
        "/invoices",
        Some(&json!({"customer": theirs["id"], "positions": [line(&oc, "a", json!(1), "1", &oc.standard)]})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let oid = r.body["id"].as_str().unwrap();
    let r = s.send_as(
        &other,
        "POST",
        &format!("/invoices/{oid}/finalize"),
        Some(&json!({})),
    );
    assert_eq!(r.body["number"], "RE-0000000001");
}
