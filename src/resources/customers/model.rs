//! Customer shapes (reference 05 §1.3, §1.4): the stored row, the read model, and the
//! create/update body with its validation.

use super::children::{self, Children};
use super::fields;
use super::shown::Shown;
use crate::http::input::Input;
use crate::resources::customer_addresses::model::{Address, AddressWrite};
use crate::resources::customer_emails::model::EmailAddress;
use serde::Serialize;
use serde_json::{Map, Value};

pub const STATUSES: &[&str] = &["STATUS_ACTIVE", "STATUS_ARCHIVED", "STATUS_SUSPENDED"];
pub const LANGUAGES: &[&str] = &["de", "en"];
pub const GENDERS: &[&str] = &["male", "female", "diverse"];
pub const TAX_EXEMPT: &[&str] = &["auto", "exempt"];
/// Country of a customer that names none (reference 05 §1.3).
pub const DEFAULT_COUNTRY: &str = "DE";
pub const DEFAULT_TIME_ZONE: &str = "Europe/Berlin";

/// One `customers` row; the read model is assembled from it plus addresses and e-mails.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub id: String,
    pub customer_number: String,
    /// The login e-mail: always the default e-mail address (see customer_emails::store).
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company_name: Option<String>,
    pub currency_code: String,
    pub datev_id: Option<String>,
    pub language: String,
    pub time_zone: String,
    pub gender: Option<String>,
    pub phone: String,
    pub vat_id: String,
    pub is_vat_id_valid: bool,
    pub commercial_register_name: Option<String>,
    pub commercial_register_number: Option<String>,
    pub customer_group_id: Option<String>,
    pub contact_person_id: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub tax_exempt: String,
    pub status: String,
    pub default_payment_method_id: Option<String>,
    pub total_turnover_rank: i64,
    pub created_at: String,
}

impl CustomerRow {
    /// The defaults of a new customer before the request body is applied.
    pub fn new(id: String, created_at: String) -> CustomerRow {
        CustomerRow {
            id,
            customer_number: String::new(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            company_name: None,
            currency_code: String::new(),
            datev_id: None,
            language: "de".into(),
            time_zone: DEFAULT_TIME_ZONE.into(),
            gender: None,
            phone: String::new(),
            vat_id: String::new(),
            is_vat_id_valid: false,
            commercial_register_name: None,
            commercial_register_number: None,
            customer_group_id: None,
            contact_person_id: None,
            custom_fields: Map::new(),
            tax_exempt: "auto".into(),
            status: "STATUS_ACTIVE".into(),
            default_payment_method_id: None,
            total_turnover_rank: 0,
            created_at,
        }
    }
}

/// `{id}` of a referenced resource that kontor does not model yet (payment methods).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    pub id: String,
}

/// The merchant's contact person: a member (account) of the tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPerson {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// `Customer-CustomerRead`, field for field as reference 05 §1.4.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub customer_number: String,
    pub time_zone: String,
    pub first_name: String,
    pub last_name: String,
    pub company_name: Option<String>,
    pub country_code: String,
    pub currency_code: String,
    pub vat_id: String,
    pub is_vat_id_valid: bool,
    pub tax_exempt: String,
    pub datev_id: Option<String>,
    pub commercial_register_name: Option<String>,
    pub commercial_register_number: Option<String>,
    pub status: String,
    pub gender: Option<String>,
    pub phone: String,
    pub language: String,
    pub total_turn_over_rank: i64,
    pub created_at: String,
    pub business_customer: bool,
    pub contact_person: Option<ContactPerson>,
    pub customer_group: Option<Reference>,
    pub custom_fields: Map<String, Value>,
    pub email_addresses: Vec<Shown<EmailAddress>>,
    pub addresses: Vec<Shown<Address>>,
    pub default_address: Option<Shown<Address>>,
    pub default_invoice_address: Option<Shown<Address>>,
    pub default_email_address: Option<Shown<EmailAddress>>,
    pub default_invoice_email_address: Option<Shown<EmailAddress>>,
    pub default_payment_method: Option<Reference>,
}

impl Customer {
    /// Builds the read model, applying the billing fallbacks of reference 05 §1.5 and §3.3:
    /// - `defaultInvoiceAddress` = the default active `TYPE_INVOICE` address, else `defaultAddress`;
    /// - `defaultInvoiceEmailAddress` = the default address if it receives invoices, else the
    ///   oldest `isInvoiceEmail` address, else `defaultEmailAddress`;
    /// - `countryCode` is the default address's country (the flat address fields of a customer
    ///   body describe that address);
    /// - `businessCustomer` (kontor, 03 §3.4): a VAT id or company name on the customer or on
    ///   the address invoices go to.
    pub fn assemble(
        row: CustomerRow,
        contact_person: Option<ContactPerson>,
        addresses: Vec<Address>,
        email_addresses: Vec<EmailAddress>,
    ) -> Customer {
        let children = Children {
            addresses: children::shown(addresses),
            emails: children::shown(email_addresses),
        };
        Customer::assemble_shown(row, contact_person, children)
    }

