//! Customer `customFields`: checked against the tenant's definitions; values of deleted
//! definitions hidden but kept.

use super::{create, id, sorted};
use crate::common::{assert_problem, Server};
use serde_json::json;

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
