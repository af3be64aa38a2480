//! Tax groups: seeded groups, list envelope and filters, create and replace with every
//! validation case, scopes and tenant isolation; the tax decision is tested in `resolve`.

mod resolve;

use crate::common::{assert_problem, Server};
use resolve::customer;
use serde_json::{json, Value};

pub(crate) fn swiss() -> Value {
    json!({"name": "Swiss", "type": "standard", "rates": [
        {"rate": "8.1", "countryCode": "CH", "description": "8.1% MWST"},
        {"rate": 19, "countryCode": "DE"},
        {"rate": 0, "countryCode": "*"}
    ]})
}

/// The id of a seeded group by name.
pub(crate) fn seeded(s: &Server, name: &str) -> String {
    let list = s.get("/tax-groups").body;
    let found = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    found
}

#[test]
fn every_tenant_starts_with_standard_reduced_and_zero() {
    let s = Server::start();
    let r = s.get("/tax-groups");
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.body["data"].as_array().unwrap();
    let summary: Vec<_> = data
        .iter()
        .map(|g| (g["name"].clone(), g["type"].clone(), g["rates"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                json!("Standard"),
                json!("standard"),
                json!([{"rate": 19, "description": "19% MwSt.", "countryCode": "DE"}])
            ),
            (
                json!("Reduced"),
                json!("reduced"),
                json!([{"rate": 7, "description": "7% MwSt.", "countryCode": "DE"}])
            ),
            (
                json!("Zero"),
                json!("zero"),
                json!([{"rate": 0, "description": "0%", "countryCode": "*"}])
            ),
        ]
    );
    for g in data {
        assert!(g["id"].is_string() && g["createdAt"].is_string() && g["updatedAt"].is_string());
    }
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 3})
    );
}

#[test]
fn list_pages_filters_and_sorts() {
    let s = Server::start();
    let r = s.get("/tax-groups?limit=2&page=2");
    assert_eq!(r.body["meta"]["pagination"]["pageTotalItems"], 1);
    assert_eq!(r.body["meta"]["pagination"]["lastPage"], 2);
    assert_eq!(r.body["data"][0]["name"], "Zero");
    let r = s.get("/tax-groups?limit=0");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 3);
    assert_problem(&s.get("/tax-groups?limit=101"), 400);
    assert_problem(&s.get("/tax-groups?page=0"), 400);
    assert_problem(&s.get("/tax-groups?limit=x"), 400);
    let r = s.get("/tax-groups?type=reduced");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 1);
    assert_eq!(r.body["data"][0]["name"], "Reduced");
    let r = s.get("/tax-groups?type[]=zero&type[]=reduced");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 2);
    assert_problem(&s.get("/tax-groups?type=super"), 400);
    let r = s.get("/tax-groups?order[name]=asc");
    let names: Vec<_> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Reduced", "Standard", "Zero"]);
}

