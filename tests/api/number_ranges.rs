//! Number ranges: the list envelope, format and counter changes, the never-shrink and
//! never-reissue rules, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn range(s: &Server, token: &str, t: &str) -> Value {
    let r = s.get_as(token, &format!("/number-ranges?type={t}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"][0].clone()
}

#[test]
fn lists_every_range_with_defaults() {
    let s = Server::start();
    let r = s.get("/number-ranges");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 10, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1,
            "pageTotalItems": 10})
    );
    let data = r.body["data"].as_array().unwrap();
    let types: Vec<&str> = data.iter().map(|d| d["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "cancellation",
            "credit_note",
            "customer",
            "datev_debtor",
            "dunning",
            "invoice",
            "offer",
            "payment",
            "sepa_mandate",
            "subscription"
        ]
    );
    let invoice = data.iter().find(|d| d["type"] == "invoice").unwrap();
    assert_eq!(invoice["format"], "RE-{number:10}");
    assert_eq!(invoice["nextNumber"], 1);
    assert!(invoice["updatedAt"].is_string());
    let datev = data.iter().find(|d| d["type"] == "datev_debtor").unwrap();
    assert_eq!(datev["nextNumber"], 10000);

    let r = s.get("/number-ranges?limit=3&page=4");
    assert_eq!(r.body["meta"]["pagination"]["pageTotalItems"], 1);
    assert_eq!(r.body["meta"]["pagination"]["lastPage"], 4);
    let r = s.get("/number-ranges?type[]=invoice&type[]=offer");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 2);
    assert_problem(&s.get("/number-ranges?type=receipt"), 400);
    assert_problem(&s.get("/number-ranges?limit=101"), 400);
}

