//! `ApiError`: the one place that picks HTTP status codes and renders problem+json bodies.

use serde::Serialize;
use serde_json::json;

/// One invalid field of a request body (Fynn's `{propertyPath, message, code}` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub property_path: String,
    pub message: String,
    pub code: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, message: impl Into<String>, code: &str) -> Self {
        Violation {
            property_path: path.into(),
            message: message.into(),
            code: code.to_string(),
        }
    }
}

/// Every way a request can fail. Handlers return these; only `status()` maps them to codes.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed(Vec<&'static str>),
    Conflict(String),
    PayloadTooLarge(usize),
    UnsupportedMediaType(String),
    Validation(Vec<Violation>),
    TooManyRequests(String),
    /// Logged with its detail, answered without it.
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found."))
    }

    /// A 422 with a single violation.
    pub fn invalid(path: &str, message: &str, code: &str) -> Self {
        ApiError::Validation(vec![Violation::new(path, message, code)])
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Conflict(_) => 409,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Validation(_) => 422,
            ApiError::TooManyRequests(_) => 429,
            ApiError::Internal(_) => 500,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Bad Request",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not Found",
            ApiError::MethodNotAllowed(_) => "Method Not Allowed",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PayloadTooLarge(_) => "Payload Too Large",
            ApiError::UnsupportedMediaType(_) => "Unsupported Media Type",
            ApiError::Validation(_) => "Validation failed",
            ApiError::TooManyRequests(_) => "Too Many Requests",
            ApiError::Internal(_) => "Internal Server Error",
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation",
            ApiError::TooManyRequests(_) => "too-many-requests",
            ApiError::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::TooManyRequests(d) => d.clone(),
            ApiError::MethodNotAllowed(allowed) => {
                format!("Method not allowed; allowed: {}.", allowed.join(", "))
            }
            ApiError::PayloadTooLarge(limit) => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            ApiError::Validation(v) if v.len() == 1 => "1 field is invalid".to_string(),
            ApiError::Validation(v) => format!("{} fields are invalid", v.len()),
            ApiError::Internal(_) => "An internal error occurred.".to_string(),
        }
    }

    /// The problem+json document (RFC 9457) for this error.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "type": format!("https://kontor.dev/problem/{}", self.slug()),
            "title": self.title(),
            "status": self.status(),
            "detail": self.detail(),
        });
        if let ApiError::Validation(v) = self {
            body["violations"] = json!(v);
        }
        body
    }

    /// Extra response headers the status code calls for.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::MethodNotAllowed(allowed) => vec![("Allow", allowed.join(", "))],
            ApiError::Unauthorized(_) => vec![("WWW-Authenticate", "Bearer".to_string())],
            _ => vec![],
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Internal(d) => write!(f, "{} {}: {d}", self.status(), self.title()),
            other => write!(
                f,
                "{} {}: {}",
                other.status(),
                other.title(),
                other.detail()
            ),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::Internal(format!("connection pool: {e}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("json: {e}"))
    }
}
