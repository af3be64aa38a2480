//! Permission scopes (reference README §5) and the four predefined roles (reference 01 §4.3).

/// Every scope a role may hold. `ROLE_USER` is implicit for any member and not listed.
pub const ALL_SCOPES: &[&str] = &[
    "tenant:manager",
    "user:api-token:read",
    "user:api-token:write",
    "feature:read",
    "feature:write",
    "entitlement:read",
    "entitlement:write",
    "setting:read",
    "setting:write",
    "tax-group:read",
    "tax-group:write",
    "media:read",
    "media:write",
    "webhook:read",
    "webhook:write",
    "notification:read",
    "notification:write",
    "payment-method:read",
    "payment-method:write",
    "payment-method:migrate",
    "transaction:read",
    "transaction:write",
    "sepa-xml:read",
    "sepa-xml:write",
    "open-banking-account:read",
    "bank-account-transaction:read",
    "bank-account-transaction:write",
    "customer:read",
    "customer:write",
    "customer-settings:read",
    "customer-settings:write",
    "invoice:read",
    "invoice:write",
    "billing-run:read",
    "billing-run:write",
    "dunning-document:read",
    "dunning-document:write",
    "dunning-rule:read",
    "dunning-rule:write",
    "subscription:read",
    "subscription:write",
    "subscription-measurement:read",
    "subscription-measurement:write",
    "billing-group:read",
    "billing-group:write",
    "product-group:write",
    "offer:read",
    "offer:write",
    "unit:read",
    "unit:write",
    "measurement:read",
    "measurement:write",
    "product:read",
    "product:write",
    "product-family:read",
    "product-family:write",
    "price-plan:read",
    "price-plan:write",
    "coupon:read",
    "coupon:write",
    "checkout-link:read",
    "checkout-link:write",
    "cart:read",
    "cart:write",
    "accounting:accounts:read",
    "accounting:accounts:write",
];

pub fn is_scope(s: &str) -> bool {
    ALL_SCOPES.contains(&s)
}

/// Resources whose read and write scopes the `accounting` role holds.
const ACCOUNTING_RW: &[&str] = &[
    "customer",
    "customer-settings",
    "payment-method",
    "product",
    "product-family",
    "price-plan",
    "unit",
    "measurement",
    "coupon",
    "feature",
    "entitlement",
    "subscription",
    "subscription-measurement",
    "billing-group",
    "cart",
    "invoice",
    "billing-run",
    "transaction",
    "sepa-xml",
    "bank-account-transaction",
    "dunning-document",
    "dunning-rule",
    "setting",
];

/// Resources whose read and write scopes the `user` role holds.
const USER_RW: &[&str] = &[
    "customer",
    "customer-settings",
    "payment-method",
    "product",
    "product-family",
    "price-plan",
    "unit",
    "measurement",
    "coupon",
    "feature",
    "entitlement",
    "subscription",
    "subscription-measurement",
    "billing-group",
    "cart",
    "checkout-link",
    "offer",
    "invoice",
    "transaction",
];

const TOKEN_SCOPES: &[&str] = &["user:api-token:read", "user:api-token:write"];

fn reads() -> impl Iterator<Item = &'static str> {
    ALL_SCOPES.iter().copied().filter(|s| s.ends_with(":read"))
}

fn read_write(resources: &[&str]) -> Vec<&'static str> {
    ALL_SCOPES
        .iter()
        .copied()
        .filter(|s| {
            resources.iter().any(|r| {
                s.strip_prefix(r)
                    .is_some_and(|rest| rest == ":read" || rest == ":write")
            })
        })
        .collect()
}

fn sorted(mut v: Vec<&'static str>) -> Vec<String> {
    v.extend_from_slice(TOKEN_SCOPES);
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(str::to_string).collect()
}

/// `(id, name, scopes)` of the predefined roles every tenant starts with.
pub fn predefined_roles() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let administrator = sorted(ALL_SCOPES.to_vec());
    let mut accounting = read_write(ACCOUNTING_RW);
    accounting.extend(reads());
    let mut user = read_write(USER_RW);
    user.extend(reads().filter(|s| *s != "accounting:accounts:read"));
    vec![
        ("administrator", "Administrator", administrator),
        ("accounting", "Accounting", sorted(accounting)),
        ("user", "User", sorted(user)),
        ("read-only", "Read-only", sorted(reads().collect())),
    ]
}

pub const PREDEFINED_ROLE_IDS: &[&str] = &["administrator", "accounting", "user", "read-only"];

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str) -> Vec<String> {
        predefined_roles()
            .into_iter()
            .find(|(r, _, _)| *r == id)
            .unwrap()
            .2
    }

    #[test]
    fn predefined_role_sets() {
        assert!(role("administrator").contains(&"tenant:manager".to_string()));
        assert!(!role("accounting").contains(&"tenant:manager".to_string()));
        assert!(role("accounting").contains(&"setting:write".to_string()));
        assert!(role("accounting").contains(&"webhook:read".to_string()));
        assert!(!role("user").contains(&"accounting:accounts:read".to_string()));
        assert!(role("user").contains(&"offer:write".to_string()));
        let ro = role("read-only");
        assert!(ro.contains(&"user:api-token:write".to_string()));
        assert!(ro
            .iter()
            .all(|s| s.ends_with(":read") || s == "user:api-token:write"));
    }
}
