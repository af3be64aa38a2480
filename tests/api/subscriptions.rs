//! Subscriptions: shared fixtures, create (defaults, trial from the plan, coupons, month-end
//! anchoring), validation naming every field, read and list filters. The state machine is in
//! `subscriptions/lifecycle.rs`, activating selected items in `activate.rs`, cancellation in
//! `cancel.rs`, permissions and tenant isolation in `access.rs`.

mod access;
mod activate;
mod cancel;
mod lifecycle;

use crate::common::{assert_problem, Server};
use chrono::{Days, Months, NaiveDate};
use serde_json::{json, Value};

/// Today in the tenant's (default) time zone, as the server computes it.
pub fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
}

pub fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn plus_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap()
}

pub fn minus_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n)).unwrap()
}

pub fn plus_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap()
}

/// A product and an active monthly 30.00 EUR plan for it (`extra` overrides plan keys).
pub fn plan(s: &Server, extra: Value) -> (String, String) {
    let product = crate::price_plans::product(s, &s.tenant_id, "product", false);
    let mut body = json!({"type": "flat_fee", "price": {"amount": "30.00"}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let p = crate::price_plans::create(s, &product, body);
    (product, p["id"].as_str().unwrap().to_string())
}

/// A customer through the API (with a default address).
pub fn customer(s: &Server) -> Value {
    crate::invoices::customer(s, &s.token, json!({}))
}

/// Creates a draft with one item of `plan_id` for `customer`; `extra` overrides body keys.
pub fn draft(s: &Server, customer: &str, plan_id: &str, extra: Value) -> Value {
    let mut body = json!({"customer": customer, "items": [{"pricePlan": plan_id}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = s.post("/subscriptions", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// A fresh server, customer and plan, and an active subscription created with `extra`.
pub fn active(extra: Value) -> (Server, Value) {
    let s = Server::start();
    let c = customer(&s);
    let (_, p) = plan(&s, json!({}));
    let d = draft(&s, c["id"].as_str().unwrap(), &p, extra);
    let r = s.put(
        &format!("/subscriptions/{}/activate", d["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    (s, r.body)
}

pub fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

pub fn outbox(s: &Server, id: &str) -> Vec<String> {
    crate::price_plans::outbox(s, id)
}

#[test]
fn creates_a_draft_with_defaults_and_numbers() {
    let s = Server::start();
    let c = customer(&s);
    let (product, p) = plan(&s, json!({}));
    let d = draft(
        &s,
        id(&c),
        &p,
        json!({"poNumber": "PO-7", "externalId": "ext-1"}),
    );
    let t = ymd(today());
    assert_eq!(d["status"], "draft");
    assert_eq!(d["number"], "S-00000001");
    assert_eq!(d["customer"]["id"], c["id"]);
    assert_eq!(d["contractDetails"]["contractStart"], t);
    assert_eq!(d["contractDetails"]["billingStart"], t);
    assert_eq!(d["contractDetails"]["contractEnd"], Value::Null);
    assert_eq!(d["trialEndsOn"], Value::Null);
    assert_eq!(
        d["nextBillingDate"],
        Value::Null,
        "a draft is not scheduled"
    );
    assert_eq!(d["poNumber"], "PO-7");
    assert_eq!(d["externalId"], "ext-1");
    assert_eq!(d["currencyCode"], "EUR");
    assert_eq!(
        d["name"], "Cloud Storage",
        "defaults to the first item's product name"
    );
    assert_eq!(d["plan"], Value::Null);
    let item = &d["items"][0];
    assert_eq!(item["status"], "pending");
    assert_eq!(item["product"]["id"], product);
    assert_eq!(item["pricePlan"]["id"], p);
    assert_eq!(item["quantity"], json!(1));
    assert_eq!(item["billing"]["billingInterval"], "1M");
    assert_eq!(item["inheritedPeriod"], true);
    let second = draft(&s, id(&c), &p, json!({}));
    assert_eq!(second["number"], "S-00000002");
    assert_eq!(outbox(&s, id(&d)), vec!["subscription.created"]);
    // The plan is now in use: its terms are frozen.
    let in_use: bool = s
        .db()
        .query_row("SELECT in_use FROM price_plans WHERE id = ?1", [&p], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(in_use);
    assert_eq!(s.get(&format!("/subscriptions/{}", id(&d))).body, d);
}

#[test]
fn trial_comes_from_the_plan() {
    let s = Server::start();
    let c = customer(&s);
    let (_, p) = plan(&s, json!({"trialDays": 14, "applyTrial": true}));
    // trialEndsOn = billingStart + 14 days = the first billable day (1-14 Jan are free).
    let d = draft(
        &s,
        id(&c),
        &p,
        json!({"billingStart": "2026-01-01", "contractStart": "2026-01-01"}),
    );
    assert_eq!(d["trialEndsOn"], "2026-01-15");
    assert_eq!(d["items"][0]["trialEndsOn"], "2026-01-15");
    // trialDays in the body overrides the plan; 0 means no trial.
    let d = draft(
        &s,
        id(&c),
        &p,
        json!({"billingStart": "2026-01-01", "trialDays": 30}),
    );
    assert_eq!(d["trialEndsOn"], "2026-01-31");
    let d = draft(&s, id(&c), &p, json!({"trialDays": 0}));
    assert_eq!(d["trialEndsOn"], Value::Null);
    // Plans with applyTrial false never start a trial.
    let (_, no_trial) = plan(&s, json!({"trialDays": 14, "applyTrial": false}));
    let d = draft(&s, id(&c), &no_trial, json!({"trialDays": 10}));
    assert_eq!(d["trialEndsOn"], Value::Null);
}

#[test]
fn month_end_anchoring_from_january_31() {
    // Billing start 31 Jan, monthly: first period 31 Jan, due on activation at its start (pay
    // in advance); the engine continues 28 Feb, 31 Mar, 30 Apr from the same anchor.
    let (s, sub) = active(json!({"contractStart": "2026-01-31", "billingStart": "2026-01-31"}));
    assert_eq!(sub["items"][0]["billing"]["nextBillingAt"], "2026-01-31");
    assert_eq!(sub["nextBillingDate"], "2026-01-31");
    let anchor: String = s
        .db()
        .query_row("SELECT billing_anchor FROM subscription_items", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(anchor, "2026-01-31");
    // In arrears the first period falls due at its end: 31 Jan + 1M = 28 Feb.
    let c = customer(&s);
    let (_, p) = plan(&s, json!({"payInAdvance": false}));
    let d = draft(&s, id(&c), &p, json!({"billingStart": "2026-01-31"}));
    let a = s
        .put(&format!("/subscriptions/{}/activate", id(&d)), &json!({}))
        .body;
    assert_eq!(a["items"][0]["billing"]["nextBillingAt"], "2026-02-28");
}

#[test]
fn coupon_is_redeemed_with_the_subscription() {
    let s = Server::start();
    let c = customer(&s);
    let (product, p) = plan(&s, json!({}));
    let coupon = s.post(
        "/coupons",
        &json!({"code": "WELCOME", "name": "Welcome", "type": "percentage", "percentage": 10,
                "frequency": "limited", "frequencyInterval": 3, "maxRedemptionsPerCustomer": 1,
                "products": [product]}),
    );
    assert_eq!(coupon.status, 201, "{}", coupon.text);
    let d = draft(&s, id(&c), &p, json!({"couponCode": "welcome"}));
    let applied = &d["items"][0]["appliedDiscounts"][0];
    assert_eq!(applied["coupon"]["code"], "WELCOME");
    assert_eq!(applied["remainingPeriods"], 3);
    assert_eq!(applied["subscriptionItem"], d["items"][0]["id"]);
    let one = s.get(&format!(
        "/subscription-item-applied-discounts/{}",
        id(applied)
    ));
    assert_eq!(one.status, 200);
    assert_eq!(one.body, *applied);
    assert_problem(&s.get("/subscription-item-applied-discounts/nope"), 404);
    // Refusals are 422 on couponCode: once per customer, unknown codes, other products.
    let body = |code: &str, plan: &str| json!({"customer": id(&c), "items": [{"pricePlan": plan}], "couponCode": code});
    let r = s.post("/subscriptions", &body("WELCOME", &p));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["couponCode"]);
    assert_eq!(
        r.body["violations"][0]["code"],
        "coupon_exhausted_for_customer"
    );
    let r = s.post("/subscriptions", &body("NOPE", &p));
    assert_eq!(r.body["violations"][0]["code"], "coupon_not_found");
    let other = customer(&s);
    let (_, other_plan) = plan(&s, json!({}));
    let r = s.post(
        "/subscriptions",
        &json!({"customer": id(&other), "items": [{"pricePlan": other_plan}], "couponCode": "WELCOME"}),
    );
    assert_eq!(r.body["violations"][0]["code"], "coupon_not_applicable");
    // A refused create leaves nothing behind (no subscription number, no redemption).
    let n: i64 = s
        .db()
        .query_row("SELECT count(*) FROM subscriptions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn validation_names_every_field() {
    let s = Server::start();
    let r = s.post("/subscriptions", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["customer", "items"]);
    let c = customer(&s);
    let (product, archived_plan) = plan(&s, json!({}));
    assert_eq!(
        s.act("PUT", &format!("/price-plans/{archived_plan}/archive"))
            .status,
        200
    );
    let (_, good) = plan(&s, json!({}));
    let (_, usd) = plan(&s, json!({"currencyCode": "USD"}));
    let r = s.post(
        "/subscriptions",
        &json!({
            "customer": "nope", "name": "x".repeat(256), "bogus": 1,
            "items": [{"pricePlan": archived_plan}, {"pricePlan": "missing"},
                      {"pricePlan": good, "product": product, "quantity": -1},
                      {"pricePlan": usd, "startDate": "31.01.2026"}],
            "contractStart": "2026-02-30", "billingStart": "soon", "trialDays": -1,
            "periods": {"contractPeriod": "12 months", "cancellationPeriod": "3M", "other": "1M"},
            "customFields": {"undefined": 1}, "billingGroup": "nope"
        }),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    let mut want = vec![
        "bogus",
        "customer",
        "name",
        "billingGroup",
        "items[0].pricePlan",
        "items[1].pricePlan",
        "items[2].product",
        "items[2].quantity",
        "items[3].startDate",
        "contractStart",
        "billingStart",
        "trialDays",
        "periods.contractPeriod",
        "periods.other",
        "customFields.undefined",
    ];
    want.sort();
    assert_eq!(paths, want, "{}", r.text);
    // Mixed currencies; a contract end before the start; an address of another customer.
    let other = customer(&s);
    let address = other["addresses"][0]["id"].as_str().unwrap().to_string();
    let r = s.post(
        "/subscriptions",
        &json!({"customer": id(&c), "items": [{"pricePlan": good}, {"pricePlan": usd}],
                "contractStart": "2026-03-01", "contractEnd": "2026-02-01",
                "invoiceAddress": address}),
    );
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        vec!["contractEnd", "invoiceAddress", "items"],
        "{}",
        r.text
    );
}

#[test]
fn list_filters_and_order() {
    let s = Server::start();
    let (a, b) = (customer(&s), customer(&s));
    let (product, p) = plan(&s, json!({}));
    let (_, q) = plan(&s, json!({}));
    let s1 = draft(
        &s,
        id(&a),
        &p,
        json!({"name": "Alpha hosting", "trialDays": 0}),
    );
    let s2 = draft(&s, id(&b), &q, json!({"name": "Beta"}));
    assert_eq!(
        s.put(&format!("/subscriptions/{}/activate", id(&s2)), &json!({}))
            .status,
        200
    );
    let ids = |path: &str| -> Vec<String> {
        let r = s.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (i1, i2) = (id(&s1).to_string(), id(&s2).to_string());
    // Both were created within the same second: make the creation order unambiguous.
    s.db()
        .execute(
            "UPDATE subscriptions SET created_at = '2026-01-01T00:00:00+00:00' WHERE id = ?1",
            [&i1],
        )
        .unwrap();
    assert_eq!(ids("/subscriptions"), vec![i1.clone(), i2.clone()]);
    assert_eq!(
        ids(&format!("/subscriptions?customer={}", id(&a))),
        vec![i1.clone()]
    );
    assert_eq!(ids("/subscriptions?status=active"), vec![i2.clone()]);
    assert_eq!(
        ids("/subscriptions?status[]=active&status[]=draft").len(),
        2
    );
    assert_eq!(
        ids(&format!("/subscriptions?items.product.id={product}")),
        vec![i1.clone()]
    );
    assert_eq!(ids("/subscriptions?number=S-00000002"), vec![i2.clone()]);
    assert_eq!(ids(&format!("/subscriptions?id={i1}")), vec![i1.clone()]);
    assert_eq!(ids("/subscriptions?search=alpha"), vec![i1.clone()]);
    assert_eq!(ids("/subscriptions?partner=x"), Vec::<String>::new());
    assert_eq!(
        ids("/subscriptions?order[createdAt]=desc"),
        vec![i2.clone(), i1.clone()]
    );
    assert_eq!(
        ids("/subscriptions?order[status]=asc"),
        vec![i2.clone(), i1.clone()]
    );
    assert_eq!(
        ids("/subscriptions?order[activatedAt]=desc"),
        vec![i2.clone(), i1.clone()]
    );
    assert_eq!(
        ids("/subscriptions?order[contractDetails.contractEnd]=asc").len(),
        2
    );
    assert_eq!(ids("/subscriptions?order[trialEndsOn]=asc").len(), 2);
    assert_problem(&s.get("/subscriptions?status=canceled"), 400);
    assert_problem(&s.get("/subscriptions?order[bogus]=asc"), 400);
    let r = s.get("/subscriptions?limit=1&page=2");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 2);
    assert_eq!(r.body["data"][0]["id"], i2);
}

#[test]
fn update_changes_the_keys_sent() {
    let s = Server::start();
    let c = customer(&s);
    let (_, p) = plan(&s, json!({}));
    let d = draft(&s, id(&c), &p, json!({"poNumber": "A"}));
    let path = format!("/subscriptions/{}", id(&d));
    let r = s.patch(
        &path,
        &json!({"name": "Renamed", "periods": {"contractPeriod": "12M"},
                                   "billingStart": "2026-05-31"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.body["poNumber"], "A");
    assert_eq!(r.body["periods"][0]["laterContractPeriod"], "12M");
    assert_eq!(r.body["contractDetails"]["billingStart"], "2026-05-31");
    assert_eq!(r.body["items"][0]["billingStart"], "2026-05-31");
    assert_problem(
        &s.patch(&path, &json!({"periods": {"contractPeriod": "1X"}})),
        422,
    );
    assert_eq!(s.put(&format!("{path}/activate"), &json!({})).status, 200);
    // After activation the schedule-shaping dates are fixed.
    assert_problem(
        &s.patch(&path, &json!({"contractStart": "2026-01-01"})),
        409,
    );
    assert_eq!(
        s.patch(&path, &json!({"poNumber": null})).body["poNumber"],
        Value::Null
    );
    assert!(outbox(&s, id(&d)).contains(&"subscription.updated".to_string()));
}