#[test]
fn put_changes_format_and_next_number() {
    let s = Server::start();
    let r = s.put(
        "/number-ranges/invoice",
        &json!({"format": "RE-{yearLong}-{number:5}", "nextNumber": 1000}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["type"], "invoice");
    assert_eq!(r.body["format"], "RE-{yearLong}-{number:5}");
    assert_eq!(r.body["nextNumber"], 1000);
    assert_eq!(range(&s, &s.token, "invoice"), r.body);
    // Only one of the two: the other stays.
    let r = s.put("/number-ranges/invoice", &json!({"nextNumber": 1200}));
    assert_eq!(r.body["format"], "RE-{yearLong}-{number:5}");
    let r = s.put("/number-ranges/invoice", &json!({"format": "R{number}"}));
    assert_eq!(r.body["nextNumber"], 1200);
    // The same value is not a decrease.
    assert_eq!(
        s.put("/number-ranges/invoice", &json!({"nextNumber": 1200}))
            .status,
        200
    );
    // A GET entry can be sent back as it is.
    let entry = range(&s, &s.token, "invoice");
    let r = s.put("/number-ranges/invoice", &entry);
    assert_eq!(r.status, 200, "{}", r.text);
    // Other ranges are untouched.
    assert_eq!(range(&s, &s.token, "credit_note")["nextNumber"], 1);
}

#[test]
fn unknown_type_is_404() {
    let s = Server::start();
    assert_problem(
        &s.put("/number-ranges/receipt", &json!({"nextNumber": 5})),
        404,
    );
    assert_problem(
        &s.put("/number-ranges/INVOICE", &json!({"nextNumber": 5})),
        404,
    );
    let r = s.send("GET", "/number-ranges/invoice", Some(&s.token), None, &[]);
    assert_problem(&r, 405);
}

#[test]
fn invalid_bodies_name_every_field() {
    let s = Server::start();
    s.put("/number-ranges/customer", &json!({"nextNumber": 100}));
    let r = s.put(
        "/number-ranges/customer",
        &json!({"format": "KD-", "nextNumber": 99}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["format", "nextNumber"]);
    assert_eq!(r.body["violations"][1]["code"], "too_low");
    for bad in [
        json!("KD-{number}-{number}"),
        json!("KD-{number:21}"),
        json!("KD-{foo}-{number}"),
        json!("KD-{number"),
        json!(format!("{}{{number}}", "x".repeat(100))),
        // A customer's number cannot contain itself.
        json!("{customerNumber}-{number}"),
        json!(5),
        json!(null),
    ] {
        let r = s.put("/number-ranges/customer", &json!({ "format": bad }));
        assert_eq!(r.violation_paths(), vec!["format"], "{bad}: {}", r.text);
    }
    for bad in [json!("101"), json!(1.5), json!(null), json!(i64::MAX)] {
        let r = s.put("/number-ranges/customer", &json!({ "nextNumber": bad }));
        assert_eq!(r.violation_paths(), vec!["nextNumber"], "{bad}: {}", r.text);
    }
    let r = s.put(
        "/number-ranges/customer",
        &json!({"type": "invoice", "prefix": "X"}),
    );
    assert_eq!(r.violation_paths(), vec!["prefix", "type"]);
    // DATEV debtor numbers are account numbers: digits only.
    let r = s.put(
        "/number-ranges/datev_debtor",
        &json!({"format": "D{number}"}),
    );
    assert_eq!(r.violation_paths(), vec!["format"]);
    // Nothing of the rejected requests was applied.
    let c = range(&s, &s.token, "customer");
    assert_eq!(
        (c["format"].clone(), c["nextNumber"].clone()),
        (json!("KD-{number:6}"), json!(100))
    );
}

#[test]
fn issued_numbers_are_never_reissued_after_a_format_change() {
    let s = Server::start();
    let r = s.put("/number-ranges/invoice", &json!({"format": "RE-1{number}"}));
    assert_eq!(r.status, 200, "{}", r.text);
    // Documents are numbered inside other requests (e.g. invoice finalization); no endpoint of
    // this slice issues numbers, so take them the way those requests do.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let issue = || {
        let conn = s.db();
        kontor::domain::numbering::next(&conn, &s.tenant_id, "invoice", day, None).unwrap()
    };
    assert_eq!([issue(), issue(), issue()], ["RE-11", "RE-12", "RE-13"]);
    assert_eq!(range(&s, &s.token, "invoice")["nextNumber"], 4);
    // Counters 12 and 13 would now render RE-12 and RE-13 again.
    let r = s.put(
        "/number-ranges/invoice",
        &json!({"format": "RE-{number}", "nextNumber": 12}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(issue(), "RE-14");
    assert_eq!(range(&s, &s.token, "invoice")["nextNumber"], 15);
    // And the counter cannot be pushed back to reach them either.
    let r = s.put("/number-ranges/invoice", &json!({"nextNumber": 1}));
    assert_eq!(r.violation_paths(), vec!["nextNumber"]);
}

#[test]
fn customer_numbers_follow_the_range_and_are_never_reissued() {
    let s = Server::start();
    let create = |email: &str, number: Option<&str>| {
        let mut body = json!({ "email": email });
        if let Some(n) = number {
            body["customerNumber"] = json!(n);
        }
        let r = s.post("/customers", &body);
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["customerNumber"].as_str().unwrap().to_string()
    };
    s.put("/number-ranges/customer", &json!({"format": "C-1{number}"}));
    assert_eq!(create("a@example.test", None), "C-11");
    // Counter 11 now renders C-11 again: the range skips it.
    let r = s.put(
        "/number-ranges/customer",
        &json!({"format": "C-{number}", "nextNumber": 11}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(create("b@example.test", None), "C-12");
    // A number given by hand is taken too.
    assert_eq!(create("c@example.test", Some("C-13")), "C-13");
    assert_eq!(create("d@example.test", None), "C-14");
    assert_eq!(range(&s, &s.token, "customer")["nextNumber"], 15);
}

#[test]
fn auth_and_scopes() {
    let s = Server::start();
    assert_problem(&s.send("GET", "/number-ranges", None, None, &[]), 401);
    assert_problem(
        &s.send(
            "PUT",
            "/number-ranges/invoice",
            None,
            Some(&json!({"nextNumber": 9})),
            &[],
        ),
        401,
    );
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/number-ranges").status, 200);
    let r = s.send_as(
        &ro,
        "PUT",
        "/number-ranges/invoice",
        Some(&json!({"nextNumber": 9})),
    );
    assert_problem(&r, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("setting:write"));
    assert_eq!(range(&s, &s.token, "invoice")["nextNumber"], 1);
}

#[test]
fn ranges_are_isolated_per_tenant() {
    let s = Server::start();
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    s.put(
        "/number-ranges/invoice",
        &json!({"format": "ACME-{number}", "nextNumber": 500}),
    );
    let theirs = range(&s, &other, "invoice");
    assert_eq!(theirs["format"], "RE-{number:10}");
    assert_eq!(theirs["nextNumber"], 1);
    let r = s.send_as(
        &other,
        "PUT",
        "/number-ranges/invoice",
        Some(&json!({"nextNumber": 7})),
    );
    assert_eq!(
        r.status, 200,
        "the other tenant's own counter: 1 -> 7 is growth"
    );
    assert_eq!(range(&s, &s.token, "invoice")["nextNumber"], 500);
}
