//! Invoice corrections (reference 06 §1.8-1.9): cancellation (Storno) documents and credit notes
//! (in progress).

pub mod amounts;
pub mod rules;

use crate::http::Route;

pub fn routes() -> Vec<Route> {
    vec![]
}
