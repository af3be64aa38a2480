//! Price plans: create and read every model with Money shapes and defaults, validation naming
//! every field (tier rules included), archive and showArchived, filters. Calculations are in
//! `price_plans/calculate.rs`; the in-use freeze, permissions and isolation in `guards.rs`.

mod calculate;
mod guards;

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// A product row straight in the database, so these tests do not depend on the products API.
pub fn product(s: &Server, tenant: &str, kind: &str, archived: bool) -> String {
    let id = fresh_id();
    s.db()
        .execute(
            "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                                   is_archived, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'Cloud Storage',
                     (SELECT id FROM measurements WHERE tenant_id = ?2 AND code = 'quantity'),
                     (SELECT id FROM tax_groups WHERE tenant_id = ?2 AND type = 'standard'),
                     ?4, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
            rusqlite::params![id, tenant, kind, archived],
        )
        .expect("product");
    id
}

pub fn customer(s: &Server, tenant: &str) -> String {
    let id = fresh_id();
    s.db()
        .execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
             VALUES (?1, ?2, ?1, ?1 || '@example.test', '2026-01-01T00:00:00+00:00',
                     '2026-01-01T00:00:00+00:00')",
            rusqlite::params![id, tenant],
        )
        .expect("customer");
    id
}

fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "0190a000-0000-7000-8000-{:012x}",
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The guide's tiers: 1–10 @ 10.00, 11–50 @ 8.00, 51+ @ 6.00 (reference 10 §5.4).
pub fn guide_tiers() -> Value {
    json!([{"from": 1, "to": 10, "unitPrice": "10.00"},
           {"from": 11, "to": 50, "unitPrice": "8.00"},
           {"from": 51, "to": null, "unitPrice": "6.00"}])
}

