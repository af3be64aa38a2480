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

/// How many literal segments of `pattern` match `path`, or `None` when it does not match.
/// Allocates nothing: it runs for every route on every request.
fn literal_matches(pattern: &str, path: &str) -> Option<usize> {
    let mut literals = 0;
    let mut pat = pattern.split('/');
    let mut segs = path.split('/');
    loop {
        match (pat.next(), segs.next()) {
            (None, None) => return Some(literals),
            (Some(p), Some(s)) => {
                if p.starts_with('{') {
                    if s.is_empty() {
                        return None;
                    }
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

/// The `{name}` segments of a path that matched `pattern`.
fn params(pattern: &'static str, path: &str) -> Params {
    pattern
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, s)| {
            let name = p.strip_prefix('{')?.strip_suffix('}')?;
            Some((name, s.to_string()))
        })
        .collect()
}

/// The route for `method path`: 404 when no pattern matches the path, 405 when patterns match
/// but none for this method. With several matches the most literal pattern wins.
pub fn find<'r>(routes: &'r [Route], method: Method, path: &str) -> ApiResult<(&'r Route, Params)> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut best: Option<(usize, &Route)> = None;
    let mut allowed: Vec<&'static str> = Vec::new();
    for route in routes {
        let Some(literals) = literal_matches(route.path, path) else {
            continue;
        };
        if route.method != method {
            if !allowed.contains(&route.method.as_str()) {
                allowed.push(route.method.as_str());
            }
            continue;
        }
        if best.is_none_or(|(l, _)| literals > l) {
            best = Some((literals, route));
        }
    }
    match best {
        Some((_, route)) => Ok((route, params(route.path, path))),
        None if !allowed.is_empty() => Err(ApiError::MethodNotAllowed(allowed)),
        None => Err(ApiError::NotFound(format!("No route for {path}."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn most_literal_pattern_wins_and_params_are_captured() {
        let routes = all();
        let (route, params) = find(&routes, Method::Post, "/invoices/abc/finalize").unwrap();
        assert_eq!(route.path, "/invoices/{id}/finalize");
        assert_eq!(params, vec![("id", "abc".to_string())]);
        let (route, _) = find(&routes, Method::Get, "/user/api-tokens/").unwrap();
        assert_eq!(route.path, "/user/api-tokens");
        assert!(matches!(
            find(&routes, Method::Patch, "/health"),
            Err(ApiError::MethodNotAllowed(_))
        ));
        assert!(matches!(
            find(&routes, Method::Get, "/invoices//finalize"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            find(&routes, Method::Get, "/nope"),
            Err(ApiError::NotFound(_))
        ));
    }
}
