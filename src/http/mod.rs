//! HTTP: routes grouped by what they serve, the error type every route answers with, and
//! the middleware in front of them.
pub mod account_routes;
pub mod admin_routes;
pub mod api_key_routes;
pub mod auth_routes;
pub mod authz_routes;
pub mod client_ip;
pub mod client_routes;
pub mod cookies;
pub mod docs;
pub mod error;
pub mod error_code;
pub mod extractors;
pub mod forward_routes;
pub mod health;
pub mod json;
pub mod json_body;
pub mod metrics;
pub mod mfa_routes;
pub mod middleware;
pub mod oidc;
pub mod passkey_routes;
pub mod recovery_routes;
pub mod rights_routes;
pub mod router;
pub mod test_routes;
pub mod web_app;
