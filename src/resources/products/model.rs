//! Product shapes (reference 10 §3): the read model with its embeds, and the create/update body
//! checked field by field, every violation at once.

use crate::error::{ApiResult, Violation};
use crate::http::input::{Field, Input};
use crate::resources::measurements::model::{reference, Measurement};
use crate::resources::product_families::model::FamilyRef;
use serde::Serialize;
use serde_json::{Map, Value};

pub const TYPES: &[&str] = &["product", "charge", "plan"];
pub const VISIBILITIES: &[&str] = &["always", "only_if_charged"];

/// Fynn's tax group embed; kontor fills `internalDescription` with the group's name and has no
/// reverse-charge treatment at the product level (it is decided per customer), hence `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxGroupRef {
    pub id: String,
    pub internal_description: String,
    pub reverse_charge_type: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

/// kontor has no cost-centre resource yet: the embed carries the stored id only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostCentreRef {
    pub id: String,
}

/// A product as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub internal_name: Option<String>,
    pub number: Option<String>,
    pub measurement: Measurement,
    pub product_families: Vec<FamilyRef>,
    pub tax_group: TaxGroupRef,
    pub invoice_visibility: String,
    pub cost_centre: Option<CostCentreRef>,
    pub is_archived: bool,
    pub custom_fields: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// What the checks ask the database; `store::Lookup` answers over the request's transaction.
pub trait Lookup {
    fn measurement_exists(&self, id: &str) -> ApiResult<bool>;
    /// The tenant's `quantity` measurement.
    fn default_measurement(&self) -> ApiResult<Option<String>>;
    fn tax_group_exists(&self, id: &str) -> ApiResult<bool>;
    /// The tenant's oldest tax group of type `standard`.
    fn default_tax_group(&self) -> ApiResult<Option<String>>;
    fn family_exists(&self, id: &str) -> ApiResult<bool>;
    /// Violations (`customFields.<key>`) of the map against the tenant's product definitions.
    fn custom_fields(&self, fields: &Map<String, Value>) -> ApiResult<Vec<Violation>>;
}

/// Every writable field, complete: what a create inserts or an update writes back.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductData {
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub internal_name: Option<String>,
    pub number: Option<String>,
    pub measurement_id: String,
    pub family_ids: Vec<String>,
    pub tax_group_id: String,
    pub invoice_visibility: String,
    pub cost_centre_id: Option<String>,
    pub custom_fields: Map<String, Value>,
}

const WRITABLE: &[&str] = &[
    "type",
    "name",
    "description",
    "internalName",
    "number",
    "measurement",
    "productFamilies",
    "taxGroup",
    "invoiceVisibility",
    "costCentre",
    "customFields",
];
/// Keys of the read model a client may send back; ignored on write.
const READ_ONLY: &[&str] = &["id", "isArchived", "createdAt", "updatedAt"];
const DESCRIPTION_MAX: usize = 10_000;

impl ProductData {
    /// `POST`: `type` and `name` are required; `measurement` defaults to the tenant's `quantity`
    /// measurement and `taxGroup` to its `standard` group.
    pub fn create(input: Input, lookup: &dyn Lookup) -> ApiResult<ProductData> {
        read(input, lookup, None)
    }

    /// `PUT`: the keys sent change, the others keep their values; `type` cannot change.
    pub fn update(
        input: Input,
        lookup: &dyn Lookup,
        current: ProductData,
    ) -> ApiResult<ProductData> {
        read(input, lookup, Some(current))
    }
}

