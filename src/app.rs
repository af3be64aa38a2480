//! THE request pipeline, read top to bottom: log -> route -> body limits -> transaction ->
//! authenticate -> idempotency -> handler -> commit or roll back -> error to problem+json.
//!
//! Reads run on the HTTP thread in a deferred transaction of a pooled connection. Writes run on
//! the writer thread (`db::writer`) in a group-committed `BEGIN IMMEDIATE` transaction (with a
//! savepoint per request whenever one of the group fails after writing): the request still
//! commits only when its handler succeeded, and its reply leaves only after the commit.

use crate::auth::{self, Principal};
use crate::config::Config;
use crate::db::tx::Tx;
use crate::db::writer::Writer;
use crate::db::Pool;
use crate::error::{ApiError, ApiResult};
use crate::http::query::Query;
use crate::http::server::{Incoming, Server};
use crate::http::{idempotency, Access, Ctx, Handler, Method, Reply, Route};
use crate::routes::{self, Params, Router};
use rusqlite::Connection;
use std::cell::RefCell;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

/// Everything a request needs, shared by all HTTP threads.
pub struct App {
    pub pool: Pool<auth::Cache>,
    pub config: Arc<Config>,
    pub routes: Router,
    pub writer: Writer<Reply>,
}

/// One request, parsed and routed, owning everything its handler will see. It can move to the
/// writer thread.
struct Prepared {
    handler: Handler,
    access: Access,
    params: Params,
    query: Query,
    body: Vec<u8>,
    content_type: String,
    base_url: String,
    authorization: Option<String>,
    /// `(key, request hash)` of a POST that carries an `Idempotency-Key`.
    idempotency: Option<(String, String)>,
    config: Arc<Config>,
}

impl App {
    /// Opens the database (creating the schema if needed), starts the writer thread and builds
    /// the route table.
    pub fn open(config: Config) -> Result<Arc<App>, String> {
        Self::with_routes(config, routes::all()).map(Arc::new)
    }

    /// An app over an explicit route table (tests use it to mount special handlers).
    pub fn with_routes(config: Config, routes: Vec<Route>) -> Result<App, String> {
        let pool = crate::db::open_pool(&config.db, config.threads as u32 + 2)?;
        let writer = Writer::start(&config.db)?;
        Ok(App {
            pool,
            config: Arc::new(config),
            routes: Router::new(routes),
            writer,
        })
    }

    /// Answers one HTTP request. Never panics: a panic in a handler becomes a JSON 500.
    pub fn handle(&self, req: &mut dyn Incoming) -> Reply {
        let started = Instant::now();
        let reply = catch_unwind(AssertUnwindSafe(|| self.pipeline(req)))
            .unwrap_or_else(|_| Err(ApiError::Internal("handler panicked".into())))
            .unwrap_or_else(|e| {
                if let ApiError::Internal(detail) = &e {
                    eprintln!("error: {} {}: {detail}", req.method(), req.path());
                }
                Reply::from_error(&e)
            });
        if self.config.log_requests {
            // Path only: query strings and headers may carry secrets.
            eprintln!(
                "{} {} {} {:.1}ms",
                req.method(),
                req.path(),
                reply.status,
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        reply
    }

    fn pipeline(&self, req: &mut dyn Incoming) -> ApiResult<Reply> {
        let method = Method::parse(req.method()).ok_or_else(|| {
            ApiError::MethodNotAllowed(vec!["GET", "POST", "PUT", "PATCH", "DELETE"])
        })?;
        // Decoded once: reading the body needs `req` again.
        let path = req.path().into_owned();
        let (route, params) = self.routes.find(method, &path)?;
        let body = read_body(req, route, self.config.body_limit)?;
        let writes = method.writes() && !route.read_only;

        let idempotency = match req.header("Idempotency-Key") {
            Some(key) if writes && method == Method::Post && route.access != Access::Public => {
                if key.is_empty() || key.len() > 255 {
                    return Err(ApiError::BadRequest(
                        "The Idempotency-Key header must have 1 to 255 characters.".into(),
                    ));
                }
                let hash = idempotency::request_hash(req.method(), &path, &body);
                Some((key.to_string(), hash))
            }
            _ => None,
        };
        let prepared = Prepared {
            handler: route.handler,
            access: route.access,
            params,
            query: Query::parse(req.raw_query_string()),
            body,
            content_type: req.header("Content-Type").unwrap_or("").to_string(),
            base_url: format!("http://{}", req.header("Host").unwrap_or("localhost")),
            authorization: req.header("Authorization").map(str::to_string),
            idempotency,
            config: self.config.clone(),
        };

        if writes {
            self.writer.write(Box::new(move |conn: &Connection| {
                WRITER_AUTH.with_borrow_mut(|cache| execute(conn, &prepared, cache))
            }))
        } else {
            let mut pooled = self.pool.get()?;
            let crate::db::Pooled { conn, state } = &mut *pooled;
            let tx = Tx::begin(conn, false)?;
            let reply = execute(&tx, &prepared, state)?;
            tx.commit()?;
            Ok(reply)
        }
    }
}

thread_local! {
    /// The principals the writer thread resolved (see `auth::Cache`): read connections keep
    /// theirs with the pooled connection, the writer's one connection with its thread.
    static WRITER_AUTH: RefCell<auth::Cache> = RefCell::default();
}

/// Authenticates, authorizes, replays or records the idempotency key, and runs the handler,
/// all inside the request's transaction on `conn`, whose principals `auth_cache` keeps. Takes
/// the request by reference: the writer may run it twice.
fn execute(
    conn: &Connection,
    request: &Prepared,
    auth_cache: &mut auth::Cache,
) -> ApiResult<Reply> {
    let header = request.authorization.as_deref();
    let (anonymous, authenticated);
    let principal: &Principal = match request.access {
        Access::Public => {
            anonymous = Principal::anonymous();
            &anonymous
        }
        _ => {
            authenticated = auth::authenticate_cached(conn, header, auth_cache)?;
            &authenticated
        }
    };
    principal.authorize(request.access)?;

    if let Some((key, hash)) = &request.idempotency {
        if let Some(stored) = idempotency::lookup(conn, &principal.tenant_id, key, hash)? {
            return Ok(stored);
        }
    }
    let ctx = Ctx {
        principal,
        tx: conn,
        params: request.params.clone(),
        query: request.query.clone(),
        body: &request.body,
        content_type: request.content_type.clone(),
        base_url: request.base_url.clone(),
        config: &request.config,
    };
    let reply = (request.handler)(&ctx)?;
    if let Some((key, hash)) = &request.idempotency {
        idempotency::store(conn, &principal.tenant_id, key, hash, &reply)?;
    }
    Ok(reply)
}

/// Reads the body up to the limit (413 beyond) and checks its media type (415).
fn read_body(req: &mut dyn Incoming, route: &Route, limit: usize) -> ApiResult<Vec<u8>> {
    let mut body = Vec::new();
    req.body()
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| ApiError::BadRequest(format!("Cannot read the request body: {e}.")))?;
    if body.len() > limit {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let content_type = req.header("Content-Type").unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if route.multipart {
        if essence != "multipart/form-data" {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type '{content_type}' is not supported; send multipart/form-data."
            )));
        }
    } else if route.method.writes()
        && !body.iter().all(u8::is_ascii_whitespace)
        && essence != "application/json"
        && essence != "application/merge-patch+json"
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type '{content_type}' is not supported; send application/json."
        )));
    }
    Ok(body)
}