/// Creates a plan (monthly, EUR unless `extra` says otherwise) and returns its body.
pub fn create(s: &Server, product: &str, extra: Value) -> Value {
    let mut body = json!({"product": product, "currencyCode": "EUR", "billingInterval": "1M"});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let r = s.post("/price-plans", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub fn money(amount: i64, precision: u32) -> Value {
    json!({"amount": amount, "currencyCode": "EUR", "precision": precision})
}

pub fn outbox(s: &Server, id: &str) -> Vec<String> {
    let conn = s.db();
    let mut stmt = conn
        .prepare("SELECT event_type FROM outbox WHERE object_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([id], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn creates_with_defaults_and_the_read_shape() {
    let s = Server::start();
    let p = product(&s, &s.tenant_id, "product", false);
    let plan = create(
        &s,
        &p,
        json!({"type": "per_unit", "price": {"amount": "9.99"}}),
    );
    assert_eq!(plan["product"], p.as_str());
    assert_eq!(plan["type"], "per_unit");
    assert_eq!(plan["status"], "active");
    assert_eq!(plan["billingInterval"], "1M");
    assert_eq!(plan["price"]["amount"], money(999, 2));
    assert_eq!(plan["price"]["tenantId"], s.tenant_id.as_str());
    assert!(plan["price"]["createdAt"].is_string() && plan["price"]["percentage"].is_null());
    assert_eq!(plan["tiers"], json!([]));
    for (key, default) in [
        ("payInAdvance", json!(true)),
        ("proRata", json!(true)),
        ("applyTrial", json!(true)),
        ("trialDays", json!(0)),
        ("freeUnits", json!(0)),
        ("custom", json!(false)),
        ("inUse", json!(false)),
        ("customer", json!(null)),
        ("internalName", json!(null)),
        ("charge", json!(null)),
        ("checkoutLinkIds", json!([])),
    ] {
        assert_eq!(plan[key], default, "{key}");
    }
    let id = plan["id"].as_str().unwrap();
    let r = s.get(&format!("/price-plans/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, plan);

    // Unit-price precision: 0.0025 EUR keeps 4 digits; tier prices likewise.
    let sub_cent = create(
        &s,
        &p,
        json!({"type": "per_unit", "price": {"amount": "0.0025"}}),
    );
    assert_eq!(sub_cent["price"]["amount"], money(25, 4));
    let tiered = create(&s, &p, json!({"type": "tiered", "tiers": guide_tiers()}));
    assert_eq!(tiered["price"], json!(null));
    assert_eq!(
        tiered["tiers"][2],
        json!({"from": 51, "to": null, "unitPrice": money(600, 2), "flatAmount": money(0, 2)})
    );
    let pct = create(
        &s,
        &p,
        json!({"type": "percentage", "price": {"percentage": "2.5"}}),
    );
    assert_eq!(pct["price"]["percentage"], "2.5");
    assert!(pct["price"].get("amount").is_none());

    // Every optional field, a customer-specific price, and a one-time charge.
    let c = customer(&s, &s.tenant_id);
    let charge = product(&s, &s.tenant_id, "charge", false);
    let full = create(
        &s,
        &p,
        json!({"type": "flat_fee", "price": {"amount": "49"}, "internalName": "Partners",
            "payInAdvance": false, "proRata": false, "applyTrial": false, "trialDays": 14,
            "freeUnits": 3, "showPricePerInterval": "1M", "salesChannel": {"name": "web"},
            "customer": c, "charge": charge,
            "productSetOption": "0190a000-0000-7000-8000-ffffffffffff", "billingInterval": "1Y"}),
    );
    assert_eq!(full["custom"], true);
    assert_eq!(full["customer"], c.as_str());
    assert_eq!(full["price"]["amount"], money(4900, 2));
    assert_eq!(
        (&full["payInAdvance"], &full["proRata"], &full["applyTrial"]),
        (&json!(false), &json!(false), &json!(false))
    );
    assert_eq!(
        (&full["trialDays"], &full["freeUnits"]),
        (&json!(14), &json!(3))
    );
    assert_eq!(full["salesChannel"], json!({"name": "web"}));
    assert_eq!(full["charge"], charge.as_str());
    let once = create(
        &s,
        &charge,
        json!({"type": "flat_fee", "price": {"amount": "99.00"}, "billingInterval": null}),
    );
    assert_eq!(once["billingInterval"], json!(null));
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/price-plans", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["product", "type", "currencyCode"]);

    let p = product(&s, &s.tenant_id, "product", false);
    let archived = product(&s, &s.tenant_id, "product", true);
    let charge = product(&s, &s.tenant_id, "charge", false);
    let cases = [
        (
            json!({"product": "nope", "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": "1"}}),
            vec!["product"],
        ),
        (
            json!({"product": archived, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": "1"}}),
            vec!["product"],
        ),
        // Recurring products need an interval; charges must not have one.
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EUR",
            "price": {"amount": "1"}}),
            vec!["billingInterval"],
        ),
        (
            json!({"product": charge, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": "1"}}),
            vec!["billingInterval"],
        ),
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EURO",
            "billingInterval": "0M", "price": {"amount": "1"}}),
            vec!["currencyCode", "billingInterval"],
        ),
        (
            json!({"product": p, "type": "monthly", "currencyCode": "EUR",
            "billingInterval": "1M"}),
            vec!["type"],
        ),
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M"}),
            vec!["price"],
        ),
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": 9.99}}),
            vec!["price.amount"],
        ),
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": "-1"}}),
            vec!["price.amount"],
        ),
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": "0.00000000001"}}),
            vec!["price.amount"],
        ),
        (
            json!({"product": p, "type": "per_unit", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"amount": "1", "x": 1}, "tiers": guide_tiers()}),
            vec!["tiers", "price.x"],
        ),
        (
            json!({"product": p, "type": "percentage", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"percentage": "100.5"}}),
            vec!["price.percentage"],
        ),
        (
            json!({"product": p, "type": "percentage", "currencyCode": "EUR",
            "billingInterval": "1M", "price": {"percentage": "0"}}),
            vec!["price.percentage"],
        ),
        (
            json!({"product": p, "type": "tiered", "currencyCode": "EUR", "billingInterval": "1M",
            "price": {"amount": "1"}, "tiers": guide_tiers()}),
            vec!["price"],
        ),
        (
            json!({"product": p, "type": "volume", "currencyCode": "EUR", "billingInterval": "1M"}),
            vec!["tiers"],
        ),
        (
            json!({"product": p, "type": "flat_fee", "currencyCode": "EUR", "billingInterval": "1M",
            "price": {"amount": "1"}, "customer": "nope", "charge": p, "trialDays": -1,
            "freeUnits": "1", "productSetOption": "x", "showPricePerInterval": "1Q", "bogus": 1}),
            vec![
                "bogus",
                "freeUnits",
                "trialDays",
                "showPricePerInterval",
                "customer",
                "charge",
                "productSetOption",
            ],
        ),
    ];
    for (body, paths) in cases {
        let r = s.post("/price-plans", &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), paths, "{body}");
    }
    assert_eq!(
        s.get("/price-plans").body["meta"]["pagination"]["totalItems"],
        0
    );
}