#[test]
fn create_and_read_a_group() {
    let s = Server::start();
    let r = s.post("/tax-groups", &swiss());
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"], "Swiss");
    assert_eq!(r.body["type"], "standard");
    // Numbers and decimal strings come back as exact JSON numbers, in the order sent.
    assert_eq!(
        r.body["rates"],
        json!([
            {"rate": 8.1, "description": "8.1% MWST", "countryCode": "CH"},
            {"rate": 19, "description": "", "countryCode": "DE"},
            {"rate": 0, "description": "", "countryCode": "*"}
        ])
    );
    assert!(r.text.contains(r#""rate":8.1,"#), "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    let got = s.get(&format!("/tax-groups/{id}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.body, r.body);
    // Stored as exact decimal text.
    let stored: String = s
        .db()
        .query_row(
            "SELECT rate FROM tax_group_rates WHERE tax_group_id = ?1 AND country_code = 'CH'",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "8.1");
    assert_eq!(
        s.get("/tax-groups").body["meta"]["pagination"]["totalItems"],
        4
    );

    // JSON number decimals, EU_*, 100 and a four-decimal rate are all fine.
    let r = s.post(
        "/tax-groups",
        &json!({"name": "N", "type": "reduced", "rates": [
            {"rate": 7.7, "countryCode": "EU_*"}, {"rate": 100, "countryCode": "AT"},
            {"rate": "2.5625", "countryCode": "FR"}, {"rate": "5.50", "countryCode": "BE"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let rates: Vec<_> = r.body["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rate"].to_string())
        .collect();
    assert_eq!(rates, ["7.7", "100", "2.5625", "5.5"]);
}

#[test]
fn create_validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/tax-groups", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["name", "type", "rates"]);

    let r = s.post(
        "/tax-groups",
        &json!({"name": "", "type": "luxury", "rates": [], "extra": 1}),
    );
    assert_eq!(r.violation_paths(), ["extra", "name", "type", "rates"]);

    let r = s.post(
        "/tax-groups",
        &json!({"name": "n".repeat(256), "type": 1, "rates": "DE"}),
    );
    assert_eq!(r.violation_paths(), ["name", "type", "rates"]);

    let r = s.post(
        "/tax-groups",
        &json!({"name": "X", "type": "standard", "rates": [
            {"rate": 101, "countryCode": "DE"},
            {"rate": -1, "countryCode": "de"},
            {"rate": "19,5", "countryCode": "EU"},
            {"rate": "1.00001", "countryCode": "AT", "description": "d".repeat(256)},
            {"rate": true, "countryCode": "FR", "bogus": 1},
            {"rate": 5, "countryCode": "FR"},
            {"countryCode": "IT"},
            {"rate": 5},
            "DE"
        ]}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        [
            "rates[0].rate",
            "rates[1].rate",
            "rates[1].countryCode",
            "rates[2].rate",
            "rates[2].countryCode",
            "rates[3].rate",
            "rates[3].description",
            "rates[4].rate",
            "rates[4].bogus",
            "rates[5].countryCode",
            "rates[6].rate",
            "rates[7].countryCode",
            "rates[8]"
        ]
    );
    let codes: Vec<_> = r.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes[0], "out_of_range");
    assert_eq!(codes[5], "too_many_decimals");
    assert_eq!(codes[9], "not_unique");

    // Unique within the group: the second DE is named.
    let r = s.post(
        "/tax-groups",
        &json!({"name": "X", "type": "standard", "rates": [
            {"rate": 19, "countryCode": "DE"}, {"rate": 0, "countryCode": "*"},
            {"rate": 7, "countryCode": "DE"}]}),
    );
    assert_eq!(r.violation_paths(), ["rates[2].countryCode"]);
    assert_eq!(
        s.get("/tax-groups").body["meta"]["pagination"]["totalItems"],
        3
    );
}

#[test]
fn replace_a_group() {
    let s = Server::start();
    let created = s.post("/tax-groups", &swiss()).body;
    let id = created["id"].as_str().unwrap();
    let path = format!("/tax-groups/{id}");
    let r = s.put(
        &path,
        &json!({"name": "Swiss reduced", "type": "reduced",
                "rates": [{"rate": "2.6", "countryCode": "CH"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Swiss reduced");
    assert_eq!(r.body["type"], "reduced");
    assert_eq!(
        r.body["rates"],
        json!([{"rate": 2.6, "description": "", "countryCode": "CH"}])
    );
    assert_eq!(r.body["createdAt"], created["createdAt"]);
    assert_eq!(s.get(&path).body, r.body);

    // A GET echoed back (read-only keys included) is a valid PUT body.
    let mut echoed = r.body.clone();
    echoed["name"] = json!("Swiss 2");
    let r = s.put(&path, &echoed);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Swiss 2");

    // A replace is all-or-nothing: missing fields are named and nothing changes.
    let before = s.get(&path).body;
    let r = s.put(&path, &json!({"name": "Only a name"}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["type", "rates"]);
    let r = s.put(
        &path,
        &json!({"name": "X", "type": "zero", "rates": [
            {"rate": 0, "countryCode": "*"}, {"rate": 0, "countryCode": "*"}]}),
    );
    assert_eq!(r.violation_paths(), ["rates[1].countryCode"]);
    assert_eq!(s.get(&path).body, before);

    assert_problem(&s.put("/tax-groups/nope", &swiss()), 404);
    assert_problem(&s.get("/tax-groups/nope"), 404);
    assert_problem(&s.put("/tax-groups/nope", &json!({})), 404);
}

#[test]
fn scopes_and_authentication() {
    let s = Server::start();
    let id = seeded(&s, "Standard");
    let one = format!("/tax-groups/{id}");
    let resolve = format!("/tax-groups/{id}/resolve");
    for (method, path, body) in [
        ("GET", "/tax-groups", None),
        ("POST", "/tax-groups", Some(swiss())),
        ("GET", one.as_str(), None),
        ("PUT", one.as_str(), Some(swiss())),
        ("POST", resolve.as_str(), Some(json!({"customer": "x"}))),
    ] {
        assert_problem(&s.send(method, path, None, body.as_ref(), &[]), 401);
        assert_problem(
            &s.send(method, path, Some("not-a-token"), body.as_ref(), &[]),
            401,
        );
    }

    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/tax-groups").status, 200);
    assert_eq!(s.get_as(&ro, &one).status, 200);
    for (method, path) in [("POST", "/tax-groups"), ("PUT", one.as_str())] {
        let r = s.send_as(&ro, method, path, Some(&swiss()));
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("tax-group:write"),
            "{}",
            r.text
        );
    }
    // Resolving changes nothing, so the read scope suffices.
    let customer = customer(&s, json!({"email": "ro@example.com"}));
    let r = s.send_as(&ro, "POST", &resolve, Some(&json!({"customer": customer})));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        s.get("/tax-groups").body["meta"]["pagination"]["totalItems"],
        3
    );
    assert_eq!(s.get(&one).body["name"], "Standard");

    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    for path in ["/tax-groups", one.as_str()] {
        let r = s.get_as(&none, path);
        assert_problem(&r, 403);
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("tax-group:read"));
    }
    let r = s.send_as(
        &none,
        "POST",
        &resolve,
        Some(&json!({"customer": customer})),
    );
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("tax-group:read"));
}

#[test]
fn groups_are_isolated_per_tenant() {
    let s = Server::start();
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let ours = s.post("/tax-groups", &swiss()).body;
    let id = ours["id"].as_str().unwrap();
    let path = format!("/tax-groups/{id}");
    // The other tenant has its own three seeded groups and cannot see ours.
    let theirs = s.get_as(&other, "/tax-groups").body;
    assert_eq!(theirs["meta"]["pagination"]["totalItems"], 3);
    assert!(!theirs.to_string().contains(id));
    assert_problem(&s.get_as(&other, &path), 404);
    let r = s.send_as(&other, "PUT", &path, Some(&swiss()));
    assert_problem(&r, 404);
    let their_customer = s.send_as(
        &other,
        "POST",
        "/customers",
        Some(&json!({"email": "x@other.test"})),
    );
    assert_eq!(their_customer.status, 201, "{}", their_customer.text);
    let r = s.send_as(
        &other,
        "POST",
        &format!("{path}/resolve"),
        Some(&json!({"customer": their_customer.body["id"]})),
    );
    assert_problem(&r, 404);
    assert_eq!(s.get(&path).body, ours);

    // Our group with their customer: the customer does not exist for us.
    let r = s.post(
        &format!("{path}/resolve"),
        &json!({"customer": their_customer.body["id"]}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["customer"]);
}
