//! Black-box API tests: one binary, one module per resource, real HTTP against temp databases.

mod common;

mod accounts;
mod api_tokens;
mod cli;
mod customer_addresses;
mod customer_emails;
mod customer_settings;
mod customers;
mod number_ranges;
mod pipeline;
mod roles;
mod settings;
mod tenants;
