//! Guards around price plans: the in-use freeze (409, name changes only), 401/403 with the
//! missing scope named, 404 for unknown ids, and tenant isolation on every `{id}` endpoint.

use super::{create, customer, guide_tiers, money, outbox, product};
use crate::common::{assert_problem, Server};
use serde_json::json;

#[test]
fn in_use_plans_only_change_their_name() {
    let s = Server::start();
    let p = product(&s, &s.tenant_id, "product", false);
    let plan = create(&s, &p, json!({"type": "tiered", "tiers": guide_tiers()}));
    let id = plan["id"].as_str().unwrap().to_string();
    let path = format!("/price-plans/{id}");

    // Not in use: anything may change (PUT replaces the writable fields).
    let mut body = plan.clone();
    body["type"] = json!("volume");
    body["tiers"][0]["unitPrice"] = json!("11.00");
    let r = s.put(&path, &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["type"], "volume");
    assert_eq!(r.body["tiers"][0]["unitPrice"], money(1100, 2));

    // Subscriptions set the flag (store::mark_in_use); here straight in the database.
    s.db()
        .execute("UPDATE price_plans SET in_use = 1 WHERE id = ?1", [&id])
        .unwrap();
    let current = s.get(&path).body;
    assert_eq!(current["inUse"], true);
    // The read shape sent back with a new name (Money objects echoed): 200.
    let mut rename = current.clone();
    rename["internalName"] = json!("Legacy 2025");
    let r = s.put(&path, &rename);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["internalName"], "Legacy 2025");
    // The same value written another way ("11.0" = 11.00) is no change either.
    let mut same = rename.clone();
    same["tiers"][0]["unitPrice"] = json!("11.0");
    assert_eq!(s.put(&path, &same).status, 200);
    // Any term: 409, nothing stored.
    for (key, value) in [
        ("billingInterval", json!("3M")),
        ("proRata", json!(false)),
        ("type", json!("tiered")),
        ("tiers", json!([{"from": 1, "unitPrice": "5.00"}])),
    ] {
        let mut changed = rename.clone();
        changed[key] = value;
        assert_problem(&s.put(&path, &changed), 409);
    }
    let after = s.get(&path).body;
    assert_eq!(after["tiers"], current["tiers"]);
    assert_eq!(after["type"], "volume");
    // Validation still comes first.
    let mut invalid = rename.clone();
    invalid["currencyCode"] = json!("XXXX");
    assert_problem(&s.put(&path, &invalid), 422);
    // Money echo in another currency is refused.
    let mut wrong = rename;
    wrong["tiers"][0]["unitPrice"] = json!({"amount": 1100, "currencyCode": "USD", "precision": 2});
    let r = s.put(&path, &wrong);
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["tiers[0].unitPrice"]);
}

#[test]
fn permissions_and_unknown_ids() {
    let s = Server::start();
    let p = product(&s, &s.tenant_id, "product", false);
    let plan = create(
        &s,
        &p,
        json!({"type": "flat_fee", "price": {"amount": "10"}}),
    );
    let id = plan["id"].as_str().unwrap();
    let body = json!({"product": p, "type": "flat_fee", "currencyCode": "EUR",
        "billingInterval": "1M", "price": {"amount": "12"}});

    assert_problem(&s.send("GET", "/price-plans", None, None, &[]), 401);
    assert_problem(&s.send("POST", "/price-plans", None, Some(&body), &[]), 401);
    assert_problem(
        &s.send(
            "GET",
            &format!("/price-plans/{id}"),
            Some("nope"),
            None,
            &[],
        ),
        401,
    );

    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/price-plans").status, 200);
    assert_eq!(s.get_as(&ro, &format!("/price-plans/{id}")).status, 200);
    let calc = s.send_as(
        &ro,
        "POST",
        &format!("/price-plans/{id}/calculate"),
        Some(&json!({"quantity": 1})),
    );
    assert_eq!(calc.status, 200, "{}", calc.text);
    for (method, path, body) in [
        ("POST", "/price-plans".to_string(), Some(&body)),
        ("PUT", format!("/price-plans/{id}"), Some(&body)),
        ("PUT", format!("/price-plans/{id}/archive"), None),
    ] {
        let r = s.send_as(&ro, method, &path, body);
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("price-plan:write"),
            "{}",
            r.text
        );
    }
    assert_eq!(s.get(&format!("/price-plans/{id}")).body, plan);

    for missing in ["0190a000-0000-7000-8000-000000000000", "not-a-uuid"] {
        assert_problem(&s.get(&format!("/price-plans/{missing}")), 404);
        assert_problem(&s.put(&format!("/price-plans/{missing}"), &body), 404);
        assert_problem(
            &s.act("PUT", &format!("/price-plans/{missing}/archive")),
            404,
        );
        assert_problem(
            &s.post(
                &format!("/price-plans/{missing}/calculate"),
                &json!({"quantity": 1}),
            ),
            404,
        );
    }
}

#[test]
fn tenants_are_isolated() {
    let s = Server::start();
    let p = product(&s, &s.tenant_id, "product", false);
    let plan = create(
        &s,
        &p,
        json!({"type": "flat_fee", "price": {"amount": "10"}}),
    );
    let id = plan["id"].as_str().unwrap();
    let (other_tenant, other) = s.new_tenant("Other GmbH", "admin@other.test");
    let theirs = product(&s, &other_tenant, "product", false);
    let body = json!({"product": theirs, "type": "flat_fee", "currencyCode": "EUR",
        "billingInterval": "1M", "price": {"amount": "1"}});

    assert_problem(&s.get_as(&other, &format!("/price-plans/{id}")), 404);
    assert_problem(
        &s.send_as(&other, "PUT", &format!("/price-plans/{id}"), Some(&body)),
        404,
    );
    assert_problem(
        &s.send_as(&other, "PUT", &format!("/price-plans/{id}/archive"), None),
        404,
    );
    assert_problem(
        &s.send_as(
            &other,
            "POST",
            &format!("/price-plans/{id}/calculate"),
            Some(&json!({"quantity": 1})),
        ),
        404,
    );
    assert_eq!(
        s.get_as(&other, "/price-plans").body["meta"]["pagination"]["totalItems"],
        0
    );
    assert_eq!(s.get(&format!("/price-plans/{id}")).body, plan);
    assert!(outbox(&s, id).is_empty());

    // Another tenant's product or customer does not exist for this tenant.
    let their_customer = customer(&s, &other_tenant);
    let mut cross = body.clone();
    cross["customer"] = json!(their_customer);
    let r = s.post("/price-plans", &cross);
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["product", "customer"]);
    // The other tenant can use its own product.
    let r = s.send_as(&other, "POST", "/price-plans", Some(&body));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        s.get("/price-plans").body["meta"]["pagination"]["totalItems"],
        1
    );
}
