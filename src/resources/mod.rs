//! One vertical slice per resource: routes and handlers (mod.rs), shapes (model.rs), SQL (store.rs).

pub mod accounts;
pub mod api_tokens;
pub mod coupons;
pub mod custom_fields;
pub mod customer_addresses;
pub mod customer_emails;
pub mod customer_settings;
pub mod customers;
pub mod invoice_corrections;
pub mod invoice_positions;
pub mod invoices;
pub mod measurements;
pub mod media;
pub mod number_ranges;
pub mod payments;
pub mod price_plans;
pub mod product_families;
pub mod products;
pub mod roles;
pub mod settings;
pub mod system;
pub mod tax_groups;
pub mod tenants;
pub mod units;
