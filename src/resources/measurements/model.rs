//! Measurement shapes (reference 10 §2): the read model, the create/update body with every check
//! at once, and `reference`, the id-or-IRI-or-object reader the catalogue bodies share.

use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use crate::resources::units::model::UnitRef;
use serde::Serialize;
use serde_json::Value;

/// The six ways a billing period's values become one quantity (§2.3).
pub const AGGREGATIONS: &[&str] = &[
    "count",
    "count_unique",
    "max",
    "sum",
    "last_value",
    "average",
];

/// The code of the measurement every tenant is seeded with.
pub const DEFAULT_CODE: &str = "quantity";

/// A measurement as the API shows it (also embedded in products).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub id: String,
    pub code: String,
    pub description: String,
    pub unit: UnitRef,
    pub aggregation_type: String,
    pub fair_billing: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub updated_at: String,
    /// The seeded `quantity` measurement: not deletable, code fixed.
    #[serde(skip)]
    pub is_default: bool,
}

/// The id a body refers to: a plain id, an IRI whose last segment is the id
/// (`/catalogue/measurements/<id>`, README §9), or an embedded object `{"id": ...}` as a GET
/// returns it, so a read model can be sent back. `None` when the value is none of these.
pub fn reference(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.as_str(),
        Value::Object(map) => map.get("id")?.as_str()?,
        _ => return None,
    };
    let id = text.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    (!id.trim().is_empty()).then(|| id.to_string())
}

/// What the checks need to ask the database; implemented over the request's transaction in
/// `store::Lookup`, and by fakes in unit tests.
pub trait Lookup {
    fn unit_exists(&self, id: &str) -> ApiResult<bool>;
    /// Whether a measurement other than `except` already has this code.
    fn code_taken(&self, code: &str, except: Option<&str>) -> ApiResult<bool>;
}

/// Every writable field, complete: the row a create inserts or an update writes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementData {
    pub code: String,
    pub description: String,
    pub unit_id: String,
    pub aggregation_type: String,
    pub fair_billing: bool,
}

const WRITABLE: &[&str] = &[
    "code",
    "description",
    "unit",
    "aggregationType",
    "fairBilling",
];
/// Keys of the read model a client may send back; ignored on write.
const READ_ONLY: &[&str] = &["id", "type", "createdAt", "updatedAt"];

impl MeasurementData {
    /// `POST`: `code`, `unit` and `aggregationType` are required; `fairBilling` defaults to true.
    pub fn create(input: Input, lookup: &dyn Lookup) -> ApiResult<MeasurementData> {
        read(input, lookup, None)
    }

    /// `PUT`: the keys sent change, the others keep their values (as for customers); the
    /// aggregation type and the default measurement's code cannot change.
    pub fn update(
        input: Input,
        lookup: &dyn Lookup,
        current: &Measurement,
    ) -> ApiResult<MeasurementData> {
        read(input, lookup, Some(current))
    }
}

fn read(
    mut input: Input,
    lookup: &dyn Lookup,
    current: Option<&Measurement>,
) -> ApiResult<MeasurementData> {
    let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
    input.reject_unknown(&allowed);
    let code = if current.is_none() || input.has("code") {
        code(&mut input, lookup, current)?
    } else {
        None
    };
    let description = match input.string("description") {
        Field::Value(d) => {
            input.check_len_or_empty("description", &d, 0, 255);
            Some(d)
        }
        Field::Null => Some(String::new()),
        Field::Absent => None,
    };
    let unit_id = if current.is_none() || input.has("unit") {
        unit(&mut input, lookup)?
    } else {
        None
    };
    let aggregation_type = match input.string("aggregationType") {
        Field::Value(a) => {
            if input.check_one_of("aggregationType", &a, AGGREGATIONS) {
                if let Some(current) = current.filter(|c| c.aggregation_type != a) {
                    input.violation(
                        "aggregationType",
                        &format!(
                            "The aggregation type cannot be changed after creation (it is '{}').",
                            current.aggregation_type
                        ),
                        "immutable",
                    );
                }
            }
            Some(a)
        }
        Field::Null => {
            input.violation(
                "aggregationType",
                "This value should not be null.",
                "not_null",
            );
            None
        }
        Field::Absent => {
            if current.is_none() && !input.has("aggregationType") {
                input.violation("aggregationType", "This field is missing.", "missing_field");
            }
            None
        }
    };
    let fair_billing = match input.bool("fairBilling") {
        Field::Value(b) => Some(b),
        Field::Null => {
            input.violation("fairBilling", "This value should not be null.", "not_null");
            None
        }
        Field::Absent => None,
    };
    input.finish()?;
    let keep = |f: fn(&Measurement) -> String| current.map(f).unwrap_or_default();
    Ok(MeasurementData {
        code: code.unwrap_or_else(|| keep(|c| c.code.clone())),
        description: description.unwrap_or_else(|| keep(|c| c.description.clone())),
        unit_id: unit_id.unwrap_or_else(|| keep(|c| c.unit.id.clone())),
        aggregation_type: aggregation_type.unwrap_or_else(|| keep(|c| c.aggregation_type.clone())),
        fair_billing: fair_billing.unwrap_or(current.is_none_or(|c| c.fair_billing)),
    })
}

