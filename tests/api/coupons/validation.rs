//! Coupon validation (10 §6.2): required fields, the conditional rules per type and frequency,
//! unique codes, known products; every invalid field named at once, nothing written on 422.

use super::{create, fixed5, percent20, product};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn violations(s: &Server, body: Value) -> Vec<(String, String)> {
    let r = s.post("/coupons", &body);
    assert_problem(&r, 422);
    r.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["propertyPath"].as_str().unwrap().to_string(),
                v["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn v(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

/// `base` with `changes` merged in (null values stay as explicit nulls).
fn with(base: Value, changes: Value) -> Value {
    let mut out = base;
    for (k, v) in changes.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

#[test]
fn required_fields_and_types() {
    let s = Server::start();
    assert_eq!(
        violations(&s, json!({})),
        v(&[
            ("code", "not_blank"),
            ("name", "not_blank"),
            ("type", "not_blank"),
            ("frequency", "not_blank")
        ])
    );
    assert_eq!(
        violations(
            &s,
            json!({"code": "", "name": "n".repeat(256), "type": "gift", "frequency": "daily",
                   "enabled": "yes", "expiresAt": "tomorrow", "maxRedemptions": 0,
                   "maxRedemptionsPerCustomer": "1", "products": "all", "extra": 1})
        ),
        v(&[
            ("extra", "unknown_field"),
            ("code", "not_blank"),
            ("name", "too_long"),
            ("type", "invalid_choice"),
            ("frequency", "invalid_choice"),
            ("expiresAt", "invalid_datetime"),
            ("maxRedemptions", "out_of_range"),
            ("maxRedemptionsPerCustomer", "invalid_type"),
            ("products", "invalid_type"),
            ("enabled", "invalid_type")
        ])
    );
    assert_eq!(
        violations(&s, with(percent20(), json!({"code": "TWO WORDS"}))),
        v(&[("code", "invalid_format")])
    );
    assert_eq!(
        violations(&s, with(percent20(), json!({"code": "c".repeat(256)}))),
        v(&[("code", "too_long")])
    );
    assert_eq!(
        s.get("/coupons").body["meta"]["pagination"]["totalItems"],
        0
    );
}

#[test]
fn percentage_rules() {
    let s = Server::start();
    let pct = |p: Value| violations(&s, with(percent20(), json!({"percentage": p})));
    assert_eq!(pct(Value::Null), v(&[("percentage", "not_blank")]));
    assert_eq!(pct(json!(0)), v(&[("percentage", "out_of_range")]));
    assert_eq!(pct(json!("0.00")), v(&[("percentage", "out_of_range")]));
    assert_eq!(pct(json!(-5)), v(&[("percentage", "out_of_range")]));
    assert_eq!(pct(json!(100.5)), v(&[("percentage", "out_of_range")]));
    assert_eq!(pct(json!("abc")), v(&[("percentage", "invalid_decimal")]));
    assert_eq!(pct(json!([20])), v(&[("percentage", "invalid_type")]));
    assert_eq!(
        pct(json!("1.00001")),
        v(&[("percentage", "too_many_decimals")])
    );
    // 100 % and tiny fractions are fine.
    for ok in [json!(100), json!("0.01"), json!(33.3333)] {
        let mut body = with(percent20(), json!({"percentage": ok}));
        body["code"] = json!(format!("C{}", ok.to_string().replace(['.', '"'], "")));
        assert_eq!(s.post("/coupons", &body).status, 201, "{ok}");
    }
    // The fixed-amount fields do not belong to a percentage coupon.
    assert_eq!(
        violations(
            &s,
            with(
                percent20(),
                json!({"fixedAmount": "5.00", "currencyCode": "EUR"})
            )
        ),
        v(&[
            ("fixedAmount", "not_allowed"),
            ("currencyCode", "not_allowed")
        ])
    );
    assert_eq!(
        s.post(
            "/coupons",
            &with(
                percent20(),
                json!({"fixedAmount": null, "currencyCode": null})
            )
        )
        .status,
        201
    );
}

#[test]
fn fixed_amount_rules() {
    let s = Server::start();
    let fixed = |changes: Value| violations(&s, with(fixed5(), changes));
    assert_eq!(
        fixed(json!({"fixedAmount": null, "currencyCode": null})),
        v(&[("fixedAmount", "not_blank"), ("currencyCode", "not_blank")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": "0"})),
        v(&[("fixedAmount", "out_of_range")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": "-5.00"})),
        v(&[("fixedAmount", "out_of_range")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": 5})),
        v(&[("fixedAmount", "invalid_type")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": "5,00"})),
        v(&[("fixedAmount", "invalid_decimal")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": "5.001"})),
        v(&[("fixedAmount", "too_many_decimals")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": "5.5", "currencyCode": "JPY"})),
        v(&[("fixedAmount", "too_many_decimals")])
    );
    assert_eq!(
        fixed(json!({"currencyCode": "EURO"})),
        v(&[("currencyCode", "invalid_currency")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": {"amount": 500, "currencyCode": "USD", "precision": 2}})),
        v(&[("fixedAmount", "currency_mismatch")])
    );
    assert_eq!(
        fixed(json!({"fixedAmount": {"amount": 5.5, "precision": 2}})),
        v(&[("fixedAmount", "invalid_money")])
    );
    assert_eq!(
        fixed(json!({"percentage": 10})),
        v(&[("percentage", "not_allowed")])
    );
    // Trailing zeros beyond the minor unit are no extra precision.
    let c = create(
        &s,
        with(
            fixed5(),
            json!({"fixedAmount": "5.000", "currencyCode": "EUR"}),
        ),
    );
    assert_eq!(c["fixedAmount"]["amount"], 500);
}

#[test]
fn frequency_rules() {
    let s = Server::start();
    let limited =
        |interval: Value| violations(&s, with(fixed5(), json!({"frequencyInterval": interval})));
    assert_eq!(
        limited(Value::Null),
        v(&[("frequencyInterval", "not_blank")])
    );
    assert_eq!(
        limited(json!(0)),
        v(&[("frequencyInterval", "out_of_range")])
    );
    assert_eq!(
        limited(json!(1.5)),
        v(&[("frequencyInterval", "invalid_type")])
    );
    assert_eq!(
        limited(json!("3")),
        v(&[("frequencyInterval", "invalid_type")])
    );
    let mut no_interval = fixed5();
    no_interval
        .as_object_mut()
        .unwrap()
        .remove("frequencyInterval");
    assert_eq!(
        violations(&s, no_interval),
        v(&[("frequencyInterval", "not_blank")])
    );
    for frequency in ["once", "lifetime"] {
        assert_eq!(
            violations(
                &s,
                with(
                    fixed5(),
                    json!({"frequency": frequency, "frequencyInterval": 3})
                )
            ),
            v(&[("frequencyInterval", "not_allowed")]),
            "{frequency}"
        );
    }
    let c = create(
        &s,
        with(
            fixed5(),
            json!({"frequency": "lifetime", "frequencyInterval": null}),
        ),
    );
    assert_eq!(c["frequencyInterval"], Value::Null);
}

#[test]
fn codes_are_unique_per_tenant_in_any_case() {
    let s = Server::start();
    create(&s, percent20());
    for code in ["SPRING20", "spring20", "Spring20"] {
        assert_eq!(
            violations(&s, with(fixed5(), json!({"code": code}))),
            v(&[("code", "not_unique")]),
            "{code}"
        );
    }
    assert_eq!(
        s.get("/coupons").body["meta"]["pagination"]["totalItems"],
        1
    );
}

#[test]
fn products_must_exist_in_the_tenant() {
    let s = Server::start();
    let known = product(&s, &s.tenant_id, "known");
    assert_eq!(
        violations(
            &s,
            with(
                percent20(),
                json!({"products": [known, "missing", 7, "", format!("/catalogue/products/{known}")]})
            )
        ),
        v(&[
            ("products[1]", "not_found"),
            ("products[2]", "invalid_type"),
            ("products[3]", "not_found")
        ])
    );
    // Every violation at once, across fields.
    assert_eq!(
        violations(
            &s,
            json!({"code": "X", "name": "", "type": "fixed_amount", "fixedAmount": "0",
                   "frequency": "limited", "products": ["nope"]})
        ),
        v(&[
            ("name", "not_blank"),
            ("fixedAmount", "out_of_range"),
            ("currencyCode", "not_blank"),
            ("frequencyInterval", "not_blank"),
            ("products[0]", "not_found")
        ])
    );
    let c = create(&s, with(percent20(), json!({"products": [known]})));
    assert_eq!(c["products"], json!([known]));
    assert_eq!(
        s.post("/coupons", &json!([1])).status,
        400,
        "a non-object body is malformed"
    );
}
