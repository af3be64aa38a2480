//! Tenant settings: defaults per context, merge patch, reset with null, write-only SMTP password,
//! validation of every key at once, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::json;

#[test]
fn every_context_reads_with_defaults() {
    let s = Server::start();
    let r = s.get("/settings/billing");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"defaultDueDays": 14, "manualApproval": false, "generateZeroInvoices": false,
            "giroCode": true, "smallBusiness": false, "einvoiceFormat": "zugferd",
            "billingTime": "06:00"})
    );
    let org = s.get("/settings/organization").body;
    assert_eq!(org["countryCode"], "DE");
    assert_eq!(org["timeZone"], "Europe/Berlin");
    assert_eq!(org["defaultCurrency"], "EUR");
    assert_eq!(org["logo"], json!(null));
    assert_eq!(
        org["bankAccount"],
        json!({"iban": "", "bic": "", "bankName": "", "accountHolder": ""})
    );
    assert_eq!(s.get("/settings/sepa").body["leadDays"], 1);
    assert_eq!(s.get("/settings/dunning").body, json!({"enabled": true}));
    assert_eq!(s.get("/settings/accounting").body["chart"], "SKR03");
    let mail = s.get("/settings/mail").body;
    assert_eq!(mail["smtpPort"], 587);
    assert_eq!(mail["smtpPassword"], json!(null));
}

#[test]
fn unknown_context_is_404() {
    let s = Server::start();
    assert_problem(&s.get("/settings/nope"), 404);
    assert_problem(&s.patch("/settings/nope", &json!({"a": 1})), 404);
    assert_problem(&s.get("/settings/Billing"), 404);
}

