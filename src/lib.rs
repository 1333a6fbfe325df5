//! Portcullis: the JWT authentication tutorial's HTTP contract, done securely.
//!
//! The layers, each knowing only those below it (docs/ARCHITECTURE.md):
//! `http` (routes, extractors, cookies, the error mapping) and `cli` (commands) call
//! `service` (the use cases, each rule in one home), which uses `auth` (tokens, sessions,
//! hashing, throttling, the session cache and its change feed) and `domain` (validated
//! input and plain state), which use `store` (every query), over `db` (the connection,
//! migrations and `DbError`). `app` builds the components, `server` runs the router over
//! them; `audit`, `metrics`, `clock` and `redis_link` serve every layer.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod redis_link;
pub mod server;
pub mod service;
pub mod store;
