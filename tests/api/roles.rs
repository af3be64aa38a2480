//! Roles: predefined and custom roles, validation, conflicts, scopes taking effect at once,
//! the last-manager guard, permissions and tenant isolation.

use crate::accounts::{member, own_account};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn role(s: &Server, token: &str, id: &str) -> Option<Value> {
    let list = s.get_as(token, "/roles?limit=100");
    let found = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned();
    found
}

fn support() -> Value {
    json!({"id": "support", "name": "Support", "permissions": ["customer:read", "user:api-token:read"]})
}

#[test]
fn lists_predefined_roles_in_the_envelope() {
    let s = Server::start();
    let r = s.get("/roles");
    assert_eq!(r.status, 200, "{}", r.text);
    let ids: Vec<_> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Most to fewest rights.
    assert_eq!(ids, ["administrator", "accounting", "user", "read-only"]);
    for role in r.body["data"].as_array().unwrap() {
        assert_eq!(role["predefined"], true);
        assert!(role["name"].is_string() && role["permissions"].is_array());
    }
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 4, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 4})
    );
    let admin = role(&s, &s.token, "administrator").unwrap();
    assert!(admin["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("tenant:manager")));

    let r = s.get("/roles?limit=3&page=2");
    assert_eq!(r.body["meta"]["pagination"]["pageTotalItems"], 1);
    assert_eq!(r.body["meta"]["pagination"]["lastPage"], 2);
    assert_problem(&s.get("/roles?limit=101"), 400);
    assert_problem(&s.get("/roles?page=0"), 400);
    assert_problem(&s.send("GET", "/roles", None, None, &[]), 401);
    // ROLE_USER: a member whose role holds no scope at all may still read the roles.
    let r = s.post(
        "/roles",
        &json!({"id": "nothing", "name": "Nothing", "permissions": []}),
    );
    assert_eq!(r.status, 201);
    let token = s.token_with_role("nothing");
    assert_eq!(s.get_as(&token, "/roles").status, 200);
}

#[test]
fn create_a_custom_role() {
    let s = Server::start();
    let r = s.post(
        "/roles",
        &json!({"id": "support", "name": "Support",
                "permissions": ["user:api-token:read", "customer:read", "customer:read"],
                "predefined": false}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": "support", "name": "Support", "predefined": false,
               "permissions": ["customer:read", "user:api-token:read"]})
    );
    assert_eq!(role(&s, &s.token, "support").unwrap(), r.body);
    assert_eq!(s.get("/roles").body["meta"]["pagination"]["totalItems"], 5);
}

#[test]
fn create_validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/roles", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["id", "name", "permissions"]);

    let r = s.post(
        "/roles",
        &json!({"id": "Not Kebab", "name": "", "permissions": ["customer:read", 7, "root:all"],
                "predefined": true, "extra": 1}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec![
            "extra",
            "id",
            "name",
            "permissions[1]",
            "permissions[2]",
            "predefined"
        ]
    );
    assert!(r.text.contains("root:all"));

    let too_long = json!({"id": "a".repeat(65), "name": "n".repeat(256), "permissions": "x"});
    assert_eq!(
        s.post("/roles", &too_long).violation_paths(),
        vec!["id", "name", "permissions"]
    );

    // Taken ids: a predefined one, an existing custom one, and Fynn's alias `account`.
    assert_eq!(s.post("/roles", &support()).status, 201);
    for id in ["administrator", "support", "account"] {
        let r = s.post("/roles", &json!({"id": id, "name": "X", "permissions": []}));
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), vec!["id"], "{id}");
    }
    assert_eq!(s.get("/roles").body["meta"]["pagination"]["totalItems"], 5);
}

