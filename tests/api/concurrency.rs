//! Concurrent writers: numbers stay unique and gapless, idempotency keys hold under races.

use crate::common::Server;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

#[test]
fn concurrent_creates_get_distinct_gapless_numbers() {
    let s = Arc::new(Server::start());
    // 8 threads x 25 creates = 200 customers through the group-committing writer.
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        let r = s.post(
                            "/customers",
                            &json!({"email": format!("c{t}-{i}@example.com")}),
                        );
                        assert_eq!(r.status, 201, "{}", r.text);
                        r.body["customerNumber"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let numbers: BTreeSet<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let expected: BTreeSet<String> = (1..=200).map(|n| format!("KD-{n:06}")).collect();
    assert_eq!(
        numbers, expected,
        "200 distinct numbers, no gap, in the configured format"
    );
}

#[test]
fn racing_requests_with_one_idempotency_key_create_one_token() {
    let s = Arc::new(Server::start());
    let body = json!({"description": "raced", "expiresAt": null});
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (s, body) = (s.clone(), body.clone());
            std::thread::spawn(move || {
                let r = s.send(
                    "POST",
                    "/user/api-tokens",
                    Some(&s.token),
                    Some(&body),
                    &[("Idempotency-Key", "race")],
                );
                assert_eq!(r.status, 201);
                r.body["id"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let ids: BTreeSet<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(ids.len(), 1, "every racer got the same stored response");
    let n: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM api_tokens WHERE description = 'raced'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}
