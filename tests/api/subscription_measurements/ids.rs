//! Value ids: derived from the row (schema.sql, `measurement_values`), yet shown the same on
//! every read, unique, never handed out again after their value is gone, and only in the
//! form they were shown; a value without an event id counts as its own event by its id.

use super::fixture;
use crate::common::{assert_problem, Server};
use kontor::resources::subscription_measurements::store;
use serde_json::json;

/// The public ids of the stored values, oldest first.
fn ids(s: &Server) -> Vec<String> {
    let conn = s.db();
    let rowids: Vec<i64> = conn
        .prepare("SELECT id FROM measurement_values ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rowids
        .into_iter()
        .map(|r| store::id_of(&conn, r).unwrap())
        .collect()
}

#[test]
fn value_ids_are_stable_unique_and_never_reused() {
    let s = Server::start();
    let f = fixture(&s);
    let (seats, peak) = (&f.items["seats"][0], &f.items["peak"][0]);
    let r = s.post(
        "/subscription-measurements/batch",
        &json!({"values": [{"subscriptionItem": peak, "quantity": 1},
                           {"subscriptionItem": seats, "quantity": 2},
                           {"subscriptionItem": peak, "quantity": 3}]}),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    let r = s.post(
        "/subscription-measurements",
        &json!({"subscriptionItem": seats, "quantity": 4}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    let first = ids(&s);
    assert_eq!(first.len(), 4);
    let mut distinct = first.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4);
    let mut of_seats = Vec::new();
    for id in &first {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
        let v = s.get(&format!("/subscription-measurements/{id}"));
        assert_eq!(v.status, 200, "{}", v.text);
        assert_eq!(v.body["id"], id.as_str());
        if v.body["subscriptionItem"] == seats.as_str() {
            of_seats.push(id.clone());
        }
        // Another spelling of the same UUID is not the id that was shown.
        let upper = format!("/subscription-measurements/{}", id.to_uppercase());
        assert_problem(&s.get(&upper), 404);
    }
    // The same rowid with another timestamp names nothing.
    let mut forged = uuid::Uuid::parse_str(&first[3]).unwrap().into_bytes();
    forged[5] ^= 1;
    let forged = uuid::Uuid::from_bytes(forged).to_string();
    assert_problem(&s.get(&format!("/subscription-measurements/{forged}")), 404);

    // Deleting the item deletes its values (the newest included); the next value gets a new
    // id and the gone ones stay gone.
    let conn = s.db();
    conn.execute("DELETE FROM subscription_items WHERE id = ?1", [seats])
        .unwrap();
    assert_eq!(of_seats.len(), 2);
    assert!(
        of_seats.contains(first.last().unwrap()),
        "the newest value is the seats'"
    );
    let left = ids(&s);
    let kept: Vec<_> = first
        .iter()
        .filter(|i| !of_seats.contains(i))
        .cloned()
        .collect();
    assert_eq!(left, kept);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM measured_items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "the deleted item's key went with it");
    let r = s.post(
        "/subscription-measurements",
        &json!({"subscriptionItem": peak, "quantity": 5}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    let now = ids(&s);
    assert_eq!(now.len(), 3);
    assert!(!first.contains(&now[2]), "a new value never gets an old id");
    for gone in &of_seats {
        assert_problem(&s.get(&format!("/subscription-measurements/{gone}")), 404);
    }
}

#[test]
fn values_without_an_event_id_are_each_their_own_event() {
    let s = Server::start();
    let f = fixture(&s);
    let visitors = &f.items["visitors"][0];
    let value = |id: Option<&str>| {
        let mut v = json!({"subscriptionItem": visitors, "quantity": 1,
                           "measuredAt": "2026-03-05T12:00:00Z"});
        if let Some(id) = id {
            v["id"] = id.into();
        }
        v
    };
    for _ in 0..2 {
        let r = s.post(
            "/subscription-measurements/batch",
            &json!({"values": [value(None), value(Some("u1")), value(None)]}),
        );
        assert_eq!(r.status, 202, "{}", r.text);
    }
    // count_unique: four values without an event id, and u1.
    assert_eq!(
        super::quantity(&s, visitors, super::march()),
        super::dec("5")
    );
}
