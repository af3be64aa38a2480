//! Customer create: the full read model, every field, validation naming every field, no
//! partial rows on failure, e-mail uniqueness per tenant.

use super::{count, create, events, id, sorted};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

#[test]
fn create_minimal_customer_has_the_full_read_model() {
    let s = Server::start();
    let c = create(&s, json!({"email": "max@example.com"}));
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "id",
        "customerNumber",
        "timeZone",
        "firstName",
        "lastName",
        "companyName",
        "countryCode",
        "currencyCode",
        "vatId",
        "isVatIdValid",
        "taxExempt",
        "datevId",
        "commercialRegisterName",
        "commercialRegisterNumber",
        "status",
        "gender",
        "phone",
        "language",
        "totalTurnOverRank",
        "createdAt",
        "businessCustomer",
        "contactPerson",
        "customerGroup",
        "customFields",
        "emailAddresses",
        "addresses",
        "defaultAddress",
        "defaultInvoiceAddress",
        "defaultEmailAddress",
        "defaultInvoiceEmailAddress",
        "defaultPaymentMethod",
    ];
    let mut got = keys.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(c["customerNumber"], "KD-000001");
    assert_eq!(c["countryCode"], "DE");
    assert_eq!(c["currencyCode"], "EUR");
    assert_eq!(c["language"], "de");
    assert_eq!(c["timeZone"], "Europe/Berlin");
    assert_eq!(c["status"], "STATUS_ACTIVE");
    assert_eq!(c["taxExempt"], "auto");
    assert_eq!(c["isVatIdValid"], false);
    assert_eq!(c["businessCustomer"], false);
    assert_eq!(c["firstName"], "");
    assert_eq!(c["companyName"], Value::Null);
    assert_eq!(c["datevId"], Value::Null);
    assert_eq!(c["customFields"], json!({}));
    assert_eq!(c["defaultPaymentMethod"], Value::Null);
    assert_eq!(c["totalTurnOverRank"], 0);
    assert!(c["createdAt"].as_str().unwrap().ends_with("+00:00"));

    let emails = c["emailAddresses"].as_array().unwrap();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .len(),
        6
    );
    assert_eq!(emails[0]["email"], "max@example.com");
    assert_eq!(emails[0]["default"], true);
    assert_eq!(c["defaultEmailAddress"], emails[0]);
    assert_eq!(c["defaultInvoiceEmailAddress"], emails[0]);

    let addresses = c["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 1);
    assert_eq!(addresses[0]["type"], "TYPE_DEFAULT");
    assert_eq!(addresses[0]["default"], true);
    assert_eq!(addresses[0]["status"], "active");
    assert_eq!(addresses[0]["countryCode"], "DE");
    assert_eq!(c["defaultAddress"], addresses[0]);
    assert_eq!(c["defaultInvoiceAddress"], addresses[0]);

    // GET answers the same document.
    let r = s.get(&format!("/customers/{}", id(&c)));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, c);
    assert_eq!(events(&s, &id(&c)), vec!["customer.created"]);
}

