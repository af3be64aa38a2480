//! Accounts and the current user: list, invite (outbox), role change, deactivation taking effect
//! on API tokens at once, self-protection, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// Invites `email` with `role` through the API, then mints an API token for the new member
/// (tokens are created by the member themselves or the CLI; the API has no path for another
/// user's token). Returns (account id, token).
pub fn member(s: &Server, email: &str, role: &str) -> (String, String) {
    let r = s.post(
        "/tenant/accounts",
        &json!({"email": email, "firstName": "Test", "lastName": "Member", "role": role}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let token =
        kontor::bootstrap::create_token(&s.db(), email, Some(&s.tenant_id), None, None).unwrap();
    (r.body["id"].as_str().unwrap().to_string(), token)
}

/// The account id of the token's own membership (`/user/me` names the user, not the account).
pub fn own_account(s: &Server, token: &str) -> String {
    let me = s.get_as(token, "/user/me");
    let list = s.get_as(token, "/tenant/accounts?limit=100");
    let found = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user"]["id"] == me.body["id"])
        .map(|a| a["id"].as_str().unwrap().to_string());
    found.expect("own account in the list")
}

fn account(s: &Server, id: &str) -> Value {
    let list = s.get("/tenant/accounts?limit=100");
    let found = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned();
    found.expect("account in the list")
}

#[test]
fn list_shape_envelope_and_filters() {
    let s = Server::start();
    let r = s.get("/tenant/accounts");
    assert_eq!(r.status, 200, "{}", r.text);
    let admin = &r.body["data"][0];
    assert_eq!(admin["role"], "administrator");
    assert_eq!(admin["deactivated"], false);
    assert_eq!(admin["user"]["email"], "admin@acme.test");
    assert!(admin["id"].is_string() && admin["createdAt"].is_string());
    assert!(admin["user"]["id"].is_string() && admin["user"]["firstName"].is_string());
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 1, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 1})
    );

    let (ro, ro_token) = member(&s, "ro@acme.test", "read-only");
    member(&s, "acc@acme.test", "accounting");
    // Any member may list (ROLE_USER).
    let r = s.get_as(&ro_token, "/tenant/accounts?limit=2&page=2");
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 2, "currentPage": 2, "lastPage": 2, "pageTotalItems": 1})
    );
    let r = s.get("/tenant/accounts?role=read-only");
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["data"][0]["id"], ro.as_str());
    s.act("PUT", &format!("/tenant/accounts/{ro}/deactivate"));
    let r = s.get("/tenant/accounts?deactivated=true");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 1);

    assert_problem(&s.get("/tenant/accounts?limit=101"), 400);
    assert_problem(&s.get("/tenant/accounts?page=0"), 400);
    assert_problem(&s.get("/tenant/accounts?deactivated=maybe"), 400);
    assert_problem(&s.send("GET", "/tenant/accounts", None, None, &[]), 401);
}

#[test]
fn me_shows_user_membership_and_effective_scopes() {
    let s = Server::start();
    let r = s.get("/user/me");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "admin@acme.test");
    assert_eq!(r.body["role"], "administrator");
    assert_eq!(
        r.body["tenant"],
        json!({"id": s.tenant_id, "name": "Acme GmbH"})
    );
    let perms = r.body["permissions"].as_array().unwrap();
    assert_eq!(perms.len(), kontor::domain::permissions::ALL_SCOPES.len());
    assert!(perms.contains(&json!("tenant:manager")));
    for key in ["id", "firstName", "lastName"] {
        assert!(r.body[key].is_string(), "{key}");
    }

    let (_, token) = member(&s, "ro@acme.test", "read-only");
    let r = s.get_as(&token, "/user/me");
    assert_eq!(
        (r.body["role"].as_str(), r.body["firstName"].as_str()),
        (Some("read-only"), Some("Test"))
    );
    assert!(r.body["permissions"].as_array().unwrap().iter().all(|p| p
        .as_str()
        .unwrap()
        .ends_with(":read")
        || p == "user:api-token:write"));
    assert_problem(&s.send("GET", "/user/me", None, None, &[]), 401);
}

