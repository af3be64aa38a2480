//! Tenant shapes (reference 01 §2.2, §2.3): the read shape and the merge-patch request.

use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub username: String,
    pub legal_company_name: String,
}

/// The handle is Fynn's per-tenant subdomain (`{username}.coreapi.io`), so besides the documented
/// alphabet (lower-case letters, digits, `-`) it follows the DNS label rules: 1–63 characters,
/// no hyphen at either end (kontor).
pub fn is_username(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `PATCH /tenants/{id}` (merge patch): `None` keeps the stored value.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub legal_company_name: Option<String>,
    pub username: Option<String>,
}

impl TenantPatch {
    /// Validates every key at once. None of the fields may be cleared, so `null` is a 422.
    /// `username_taken` asks the store whether another tenant already uses the handle.
    pub fn from_input(
        mut input: Input,
        username_taken: &dyn Fn(&str) -> ApiResult<bool>,
    ) -> ApiResult<TenantPatch> {
        input.reject_unknown(&["name", "legalCompanyName", "username"]);
        let name = text(&mut input, "name");
        let legal_company_name = text(&mut input, "legalCompanyName");
        let username = match text(&mut input, "username") {
            Some(u) if !is_username(&u) => {
                input.violation(
                    "username",
                    "This value may contain only lower-case letters, digits and inner hyphens, 1 to 63 characters.",
                    "invalid_format",
                );
                None
            }
            Some(u) if username_taken(&u)? => {
                input.violation("username", "This username is already taken.", "not_unique");
                None
            }
            other => other,
        };
        input.finish()?;
        Ok(TenantPatch {
            name,
            legal_company_name,
            username,
        })
    }
}

/// A patched text field: absent keeps it, `null` or blank is refused, else 1–255 characters.
fn text(input: &mut Input, key: &str) -> Option<String> {
    match input.string(key) {
        Field::Absent => None,
        Field::Null => {
            input.violation(key, "This value should not be null.", "not_null");
            None
        }
        Field::Value(s) if s.trim().is_empty() => {
            input.violation(key, "This value should not be blank.", "not_blank");
            None
        }
        Field::Value(s) => input.check_len(key, &s, 1, 255).then_some(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["acme", "acme-2", "a", "0-x", &"a".repeat(63)] {
            assert!(is_username(ok), "{ok}");
        }
        for bad in [
            "",
            "Acme",
            "acme_x",
            "-acme",
            "acme-",
            "ac me",
            &"a".repeat(64),
        ] {
            assert!(!is_username(bad), "{bad}");
        }
    }

    #[test]
    fn patch_reads_only_sent_keys_and_reports_all() {
        let input = Input::parse(br#"{"name":"New"}"#).unwrap();
        let p = TenantPatch::from_input(input, &|_| Ok(false)).unwrap();
        assert_eq!(p.name.as_deref(), Some("New"));
        assert!(p.legal_company_name.is_none() && p.username.is_none());

        let input =
            Input::parse(br#"{"name":null,"legalCompanyName":" ","username":"taken","x":1}"#)
                .unwrap();
        let crate::error::ApiError::Validation(v) =
            TenantPatch::from_input(input, &|u| Ok(u == "taken")).unwrap_err()
        else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(paths, vec!["x", "name", "legalCompanyName", "username"]);
    }
}
