//! Position bodies (reference 06 §2.2), children included: every field of the whole tree is
//! checked before anything is written, so one 422 names every invalid field at once.

use super::fields::{date, group, missing, not_found, percentage, reference_or_embed};
use super::model::{PositionData, MAX_DEPTH, TYPES};
use crate::billing::invoice_calc::{self, Discount, Line};
use crate::domain::money::{Currency, Money, MAX_FRACTION_DIGITS};
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use crate::resources::customers::fields;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashSet;

/// Keys a position body may carry.
const WRITABLE: &[&str] = &[
    "id",
    "position",
    "type",
    "group",
    "name",
    "description",
    "quantity",
    "unitId",
    "unitPrice",
    "currencyCode",
    "taxGroupId",
    "serviceDateFrom",
    "serviceDateTo",
    "discountAmount",
    "discountPercentage",
    "unitPriceInterval",
    "subscriptionItem",
    "product",
    "parent",
    "children",
];

/// Read-only keys of the position read shape: a client may send a GET answer back
/// (read-modify-write); their values are ignored.
const READ_ONLY: &[&str] = &[
    "unit",
    "netAmount",
    "discountedNetAmount",
    "grossAmount",
    "taxAmount",
    "discountFixed",
    "taxGroup",
    "tax",
    "isCreditable",
    "isFullyCredited",
    "creditableQuantity",
    "referencedPositionItem",
    "createdAt",
    "updatedAt",
];

/// Quantities beyond a billion units are typos, and the bound keeps every product exact.
const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Sort orders are small; the bound keeps "append after the last" from overflowing.
const MAX_POSITION: i64 = 1_000_000;

/// The references a position names, resolved within the caller's tenant.
pub trait Lookup {
    fn unit_exists(&self, id: &str) -> ApiResult<bool>;
    fn tax_group_exists(&self, id: &str) -> ApiResult<bool>;
    /// The product's tax group; `None` when the tenant has no such product.
    fn product_tax_group(&self, id: &str) -> ApiResult<Option<String>>;
    /// Whether a position with this id exists (ids are global primary keys).
    fn position_taken(&self, id: &str) -> ApiResult<bool>;
}

/// Adding a new position, or replacing an existing one's data (`PUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Add,
    /// `has_children`: the stored position has children, so it may stay a heading.
    Update {
        has_children: bool,
    },
}

/// Reads positions in the currency of their invoice.
pub struct Reader<'a> {
    currency: Currency,
    lookup: &'a dyn Lookup,
    /// Client ids seen in this body: two positions of one request cannot share one.
    seen: HashSet<String>,
}

impl<'a> Reader<'a> {
    pub fn new(currency: Currency, lookup: &'a dyn Lookup) -> Reader<'a> {
        Reader {
            currency,
            lookup,
            seen: HashSet::new(),
        }
    }

    /// Reads the array `values` found at `key` of `into` (`""` for a bare array body); the
    /// violations land on `into` with paths like `positions[0].children[1].name`.
    pub fn items(
        &mut self,
        into: &mut Input,
        key: &str,
        values: Vec<Value>,
        depth: usize,
    ) -> ApiResult<Vec<PositionData>> {
        let mut out = Vec::with_capacity(values.len());
        for (i, value) in values.into_iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            let Value::Object(map) = value else {
                into.violation(
                    &item_key,
                    "This value should be of type object.",
                    "invalid_type",
                );
                continue;
            };
            let mut item = Input::nested(map, &into.path(&item_key));
            let data = self.one(&mut item, depth, Mode::Add)?;
            into.absorb(item);
            out.push(data);
        }
        Ok(out)
    }

