//! Role shapes (reference 01 §4.2): the read shape and the create/replace requests with validation.

use crate::domain::permissions::is_scope;
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;

/// A role as the API shows it: `permissions` sorted and free of duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub id: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub predefined: bool,
}

impl Role {
    pub fn has(&self, scope: &str) -> bool {
        self.permissions.iter().any(|p| p == scope)
    }
}

/// Fynn's account `role` enum calls the accounting role `account`; accounts read it as
/// `accounting`, so a custom role with that id could never be assigned: refuse it.
const RESERVED_IDS: &[&str] = &["account"];

/// Lower kebab-case, 1–64 characters: `a-z`, `0-9`, single hyphens between them.
pub fn is_role_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `POST /roles`.
#[derive(Debug)]
pub struct CreateRequest {
    pub id: String,
    pub name: String,
    pub permissions: Vec<String>,
}

/// `PUT /roles/{id}`: replaces the writable fields.
#[derive(Debug)]
pub struct ReplaceRequest {
    pub name: String,
    pub permissions: Vec<String>,
}

impl CreateRequest {
    /// Validates every field at once; `id_taken` asks the store whether the id exists in the
    /// tenant, so a taken id is reported together with the other violations.
    pub fn from_input(
        mut input: Input,
        id_taken: &dyn Fn(&str) -> ApiResult<bool>,
    ) -> ApiResult<CreateRequest> {
        input.reject_unknown(&["id", "name", "permissions", "predefined"]);
        let id = match input.required_string("id") {
            Some(id) if !is_role_id(&id) => {
                input.violation(
                    "id",
                    "This value should be lower kebab-case (a-z, 0-9, single hyphens), 1 to 64 characters.",
                    "invalid_format",
                );
                None
            }
            Some(id) if RESERVED_IDS.contains(&id.as_str()) => {
                input.violation(
                    "id",
                    "This role id is reserved: it is read as 'accounting'.",
                    "reserved",
                );
                None
            }
            Some(id) if id_taken(&id)? => {
                input.violation("id", "This role id is already taken.", "not_unique");
                None
            }
            other => other,
        };
        let name = name(&mut input);
        let permissions = permissions(&mut input);
        read_only_predefined(&mut input);
        input.finish()?;
        Ok(CreateRequest {
            id: id.unwrap_or_default(),
            name: name.unwrap_or_default(),
            permissions: permissions.unwrap_or_default(),
        })
    }
}

impl ReplaceRequest {
    /// `id` and `predefined` may be echoed back from a GET (read-modify-write clients), but must
    /// not differ from the stored values: the id is immutable.
    pub fn from_input(mut input: Input, current_id: &str) -> ApiResult<ReplaceRequest> {
        input.reject_unknown(&["id", "name", "permissions", "predefined"]);
        match input.string("id") {
            Field::Value(id) if id == current_id => {}
            // Not sent, or of the wrong type (already reported by `string`).
            Field::Absent => {}
            _ => input.violation("id", "The role id cannot be changed.", "read_only"),
        }
        let name = name(&mut input);
        let permissions = permissions(&mut input);
        read_only_predefined(&mut input);
        input.finish()?;
        Ok(ReplaceRequest {
            name: name.unwrap_or_default(),
            permissions: permissions.unwrap_or_default(),
        })
    }
}

fn name(input: &mut Input) -> Option<String> {
    let name = input.required_string("name")?;
    input.check_len("name", &name, 1, 255).then_some(name)
}

/// The scope list: every entry must be a known scope, reported as `permissions[i]`.
/// The result is sorted and deduplicated, since a role is a set of scopes.
fn permissions(input: &mut Input) -> Option<Vec<String>> {
    let items = match input.array("permissions") {
        Field::Value(items) => items,
        Field::Null => {
            input.violation("permissions", "This value should not be null.", "not_null");
            return None;
        }
        Field::Absent => {
            if !input.has("permissions") {
                input.violation("permissions", "This field is missing.", "missing_field");
            }
            return None;
        }
    };
    let mut scopes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("permissions[{i}]");
        match item.as_str() {
            Some(s) if is_scope(s) => scopes.push(s.to_string()),
            Some(s) => input.violation(
                &key,
                &format!("'{s}' is not a known permission scope."),
                "unknown_scope",
            ),
            None => input.violation(&key, "This value should be of type string.", "invalid_type"),
        }
    }
    scopes.sort_unstable();
    scopes.dedup();
    Some(scopes)
}

/// `predefined` is read-only: tolerated when `false` (a custom role), refused otherwise.
fn read_only_predefined(input: &mut Input) {
    match input.bool("predefined") {
        Field::Absent | Field::Value(false) => {}
        _ => input.violation(
            "predefined",
            "Only the built-in roles are predefined; this field is read-only.",
            "read_only",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids() {
        for ok in ["a", "support", "level-2-support", &"x".repeat(64)] {
            assert!(is_role_id(ok), "{ok}");
        }
        for bad in [
            "",
            "Support",
            "-a",
            "a-",
            "a--b",
            "a_b",
            "ä",
            &"x".repeat(65),
        ] {
            assert!(!is_role_id(bad), "{bad}");
        }
    }

    #[test]
    fn every_violation_at_once() {
        let input = Input::parse(
            br#"{"id":"Bad Id","name":"","permissions":["customer:read",5,"nope"],"x":1}"#,
        )
        .unwrap();
        let err = CreateRequest::from_input(input, &|_| Ok(false)).unwrap_err();
        let crate::error::ApiError::Validation(v) = err else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["x", "id", "name", "permissions[1]", "permissions[2]"]
        );
    }

    #[test]
    fn permissions_are_a_sorted_set() {
        let input = Input::parse(
            br#"{"name":"N","permissions":["invoice:read","customer:read","invoice:read"]}"#,
        )
        .unwrap();
        let r = ReplaceRequest::from_input(input, "n").unwrap();
        assert_eq!(r.permissions, vec!["customer:read", "invoice:read"]);
    }
}
