//! Table of contents: every resource's routes, and the matcher that picks one for a request.
//! Path segments are matched as plain strings, so a malformed id reaches the handler and
//! becomes a 404 there, never a silent fall-through.

use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Route};
use crate::resources;

/// Every route kontor serves; the OpenAPI document is generated from this same list.
pub fn all() -> Vec<Route> {
    [
        resources::system::routes(),
        resources::api_tokens::routes(),
        resources::tenants::routes(),
        resources::accounts::routes(),
        resources::roles::routes(),
        resources::settings::routes(),
        resources::number_ranges::routes(),
        resources::customers::routes(),
        resources::customer_addresses::routes(),
        resources::customer_emails::routes(),
        resources::customer_settings::routes(),
        resources::units::routes(),
        resources::measurements::routes(),
        resources::products::routes(),
        resources::product_families::routes(),
        resources::tax_groups::routes(),
        resources::price_plans::routes(),
        resources::coupons::routes(),
        resources::custom_fields::routes(),
        resources::media::routes(),
        resources::invoices::routes(),
        resources::invoice_positions::routes(),
        resources::invoice_corrections::routes(),
        resources::payments::routes(),
        resources::subscriptions::routes(),
        resources::subscription_items::routes(),
        resources::subscription_measurements::routes(),
        resources::billing_groups::routes(),
        resources::billing_runs::routes(),
        resources::product_groups::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Captured `{name}` segments of a matched path.
pub type Params = Vec<(&'static str, String)>;

fn capture(pattern: &'static str, path: &str) -> Option<(usize, Params)> {
    let mut literals = 0;
    let mut params = Vec::new();
    let mut pat = pattern.split('/');
    let mut segs = path.split('/');
    loop {
        match (pat.next(), segs.next()) {
            (None, None) => return Some((literals, params)),
            (Some(p), Some(s)) => {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if s.is_empty() {
                        return None;
                    }
                    params.push((name, s.to_string()));
                } else if p == s {
                    literals += 1;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The route for `method path`: 404 when no pattern matches the path, 405 when patterns match
/// but none for this method. With several matches the most literal pattern wins.
pub fn find<'r>(routes: &'r [Route], method: Method, path: &str) -> ApiResult<(&'r Route, Params)> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut best: Option<(usize, &Route, Params)> = None;
    let mut allowed: Vec<&'static str> = Vec::new();
    for route in routes {
        let Some((literals, params)) = capture(route.path, path) else {
            continue;
        };
        if route.method != method {
            if !allowed.contains(&route.method.as_str()) {
                allowed.push(route.method.as_str());
            }
            continue;
        }
        if best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
            best = Some((literals, route, params));
        }
    }
    match best {
        Some((_, route, params)) => Ok((route, params)),
        None if !allowed.is_empty() => Err(ApiError::MethodNotAllowed(allowed)),
        None => Err(ApiError::NotFound(format!("No route for {path}."))),
    }
}
