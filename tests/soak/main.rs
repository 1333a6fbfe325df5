//! The soak test, a test target of its own: two minutes of mixed traffic against the real
//! binary. It is ignored by a plain `cargo test`; CI runs it, and so does `scripts/soak`
//! (`cargo test --test soak -- --ignored`, `PORTCULLIS_SOAK_SECS` to make it longer).
#[path = "../support/helpers.rs"]
mod helpers;

mod soak;
