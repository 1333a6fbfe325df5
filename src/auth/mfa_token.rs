//! The token of a sign-in's second step: made, stored and shape-checked as mailed tokens
//! are (256 random bits, kept as a SHA-256 hash).
pub use super::mail_token::{generate, hash, well_formed};
