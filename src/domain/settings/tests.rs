//! Tests of the settings tables, effective values and value checks.

use super::*;

#[test]
fn defaults_pass_their_own_checks() {
    for k in TENANT_KEYS {
        assert_eq!(
            check(k.kind, &default_value(k.default)),
            None,
            "{}.{}",
            k.context,
            k.key
        );
        assert!(CONTEXTS.contains(&k.context));
    }
    for k in CUSTOMER_KEYS {
        if k.inherits {
            assert!(tenant_key(k.context, k.key).is_some(), "{}", k.key);
        }
    }
}

#[test]
fn customer_values_inherit_until_set() {
    let conn = crate::db::memory();
    conn.execute_batch(
        "INSERT INTO tenants VALUES ('t', 'T', 't', '', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
         INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
         VALUES ('c', 't', 'KD-1', 'c@example.com', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');",
    )
    .unwrap();
    let eff = |key| customer_effective(&conn, "t", "c", "billing", key).unwrap();
    assert_eq!(eff("defaultDueDays"), (json!(14), Source::Default));
    put(&conn, "t", "billing", "defaultDueDays", &json!(30)).unwrap();
    assert_eq!(eff("defaultDueDays"), (json!(30), Source::Organization));
    conn.execute(
        "INSERT INTO customer_settings VALUES ('t', 'c', 'billing', 'defaultDueDays', '7')",
        [],
    )
    .unwrap();
    assert_eq!(eff("defaultDueDays"), (json!(7), Source::Customer));
    put(&conn, "t", "billing", "defaultDueDays", &json!(60)).unwrap();
    assert_eq!(eff("defaultDueDays").0, json!(7), "customer value wins");
    // Customer-only keys never look at the tenant.
    assert_eq!(eff("leitwegId"), (Value::Null, Source::Default));
    remove(&conn, "t", "billing", "defaultDueDays").unwrap();
    assert_eq!(
        get(&conn, "t", "billing", "defaultDueDays").unwrap(),
        json!(14)
    );
}

#[test]
fn values_reads_several_keys_with_defaults() {
    let conn = crate::db::memory();
    conn.execute_batch(
        "INSERT INTO tenants VALUES ('t', 'T', 't', '', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');",
    )
    .unwrap();
    put(&conn, "t", "accounting", "useDebitorAccounts", &json!(true)).unwrap();
    put(&conn, "t", "organization", "timeZone", &json!("Asia/Tokyo")).unwrap();
    let keys = [
        ("organization", "defaultCurrency"),
        ("organization", "timeZone"),
        ("accounting", "useDebitorAccounts"),
        ("nope", "missing"),
    ];
    let got = values(&conn, "t", keys).unwrap();
    assert_eq!(
        got,
        [json!("EUR"), json!("Asia/Tokyo"), json!(true), Value::Null]
    );
    assert_eq!(got, keys.map(|(c, k)| get(&conn, "t", c, k).unwrap()));
    // Another tenant's values are not seen.
    assert_eq!(values(&conn, "u", keys).unwrap()[1], json!("Europe/Berlin"));
}

#[test]
fn customer_defaults_match_tenant_defaults() {
    for k in CUSTOMER_KEYS.iter().filter(|k| k.inherits) {
        let tk = tenant_key(k.context, k.key).unwrap();
        assert_eq!(
            default_value(k.default),
            default_value(tk.default),
            "{}",
            k.key
        );
        assert!(CUSTOMER_CONTEXTS.contains(&k.context));
    }
}

#[test]
fn checks_values() {
    assert!(check(Kind::Clock, &json!("06:00")).is_none());
    assert!(check(Kind::Clock, &json!("6:00")).is_some());
    assert!(check(Kind::Integer { min: 0, max: 365 }, &json!(-1)).is_some());
    assert!(check(
        Kind::Object(BANK),
        &json!({"iban": "DE89370400440532013000"})
    )
    .is_none());
    // A partial object is fine; a mistyped IBAN is not.
    assert!(check(Kind::Object(BANK), &json!({"iban": "DE02"})).is_some());
    assert!(check(Kind::Object(BANK), &json!({"swift": "X"})).is_some());
}
