//! Customer address shapes (reference 05 §2.2): the read model and the create/update body.

use crate::http::input::Input;
use crate::resources::customers::fields;
use serde::Serialize;

pub const TYPES: &[&str] = &["TYPE_DEFAULT", "TYPE_INVOICE"];
pub const SALUTATIONS: &[&str] = &["Firma", "Herr", "Frau"];

/// One address as stored and as answered (`CustomerAddress`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub id: String,
    #[serde(skip)]
    pub customer_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub company_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub salutation: Option<String>,
    pub street: String,
    pub house_number: String,
    pub zip: String,
    pub city: String,
    pub addition: String,
    pub cost_centre: String,
    pub country_code: String,
    pub vat_id: String,
    pub default: bool,
    /// `active` | `archived`.
    pub status: String,
}

impl Address {
    /// A blank active address of `kind`; the store fills in id and customer.
    pub fn blank(kind: &str, country_code: &str, vat_id: &str) -> Address {
        Address {
            id: String::new(),
            customer_id: String::new(),
            kind: kind.to_string(),
            company_name: None,
            first_name: None,
            last_name: None,
            salutation: None,
            street: String::new(),
            house_number: String::new(),
            zip: String::new(),
            city: String::new(),
            addition: String::new(),
            cost_centre: String::new(),
            country_code: country_code.to_string(),
            vat_id: vat_id.to_string(),
            default: false,
            status: "active".into(),
        }
    }

    pub fn is_archived(&self) -> bool {
        self.status == "archived"
    }
}

/// The keys of an address body that were sent; `None` keeps the current (or default) value.
#[derive(Debug, Default, Clone)]
pub struct AddressWrite {
    pub kind: Option<String>,
    pub company_name: Option<Option<String>>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub salutation: Option<Option<String>>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    pub addition: Option<String>,
    pub cost_centre: Option<String>,
    /// `""` means "the customer's country".
    pub country_code: Option<String>,
    pub vat_id: Option<String>,
}

/// Keys of the address read model that a client may echo back; they are ignored on write.
const READ_ONLY: &[&str] = &["id", "default", "status"];

const WRITABLE: &[&str] = &[
    "type",
    "companyName",
    "firstName",
    "lastName",
    "salutation",
    "street",
    "houseNumber",
    "zip",
    "city",
    "addition",
    "costCentre",
    "countryCode",
    "vatId",
];

impl AddressWrite {
    /// Reads an address body; `type` is required on create and optional on update.
    pub fn read(input: &mut Input, creating: bool) -> AddressWrite {
        let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
        input.reject_unknown(&allowed);
        let kind = if creating && !input.has("type") {
            input.violation("type", "This value should not be blank.", "not_blank");
            None
        } else {
            fields::choice(input, "type", TYPES)
        };
        AddressWrite {
            kind,
            company_name: fields::nullable_text(input, "companyName", 0, 255),
            first_name: fields::nullable_text(input, "firstName", 0, 255),
            last_name: fields::nullable_text(input, "lastName", 0, 255),
            salutation: fields::nullable_choice(input, "salutation", SALUTATIONS),
            cost_centre: fields::text(input, "costCentre", 2, 255),
            vat_id: fields::text(input, "vatId", 2, 255),
            ..AddressWrite::read_lines(input)
        }
    }

    /// The postal lines shared with the flat address fields of a customer body.
    pub fn read_lines(input: &mut Input) -> AddressWrite {
        AddressWrite {
            street: fields::text(input, "street", 2, 255),
            house_number: fields::text(input, "houseNumber", 0, 255),
            zip: fields::text(input, "zip", 0, 255),
            city: fields::text(input, "city", 2, 255),
            addition: fields::text(input, "addition", 0, 255),
            country_code: fields::country(input, "countryCode"),
            ..AddressWrite::default()
        }
    }

    /// True when the body sent any key that changes the stored row.
    pub fn is_empty(&self) -> bool {
        self.kind.is_none()
            && self.company_name.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.salutation.is_none()
            && self.street.is_none()
            && self.house_number.is_none()
            && self.zip.is_none()
            && self.city.is_none()
            && self.addition.is_none()
            && self.cost_centre.is_none()
            && self.country_code.is_none()
            && self.vat_id.is_none()
    }

    /// Applies the sent keys; an empty country falls back to `customer_country`.
    pub fn apply(&self, a: &mut Address, customer_country: &str) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *target = v.clone();
            }
        }
        set(&mut a.kind, &self.kind);
        set(&mut a.company_name, &self.company_name);
        set(&mut a.first_name, &self.first_name);
        set(&mut a.last_name, &self.last_name);
        set(&mut a.salutation, &self.salutation);
        set(&mut a.street, &self.street);
        set(&mut a.house_number, &self.house_number);
        set(&mut a.zip, &self.zip);
        set(&mut a.city, &self.city);
        set(&mut a.addition, &self.addition);
        set(&mut a.cost_centre, &self.cost_centre);
        set(&mut a.vat_id, &self.vat_id);
        match self.country_code.as_deref() {
            Some("") => a.country_code = customer_country.to_string(),
            Some(c) => a.country_code = c.to_string(),
            None => {}
        }
    }
}
