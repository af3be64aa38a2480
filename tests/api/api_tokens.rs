//! API tokens: list envelope, create-once secrets, revocation, expiry, isolation, storage.

use crate::common::{assert_problem, Server};
use serde_json::json;

#[test]
fn create_list_and_delete() {
    let s = Server::start();
    let r = s.post(
        "/user/api-tokens",
        &json!({"description": "deploy", "expiresAt": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.body["token"].as_str().unwrap().to_string();
    assert!(secret.len() >= 64);
    assert_eq!(r.body["expiresAt"], "2099-01-01T00:00:00+00:00");

    // The new token works and sees the same list.
    let list = s.get_as(&secret, "/user/api-tokens");
    assert_eq!(list.status, 200);
    let data = list.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "bootstrap token + new one");
    for item in data {
        assert_eq!(item["apiToken"], "**********");
        assert!(item["createdAt"].is_string() && item["updatedAt"].is_string());
        assert!(item.get("token").is_none());
    }
    let p = &list.body["meta"]["pagination"];
    assert_eq!(
        *p,
        json!({"totalItems": 2, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 2})
    );

    let id = r.body["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/user/api-tokens/{id}")).status, 204);
    assert_problem(&s.get_as(&secret, "/user/api-tokens"), 401);
    assert_problem(&s.delete(&format!("/user/api-tokens/{id}")), 404);
    assert_problem(&s.delete("/user/api-tokens/not-a-uuid"), 404);
}

/// Read connections and the writer cache resolved tokens (`auth::Cache`): after many reads and
/// writes have warmed every connection, a revoked token must still fail on each of them at once.
#[test]
fn revocation_applies_to_every_connection_at_once() {
    let s = Server::start();
    let r = s.post(
        "/user/api-tokens",
        &json!({"description": "warm", "expiresAt": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.body["token"].as_str().unwrap().to_string();
    let create = |name: &str| {
        let body = json!({"companyName": name, "email": format!("{}@example.com", name.replace(' ', "."))});
        s.send("POST", "/customers", Some(&secret), Some(&body), &[])
    };
    for i in 0..40 {
        assert_eq!(s.get_as(&secret, "/user/api-tokens").status, 200);
        let r = create(&format!("Warm {i}"));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/user/api-tokens/{id}")).status, 204);
    for _ in 0..40 {
        assert_problem(&s.get_as(&secret, "/user/api-tokens"), 401);
        assert_problem(&create("Too late"), 401);
    }
    assert_eq!(
        s.get("/customers?limit=0").body["meta"]["pagination"]["totalItems"],
        40
    );
}

#[test]
fn pagination_bounds_and_pages() {
    let s = Server::start();
    for i in 0..4 {
        let r = s.post(
            "/user/api-tokens",
            &json!({"description": format!("t{i}"), "expiresAt": null}),
        );
        assert_eq!(r.status, 201);
    }
    assert_problem(&s.get("/user/api-tokens?limit=101"), 400);
    assert_problem(&s.get("/user/api-tokens?page=0"), 400);
    assert_problem(&s.get("/user/api-tokens?limit=-1"), 400);
    let r = s.get("/user/api-tokens?limit=2&page=3");
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 5, "itemsPerPage": 2, "currentPage": 3, "lastPage": 3, "pageTotalItems": 1})
    );
    let r = s.get("/user/api-tokens?limit=0");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 5);
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/user/api-tokens", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["description", "expiresAt"]);
    let r = s.post(
        "/user/api-tokens",
        &json!({"description": 5, "expiresAt": "tomorrow"}),
    );
    assert_eq!(r.violation_paths(), vec!["description", "expiresAt"]);
    let r = s.post(
        "/user/api-tokens",
        &json!({"description": null, "expiresAt": "2000-01-01T00:00:00Z"}),
    );
    assert_eq!(r.violation_paths(), vec!["expiresAt"]);
    let r = s.post(
        "/user/api-tokens",
        &json!({"description": null, "expiresAt": null}),
    );
    assert_eq!(r.status, 201);
}

#[test]
fn expired_token_is_401() {
    let s = Server::start();
    let r = s.post(
        "/user/api-tokens",
        &json!({"description": "short", "expiresAt": "2099-01-01T00:00:00Z"}),
    );
    let secret = r.body["token"].as_str().unwrap();
    assert_eq!(s.get_as(secret, "/user/api-tokens").status, 200);
    s.db()
        .execute(
            "UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00+00:00' WHERE id = ?1",
            [r.body["id"].as_str().unwrap()],
        )
        .unwrap();
    assert_problem(&s.get_as(secret, "/user/api-tokens"), 401);
}

#[test]
fn deactivated_user_token_is_401() {
    let s = Server::start();
    let token = s.token_with_role("user");
    assert_eq!(s.get_as(&token, "/user/api-tokens").status, 200);
    s.db()
        .execute(
            "UPDATE accounts SET deactivated = 1 WHERE role_id = 'user'",
            [],
        )
        .unwrap();
    assert_problem(&s.get_as(&token, "/user/api-tokens"), 401);
}

#[test]
fn tokens_are_isolated_per_user_and_tenant() {
    let s = Server::start();
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let mine = s.post(
        "/user/api-tokens",
        &json!({"description": "mine", "expiresAt": null}),
    );
    let id = mine.body["id"].as_str().unwrap();
    // The other tenant neither sees nor deletes it.
    let theirs = s.get_as(&other, "/user/api-tokens");
    assert!(theirs.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["id"] != id));
    assert_problem(
        &s.send_as(&other, "DELETE", &format!("/user/api-tokens/{id}"), None),
        404,
    );
    // Another user of the same tenant does not either.
    let colleague = s.token_with_role("administrator");
    assert_problem(
        &s.send_as(
            &colleague,
            "DELETE",
            &format!("/user/api-tokens/{id}"),
            None,
        ),
        404,
    );
    assert_eq!(
        s.get("/user/api-tokens").body["meta"]["pagination"]["totalItems"],
        2
    );
}

#[test]
fn permission_scopes_are_enforced() {
    let s = Server::start();
    // A custom role without the token scopes.
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let token = s.token_with_role("nothing");
    let r = s.get_as(&token, "/user/api-tokens");
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("user:api-token:read"));
    let r = s.send_as(
        &token,
        "POST",
        "/user/api-tokens",
        Some(&json!({"description": null, "expiresAt": null})),
    );
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("user:api-token:write"));
}

#[test]
fn no_secret_is_stored_in_the_database_file() {
    let s = Server::start();
    let mut secrets = vec![s.token.clone()];
    for i in 0..3 {
        let r = s.post(
            "/user/api-tokens",
            &json!({"description": format!("s{i}"), "expiresAt": null}),
        );
        secrets.push(r.body["token"].as_str().unwrap().to_string());
    }
    // Flush the WAL into the main file, then read every byte of both.
    s.db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let mut bytes = std::fs::read(&s.db_path).unwrap();
    if let Ok(wal) = std::fs::read(s.db_path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let hay = String::from_utf8_lossy(&bytes);
    for secret in &secrets {
        let body = secret.trim_start_matches("kontor_");
        assert!(
            !hay.contains(body),
            "a token secret was found in the database file"
        );
    }
}