#[test]
fn create_with_every_field() {
    let s = Server::start();
    let account: String = s
        .db()
        .query_row("SELECT id FROM accounts LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let c = create(
        &s,
        json!({
            "email": "info@muster.de", "invoiceEmail": "rechnung@muster.de",
            "firstName": "Erika", "lastName": "Muster", "companyName": "Muster GmbH",
            "street": "Hauptstraße", "houseNumber": "1a", "zip": "10115", "city": "Berlin",
            "addition": "c/o Empfang", "countryCode": "at", "currencyCode": "chf",
            "customerNumber": "K-42", "datevId": "12345", "language": "en",
            "timeZone": "Europe/Vienna", "gender": "female", "phone": "+43 1 234",
            "vatId": "ATU12345678", "commercialRegisterName": "HG Wien",
            "commercialRegisterNumber": "FN 123456a", "contactPerson": account,
            "customFields": {}, "taxExempt": "exempt", "customerGroup": null
        }),
    );
    assert_eq!(c["customerNumber"], "K-42");
    assert_eq!(c["datevId"], "12345");
    assert_eq!(c["countryCode"], "AT");
    assert_eq!(c["currencyCode"], "CHF");
    assert_eq!(c["language"], "en");
    assert_eq!(c["timeZone"], "Europe/Vienna");
    assert_eq!(c["gender"], "female");
    assert_eq!(c["taxExempt"], "exempt");
    assert_eq!(c["businessCustomer"], true);
    assert_eq!(c["commercialRegisterNumber"], "FN 123456a");
    assert_eq!(c["contactPerson"]["id"], account.as_str());
    assert_eq!(c["contactPerson"]["email"], "admin@acme.test");
    let a = &c["defaultAddress"];
    assert_eq!(
        (
            &a["street"],
            &a["houseNumber"],
            &a["zip"],
            &a["city"],
            &a["addition"]
        ),
        (
            &json!("Hauptstraße"),
            &json!("1a"),
            &json!("10115"),
            &json!("Berlin"),
            &json!("c/o Empfang")
        )
    );
    assert_eq!(a["companyName"], "Muster GmbH");
    assert_eq!(a["firstName"], "Erika");
    assert_eq!(a["vatId"], "ATU12345678");
    // The invoice e-mail is its own address and is used for invoices.
    assert_eq!(c["emailAddresses"].as_array().unwrap().len(), 2);
    assert_eq!(c["defaultEmailAddress"]["email"], "info@muster.de");
    assert_eq!(
        c["defaultInvoiceEmailAddress"]["email"],
        "rechnung@muster.de"
    );
    assert_eq!(c["defaultInvoiceEmailAddress"]["isInvoiceEmail"], true);
    assert_eq!(c["defaultInvoiceEmailAddress"]["default"], false);

    // An invoice e-mail equal to the login flags the default address instead.
    let c = create(
        &s,
        json!({"email": "same@muster.de", "invoiceEmail": "SAME@muster.de", "vatId": "DE123456789"}),
    );
    assert_eq!(c["emailAddresses"].as_array().unwrap().len(), 1);
    assert_eq!(c["defaultEmailAddress"]["isInvoiceEmail"], true);
    assert_eq!(c["businessCustomer"], true);
}

#[test]
fn validation_names_every_invalid_field_at_once() {
    let s = Server::start();
    let r = s.post("/customers", &json!({}));
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["email"]);

    let r = s.post(
        "/customers",
        &json!({
            "email": "not-an-email", "firstName": "X", "lastName": 5, "companyName": "Y",
            "street": "S", "city": "C", "countryCode": "XX", "currencyCode": "EURO",
            "customerNumber": "1", "datevId": "9", "invoiceEmail": "nope", "language": "fr",
            "timeZone": "Mars/Olympus", "gender": "other", "phone": 1, "vatId": "D",
            "taxExempt": "sometimes", "customFields": {"colour": "red"},
            "customerGroup": "0190d7a0-0000-7000-8000-000000000000",
            "contactPerson": "0190d7a0-0000-7000-8000-000000000001", "bogus": true
        }),
    );
    assert_problem(&r, 422);
    let expected: Vec<String> = [
        "bogus",
        "city",
        "companyName",
        "contactPerson",
        "countryCode",
        "currencyCode",
        "customFields.colour",
        "customerGroup",
        "customerNumber",
        "datevId",
        "email",
        "firstName",
        "gender",
        "invoiceEmail",
        "language",
        "lastName",
        "phone",
        "street",
        "taxExempt",
        "timeZone",
        "vatId",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(sorted(r.violation_paths()), expected);
    assert_eq!(
        r.body["detail"],
        format!("{} fields are invalid", expected.len())
    );
    for v in r.body["violations"].as_array().unwrap() {
        assert!(v["message"].is_string() && v["code"].is_string());
    }
}

