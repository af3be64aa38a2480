//! Customers: number ranges, update, archive, payment method, children, delete, outbox
//! events. Create and validation, lists, custom fields and access rules (permissions, tenant
//! isolation) are in the submodules.

mod access;
mod create;
mod custom_fields;
mod list;
mod read_after_change;

use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

pub(super) fn create(s: &Server, body: Value) -> Value {
    let r = s.post("/customers", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub(super) fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

pub(super) fn count(s: &Server, table: &str) -> i64 {
    s.db()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

pub(super) fn events(s: &Server, object: &str) -> Vec<String> {
    let conn = s.db();
    let mut stmt = conn
        .prepare("SELECT event_type FROM outbox WHERE object_id = ?1 ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([object], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

pub(super) fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
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
