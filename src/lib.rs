//! Portcullis: the JWT authentication tutorial's HTTP contract, done securely.
//!
//! `cli` parses commands and settings, `app` wires the HTTP server, `http` holds the
//! routes, `auth` the token, session, hashing and throttling machinery, `store` the
//! queries, `db` the connection and migrations, and `domain` the validated input types.
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
pub mod metrics;
pub mod redis_link;
pub mod service;
pub mod store;
pub mod tutorial_import;