fn read(
    mut input: Input,
    lookup: &dyn Lookup,
    current: Option<ProductData>,
) -> ApiResult<ProductData> {
    let creating = current.is_none();
    let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
    input.reject_unknown(&allowed);

    let kind = kind(&mut input, current.as_ref());
    let name = if creating || input.has("name") {
        input
            .required_string("name")
            .filter(|n| input.check_len("name", n, 1, 255))
    } else {
        None
    };
    let description = nullable_text(&mut input, "description", DESCRIPTION_MAX);
    let internal_name = nullable_text(&mut input, "internalName", 255);
    let number = nullable_text(&mut input, "number", 255);
    let measurement_id = required_ref(
        &mut input,
        "measurement",
        "measurement",
        creating,
        &|id| lookup.measurement_exists(id),
        &|| lookup.default_measurement(),
    )?;
    let family_ids = families(&mut input, lookup)?;
    let tax_group_id = required_ref(
        &mut input,
        "taxGroup",
        "tax group",
        creating,
        &|id| lookup.tax_group_exists(id),
        &|| lookup.default_tax_group(),
    )?;
    let invoice_visibility = match input.string("invoiceVisibility") {
        Field::Value(v) => input
            .check_one_of("invoiceVisibility", &v, VISIBILITIES)
            .then_some(v),
        Field::Null => {
            input.violation(
                "invoiceVisibility",
                "This value should not be null.",
                "not_null",
            );
            None
        }
        Field::Absent => None,
    };
    let cost_centre_id = cost_centre(&mut input);
    let custom_fields = match input.object("customFields") {
        Field::Value(map) => Some(map),
        Field::Null => Some(Map::new()),
        Field::Absent if creating => Some(Map::new()),
        Field::Absent => None,
    };
    // On create the (possibly empty) map is always checked, so required definitions are enforced.
    if let Some(map) = &custom_fields {
        for v in lookup.custom_fields(map)? {
            input.violation(&v.property_path, &v.message, &v.code);
        }
    }
    input.finish()?;

    let current = current.unwrap_or_else(|| ProductData {
        kind: String::new(),
        name: String::new(),
        description: None,
        internal_name: None,
        number: None,
        measurement_id: String::new(),
        family_ids: Vec::new(),
        tax_group_id: String::new(),
        invoice_visibility: "always".into(),
        cost_centre_id: None,
        custom_fields: Map::new(),
    });
    Ok(ProductData {
        kind: kind.unwrap_or(current.kind),
        name: name.unwrap_or(current.name),
        description: description.unwrap_or(current.description),
        internal_name: internal_name.unwrap_or(current.internal_name),
        number: number.unwrap_or(current.number),
        measurement_id: measurement_id.unwrap_or(current.measurement_id),
        family_ids: family_ids.unwrap_or(current.family_ids),
        tax_group_id: tax_group_id.unwrap_or(current.tax_group_id),
        invoice_visibility: invoice_visibility.unwrap_or(current.invoice_visibility),
        cost_centre_id: cost_centre_id.unwrap_or(current.cost_centre_id),
        custom_fields: custom_fields.unwrap_or(current.custom_fields),
    })
}

/// `type`: required on create; on update it may be repeated but not changed.
fn kind(input: &mut Input, current: Option<&ProductData>) -> Option<String> {
    match input.string("type") {
        Field::Value(t) => {
            if !input.check_one_of("type", &t, TYPES) {
                return None;
            }
            match current {
                Some(c) if c.kind != t => {
                    input.violation(
                        "type",
                        &format!(
                            "The product type cannot be changed after creation (it is '{}').",
                            c.kind
                        ),
                        "immutable",
                    );
                    None
                }
                _ => Some(t),
            }
        }
        Field::Null => {
            input.violation("type", "This value should not be null.", "not_null");
            None
        }
        Field::Absent => {
            if current.is_none() && !input.has("type") {
                input.violation("type", "This field is missing.", "missing_field");
            }
            None
        }
    }
}

/// A nullable text: `Some(None)` clears it (`null` or `""`), `None` means not sent.
fn nullable_text(input: &mut Input, key: &str, max: usize) -> Option<Option<String>> {
    match input.string(key) {
        Field::Value(s) if s.is_empty() => Some(None),
        Field::Value(s) => input.check_len(key, &s, 1, max).then_some(Some(s)),
        Field::Null => Some(None),
        Field::Absent => None,
    }
}

/// A reference the product must have (`measurement`, `taxGroup`): absent on create takes the
/// tenant default, `null` is refused, an id the tenant does not have is a 422 on the field.
fn required_ref(
    input: &mut Input,
    key: &str,
    what: &str,
    creating: bool,
    exists: &dyn Fn(&str) -> ApiResult<bool>,
    default: &dyn Fn() -> ApiResult<Option<String>>,
) -> ApiResult<Option<String>> {
    let id = match input.raw(key) {
        None if creating => {
            let found = default()?;
            if found.is_none() {
                input.violation(
                    key,
                    &format!("The tenant has no default {what}; send its id."),
                    "missing_field",
                );
            }
            return Ok(found);
        }
        None => return Ok(None),
        Some(Value::Null) => {
            input.violation(key, "This value should not be null.", "not_null");
            return Ok(None);
        }
        Some(value) => reference(value),
    };
    let Some(id) = id else {
        input.violation(
            key,
            &format!("This value should be a {what} id."),
            "invalid_type",
        );
        return Ok(None);
    };
    if !exists(&id)? {
        input.violation(key, &format!("No {what} with this id exists."), "not_found");
        return Ok(None);
    }
    Ok(Some(id))
}

/// `productFamilies`: ids (or IRIs, or `{id}` objects); `null` means none. Duplicates collapse.
fn families(input: &mut Input, lookup: &dyn Lookup) -> ApiResult<Option<Vec<String>>> {
    let items = match input.array("productFamilies") {
        Field::Value(items) => items,
        Field::Null => return Ok(Some(Vec::new())),
        Field::Absent => return Ok(None),
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("productFamilies[{i}]");
        match reference(item) {
            None => input.violation(
                &key,
                "This value should be a product family id.",
                "invalid_type",
            ),
            Some(id) if ids.contains(&id) => {}
            Some(id) if lookup.family_exists(&id)? => ids.push(id),
            Some(_) => input.violation(&key, "No product family with this id exists.", "not_found"),
        }
    }
    Ok(Some(ids))
}

