//! Product families: create, list, read, rename, delete (409 while a product is in it),
//! validation, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// Creates a family and returns it.
pub fn create_family(s: &Server, name: &str) -> Value {
    let r = s.post("/product-families", &json!({ "name": name }));
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

#[test]
fn create_list_read_rename_delete() {
    let s = Server::start();
    let r = s.get("/product-families");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"data": [], "meta": {"pagination": {"totalItems": 0, "itemsPerPage": 30,
               "currentPage": 1, "lastPage": 1, "pageTotalItems": 0}}})
    );
    let teams = create_family(&s, "Team Packages");
    let id = teams["id"].as_str().unwrap();
    assert_eq!(
        teams,
        json!({"id": id, "name": "Team Packages", "createdAt": teams["createdAt"],
               "updatedAt": teams["updatedAt"]})
    );
    create_family(&s, "Add-ons");
    let r = s.get("/product-families");
    let names: Vec<_> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(names, [json!("Team Packages"), json!("Add-ons")]);
    let r = s.get("/product-families?order[name]=asc&limit=1");
    assert_eq!(r.body["data"][0]["name"], "Add-ons");
    assert_eq!(r.body["meta"]["pagination"]["lastPage"], 2);

    let path = format!("/product-families/{id}");
    assert_eq!(s.get(&path).body, teams);
    let r = s.put(&path, &json!({"name": "Teams"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Teams");
    assert_eq!(r.body["createdAt"], teams["createdAt"]);
    // A GET body sent back is accepted.
    let mut echoed = s.get(&path).body;
    echoed["name"] = json!("Teams 2");
    assert_eq!(s.put(&path, &echoed).body["name"], "Teams 2");

    assert_eq!(s.delete(&path).status, 204);
    assert_problem(&s.get(&path), 404);
    assert_problem(&s.put(&path, &json!({"name": "X"})), 404);
    assert_problem(&s.delete(&path), 404);
    assert_eq!(
        s.get("/product-families").body["meta"]["pagination"]["totalItems"],
        1
    );

    assert_problem(&s.get("/product-families?limit=101"), 400);
    assert_problem(&s.get("/product-families?page=0"), 400);
    assert_problem(&s.get("/product-families?order[color]=asc"), 400);
    assert_problem(&s.send("GET", "/product-families", None, None, &[]), 401);
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    for (body, paths) in [
        (json!({}), vec!["name"]),
        (json!({"name": null}), vec!["name"]),
        (json!({"name": "   "}), vec!["name"]),
        (json!({"name": 7}), vec!["name"]),
        (json!({"name": "n".repeat(256)}), vec!["name"]),
        (json!({"name": "", "color": "red"}), vec!["color", "name"]),
    ] {
        let r = s.post("/product-families", &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), paths, "{body}");
    }
    let f = create_family(&s, "Teams");
    let path = format!("/product-families/{}", f["id"].as_str().unwrap());
    let r = s.put(&path, &json!({"name": ""}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["name"]);
    assert_eq!(s.get(&path).body["name"], "Teams");
    assert_eq!(
        s.get("/product-families").body["meta"]["pagination"]["totalItems"],
        1
    );
}

#[test]
fn a_family_holding_a_product_cannot_be_deleted() {
    let s = Server::start();
    let f = create_family(&s, "Teams");
    let id = f["id"].as_str().unwrap();
    let r = s.post(
        "/catalogue/products",
        &json!({"type": "product", "name": "Team S", "productFamilies": [id]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let product = r.body["id"].as_str().unwrap().to_string();
    let r = s.delete(&format!("/product-families/{id}"));
    assert_problem(&r, 409);
    assert!(r.text.contains("1 product"));
    // Archived products still count.
    s.act("PUT", &format!("/catalogue/products/{product}/archive"));
    assert_problem(&s.delete(&format!("/product-families/{id}")), 409);
    // Renaming shows in the product; once the product leaves the family it can go.
    s.put(
        &format!("/product-families/{id}"),
        &json!({"name": "Team Plans"}),
    );
    assert_eq!(
        s.get(&format!("/catalogue/products/{product}")).body["productFamilies"],
        json!([{"id": id, "name": "Team Plans"}])
    );
    let r = s.put(
        &format!("/catalogue/products/{product}"),
        &json!({"productFamilies": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.delete(&format!("/product-families/{id}")).status, 204);
}

#[test]
fn writes_need_product_family_write() {
    let s = Server::start();
    let f = create_family(&s, "Teams");
    let path = format!("/product-families/{}", f["id"].as_str().unwrap());
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/product-families").status, 200);
    assert_eq!(s.get_as(&ro, &path).status, 200);
    let body = json!({"name": "X"});
    for (method, path, body) in [
        ("POST", "/product-families", Some(&body)),
        ("PUT", path.as_str(), Some(&body)),
        ("DELETE", path.as_str(), None),
    ] {
        let r = s.send_as(&ro, method, path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("product-family:write"),
            "{method}"
        );
    }
    assert_eq!(s.get(&path).body, f);
}

#[test]
fn another_tenants_family_is_not_found_and_unchanged() {
    let s = Server::start();
    let f = create_family(&s, "Teams");
    let path = format!("/product-families/{}", f["id"].as_str().unwrap());
    let (_, other) = s.new_tenant("Other GmbH", "other@example.test");
    assert_eq!(
        s.get_as(&other, "/product-families").body["meta"]["pagination"]["totalItems"],
        0
    );
    assert_problem(&s.get_as(&other, &path), 404);
    let body = json!({"name": "Mine"});
    assert_problem(&s.send_as(&other, "PUT", &path, Some(&body)), 404);
    assert_problem(&s.send_as(&other, "DELETE", &path, None), 404);
    assert_eq!(s.get(&path).body, f);
}
