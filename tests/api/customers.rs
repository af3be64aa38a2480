//! Customers: create and read model, validation, numbers, list filters, update, archive,
//! payment method, children, delete, outbox events, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn create(s: &Server, body: Value) -> Value {
    let r = s.post("/customers", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn count(s: &Server, table: &str) -> i64 {
    s.db()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn events(s: &Server, object: &str) -> Vec<String> {
    let conn = s.db();
    let mut stmt = conn
        .prepare("SELECT event_type FROM outbox WHERE object_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([object], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

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

#[test]
fn customer_numbers_come_from_the_range_and_are_never_reissued() {
    let s = Server::start();
    let first = create(&s, json!({"email": "a@example.com"}));
    assert_eq!(first["customerNumber"], "KD-000001");
    // A hand-given number that the counter would produce next is reserved...
    let given = create(
        &s,
        json!({"email": "b@example.com", "customerNumber": "KD-000002"}),
    );
    assert_eq!(given["customerNumber"], "KD-000002");
    // ...so the counter skips it.
    let third = create(&s, json!({"email": "c@example.com", "customerNumber": ""}));
    assert_eq!(third["customerNumber"], "KD-000003");
    let r = s.post(
        "/customers",
        &json!({"email": "d@example.com", "customerNumber": "KD-000003"}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["customerNumber"]);
    // Deleting a customer does not free its number.
    assert_eq!(s.delete(&format!("/customers/{}", id(&first))).status, 204);
    let r = s.post(
        "/customers",
        &json!({"email": "e@example.com", "customerNumber": "KD-000001"}),
    );
    assert_eq!(r.violation_paths(), vec!["customerNumber"]);
    // Changing a number by PUT reserves the new one; the old one stays issued.
    let r = s.put(
        &format!("/customers/{}", id(&given)),
        &json!({"customerNumber": "VIP-1"}),
    );
    assert_eq!(r.body["customerNumber"], "VIP-1");
    let r = s.post(
        "/customers",
        &json!({"email": "f@example.com", "customerNumber": "KD-000002"}),
    );
    assert_eq!(r.violation_paths(), vec!["customerNumber"]);
    let r = create(&s, json!({"email": "g@example.com"}));
    assert_eq!(r["customerNumber"], "KD-000004");
}

#[test]
fn datev_ids_follow_use_debitor_accounts() {
    let s = Server::start();
    let plain = create(&s, json!({"email": "a@example.com"}));
    assert_eq!(plain["datevId"], Value::Null);
    s.db()
        .execute(
            "INSERT INTO settings (tenant_id, context, key, value)
             VALUES (?1, 'accounting', 'useDebitorAccounts', 'true')",
            [&s.tenant_id],
        )
        .unwrap();
    let c = create(&s, json!({"email": "b@example.com"}));
    assert_eq!(c["datevId"], "10000");
    let given = create(&s, json!({"email": "c@example.com", "datevId": "10001"}));
    assert_eq!(given["datevId"], "10001");
    let c = create(&s, json!({"email": "d@example.com", "datevId": null}));
    assert_eq!(c["datevId"], "10002");
    let r = s.post(
        "/customers",
        &json!({"email": "e@example.com", "datevId": "10000"}),
    );
    assert_eq!(r.violation_paths(), vec!["datevId"]);
}

fn seed_list(s: &Server) -> Vec<Value> {
    vec![
        create(
            s,
            json!({"email": "anna@alpha.de", "firstName": "Anna", "lastName": "Alpha",
                   "companyName": "Alpha AG", "vatId": "DE111111111", "customerNumber": "C-3"}),
        ),
        create(
            s,
            json!({"email": "bert@beta.de", "firstName": "Bert", "lastName": "Beta",
                   "invoiceEmail": "billing@beta.de", "customerNumber": "C-1"}),
        ),
        create(
            s,
            json!({"email": "carl@gamma.de", "firstName": "Carl", "lastName": "Gamma_x",
                   "customerNumber": "C-2"}),
        ),
    ]
}

fn numbers(r: &crate::common::Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerNumber"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_envelope_filters_search_and_order() {
    let s = Server::start();
    let all = seed_list(&s);
    s.act("PUT", &format!("/customers/{}/archive", id(&all[2])));

    let r = s.get("/customers");
    assert_eq!(r.status, 200);
    assert_eq!(numbers(&r), vec!["C-3", "C-1", "C-2"]);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 3})
    );
    // Items are full read models.
    assert_eq!(
        r.body["data"][1],
        s.get(&format!("/customers/{}", id(&all[1]))).body
    );

    let r = s.get("/customers?limit=2&page=2");
    assert_eq!(numbers(&r), vec!["C-2"]);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 2, "currentPage": 2, "lastPage": 2, "pageTotalItems": 1})
    );
    let r = s.get("/customers?limit=0");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 3);
    assert_problem(&s.get("/customers?limit=101"), 400);
    assert_problem(&s.get("/customers?page=0"), 400);

    let cases: &[(&str, &[&str])] = &[
        ("order[customerNumber]=asc", &["C-1", "C-2", "C-3"]),
        ("order[customerNumber]=desc", &["C-3", "C-2", "C-1"]),
        ("order[createdAt]=desc", &["C-2", "C-1", "C-3"]),
        ("companyName=Alpha%20AG", &["C-3"]),
        ("firstName=Bert", &["C-1"]),
        ("lastName=Gamma_x", &["C-2"]),
        ("customerNumber[]=C-1&customerNumber[]=C-2", &["C-1", "C-2"]),
        ("vatId=DE111111111", &["C-3"]),
        ("isVatIdValid=false", &["C-3", "C-1", "C-2"]),
        ("isVatIdValid=true", &[]),
        ("emailAddresses.email=BILLING@beta.de", &["C-1"]),
        (
            "emailAddresses.email[]=anna@alpha.de&emailAddresses.email[]=carl@gamma.de",
            &["C-3", "C-2"],
        ),
        ("status=STATUS_ARCHIVED", &["C-2"]),
        (
            "status[]=STATUS_ACTIVE&order[customerNumber]=asc",
            &["C-1", "C-3"],
        ),
        ("search=alpha", &["C-3"]),
        ("search=BERT%20BETA", &["C-1"]),
        ("search=c-2", &["C-2"]),
        ("search=billing@", &["C-1"]),
        ("search=a_x", &["C-2"]),
        ("search=%25", &[]),
        (
            "search=de&order[customerNumber]=desc&limit=2",
            &["C-3", "C-2"],
        ),
        ("datevId=10000", &[]),
        ("customerGroup.name=VIP", &[]),
        ("partner=0190d7a0-0000-7000-8000-000000000000", &[]),
    ];
    for (query, expected) in cases {
        let r = s.get(&format!("/customers?{query}"));
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(numbers(&r), *expected, "{query}");
        assert_eq!(
            r.body["meta"]["pagination"]["totalItems"],
            if *query == "search=de&order[customerNumber]=desc&limit=2" {
                3
            } else {
                expected.len()
            },
            "{query}"
        );
    }
    assert_problem(&s.get("/customers?status=STATUS_GONE"), 400);
    assert_problem(
        &s.get("/customers?status[]=STATUS_ACTIVE&status[]=active"),
        400,
    );
    assert_problem(&s.get("/customers?isVatIdValid=maybe"), 400);
    assert_problem(&s.get("/customers?order[email]=asc"), 400);
    assert_problem(&s.get("/customers?order[createdAt]=up"), 400);
}

