//! Billing logic over domain types: invoice amounts (more to come: billing runs, dunning).

pub mod invoice_calc;
pub mod usage;
