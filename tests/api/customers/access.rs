//! Customer access rules: unknown ids, 401/403 per endpoint, and tenant isolation.

use super::{count, create, id};
use crate::common::{assert_problem, Server};
use serde_json::json;

#[test]
fn unknown_and_malformed_ids_are_404() {
    let s = Server::start();
    for path in [
        "/customers/0190d7a0-0000-7000-8000-000000000000",
        "/customers/not-a-uuid",
        "/customers/%27%20OR%201=1",
    ] {
        assert_problem(&s.get(path), 404);
        assert_problem(&s.delete(path), 404);
    }
}

#[test]
fn permissions_are_enforced() {
    let s = Server::start();
    let c = create(&s, json!({"email": "a@example.com"}));
    let cid = id(&c);
    assert_problem(&s.send("GET", "/customers", None, None, &[]), 401);
    assert_problem(
        &s.send("GET", "/customers", Some("kontor_wrong"), None, &[]),
        401,
    );

    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/customers").status, 200);
    assert_eq!(s.get_as(&ro, &format!("/customers/{cid}")).status, 200);
    assert_eq!(
        s.get_as(&ro, &format!("/customers/{cid}/children")).status,
        200
    );
    let body = json!({"email": "x@example.com", "paymentMethodId": null});
    for (method, path) in [
        ("POST", "/customers".to_string()),
        ("PUT", format!("/customers/{cid}")),
        ("DELETE", format!("/customers/{cid}")),
        ("PUT", format!("/customers/{cid}/archive")),
        ("PUT", format!("/customers/{cid}/unarchive")),
        ("PATCH", format!("/customers/{cid}/payment-method")),
    ] {
        let r = s.send_as(&ro, method, &path, Some(&body));
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("customer:write"),
            "{method} {path}"
        );
    }
    assert_eq!(s.get(&format!("/customers/{cid}")).body, c);

    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    let r = s.get_as(&none, "/customers");
    assert_problem(&r, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("customer:read"));
}

#[test]
fn another_tenant_gets_404_everywhere_and_changes_nothing() {
    let s = Server::start();
    let c = create(&s, json!({"email": "mine@example.com"}));
    let cid = id(&c);
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let before = s.get(&format!("/customers/{cid}")).body;
    let outbox_before = count(&s, "outbox");
    let body = json!({"firstName": "Hacked", "paymentMethodId": null});
    for (method, path) in [
        ("GET", format!("/customers/{cid}")),
        ("PUT", format!("/customers/{cid}")),
        ("DELETE", format!("/customers/{cid}")),
        ("PUT", format!("/customers/{cid}/archive")),
        ("PUT", format!("/customers/{cid}/unarchive")),
        ("PATCH", format!("/customers/{cid}/payment-method")),
        ("GET", format!("/customers/{cid}/children")),
    ] {
        let r = s.send_as(&other, method, &path, Some(&body));
        assert_problem(&r, 404);
        assert_eq!(
            s.get(&format!("/customers/{cid}")).body,
            before,
            "{method} {path}"
        );
    }
    assert_eq!(count(&s, "outbox"), outbox_before);
    // Nor does it see the customer in its list or search.
    let r = s.get_as(&other, "/customers?search=mine");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(
        s.get_as(&other, "/customers").body["meta"]["pagination"]["totalItems"],
        0
    );
}
