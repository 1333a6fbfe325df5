//! The OpenID Connect provider's rules (docs/API.md §5), one file a flow: the
//! authorization endpoint (`authorize`) and the consent page (`consent`), what waits
//! between them (`pending`: a request waiting for consent, a code waiting for its
//! exchange), the token endpoint (`token`) and its grants (`grants/`), ID tokens
//! (`id_token`), userinfo (`userinfo`), revocation and introspection (`introspection`),
//! logout (`logout`), pushed authorization requests (`par`), and the device grant
//! (`device`, with its token grant in `grants/`); and back-channel logout (`backchannel`). Errors are `error`'s.
//! HTTP shapes are `http::oidc`'s business.
mod authorize;
pub mod backchannel;
mod consent;
mod device;
pub mod dpop;
mod error;
mod grants;
mod id_token;
pub use id_token::USERINFO_PATH;
mod introspection;
mod logout;
mod par;
mod pending;
mod token;
mod userinfo;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use crate::auth::session_cache::SessionCache;
use crate::auth::sessions::Sessions;
use crate::auth::starts::Starts;
use crate::db::DbError;
use crate::store::oauth_clients::{self, ClientRecord};

pub use authorize::{authorize, AuthorizeParams, Browser, Next, CONSENT_PAGE};
pub use consent::{consents, decide, revoke_consent, view_request, RequestView};
pub use device::{enter_user_code, start as start_device, DeviceAuthorization, VERIFICATION_PAGE};
pub use error::{OAuthCode, OidcError};
pub use introspection::{introspect, revoke};
pub use logout::{end_hinted_session, logout_request, LogoutRequest};
pub use par::{push, Pushed};
pub use token::{authenticate_client, token, ClientAuth, TokenParams, TokenResponse};
pub use userinfo::{check_binding, live_access, userinfo, Scheme};

/// What the provider works with: the session lifecycle (which holds the database, the
/// clock and the signer) and the issuer, `PORTCULLIS_PUBLIC_URL`.
pub struct Provider<'a> {
    pub sessions: Sessions<'a>,
    /// The states of sessions and users that first-party requests check too, so a token
    /// check at userinfo or introspection costs no query on a hit.
    pub cache: &'a SessionCache,
    pub issuer: &'a str,
    /// How many requests one address may leave waiting for consent.
    pub starts: &'a Starts,
}

impl Provider<'_> {
    /// A registered client, from this node's cache (kept honest by the change feed) or the
    /// database.
    pub async fn client(&self, client_id: &str) -> Result<Option<Arc<ClientRecord>>, DbError> {
        let db = self.sessions.db;
        let load = async move { Ok(oauth_clients::find(db, client_id).await?.map(Arc::new)) };
        self.cache
            .client(client_id, load)
            .await
            .map_err(DbError::Shared)
    }
}

/// A new unguessable token (a request's, a code's): 256 random bits.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a token: its SHA-256, in hex.
fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