    /// Reads one position object; `depth` is 1 for a top-level position.
    pub fn one(&mut self, input: &mut Input, depth: usize, mode: Mode) -> ApiResult<PositionData> {
        let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
        input.reject_unknown(&allowed);
        let mut d = PositionData {
            quantity: Decimal::ONE,
            ..PositionData::default()
        };
        if mode == Mode::Add {
            d.id = self.client_id(input)?;
            d.parent = fields::reference(input, "parent").flatten();
        }
        d.position = match input.int("position") {
            Field::Value(n) if n < 0 => {
                input.violation("position", "This value should be 0 or more.", "too_low");
                None
            }
            Field::Value(n) if n > MAX_POSITION => {
                input.violation(
                    "position",
                    &format!("This value should be {MAX_POSITION} or less."),
                    "too_high",
                );
                None
            }
            Field::Value(n) if n > 0 => Some(n),
            _ => None,
        };
        d.kind = fields::nullable_choice(input, "type", TYPES).flatten();
        d.group = group(input);
        match input.required_string("name") {
            Some(name) if input.check_len("name", &name, 1, 255) => d.name = name,
            _ => {}
        }
        d.description = fields::nullable_text(input, "description", 1, 10_000).flatten();
        match input.decimal_number("quantity") {
            Field::Value(q) if q.abs() > MAX_QUANTITY => input.violation(
                "quantity",
                "The quantity must be between -1000000000 and 1000000000.",
                "out_of_range",
            ),
            Field::Value(q) => d.quantity = q,
            Field::Null => {
                input.violation("quantity", "This value should not be null.", "not_null")
            }
            Field::Absent => {}
        }
        self.currency_code(input);
        d.unit_price = self.amount(input, "unitPrice");
        // "0.00" is Fynn's default for "no discount": stored as none, so that it may come
        // together with a percentage.
        d.discount_amount = self
            .amount(input, "discountAmount")
            .filter(|a| !a.is_zero());
        d.discount_percentage = percentage(input);
        d.unit_id = self.unit(input)?;
        d.product = self.product(input, &mut d.tax_group_id)?;
        if let Some((key, id)) = reference_or_embed(input, "taxGroupId", "taxGroup") {
            if self.lookup.tax_group_exists(&id)? {
                d.tax_group_id = Some(id);
            } else {
                not_found(input, key, "tax group");
            }
        }
        d.service_date_from = date(input, "serviceDateFrom");
        d.service_date_to = date(input, "serviceDateTo");
        d.unit_price_interval = fields::nullable_text(input, "unitPriceInterval", 1, 64).flatten();
        d.subscription_item = fields::reference(input, "subscriptionItem").flatten();
        d.children = match input.array("children") {
            Field::Value(values) if values.is_empty() => Some(vec![]),
            Field::Value(_) if depth >= MAX_DEPTH || d.parent.is_some() => {
                input.violation(
                    "children",
                    "Positions nest at most two levels deep; a child cannot have children.",
                    "too_deep",
                );
                Some(vec![])
            }
            Field::Value(values) => Some(self.items(input, "children", values, depth + 1)?),
            Field::Null => Some(vec![]),
            Field::Absent => None,
        };
        self.cross_checks(input, &mut d, mode);
        Ok(d)
    }

    fn client_id(&mut self, input: &mut Input) -> ApiResult<Option<String>> {
        let Field::Value(id) = input.string("id") else {
            return Ok(None);
        };
        if !fields::is_uuid(&id) {
            input.violation("id", "This value should be a UUID.", "invalid_uuid");
        } else if !self.seen.insert(id.clone()) || self.lookup.position_taken(&id)? {
            input.violation(
                "id",
                "This id is already used by another position.",
                "not_unique",
            );
        }
        Ok(Some(id))
    }

    fn currency_code(&self, input: &mut Input) {
        if let Field::Value(code) = input.string("currencyCode") {
            if !code.is_empty() && code != self.currency.code {
                input.violation(
                    "currencyCode",
                    &format!(
                        "Positions must be in the invoice currency {}.",
                        self.currency.code
                    ),
                    "currency_mismatch",
                );
            }
        }
    }

    /// A decimal string (`"9.99"`), or the Money object of a read shape sent back.
    fn amount(&self, input: &mut Input, key: &str) -> Option<Decimal> {
        let value = match input.raw(key) {
            Some(Value::Object(o)) => {
                let amount = o.get("amount").and_then(Value::as_i64);
                let precision = o.get("precision").and_then(Value::as_u64);
                let code = o.get("currencyCode").and_then(Value::as_str);
                match (amount, precision) {
                    (Some(a), Some(p)) if p <= u64::from(MAX_FRACTION_DIGITS) => {
                        if code.is_some_and(|c| c != self.currency.code) {
                            input.violation(
                                key,
                                &format!(
                                    "Amounts must be in the invoice currency {}.",
                                    self.currency.code
                                ),
                                "currency_mismatch",
                            );
                        }
                        Decimal::try_new(a, p as u32).ok()
                    }
                    _ => {
                        input.violation(
                            key,
                            "This value should be a decimal string such as \"9.99\".",
                            "invalid_decimal",
                        );
                        None
                    }
                }
            }
            _ => input.decimal(key).value(),
        }?;
        // Money::unit_price must be able to show it: at most ±9.2 × 10^18 at its precision.
        if Money::unit_price(value, self.currency).is_none() {
            input.violation(key, "This amount is too large.", "too_large");
            return None;
        }
        Some(value)
    }

