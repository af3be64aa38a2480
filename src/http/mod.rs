//! HTTP plumbing shared by every resource: the route table types, the request context, replies.

pub mod conn;
pub mod idempotency;
pub mod input;
pub mod list;
pub mod query;
pub mod send;
pub mod server;
pub mod tcp;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use query::Query;
use rusqlite::Connection;
use serde::Serialize;

/// HTTP methods kontor routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "GET" | "HEAD" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Writes take the database write lock at BEGIN; reads run deferred.
    pub fn writes(self) -> bool {
        self != Method::Get
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// Any authenticated member of the tenant (`ROLE_USER`).
    User,
    /// The one permission scope the route requires.
    Scope(&'static str),
}

pub type Handler = fn(&Ctx) -> ApiResult<Reply>;

/// One line of the route table: the pipeline matches, authorizes and documents from it.
pub struct Route {
    pub method: Method,
    /// Pattern with `{name}` segments, e.g. `/customers/{id}/addresses`.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    pub handler: Handler,
    /// Success status, for the OpenAPI document.
    pub status: u16,
    /// The body is `multipart/form-data` (uploads) instead of JSON.
    pub multipart: bool,
    /// A POST that only computes (e.g. a price calculation): runs like a read, in parallel with
    /// other reads, and takes no `Idempotency-Key` since it changes nothing.
    pub read_only: bool,
}

impl Route {
    pub const fn new(
        method: Method,
        path: &'static str,
        access: Access,
        status: u16,
        summary: &'static str,
        handler: Handler,
    ) -> Route {
        Route {
            method,
            path,
            access,
            summary,
            handler,
            status,
            multipart: false,
            read_only: false,
        }
    }

    /// Marks a non-GET route that changes nothing.
    pub fn read_only(mut self) -> Route {
        self.read_only = true;
        self
    }

    /// Marks a route whose body is `multipart/form-data`.
    pub fn multipart(mut self) -> Route {
        self.multipart = true;
        self
    }
}

/// Shorthands so a route table reads as a table.
pub fn get(path: &'static str, access: Access, summary: &'static str, h: Handler) -> Route {
    Route::new(Method::Get, path, access, 200, summary, h)
}
pub fn post(path: &'static str, access: Access, summary: &'static str, h: Handler) -> Route {
    Route::new(Method::Post, path, access, 201, summary, h)
}
pub fn put(path: &'static str, access: Access, summary: &'static str, h: Handler) -> Route {
    Route::new(Method::Put, path, access, 200, summary, h)
}
pub fn patch(path: &'static str, access: Access, summary: &'static str, h: Handler) -> Route {
    Route::new(Method::Patch, path, access, 200, summary, h)
}
pub fn delete(path: &'static str, access: Access, summary: &'static str, h: Handler) -> Route {
    Route::new(Method::Delete, path, access, 204, summary, h)
}

/// Everything a handler may use: the caller, the request, and the request's transaction.
pub struct Ctx<'a> {
    pub principal: &'a Principal,
    /// The request's transaction: committed by the pipeline only when the handler succeeds.
    pub tx: &'a Connection,
    pub params: Vec<(&'static str, String)>,
    pub query: Query,
    pub body: &'a [u8],
    /// The request's `Content-Type` header (multipart routes need its boundary).
    pub content_type: String,
    /// Base URL of this server as the client reached it (for absolute links).
    pub base_url: String,
    pub config: &'a crate::config::Config,
}

impl Ctx<'_> {
    /// A path parameter; the route pattern guarantees it exists.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn tenant(&self) -> &str {
        &self.principal.tenant_id
    }

    /// The JSON body as a field reader that collects violations.
    pub fn input(&self) -> ApiResult<input::Input> {
        input::Input::parse(self.body)
    }
}

/// What a handler answers; the pipeline turns it into an HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json<T: Serialize>(status: u16, value: &T) -> ApiResult<Reply> {
        // Room for a typical resource (a customer is ~2 KB) up front: `to_vec` starts at 128
        // bytes and copied the document at every doubling.
        let mut body = Vec::with_capacity(4096);
        serde_json::to_writer(&mut body, value)?;
        Ok(Reply {
            status,
            content_type: "application/json",
            body,
            headers: vec![],
        })
    }

    pub fn ok<T: Serialize>(value: &T) -> ApiResult<Reply> {
        Reply::json(200, value)
    }

    pub fn created<T: Serialize>(value: &T) -> ApiResult<Reply> {
        Reply::json(201, value)
    }

    pub fn no_content() -> ApiResult<Reply> {
        Ok(Reply {
            status: 204,
            content_type: "application/json",
            body: vec![],
            headers: vec![],
        })
    }

    pub fn from_error(e: &ApiError) -> Reply {
        Reply {
            status: e.status(),
            content_type: "application/problem+json",
            body: serde_json::to_vec(&e.body()).unwrap_or_default(),
            headers: e.headers(),
        }
    }
}
