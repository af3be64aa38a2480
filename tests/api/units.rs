//! Units: the seeded unit, translations and the locale fallback, validation of every key,
//! replace, delete with the in-use conflict, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// Creates a unit and returns its id.
pub fn create_unit(s: &Server, translations: Value) -> String {
    let r = s.post("/units", &json!({ "translations": translations }));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// The id of the unit every tenant is seeded with ("Stück" / "Piece").
pub fn seeded_unit(s: &Server, token: &str) -> String {
    let r = s.get_as(token, "/units");
    r.body["data"][0]["id"].as_str().unwrap().to_string()
}

#[test]
fn the_seeded_unit_is_listed_in_the_envelope() {
    let s = Server::start();
    let r = s.get("/units");
    assert_eq!(r.status, 200, "{}", r.text);
    let unit = &r.body["data"][0];
    assert_eq!(unit["name"], "Stück");
    assert_eq!(unit["translations"], json!({"de": "Stück", "en": "Piece"}));
    assert!(
        unit["id"].is_string() && unit["createdAt"].is_string() && unit["updatedAt"].is_string()
    );
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 1, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 1})
    );
    create_unit(&s, json!({"de": "Stunde"}));
    create_unit(&s, json!({"de": "Monat"}));
    let r = s.get("/units?limit=2&page=2");
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 2, "currentPage": 2, "lastPage": 2, "pageTotalItems": 1})
    );
    assert_eq!(r.body["data"][0]["name"], "Monat");
    assert_problem(&s.get("/units?limit=101"), 400);
    assert_problem(&s.get("/units?page=0"), 400);
    assert_problem(&s.send("GET", "/units", None, None, &[]), 401);
    assert_problem(&s.send("GET", "/units", Some("wrong"), None, &[]), 401);
}