    fn unit(&self, input: &mut Input) -> ApiResult<Option<String>> {
        let Some((key, id)) = reference_or_embed(input, "unitId", "unit") else {
            return Ok(None);
        };
        if self.lookup.unit_exists(&id)? {
            Ok(Some(id))
        } else {
            not_found(input, key, "unit");
            Ok(None)
        }
    }

    /// The linked product; its tax group is the default when `taxGroupId` is not sent.
    fn product(
        &self,
        input: &mut Input,
        tax_group: &mut Option<String>,
    ) -> ApiResult<Option<String>> {
        let Some(id) = fields::reference(input, "product").flatten() else {
            return Ok(None);
        };
        match self.lookup.product_tax_group(&id)? {
            Some(group) => {
                *tax_group = Some(group);
                Ok(Some(id))
            }
            None => {
                not_found(input, "product", "product");
                Ok(None)
            }
        }
    }

    /// Rules between fields: headings, discounts, service dates, representable amounts.
    fn cross_checks(&self, input: &mut Input, d: &mut PositionData, mode: Mode) {
        let has_children = match (&d.children, mode) {
            (Some(children), _) => !children.is_empty(),
            (None, Mode::Update { has_children }) => has_children,
            (None, Mode::Add) => false,
        };
        let Some(price) = d.unit_price else {
            if missing(input, "unitPrice") && !has_children {
                input.violation(
                    "unitPrice",
                    "This value should not be blank; only a position with children may go without a unit price.",
                    "not_blank",
                );
            }
            // A heading has no price, so no tax and no discount.
            d.tax_group_id = None;
            if d.discount_amount.is_some() || d.discount_percentage.is_some() {
                input.violation(
                    "discountAmount",
                    "A position without a unit price cannot have a discount.",
                    "no_price",
                );
            }
            return;
        };
        // Sent but invalid was reported by its reader already; only report what is missing.
        if d.unit_id.is_none() && missing(input, "unitId") && missing(input, "unit") {
            input.violation("unitId", "This value should not be blank.", "not_blank");
        }
        // An invalid product was reported already; it would have supplied the tax group.
        let product_failed =
            input.has("product") && d.product.is_none() && !missing(input, "product");
        if d.tax_group_id.is_none()
            && missing(input, "taxGroupId")
            && missing(input, "taxGroup")
            && !product_failed
        {
            input.violation("taxGroupId", "This value should not be blank.", "not_blank");
        }
        if let Some(amount) = d.discount_amount {
            if amount < Decimal::ZERO {
                input.violation(
                    "discountAmount",
                    "The discount must be 0 or more.",
                    "too_low",
                );
            } else if amount > price {
                input.violation(
                    "discountAmount",
                    "The discount must not exceed the unit price.",
                    "too_high",
                );
            } else if d.discount_percentage.is_some() {
                input.violation(
                    "discountPercentage",
                    "Set either discountAmount or discountPercentage, not both.",
                    "discount_conflict",
                );
            }
        }
        if let (Some(from), Some(to)) = (d.service_date_from, d.service_date_to) {
            if to < from {
                input.violation(
                    "serviceDateTo",
                    "The service end must not be before its start.",
                    "before_start",
                );
            }
        }
        let discount = match (d.discount_amount, d.discount_percentage) {
            (_, Some(p)) => Discount::Percentage(p),
            (Some(a), None) => Discount::PerUnit(a),
            _ => Discount::None,
        };
        let line = Line {
            quantity: d.quantity,
            unit_price: Some(price),
            discount,
            tax: None,
        };
        if invoice_calc::line_amounts(self.currency, &line).is_err() {
            input.violation(
                "quantity",
                "quantity × unitPrice is too large.",
                "too_large",
            );
        }
    }
}
