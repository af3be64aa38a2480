//! kontor: a self-hosted subscription-billing server. One binary, one SQLite file.

pub mod app;
pub mod auth;
pub mod billing;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod resources;
pub mod routes;
pub mod workers;

/// glibc's allocator showed up as ~15% of the writer thread's time under write load (many small,
/// short-lived allocations: rows, JSON values, statement parameters); mimalloc halves that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