    /// `assemble` from lists that may be shared with other reads (see `children`).
    pub fn assemble_shown(
        row: CustomerRow,
        contact_person: Option<ContactPerson>,
        children: Children,
    ) -> Customer {
        let Children {
            addresses,
            emails: email_addresses,
        } = children;
        let default_of = |kind: &str| {
            addresses
                .iter()
                .find(|a| a.default && a.kind == kind && !a.is_archived())
                .cloned()
        };
        let default_address = default_of("TYPE_DEFAULT");
        let default_invoice_address =
            default_of("TYPE_INVOICE").or_else(|| default_address.clone());
        let default_email_address = email_addresses.iter().find(|e| e.default).cloned();
        let default_invoice_email_address = default_email_address
            .iter()
            .find(|e| e.is_invoice_email)
            .or_else(|| email_addresses.iter().find(|e| e.is_invoice_email))
            .cloned()
            .or_else(|| default_email_address.clone());
        let country_code = default_address
            .as_ref()
            .map(|a| a.country_code.clone())
            .unwrap_or_else(|| DEFAULT_COUNTRY.to_string());
        let has = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
        let business_customer = has(Some(&row.vat_id))
            || has(row.company_name.as_deref())
            || default_invoice_address
                .as_ref()
                .is_some_and(|a| has(Some(&a.vat_id)) || has(a.company_name.as_deref()));
        Customer {
            id: row.id,
            customer_number: row.customer_number,
            time_zone: row.time_zone,
            first_name: row.first_name,
            last_name: row.last_name,
            company_name: row.company_name,
            country_code,
            currency_code: row.currency_code,
            vat_id: row.vat_id,
            is_vat_id_valid: row.is_vat_id_valid,
            tax_exempt: row.tax_exempt,
            datev_id: row.datev_id,
            commercial_register_name: row.commercial_register_name,
            commercial_register_number: row.commercial_register_number,
            status: row.status,
            gender: row.gender,
            phone: row.phone,
            language: row.language,
            total_turn_over_rank: row.total_turnover_rank,
            created_at: row.created_at,
            business_customer,
            contact_person,
            customer_group: row.customer_group_id.map(|id| Reference { id }),
            custom_fields: row.custom_fields,
            email_addresses,
            addresses,
            default_address,
            default_invoice_address,
            default_email_address,
            default_invoice_email_address,
            default_payment_method: row.default_payment_method_id.map(|id| Reference { id }),
        }
    }
}

/// Keys of the read model a client may echo back from a GET; ignored on write so that
/// read-modify-write round trips work. Any other unknown key is a 422.
const READ_ONLY: &[&str] = &[
    "id",
    "isVatIdValid",
    "status",
    "totalTurnOverRank",
    "createdAt",
    "businessCustomer",
    "emailAddresses",
    "addresses",
    "defaultAddress",
    "defaultInvoiceAddress",
    "defaultEmailAddress",
    "defaultInvoiceEmailAddress",
    "defaultPaymentMethod",
];

const WRITABLE: &[&str] = &[
    "email",
    "firstName",
    "lastName",
    "companyName",
    "street",
    "houseNumber",
    "zip",
    "city",
    "addition",
    "countryCode",
    "currencyCode",
    "customerNumber",
    "datevId",
    "invoiceEmail",
    "language",
    "timeZone",
    "gender",
    "phone",
    "vatId",
    "commercialRegisterName",
    "commercialRegisterNumber",
    "customerGroup",
    "contactPerson",
    "customFields",
    "taxExempt",
];

/// The keys of a customer body that were sent. On create, absent keys take their defaults;
/// on PUT, absent keys keep the stored value (Fynn's PUT updates the fields it is given).
#[derive(Debug, Default, Clone)]
pub struct CustomerWrite {
    pub email: Option<String>,
    /// `""` means "the same as `email`".
    pub invoice_email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<Option<String>>,
    /// street, houseNumber, zip, city, addition, countryCode of the default address.
    pub lines: AddressWrite,
    /// `""` means "the tenant's default currency".
    pub currency_code: Option<String>,
    /// `""` means "the next number of the `customer` range" (create) or "keep" (PUT).
    pub customer_number: Option<String>,
    pub datev_id: Option<Option<String>>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub gender: Option<Option<String>>,
    pub phone: Option<String>,
    pub vat_id: Option<String>,
    pub commercial_register_name: Option<Option<String>>,
    pub commercial_register_number: Option<Option<String>>,
    pub customer_group: Option<Option<String>>,
    pub contact_person: Option<Option<String>>,
    pub custom_fields: Option<Map<String, Value>>,
    pub tax_exempt: Option<String>,
}

