//! Use cases: the rules of the service, each in one home, called alike by the HTTP
//! handlers (`http/`) and the command line (`cli.rs`), so the two cannot disagree. A use
//! case takes the components it needs, not the whole application state, and answers with
//! an error type of its own that the caller maps to a status or an exit message.
pub mod accounts;
pub mod admin;
pub mod sessions;
pub mod signin;
pub mod signup;
