//! Payments on invoices (reference 06 §1.13-1.14, 04 §2) (in progress).

pub mod rules;

use crate::http::Route;

pub fn routes() -> Vec<Route> {
    vec![]
}