impl CustomerWrite {
    /// Reads and checks every key, recording all violations on `input` (nothing fails early).
    pub fn read(input: &mut Input, creating: bool) -> CustomerWrite {
        let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
        input.reject_unknown(&allowed);
        let email = if creating {
            fields::required_email(input, "email").or(Some(String::new()))
        } else {
            fields::email(input, "email")
        };
        let invoice_email = match fields::text(input, "invoiceEmail", 0, 255) {
            Some(e) if !e.is_empty() => {
                input.check_email("invoiceEmail", &e);
                Some(e)
            }
            other => other,
        };
        let currency_code = fields::text(input, "currencyCode", 0, 255).map(|c| {
            let c = c.to_ascii_uppercase();
            if !c.is_empty() {
                input.check_currency("currencyCode", &c);
            }
            c
        });
        // Empty means the default zone, as an empty currency means the tenant's currency.
        let time_zone = fields::text(input, "timeZone", 0, 255).map(|tz| {
            if tz.is_empty() {
                return DEFAULT_TIME_ZONE.to_string();
            }
            input.check_time_zone("timeZone", &tz);
            tz
        });
        // Keys and values are checked against the tenant's definitions in write::conflicts.
        let custom_fields = fields::object(input, "customFields");
        let customer_group = fields::reference(input, "customerGroup");
        if let Some(Some(_)) = &customer_group {
            // Customer groups have no endpoints in kontor, so no id can name one (README §9:
            // an unknown id inside a body is a 422 on that field).
            input.violation(
                "customerGroup",
                "This customer group does not exist.",
                "not_found",
            );
        }
        CustomerWrite {
            email,
            invoice_email,
            first_name: fields::text(input, "firstName", 2, 255),
            last_name: fields::text(input, "lastName", 2, 255),
            company_name: fields::nullable_text(input, "companyName", 2, 255),
            lines: AddressWrite::read_lines(input),
            currency_code,
            customer_number: fields::text(input, "customerNumber", 2, 255),
            datev_id: fields::nullable_text(input, "datevId", 2, 255),
            language: fields::choice(input, "language", LANGUAGES),
            time_zone,
            gender: fields::nullable_choice(input, "gender", GENDERS),
            phone: fields::text(input, "phone", 0, 255),
            vat_id: fields::text(input, "vatId", 2, 255),
            commercial_register_name: fields::nullable_text(
                input,
                "commercialRegisterName",
                0,
                255,
            ),
            commercial_register_number: fields::nullable_text(
                input,
                "commercialRegisterNumber",
                0,
                255,
            ),
            customer_group,
            contact_person: fields::reference(input, "contactPerson"),
            custom_fields,
            tax_exempt: fields::choice(input, "taxExempt", TAX_EXEMPT),
        }
    }

    /// Applies the plain customer columns. Numbers, e-mail and currency defaults need the
    /// database and are settled by the store before this is called.
    pub fn apply(&self, row: &mut CustomerRow) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *target = v.clone();
            }
        }
        set(&mut row.first_name, &self.first_name);
        set(&mut row.last_name, &self.last_name);
        set(&mut row.company_name, &self.company_name);
        set(&mut row.language, &self.language);
        set(&mut row.time_zone, &self.time_zone);
        set(&mut row.gender, &self.gender);
        set(&mut row.phone, &self.phone);
        if let Some(vat) = &self.vat_id {
            if *vat != row.vat_id {
                // A new VAT id is unchecked until the (future) VAT check confirms it.
                row.is_vat_id_valid = false;
            }
            row.vat_id = vat.clone();
        }
        set(
            &mut row.commercial_register_name,
            &self.commercial_register_name,
        );
        set(
            &mut row.commercial_register_number,
            &self.commercial_register_number,
        );
        set(&mut row.customer_group_id, &self.customer_group);
        set(&mut row.contact_person_id, &self.contact_person);
        set(&mut row.custom_fields, &self.custom_fields);
        set(&mut row.tax_exempt, &self.tax_exempt);
    }

    /// The change to the default address: the flat address fields, plus the customer's names
    /// and VAT id so the address prints complete on documents (kontor: a change of those
    /// customer fields is carried over to the default address as well).
    pub fn default_address_patch(&self) -> AddressWrite {
        let name = |v: &Option<String>| {
            v.as_ref()
                .map(|s| Some(s.clone()).filter(|s| !s.is_empty()))
        };
        AddressWrite {
            company_name: self.company_name.clone(),
            first_name: name(&self.first_name),
            last_name: name(&self.last_name),
            vat_id: self.vat_id.clone(),
            ..self.lines.clone()
        }
    }
}
