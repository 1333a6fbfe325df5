//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636): a code spent once, for the client it
//! was issued to, with the PKCE verifier; a second use ends what the first was given.
use crate::audit::{self, Event};
use crate::auth::sessions;
use crate::domain::oauth;
use crate::service::Client;
use crate::store::oauth_clients::ClientRecord;
use crate::store::oauth_grants::{self, Kind};

use crate::service::oidc::error::{token_error, OAuthCode, OidcError};
use crate::service::oidc::pending::CodeForExchange;
use crate::service::oidc::token::{TokenParams, TokenResponse};
use crate::service::oidc::{hash, Provider};

use super::user_signin::sign_user_in;

pub(in crate::service::oidc) async fn authorization_code(
    p: &Provider<'_>,
    client: &ClientRecord,
    params: TokenParams,
    from: Client<'_>,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, OidcError> {
    let invalid = |why: &str| token_error(OAuthCode::InvalidGrant, why);
    let code = params
        .code
        .as_deref()
        .ok_or_else(|| token_error(OAuthCode::InvalidRequest, "code is missing"))?;
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    let record = oauth_grants::find(db, Kind::Code, &hash(code))
        .await?
        .ok_or_else(|| invalid("unknown code"))?;
    if record.client_id != client.client_id {
        return Err(invalid("the code was issued to another client"));
    }
    if record.used_at.is_some() || !oauth_grants::spend(db, record.id, now).await? {
        // RFC 6749 §4.1.2: a code used twice revokes what the first use was given.
        if let Some(session) = &record.grant_session {
            sessions::end(&p.sessions, session).await?;
        }
        let entry = from
            .entry(None, record.user_id, None)
            .for_client(&client.client_id);
        audit::record(db, p.sessions.clock, Event::CodeReuse, false, &entry).await;
        return Err(invalid("the code was already used"));
    }
    if now >= record.expires_at {
        return Err(invalid("the code has expired"));
    }
    let pending: CodeForExchange =
        serde_json::from_str(&record.request).map_err(|_| invalid("unknown code"))?;
    if params.redirect_uri.as_deref() != Some(pending.request.redirect_uri.as_str()) {
        return Err(invalid(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (
        &pending.request.code_challenge,
        params.code_verifier.as_deref(),
    ) {
        (Some(challenge), Some(verifier)) if oauth::pkce_matches(verifier, challenge) => {}
        (Some(_), _) => return Err(invalid("code_verifier does not match the code_challenge")),
        // A verifier for a request made without a challenge is a downgrade attempt.
        (None, Some(_)) => return Err(invalid("the authorization request had no code_challenge")),
        (None, None) => {}
    }
    let user_id = record.user_id.ok_or_else(|| invalid("unknown code"))?;
    let (answer, grant_session) =
        sign_user_in(p, client, user_id, &pending, from, dpop_jkt).await?;
    oauth_grants::set_grant_session(db, record.id, &grant_session).await?;
    Ok(answer)
}
