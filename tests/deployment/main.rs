//! The deployment tests, a test target of their own: three `portcullis` processes behind
//! nginx on a shared PostgreSQL or MariaDB database, with and without Redis; and a node
//! whose path to its database is cut or blackholed.
#[path = "../support/helpers.rs"]
mod helpers;

mod deployment;
mod forward_auth;
mod outage;
