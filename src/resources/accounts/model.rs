//! Account shapes (reference 01 §3, §5): the member read shape, the current user, and the invite
//! and role-change requests with their validation.

use crate::error::ApiResult;
use crate::http::input::Input;
use serde::Serialize;

/// The user behind a membership (installation-wide: one person may belong to several tenants).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUser {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// A membership of a user in the tenant; `id` is the membership id, not the user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub user: AccountUser,
    pub role: String,
    pub created_at: String,
    pub deactivated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantRef {
    pub id: String,
    pub name: String,
}

/// `GET /user/me`: the user, their membership in the token's tenant and the token's scopes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub tenant: TenantRef,
    pub role: String,
    pub permissions: Vec<String>,
}

/// Fynn's account `role` enum says `account` where kontor's role id is `accounting`.
pub fn role_alias(role: &str) -> &str {
    if role == "account" {
        "accounting"
    } else {
        role
    }
}

/// `POST /tenant/accounts`.
#[derive(Debug)]
pub struct InviteRequest {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
}

impl InviteRequest {
    /// Validates every field at once; `role_exists` asks the store about the tenant's roles so
    /// that an unknown role is reported together with the other violations.
    pub fn from_input(
        mut input: Input,
        role_exists: &dyn Fn(&str) -> ApiResult<bool>,
    ) -> ApiResult<InviteRequest> {
        input.reject_unknown(&["email", "firstName", "lastName", "role"]);
        let email = input
            .required_string("email")
            .filter(|e| input.check_email("email", e));
        let first_name = text(&mut input, "firstName");
        let last_name = text(&mut input, "lastName");
        let role = role(&mut input, role_exists)?;
        input.finish()?;
        Ok(InviteRequest {
            email: email.unwrap_or_default(),
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            role: role.unwrap_or_default(),
        })
    }
}

/// `PUT /tenant/accounts/{id}/role`: `{"role": "<role id>"}`.
pub fn role_request(
    mut input: Input,
    role_exists: &dyn Fn(&str) -> ApiResult<bool>,
) -> ApiResult<String> {
    input.reject_unknown(&["role"]);
    let role = role(&mut input, role_exists)?;
    input.finish()?;
    Ok(role.unwrap_or_default())
}

fn text(input: &mut Input, key: &str) -> Option<String> {
    let value = input.required_string(key)?;
    input.check_len(key, &value, 1, 255).then_some(value)
}

/// The `role` field: required, Fynn's alias resolved, and the role must exist in the tenant.
fn role(
    input: &mut Input,
    role_exists: &dyn Fn(&str) -> ApiResult<bool>,
) -> ApiResult<Option<String>> {
    let Some(given) = input.required_string("role") else {
        return Ok(None);
    };
    let role = role_alias(&given).to_string();
    if role_exists(&role)? {
        Ok(Some(role))
    } else {
        input.violation(
            "role",
            &format!("There is no role '{given}' in this tenant."),
            "unknown_role",
        );
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(r: &str) -> ApiResult<bool> {
        Ok(["administrator", "accounting"].contains(&r))
    }

    #[test]
    fn invite_collects_every_violation() {
        let input =
            Input::parse(br#"{"email":"nope","firstName":"","role":"boss","extra":1}"#).unwrap();
        let crate::error::ApiError::Validation(v) =
            InviteRequest::from_input(input, &known).unwrap_err()
        else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["extra", "email", "firstName", "lastName", "role"]
        );
    }

    #[test]
    fn fynn_account_alias_reads_as_accounting() {
        let input = Input::parse(br#"{"role":"account"}"#).unwrap();
        assert_eq!(role_request(input, &known).unwrap(), "accounting");
    }
}
