//! Billing logic over domain types: invoice amounts, due periods and item lines, billing runs.

pub mod invoice_calc;
pub mod usage;
pub mod due;
pub mod lines;
pub mod bill;
pub mod items;
pub mod run;
