//! Subscription measurements API tests: single values (204) by item or by measurement code and
//! subscription id or number, reads, batches (202; every bad value named, nothing stored),
//! aggregation of each type per period through `store::usage_for_period`, scopes and tenant
//! isolation. Value ids: `subscription_measurements/ids.rs`.

mod ids;

use crate::common::{assert_problem, Server};
use chrono::NaiveDate;
use kontor::domain::period::Period;
use kontor::resources::subscription_measurements::store;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;

const TYPES: &[(&str, &str)] = &[
    ("calls", "count"),
    ("visitors", "count_unique"),
    ("peak", "max"),
    ("traffic", "sum"),
    ("seats", "last_value"),
    ("cpu", "average"),
];

struct Fixture {
    subscription: String,
    number: String,
    /// measurement code -> item ids using it (`calls` has two items).
    items: HashMap<String, Vec<String>>,
}

/// A subscription with one item per aggregation type (two for `calls`).
fn fixture(s: &Server) -> Fixture {
    let unit = s.get("/catalogue/measurements?code=quantity").body["data"][0]["unit"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let customer = crate::price_plans::customer(s, &s.tenant_id);
    let mut plans = Vec::new();
    let mut codes = Vec::new();
    for (code, aggregation) in TYPES {
        // A second fixture on the same server reuses the measurements.
        let existing = s.get(&format!("/catalogue/measurements?code={code}")).body["data"][0]["id"]
            .as_str()
            .map(str::to_string);
        let measurement = existing.unwrap_or_else(|| {
            let r = s.post(
                "/catalogue/measurements",
                &json!({"code": code, "unit": unit, "aggregationType": aggregation}),
            );
            assert_eq!(r.status, 201, "{}", r.text);
            r.body["id"].as_str().unwrap().to_string()
        });
        let product = crate::price_plans::product(s, &s.tenant_id, "product", false);
        s.db()
            .execute(
                "UPDATE products SET measurement_id = ?1 WHERE id = ?2",
                [&measurement, &product],
            )
            .unwrap();
        let plan = crate::price_plans::create(
            s,
            &product,
            json!({"type": "flat_fee", "price": {"amount": "1.00"}}),
        );
        let copies = if *code == "calls" { 2 } else { 1 };
        for _ in 0..copies {
            plans.push(json!({"pricePlan": plan["id"]}));
            codes.push(code.to_string());
        }
    }
    let r = s.post(
        "/subscriptions",
        &json!({"customer": customer, "items": plans}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let mut items: HashMap<String, Vec<String>> = HashMap::new();
    for (item, code) in r.body["items"].as_array().unwrap().iter().zip(codes) {
        items
            .entry(code)
            .or_default()
            .push(item["id"].as_str().unwrap().to_string());
    }
    Fixture {
        subscription: r.body["id"].as_str().unwrap().to_string(),
        number: r.body["number"].as_str().unwrap().to_string(),
        items,
    }
}

fn march() -> Period {
    Period {
        start: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
    }
}

fn quantity(s: &Server, item: &str, period: Period) -> Decimal {
    store::quantity_for_period(&s.db(), &s.tenant_id, item, period).unwrap()
}

fn count_values(s: &Server) -> i64 {
    s.db()
        .query_row("SELECT count(*) FROM measurement_values", [], |r| r.get(0))
        .unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn single_values_by_item_and_by_code() {
    let s = Server::start();
    let f = fixture(&s);
    let item = &f.items["traffic"][0];
    let r = s.post(
        "/subscription-measurements",
        &json!({"subscriptionItem": item, "quantity": "10.239",
                "measuredAt": "2026-03-05T10:00:00+01:00"}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let (rowid, at): (i64, i64) = s
        .db()
        .query_row("SELECT id, measured_at FROM measurement_values", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let id = store::id_of(&s.db(), rowid).unwrap();
    let v = s.get(&format!("/subscription-measurements/{id}"));
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["id"], id.as_str());
    assert_eq!(v.body["subscriptionItem"], item.as_str());
    assert_eq!(v.body["quantity"], json!(10.239));
    assert!(v.text.contains("10.239"));
    assert_eq!(v.body["measuredAt"], "2026-03-05T09:00:00+00:00");
    assert_eq!(v.body["tenantId"], s.tenant_id.as_str());
    assert_eq!(at, 1_772_701_200_000);
    // measuredAt defaults to now.
    let r = s.post(
        "/subscription-measurements",
        &json!({"subscriptionItem": item, "quantity": 1}),
    );
    assert_eq!(r.status, 204);
    // By code and subscription number: every item using the code gets the value.
    let r = s.post(
        "/subscription-measurements",
        &json!({"measurementCode": "calls", "subscription": f.number, "quantity": 1,
                "measuredAt": "2026-03-02T00:00:00Z"}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    // ... and by subscription id.
    let r = s.post(
        "/subscription-measurements",
        &json!({"measurementCode": "calls", "subscription": f.subscription, "quantity": 1,
                "measuredAt": "2026-03-03T00:00:00Z"}),
    );
    assert_eq!(r.status, 204);
    for item in &f.items["calls"] {
        assert_eq!(quantity(&s, item, march()), dec("2"));
    }
    assert_eq!(count_values(&s), 6);
    // Events: one per item touched.
    let events: Vec<String> = s
        .db()
        .prepare("SELECT event_type FROM outbox WHERE event_type LIKE 'subscription.item.%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events.len(), 6);
    assert!(events.iter().all(|e| e == "subscription.item.metered"));
    assert_problem(&s.get("/subscription-measurements/nope"), 404);
}

#[test]
fn bad_single_values_are_422_naming_each_field() {
    let s = Server::start();
    let f = fixture(&s);
    let cases = [
        (json!({}), vec!["quantity", "subscriptionItem"]),
        (
            json!({"quantity": -1, "subscriptionItem": f.items["peak"][0], "measuredAt": "x"}),
            vec!["quantity", "measuredAt"],
        ),
        (
            json!({"quantity": 1, "subscriptionItem": "nope"}),
            vec!["subscriptionItem"],
        ),
        (
            json!({"quantity": 1, "measurementCode": "calls"}),
            vec!["subscription"],
        ),
        (
            json!({"quantity": 1, "measurementCode": "nope", "subscription": f.number}),
            vec!["measurementCode"],
        ),
        (
            json!({"quantity": 1, "measurementCode": "calls", "subscription": "S-404"}),
            vec!["subscription"],
        ),
        (
            json!({"quantity": 1, "subscriptionItem": f.items["peak"][0],
                   "measurementCode": "calls", "subscription": "S-404"}),
            vec!["measurementCode", "subscription"],
        ),
        (
            json!({"quantity": "0.00000000001", "subscriptionItem": f.items["peak"][0],
                   "extra": 1}),
            vec!["extra", "quantity"],
        ),
    ];
    for (body, paths) in cases {
        let r = s.post("/subscription-measurements", &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), paths, "{body}");
    }
    // An exponent is not a plain decimal (json! would turn it into a float, so send bytes).
    let r = s.send_raw(
        "POST",
        "/subscription-measurements",
        "application/json",
        br#"{"quantity": 1.5e3, "subscriptionItem": "nope"}"#,
    );
    assert_eq!(r.violation_paths(), vec!["quantity"]);
    assert_problem(&s.post("/subscription-measurements", &json!([1])), 400);
    assert_eq!(count_values(&s), 0);
}

#[test]
fn batches_store_all_or_name_every_bad_value() {
    let s = Server::start();
    let f = fixture(&s);
    let item = &f.items["visitors"][0];
    let values: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"subscriptionItem": item, "quantity": 1, "id": format!("user-{}", i % 7),
                   "measuredAt": format!("2026-03-{:02}T12:00:00Z", 1 + i % 31)})
        })
        .collect();
    let r = s.post(
        "/subscription-measurements/batch",
        &json!({"values": values}),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["accepted"], 1000);
    let batch = r.body["id"].as_str().unwrap();
    let stored: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM measurement_values v JOIN measurement_batches b
               ON v.id >= b.first_value AND v.id < b.first_value + b.size WHERE b.id = ?1",
            [batch],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1000);
    // count_unique: 7 distinct event ids.
    assert_eq!(quantity(&s, item, march()), dec("7"));

    // One bad value among good ones: 422 naming each, nothing stored.
    let r = s.post(
        "/subscription-measurements/batch",
        &json!({"values": [
            {"subscriptionItem": item, "quantity": 1},
            {"subscriptionItem": "nope", "quantity": 1},
            {"subscriptionItem": item, "quantity": "abc"},
            "not an object",
            {"measurementCode": "calls", "subscription": f.number, "quantity": 2},
            {"measurementCode": "calls", "subscription": "S-404", "quantity": 2},
        ]}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec![
            "values[1].subscriptionItem",
            "values[2].quantity",
            "values[3]",
            "values[5].subscription"
        ]
    );
    assert_eq!(count_values(&s), 1000);
    for body in [
        json!({"values": []}),
        json!({"values": {}}),
        json!({}),
        json!({"values": vec![json!({"subscriptionItem": item, "quantity": 1}); 1001]}),
    ] {
        let r = s.post("/subscription-measurements/batch", &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), vec!["values"]);
    }
    let r = s.post(
        "/subscription-measurements/batch",
        &json!({"values": [{"subscriptionItem": item, "quantity": 1}], "x": 1}),
    );
    assert_eq!(r.violation_paths(), vec!["x"]);
    assert_eq!(count_values(&s), 1000);
}

#[test]
fn each_aggregation_type_per_period() {
    let s = Server::start();
    let f = fixture(&s);
    let at = |day: &str| format!("2026-{day}T12:00:00Z");
    let mut values = Vec::new();
    // February (before the period), March (the period), April (after it).
    for (code, q, day, event) in [
        ("calls", "5", "02-27", "a"),
        ("calls", "5", "03-01", "a"),
        ("calls", "5", "03-31", "b"),
        ("calls", "5", "04-01", "c"),
        ("visitors", "1", "03-02", "u1"),
        ("visitors", "1", "03-03", "u2"),
        ("visitors", "1", "03-04", "u1"),
        ("peak", "3", "02-27", "-"),
        ("peak", "7.5", "03-10", "-"),
        ("peak", "2", "03-20", "-"),
        ("peak", "9", "04-02", "-"),
        ("traffic", "1.25", "03-10", "-"),
        ("traffic", "2.5", "03-11", "-"),
        ("traffic", "100", "04-11", "-"),
        ("seats", "4", "02-15", "-"),
        ("seats", "6", "03-11", "-"),
        ("cpu", "1", "03-05", "-"),
        ("cpu", "2", "03-06", "-"),
        ("cpu", "2", "03-07", "-"),
    ] {
        values.push(
            json!({"measurementCode": code, "subscription": f.number, "quantity": q,
                           "measuredAt": at(day), "id": event}),
        );
    }
    let r = s.post(
        "/subscription-measurements/batch",
        &json!({"values": values}),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    let q = |code: &str| quantity(&s, &f.items[code][0], march());
    // count: two events in March (1 Mar, 31 Mar), whatever their quantities.
    assert_eq!(q("calls"), dec("2"));
    assert_eq!(quantity(&s, &f.items["calls"][1], march()), dec("2"));
    // count_unique: u1, u2.
    assert_eq!(q("visitors"), dec("2"));
    // max of 7.5 and 2.
    assert_eq!(q("peak"), dec("7.5"));
    // sum: 1.25 + 2.5 = 3.75.
    assert_eq!(q("traffic"), dec("3.75"));
    // last_value: 6 (measured 11 Mar); in February 4, carried over from 15 Feb.
    assert_eq!(q("seats"), dec("6"));
    let feb = Period {
        start: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
    };
    assert_eq!(quantity(&s, &f.items["seats"][0], feb), dec("4"));
    // ... and into May without new values.
    let may = Period {
        start: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    };
    assert_eq!(quantity(&s, &f.items["seats"][0], may), dec("6"));
    // Fair billing of seats in March: 4 for 1–10 Mar, 6 for 11–31 Mar.
    let usage =
        store::usage_for_period(&s.db(), &s.tenant_id, &f.items["seats"][0], march(), false)
            .unwrap();
    assert_eq!(usage.segments, vec![(dec("4"), 10), (dec("6"), 21)]);
    // average: (1 + 2 + 2) / 3 = 1.666…
    assert_eq!(q("cpu"), dec("5") / dec("3"));
    // The first period also counts values sent before it (usage before activation).
    let first =
        store::usage_for_period(&s.db(), &s.tenant_id, &f.items["peak"][0], march(), true).unwrap();
    assert_eq!(first.quantity, dec("7.5"));
    let first =
        store::usage_for_period(&s.db(), &s.tenant_id, &f.items["traffic"][0], may, true).unwrap();
    assert_eq!(first.quantity, dec("103.75"));
    // An item without values: its quantity (1, set at creation) for last_value, 0 otherwise.
    let empty = fixture(&s);
    assert_eq!(quantity(&s, &empty.items["seats"][0], march()), dec("1"));
    assert_eq!(quantity(&s, &empty.items["traffic"][0], march()), dec("0"));
}

#[test]
fn scopes_and_tenant_isolation() {
    let s = Server::start();
    let f = fixture(&s);
    let item = &f.items["seats"][0];
    let one = json!({"subscriptionItem": item, "quantity": 3});
    let batch = json!({"values": [one.clone()]});
    assert_eq!(s.post("/subscription-measurements", &one).status, 204);
    let rowid: i64 = s
        .db()
        .query_row("SELECT id FROM measurement_values", [], |r| r.get(0))
        .unwrap();
    let id = store::id_of(&s.db(), rowid).unwrap();
    let read = format!("/subscription-measurements/{id}");
    for (method, path, body) in [
        ("POST", "/subscription-measurements", Some(&one)),
        ("POST", "/subscription-measurements/batch", Some(&batch)),
        ("GET", read.as_str(), None),
    ] {
        assert_problem(&s.send(method, path, None, body, &[]), 401);
    }
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, &read).status, 200);
    for path in [
        "/subscription-measurements",
        "/subscription-measurements/batch",
    ] {
        let body = if path.ends_with("batch") {
            &batch
        } else {
            &one
        };
        let r = s.send_as(&ro, "POST", path, Some(body));
        assert_problem(&r, 403);
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("subscription-measurement:write"));
    }
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    let r = s.get_as(&none, &read);
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("subscription-measurement:read"));
    assert_eq!(count_values(&s), 1);

    // Another tenant can neither read our value nor write to our item or subscription.
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    assert_problem(&s.get_as(&other, &read), 404);
    let r = s.send_as(&other, "POST", "/subscription-measurements", Some(&one));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["subscriptionItem"]);
    let by_code = json!({"values": [{"measurementCode": "seats", "subscription": f.number,
                                     "quantity": 1}]});
    let r = s.send_as(
        &other,
        "POST",
        "/subscription-measurements/batch",
        Some(&by_code),
    );
    assert_eq!(r.violation_paths(), vec!["values[0].subscription"]);
    assert_eq!(count_values(&s), 1);
}
