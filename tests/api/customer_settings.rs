//! Customer settings: value and source per key, inheritance from the tenant until the customer
//! sets its own value, removal with null, validation, permissions and tenant isolation.

use crate::common::{assert_problem, Server};
use serde_json::json;

/// Creates a customer through the API with the given token; returns its id.
fn customer(s: &Server, token: &str, email: &str) -> String {
    let r = s.send_as(
        token,
        "POST",
        "/customers",
        Some(&json!({ "email": email })),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().expect("id").to_string()
}

#[test]
fn defaults_with_their_source() {
    let s = Server::start();
    let c = customer(&s, &s.token, "c-defaults@example.test");
    let r = s.get(&format!("/customers/{c}/settings/billing"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "defaultDueDays": {"value": 14, "source": "default"},
            "einvoiceFormat": {"value": "zugferd", "source": "default"},
            "leitwegId": {"value": null, "source": "default"},
            "manualApproval": {"value": false, "source": "default"}
        })
    );
    let r = s.get(&format!("/customers/{c}/settings/dunning"));
    assert_eq!(
        r.body,
        json!({
            "enabled": {"value": true, "source": "default"},
            "feesEnabled": {"value": true, "source": "default"}
        })
    );
}

#[test]
fn follows_the_organisation_until_set_and_again_after_null() {
    let s = Server::start();
    let c = customer(&s, &s.token, "c-inherit@example.test");
    let path = format!("/customers/{c}/settings/billing");
    let due = |s: &Server| s.get(&path).body["defaultDueDays"].clone();

    s.patch("/settings/billing", &json!({"defaultDueDays": 30}));
    assert_eq!(due(&s), json!({"value": 30, "source": "organization"}));

    let r = s.patch(&path, &json!({"defaultDueDays": 10}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["defaultDueDays"],
        json!({"value": 10, "source": "customer"})
    );
    assert_eq!(
        r.body["einvoiceFormat"]["source"], "default",
        "the whole context"
    );

    // The organisation changes again: the customer keeps its own value.
    s.patch("/settings/billing", &json!({"defaultDueDays": 45}));
    assert_eq!(due(&s), json!({"value": 10, "source": "customer"}));

    // null removes the customer value: the key follows the organisation again.
    let r = s.patch(&path, &json!({"defaultDueDays": null}));
    assert_eq!(
        r.body["defaultDueDays"],
        json!({"value": 45, "source": "organization"})
    );
    // The organisation resets its value: the system default shows through.
    s.patch("/settings/billing", &json!({"defaultDueDays": null}));
    assert_eq!(due(&s), json!({"value": 14, "source": "default"}));

    // A value equal to the organisation's is still the customer's own.
    s.patch("/settings/billing", &json!({"einvoiceFormat": "xrechnung"}));
    let r = s.patch(&path, &json!({"einvoiceFormat": "xrechnung"}));
    assert_eq!(
        r.body["einvoiceFormat"],
        json!({"value": "xrechnung", "source": "customer"})
    );
    s.patch("/settings/billing", &json!({"einvoiceFormat": "zugferd"}));
    assert_eq!(s.get(&path).body["einvoiceFormat"]["value"], "xrechnung");
}

#[test]
fn customer_only_keys() {
    let s = Server::start();
    let c = customer(&s, &s.token, "c-only@example.test");
    let r = s.patch(
        &format!("/customers/{c}/settings/billing"),
        &json!({"leitwegId": "04011000-1234512345-06", "manualApproval": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["leitwegId"],
        json!({"value": "04011000-1234512345-06", "source": "customer"})
    );
    assert_eq!(
        r.body["manualApproval"],
        json!({"value": true, "source": "customer"})
    );
    let r = s.patch(
        &format!("/customers/{c}/settings/dunning"),
        &json!({"enabled": false, "feesEnabled": false}),
    );
    assert_eq!(
        r.body,
        json!({"enabled": {"value": false, "source": "customer"},
            "feesEnabled": {"value": false, "source": "customer"}})
    );
    let r = s.patch(
        &format!("/customers/{c}/settings/billing"),
        &json!({"leitwegId": null}),
    );
    assert_eq!(
        r.body["leitwegId"],
        json!({"value": null, "source": "default"})
    );
}

#[test]
fn validation_and_unknown_context() {
    let s = Server::start();
    let c = customer(&s, &s.token, "c-valid@example.test");
    let path = format!("/customers/{c}/settings/billing");
    let r = s.patch(
        &path,
        &json!({"defaultDueDays": -1, "einvoiceFormat": "pdf", "leitwegId": 5,
            "giroCode": true, "manualApproval": false}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        vec!["defaultDueDays", "einvoiceFormat", "giroCode", "leitwegId"]
    );
    // All or nothing: the valid key of that body was not stored.
    assert_eq!(s.get(&path).body["manualApproval"]["source"], "default");
    let r = s.patch(&path, &json!({"leitwegId": "x".repeat(47)}));
    assert_eq!(r.violation_paths(), vec!["leitwegId"]);

    assert_problem(&s.get(&format!("/customers/{c}/settings/mail")), 404);
    assert_problem(
        &s.get(&format!("/customers/{c}/settings/organization")),
        404,
    );
    assert_problem(
        &s.patch(
            &format!("/customers/{c}/settings/mail"),
            &json!({"smtpHost": "x"}),
        ),
        404,
    );
    assert_problem(&s.get("/customers/no-such-customer/settings/billing"), 404);
    assert_problem(
        &s.patch(
            "/customers/no-such-customer/settings/billing",
            &json!({"defaultDueDays": 1}),
        ),
        404,
    );
}

#[test]
fn auth_and_scopes() {
    let s = Server::start();
    let c = customer(&s, &s.token, "c-auth@example.test");
    let path = format!("/customers/{c}/settings/billing");
    assert_problem(&s.send("GET", &path, None, None, &[]), 401);
    assert_problem(
        &s.send(
            "PATCH",
            &path,
            None,
            Some(&json!({"defaultDueDays": 1})),
            &[],
        ),
        401,
    );
    let ro = s.token_with_role("read-only");
    assert_eq!(s.get_as(&ro, &path).status, 200);
    let r = s.send_as(&ro, "PATCH", &path, Some(&json!({"defaultDueDays": 1})));
    assert_problem(&r, 403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("customer-settings:write"));
    assert_eq!(s.get(&path).body["defaultDueDays"]["source"], "default");
}

#[test]
fn another_tenants_customer_is_404_and_unchanged() {
    let s = Server::start();
    let (_, other) = s.new_tenant("Other GmbH", "boss@other.test");
    let mine = customer(&s, &s.token, "c-mine@example.test");
    let theirs = customer(&s, &other, "c-theirs@example.test");
    s.send_as(
        &other,
        "PATCH",
        &format!("/customers/{theirs}/settings/billing"),
        Some(&json!({"defaultDueDays": 60})),
    );
    let path = format!("/customers/{theirs}/settings/billing");
    assert_problem(&s.get(&path), 404);
    assert_problem(&s.patch(&path, &json!({"defaultDueDays": 1})), 404);
    assert_problem(&s.patch(&path, &json!({"defaultDueDays": null})), 404);
    let r = s.get_as(&other, &path);
    assert_eq!(
        r.body["defaultDueDays"],
        json!({"value": 60, "source": "customer"})
    );
    assert_problem(
        &s.get_as(&other, &format!("/customers/{mine}/settings/billing")),
        404,
    );
    // The other tenant's organisation value does not reach this tenant's customers.
    s.send_as(
        &other,
        "PATCH",
        "/settings/billing",
        Some(&json!({"einvoiceFormat": "xrechnung"})),
    );
    assert_eq!(
        s.get(&format!("/customers/{mine}/settings/billing")).body["einvoiceFormat"],
        json!({"value": "zugferd", "source": "default"})
    );
}
