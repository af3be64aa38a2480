//! Catalogue measurements: the seeded `quantity` measurement, create with defaults, the `code`
//! filter, validation (unique code, unknown unit, fixed aggregation), update, delete conflicts,
//! permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use crate::units::{create_unit, seeded_unit};
use serde_json::{json, Value};

/// Creates a measurement with the seeded unit and returns it.
pub fn create_measurement(s: &Server, code: &str, aggregation: &str) -> Value {
    let unit = seeded_unit(s, &s.token);
    let r = s.post(
        "/catalogue/measurements",
        &json!({"code": code, "unit": unit, "aggregationType": aggregation}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// The tenant's seeded `quantity` measurement.
pub fn quantity(s: &Server, token: &str) -> Value {
    let r = s.get_as(token, "/catalogue/measurements?code=quantity");
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "{}", r.text);
    r.body["data"][0].clone()
}

#[test]
fn every_tenant_has_the_quantity_measurement() {
    let s = Server::start();
    let r = s.get("/catalogue/measurements");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 1, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 1})
    );
    let q = &r.body["data"][0];
    assert_eq!(q["code"], "quantity");
    assert_eq!(q["aggregationType"], "last_value");
    assert_eq!(q["fairBilling"], true);
    assert_eq!(q["type"], "recurring");
    assert_eq!(
        q["unit"],
        json!({"id": seeded_unit(&s, &s.token), "name": "Stück"})
    );
    let id = q["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/catalogue/measurements/{id}")).body, *q);
    assert_eq!(
        s.get(&format!("/catalogue/measurements/{id}?locale=en"))
            .body["unit"]["name"],
        "Piece"
    );

    // It cannot be deleted, nor lose its code, but its description may change.
    let r = s.delete(&format!("/catalogue/measurements/{id}"));
    assert_problem(&r, 409);
    assert!(r.text.contains("quantity"));
    let r = s.put(
        &format!("/catalogue/measurements/{id}"),
        &json!({"code": "qty"}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["code"]);
    let r = s.put(
        &format!("/catalogue/measurements/{id}"),
        &json!({"code": "quantity", "description": "Menge"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["description"], "Menge");
    assert_eq!(quantity(&s, &s.token)["id"], id);

    let (_, other) = s.new_tenant("Other GmbH", "other@example.test");
    let theirs = quantity(&s, &other);
    assert_ne!(theirs["id"], q["id"]);
    assert_eq!(theirs["description"], "Quantity");
}

#[test]
fn create_list_and_filter_by_code() {
    let s = Server::start();
    let unit = create_unit(&s, json!({"de": "Benutzer", "en": "User"}));
    let r = s.post(
        "/catalogue/measurements",
        &json!({"code": "users", "description": "Active users", "unit": unit,
                "aggregationType": "max"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body,
        json!({"id": id, "code": "users", "description": "Active users",
               "unit": {"id": unit, "name": "Benutzer"}, "aggregationType": "max",
               "fairBilling": true, "type": "recurring",
               "createdAt": r.body["createdAt"], "updatedAt": r.body["updatedAt"]})
    );
    // The unit may be written as an IRI or an object; every aggregation type is accepted.
    let mut codes = vec!["quantity".to_string(), "users".to_string()];
    for (i, aggregation) in ["count", "count_unique", "sum", "last_value", "average"]
        .iter()
        .enumerate()
    {
        let unit_ref = if i % 2 == 0 {
            json!(format!("/units/{unit}"))
        } else {
            json!({"id": unit})
        };
        let code = format!("m{i}");
        let r = s.post(
            "/catalogue/measurements",
            &json!({"code": code, "unit": unit_ref, "aggregationType": aggregation,
                    "fairBilling": false}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["fairBilling"], false);
        assert_eq!(r.body["description"], "");
        codes.push(code);
    }
    let all = s.get("/catalogue/measurements?limit=100");
    assert_eq!(all.body["meta"]["pagination"]["totalItems"], 7);
    let listed: Vec<_> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, codes, "creation order");

    let r = s.get("/catalogue/measurements?code=users");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 1);
    assert_eq!(r.body["data"][0]["id"], id.as_str());
    let r = s.get("/catalogue/measurements?code[]=users&code[]=quantity&order[code]=desc");
    let both: Vec<_> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].clone())
        .collect();
    assert_eq!(both, [json!("users"), json!("quantity")]);
    assert_eq!(
        s.get("/catalogue/measurements?code=nope").body["data"],
        json!([])
    );
    assert_eq!(
        s.get("/catalogue/measurements?code=users&locale=en").body["data"][0]["unit"]["name"],
        "User"
    );
    assert_problem(&s.get("/catalogue/measurements?limit=101"), 400);
    assert_problem(&s.get("/catalogue/measurements?order[unit]=asc"), 400);
    assert_problem(&s.get("/catalogue/measurements?locale=x"), 400);
    assert_problem(&s.get("/catalogue/measurements/nope"), 404);
    assert_problem(
        &s.send("GET", "/catalogue/measurements", None, None, &[]),
        401,
    );
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/catalogue/measurements", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["code", "unit", "aggregationType"]);

    let r = s.post(
        "/catalogue/measurements",
        &json!({"code": "quantity", "description": "d".repeat(256), "unit": "no-such-unit",
                "aggregationType": "median", "fairBilling": "yes", "color": 1}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        [
            "color",
            "code",
            "description",
            "unit",
            "aggregationType",
            "fairBilling"
        ]
    );
    let codes: Vec<_> = r.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "unknown_field",
            "not_unique",
            "too_long",
            "not_found",
            "invalid_choice",
            "invalid_type"
        ]
    );

    let r = s.post(
        "/catalogue/measurements",
        &json!({"code": "", "unit": null, "aggregationType": null, "fairBilling": null}),
    );
    assert_eq!(
        r.violation_paths(),
        ["code", "unit", "aggregationType", "fairBilling"]
    );
    let r = s.post(
        "/catalogue/measurements",
        &json!({"code": "two words", "unit": 5, "aggregationType": "sum"}),
    );
    assert_eq!(r.violation_paths(), ["code", "unit"]);

    // Another tenant's unit is unknown here: 422 on `unit`, not 404.
    let (_, other) = s.new_tenant("Other GmbH", "other@example.test");
    let theirs = seeded_unit(&s, &other);
    let r = s.post(
        "/catalogue/measurements",
        &json!({"code": "users", "unit": theirs, "aggregationType": "max"}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["unit"]);
    assert_eq!(
        s.get("/catalogue/measurements").body["meta"]["pagination"]["totalItems"],
        1
    );
}

#[test]
fn update_changes_the_keys_sent_but_never_the_aggregation() {
    let s = Server::start();
    let m = create_measurement(&s, "users", "max");
    let id = m["id"].as_str().unwrap();
    let path = format!("/catalogue/measurements/{id}");
    let hours = create_unit(&s, json!({"de": "Stunde"}));

    let r = s.put(
        &path,
        &json!({"description": "Seats", "fairBilling": false, "unit": hours,
                "aggregationType": "max"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["code"], "users");
    assert_eq!(r.body["description"], "Seats");
    assert_eq!(r.body["fairBilling"], false);
    assert_eq!(r.body["unit"], json!({"id": hours, "name": "Stunde"}));

    let r = s.put(&path, &json!({"aggregationType": "sum"}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["aggregationType"]);
    assert_eq!(r.body["violations"][0]["code"], "immutable");
    assert_eq!(s.get(&path).body["aggregationType"], "max");

    // A GET body sent back is accepted as is; renaming to a taken code is not.
    let echoed = s.get(&path).body;
    let r = s.put(&path, &echoed);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["description"], "Seats");
    let r = s.put(
        &path,
        &json!({"code": "quantity", "unit": "missing", "description": null}),
    );
    assert_eq!(r.violation_paths(), ["code", "unit"]);
    let r = s.put(&path, &json!({"code": "seats", "description": null}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["code"].clone(), r.body["description"].clone()),
        (json!("seats"), json!(""))
    );

    assert_problem(&s.put("/catalogue/measurements/nope", &json!({})), 404);
}

#[test]
fn delete_unless_a_product_uses_it() {
    let s = Server::start();
    let unused = create_measurement(&s, "storage", "max");
    let path = format!("/catalogue/measurements/{}", unused["id"].as_str().unwrap());
    assert_eq!(s.delete(&path).status, 204);
    assert_problem(&s.get(&path), 404);
    assert_problem(&s.delete(&path), 404);

    let used = create_measurement(&s, "users", "max");
    let id = used["id"].as_str().unwrap();
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Seats", "measurement": id}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // Archived products still hold on to their measurement.
    let product = r.body["id"].as_str().unwrap();
    s.act("PUT", &format!("/catalogue/products/{product}/archive"));
    let r = s.delete(&format!("/catalogue/measurements/{id}"));
    assert_problem(&r, 409);
    assert!(r.text.contains("product"));
    assert_eq!(s.get(&format!("/catalogue/measurements/{id}")).status, 200);
}

#[test]
fn writes_need_measurement_write() {
    let s = Server::start();
    let m = create_measurement(&s, "users", "max");
    let path = format!("/catalogue/measurements/{}", m["id"].as_str().unwrap());
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/catalogue/measurements").status, 200);
    assert_eq!(s.get_as(&ro, &path).status, 200);
    let body = json!({"code": "x", "unit": seeded_unit(&s, &s.token), "aggregationType": "max"});
    for (method, path, body) in [
        ("POST", "/catalogue/measurements", Some(&body)),
        ("PUT", path.as_str(), Some(&json!({"description": "x"}))),
        ("DELETE", path.as_str(), None),
    ] {
        let r = s.send_as(&ro, method, path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("measurement:write"),
            "{method}"
        );
    }
    assert_eq!(s.get(&path).body, m);
}

#[test]
fn another_tenants_measurement_is_not_found_and_unchanged() {
    let s = Server::start();
    let m = create_measurement(&s, "users", "max");
    let path = format!("/catalogue/measurements/{}", m["id"].as_str().unwrap());
    let (_, other) = s.new_tenant("Other GmbH", "other@example.test");
    assert_problem(&s.get_as(&other, &path), 404);
    let body = json!({"description": "mine now"});
    assert_problem(&s.send_as(&other, "PUT", &path, Some(&body)), 404);
    assert_problem(&s.send_as(&other, "DELETE", &path, None), 404);
    assert_eq!(s.get(&path).body, m);
    // Codes are unique per tenant, not globally.
    let r = s.send_as(
        &other,
        "POST",
        "/catalogue/measurements",
        Some(&json!({"code": "users", "unit": seeded_unit(&s, &other), "aggregationType": "sum"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}
