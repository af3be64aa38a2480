//! subscriptions (in progress).

use crate::http::Route;

pub fn routes() -> Vec<Route> {
    vec![]
}