#[test]
fn tier_rules_name_tiers_from_and_to() {
    let s = Server::start();
    let p = product(&s, &s.tenant_id, "product", false);
    let post = |tiers: Value| {
        s.post(
            "/price-plans",
            &json!({"product": p, "type": "tiered", "currencyCode": "EUR",
                "billingInterval": "1M", "tiers": tiers}),
        )
    };
    let cases = [
        // Starts at 2; a gap 10 -> 12; an open tier in the middle; a closed last tier.
        (
            json!([{"from": 2, "to": 10}, {"from": 12, "to": null}, {"from": 51, "to": 60}]),
            vec![
                "tiers[0].from",
                "tiers[1].from",
                "tiers[1].to",
                "tiers[2].to",
            ],
        ),
        // Overlap: 11–50 then 50+.
        (
            json!([{"from": 1, "to": 10}, {"from": 11, "to": 50}, {"from": 50, "to": null}]),
            vec!["tiers[2].from"],
        ),
        // to below from.
        (
            json!([{"from": 1, "to": 10}, {"from": 11, "to": 5}, {"from": 6}]),
            vec!["tiers[1].to"],
        ),
        // Field types: from missing, from 0, to as string, prices as numbers, unknown key.
        (
            json!([{"to": 10}, {"from": 0, "to": "50"}, {"from": 51, "unitPrice": 6, "flatAmount": "x",
            "step": 1}]),
            vec![
                "tiers[0].from",
                "tiers[1].from",
                "tiers[1].to",
                "tiers[2].step",
                "tiers[2].unitPrice",
                "tiers[2].flatAmount",
            ],
        ),
        (json!([]), vec!["tiers"]),
        (json!([5]), vec!["tiers[0]"]),
    ];
    for (tiers, paths) in cases {
        let r = post(tiers.clone());
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), paths, "{tiers}");
    }
    // Absent `to` is the open end; absent prices are 0.
    let r = post(json!([{"from": 1, "to": 10, "flatAmount": "50.00"}, {"from": 11}]));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["tiers"][1]["to"], json!(null));
    assert_eq!(r.body["tiers"][0]["unitPrice"], money(0, 2));
}

#[test]
fn archive_hides_from_lists_unless_asked() {
    let s = Server::start();
    let p = product(&s, &s.tenant_id, "product", false);
    let plan = create(
        &s,
        &p,
        json!({"type": "flat_fee", "price": {"amount": "10"}}),
    );
    let keep = create(
        &s,
        &p,
        json!({"type": "flat_fee", "price": {"amount": "20"}}),
    );
    let id = plan["id"].as_str().unwrap();
    let r = s.act("PUT", &format!("/price-plans/{id}/archive"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "archived");
    assert_eq!(outbox(&s, id), ["price_plan.archived"]);
    // Again: same answer, no second event.
    let again = s.act("PUT", &format!("/price-plans/{id}/archive"));
    assert_eq!(
        (again.status, &again.body["status"]),
        (200, &json!("archived"))
    );
    assert_eq!(outbox(&s, id), ["price_plan.archived"]);

    let ids = |path: &str| -> Vec<String> {
        s.get(path).body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("/price-plans"), [keep["id"].as_str().unwrap()]);
    assert_eq!(ids("/price-plans?showArchived=false").len(), 1);
    assert_eq!(ids("/price-plans?showArchived=true").len(), 2);
    assert_problem(&s.get("/price-plans?showArchived=maybe"), 400);
    // Still readable and usable for calculations (existing subscriptions keep billing).
    assert_eq!(
        s.get(&format!("/price-plans/{id}")).body["status"],
        "archived"
    );
    let calc = s.post(
        &format!("/price-plans/{id}/calculate"),
        &json!({"quantity": 1}),
    );
    assert_eq!(calc.body["netAmount"], money(1000, 2));
}

#[test]
fn list_filters_and_pagination() {
    let s = Server::start();
    let a = product(&s, &s.tenant_id, "product", false);
    let b = product(&s, &s.tenant_id, "product", false);
    let c = customer(&s, &s.tenant_id);
    create(
        &s,
        &a,
        json!({"type": "flat_fee", "price": {"amount": "1"}}),
    );
    create(&s, &a, json!({"type": "tiered", "tiers": guide_tiers()}));
    create(
        &s,
        &b,
        json!({"type": "per_unit", "price": {"amount": "1"}, "customer": c}),
    );
    let total = |q: &str| {
        let r = s.get(&format!("/price-plans{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        r.body["meta"]["pagination"]["totalItems"].as_i64().unwrap()
    };
    assert_eq!(total(""), 3);
    assert_eq!(total(&format!("?product={a}")), 2);
    assert_eq!(total(&format!("?product={b}")), 1);
    assert_eq!(total(&format!("?customer={c}")), 1);
    assert_eq!(total("?type=tiered"), 1);
    assert_eq!(total("?type[]=tiered&type[]=flat_fee"), 2);
    assert_eq!(total(&format!("?product={a}&type=per_unit")), 0);
    assert_problem(&s.get("/price-plans?type=monthly"), 400);
    let page = s.get("/price-plans?limit=2&page=2");
    assert_eq!(
        page.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 2, "currentPage": 2, "lastPage": 2, "pageTotalItems": 1})
    );
    let desc = s.get("/price-plans?order[createdAt]=desc").body;
    assert_eq!(desc["data"][0]["type"], "per_unit");
}
