//! billing_groups (in progress).

pub mod align;

use crate::http::Route;

pub fn routes() -> Vec<Route> {
    vec![]
}
