//! Black-box API tests: one binary, one module per resource, real HTTP against temp databases.

mod common;

mod accounts;
mod api_tokens;
mod billing_flow;
mod billing_groups;
mod billing_runs;
mod cli;
mod concurrency;
mod coupons;
mod custom_fields;
mod customer_addresses;
mod customer_emails;
mod customer_settings;
mod customers;
mod invoice_corrections;
mod invoice_positions;
mod invoices;
mod measurements;
mod media;
mod number_ranges;
mod payments;
mod pipeline;
mod price_plans;
mod product_families;
mod product_groups;
mod products;
mod roles;
mod settings;
mod subscription_items;
mod subscription_measurements;
mod subscriptions;
mod tax_groups;
mod tenants;
mod units;