/// `costCentre`: an id (1–255) or `null`. There is no cost-centre resource to check it against.
fn cost_centre(input: &mut Input) -> Option<Option<String>> {
    match input.raw("costCentre") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(value) => match reference(value) {
            Some(id) => input
                .check_len("costCentre", &id, 1, 255)
                .then_some(Some(id)),
            None => {
                input.violation(
                    "costCentre",
                    "This value should be a cost centre id or null.",
                    "invalid_type",
                );
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    struct Fake;
    impl Lookup for Fake {
        fn measurement_exists(&self, id: &str) -> ApiResult<bool> {
            Ok(id == "m-users" || id == "m-qty")
        }
        fn default_measurement(&self) -> ApiResult<Option<String>> {
            Ok(Some("m-qty".into()))
        }
        fn tax_group_exists(&self, id: &str) -> ApiResult<bool> {
            Ok(id == "tg-std" || id == "tg-red")
        }
        fn default_tax_group(&self) -> ApiResult<Option<String>> {
            Ok(Some("tg-std".into()))
        }
        fn family_exists(&self, id: &str) -> ApiResult<bool> {
            Ok(id.starts_with("fam"))
        }
        fn custom_fields(&self, fields: &Map<String, Value>) -> ApiResult<Vec<Violation>> {
            Ok(fields
                .keys()
                .filter(|k| *k != "known")
                .map(|k| Violation::new(format!("customFields.{k}"), "Unknown.", "unknown"))
                .collect())
        }
    }

    fn create(body: &str) -> ApiResult<ProductData> {
        ProductData::create(Input::parse(body.as_bytes()).unwrap(), &Fake)
    }

    fn paths(r: ApiResult<ProductData>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(v)) => v.into_iter().map(|v| v.property_path).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn create_applies_defaults() {
        let d = create(r#"{"type":"product","name":"Basic"}"#).unwrap();
        assert_eq!(
            (
                d.measurement_id.as_str(),
                d.tax_group_id.as_str(),
                d.invoice_visibility.as_str()
            ),
            ("m-qty", "tg-std", "always")
        );
        assert!(d.family_ids.is_empty() && d.custom_fields.is_empty());
        assert_eq!((d.description, d.cost_centre_id), (None, None));
    }

    #[test]
    fn create_names_every_invalid_field() {
        assert_eq!(paths(create("{}")), ["type", "name"]);
        let r = create(
            r#"{"type":"bundle","name":"","description":7,"internalName":"","number":null,
                "measurement":"nope","productFamilies":["fam1",5,"other","fam1"],
                "taxGroup":null,"invoiceVisibility":"never","costCentre":[],
                "customFields":{"known":1,"color":"red"},"extra":true}"#,
        );
        assert_eq!(
            paths(r),
            [
                "extra",
                "type",
                "name",
                "description",
                "measurement",
                "productFamilies[1]",
                "productFamilies[2]",
                "taxGroup",
                "invoiceVisibility",
                "costCentre",
                "customFields.color"
            ]
        );
    }

    #[test]
    fn references_take_ids_iris_and_objects_and_collapse_duplicates() {
        let d = create(
            r#"{"type":"charge","name":"Setup","measurement":{"id":"m-users"},
                "taxGroup":"/tax-groups/tg-red","productFamilies":["fam1",{"id":"fam1"},"fam2"],
                "costCentre":"KOST1","customFields":{"known":"x"},"id":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(d.measurement_id, "m-users");
        assert_eq!(d.tax_group_id, "tg-red");
        assert_eq!(d.family_ids, ["fam1", "fam2"]);
        assert_eq!(d.cost_centre_id.as_deref(), Some("KOST1"));
    }

    #[test]
    fn update_keeps_unsent_keys_and_the_type() {
        let current = create(r#"{"type":"product","name":"Basic","description":"D"}"#).unwrap();
        let input = Input::parse(br#"{"name":"Pro","description":null}"#).unwrap();
        let d = ProductData::update(input, &Fake, current.clone()).unwrap();
        assert_eq!((d.name.as_str(), d.description.as_deref()), ("Pro", None));
        assert_eq!(d.measurement_id, current.measurement_id);
        let input = Input::parse(br#"{"type":"charge","name":" ","measurement":null}"#).unwrap();
        assert_eq!(
            paths(ProductData::update(input, &Fake, current.clone())),
            ["type", "name", "measurement"]
        );
        let input = Input::parse(br#"{"type":"product"}"#).unwrap();
        assert!(ProductData::update(input, &Fake, current).is_ok());
    }
}
