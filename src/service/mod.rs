//! Use cases: the rules of the service, each in one home, called alike by the HTTP
//! handlers (`http/`) and the command line (`cli.rs`), so the two cannot disagree. A use
//! case takes the components it needs, not the whole application state, and answers with
//! an error type of its own that the caller maps to a status or an exit message.
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod branding;
pub mod clients;
pub mod ending;
pub mod enrolment;
pub mod factors;
pub mod groups;
pub mod identities;
pub mod import;
pub mod mfa;
pub mod oidc;
pub mod passkey_signup;
pub mod passkeys;
pub mod providers;
pub mod recovery;
pub mod roles;
pub mod sessions;
pub mod signin;
pub mod signup;
pub mod upstream;

use std::net::IpAddr;

use crate::audit::{Entry, Via};
use crate::auth::sessions::Issued;
use crate::store::users::UserRecord;

/// The account signed in, and its new session: what every way of signing in ends with.
pub struct SignedIn {
    pub user: UserRecord,
    pub issued: Issued,
}

/// The throttle key that counts failures against the account itself, whichever of its
/// names was typed (and the second step's wrong codes).
pub fn account_throttle_key(user_id: i64) -> String {
    format!("#account:{user_id}")
}

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
            client_id: None,
            detail: None,
        }
    }
}
