//! A customer read right after each kind of change to its addresses and e-mail addresses shows
//! the change. Reads keep a customer's lists while nothing changed them
//! (`customers::children`); these reads run on one keep-alive connection, so on one server
//! thread, the one that kept the lists of the read before.

use crate::common::Server;
use serde_json::{json, Value};

fn read(s: &Server, id: &str) -> Value {
    let r = s.get(&format!("/customers/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn ok(r: crate::common::Resp) -> Value {
    assert!(r.status < 300, "{} {}", r.status, r.text);
    r.body
}

fn cities(c: &Value) -> Vec<&str> {
    let all = c["addresses"].as_array().unwrap();
    all.iter().map(|a| a["city"].as_str().unwrap()).collect()
}

fn emails(c: &Value) -> Vec<&str> {
    let all = c["emailAddresses"].as_array().unwrap();
    all.iter().map(|e| e["email"].as_str().unwrap()).collect()
}

#[test]
fn every_change_to_the_lists_shows_in_the_next_read() {
    let s = Server::start();
    let c = ok(s.post(
        "/customers",
        &json!({"email": "a@example.com", "city": "Berlin"}),
    ));
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(read(&s, &id), c);

    // Added: an invoice address becomes the default invoice address.
    let invoice = ok(s.post(
        &format!("/customers/{id}/addresses"),
        &json!({"type": "TYPE_INVOICE", "city": "Paris", "countryCode": "FR"}),
    ));
    let invoice_id = invoice["id"].as_str().unwrap();
    let after = read(&s, &id);
    assert_eq!(cities(&after), ["Berlin", "Paris"]);
    assert_eq!(after["defaultInvoiceAddress"]["city"], "Paris");

    // Updated.
    ok(s.put(
        &format!("/customer-addresses/{invoice_id}"),
        &json!({"city": "Lyon"}),
    ));
    let after = read(&s, &id);
    assert_eq!(cities(&after), ["Berlin", "Lyon"]);
    assert_eq!(after["defaultInvoiceAddress"]["city"], "Lyon");

    // Archived: invoices go to the default address again.
    ok(s.act("PUT", &format!("/customer-addresses/{invoice_id}/archive")));
    let after = read(&s, &id);
    assert_eq!(after["addresses"][1]["status"], "archived");
    assert_eq!(after["defaultInvoiceAddress"]["city"], "Berlin");

    // An e-mail address added, made the default, and the old one deleted.
    let b = ok(s.post(
        &format!("/customers/{id}/email-addresses"),
        &json!({"email": "b@example.com"}),
    ));
    assert_eq!(emails(&read(&s, &id)), ["a@example.com", "b@example.com"]);
    let b_id = b["id"].as_str().unwrap();
    ok(s.act("POST", &format!("/customer-email-addresses/{b_id}/default")));
    let after = read(&s, &id);
    assert_eq!(after["defaultEmailAddress"]["email"], "b@example.com");
    let a_id = c["emailAddresses"][0]["id"].as_str().unwrap();
    ok(s.act("DELETE", &format!("/customer-email-addresses/{a_id}")));
    assert_eq!(emails(&read(&s, &id)), ["b@example.com"]);

    // Changed in the file by another connection, past kontor's code: triggers restamp.
    let default_id = c["defaultAddress"]["id"].as_str().unwrap();
    s.db()
        .execute(
            "UPDATE customer_addresses SET city = 'Dresden' WHERE id = ?1",
            [default_id],
        )
        .unwrap();
    let after = read(&s, &id);
    assert_eq!(cities(&after), ["Dresden", "Lyon"]);
    assert_eq!(after["defaultAddress"]["city"], "Dresden");

    // The customer's own row is read every time.
    ok(s.put(&format!("/customers/{id}"), &json!({"firstName": "Erika"})));
    assert_eq!(read(&s, &id)["firstName"], "Erika");
}
