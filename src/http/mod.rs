//! HTTP: routes grouped by what they serve, the error type every route answers with, and
//! the middleware in front of them.
pub mod auth_routes;
pub mod client_ip;
pub mod error;
pub mod json;
pub mod middleware;
pub mod test_routes;
