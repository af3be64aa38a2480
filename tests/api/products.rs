//! Catalogue products: create with defaults and with every field, references (ids, IRIs,
//! objects; other tenants' ids are 422), validation of every key at once, partial update with a
//! fixed type, archive and the list filters, outbox events, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use crate::measurements::{create_measurement, quantity};
use crate::product_families::create_family;
use serde_json::{json, Value};

/// Creates a product of type `product` with the defaults and returns it.
pub fn create_product(s: &Server, name: &str) -> Value {
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": name}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// The id of a seeded tax group of the tenant (`standard`, `reduced`, `zero`).
pub fn tax_group(s: &Server, tenant: &str, kind: &str) -> String {
    s.db()
        .query_row(
            "SELECT id FROM tax_groups WHERE tenant_id = ?1 AND type = ?2 ORDER BY created_at",
            [tenant, kind],
            |r| r.get(0),
        )
        .unwrap()
}

/// `(event type, payload)` of the outbox rows about `id`, oldest first.
fn events(s: &Server, id: &str) -> Vec<(String, Value)> {
    let db = s.db();
    let mut stmt = db
        .prepare("SELECT event_type, payload FROM outbox WHERE object_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap();
    rows.map(|r| {
        let (t, p) = r.unwrap();
        (t, serde_json::from_str(&p).unwrap())
    })
    .collect()
}

fn names(r: &crate::common::Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn create_with_the_defaults() {
    let s = Server::start();
    let p = create_product(&s, "Basic");
    let id = p["id"].as_str().unwrap();
    let standard = tax_group(&s, &s.tenant_id, "standard");
    assert_eq!(
        p,
        json!({
            "id": id, "type": "product", "name": "Basic", "description": null,
            "internalName": null, "number": null, "measurement": quantity(&s, &s.token),
            "productFamilies": [],
            "taxGroup": {"id": standard, "internalDescription": "Standard",
                         "reverseChargeType": null, "type": "standard"},
            "invoiceVisibility": "always", "costCentre": null, "isArchived": false,
            "customFields": {}, "createdAt": p["createdAt"], "updatedAt": p["updatedAt"]
        })
    );
    assert_eq!(s.get(&format!("/catalogue/products/{id}")).body, p);
    assert_eq!(events(&s, id), [("product.created".to_string(), p)]);
}

#[test]
fn create_with_every_field() {
    let s = Server::start();
    let users = create_measurement(&s, "users", "max");
    let teams = create_family(&s, "Teams");
    let addons = create_family(&s, "Add-ons");
    let reduced = tax_group(&s, &s.tenant_id, "reduced");
    let r = s.post(
        "/catalogue/products",
        &json!({
            "type": "charge", "name": "Setup", "description": "One-off setup",
            "internalName": "Setup (EU)", "number": "M-1234",
            "measurement": format!("/catalogue/measurements/{}", users["id"].as_str().unwrap()),
            "productFamilies": [teams["id"], {"id": addons["id"]}, teams["id"]],
            "taxGroup": {"id": reduced}, "invoiceVisibility": "only_if_charged",
            "costCentre": "KOST1", "customFields": {}
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let p = &r.body;
    assert_eq!(p["type"], "charge");
    assert_eq!(p["description"], "One-off setup");
    assert_eq!(p["internalName"], "Setup (EU)");
    assert_eq!(p["number"], "M-1234");
    assert_eq!(p["measurement"], users);
    // Families come sorted by name, duplicates collapsed.
    assert_eq!(
        p["productFamilies"],
        json!([{"id": addons["id"], "name": "Add-ons"}, {"id": teams["id"], "name": "Teams"}])
    );
    assert_eq!(p["taxGroup"]["id"], reduced.as_str());
    assert_eq!(p["taxGroup"]["type"], "reduced");
    assert_eq!(p["invoiceVisibility"], "only_if_charged");
    assert_eq!(p["costCentre"], json!({"id": "KOST1"}));
    // The embedded unit name follows `locale`.
    let id = p["id"].as_str().unwrap();
    let en = s.get(&format!("/catalogue/products/{id}?locale=en")).body;
    assert_eq!(en["measurement"]["unit"]["name"], "Piece");
    assert_eq!(p["measurement"]["unit"]["name"], "Stück");
    assert_problem(&s.get(&format!("/catalogue/products/{id}?locale=e")), 400);
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/catalogue/products", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["type", "name"]);

    let family = create_family(&s, "Teams");
    let r = s.post(
        "/catalogue/products",
        &json!({
            "type": "bundle", "name": "", "description": 5, "internalName": "i".repeat(256),
            "number": ["M-1"], "measurement": "no-such-measurement",
            "productFamilies": [family["id"], 7, "no-such-family"], "taxGroup": null,
            "invoiceVisibility": "never", "costCentre": false, "customFields": "none",
            "isArchived": true, "price": 5
        }),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        [
            "price",
            "type",
            "name",
            "description",
            "internalName",
            "number",
            "measurement",
            "productFamilies[1]",
            "productFamilies[2]",
            "taxGroup",
            "invoiceVisibility",
            "costCentre",
            "customFields"
        ]
    );
    assert_eq!(r.body["detail"], "13 fields are invalid");

    // Another tenant's measurement, tax group and family are unknown here: 422 on each field.
    let (other_tenant, other) = s.new_tenant("Other GmbH", "other@example.test");
    let their_family = s.send_as(
        &other,
        "POST",
        "/product-families",
        Some(&json!({"name": "Theirs"})),
    );
    let r = s.post(
        "/catalogue/products",
        &json!({
            "type": "product", "name": "Stolen", "measurement": quantity(&s, &other)["id"],
            "taxGroup": tax_group(&s, &other_tenant, "standard"),
            "productFamilies": [their_family.body["id"]]
        }),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        ["measurement", "productFamilies[0]", "taxGroup"]
    );
    assert_eq!(
        s.get("/catalogue/products").body["meta"]["pagination"]["totalItems"],
        0
    );
}

#[test]
fn unknown_custom_fields_are_refused() {
    let s = Server::start();
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Basic", "customFields": {"color": "red"}}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["customFields.color"]);
}

#[test]
fn update_changes_the_keys_sent_and_never_the_type() {
    let s = Server::start();
    let family = create_family(&s, "Teams");
    let p = create_product(&s, "Basic");
    let id = p["id"].as_str().unwrap();
    let path = format!("/catalogue/products/{id}");
    let users = create_measurement(&s, "users", "max");
    let zero = tax_group(&s, &s.tenant_id, "zero");

    let r = s.put(
        &path,
        &json!({"name": "Pro", "description": "For teams", "measurement": users["id"],
                "taxGroup": zero, "productFamilies": [family["id"]], "costCentre": "KOST2",
                "type": "product"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let updated = r.body.clone();
    assert_eq!(updated["name"], "Pro");
    assert_eq!(updated["description"], "For teams");
    assert_eq!(updated["measurement"]["code"], "users");
    assert_eq!(updated["taxGroup"]["type"], "zero");
    assert_eq!(updated["productFamilies"][0]["id"], family["id"]);
    assert_eq!(updated["costCentre"], json!({"id": "KOST2"}));
    assert_eq!(updated["invoiceVisibility"], "always");
    assert_eq!(updated["createdAt"], p["createdAt"]);

    // A GET body sent back changes nothing; null clears the nullable keys.
    let r = s.put(&path, &s.get(&path).body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Pro");
    assert_eq!(r.body["productFamilies"], updated["productFamilies"]);
    let r = s.put(
        &path,
        &json!({"description": null, "costCentre": null, "productFamilies": null,
                "number": ""}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["description"], json!(null));
    assert_eq!(r.body["costCentre"], json!(null));
    assert_eq!(r.body["productFamilies"], json!([]));
    assert_eq!(r.body["measurement"]["code"], "users");

    let r = s.put(
        &path,
        &json!({"type": "charge", "name": " ", "measurement": null, "taxGroup": "nope"}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        ["type", "name", "measurement", "taxGroup"]
    );
    assert_eq!(r.body["violations"][0]["code"], "immutable");
    assert_eq!(s.get(&path).body["name"], "Pro");

    let kinds: Vec<_> = events(&s, id).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        kinds,
        [
            "product.created",
            "product.updated",
            "product.updated",
            "product.updated"
        ]
    );
    let (_, last) = events(&s, id).pop().unwrap();
    assert_eq!(last, s.get(&path).body);

    assert_problem(
        &s.put("/catalogue/products/nope", &json!({"name": "X"})),
        404,
    );
    assert_problem(&s.put("/catalogue/products/nope", &json!({"type": 1})), 404);
}

#[test]
fn archive_hides_from_the_list() {
    let s = Server::start();
    let basic = create_product(&s, "Basic");
    create_product(&s, "Pro");
    let id = basic["id"].as_str().unwrap();
    let r = s.act("PUT", &format!("/catalogue/products/{id}/archive"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["isArchived"], true);
    assert_eq!(r.body["name"], "Basic");

    let r = s.get("/catalogue/products");
    assert_eq!(names(&r), ["Pro"]);
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 1);
    let r = s.get("/catalogue/products?showArchived=true");
    assert_eq!(names(&r), ["Basic", "Pro"]);
    assert_eq!(
        s.get(&format!("/catalogue/products/{id}")).body["isArchived"],
        true
    );
    assert_problem(&s.get("/catalogue/products?showArchived=maybe"), 400);

    // Archiving again changes nothing and records no second event.
    let again = s.act("PUT", &format!("/catalogue/products/{id}/archive"));
    assert_eq!(again.status, 200);
    assert_eq!(again.body["updatedAt"], r.body["data"][0]["updatedAt"]);
    let kinds: Vec<_> = events(&s, id).into_iter().map(|(t, _)| t).collect();
    assert_eq!(kinds, ["product.created", "product.archived"]);
    assert_eq!(events(&s, id)[1].1["isArchived"], true);

    // An archived product can still be corrected.
    let r = s.put(
        &format!("/catalogue/products/{id}"),
        &json!({"description": "old"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["isArchived"], true);
    assert_problem(&s.act("PUT", "/catalogue/products/nope/archive"), 404);
}

#[test]
fn list_hides_plan_products_and_filters() {
    let s = Server::start();
    create_product(&s, "Basic");
    let setup = s.post(
        "/catalogue/products",
        &json!({"type": "charge", "name": "Setup"}),
    );
    assert_eq!(setup.status, 201);
    let plan = s.post(
        "/catalogue/products",
        &json!({"type": "plan", "name": "Plan item"}),
    );
    assert_eq!(plan.status, 201, "{}", plan.text);
    let plan_id = plan.body["id"].as_str().unwrap();

    let r = s.get("/catalogue/products");
    assert_eq!(r.status, 200);
    assert_eq!(names(&r), ["Basic", "Setup"]);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 2, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 2})
    );
    assert_eq!(
        s.get(&format!("/catalogue/products/{plan_id}")).body["type"],
        "plan"
    );
    assert_eq!(names(&s.get("/catalogue/products?type=charge")), ["Setup"]);
    assert_eq!(
        names(&s.get("/catalogue/products?order[name]=desc")),
        ["Setup", "Basic"]
    );
    let r = s.get("/catalogue/products?limit=1&page=2");
    assert_eq!(names(&r), ["Setup"]);
    assert_eq!(r.body["meta"]["pagination"]["lastPage"], 2);
    assert_eq!(
        s.get("/catalogue/products?locale=en").body["data"][0]["measurement"]["unit"]["name"],
        "Piece"
    );
    assert_problem(&s.get("/catalogue/products?type=plan"), 400);
    assert_problem(&s.get("/catalogue/products?limit=101"), 400);
    assert_problem(&s.get("/catalogue/products?page=0"), 400);
    assert_problem(&s.get("/catalogue/products?locale=DE"), 400);
    assert_problem(&s.send("GET", "/catalogue/products", None, None, &[]), 401);
}

#[test]
fn writes_need_product_write() {
    let s = Server::start();
    let p = create_product(&s, "Basic");
    let path = format!("/catalogue/products/{}", p["id"].as_str().unwrap());
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/catalogue/products").status, 200);
    assert_eq!(s.get_as(&ro, &path).status, 200);
    let body = json!({"type": "product", "name": "X"});
    let archive = format!("{path}/archive");
    for (method, path, body) in [
        ("POST", "/catalogue/products", Some(&body)),
        ("PUT", path.as_str(), Some(&body)),
        ("PUT", archive.as_str(), None),
    ] {
        let r = s.send_as(&ro, method, path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("product:write"),
            "{method} {path}"
        );
    }
    assert_eq!(s.get(&path).body, p);
}

#[test]
fn another_tenants_product_is_not_found_and_unchanged() {
    let s = Server::start();
    let p = create_product(&s, "Basic");
    let id = p["id"].as_str().unwrap();
    let path = format!("/catalogue/products/{id}");
    let (_, other) = s.new_tenant("Other GmbH", "other@example.test");
    assert_eq!(
        s.get_as(&other, "/catalogue/products").body["meta"]["pagination"]["totalItems"],
        0
    );
    assert_problem(&s.get_as(&other, &path), 404);
    let body = json!({"name": "Mine"});
    assert_problem(&s.send_as(&other, "PUT", &path, Some(&body)), 404);
    assert_problem(
        &s.send_as(&other, "PUT", &format!("{path}/archive"), None),
        404,
    );
    assert_eq!(s.get(&path).body, p);
    assert_eq!(events(&s, id).len(), 1);
}
