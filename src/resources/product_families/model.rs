//! Product family shapes (reference 10 §4): the read model and the create/update body.

use crate::error::ApiResult;
use crate::http::input::Input;
use serde::Serialize;

/// A family as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductFamily {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The `{id, name}` embed of a family inside products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyRef {
    pub id: String,
    pub name: String,
}

/// The body of `POST` and `PUT`: `name` (1–255, not blank) is the only writable field; the
/// read-only keys of the read model may be sent back and are ignored.
pub fn name_from_input(mut input: Input) -> ApiResult<String> {
    input.reject_unknown(&["name", "id", "createdAt", "updatedAt"]);
    let name = input
        .required_string("name")
        .filter(|name| input.check_len("name", name, 1, 255));
    input.finish()?;
    Ok(name.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn paths(body: &[u8]) -> Vec<String> {
        match name_from_input(Input::parse(body).unwrap()) {
            Err(ApiError::Validation(v)) => v.into_iter().map(|v| v.property_path).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn name_checks() {
        assert_eq!(paths(b"{}"), ["name"]);
        assert_eq!(paths(br#"{"name":"  ","color":"red"}"#), ["color", "name"]);
        assert_eq!(paths(br#"{"name":5}"#), ["name"]);
        let long = format!(r#"{{"name":"{}"}}"#, "n".repeat(256));
        assert_eq!(paths(long.as_bytes()), ["name"]);
        let ok = Input::parse(br#"{"id":"x","name":"Team Packages"}"#).unwrap();
        assert_eq!(name_from_input(ok).unwrap(), "Team Packages");
    }
}
