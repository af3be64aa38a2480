//! Customer e-mail address shapes (reference 05 §3.2): the read model (current generation) and
//! the create/update bodies of both schema generations.

use crate::http::input::Input;
use crate::resources::customers::fields;
use serde::Serialize;

/// Types of the older schema generation; `TYPE_INVOICE` means `isInvoiceEmail: true`.
pub const LEGACY_TYPES: &[&str] = &["TYPE_COMPANY", "TYPE_INVOICE"];

/// One e-mail address as stored and as answered (`CustomerEmail`, current generation).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    pub id: String,
    #[serde(skip)]
    pub customer_id: String,
    pub email: String,
    pub receiver_name: String,
    pub is_invoice_email: bool,
    pub is_dunning_email: bool,
    pub default: bool,
}

impl EmailAddress {
    pub fn new(email: &str) -> EmailAddress {
        EmailAddress {
            id: String::new(),
            customer_id: String::new(),
            email: email.to_string(),
            receiver_name: String::new(),
            is_invoice_email: false,
            is_dunning_email: false,
            default: false,
        }
    }
}

/// The keys of an e-mail body that were sent; `None` keeps the current (or default) value.
#[derive(Debug, Default, Clone)]
pub struct EmailWrite {
    pub email: Option<String>,
    pub receiver_name: Option<String>,
    pub is_invoice_email: Option<bool>,
    pub is_dunning_email: Option<bool>,
    /// Create only: make the new address the default (and so the customer's login e-mail).
    pub is_default: Option<bool>,
}

const READ_ONLY: &[&str] = &["id", "default"];

impl EmailWrite {
    /// Reads either generation. A body with `type` is the older one: there `receiverName` and
    /// `type` are required, and `type: TYPE_INVOICE` sets `isInvoiceEmail`. The current keys are
    /// accepted alongside, so a client mid-migration is not punished for sending both.
    pub fn read(input: &mut Input, creating: bool) -> EmailWrite {
        let mut allowed = vec![
            "email",
            "receiverName",
            "isInvoiceEmail",
            "isDunningEmail",
            "type",
        ];
        if creating {
            allowed.push("isDefault");
        }
        allowed.extend_from_slice(READ_ONLY);
        input.reject_unknown(&allowed);
        let legacy = input.has("type");
        let email = if creating {
            fields::required_email(input, "email").or(Some(String::new()))
        } else {
            fields::email(input, "email")
        };
        let receiver_name = if legacy && creating {
            let name = input.required_string("receiverName");
            if let Some(n) = &name {
                input.check_len("receiverName", n, 1, 255);
            }
            name.or(Some(String::new()))
        } else {
            fields::text(input, "receiverName", 0, 255)
        };
        let mut is_invoice_email = fields::flag(input, "isInvoiceEmail");
        let is_dunning_email = fields::flag(input, "isDunningEmail");
        let is_default = if creating {
            fields::flag(input, "isDefault")
        } else {
            None
        };
        if legacy {
            match fields::choice(input, "type", LEGACY_TYPES).as_deref() {
                Some("TYPE_INVOICE") => is_invoice_email = Some(true),
                Some("TYPE_COMPANY") if is_invoice_email.is_none() => {
                    is_invoice_email = Some(false)
                }
                _ => {}
            }
        }
        EmailWrite {
            email,
            receiver_name,
            is_invoice_email,
            is_dunning_email,
            is_default,
        }
    }

    /// Applies the sent keys (not `isDefault`: making a default is the store's job).
    pub fn apply(&self, e: &mut EmailAddress) {
        if let Some(v) = &self.email {
            e.email = v.clone();
        }
        if let Some(v) = &self.receiver_name {
            e.receiver_name = v.clone();
        }
        if let Some(v) = self.is_invoice_email {
            e.is_invoice_email = v;
        }
        if let Some(v) = self.is_dunning_email {
            e.is_dunning_email = v;
        }
    }
}
