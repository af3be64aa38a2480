//! `POST /price-plans/{id}/calculate`: the worked examples of reference 10 §5.4 for every model,
//! sub-cent prices and JPY, quantity validation, and proration over part of one period.

use super::{create, guide_tiers, product};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn money(amount: i64, precision: u32) -> Value {
    json!({"amount": amount, "currencyCode": "EUR", "precision": precision})
}

/// A plan of a fresh recurring product; returns its id.
fn plan(s: &Server, extra: Value) -> String {
    let p = product(s, &s.tenant_id, "product", false);
    create(s, &p, extra)["id"].as_str().unwrap().to_string()
}

fn calc(s: &Server, id: &str, body: Value) -> Value {
    let r = s.post(&format!("/price-plans/{id}/calculate"), &body);
    assert_eq!(r.status, 200, "{body}: {}", r.text);
    r.body
}

/// `(quantity, netAmount.amount)` of each line.
fn lines(c: &Value) -> Vec<(String, i64)> {
    c["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["quantity"].as_str().unwrap().to_string(),
                l["netAmount"]["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_guides_worked_examples() {
    let s = Server::start();
    // Per unit: 5.00 × 10 = 50.00
    let id = plan(&s, json!({"type": "per_unit", "price": {"amount": "5.00"}}));
    let c = calc(&s, &id, json!({"quantity": 10}));
    assert_eq!(c["netAmount"], money(5000, 2));
    assert_eq!(
        c["lines"],
        json!([{"type": "units", "tier": null, "quantity": "10", "unitPrice": money(500, 2),
            "netAmount": money(5000, 2)}])
    );
    assert_eq!(
        (&c["type"], &c["currencyCode"]),
        (&json!("per_unit"), &json!("EUR"))
    );
    assert_eq!(c["period"], json!(null));

    // Tiered: 10 × 10.00 + 40 × 8.00 + 10 × 6.00 = 100.00 + 320.00 + 60.00 = 480.00
    let id = plan(&s, json!({"type": "tiered", "tiers": guide_tiers()}));
    let c = calc(&s, &id, json!({"quantity": 60}));
    assert_eq!(c["netAmount"], money(48000, 2));
    assert_eq!(c["netAmountExact"], "480.00");
    assert_eq!(
        lines(&c),
        [
            ("10".into(), 10000),
            ("40".into(), 32000),
            ("10".into(), 6000)
        ]
    );
    assert_eq!(c["lines"][1]["tier"], 1);

    // Volume: 60 × 6.00 = 360.00
    let id = plan(&s, json!({"type": "volume", "tiers": guide_tiers()}));
    let c = calc(&s, &id, json!({"quantity": 60}));
    assert_eq!(c["netAmount"], money(36000, 2));
    assert_eq!(lines(&c), [("60".into(), 36000)]);
    assert_eq!(c["lines"][0]["tier"], 2);

    // Stair step: 1–10 = 50.00, 11–50 = 150.00, 51+ = 300.00; 60 units -> 300.00
    let stairs = json!([{"from": 1, "to": 10, "flatAmount": "50.00"},
        {"from": 11, "to": 50, "flatAmount": "150.00"}, {"from": 51, "to": null, "flatAmount": "300.00"}]);
    let id = plan(&s, json!({"type": "stair_step", "tiers": stairs}));
    let c = calc(&s, &id, json!({"quantity": 60}));
    assert_eq!(c["netAmount"], money(30000, 2));
    assert_eq!(
        c["lines"],
        json!([{"type": "flat", "tier": 2, "quantity": "1", "unitPrice": money(30000, 2),
            "netAmount": money(30000, 2)}])
    );
    // 0 units: no step, 0.00 (kontor).
    let c = calc(&s, &id, json!({"quantity": 0}));
    assert_eq!((&c["netAmount"], &c["lines"]), (&money(0, 2), &json!([])));

    // Percentage: 2.5 % of 12,000.00 = 12,000.00 × 0.025 = 300.00
    let id = plan(
        &s,
        json!({"type": "percentage", "price": {"percentage": "2.5"}}),
    );
    let c = calc(&s, &id, json!({"quantity": "12000.00"}));
    assert_eq!(c["netAmount"], money(30000, 2));
    assert_eq!(c["lines"][0]["type"], "percentage");
    assert_eq!(c["lines"][0]["unitPrice"], money(25, 3));

    // Free units: per unit 5.00, 1 free, 10 units: 9 × 5.00 = 45.00
    let id = plan(
        &s,
        json!({"type": "per_unit", "price": {"amount": "5.00"}, "freeUnits": 1}),
    );
    let c = calc(&s, &id, json!({"quantity": 10}));
    assert_eq!(c["netAmount"], money(4500, 2));
    assert_eq!(
        (&c["quantity"], &c["freeUnits"], &c["chargeableQuantity"]),
        (&json!("10"), &json!(1), &json!("9"))
    );

    // Flat fee: 29.99 whatever the quantity.
    let id = plan(
        &s,
        json!({"type": "flat_fee", "price": {"amount": "29.99"}}),
    );
    assert_eq!(
        calc(&s, &id, json!({"quantity": 0}))["netAmount"],
        money(2999, 2)
    );
    assert_eq!(
        calc(&s, &id, json!({"quantity": 7}))["netAmount"],
        money(2999, 2)
    );

    // Tiered with flat amounts of every band reached: 15 units =
    // 10 × 10.00 + 20.00 + 5 × 8.00 + 5.00 = 165.00
    let id = plan(
        &s,
        json!({"type": "tiered", "tiers": [
            {"from": 1, "to": 10, "unitPrice": "10.00", "flatAmount": "20.00"},
            {"from": 11, "to": null, "unitPrice": "8.00", "flatAmount": "5.00"}]}),
    );
    let c = calc(&s, &id, json!({"quantity": 15}));
    assert_eq!(c["netAmount"], money(16500, 2));
    assert_eq!(
        lines(&c),
        [
            ("10".into(), 10000),
            ("1".into(), 2000),
            ("5".into(), 4000),
            ("1".into(), 500)
        ]
    );
}

#[test]
fn sub_cent_prices_round_once_and_jpy_has_no_cents() {
    let s = Server::start();
    // 0.0025 × 1,234,567 = 3,086.4175 -> 3,086.42
    let id = plan(
        &s,
        json!({"type": "per_unit", "price": {"amount": "0.0025"}}),
    );
    let c = calc(&s, &id, json!({"quantity": 1234567}));
    assert_eq!(c["netAmount"], money(308642, 2));
    assert_eq!(c["netAmountExact"], "3086.4175");
    assert_eq!(c["lines"][0]["unitPrice"], money(25, 4));
    assert_eq!(c["lines"][0]["netAmount"], money(30864175, 4));

    let p = product(&s, &s.tenant_id, "product", false);
    let jpy = |extra: Value| {
        let mut body = extra;
        body["currencyCode"] = json!("JPY");
        create(&s, &p, body)["id"].as_str().unwrap().to_string()
    };
    // 0.5 yen × 7 = 3.5 -> 4 yen (half away from zero).
    let id = jpy(json!({"type": "per_unit", "price": {"amount": "0.5"}}));
    let c = calc(&s, &id, json!({"quantity": 7}));
    assert_eq!(
        c["netAmount"],
        json!({"amount": 4, "currencyCode": "JPY", "precision": 0})
    );
    assert_eq!(
        c["lines"][0]["unitPrice"],
        json!({"amount": 5, "currencyCode": "JPY", "precision": 1})
    );
    // 10 × 1,000 + 2 × 800 = 11,600 yen
    let id = jpy(json!({"type": "tiered", "tiers": [
        {"from": 1, "to": 10, "unitPrice": "1000"}, {"from": 11, "unitPrice": "800"}]}));
    let plan = s.get(&format!("/price-plans/{id}")).body;
    assert_eq!(
        plan["tiers"][0]["unitPrice"],
        json!({"amount": 1000, "currencyCode": "JPY", "precision": 0})
    );
    let c = calc(&s, &id, json!({"quantity": 12}));
    assert_eq!(c["netAmount"]["amount"], 11600);
}

#[test]
fn quantities_are_integers_or_decimal_strings() {
    let s = Server::start();
    let id = plan(&s, json!({"type": "tiered", "tiers": guide_tiers()}));
    // 10.5 units: 10 × 10.00 + 0.5 × 8.00 = 104.00
    let c = calc(&s, &id, json!({"quantity": "10.5"}));
    assert_eq!(c["netAmount"], money(10400, 2));
    assert_eq!(lines(&c), [("10".into(), 10000), ("0.5".into(), 400)]);
    let path = format!("/price-plans/{id}/calculate");
    for body in [
        json!({}),
        json!({"quantity": null}),
        json!({"quantity": 1.5}),
        json!({"quantity": "abc"}),
        json!({"quantity": "1e3"}),
        json!({"quantity": -1}),
        json!({"quantity": "-0.5"}),
        json!({"quantity": true}),
        json!({"quantity": "0.00000000001"}),
        // Beyond what an exact decimal holds: refused, not rounded.
        json!({"quantity": "79228162514264337593543950335"}),
    ] {
        let r = s.post(&path, &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), ["quantity"], "{body}");
    }
    let r = s.post(&path, &json!({"quantity": 1, "at": "2026-01-01"}));
    assert_eq!(r.violation_paths(), ["at"]);
}

#[test]
fn prorates_part_of_one_billing_period() {
    let s = Server::start();
    let monthly = plan(
        &s,
        json!({"type": "flat_fee", "price": {"amount": "30.00"}}),
    );
    // April has 30 days; Apr 1–14 = 14 days: 30.00 × 14 / 30 = 14.00
    let c = calc(
        &s,
        &monthly,
        json!({"quantity": 1, "from": "2026-04-01", "to": "2026-04-14"}),
    );
    assert_eq!(c["netAmount"], money(1400, 2));
    assert_eq!(
        c["period"],
        json!({"start": "2026-04-01", "end": "2026-04-30", "from": "2026-04-01",
            "to": "2026-04-14", "daysCovered": 14, "daysInPeriod": 30, "prorated": true})
    );
    // Lines stay full-period amounts.
    assert_eq!(c["lines"][0]["netAmount"], money(3000, 2));
    // Jan 20 starts a period to Feb 19 (31 days); 12 days to Jan 31:
    // 30.00 × 12 / 31 = 11.6129… -> 11.61
    let c = calc(
        &s,
        &monthly,
        json!({"quantity": 1, "from": "2026-01-20", "to": "2026-01-31"}),
    );
    assert_eq!(c["netAmount"], money(1161, 2));
    assert!(c["netAmountExact"].as_str().unwrap().starts_with("11.6129"));
    // Only `from`: the whole period, anchored on Jan 31 with month-end clamping: Jan 31 to
    // Feb 27 (the next period starts Feb 28), 28 days, not prorated.
    let c = calc(&s, &monthly, json!({"quantity": 1, "from": "2026-01-31"}));
    assert_eq!(c["netAmount"], money(3000, 2));
    assert_eq!(
        (
            &c["period"]["end"],
            &c["period"]["daysInPeriod"],
            &c["period"]["prorated"]
        ),
        (&json!("2026-02-27"), &json!(28), &json!(false))
    );

    // 10.00 every 3 days, 1 day covered: 10.00 × 1 / 3 = 3.3333… -> 3.33
    let three_days = plan(
        &s,
        json!({"type": "flat_fee", "price": {"amount": "10.00"}, "billingInterval": "3D"}),
    );
    let c = calc(
        &s,
        &three_days,
        json!({"quantity": 1, "from": "2026-01-01", "to": "2026-01-01"}),
    );
    assert_eq!(c["netAmount"], money(333, 2));
    // Half a cent rounds away from zero: 10.01 × 15 / 30 = 5.005 -> 5.01
    let odd = plan(
        &s,
        json!({"type": "flat_fee", "price": {"amount": "10.01"}}),
    );
    let c = calc(
        &s,
        &odd,
        json!({"quantity": 1, "from": "2026-04-01", "to": "2026-04-15"}),
    );
    assert_eq!(c["netAmountExact"], "5.005");
    assert_eq!(c["netAmount"], money(501, 2));
    // Tiered, 60 units for half of April: 480.00 × 15 / 30 = 240.00
    let tiered = plan(&s, json!({"type": "tiered", "tiers": guide_tiers()}));
    let c = calc(
        &s,
        &tiered,
        json!({"quantity": 60, "from": "2026-04-16", "to": "2026-04-30"}),
    );
    assert_eq!(c["netAmount"], money(24000, 2));
    // proRata false: the partial period costs the full amount.
    let full = plan(
        &s,
        json!({"type": "flat_fee", "price": {"amount": "30.00"}, "proRata": false}),
    );
    let c = calc(
        &s,
        &full,
        json!({"quantity": 1, "from": "2026-04-01", "to": "2026-04-14"}),
    );
    assert_eq!(c["netAmount"], money(3000, 2));
    assert_eq!(c["period"]["prorated"], false);
}

#[test]
fn proration_dates_must_lie_in_one_period() {
    let s = Server::start();
    let id = plan(
        &s,
        json!({"type": "flat_fee", "price": {"amount": "30.00"}}),
    );
    let path = format!("/price-plans/{id}/calculate");
    for (body, paths) in [
        // Apr 1 starts a period ending Apr 30.
        (
            json!({"quantity": 1, "from": "2026-04-01", "to": "2026-05-01"}),
            vec!["to"],
        ),
        (
            json!({"quantity": 1, "from": "2026-04-10", "to": "2026-04-09"}),
            vec!["to"],
        ),
        (json!({"quantity": 1, "to": "2026-04-09"}), vec!["from"]),
        (json!({"quantity": 1, "from": "2026-4-1"}), vec!["from"]),
        (json!({"quantity": 1, "from": "2026-02-30"}), vec!["from"]),
        (
            json!({"quantity": "x", "from": 20260401}),
            vec!["quantity", "from"],
        ),
    ] {
        let r = s.post(&path, &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), paths, "{body}");
    }
    // A one-time charge has no billing period to prorate.
    let charge = product(&s, &s.tenant_id, "charge", false);
    let once = create(
        &s,
        &charge,
        json!({"type": "flat_fee", "price": {"amount": "99.00"}, "billingInterval": null}),
    );
    let once = once["id"].as_str().unwrap();
    let r = s.post(
        &format!("/price-plans/{once}/calculate"),
        &json!({"quantity": 1, "from": "2026-04-01"}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["from"]);
    assert_eq!(
        calc(&s, once, json!({"quantity": 1}))["netAmount"],
        money(9900, 2)
    );
}
