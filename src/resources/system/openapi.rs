//! Builds the OpenAPI 3.1 document from the route table, so no routed path can be missing.

use crate::http::{Access, Method, Route};
use serde_json::{json, Map, Value};

pub fn document(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let method = route.method.as_str().to_ascii_lowercase();
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[method.as_str()] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kontor",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Self-hosted subscription billing following the Fynn billing API.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token from POST /user/api-tokens or `kontor token create`."}
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "violations": {"type": "array", "items": {
                            "type": "object",
                            "properties": {
                                "propertyPath": {"type": "string"},
                                "message": {"type": "string"},
                                "code": {"type": "string"}
                            }
                        }}
                    }
                }
            }
        }
    })
}

fn operation(route: &Route) -> Value {
    let tag = route
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("system")
        .to_string();
    let params: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let mut op = json!({
        "summary": route.summary,
        "operationId": format!("{} {}", route.method.as_str(), route.path),
        "tags": [tag],
        "parameters": params,
        "responses": {
            route.status.to_string(): {"description": "Success"},
            "default": {
                "description": "Error",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            }
        }
    });
    match route.access {
        Access::Public => op["security"] = json!([]),
        Access::User => {
            op["security"] = json!([{"bearer": []}]);
            op["x-permission"] = json!("ROLE_USER");
        }
        Access::Scope(scope) => {
            op["security"] = json!([{"bearer": [scope]}]);
            op["x-permission"] = json!(scope);
        }
    }
    if route.multipart {
        op["requestBody"] = json!({
            "required": true,
            "content": {"multipart/form-data": {"schema": {"type": "object"}}}
        });
    } else if matches!(route.method, Method::Post | Method::Put | Method::Patch) {
        op["requestBody"] = json!({
            "required": false,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/merge-patch+json": {"schema": {"type": "object"}}
            }
        });
    }
    op
}
