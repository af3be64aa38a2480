//! Billing logic over domain types: invoice amounts, due periods and item lines, billing runs.

pub mod bill;
pub mod context;
pub mod due;
pub mod events;
pub mod invoice_calc;
pub mod items;
pub mod lines;
pub mod plan;
pub mod prefetch;
pub mod run;
pub mod usage;
