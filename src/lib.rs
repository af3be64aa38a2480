//! kontor: a self-hosted subscription-billing server. One binary, one SQLite file.

pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod resources;
pub mod routes;
