//! The request pipeline: public routes, auth, status codes, limits, idempotency, OpenAPI.

use crate::common::{assert_problem, Server};
use serde_json::json;

#[test]
fn health_is_public() {
    let s = Server::start();
    let r = s.send("GET", "/health", None, None, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "ok"}));
}

#[test]
fn missing_invalid_and_malformed_tokens_are_401() {
    let s = Server::start();
    assert_problem(&s.send("GET", "/user/api-tokens", None, None, &[]), 401);
    assert_problem(
        &s.send("GET", "/user/api-tokens", Some("kontor_nope"), None, &[]),
        401,
    );
    let r = s.send(
        "GET",
        "/user/api-tokens",
        None,
        None,
        &[("Authorization", "Basic abc")],
    );
    assert_problem(&r, 401);
}

#[test]
fn unknown_route_is_404_and_wrong_method_is_405() {
    let s = Server::start();
    assert_problem(&s.get("/no-such-thing"), 404);
    let r = s.send(
        "PATCH",
        "/user/api-tokens",
        Some(&s.token),
        Some(&json!({})),
        &[],
    );
    assert_problem(&r, 405);
    assert!(r.header("Allow").unwrap().contains("GET"));
}

#[test]
fn malformed_json_is_400_and_wrong_media_type_is_415() {
    let s = Server::start();
    let r = s.send_raw(
        "POST",
        "/user/api-tokens",
        "application/json",
        b"{\"description\":",
    );
    assert_problem(&r, 400);
    let r = s.send_raw("POST", "/user/api-tokens", "text/plain", b"hello");
    assert_problem(&r, 415);
    let r = s.send_raw("POST", "/user/api-tokens", "application/json", b"[1,2]");
    assert_problem(&r, 400);
}

#[test]
fn oversized_body_is_413() {
    let s = Server::start();
    let big = format!(
        "{{\"description\":\"{}\",\"expiresAt\":null}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = s.send_raw(
        "POST",
        "/user/api-tokens",
        "application/json",
        big.as_bytes(),
    );
    assert_problem(&r, 413);
    // Most of the body stays unread: the reply says the connection ends, and the server reads
    // on until the client has sent it all (else a reset can beat the reply to the client).
    assert_eq!(r.header("Connection"), Some("close"));
    // A small request still keeps its connection.
    let r = s.send_raw("POST", "/user/api-tokens", "application/json", b"{}");
    assert_eq!(r.header("Connection"), None);
}

#[test]
fn idempotent_post_replays_and_conflicts_on_other_body() {
    let s = Server::start();
    let body = json!({"description": "replayed", "expiresAt": null});
    let key = [("Idempotency-Key", "key-1")];
    let first = s.send(
        "POST",
        "/user/api-tokens",
        Some(&s.token),
        Some(&body),
        &key,
    );
    assert_eq!(first.status, 201);
    let again = s.send(
        "POST",
        "/user/api-tokens",
        Some(&s.token),
        Some(&body),
        &key,
    );
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body, "replay returns the stored response");
    let count: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM api_tokens WHERE description = 'replayed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 1, "the replay created nothing");
    let other = json!({"description": "different", "expiresAt": null});
    let r = s.send(
        "POST",
        "/user/api-tokens",
        Some(&s.token),
        Some(&other),
        &key,
    );
    assert_problem(&r, 409);
    // Keys are per tenant: the same key in another tenant is a fresh request.
    let (_, t2) = s.new_tenant("Other", "o@other.test");
    let r = s.send("POST", "/user/api-tokens", Some(&t2), Some(&body), &key);
    assert_eq!(r.status, 201);
    assert_ne!(r.body["id"], first.body["id"]);
}

#[test]
fn failed_request_leaves_no_rows_and_stores_no_idempotency_key() {
    let s = Server::start();
    let before: i64 = s
        .db()
        .query_row("SELECT count(*) FROM api_tokens", [], |r| r.get(0))
        .unwrap();
    let bad = json!({"description": "x", "expiresAt": "2001-01-01T00:00:00Z"});
    let r = s.send(
        "POST",
        "/user/api-tokens",
        Some(&s.token),
        Some(&bad),
        &[("Idempotency-Key", "k")],
    );
    assert_problem(&r, 422);
    let after: i64 = s
        .db()
        .query_row("SELECT count(*) FROM api_tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, after);
    let keys: i64 = s
        .db()
        .query_row("SELECT count(*) FROM idempotency_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 0);
}

#[test]
fn openapi_lists_every_routed_path() {
    let s = Server::start();
    let r = s.send("GET", "/openapi.json", None, None, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    for route in kontor::routes::all() {
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(
            paths.get(route.path).and_then(|p| p.get(&method)).is_some(),
            "{} {} is routed but missing from /openapi.json",
            route.method.as_str(),
            route.path
        );
    }
    // And the other way round: every documented operation is answered by a route (not 404 "no route").
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path.replace('{', "x").replace('}', "");
            let resp = s.send(&method.to_ascii_uppercase(), &concrete, None, None, &[]);
            assert!(
                !resp.body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("No route"),
                "{method} {path} is documented but not routed"
            );
        }
    }
}

#[test]
fn available_webhook_events_need_a_token() {
    let s = Server::start();
    assert_problem(
        &s.send("GET", "/available-webhook-events", None, None, &[]),
        401,
    );
    let r = s.get("/available-webhook-events");
    assert_eq!(r.status, 200);
    let events = r.body["data"].as_array().unwrap();
    assert!(events.contains(&json!("invoice.finalized")));
    assert!(events.contains(&json!("customer.created")));
    assert_eq!(events.len(), 61);
}
