//! Integration tests over real HTTP: each test starts the server on a free port with a
//! fresh database, on SQLite always and on MariaDB and PostgreSQL when
//! PORTCULLIS_TEST_MYSQL_URL / PORTCULLIS_TEST_POSTGRES_URL are set.
#[path = "../support/helpers.rs"]
mod helpers;

mod access_tokens;
mod account;
mod admin;
mod api_reference;
mod audit_trail;
mod backchannel;
mod bad_input;
mod branding;
mod cli;
mod cluster;
mod content_types;
mod cookies_csrf_cors;
mod docs_health_metrics;
mod dpop;
mod forward;
mod languages;
mod mail;
mod mfa;
mod oidc;
mod oidc_flows;
mod passkey_signup;
mod passkeys;
mod provider_presets;
mod provider_signin;
mod providers;
mod refresh;
mod resilience;
mod rights;
mod role_matrix;
mod router_edges;
mod signin;
mod signout;
mod signup;
mod tutorial_clients;
mod tutorial_import;