/// 1–255 characters without whitespace (codes name the measurement when usage is reported),
/// unique in the tenant.
fn code(
    input: &mut Input,
    lookup: &dyn Lookup,
    current: Option<&Measurement>,
) -> ApiResult<Option<String>> {
    let Some(code) = input.required_string("code") else {
        return Ok(None);
    };
    if !input.check_len("code", &code, 1, 255) {
        return Ok(None);
    }
    if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        input.violation(
            "code",
            "The code must not contain spaces or control characters.",
            "invalid_format",
        );
        return Ok(None);
    }
    if let Some(current) = current.filter(|c| c.is_default && c.code != code) {
        input.violation(
            "code",
            &format!(
                "The code of the default measurement '{}' cannot be changed.",
                current.code
            ),
            "read_only",
        );
        return Ok(None);
    }
    if lookup.code_taken(&code, current.map(|c| c.id.as_str()))? {
        input.violation(
            "code",
            "This code is already used by another measurement.",
            "not_unique",
        );
        return Ok(None);
    }
    Ok(Some(code))
}

/// The unit reference: required, and it must be a unit of the tenant (422, not 404).
fn unit(input: &mut Input, lookup: &dyn Lookup) -> ApiResult<Option<String>> {
    let id = match input.raw("unit") {
        None => {
            input.violation("unit", "This field is missing.", "missing_field");
            return Ok(None);
        }
        Some(Value::Null) => {
            input.violation("unit", "This value should not be null.", "not_null");
            return Ok(None);
        }
        Some(value) => reference(value),
    };
    let Some(id) = id else {
        input.violation("unit", "This value should be a unit id.", "invalid_type");
        return Ok(None);
    };
    if !lookup.unit_exists(&id)? {
        input.violation("unit", "No unit with this id exists.", "not_found");
        return Ok(None);
    }
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use serde_json::json;

    struct Fake;
    impl Lookup for Fake {
        fn unit_exists(&self, id: &str) -> ApiResult<bool> {
            Ok(id == "u1")
        }
        fn code_taken(&self, code: &str, except: Option<&str>) -> ApiResult<bool> {
            Ok(code == "users" && except != Some("m-users"))
        }
    }

    fn paths(r: ApiResult<MeasurementData>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(v)) => v.into_iter().map(|v| v.property_path).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    fn current() -> Measurement {
        Measurement {
            id: "m-users".into(),
            code: "users".into(),
            description: "Users".into(),
            unit: UnitRef {
                id: "u1".into(),
                name: "Stück".into(),
            },
            aggregation_type: "max".into(),
            fair_billing: false,
            kind: "recurring".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            is_default: false,
        }
    }

    #[test]
    fn references() {
        assert_eq!(reference(&json!("abc")), Some("abc".into()));
        assert_eq!(
            reference(&json!("/catalogue/measurements/abc")),
            Some("abc".into())
        );
        assert_eq!(
            reference(&json!({"id": "abc", "name": "x"})),
            Some("abc".into())
        );
        for bad in [
            json!(""),
            json!(5),
            json!({"name": "x"}),
            json!([]),
            json!("/"),
        ] {
            assert_eq!(reference(&bad), None, "{bad}");
        }
    }

    #[test]
    fn create_names_every_field() {
        let input = Input::parse(b"{}").unwrap();
        assert_eq!(
            paths(MeasurementData::create(input, &Fake)),
            ["code", "unit", "aggregationType"]
        );
        let input = Input::parse(
            br#"{"code":"users","description":5,"unit":"u2","aggregationType":"median",
                 "fairBilling":"yes","x":1}"#,
        )
        .unwrap();
        assert_eq!(
            paths(MeasurementData::create(input, &Fake)),
            [
                "x",
                "code",
                "description",
                "unit",
                "aggregationType",
                "fairBilling"
            ]
        );
        let input =
            Input::parse(br#"{"code":"a b","unit":{"id":"u1"},"aggregationType":"sum"}"#).unwrap();
        assert_eq!(paths(MeasurementData::create(input, &Fake)), ["code"]);
    }

    #[test]
    fn create_defaults() {
        let input =
            Input::parse(br#"{"code":"gb","unit":"/units/u1","aggregationType":"sum"}"#).unwrap();
        let d = MeasurementData::create(input, &Fake).unwrap();
        assert_eq!(
            d,
            MeasurementData {
                code: "gb".into(),
                description: String::new(),
                unit_id: "u1".into(),
                aggregation_type: "sum".into(),
                fair_billing: true,
            }
        );
    }

    #[test]
    fn update_keeps_unsent_keys_and_the_aggregation() {
        let input = Input::parse(br#"{"description":"Seats","aggregationType":"max"}"#).unwrap();
        let d = MeasurementData::update(input, &Fake, &current()).unwrap();
        assert_eq!(
            (d.code.as_str(), d.description.as_str(), d.fair_billing),
            ("users", "Seats", false)
        );
        let input = Input::parse(br#"{"aggregationType":"sum","code":"users"}"#).unwrap();
        assert_eq!(
            paths(MeasurementData::update(input, &Fake, &current())),
            ["aggregationType"]
        );
        let mut default = current();
        default.is_default = true;
        let input = Input::parse(br#"{"code":"seats"}"#).unwrap();
        assert_eq!(
            paths(MeasurementData::update(input, &Fake, &default)),
            ["code"]
        );
    }
}