#[test]
fn invite_creates_or_reuses_the_user_and_queues_the_mail() {
    let s = Server::start();
    let r = s.post(
        "/tenant/accounts",
        &json!({"email": "ann@acme.test", "firstName": "Ann", "lastName": "Lee", "role": "user"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["role"], "user");
    assert_eq!(r.body["deactivated"], false);
    assert_eq!(
        (&r.body["user"]["firstName"], &r.body["user"]["email"]),
        (&json!("Ann"), &json!("ann@acme.test"))
    );
    let id = r.body["id"].as_str().unwrap();
    let (event, payload): (String, String) = s
        .db()
        .query_row(
            "SELECT event_type, payload FROM outbox WHERE object_id = ?1 AND tenant_id = ?2",
            [id, &s.tenant_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(event, "notification.account_invited");
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["user"]["email"], "ann@acme.test");

    // Already a member (any letter case): 409, and no second mail.
    let again =
        json!({"email": "ANN@acme.test", "firstName": "A", "lastName": "L", "role": "user"});
    assert_problem(&s.post("/tenant/accounts", &again), 409);
    let mails: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mails, 1);

    // A user of another tenant is reused, not duplicated; Fynn's `account` means accounting.
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let other_user = s.get_as(&other, "/user/me").body["id"].clone();
    let r = s.post(
        "/tenant/accounts",
        &json!({"email": "boss@other.test", "firstName": "Bo", "lastName": "Ss", "role": "account"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["user"]["id"], other_user);
    assert_eq!(r.body["role"], "accounting");
}

#[test]
fn invite_validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/tenant/accounts", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec!["email", "firstName", "lastName", "role"]
    );
    let r = s.post(
        "/tenant/accounts",
        &json!({"email": "no-at-sign", "firstName": "x".repeat(256), "lastName": 3,
                "role": "boss", "password": "x"}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec!["password", "email", "firstName", "lastName", "role"]
    );
    // A custom role of another tenant is unknown here.
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let r = s.send_as(
        &other,
        "POST",
        "/roles",
        Some(&json!({"id": "support", "name": "Support", "permissions": []})),
    );
    assert_eq!(r.status, 201);
    let r = s.post(
        "/tenant/accounts",
        &json!({"email": "x@acme.test", "firstName": "X", "lastName": "Y", "role": "support"}),
    );
    assert_eq!(r.violation_paths(), vec!["role"]);
    let outbox: i64 = s
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outbox, 0, "a refused invitation queues no mail");
}

#[test]
fn role_change_takes_effect_for_tokens_at_once() {
    let s = Server::start();
    let (id, token) = member(&s, "m@acme.test", "read-only");
    let new_role = json!({"id": "x", "name": "X", "permissions": []});
    assert_problem(&s.send_as(&token, "POST", "/roles", Some(&new_role)), 403);

    let r = s.put(
        &format!("/tenant/accounts/{id}/role"),
        &json!({"role": "administrator"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "administrator");
    let r = s.send_as(&token, "POST", "/roles", Some(&new_role));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(s.get_as(&token, "/user/me").body["role"], "administrator");

    // Down to a custom role without any scope: even the token endpoints close.
    let r = s.put(
        &format!("/tenant/accounts/{id}/role"),
        &json!({"role": "x"}),
    );
    assert_eq!(r.body["role"], "x");
    assert_problem(&s.get_as(&token, "/user/api-tokens"), 403);
    assert_eq!(s.get_as(&token, "/user/me").body["permissions"], json!([]));

    // Fynn's alias, unknown roles, bad bodies, unknown accounts.
    let r = s.put(
        &format!("/tenant/accounts/{id}/role"),
        &json!({"role": "account"}),
    );
    assert_eq!(r.body["role"], "accounting");
    let r = s.put(
        &format!("/tenant/accounts/{id}/role"),
        &json!({"role": "nope", "x": 1}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["x", "role"]);
    assert_eq!(
        s.put(&format!("/tenant/accounts/{id}/role"), &json!({}))
            .violation_paths(),
        vec!["role"]
    );
    assert_problem(
        &s.put("/tenant/accounts/nope/role", &json!({"role": "user"})),
        404,
    );
    assert_eq!(account(&s, &id)["role"], "accounting");
}

#[test]
fn deactivation_locks_tokens_out_and_activation_restores() {
    let s = Server::start();
    let (id, token) = member(&s, "m@acme.test", "user");
    assert_eq!(s.get_as(&token, "/user/me").status, 200);

    let r = s.act("PUT", &format!("/tenant/accounts/{id}/deactivate"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["deactivated"], true);
    assert_problem(&s.get_as(&token, "/user/me"), 401);
    assert_problem(&s.get_as(&token, "/user/api-tokens"), 401);
    // Idempotent.
    let r = s.act("PUT", &format!("/tenant/accounts/{id}/deactivate"));
    assert_eq!((r.status, &r.body["deactivated"]), (200, &json!(true)));

    let r = s.act("PUT", &format!("/tenant/accounts/{id}/activate"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["deactivated"], false);
    assert_eq!(s.get_as(&token, "/user/me").status, 200);

    assert_problem(&s.act("PUT", "/tenant/accounts/nope/deactivate"), 404);
    assert_problem(&s.act("PUT", "/tenant/accounts/nope/activate"), 404);
}

#[test]
fn nobody_changes_or_locks_themselves() {
    let s = Server::start();
    let me = own_account(&s, &s.token);
    let r = s.put(
        &format!("/tenant/accounts/{me}/role"),
        &json!({"role": "read-only"}),
    );
    assert_problem(&r, 403);
    assert_problem(
        &s.act("PUT", &format!("/tenant/accounts/{me}/deactivate")),
        403,
    );
    let admin = account(&s, &me);
    assert_eq!(
        (&admin["role"], &admin["deactivated"]),
        (&json!("administrator"), &json!(false))
    );
    // Another administrator may do it.
    let (_, second) = member(&s, "two@acme.test", "administrator");
    let r = s.send_as(
        &second,
        "PUT",
        &format!("/tenant/accounts/{me}/role"),
        Some(&json!({"role": "user"})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn read_only_member_cannot_write() {
    let s = Server::start();
    let (target, _) = member(&s, "t@acme.test", "user");
    let (_, token) = member(&s, "ro@acme.test", "read-only");
    let invite = json!({"email": "n@acme.test", "firstName": "N", "lastName": "N", "role": "user"});
    let role = json!({"role": "administrator"});
    let attempts = [
        ("POST", "/tenant/accounts".to_string(), Some(&invite)),
        (
            "PUT",
            format!("/tenant/accounts/{target}/role"),
            Some(&role),
        ),
        ("PUT", format!("/tenant/accounts/{target}/deactivate"), None),
        ("PUT", format!("/tenant/accounts/{target}/activate"), None),
    ];
    for (method, path, body) in attempts {
        let r = s.send_as(&token, method, &path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("tenant:manager"),
            "{method} {path}"
        );
        assert_problem(&s.send(method, &path, None, body, &[]), 401);
    }
    let unchanged = account(&s, &target);
    assert_eq!(
        (&unchanged["role"], &unchanged["deactivated"]),
        (&json!("user"), &json!(false))
    );
    assert_eq!(
        s.get("/tenant/accounts").body["meta"]["pagination"]["totalItems"],
        3
    );
}

#[test]
fn another_tenants_accounts_are_404_and_unchanged() {
    let s = Server::start();
    let (id, token) = member(&s, "m@acme.test", "user");
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let attempts = [
        ("role", Some(json!({"role": "read-only"}))),
        ("deactivate", None),
        ("activate", None),
    ];
    for (action, body) in &attempts {
        let path = format!("/tenant/accounts/{id}/{action}");
        assert_problem(&s.send_as(&other, "PUT", &path, body.as_ref()), 404);
    }
    let list = s.get_as(&other, "/tenant/accounts");
    assert_eq!(list.body["meta"]["pagination"]["totalItems"], 1);
    assert!(list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != id.as_str()));
    let unchanged = account(&s, &id);
    assert_eq!(
        (&unchanged["role"], &unchanged["deactivated"]),
        (&json!("user"), &json!(false))
    );
    assert_eq!(s.get_as(&token, "/user/me").status, 200);
}
