//! Coupons: create and read model, list envelope and filters, replace, toggle, delete, outbox
//! events, scopes and tenant isolation; every validation case is in `validation`.

mod validation;

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

pub(crate) fn percent20() -> Value {
    json!({"code": "SPRING20", "name": "Spring sale", "type": "percentage", "percentage": 20,
           "frequency": "once"})
}

pub(crate) fn fixed5() -> Value {
    json!({"code": "FIVEOFF", "name": "5 off for 3 months", "type": "fixed_amount",
           "fixedAmount": "5.00", "currencyCode": "EUR", "frequency": "limited",
           "frequencyInterval": 3})
}

pub(crate) fn create(s: &Server, body: Value) -> Value {
    let r = s.post("/coupons", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// A product row in `tenant`, made directly: coupons only need it to exist.
pub(crate) fn product(s: &Server, tenant: &str, name: &str) -> String {
    let conn = s.db();
    let id = format!("prod-{name}-{}", &tenant[..8]);
    conn.execute(
        "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                               created_at, updated_at)
         VALUES (?1, ?2, 'product', ?3,
                 (SELECT id FROM measurements WHERE tenant_id = ?2 AND code = 'quantity'),
                 (SELECT id FROM tax_groups WHERE tenant_id = ?2 AND name = 'Standard'),
                 '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        [&id, tenant, name],
    )
    .expect("product");
    id
}

fn events(s: &Server, object: &str) -> Vec<String> {
    let conn = s.db();
    let mut stmt = conn
        .prepare("SELECT event_type FROM outbox WHERE object_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([object], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn total(s: &Server, path: &str) -> Value {
    s.get(path).body["meta"]["pagination"]["totalItems"].clone()
}

#[test]
fn create_a_percentage_coupon_with_defaults() {
    let s = Server::start();
    let c = create(&s, percent20());
    let id = id(&c);
    assert_eq!(
        c,
        json!({"id": id, "code": "SPRING20", "name": "Spring sale", "type": "percentage",
               "percentage": 20, "fixedAmount": null, "currencyCode": null,
               "frequency": "once", "frequencyInterval": null, "expiresAt": null,
               "maxRedemptions": null, "maxRedemptionsPerCustomer": null, "products": [],
               "enabled": true, "timesRedeemed": 0,
               "createdAt": c["createdAt"], "updatedAt": c["updatedAt"]})
    );
    assert!(c["createdAt"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(s.get(&format!("/coupons/{id}")).body, c);
    assert_eq!(events(&s, &id), ["coupon.created"]);
    let payload: String = s
        .db()
        .query_row(
            "SELECT payload FROM outbox WHERE object_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&payload).unwrap(), c);
}

#[test]
fn create_with_every_field() {
    let s = Server::start();
    let (p1, p2) = (
        product(&s, &s.tenant_id, "basic"),
        product(&s, &s.tenant_id, "pro"),
    );
    let c = create(
        &s,
        json!({"code": "FIVEOFF", "name": "5 off", "type": "fixed_amount", "fixedAmount": "5",
               "currencyCode": "EUR", "frequency": "limited", "frequencyInterval": 3,
               "expiresAt": "2026-12-31T23:59:59+01:00", "maxRedemptions": 100,
               "maxRedemptionsPerCustomer": 1, "products": [p2, format!("/catalogue/products/{p1}"), p2],
               "enabled": false}),
    );
    assert_eq!(
        c["fixedAmount"],
        json!({"amount": 500, "currencyCode": "EUR", "precision": 2})
    );
    assert_eq!(c["currencyCode"], "EUR");
    assert_eq!(c["percentage"], Value::Null);
    assert_eq!(c["frequencyInterval"], 3);
    assert_eq!(c["expiresAt"], "2026-12-31T22:59:59+00:00");
    assert_eq!(
        (
            c["maxRedemptions"].clone(),
            c["maxRedemptionsPerCustomer"].clone()
        ),
        (json!(100), json!(1))
    );
    // The restriction is a set, in the order first sent; IRIs are read as ids.
    assert_eq!(c["products"], json!([p2, p1]));
    assert_eq!(c["enabled"], false);
    let stored: String = s
        .db()
        .query_row(
            "SELECT fixed_amount FROM coupons WHERE id = ?1",
            [c["id"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "5.00");

    // Decimal percentages, as a number or a string; amounts in a zero-decimal currency.
    let c = create(
        &s,
        json!({"code": "P", "name": "P", "type": "percentage", "percentage": "12.5",
               "frequency": "lifetime", "expiresAt": null, "products": null}),
    );
    assert_eq!(c["percentage"], json!(12.5));
    let c = create(
        &s,
        json!({"code": "YEN", "name": "Y", "type": "fixed_amount", "fixedAmount": "500",
               "currencyCode": "JPY", "frequency": "once"}),
    );
    assert_eq!(
        c["fixedAmount"],
        json!({"amount": 500, "currencyCode": "JPY", "precision": 0})
    );
}

#[test]
fn list_pages_filters_and_sorts() {
    let s = Server::start();
    create(&s, percent20());
    create(&s, fixed5());
    let mut off = percent20();
    off["code"] = json!("OFF");
    off["name"] = json!("Archived promo");
    off["enabled"] = json!(false);
    create(&s, off);

    let r = s.get("/coupons");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 3})
    );
    let codes = |path: &str| -> Vec<String> {
        s.get(path).body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes("/coupons"), ["SPRING20", "FIVEOFF", "OFF"]);
    assert_eq!(
        codes("/coupons?order[code]=asc"),
        ["FIVEOFF", "OFF", "SPRING20"]
    );
    assert_eq!(codes("/coupons?order[name]=desc&limit=1"), ["SPRING20"]);
    assert_eq!(codes("/coupons?limit=2&page=2"), ["OFF"]);
    assert_eq!(codes("/coupons?code=fiveoff"), ["FIVEOFF"]);
    assert_eq!(codes("/coupons?type=percentage"), ["SPRING20", "OFF"]);
    assert_eq!(codes("/coupons?frequency=limited"), ["FIVEOFF"]);
    assert_eq!(codes("/coupons?enabled=false"), ["OFF"]);
    assert_eq!(total(&s, "/coupons?enabled=true"), 2);
    assert_eq!(s.get("/coupons?limit=0").body["data"], json!([]));
    for bad in [
        "limit=101",
        "page=0",
        "limit=-1",
        "type=gift",
        "frequency=daily",
        "enabled=maybe",
        "order[code]=up",
    ] {
        assert_problem(&s.get(&format!("/coupons?{bad}")), 400);
    }
}

#[test]
fn replace_a_coupon() {
    let s = Server::start();
    let c = create(&s, percent20());
    let path = format!("/coupons/{}", id(&c));
    let r = s.put(&path, &fixed5());
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["code"], "FIVEOFF");
    assert_eq!(r.body["type"], "fixed_amount");
    assert_eq!(r.body["percentage"], Value::Null);
    assert_eq!(r.body["fixedAmount"]["amount"], 500);
    assert_eq!(r.body["frequencyInterval"], 3);
    assert_eq!(r.body["createdAt"], c["createdAt"]);
    assert_eq!(s.get(&path).body, r.body);

    // A GET echoed back (Money object and read-only keys included) is a valid PUT body.
    let mut echoed = r.body.clone();
    echoed["name"] = json!("Renamed");
    let r = s.put(&path, &echoed);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.body["fixedAmount"]["amount"], 500);

    // `enabled` keeps its value unless sent; optional fields not sent go back to defaults.
    s.act("PUT", &format!("{path}/toggle"));
    let mut body = fixed5();
    body["maxRedemptions"] = json!(5);
    let r = s.put(&path, &body);
    assert_eq!(
        (r.body["enabled"].clone(), r.body["maxRedemptions"].clone()),
        (json!(false), json!(5))
    );
    let r = s.put(&path, &fixed5());
    assert_eq!(r.body["maxRedemptions"], Value::Null);
    body["enabled"] = json!(true);
    assert_eq!(s.put(&path, &body).body["enabled"], true);

    // Its own code is not "taken"; another coupon's code is, in any case.
    create(&s, percent20());
    let mut taken = fixed5();
    taken["code"] = json!("spring20");
    let before = s.get(&path).body;
    let r = s.put(&path, &taken);
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["code"]);
    let r = s.put(&path, &json!({"name": "only"}));
    assert_eq!(r.violation_paths(), ["code", "type", "frequency"]);
    assert_eq!(s.get(&path).body, before);
    assert_eq!(
        events(&s, &id(&c)),
        [
            "coupon.created",
            "coupon.updated",
            "coupon.updated",
            "coupon.toggled",
            "coupon.updated",
            "coupon.updated",
            "coupon.updated"
        ]
    );
    assert_problem(&s.put("/coupons/nope", &fixed5()), 404);
    assert_problem(&s.put("/coupons/nope", &json!({})), 404);
}

#[test]
fn toggle_flips_enabled() {
    let s = Server::start();
    let c = create(&s, percent20());
    let path = format!("/coupons/{}/toggle", id(&c));
    let r = s.act("PUT", &path);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enabled"], false);
    assert_eq!(
        s.get(&format!("/coupons/{}", id(&c))).body["enabled"],
        false
    );
    assert_eq!(s.act("PUT", &path).body["enabled"], true);
    assert_eq!(
        events(&s, &id(&c)),
        ["coupon.created", "coupon.toggled", "coupon.toggled"]
    );
    assert_problem(&s.act("PUT", "/coupons/nope/toggle"), 404);
}

#[test]
fn delete_hides_the_coupon_and_frees_its_code() {
    let s = Server::start();
    let c = create(&s, percent20());
    let path = format!("/coupons/{}", id(&c));
    let r = s.delete(&path);
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_problem(&s.get(&path), 404);
    assert_problem(&s.put(&path, &percent20()), 404);
    assert_problem(&s.act("PUT", &format!("{path}/toggle")), 404);
    assert_problem(&s.delete(&path), 404);
    assert_eq!(total(&s, "/coupons"), 0);
    assert_eq!(events(&s, &id(&c)), ["coupon.created", "coupon.deleted"]);
    // The row stays for discounts already applied; the code may be used again.
    let kept: i64 = s
        .db()
        .query_row(
            "SELECT count(*) FROM coupons WHERE id = ?1",
            [id(&c)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1);
    let again = create(&s, percent20());
    assert_ne!(id(&again), id(&c));
    assert_problem(&s.delete("/coupons/nope"), 404);
}

#[test]
fn scopes_and_authentication() {
    let s = Server::start();
    let c = create(&s, percent20());
    let one = format!("/coupons/{}", id(&c));
    let toggle = format!("{one}/toggle");
    let endpoints = [
        ("POST", "/coupons", Some(fixed5())),
        ("GET", "/coupons", None),
        ("GET", one.as_str(), None),
        ("PUT", one.as_str(), Some(fixed5())),
        ("PUT", toggle.as_str(), None),
        ("DELETE", one.as_str(), None),
    ];
    for (method, path, body) in &endpoints {
        assert_problem(&s.send(method, path, None, body.as_ref(), &[]), 401);
        assert_problem(
            &s.send(method, path, Some("bogus"), body.as_ref(), &[]),
            401,
        );
    }
    let ro = s.token_with_role("read-only");
    for (method, path, body) in &endpoints {
        let r = s.send_as(&ro, method, path, body.as_ref());
        if *method == "GET" {
            assert_eq!(r.status, 200, "{method} {path}");
        } else {
            assert_problem(&r, 403);
            assert!(r.body["detail"].as_str().unwrap().contains("coupon:write"));
        }
    }
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    for path in ["/coupons", one.as_str()] {
        let r = s.get_as(&none, path);
        assert_problem(&r, 403);
        assert!(r.body["detail"].as_str().unwrap().contains("coupon:read"));
    }
    // Nothing changed through the refused writes.
    assert_eq!(s.get(&one).body, c);
    assert_eq!(total(&s, "/coupons"), 1);
    // The accounting role may write coupons.
    let accounting = s.token_with_role("accounting");
    let r = s.send_as(&accounting, "PUT", &toggle, None);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn coupons_are_isolated_per_tenant() {
    let s = Server::start();
    let (other_id, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let ours = create(&s, percent20());
    let one = format!("/coupons/{}", id(&ours));
    assert_eq!(
        s.get_as(&other, "/coupons").body["meta"]["pagination"]["totalItems"],
        0
    );
    assert_problem(&s.get_as(&other, &one), 404);
    assert_problem(&s.send_as(&other, "PUT", &one, Some(&fixed5())), 404);
    assert_problem(
        &s.send_as(&other, "PUT", &format!("{one}/toggle"), None),
        404,
    );
    assert_problem(&s.send_as(&other, "DELETE", &one, None), 404);
    assert_eq!(s.get(&one).body, ours);
    assert_eq!(events(&s, &id(&ours)), ["coupon.created"]);

    // Codes are unique per tenant only; products of another tenant do not exist here.
    let r = s.send_as(&other, "POST", "/coupons", Some(&percent20()));
    assert_eq!(r.status, 201, "{}", r.text);
    let theirs = product(&s, &other_id, "theirs");
    let mut body = fixed5();
    body["products"] = json!([theirs]);
    let r = s.post("/coupons", &body);
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["products[0]"]);
    let r = s.send_as(&other, "POST", "/coupons", Some(&body));
    assert_eq!(r.status, 201, "{}", r.text);
}