#[test]
fn a_failing_create_leaves_no_rows_behind() {
    let s = Server::start();
    create(
        &s,
        json!({"email": "taken@example.com", "customerNumber": "K-1"}),
    );
    let tables = [
        "customers",
        "customer_addresses",
        "customer_email_addresses",
        "issued_numbers",
        "outbox",
    ];
    let before: Vec<i64> = tables.iter().map(|t| count(&s, t)).collect();
    // Each body fails on a different check, the last one only after format validation.
    for body in [
        json!({"email": "TAKEN@example.com"}),
        json!({"email": "new@example.com", "customerNumber": "K-1"}),
        json!({"email": "new@example.com", "invoiceEmail": "bad"}),
        json!({"email": "new@example.com", "street": "Hauptstraße", "countryCode": "ZZ"}),
    ] {
        assert_problem(&s.post("/customers", &body), 422);
    }
    let after: Vec<i64> = tables.iter().map(|t| count(&s, t)).collect();
    assert_eq!(before, after);
    let r = s.post("/customers", &json!({"email": "TAKEN@example.com"}));
    assert_eq!(r.violation_paths(), vec!["email"]);
    assert_eq!(r.body["violations"][0]["code"], "not_unique");
}

#[test]
fn email_is_unique_per_tenant_only() {
    let s = Server::start();
    create(&s, json!({"email": "shared@example.com"}));
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let r = s.send_as(
        &other,
        "POST",
        "/customers",
        Some(&json!({"email": "shared@example.com"})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // Each tenant has its own customer number range.
    assert_eq!(r.body["customerNumber"], "KD-000001");
}

/// The create answer is built from the rows as written, not read back: it must be the very
/// document a GET answers and the outbox carries, byte for byte, for every shape of create.
#[test]
fn the_created_document_is_the_stored_one_byte_for_byte() {
    let s = Server::start();
    let account: String = s
        .db()
        .query_row("SELECT id FROM accounts LIMIT 1", [], |r| r.get(0))
        .unwrap();
    s.db()
        .execute_batch(&format!(
            "INSERT INTO custom_fields (id, tenant_id, entity, name, label, type, choices,
                 required, created_at, updated_at)
             VALUES ('cf1', '{t}', 'customer', 'tier', 'Tier', 'single_select',
                 '[{{\"value\":\"gold\",\"label\":\"Gold\"}}]', 0, 'x', 'x'),
                    ('cf2', '{t}', 'customer', 'score', 'Score', 'number', '[]', 0, 'x', 'x');
             INSERT INTO settings (tenant_id, context, key, value)
             VALUES ('{t}', 'accounting', 'useDebitorAccounts', 'true'),
                    ('{t}', 'organization', 'defaultCurrency', '\"CHF\"'),
                    ('{t}', 'organization', 'timeZone', '\"Asia/Tokyo\"');",
            t = s.tenant_id
        ))
        .unwrap();
    let bodies = [
        json!({"email": "min@example.com"}),
        json!({"email": "Mixed.Case@Example.com", "invoiceEmail": "", "companyName": "X GmbH"}),
        json!({"email": "a@muster.de", "invoiceEmail": "rechnung@muster.de",
               "firstName": "Erika", "lastName": "Muster", "street": "Hauptstraße",
               "countryCode": "fr", "currencyCode": "usd", "customerNumber": "K-1",
               "datevId": "20000", "contactPerson": account, "gender": "diverse",
               "customFields": {"tier": "gold", "score": 1.5}, "vatId": "FR123"}),
        json!({"email": "b@muster.de", "invoiceEmail": "B@MUSTER.DE", "customFields": null,
               "timeZone": "", "phone": "+49 \"1\" \\ 2", "addition": "ü\u{1F600}"}),
    ];
    for body in bodies {
        let r = s.post("/customers", &body);
        assert_eq!(r.status, 201, "{}", r.text);
        let id = id(&r.body);
        let got = s.get(&format!("/customers/{id}"));
        assert_eq!(got.text, r.text, "GET differs for {body}");
        let payload: String = s
            .db()
            .query_row(
                "SELECT payload FROM outbox WHERE object_id = ?1",
                [&id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(payload, r.text, "outbox payload differs for {body}");
    }
}