/// Starts the HTTP server on `config.bind` and blocks forever.
pub fn serve(app: Arc<App>) -> Result<(), String> {
    let server = start(app)?;
    server.run();
    Ok(())
}

/// Binds the server (port 0 picks a free port) without running it yet.
pub fn start(app: Arc<App>) -> Result<Server, String> {
    let threads = app.config.threads;
    let bind = app.config.bind.clone();
    Server::bind(&bind, threads, Arc::new(move |req| app.handle(req)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::server::TestRequest;
    use crate::http::{get, post};

    fn panics(_: &Ctx) -> ApiResult<Reply> {
        panic!("boom: secret detail")
    }

    fn writes_then_fails(ctx: &Ctx) -> ApiResult<Reply> {
        ctx.tx.execute(
            "INSERT INTO users (id, email, created_at) VALUES ('u', 'u@x.test', 'now')",
            [],
        )?;
        Err(ApiError::invalid("email", "no", "no"))
    }

    fn app() -> (tempfile::TempDir, App) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            db: dir.path().join("t.db"),
            log_requests: false,
            ..Config::default()
        };
        // open_pool creates the schema before the writer opens the file.
        let routes = vec![
            get("/panic", Access::Public, "panics", panics),
            post(
                "/fail",
                Access::Public,
                "writes then fails",
                writes_then_fails,
            ),
        ];
        (dir, App::with_routes(config, routes).unwrap())
    }

    fn body(reply: Reply) -> (u16, String, serde_json::Value) {
        let json = serde_json::from_slice(&reply.body).unwrap();
        (reply.status, reply.content_type.to_string(), json)
    }

    #[test]
    fn a_panicking_handler_answers_problem_json_500_without_details() {
        let (_dir, app) = app();
        let mut req = TestRequest::new("GET", "/panic", &[], b"");
        let (status, ct, json) = body(app.handle(&mut req));
        assert_eq!(status, 500);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(json["detail"], "An internal error occurred.");
        assert!(!json.to_string().contains("secret"));
    }

    #[test]
    fn a_failing_handler_rolls_back_its_writes() {
        let (_dir, app) = app();
        let mut req = TestRequest::new("POST", "/fail", &[], b"");
        let (status, _, json) = body(app.handle(&mut req));
        assert_eq!(status, 422);
        assert_eq!(json["violations"][0]["propertyPath"], "email");
        let conn = app.pool.get().unwrap();
        let users: i64 = conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(users, 0);
    }
}
