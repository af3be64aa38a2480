//! Tenants: the caller's tenant list, reading and merge-patching the tenant, username rules,
//! permissions and isolation between tenants.

use crate::accounts::member;
use crate::common::{assert_problem, Server};
use serde_json::json;

fn merge_patch(
    s: &Server,
    token: &str,
    path: &str,
    body: &serde_json::Value,
) -> crate::common::Resp {
    s.send(
        "PATCH",
        path,
        Some(token),
        Some(body),
        &[("Content-Type", "application/merge-patch+json")],
    )
}

#[test]
fn lists_the_tokens_tenant() {
    let s = Server::start();
    let r = s.get("/user/tenants");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "data": [{"id": s.tenant_id, "name": "Acme GmbH", "username": "acme-gmbh",
                      "legalCompanyName": "Acme GmbH"}],
            "meta": {"pagination": {"totalItems": 1, "itemsPerPage": 30, "currentPage": 1,
                                    "lastPage": 1, "pageTotalItems": 1}}
        })
    );
    let r = s.get("/user/tenants?page=2&limit=1");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["pagination"]["currentPage"], 2);
    assert_problem(&s.get("/user/tenants?limit=101"), 400);
    assert_problem(&s.get("/user/tenants?page=0"), 400);
    assert_problem(&s.send("GET", "/user/tenants", None, None, &[]), 401);
}

#[test]
fn a_user_in_two_tenants_sees_only_the_tokens_tenant() {
    let s = Server::start();
    let (other_id, other) = s.new_tenant("Other GmbH", "boss@other.test");
    // The other tenant's administrator joins Acme too.
    let (_, in_acme) = member(&s, "boss@other.test", "read-only");
    let r = s.get_as(&in_acme, "/user/tenants");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 1);
    assert_eq!(r.body["data"][0]["id"], s.tenant_id.as_str());
    let r = s.get_as(&other, "/user/tenants");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 1);
    assert_eq!(r.body["data"][0]["id"], other_id.as_str());
    assert_problem(&s.get_as(&in_acme, &format!("/tenants/{other_id}")), 404);
}

#[test]
fn read_own_tenant_only() {
    let s = Server::start();
    let r = s.get(&format!("/tenants/{}", s.tenant_id));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": s.tenant_id, "name": "Acme GmbH", "username": "acme-gmbh",
               "legalCompanyName": "Acme GmbH"})
    );
    // Any member may read it.
    let ro = s.token_with_role("read-only");
    assert_eq!(
        s.get_as(&ro, &format!("/tenants/{}", s.tenant_id)).status,
        200
    );
    let (other_id, _) = s.new_tenant("Other GmbH", "boss@other.test");
    assert_problem(&s.get(&format!("/tenants/{other_id}")), 404);
    assert_problem(&s.get("/tenants/not-a-uuid"), 404);
    let path = format!("/tenants/{}", s.tenant_id);
    assert_problem(&s.send("GET", &path, None, None, &[]), 401);
}

#[test]
fn merge_patch_changes_only_the_sent_keys() {
    let s = Server::start();
    let path = format!("/tenants/{}", s.tenant_id);
    let r = merge_patch(
        &s,
        &s.token,
        &path,
        &json!({"legalCompanyName": "Acme GmbH & Co. KG"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": s.tenant_id, "name": "Acme GmbH", "username": "acme-gmbh",
               "legalCompanyName": "Acme GmbH & Co. KG"})
    );
    // Plain application/json is accepted on PATCH too (Fynn's client sends it).
    let r = s.patch(&path, &json!({"name": "ACME", "username": "acme"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["name"].as_str(), r.body["username"].as_str()),
        (Some("ACME"), Some("acme"))
    );
    assert_eq!(r.body["legalCompanyName"], "Acme GmbH & Co. KG");
    // An empty patch changes nothing; the own username is not "taken".
    let r = s.patch(&path, &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(s.patch(&path, &json!({"username": "acme"})).status, 200);
    assert_eq!(s.get(&path).body["username"], "acme");
    assert_eq!(s.get("/user/me").body["tenant"]["name"], "ACME");
}

#[test]
fn patch_validation_names_every_field() {
    let s = Server::start();
    let path = format!("/tenants/{}", s.tenant_id);
    let r = s.patch(
        &path,
        &json!({"name": "", "legalCompanyName": null, "username": "Not Valid", "id": "x"}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec!["id", "name", "legalCompanyName", "username"]
    );
    let r = s.patch(
        &path,
        &json!({"name": "n".repeat(256), "legalCompanyName": 5, "username": "-acme"}),
    );
    assert_eq!(
        r.violation_paths(),
        vec!["name", "legalCompanyName", "username"]
    );
    // Usernames are unique across the installation.
    s.new_tenant("Other GmbH", "boss@other.test");
    let r = s.patch(&path, &json!({"username": "other-gmbh", "name": "Renamed"}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["username"]);
    let unchanged = s.get(&path).body;
    assert_eq!(
        (unchanged["name"].as_str(), unchanged["username"].as_str()),
        (Some("Acme GmbH"), Some("acme-gmbh"))
    );
}

#[test]
fn patch_needs_tenant_manager() {
    let s = Server::start();
    let path = format!("/tenants/{}", s.tenant_id);
    for role in ["read-only", "accounting", "user"] {
        let token = s.token_with_role(role);
        let r = s.send_as(&token, "PATCH", &path, Some(&json!({"name": "Hacked"})));
        assert_problem(&r, 403);
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("tenant:manager"));
    }
    assert_problem(
        &s.send("PATCH", &path, None, Some(&json!({"name": "Hacked"})), &[]),
        401,
    );
    assert_eq!(s.get(&path).body["name"], "Acme GmbH");
}

#[test]
fn another_tenant_cannot_patch() {
    let s = Server::start();
    let (other_id, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let path = format!("/tenants/{}", s.tenant_id);
    // Valid and invalid bodies alike: 404, never a 422 that would confirm the id.
    for body in [json!({"name": "Hijacked"}), json!({"username": "BAD"})] {
        assert_problem(&s.send_as(&other, "PATCH", &path, Some(&body)), 404);
    }
    assert_problem(&s.get_as(&other, &path), 404);
    assert_eq!(s.get(&path).body["name"], "Acme GmbH");
    let r = s.get_as(&other, &format!("/tenants/{other_id}"));
    assert_eq!(r.body["name"], "Other GmbH");
}