#[test]
fn replace_a_custom_role() {
    let s = Server::start();
    s.post("/roles", &support());
    let r = s.put(
        "/roles/support",
        &json!({"name": "Help desk", "permissions": ["invoice:read"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": "support", "name": "Help desk", "permissions": ["invoice:read"], "predefined": false})
    );
    // Echoing a GET back is fine; changing the id is not.
    let mut echoed = r.body.clone();
    echoed["name"] = json!("Help desk 2");
    assert_eq!(s.put("/roles/support", &echoed).status, 200);
    let r = s.put(
        "/roles/support",
        &json!({"id": "other", "name": "", "permissions": ["nope"]}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["id", "name", "permissions[0]"]);
    assert_eq!(
        s.put("/roles/support", &json!({})).violation_paths(),
        vec!["name", "permissions"]
    );
    assert_eq!(
        role(&s, &s.token, "support").unwrap()["name"],
        "Help desk 2"
    );

    let body = json!({"name": "X", "permissions": []});
    assert_problem(&s.put("/roles/administrator", &body), 409);
    assert_problem(&s.put("/roles/read-only", &body), 409);
    assert_problem(&s.put("/roles/missing", &body), 404);
    assert_eq!(
        role(&s, &s.token, "read-only").unwrap()["name"],
        "Read-only"
    );
}

#[test]
fn delete_only_unassigned_custom_roles() {
    let s = Server::start();
    s.post("/roles", &support());
    let (account, _) = member(&s, "m@acme.test", "support");
    assert_problem(&s.delete("/roles/support"), 409);
    // Still assigned while the holder is deactivated.
    s.act("PUT", &format!("/tenant/accounts/{account}/deactivate"));
    assert_problem(&s.delete("/roles/support"), 409);
    let r = s.put(
        &format!("/tenant/accounts/{account}/role"),
        &json!({"role": "user"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.delete("/roles/support").status, 204);
    assert!(role(&s, &s.token, "support").is_none());
    assert_problem(&s.delete("/roles/support"), 404);
    assert_problem(&s.delete("/roles/administrator"), 409);
    assert_problem(&s.delete("/roles/user"), 409);
    assert!(role(&s, &s.token, "user").is_some());
}

#[test]
fn scope_changes_take_effect_at_once() {
    let s = Server::start();
    s.post("/roles", &support());
    let token = s.token_with_role("support");
    assert_eq!(s.get_as(&token, "/user/api-tokens").status, 200);

    let r = s.put(
        "/roles/support",
        &json!({"name": "Support", "permissions": ["customer:read"]}),
    );
    assert_eq!(r.status, 200);
    let r = s.get_as(&token, "/user/api-tokens");
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("user:api-token:read"));
    assert_eq!(
        s.get_as(&token, "/user/me").body["permissions"],
        json!(["customer:read"])
    );

    s.put("/roles/support", &support());
    assert_eq!(s.get_as(&token, "/user/api-tokens").status, 200);
}

#[test]
fn the_last_manager_keeps_the_manager_scope() {
    let s = Server::start();
    let boss = json!({"id": "boss", "name": "Boss",
                      "permissions": ["tenant:manager", "user:api-token:read"]});
    assert_eq!(s.post("/roles", &boss).status, 201);
    let (_, boss_token) = member(&s, "boss@acme.test", "boss");
    // The boss demotes the original administrator and is now the only manager.
    let admin = own_account(&s, &s.token);
    let r = s.send_as(
        &boss_token,
        "PUT",
        &format!("/tenant/accounts/{admin}/role"),
        Some(&json!({"role": "read-only"})),
    );
    assert_eq!(r.status, 200, "{}", r.text);

    let demoted = json!({"name": "Boss", "permissions": ["user:api-token:read"]});
    let r = s.send_as(&boss_token, "PUT", "/roles/boss", Some(&demoted));
    assert_problem(&r, 409);
    assert!(role(&s, &boss_token, "boss").unwrap()["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("tenant:manager")));
    // Renaming while keeping the scope is fine.
    let renamed = json!({"name": "Chief", "permissions": ["tenant:manager"]});
    let r = s.send_as(&boss_token, "PUT", "/roles/boss", Some(&renamed));
    assert_eq!(r.status, 200, "{}", r.text);

    // With a second manager again, the scope may go.
    let r = s.send_as(
        &boss_token,
        "PUT",
        &format!("/tenant/accounts/{admin}/role"),
        Some(&json!({"role": "administrator"})),
    );
    assert_eq!(r.status, 200);
    let r = s.send_as(&boss_token, "PUT", "/roles/boss", Some(&demoted));
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn read_only_member_cannot_write() {
    let s = Server::start();
    s.post("/roles", &support());
    let token = s.token_with_role("read-only");
    let body = json!({"id": "x", "name": "X", "permissions": []});
    let attempts = [
        ("POST", "/roles", Some(&body)),
        ("PUT", "/roles/support", Some(&body)),
        ("DELETE", "/roles/support", None),
    ];
    for (method, path, body) in attempts {
        let r = s.send_as(&token, method, path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("tenant:manager"),
            "{method} {path}"
        );
        assert_problem(&s.send(method, path, None, body, &[]), 401);
    }
    assert_eq!(role(&s, &s.token, "support").unwrap()["name"], "Support");
    assert!(role(&s, &s.token, "x").is_none());
}

#[test]
fn another_tenants_roles_are_404_and_unchanged() {
    let s = Server::start();
    s.post("/roles", &support());
    let before = role(&s, &s.token, "support").unwrap();
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    assert!(role(&s, &other, "support").is_none());
    let body = json!({"name": "Hijacked", "permissions": ["tenant:manager"]});
    assert_problem(
        &s.send_as(&other, "PUT", "/roles/support", Some(&body)),
        404,
    );
    assert_problem(&s.send_as(&other, "DELETE", "/roles/support", None), 404);
    assert_eq!(role(&s, &s.token, "support").unwrap(), before);
    // The same id is free in the other tenant, and the two roles stay apart.
    let r = s.send_as(&other, "POST", "/roles", Some(&support()));
    assert_eq!(r.status, 201);
    s.send_as(&other, "DELETE", "/roles/support", None);
    assert_eq!(role(&s, &s.token, "support").unwrap(), before);
}
