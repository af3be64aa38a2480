//! The tax decision of 03 §3.4 through `POST /tax-groups/{id}/resolve`: every customer case,
//! group types, small-business mode, and the body checks of the action.

use super::{seeded, swiss};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

/// Creates a customer through the API and returns its id.
pub(crate) fn customer(s: &Server, body: Value) -> String {
    let r = s.post("/customers", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// VAT ids are not checked yet (no VIES client exists), so tests set the result directly.
fn mark_vat_id_valid(s: &Server, customer: &str) {
    let n = s
        .db()
        .execute(
            "UPDATE customers SET is_vat_id_valid = 1 WHERE id = ?1",
            [customer],
        )
        .unwrap();
    assert_eq!(n, 1);
}

fn resolve(s: &Server, group: &str, customer: &str) -> Value {
    let r = s.post(
        &format!("/tax-groups/{group}/resolve"),
        &json!({"customer": customer}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// `(rate, treatment, note, reverseChargeType)` of a decision.
fn outcome(v: &Value) -> (Value, Value, Value, Value) {
    (
        v["rate"].clone(),
        v["treatment"].clone(),
        v["note"].clone(),
        v["reverseChargeType"].clone(),
    )
}

const RC_NOTE: &str = "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)";

#[test]
fn resolve_covers_every_customer_case() {
    let s = Server::start();
    let standard = seeded(&s, "Standard");
    let decide = |body: Value, valid: bool| {
        let id = customer(&s, body);
        if valid {
            mark_vat_id_valid(&s, &id);
        }
        outcome(&resolve(&s, &standard, &id))
    };
    let taxed =
        |rate: i64, treatment: &str| (json!(rate), json!(treatment), json!(null), json!(null));

    // German private customer (the default country is DE).
    assert_eq!(
        decide(json!({"email": "p@de.test"}), false),
        taxed(19, "domestic")
    );
    // German company, even with a valid VAT id.
    assert_eq!(
        decide(
            json!({"email": "c@de.test", "companyName": "Muster GmbH", "vatId": "DE123456789"}),
            true
        ),
        taxed(19, "domestic")
    );
    // EU company with a valid VAT id: reverse charge.
    assert_eq!(
        decide(
            json!({"email": "c@at.test", "countryCode": "AT", "companyName": "Wien GmbH",
                   "vatId": "ATU12345678"}),
            true
        ),
        (
            json!(0),
            json!("reverse_charge"),
            json!(RC_NOTE),
            json!("REVERSE_CHARGE")
        )
    );
    // EU private person: the tenant's rate.
    assert_eq!(
        decide(json!({"email": "p@fr.test", "countryCode": "FR"}), false),
        taxed(19, "eu_consumer")
    );
    // EU company whose VAT id is not (yet) valid: taxed like a consumer.
    assert_eq!(
        decide(
            json!({"email": "c@nl.test", "countryCode": "NL", "companyName": "Amsterdam BV",
                   "vatId": "NL123456789B01"}),
            false
        ),
        taxed(19, "eu_consumer")
    );
    // Swiss company: not taxable here.
    assert_eq!(
        decide(
            json!({"email": "c@ch.test", "countryCode": "CH", "companyName": "Zürich AG",
                   "vatId": "CHE123456789"}),
            true
        ),
        (
            json!(0),
            json!("non_eu"),
            json!("Nicht im Inland steuerbare Leistung."),
            json!(null)
        )
    );
    // Exempt customer.
    assert_eq!(
        decide(json!({"email": "e@de.test", "taxExempt": "exempt"}), false),
        (json!(0), json!("exempt"), json!(null), json!(null))
    );
}

#[test]
fn resolve_by_group_type_and_small_business_mode() {
    let s = Server::start();
    let private = customer(&s, json!({"email": "p@de.test"}));
    let company = customer(
        &s,
        json!({"email": "c@at.test", "countryCode": "AT", "companyName": "Wien GmbH",
               "vatId": "ATU12345678"}),
    );
    mark_vat_id_valid(&s, &company);
    let (reduced, zero) = (seeded(&s, "Reduced"), seeded(&s, "Zero"));

    let r = resolve(&s, &reduced, &private);
    assert_eq!(outcome(&r).0, json!(7));
    assert_eq!(
        r["taxGroup"],
        json!({"id": reduced, "internalDescription": "Reduced", "reverseChargeType": null,
               "type": "reduced"})
    );
    assert_eq!(r["customer"], json!(private));
    assert_eq!(outcome(&resolve(&s, &zero, &private)).0, json!(0));
    let rc = resolve(&s, &zero, &company);
    assert_eq!(rc["treatment"], "reverse_charge");
    assert_eq!(rc["taxGroup"]["reverseChargeType"], "REVERSE_CHARGE");

    // A group with a fractional rate answers it exactly.
    let swiss = s.post("/tax-groups", &swiss()).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let swiss_customer = customer(&s, json!({"email": "p@ch.test", "countryCode": "CH"}));
    s.patch("/settings/organization", &json!({"countryCode": "CH"}));
    let r = resolve(&s, &swiss, &swiss_customer);
    assert_eq!(
        outcome(&r),
        (json!(8.1), json!("domestic"), json!(null), json!(null))
    );
    s.patch("/settings/organization", &json!({"countryCode": "DE"}));

    // Small-business mode wins over everything.
    let r = s.patch("/settings/billing", &json!({"smallBusiness": true}));
    assert_eq!(r.status, 200, "{}", r.text);
    let note = json!("Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.");
    for c in [&private, &company] {
        let standard = seeded(&s, "Standard");
        assert_eq!(
            outcome(&resolve(&s, &standard, c)),
            (json!(0), json!("small_business"), note.clone(), json!(null))
        );
    }
}

#[test]
fn resolve_validates_its_body() {
    let s = Server::start();
    let standard = seeded(&s, "Standard");
    let path = format!("/tax-groups/{standard}/resolve");
    for body in [
        json!({}),
        json!({"customer": ""}),
        json!({"customer": null}),
        json!({"customer": 5}),
        json!({"customer": "no-such-customer"}),
    ] {
        let r = s.post(&path, &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), ["customer"], "{body}");
    }
    let r = s.post(&path, &json!({"customer": "x", "product": "y"}));
    assert_eq!(r.violation_paths(), ["product"]);
    assert_problem(
        &s.post("/tax-groups/nope/resolve", &json!({"customer": "x"})),
        404,
    );
    // An IRI works as a reference too.
    let id = customer(&s, json!({"email": "iri@example.com"}));
    let r = s.post(&path, &json!({"customer": format!("/customers/{id}")}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["rate"], 19);
    // A group without a rate for the tenant's country cannot decide: 409, never a silent 0 %.
    s.patch("/settings/organization", &json!({"countryCode": "CH"}));
    let ch = customer(&s, json!({"email": "ch@example.com", "countryCode": "CH"}));
    assert_problem(&s.post(&path, &json!({"customer": ch})), 409);
}
