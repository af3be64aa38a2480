//! API token shapes: the create request, the list item (masked) and the one-time create response.

use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;

pub const MASK: &str = "**********";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: String,
    pub description: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Always the mask: the secret is not stored.
    pub api_token: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: String,
    /// The plain secret, shown in this response only.
    pub token: String,
    pub description: Option<String>,
    pub expires_at: Option<String>,
}

pub struct CreateRequest {
    pub description: Option<String>,
    pub expires_at: Option<String>,
}

impl CreateRequest {
    /// Both keys must be present (null allowed); `expiresAt` must lie in the future.
    pub fn from_input(mut input: Input) -> ApiResult<CreateRequest> {
        input.reject_unknown(&["description", "expiresAt"]);
        let description = match input.string("description") {
            Field::Value(d) => {
                input.check_len("description", &d, 0, 255);
                Some(d)
            }
            Field::Null => None,
            Field::Absent => {
                if !input.has("description") {
                    input.violation("description", "This field is missing.", "missing_field");
                }
                None
            }
        };
        let expires_at = match input.string("expiresAt") {
            Field::Value(s) => match crate::domain::time::parse(&s) {
                Some(t) if t > chrono::Utc::now() => Some(crate::domain::time::format(t)),
                Some(_) => {
                    input.violation(
                        "expiresAt",
                        "This value should be in the future.",
                        "in_past",
                    );
                    None
                }
                None => {
                    input.violation(
                        "expiresAt",
                        "This value is not a valid RFC 3339 date-time.",
                        "invalid_datetime",
                    );
                    None
                }
            },
            Field::Null => None,
            Field::Absent => {
                if !input.has("expiresAt") {
                    input.violation("expiresAt", "This field is missing.", "missing_field");
                }
                None
            }
        };
        input.finish()?;
        Ok(CreateRequest {
            description,
            expires_at,
        })
    }
}