#[test]
fn names_follow_the_requested_then_the_tenant_locale() {
    let s = Server::start();
    let r = s.post(
        "/units",
        &json!({"translations": {"de": "Stunde", "en": "Hour"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"], "Stunde");
    assert_eq!(
        r.body["translations"],
        json!({"de": "Stunde", "en": "Hour"})
    );
    let id = r.body["id"].as_str().unwrap();
    let name = |q: &str| s.get(&format!("/units/{id}{q}")).body["name"].clone();
    assert_eq!(name(""), "Stunde");
    assert_eq!(name("?locale=en"), "Hour");
    assert_eq!(name("?locale=en-GB"), "Hour");
    assert_eq!(name("?locale=fr"), "Stunde");
    assert_eq!(s.get("/units?locale=en").body["data"][0]["name"], "Piece");
    assert_problem(&s.get(&format!("/units/{id}?locale=EN!")), 400);
    assert_problem(&s.get("/units?locale=english"), 400);

    // The tenant switches to English: English names by default, German ones on request, and a
    // unit without an English name still has a name.
    let only_de = create_unit(&s, json!({"de": "Paket"}));
    let r = s.patch("/settings/organization", &json!({"locale": "en"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(name(""), "Hour");
    assert_eq!(name("?locale=de"), "Stunde");
    assert_eq!(name("?locale=fr"), "Hour");
    assert_eq!(s.get(&format!("/units/{only_de}")).body["name"], "Paket");
    // New units now need the English name.
    let r = s.post("/units", &json!({"translations": {"de": "Tag"}}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["translations"]);
    assert!(r.text.contains("'en'"));
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/units", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["translations"]);
    assert_eq!(r.body["violations"][0]["code"], "missing_field");

    for bad in [json!(null), json!("Stück"), json!(["de"]), json!({})] {
        let r = s.post("/units", &json!({ "translations": bad }));
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), ["translations"], "{bad}");
    }
    // The tenant locale is missing.
    let r = s.post("/units", &json!({"translations": {"en": "Piece"}}));
    assert_eq!(r.violation_paths(), ["translations"]);
    assert_eq!(r.body["violations"][0]["code"], "missing_locale");

    let r = s.post(
        "/units",
        &json!({"translations": {"de": " ", "EN": "Piece", "fr": 5, "it": "x".repeat(256)},
                "color": "red"}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        [
            "color",
            "translations.EN",
            "translations.de",
            "translations.fr",
            "translations.it"
        ]
    );
    assert_eq!(r.body["detail"], "5 fields are invalid");
    assert_eq!(s.get("/units").body["meta"]["pagination"]["totalItems"], 1);
    assert_problem(&s.send_raw("POST", "/units", "application/json", b"{"), 400);
}

#[test]
fn replace_translations() {
    let s = Server::start();
    let id = create_unit(&s, json!({"de": "Stunde"}));
    let r = s.put(
        &format!("/units/{id}"),
        &json!({"translations": {"de": "Std.", "en": "Hr."}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Std.");
    assert_eq!(r.body["translations"], json!({"de": "Std.", "en": "Hr."}));
    // A GET body sent back (with its read-only keys) is accepted.
    let mut echoed = s.get(&format!("/units/{id}")).body;
    echoed["translations"] = json!({"de": "Stunde"});
    let r = s.put(&format!("/units/{id}"), &echoed);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["translations"], json!({"de": "Stunde"}));

    let r = s.put(
        &format!("/units/{id}"),
        &json!({"translations": {"en": "Hour"}}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["translations"]);
    assert_eq!(s.get(&format!("/units/{id}")).body["name"], "Stunde");
    assert_problem(
        &s.put("/units/nope", &json!({"translations": {"de": "X"}})),
        404,
    );
    // Unknown id wins over the invalid body.
    assert_problem(&s.put("/units/nope", &json!({})), 404);
}

#[test]
fn delete_unless_a_measurement_uses_it() {
    let s = Server::start();
    let id = create_unit(&s, json!({"de": "Stunde"}));
    assert_eq!(s.delete(&format!("/units/{id}")).status, 204);
    assert_problem(&s.get(&format!("/units/{id}")), 404);
    assert_problem(&s.delete(&format!("/units/{id}")), 404);

    // The seeded unit is used by the `quantity` measurement.
    let seeded = seeded_unit(&s, &s.token);
    let r = s.delete(&format!("/units/{seeded}"));
    assert_problem(&r, 409);
    assert!(r.text.contains("measurement"));

    let used = create_unit(&s, json!({"de": "Gigabyte"}));
    let m = s.post(
        "/catalogue/measurements",
        &json!({"code": "storage", "unit": used, "aggregationType": "max"}),
    );
    assert_eq!(m.status, 201, "{}", m.text);
    assert_problem(&s.delete(&format!("/units/{used}")), 409);
    assert_eq!(s.get(&format!("/units/{used}")).status, 200);
    let mid = m.body["id"].as_str().unwrap();
    assert_eq!(
        s.delete(&format!("/catalogue/measurements/{mid}")).status,
        204
    );
    assert_eq!(s.delete(&format!("/units/{used}")).status, 204);
}

#[test]
fn writes_need_unit_write() {
    let s = Server::start();
    let id = create_unit(&s, json!({"de": "Stunde"}));
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/units").status, 200);
    assert_eq!(s.get_as(&ro, &format!("/units/{id}")).status, 200);
    let body = json!({"translations": {"de": "X"}});
    for (method, path, body) in [
        ("POST", "/units".to_string(), Some(&body)),
        ("PUT", format!("/units/{id}"), Some(&body)),
        ("DELETE", format!("/units/{id}"), None),
    ] {
        let r = s.send_as(&ro, method, &path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("unit:write"),
            "{method}"
        );
    }
    assert_eq!(s.get(&format!("/units/{id}")).body["name"], "Stunde");
    assert_eq!(s.get("/units").body["meta"]["pagination"]["totalItems"], 2);
}

#[test]
fn another_tenants_unit_is_not_found_and_unchanged() {
    let s = Server::start();
    let id = create_unit(&s, json!({"de": "Stunde"}));
    let (_, other) = s.new_tenant("Other GmbH", "other@example.test");
    assert_eq!(
        s.get_as(&other, "/units").body["meta"]["pagination"]["totalItems"],
        1
    );
    assert_problem(&s.get_as(&other, &format!("/units/{id}")), 404);
    let put = json!({"translations": {"de": "Gestohlen"}});
    assert_problem(
        &s.send_as(&other, "PUT", &format!("/units/{id}"), Some(&put)),
        404,
    );
    assert_problem(
        &s.send_as(&other, "DELETE", &format!("/units/{id}"), None),
        404,
    );
    let r = s.get(&format!("/units/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["translations"], json!({"de": "Stunde"}));
}
