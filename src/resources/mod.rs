//! One vertical slice per resource: routes and handlers (mod.rs), shapes (model.rs), SQL (store.rs).

pub mod accounts;
pub mod api_tokens;
pub mod customer_addresses;
pub mod customer_emails;
pub mod customer_settings;
pub mod customers;
pub mod number_ranges;
pub mod roles;
pub mod settings;
pub mod system;
pub mod tenants;
