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

/// The route table indexed by first path segment and number of segments (a pattern only ever
/// matches paths with as many segments as it has), so a request compares its path only with a
/// few patterns instead of all of them: matching every pattern was the most expensive step of
/// routing a request.
pub struct Router {
    routes: Vec<Route>,
    /// Indexes into `routes` by literal first segment and segment count, sorted for a binary
    /// search.
    by_first: Vec<((&'static str, usize), Vec<usize>)>,
    /// Routes whose first segment is a parameter; checked for every path.
    any_first: Vec<usize>,
}

fn segments(path: &str) -> usize {
    path.bytes().filter(|&b| b == b'/').count()
}

fn first_segment(path: &str) -> &str {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .next()
        .unwrap_or("")
}

impl Router {
    pub fn new(routes: Vec<Route>) -> Router {
        let mut by_first: Vec<((&'static str, usize), Vec<usize>)> = Vec::new();
        let mut any_first = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let first = first_segment(route.path);
            if first.starts_with('{') {
                any_first.push(i);
                continue;
            }
            let key = (first, segments(route.path));
            match by_first.binary_search_by(|(k, _)| k.cmp(&key)) {
                Ok(at) => by_first[at].1.push(i),
                Err(at) => by_first.insert(at, (key, vec![i])),
            }
        }
        Router {
            routes,
            by_first,
            any_first,
        }
    }

    /// Every route, in table order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route for `method path`: 404 when no pattern matches the path, 405 when patterns
    /// match but none for this method. With several matches the most literal pattern wins.
    pub fn find(&self, method: Method, path: &str) -> ApiResult<(&Route, Params)> {
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let key = (first_segment(path), segments(path));
        let indexed = match self.by_first.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => self.by_first[at].1.as_slice(),
            Err(_) => &[],
        };
        let mut best: Option<(usize, &Route)> = None;
        let mut allowed: Vec<&'static str> = Vec::new();
        for route in indexed
            .iter()
            .chain(&self.any_first)
            .map(|&i| &self.routes[i])
        {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn most_literal_pattern_wins_and_params_are_captured() {
        let router = Router::new(all());
        let find = |method, path| router.find(method, path);
        let (route, params) = find(Method::Post, "/invoices/abc/finalize").unwrap();
        assert_eq!(route.path, "/invoices/{id}/finalize");
        assert_eq!(params, vec![("id", "abc".to_string())]);
        let (route, _) = find(Method::Get, "/user/api-tokens/").unwrap();
        assert_eq!(route.path, "/user/api-tokens");
        assert!(matches!(
            find(Method::Patch, "/health"),
            Err(ApiError::MethodNotAllowed(_))
        ));
        assert!(matches!(
            find(Method::Get, "/invoices//finalize"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            find(Method::Get, "/nope"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(find(Method::Get, "/"), Err(ApiError::NotFound(_))));
    }

    /// The index must pick exactly what a scan of the whole table picks.
    #[test]
    fn the_index_finds_what_a_full_scan_finds() {
        let router = Router::new(all());
        let scan = Router {
            routes: all(),
            by_first: vec![],
            any_first: (0..all().len()).collect(),
        };
        for route in all() {
            let path = route.path.replace("{id}", "x").replace(['{', '}'], "");
            for method in [
                Method::Get,
                Method::Post,
                Method::Put,
                Method::Patch,
                Method::Delete,
            ] {
                for p in [path.as_str(), &format!("{path}/"), &format!("{path}/extra")] {
                    let a = router.find(method, p).map(|(r, ps)| (r.path, ps));
                    let b = scan.find(method, p).map(|(r, ps)| (r.path, ps));
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{method:?} {p}");
                }
            }
        }
    }
}