#[test]
fn put_updates_only_the_keys_sent() {
    let s = Server::start();
    let c = create(
        &s,
        json!({"email": "old@example.com", "firstName": "Old", "street": "Altweg",
               "city": "Bonn", "phone": "123"}),
    );
    let path = format!("/customers/{}", id(&c));
    let r = s.put(
        &path,
        &json!({"firstName": "New", "city": "Köln", "countryCode": "NL",
                "email": "new@example.com", "customFields": {}, "taxExempt": "exempt",
                "companyName": "New BV", "currencyCode": ""}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let u = &r.body;
    assert_eq!(u["firstName"], "New");
    assert_eq!(u["phone"], "123", "absent keys keep their value");
    assert_eq!(u["taxExempt"], "exempt");
    assert_eq!(u["currencyCode"], "EUR");
    assert_eq!(u["countryCode"], "NL");
    assert_eq!(u["businessCustomer"], true);
    assert_eq!(u["customerNumber"], c["customerNumber"]);
    // Address fields changed the default address in place.
    assert_eq!(u["addresses"].as_array().unwrap().len(), 1);
    assert_eq!(u["defaultAddress"]["id"], c["defaultAddress"]["id"]);
    assert_eq!(u["defaultAddress"]["street"], "Altweg");
    assert_eq!(u["defaultAddress"]["city"], "Köln");
    assert_eq!(u["defaultAddress"]["companyName"], "New BV");
    // `email` rewrote the default e-mail address (same id) and the login.
    assert_eq!(u["emailAddresses"].as_array().unwrap().len(), 1);
    assert_eq!(
        u["defaultEmailAddress"]["id"],
        c["defaultEmailAddress"]["id"]
    );
    assert_eq!(u["defaultEmailAddress"]["email"], "new@example.com");
    assert_eq!(
        create(&s, json!({"email": "old@example.com"}))["status"],
        "STATUS_ACTIVE"
    );
    assert_problem(
        &s.post("/customers", &json!({"email": "new@example.com"})),
        422,
    );

    // A GET body can be sent back unchanged.
    let got = s.get(&path).body;
    let r = s.put(&path, &got);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, got);

    // Several violations at once, and nothing changes.
    let r = s.put(
        &path,
        &json!({"email": "old@example.com", "language": "xx", "customFields": {"a": 1},
                "unknown": 1, "customerNumber": "X"}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        sorted(r.violation_paths()),
        vec![
            "customFields.a",
            "customerNumber",
            "email",
            "language",
            "unknown"
        ]
    );
    assert_eq!(s.get(&path).body, got);
    assert_problem(&s.send_raw("PUT", &path, "application/json", b"{"), 400);
    assert_problem(
        &s.put(
            "/customers/0190d7a0-0000-7000-8000-000000000000",
            &json!({}),
        ),
        404,
    );
    assert_eq!(
        events(&s, &id(&c)),
        vec!["customer.created", "customer.updated", "customer.updated"]
    );
}

#[test]
fn archive_and_unarchive() {
    let s = Server::start();
    let c = create(&s, json!({"email": "a@example.com"}));
    let cid = id(&c);
    let r = s.act("PUT", &format!("/customers/{cid}/archive"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "STATUS_ARCHIVED");
    // Archiving again is a no-op without a second event.
    let r = s.act("PUT", &format!("/customers/{cid}/archive"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "STATUS_ARCHIVED");
    let r = s.act("PUT", &format!("/customers/{cid}/unarchive"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "STATUS_ACTIVE");
    assert_problem(&s.act("PUT", &format!("/customers/{cid}/unarchive")), 409);
    assert_problem(&s.act("PUT", "/customers/nope/archive"), 404);
    assert_problem(&s.act("PUT", "/customers/nope/unarchive"), 404);
    assert_eq!(
        events(&s, &cid),
        vec![
            "customer.created",
            "customer.archived",
            "customer.unarchived"
        ]
    );
}

#[test]
fn default_payment_method_is_a_reference() {
    let s = Server::start();
    let c = create(&s, json!({"email": "a@example.com"}));
    let path = format!("/customers/{}/payment-method", id(&c));
    let pm = "0190d7a0-1111-7000-8000-000000000000";
    let r = s.patch(&path, &json!({"paymentMethodId": pm}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["defaultPaymentMethod"], json!({"id": pm}));
    assert_eq!(
        s.get(&format!("/customers/{}", id(&c))).body["defaultPaymentMethod"]["id"],
        pm
    );
    let r = s.patch(&path, &json!({"paymentMethodId": "not-a-uuid", "x": 1}));
    assert_problem(&r, 422);
    assert_eq!(sorted(r.violation_paths()), vec!["paymentMethodId", "x"]);
    assert_eq!(
        s.patch(&path, &json!({})).violation_paths(),
        vec!["paymentMethodId"]
    );
    let r = s.send(
        "PATCH",
        &path,
        Some(&s.token),
        Some(&json!({"paymentMethodId": null})),
        &[("Content-Type", "application/merge-patch+json")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["defaultPaymentMethod"], Value::Null);
    assert_problem(
        &s.patch(
            "/customers/nope/payment-method",
            &json!({"paymentMethodId": pm}),
        ),
        404,
    );
}

#[test]
fn children_are_an_empty_page() {
    let s = Server::start();
    let c = create(&s, json!({"email": "a@example.com"}));
    let r = s.get(&format!("/customers/{}/children", id(&c)));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"data": [], "meta": {"pagination": {"totalItems": 0, "itemsPerPage": 30,
               "currentPage": 1, "lastPage": 1, "pageTotalItems": 0}}})
    );
    assert_problem(
        &s.get(&format!("/customers/{}/children?limit=101", id(&c))),
        400,
    );
    assert_problem(&s.get("/customers/nope/children"), 404);
}

#[test]
fn delete_removes_the_customer_with_its_addresses() {
    let s = Server::start();
    let c = create(
        &s,
        json!({"email": "a@example.com", "invoiceEmail": "b@example.com"}),
    );
    let keep = create(&s, json!({"email": "keep@example.com"}));
    let cid = id(&c);
    assert_eq!(s.delete(&format!("/customers/{cid}")).status, 204);
    assert_problem(&s.get(&format!("/customers/{cid}")), 404);
    assert_problem(&s.delete(&format!("/customers/{cid}")), 404);
    assert_problem(
        &s.get(&format!(
            "/customer-addresses/{}",
            c["defaultAddress"]["id"].as_str().unwrap()
        )),
        404,
    );
    assert_eq!(count(&s, "customers"), 1);
    assert_eq!(count(&s, "customer_addresses"), 1);
    assert_eq!(count(&s, "customer_email_addresses"), 1);
    assert_eq!(s.get(&format!("/customers/{}", id(&keep))).status, 200);
    assert_eq!(
        events(&s, &cid),
        vec!["customer.created", "customer.deleted"]
    );
    // The login e-mail is free again.
    create(&s, json!({"email": "a@example.com"}));
}

#[test]
fn delete_of_a_still_referenced_customer_is_409() {
    let s = Server::start();
    let c = create(&s, json!({"email": "a@example.com"}));
    // Stands in for the records that will reference customers (subscriptions, documents).
    s.db()
        .execute_batch(
            "CREATE TABLE test_customer_refs (customer_id TEXT NOT NULL REFERENCES customers(id))",
        )
        .unwrap();
    s.db()
        .execute("INSERT INTO test_customer_refs VALUES (?1)", [id(&c)])
        .unwrap();
    assert_problem(&s.delete(&format!("/customers/{}", id(&c))), 409);
    assert_eq!(s.get(&format!("/customers/{}", id(&c))).body, c);
    assert_eq!(events(&s, &id(&c)), vec!["customer.created"]);
}

#[test]
fn custom_fields_are_checked_against_their_definitions() {
    let s = Server::start();
    s.db()
        .execute(
            "INSERT INTO custom_fields (id, tenant_id, entity, name, label, type, choices,
                 required, created_at, updated_at)
             VALUES ('cf1', ?1, 'customer', 'tier', 'Tier', 'single_select',
                 '[{\"value\":\"gold\",\"label\":\"Gold\"}]', 0, 'x', 'x'),
                    ('cf2', ?1, 'product', 'colour', 'Colour', 'text', '[]', 0, 'x', 'x')",
            [&s.tenant_id],
        )
        .unwrap();
    let c = create(
        &s,
        json!({"email": "a@example.com", "customFields": {"tier": "gold"}}),
    );
    assert_eq!(c["customFields"], json!({"tier": "gold"}));
    let r = s.post(
        "/customers",
        &json!({"email": "b@example.com", "customFields": {"tier": "bronze", "colour": "red"}}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        sorted(r.violation_paths()),
        vec!["customFields.colour", "customFields.tier"]
    );
    let path = format!("/customers/{}", id(&c));
    let r = s.put(&path, &json!({"customFields": {}}));
    assert_eq!(r.body["customFields"], json!({}));

    // A required field must be given on create; a PUT without customFields keeps the map.
    s.db()
        .execute(
            "INSERT INTO custom_fields (id, tenant_id, entity, name, label, type, required,
                 created_at, updated_at)
             VALUES ('cf3', ?1, 'customer', 'region', 'Region', 'text', 1, 'x', 'x')",
            [&s.tenant_id],
        )
        .unwrap();
    let r = s.post("/customers", &json!({"email": "c@example.com"}));
    assert_eq!(r.violation_paths(), vec!["customFields.region"]);
    assert_eq!(s.put(&path, &json!({"phone": "1"})).status, 200);
    let r = s.put(&path, &json!({"customFields": {"tier": "gold"}}));
    assert_eq!(r.violation_paths(), vec!["customFields.region"]);
    let r = s.put(
        &path,
        &json!({"customFields": {"tier": "gold", "region": "Nord"}}),
    );
    assert_eq!(
        r.body["customFields"],
        json!({"tier": "gold", "region": "Nord"})
    );
}

#[test]
fn values_of_deleted_custom_fields_are_hidden_but_kept() {
    let s = Server::start();
    let define = |id: &str, name: &str| {
        s.db()
            .execute(
                "INSERT INTO custom_fields (id, tenant_id, entity, name, label, type,
                     created_at, updated_at)
                 VALUES (?1, ?2, 'customer', ?3, ?3, 'text', 'x', 'x')",
                [id, s.tenant_id.as_str(), name],
            )
            .unwrap();
    };
    define("cf1", "branch");
    define("cf2", "note");
    let c = create(
        &s,
        json!({"email": "a@example.com", "customFields": {"branch": "Nord", "note": "x"}}),
    );
    s.db()
        .execute("DELETE FROM custom_fields WHERE id = 'cf1'", [])
        .unwrap();
    let path = format!("/customers/{}", id(&c));
    assert_eq!(s.get(&path).body["customFields"], json!({"note": "x"}));
    assert_eq!(
        s.get("/customers").body["data"][0]["customFields"],
        json!({"note": "x"})
    );
    // A hidden key cannot be written, and replacing the visible ones keeps it stored.
    let r = s.put(&path, &json!({"customFields": {"branch": "Süd"}}));
    assert_eq!(r.violation_paths(), vec!["customFields.branch"]);
    let r = s.put(&path, &json!({"customFields": {}}));
    assert_eq!(r.body["customFields"], json!({}));
    define("cf3", "branch");
    assert_eq!(s.get(&path).body["customFields"], json!({"branch": "Nord"}));
}

#[test]
fn unknown_and_malformed_ids_are_404() {
    let s = Server::start();
    for path in [
        "/customers/0190d7a0-0000-7000-8000-000000000000",
        "/customers/not-a-uuid",
        "/customers/%27%20OR%201=1",
    ] {
        assert_problem(&s.get(path), 404);
        assert_problem(&s.delete(path), 404);
    }
}

#[test]
fn permissions_are_enforced() {
    let s = Server::start();
    let c = create(&s, json!({"email": "a@example.com"}));
    let cid = id(&c);
    assert_problem(&s.send("GET", "/customers", None, None, &[]), 401);
    assert_problem(
        &s.send("GET", "/customers", Some("kontor_wrong"), None, &[]),
        401,
    );

    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/customers").status, 200);
    assert_eq!(s.get_as(&ro, &format!("/customers/{cid}")).status, 200);
    assert_eq!(
        s.get_as(&ro, &format!("/customers/{cid}/children")).status,
        200
    );
    let body = json!({"email": "x@example.com", "paymentMethodId": null});
    for (method, path) in [
        ("POST", "/customers".to_string()),
        ("PUT", format!("/customers/{cid}")),
        ("DELETE", format!("/customers/{cid}")),
        ("PUT", format!("/customers/{cid}/archive")),
        ("PUT", format!("/customers/{cid}/unarchive")),
        ("PATCH", format!("/customers/{cid}/payment-method")),
    ] {
        let r = s.send_as(&ro, method, &path, Some(&body));
        assert_problem(&r, 403);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("customer:write"),
            "{method} {path}"
        );
    }
    assert_eq!(s.get(&format!("/customers/{cid}")).body, c);

    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    let r = s.get_as(&none, "/customers");
    assert_problem(&r, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("customer:read"));
}

#[test]
fn another_tenant_gets_404_everywhere_and_changes_nothing() {
    let s = Server::start();
    let c = create(&s, json!({"email": "mine@example.com"}));
    let cid = id(&c);
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let before = s.get(&format!("/customers/{cid}")).body;
    let outbox_before = count(&s, "outbox");
    let body = json!({"firstName": "Hacked", "paymentMethodId": null});
    for (method, path) in [
        ("GET", format!("/customers/{cid}")),
        ("PUT", format!("/customers/{cid}")),
        ("DELETE", format!("/customers/{cid}")),
        ("PUT", format!("/customers/{cid}/archive")),
        ("PUT", format!("/customers/{cid}/unarchive")),
        ("PATCH", format!("/customers/{cid}/payment-method")),
        ("GET", format!("/customers/{cid}/children")),
    ] {
        let r = s.send_as(&other, method, &path, Some(&body));
        assert_problem(&r, 404);
        assert_eq!(
            s.get(&format!("/customers/{cid}")).body,
            before,
            "{method} {path}"
        );
    }
    assert_eq!(count(&s, "outbox"), outbox_before);
    // Nor does it see the customer in its list or search.
    let r = s.get_as(&other, "/customers?search=mine");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(
        s.get_as(&other, "/customers").body["meta"]["pagination"]["totalItems"],
        0
    );
}
