//! Use cases: the rules of the service, each in one home, called alike by the HTTP
//! handlers (`http/`) and the command line (`cli.rs`), so the two cannot disagree. A use
//! case takes the components it needs, not the whole application state, and answers with
//! an error type of its own that the caller maps to a status or an exit message.
pub mod accounts;
pub mod admin;
pub mod import;
pub mod recovery;
pub mod sessions;
pub mod signin;
pub mod signup;

use std::net::IpAddr;

use crate::audit::{Entry, Via};

/// Where a request to a use case comes from, as sessions and audit entries record it.
#[derive(Clone, Copy, Debug)]
pub struct Client<'a> {
    pub ip: IpAddr,
    pub ip_text: &'a str,
    pub user_agent: Option<&'a str>,
}

impl<'a> Client<'a> {
    /// An audit entry about a request over the API from this client.
    pub fn entry(
        &self,
        actor_id: Option<i64>,
        subject_id: Option<i64>,
        username: Option<&'a str>,
    ) -> Entry<'a> {
        Entry {
            actor_id,
            subject_id,
            username,
            ip: Some(self.ip_text),
            user_agent: self.user_agent,
            via: Via::Api,
        }
    }
}
