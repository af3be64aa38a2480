//! Custom field definitions: create, read, list with entity filter, replace (immutable entity,
//! name and type), delete, validation naming every field, unique names per tenant and entity,
//! permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn tier() -> Value {
    json!({"entity": "customer", "name": "tier", "label": "Tier", "type": "single_select",
        "choices": [{"value": "gold", "label": "Gold"}, "silver"], "required": true})
}

#[test]
fn create_read_and_list_with_entity_filter() {
    let s = Server::start();
    let r = s.post("/custom-fields", &tier());
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["entity"], "customer");
    assert_eq!(r.body["name"], "tier");
    assert_eq!(r.body["label"], "Tier");
    assert_eq!(r.body["type"], "single_select");
    assert_eq!(
        r.body["choices"],
        json!([{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "silver"}])
    );
    assert_eq!(r.body["required"], true);
    assert!(r.body["createdAt"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(s.get(&format!("/custom-fields/{id}")).body, r.body);

    let r = s.post(
        "/custom-fields",
        &json!({"entity": "product", "name": "sku", "label": "SKU", "type": "text"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["choices"], json!([]));
    assert_eq!(r.body["required"], false, "required defaults to false");

    let all = s.get("/custom-fields");
    assert_eq!(all.status, 200);
    assert_eq!(all.body["meta"]["pagination"]["totalItems"], 2);
    assert_eq!(all.body["data"][0]["name"], "tier", "creation order");
    let products = s.get("/custom-fields?entity=product");
    assert_eq!(products.body["meta"]["pagination"]["totalItems"], 1);
    assert_eq!(products.body["data"][0]["name"], "sku");
    let both = s.get("/custom-fields?entity[]=product&entity[]=customer&order[name]=asc");
    assert_eq!(both.body["data"][0]["name"], "sku");
    assert_problem(&s.get("/custom-fields?entity=invoice"), 400);
    assert_problem(&s.get("/custom-fields?order[type]=asc"), 400);
    let page = s.get("/custom-fields?limit=1&page=2");
    assert_eq!(page.body["data"][0]["name"], "sku");
    assert_eq!(page.body["meta"]["pagination"]["lastPage"], 2);
}

#[test]
fn every_type_can_be_defined() {
    let s = Server::start();
    for (i, t) in ["text", "number", "date", "list", "checkbox"]
        .iter()
        .enumerate()
    {
        let body =
            json!({"entity": "subscription", "name": format!("f{i}"), "label": "F", "type": t});
        assert_eq!(s.post("/custom-fields", &body).status, 201, "{t}");
    }
    let body = json!({"entity": "subscription", "name": "colors", "label": "Colors",
        "type": "multi_select", "choices": ["red", "green"]});
    assert_eq!(s.post("/custom-fields", &body).status, 201);
    let r = s.get("/custom-fields?entity=subscription");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 6);
}

#[test]
fn create_names_every_invalid_field() {
    let s = Server::start();
    let r = s.post(
        "/custom-fields",
        &json!({"entity": "invoice", "name": "bad name", "label": "", "type": "color", "x": 1}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec!["x", "entity", "name", "label", "type"]
    );
    let r = s.post("/custom-fields", &json!({}));
    assert_eq!(r.violation_paths(), vec!["entity", "name", "label", "type"]);
    // Selections need choices with unique values; other types take none.
    let r = s.post(
        "/custom-fields",
        &json!({"entity": "product", "name": "size", "label": "Size", "type": "multi_select"}),
    );
    assert_eq!(r.violation_paths(), vec!["choices"]);
    let r = s.post(
        "/custom-fields",
        &json!({"entity": "product", "name": "size", "label": "Size", "type": "single_select",
            "choices": ["S", {"value": "S", "label": "Small"}, {"value": ""}, 7]}),
    );
    assert_eq!(
        r.violation_paths(),
        vec!["choices[1].value", "choices[2].value", "choices[3]"]
    );
    let r = s.post(
        "/custom-fields",
        &json!({"entity": "product", "name": "n", "label": "N", "type": "number",
            "choices": ["1"], "required": "yes"}),
    );
    assert_eq!(r.violation_paths(), vec!["choices", "required"]);
    assert_eq!(
        s.get("/custom-fields").body["meta"]["pagination"]["totalItems"],
        0
    );
}

#[test]
fn names_are_unique_per_tenant_and_entity() {
    let s = Server::start();
    assert_eq!(s.post("/custom-fields", &tier()).status, 201);
    let r = s.post("/custom-fields", &tier());
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["name"]);
    assert_eq!(r.body["violations"][0]["code"], "not_unique");
    let mut product = tier();
    product["entity"] = json!("product");
    assert_eq!(s.post("/custom-fields", &product).status, 201);
    let (_, other) = s.new_tenant("Other", "other@example.com");
    let r = s.send_as(&other, "POST", "/custom-fields", Some(&tier()));
    assert_eq!(r.status, 201, "{}", r.text);
}

#[test]
fn put_replaces_label_choices_and_required_only() {
    let s = Server::start();
    let created = s.post("/custom-fields", &tier()).body;
    let path = format!("/custom-fields/{}", created["id"].as_str().unwrap());
    let r = s.put(
        &path,
        &json!({"label": "Level", "choices": ["bronze", {"value": "gold", "label": "GOLD"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["label"], "Level");
    assert_eq!(
        r.body["choices"],
        json!([{"value": "bronze", "label": "bronze"}, {"value": "gold", "label": "GOLD"}])
    );
    assert_eq!(
        r.body["required"], false,
        "PUT replaces: absent means false"
    );
    assert_eq!(r.body["name"], "tier");
    assert_eq!(r.body["createdAt"], created["createdAt"]);
    assert_eq!(s.get(&path).body, r.body);

    // A GET body sent back unchanged is accepted.
    let echoed = s.put(&path, &r.body);
    assert_eq!(echoed.status, 200, "{}", echoed.text);

    let r = s.put(
        &path,
        &json!({"entity": "product", "name": "level", "type": "text", "label": "L",
            "choices": ["x"]}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["entity", "name", "type"]);
    assert!(r.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["code"] == "read_only"));
    let r = s.put(&path, &json!({"label": "", "choices": []}));
    assert_eq!(r.violation_paths(), vec!["label", "choices"]);
    assert_eq!(
        s.get(&path).body["label"],
        "Level",
        "a failed PUT changes nothing"
    );
}

#[test]
fn delete_removes_the_definition_and_frees_the_name() {
    let s = Server::start();
    let created = s.post("/custom-fields", &tier()).body;
    let path = format!("/custom-fields/{}", created["id"].as_str().unwrap());
    let r = s.delete(&path);
    assert_eq!(r.status, 204, "{}", r.text);
    assert_problem(&s.get(&path), 404);
    assert_problem(&s.delete(&path), 404);
    assert_problem(&s.put(&path, &json!({"label": "x"})), 404);
    assert_eq!(s.post("/custom-fields", &tier()).status, 201);
}

#[test]
fn unknown_and_malformed_ids_are_404() {
    let s = Server::start();
    for id in ["0190a0a0-0000-7000-8000-000000000000", "nope"] {
        assert_problem(&s.get(&format!("/custom-fields/{id}")), 404);
        assert_problem(&s.delete(&format!("/custom-fields/{id}")), 404);
    }
}

#[test]
fn scopes_are_setting_read_and_write() {
    let s = Server::start();
    let created = s.post("/custom-fields", &tier()).body;
    let path = format!("/custom-fields/{}", created["id"].as_str().unwrap());
    assert_problem(&s.send("GET", "/custom-fields", None, None, &[]), 401);
    assert_problem(&s.send("GET", &path, Some("kontor_nope"), None, &[]), 401);
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/custom-fields").status, 200);
    assert_eq!(s.get_as(&ro, &path).status, 200);
    for (method, p, body) in [
        ("POST", "/custom-fields", Some(tier())),
        ("PUT", path.as_str(), Some(json!({"label": "x"}))),
        ("DELETE", path.as_str(), None),
    ] {
        let r = s.send_as(&ro, method, p, body.as_ref());
        assert_problem(&r, 403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("setting:write"),
            "{}",
            r.text
        );
    }
    assert_eq!(s.get(&path).body, created, "nothing changed");
}

#[test]
fn another_tenants_definitions_are_invisible() {
    let s = Server::start();
    let created = s.post("/custom-fields", &tier()).body;
    let path = format!("/custom-fields/{}", created["id"].as_str().unwrap());
    let (_, other) = s.new_tenant("Other", "other@example.com");
    assert_problem(&s.get_as(&other, &path), 404);
    assert_problem(
        &s.send_as(&other, "PUT", &path, Some(&json!({"label": "Mine"}))),
        404,
    );
    assert_problem(&s.send_as(&other, "DELETE", &path, None), 404);
    let list = s.get_as(&other, "/custom-fields");
    assert_eq!(list.body["meta"]["pagination"]["totalItems"], 0);
    assert_eq!(s.get(&path).body, created);
}

/// Defines one product field of every type; `tier` is required.
fn define_product_fields(s: &Server) {
    let defs = [
        json!({"name": "note", "type": "text"}),
        json!({"name": "weight", "type": "number"}),
        json!({"name": "launch", "type": "date"}),
        json!({"name": "tier", "type": "single_select", "choices": ["gold", "silver"],
            "required": true}),
        json!({"name": "colors", "type": "multi_select", "choices": ["red", "blue"]}),
        json!({"name": "tags", "type": "list"}),
        json!({"name": "vip", "type": "checkbox"}),
    ];
    for mut d in defs {
        d["entity"] = json!("product");
        d["label"] = d["name"].clone();
        let r = s.post("/custom-fields", &d);
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

#[test]
fn product_values_are_checked_against_the_definitions() {
    let s = Server::start();
    define_product_fields(&s);
    let fields = json!({"note": "fragile", "weight": "12.345", "launch": "2026-02-28",
        "tier": "gold", "colors": ["red", "blue"], "tags": ["a", "b"], "vip": true});
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Box", "customFields": fields}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["customFields"], fields);
    // A JSON number is a number too.
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Box 2",
            "customFields": {"tier": "silver", "weight": 1.5}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);

    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Bad", "customFields": {
            "note": 5, "weight": "1,5", "launch": "2026-02-30", "tier": "bronze",
            "colors": ["red", "green"], "tags": "a", "vip": "yes", "unknown": 1}}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        ["colors", "launch", "note", "tags", "tier", "unknown", "vip", "weight"]
            .map(|k| format!("customFields.{k}"))
    );
    let code = |path: &str| {
        r.body["violations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["propertyPath"] == path)
            .map(|v| v["code"].clone())
            .unwrap()
    };
    assert_eq!(code("customFields.unknown"), "unknown_field");
    assert_eq!(code("customFields.tier"), "invalid_choice");
    assert_eq!(code("customFields.launch"), "invalid_date");
}

#[test]
fn required_fields_apply_on_create_and_deleted_fields_are_refused() {
    let s = Server::start();
    define_product_fields(&s);
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "No tier"}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["customFields.tier"]);
    assert_eq!(r.body["violations"][0]["code"], "not_blank");

    // Definitions of customers do not apply to products, nor another tenant's definitions.
    s.post(
        "/custom-fields",
        &json!({"entity": "customer", "name": "crm", "label": "CRM", "type": "text"}),
    );
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "X", "customFields": {"tier": "gold", "crm": "1"}}),
    );
    assert_eq!(r.violation_paths(), vec!["customFields.crm"]);
    let (_, other) = s.new_tenant("Other", "other@example.com");
    let r = s.send_as(
        &other,
        "POST",
        "/catalogue/products",
        Some(&json!({"type": "product", "name": "X", "customFields": {"tier": "gold"}})),
    );
    assert_eq!(r.violation_paths(), vec!["customFields.tier"]);

    // Once deleted, a field can no longer be written.
    let list = s.get("/custom-fields?entity=product&limit=100").body;
    let vip = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "vip")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.delete(&format!("/custom-fields/{vip}")).status, 204);
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "X", "customFields": {"tier": "gold", "vip": true}}),
    );
    assert_eq!(r.violation_paths(), vec!["customFields.vip"]);
}

#[test]
fn values_of_a_deleted_product_field_are_hidden_on_read() {
    let s = Server::start();
    define_product_fields(&s);
    let p = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Box", "customFields": {"tier": "gold", "note": "x"}}),
    );
    assert_eq!(p.status, 201, "{}", p.text);
    let list = s.get("/custom-fields?entity=product&limit=100");
    let note = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "note")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.delete(&format!("/custom-fields/{note}")).status, 204);
    let product = s.get(&format!(
        "/catalogue/products/{}",
        p.body["id"].as_str().unwrap()
    ));
    assert_eq!(product.body["customFields"], json!({"tier": "gold"}));
}
