//! THE request pipeline, read top to bottom: log -> route -> body limits -> authenticate ->
//! transaction -> idempotency -> handler -> commit or roll back -> error to problem+json.

use crate::auth::{self, Principal};
use crate::config::Config;
use crate::db::Pool;
use crate::error::{ApiError, ApiResult};
use crate::http::query::Query;
use crate::http::{idempotency, Access, Ctx, Method, Reply, Route};
use crate::routes;
use rusqlite::TransactionBehavior;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Everything a request needs, shared by all HTTP threads.
pub struct App {
    pub pool: Pool,
    pub config: Config,
    pub routes: Vec<Route>,
    /// Serializes this process's writers before `BEGIN IMMEDIATE`. SQLite lets one writer in at
    /// a time anyway; waiting here wakes the next writer at once, where SQLite's busy handler
    /// would poll with sleeps of up to 100 ms. Other processes (CLI commands) still meet the
    /// busy timeout.
    pub write_lock: Mutex<()>,
}

impl App {
    /// Opens the database (creating the schema if needed) and builds the route table.
    pub fn open(config: Config) -> Result<Arc<App>, String> {
        let pool = crate::db::open_pool(&config.db, config.threads as u32 + 2)?;
        Ok(Arc::new(App {
            pool,
            config,
            routes: routes::all(),
            write_lock: Mutex::new(()),
        }))
    }

    /// Answers one HTTP request. Never panics: a panic in a handler becomes a JSON 500.
    pub fn handle(&self, req: &rouille::Request) -> rouille::Response {
        let started = Instant::now();
        let reply = catch_unwind(AssertUnwindSafe(|| self.pipeline(req)))
            .unwrap_or_else(|_| Err(ApiError::Internal("handler panicked".into())))
            .unwrap_or_else(|e| {
                if let ApiError::Internal(detail) = &e {
                    eprintln!("error: {} {}: {detail}", req.method(), req.url());
                }
                Reply::from_error(&e)
            });
        if self.config.log_requests {
            // Path only: query strings and headers may carry secrets.
            eprintln!(
                "{} {} {} {:.1}ms",
                req.method(),
                req.url(),
                reply.status,
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        into_response(reply)
    }

    fn pipeline(&self, req: &rouille::Request) -> ApiResult<Reply> {
        let method = Method::parse(req.method()).ok_or_else(|| {
            ApiError::MethodNotAllowed(vec!["GET", "POST", "PUT", "PATCH", "DELETE"])
        })?;
        let path = req.url();
        let (route, params) = routes::find(&self.routes, method, &path)?;
        let body = read_body(req, route, self.config.body_limit)?;
        let query = Query::parse(req.raw_query_string());

        // Declared before the transaction so it is released after commit or rollback.
        let _writer = method.writes().then(|| {
            self.write_lock
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        });
        let mut conn = self.pool.get()?;
        let behavior = if method.writes() {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = conn.transaction_with_behavior(behavior)?;

        let principal = match route.access {
            Access::Public => Principal::anonymous(),
            _ => auth::authenticate(&tx, req.header("Authorization"))?,
        };
        principal.authorize(route.access)?;

        let idempotency = match req.header("Idempotency-Key") {
            Some(key) if method == Method::Post && route.access != Access::Public => {
                if key.is_empty() || key.len() > 255 {
                    return Err(ApiError::BadRequest(
                        "The Idempotency-Key header must have 1 to 255 characters.".into(),
                    ));
                }
                let hash = idempotency::request_hash(req.method(), &path, &body);
                if let Some(stored) = idempotency::lookup(&tx, &principal.tenant_id, key, &hash)? {
                    return Ok(stored);
                }
                Some((key, hash))
            }
            _ => None,
        };

        let reply = {
            let ctx = Ctx {
                principal: &principal,
                tx: &tx,
                params,
                query,
                body: &body,
                content_type: req.header("Content-Type").unwrap_or("").to_string(),
                base_url: format!("http://{}", req.header("Host").unwrap_or("localhost")),
                config: &self.config,
            };
            (route.handler)(&ctx)?
        };
        if let Some((key, hash)) = idempotency {
            idempotency::store(&tx, &principal.tenant_id, key, &hash, &reply)?;
        }
        tx.commit()?;
        Ok(reply)
    }
}

/// Reads the body up to the limit (413 beyond) and checks its media type (415).
fn read_body(req: &rouille::Request, route: &Route, limit: usize) -> ApiResult<Vec<u8>> {
    let mut body = Vec::new();
    if let Some(data) = req.data() {
        data.take(limit as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| ApiError::BadRequest(format!("Cannot read the request body: {e}.")))?;
    }
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

fn into_response(reply: Reply) -> rouille::Response {
    let mut response = if reply.status == 204 {
        rouille::Response::empty_204()
    } else {
        rouille::Response::from_data(reply.content_type, reply.body).with_status_code(reply.status)
    };
    for (name, value) in reply.headers {
        response = response.with_unique_header(name, value);
    }
    response
}

/// Starts the HTTP server on `config.bind` and blocks forever.
pub fn serve(app: Arc<App>) -> Result<(), String> {
    let server = start(app)?;
    server.run();
    Ok(())
}

/// Binds the server (port 0 picks a free port) without running it yet.
pub fn start(
    app: Arc<App>,
) -> Result<
    rouille::Server<impl Fn(&rouille::Request) -> rouille::Response + Send + Sync + 'static>,
    String,
> {
    let threads = app.config.threads;
    let bind = app.config.bind.clone();
    let server = rouille::Server::new(bind.as_str(), move |req| app.handle(req))
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    Ok(server.pool_size(threads))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let pool = crate::db::open_pool(&config.db, 2).unwrap();
        let routes = vec![
            get("/panic", Access::Public, "panics", panics),
            post(
                "/fail",
                Access::Public,
                "writes then fails",
                writes_then_fails,
            ),
        ];
        let write_lock = Mutex::new(());
        (
            dir,
            App {
                pool,
                config,
                routes,
                write_lock,
            },
        )
    }

    fn body(response: rouille::Response) -> (u16, String, serde_json::Value) {
        let ct = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        let (mut reader, _) = response.data.into_reader_and_size();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        (
            response.status_code,
            ct,
            serde_json::from_str(&text).unwrap(),
        )
    }

    #[test]
    fn a_panicking_handler_answers_problem_json_500_without_details() {
        let (_dir, app) = app();
        let req = rouille::Request::fake_http("GET", "/panic", vec![], vec![]);
        let (status, ct, json) = body(app.handle(&req));
        assert_eq!(status, 500);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(json["detail"], "An internal error occurred.");
        assert!(!json.to_string().contains("secret"));
    }

    #[test]
    fn a_failing_handler_rolls_back_its_writes() {
        let (_dir, app) = app();
        let req = rouille::Request::fake_http("POST", "/fail", vec![], vec![]);
        let (status, _, json) = body(app.handle(&req));
        assert_eq!(status, 422);
        assert_eq!(json["violations"][0]["propertyPath"], "email");
        let conn = app.pool.get().unwrap();
        let users: i64 = conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(users, 0);
    }
}
