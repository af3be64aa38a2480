//! The customer read model as JSON: byte for byte what serde writes for `Customer`, but each
//! address and e-mail address is serialized once, although the document repeats them as its
//! `default...` members (those copies were a third of the cost of serializing a customer).

use super::model::{ContactPerson, Customer, Reference};
use serde::Serialize;
use serde_json::{Map, Value};

/// The members of `Customer` before `emailAddresses`, in the same order and spelling.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Head<'a> {
    id: &'a str,
    customer_number: &'a str,
    time_zone: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    company_name: &'a Option<String>,
    country_code: &'a str,
    currency_code: &'a str,
    vat_id: &'a str,
    is_vat_id_valid: bool,
    tax_exempt: &'a str,
    datev_id: &'a Option<String>,
    commercial_register_name: &'a Option<String>,
    commercial_register_number: &'a Option<String>,
    status: &'a str,
    gender: &'a Option<String>,
    phone: &'a str,
    language: &'a str,
    total_turn_over_rank: i64,
    created_at: &'a str,
    business_customer: bool,
    contact_person: &'a Option<ContactPerson>,
    customer_group: &'a Option<Reference>,
    custom_fields: &'a Map<String, Value>,
}

/// `serde_json::to_string(customer)`, cheaper.
pub fn to_string(c: &Customer) -> serde_json::Result<String> {
    let head = Head {
        id: &c.id,
        customer_number: &c.customer_number,
        time_zone: &c.time_zone,
        first_name: &c.first_name,
        last_name: &c.last_name,
        company_name: &c.company_name,
        country_code: &c.country_code,
        currency_code: &c.currency_code,
        vat_id: &c.vat_id,
        is_vat_id_valid: c.is_vat_id_valid,
        tax_exempt: &c.tax_exempt,
        datev_id: &c.datev_id,
        commercial_register_name: &c.commercial_register_name,
        commercial_register_number: &c.commercial_register_number,
        status: &c.status,
        gender: &c.gender,
        phone: &c.phone,
        language: &c.language,
        total_turn_over_rank: c.total_turn_over_rank,
        created_at: &c.created_at,
        business_customer: c.business_customer,
        contact_person: &c.contact_person,
        customer_group: &c.customer_group,
        custom_fields: &c.custom_fields,
    };
    let mut out = String::with_capacity(2048);
    out.push_str(&serde_json::to_string(&head)?);
    // Reopen the object: the remaining members follow.
    out.pop();
    let emails = each(&c.email_addresses)?;
    let addresses = each(&c.addresses)?;
    list(&mut out, "emailAddresses", &emails);
    list(&mut out, "addresses", &addresses);
    one(
        &mut out,
        "defaultAddress",
        &c.default_address,
        &c.addresses,
        &addresses,
    )?;
    one(
        &mut out,
        "defaultInvoiceAddress",
        &c.default_invoice_address,
        &c.addresses,
        &addresses,
    )?;
    one(
        &mut out,
        "defaultEmailAddress",
        &c.default_email_address,
        &c.email_addresses,
        &emails,
    )?;
    one(
        &mut out,
        "defaultInvoiceEmailAddress",
        &c.default_invoice_email_address,
        &c.email_addresses,
        &emails,
    )?;
    key(&mut out, "defaultPaymentMethod");
    out.push_str(&serde_json::to_string(&c.default_payment_method)?);
    out.push('}');
    Ok(out)
}

fn each<T: Serialize>(items: &[T]) -> serde_json::Result<Vec<String>> {
    items.iter().map(serde_json::to_string).collect()
}

fn key(out: &mut String, name: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

fn list(out: &mut String, name: &str, items: &[String]) {
    key(out, name);
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
}

/// A `default...` member: the JSON of the equal list item when there is one.
fn one<T: Serialize + PartialEq>(
    out: &mut String,
    name: &str,
    value: &Option<T>,
    items: &[T],
    json: &[String],
) -> serde_json::Result<()> {
    key(out, name);
    match value {
        None => out.push_str("null"),
        Some(v) => match items.iter().position(|item| item == v) {
            Some(i) => out.push_str(&json[i]),
            None => out.push_str(&serde_json::to_string(v)?),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::customer_addresses::model::Address;
    use crate::resources::customer_emails::model::EmailAddress;
    use crate::resources::customers::model::CustomerRow;
    use serde_json::json;

    fn address(id: &str, kind: &str, default: bool) -> Address {
        let mut a = Address::blank(kind, "DE", "DE1");
        a.id = id.into();
        a.default = default;
        a.street = "Straße \"7\" \\ \u{1F600}\n".into();
        a.company_name = Some("ACME".into());
        a
    }

    fn email(id: &str, default: bool, invoice: bool) -> EmailAddress {
        let mut e = EmailAddress::new(&format!("{id}@example.com"));
        e.id = id.into();
        e.default = default;
        e.is_invoice_email = invoice;
        e
    }

    #[test]
    fn writes_what_serde_writes() {
        let mut row = CustomerRow::new("c1".into(), "2026-01-01T00:00:00+00:00".into());
        row.custom_fields = json!({"b": [1, "x"], "a": {"z": null}, "n": 1.5})
            .as_object()
            .unwrap()
            .clone();
        row.gender = Some("diverse".into());
        row.customer_group_id = Some("g".into());
        row.default_payment_method_id = Some("pm".into());
        let contact = Some(ContactPerson {
            id: "a1".into(),
            first_name: "Ä".into(),
            last_name: "<b>".into(),
            email: "x@y.z".into(),
        });
        let cases = [
            (None, vec![], vec![]),
            (
                contact.clone(),
                vec![address("a1", "TYPE_DEFAULT", true)],
                vec![email("e1", true, false)],
            ),
            (
                contact,
                vec![
                    address("a1", "TYPE_DEFAULT", true),
                    address("a2", "TYPE_INVOICE", true),
                    address("a3", "TYPE_INVOICE", false),
                ],
                vec![
                    email("e1", true, false),
                    email("e2", false, true),
                    email("e3", false, true),
                ],
            ),
        ];
        for (contact, addresses, emails) in cases {
            let c = Customer::assemble(row.clone(), contact, addresses, emails);
            assert_eq!(to_string(&c).unwrap(), serde_json::to_string(&c).unwrap());
        }
        // A default that is not in the list is written as it is.
        let mut c = Customer::assemble(row, None, vec![], vec![]);
        c.default_address = Some(address("x", "TYPE_DEFAULT", true));
        c.default_invoice_email_address = Some(email("y", false, true));
        assert_eq!(to_string(&c).unwrap(), serde_json::to_string(&c).unwrap());
    }
}