#[test]
fn patch_changes_only_the_keys_sent_and_answers_the_context() {
    let s = Server::start();
    let r = s.patch(
        "/settings/billing",
        &json!({"defaultDueDays": 30, "einvoiceFormat": "xrechnung"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["defaultDueDays"], 30);
    assert_eq!(r.body["einvoiceFormat"], "xrechnung");
    assert_eq!(r.body["giroCode"], true, "untouched keys keep their value");
    assert_eq!(r.body.as_object().unwrap().len(), 7, "the whole context");
    assert_eq!(s.get("/settings/billing").body, r.body);
    // An empty patch changes nothing and still answers the context.
    let r = s.patch("/settings/billing", &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["defaultDueDays"], 30);
    // merge-patch+json is accepted as well.
    let r = s.send(
        "PATCH",
        "/settings/dunning",
        Some(&s.token),
        Some(&json!({"enabled": false})),
        &[("Content-Type", "application/merge-patch+json")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get("/settings/dunning").body, json!({"enabled": false}));
}

#[test]
fn null_resets_a_key_to_its_default() {
    let s = Server::start();
    s.patch(
        "/settings/organization",
        &json!({"countryCode": "AT", "companyName": "Acme"}),
    );
    let r = s.patch("/settings/organization", &json!({"countryCode": null}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["countryCode"], "DE");
    assert_eq!(r.body["companyName"], "Acme");
    // Resetting a key that was never set is harmless.
    assert_eq!(
        s.patch("/settings/organization", &json!({"vatId": null}))
            .status,
        200
    );
}

#[test]
fn bank_account_is_merged_and_normalised() {
    let s = Server::start();
    let r = s.patch(
        "/settings/organization",
        &json!({"bankAccount": {"iban": "de89 3704 0044 0532 0130 00", "bic": "cobadeff"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["bankAccount"],
        json!({"iban": "DE89370400440532013000", "bic": "COBADEFF", "bankName": "",
            "accountHolder": ""})
    );
    let r = s.patch(
        "/settings/organization",
        &json!({"bankAccount": {"accountHolder": "Acme GmbH", "bic": null}}),
    );
    assert_eq!(
        r.body["bankAccount"],
        json!({"iban": "DE89370400440532013000", "bic": "", "bankName": "",
            "accountHolder": "Acme GmbH"})
    );
    let r = s.patch(
        "/settings/sepa",
        &json!({"bankAccount": {"iban": "DE89370400440532013001", "swift": "x"}}),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["bankAccount"]);
    let r = s.patch(
        "/settings/sepa",
        &json!({"creditorIdentifier": "DE98ZZZ09999999999"}),
    );
    assert_eq!(r.body["creditorIdentifier"], "DE98ZZZ09999999999");
    let r = s.patch(
        "/settings/sepa",
        &json!({"creditorIdentifier": "DE97ZZZ09999999999"}),
    );
    assert_eq!(r.violation_paths(), vec!["creditorIdentifier"]);
    assert_eq!(
        r.body["violations"][0]["code"],
        "invalid_creditor_identifier"
    );
}

#[test]
fn validation_names_every_bad_key_and_changes_nothing() {
    let s = Server::start();
    let r = s.patch(
        "/settings/billing",
        &json!({"defaultDueDays": 400, "manualApproval": "yes", "einvoiceFormat": "pdf",
            "billingTime": "6:00", "unknownKey": true, "giroCode": false}),
    );
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "billingTime",
            "defaultDueDays",
            "einvoiceFormat",
            "manualApproval",
            "unknownKey"
        ]
    );
    let unknown = r.body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["propertyPath"] == "unknownKey")
        .unwrap();
    assert_eq!(unknown["code"], "unknown_field");
    // The valid key in the same body was not applied: the request is all or nothing.
    assert_eq!(s.get("/settings/billing").body["giroCode"], true);

    let r = s.patch(
        "/settings/organization",
        &json!({"countryCode": "XX", "defaultCurrency": "EURO", "timeZone": "Mars/Base",
            "locale": "fr", "email": "not-an-address", "companyName": 5}),
    );
    assert_eq!(r.violation_paths().len(), 6, "{}", r.text);
    // A key of another context is unknown here.
    let r = s.patch("/settings/billing", &json!({"smtpHost": "mx"}));
    assert_eq!(r.violation_paths(), vec!["smtpHost"]);
    assert_problem(
        &s.send_raw("PATCH", "/settings/billing", "application/json", b"{"),
        400,
    );
    assert_problem(
        &s.send_raw("PATCH", "/settings/billing", "application/json", b"[1]"),
        400,
    );
}

#[test]
fn smtp_password_is_write_only() {
    let s = Server::start();
    let r = s.patch(
        "/settings/mail",
        &json!({"smtpHost": "mail.acme.test", "smtpPassword": "hunter2"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["smtpPassword"], "**********");
    assert!(!r.text.contains("hunter2"));
    let read = s.get("/settings/mail");
    assert_eq!(read.body["smtpPassword"], "**********");
    assert!(!read.text.contains("hunter2"));
    // PATCHing back what GET showed keeps the password.
    let r = s.patch("/settings/mail", &read.body);
    assert_eq!(r.status, 200, "{}", r.text);
    let stored: String = s
        .db()
        .query_row(
            "SELECT value FROM settings WHERE context = 'mail' AND key = 'smtpPassword'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "\"hunter2\"");
    // null removes it.
    let r = s.patch("/settings/mail", &json!({"smtpPassword": null}));
    assert_eq!(r.body["smtpPassword"], json!(null));
}

#[test]
fn auth_and_scopes() {
    let s = Server::start();
    assert_problem(&s.send("GET", "/settings/billing", None, None, &[]), 401);
    assert_problem(
        &s.send("PATCH", "/settings/billing", None, Some(&json!({})), &[]),
        401,
    );
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, "/settings/billing").status, 200);
    let r = s.send_as(
        &ro,
        "PATCH",
        "/settings/billing",
        Some(&json!({"defaultDueDays": 1})),
    );
    assert_problem(&r, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("setting:write"));
    assert_eq!(s.get("/settings/billing").body["defaultDueDays"], 14);
    s.db()
        .execute(
            "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
             VALUES (?1, 'nothing', 'Nothing', '[]', 0, '2026-01-01T00:00:00+00:00')",
            [&s.tenant_id],
        )
        .unwrap();
    let none = s.token_with_role("nothing");
    let r = s.get_as(&none, "/settings/billing");
    assert_problem(&r, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("setting:read"));
}

#[test]
fn settings_are_isolated_per_tenant() {
    let s = Server::start();
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    s.patch(
        "/settings/organization",
        &json!({"companyName": "Acme GmbH", "timeZone": "America/New_York"}),
    );
    s.patch("/settings/mail", &json!({"smtpPassword": "acme-only"}));
    let theirs = s.get_as(&other, "/settings/organization").body;
    assert_eq!(theirs["companyName"], "");
    assert_eq!(theirs["timeZone"], "Europe/Berlin");
    assert_eq!(
        s.get_as(&other, "/settings/mail").body["smtpPassword"],
        json!(null)
    );
    // And the other tenant's change does not leak back.
    s.send_as(
        &other,
        "PATCH",
        "/settings/organization",
        Some(&json!({"companyName": "Other GmbH"})),
    );
    assert_eq!(
        s.get("/settings/organization").body["companyName"],
        "Acme GmbH"
    );
}
