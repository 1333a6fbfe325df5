//! The consent page's side of authorization (what it shows, the user's answer) and the
//! consents a user gave, to list and take back.
use crate::audit::{self, Event};
use crate::clock::Millis;
use crate::domain::branding::client_logo;
use crate::service::Client;
use crate::store;
use std::sync::Arc;

use crate::store::device_codes;
use crate::store::oauth_clients::ClientRecord;
use crate::store::oauth_grants::{self, ConsentRecord, Kind};

use super::authorize::{issue_code, ready_for_code, signed_in_after, with_sign_in, Back, Browser};
use super::device::VERIFICATION_PAGE;
use super::error::{OAuthCode, OidcError};
use super::pending::WaitingForConsent;
use super::{hash, Provider};

/// What the consent page shows.
pub struct RequestView {
    pub client_id: String,
    pub client_name: String,
    /// When the client's logo last changed; `None`: it has none.
    pub client_logo: Option<Millis>,
    pub scopes: Vec<String>,
    pub sign_in_required: bool,
    /// The signed-in user allowed these scopes before (and no new consent was asked for):
    /// the page need not ask again. The authorization endpoint cannot always tell, since a
    /// browser arriving from another site does not send our SameSite=Strict cookies there.
    pub already_allowed: bool,
    /// A device asks (RFC 8628): the page warns, and never answers by itself.
    pub device: bool,
}

async fn find_request(
    p: &Provider<'_>,
    token: &str,
) -> Result<
    (
        oauth_grants::PendingRecord,
        WaitingForConsent,
        Arc<ClientRecord>,
    ),
    OidcError,
> {
    let now = p.sessions.clock.now_ms();
    let record = oauth_grants::find(p.sessions.db, Kind::Request, &hash(token))
        .await?
        .filter(|r| r.used_at.is_none() && now < r.expires_at)
        .ok_or(OidcError::UnknownRequest)?;
    let pending: WaitingForConsent =
        serde_json::from_str(&record.request).map_err(|_| OidcError::UnknownRequest)?;
    let client = p
        .client(&record.client_id)
        .await?
        .ok_or(OidcError::UnknownRequest)?;
    Ok((record, pending, client))
}

pub async fn view_request(
    p: &Provider<'_>,
    token: &str,
    browser: Option<&Browser>,
) -> Result<RequestView, OidcError> {
    let (_, pending, client) = find_request(p, token).await?;
    let fresh = match browser {
        Some(b) => signed_in_after(p, b, pending.login_after).await?,
        None => pending.login_after.is_none(),
    };
    let already_allowed = match browser {
        Some(b) if pending.device.is_none() => ready_for_code(p, &client, &pending, b).await?,
        _ => false,
    };
    let owner = client_logo(&client.client_id);
    let client_logo = store::branding::logo_versions(p.sessions.db, &[owner.as_str()])
        .await?
        .first()
        .map(|(_, at)| *at);
    Ok(RequestView {
        client_logo,
        already_allowed,
        device: pending.device.is_some(),
        client_id: client.client_id.clone(),
        client_name: client.name.clone(),
        scopes: pending.scope.split(' ').map(String::from).collect(),
        sign_in_required: !fresh,
    })
}

/// The user's answer on the consent page: where the browser goes next (the client, with a
/// code or `access_denied`). The request is spent either way.
pub async fn decide(
    p: &Provider<'_>,
    token: &str,
    browser: &Browser,
    approve: bool,
    from: Client<'_>,
) -> Result<String, OidcError> {
    let (record, pending, client) = find_request(p, token).await?;
    if !signed_in_after(p, browser, pending.login_after).await? {
        return Err(OidcError::SignInAgain);
    }
    // A device's request was made for the user who typed its code, and is theirs alone.
    if record.user_id.is_some_and(|id| id != browser.user_id) {
        return Err(OidcError::UnknownRequest);
    }
    if !oauth_grants::spend(p.sessions.db, record.id, p.sessions.clock.now_ms()).await? {
        return Err(OidcError::UnknownRequest);
    }
    if let Some(device) = pending.device {
        return answer_device(p, device, pending, &client, browser, approve, from).await;
    }
    // The client could have lost this redirect URI since the request was made.
    if !client.redirect_uris.contains(&pending.redirect_uri) {
        return Err(OidcError::NoRedirect(
            "redirect_uri is no longer registered for this client".into(),
        ));
    }
    let back = Back {
        redirect_uri: &pending.redirect_uri,
        state: pending.state.as_deref(),
        issuer: p.issuer,
    };
    if !approve {
        return Ok(back.error(OAuthCode::AccessDenied, "the user declined"));
    }
    oauth_grants::remember_consent(
        p.sessions.db,
        browser.user_id,
        &client.client_id,
        &pending.scope,
        p.sessions.clock.now_ms(),
    )
    .await?;
    let user = Some(browser.user_id);
    let entry = from.entry(user, user, None).for_client(&client.client_id);
    audit::record(
        p.sessions.db,
        p.sessions.clock,
        Event::ConsentGranted,
        true,
        &entry,
    )
    .await;
    let redirect_uri = pending.redirect_uri.clone();
    let state = pending.state.clone();
    let code = issue_code(p, pending, browser).await?;
    Ok(Back {
        redirect_uri: &redirect_uri,
        state: state.as_deref(),
        issuer: p.issuer,
    }
    .code(&code))
}

/// The user's answer to a device: recorded for its next poll, the consent remembered; the
/// browser goes to the verification page's result.
async fn answer_device(
    p: &Provider<'_>,
    device: i64,
    pending: WaitingForConsent,
    client: &ClientRecord,
    browser: &Browser,
    approve: bool,
    from: Client<'_>,
) -> Result<String, OidcError> {
    let db = p.sessions.db;
    let now = p.sessions.clock.now_ms();
    if !approve {
        device_codes::decide(db, device, None, now).await?;
        return Ok(format!("{VERIFICATION_PAGE}?result=denied"));
    }
    let scope = pending.scope.clone();
    let sign_in = with_sign_in(p, pending, browser).await?;
    let sign_in = serde_json::to_string(&sign_in).map_err(anyhow::Error::from)?;
    if !device_codes::decide(db, device, Some((browser.user_id, &sign_in)), now).await? {
        return Err(OidcError::UnknownDeviceCode);
    }
    oauth_grants::remember_consent(db, browser.user_id, &client.client_id, &scope, now).await?;
    let user = Some(browser.user_id);
    let entry = from.entry(user, user, None).for_client(&client.client_id);
    audit::record(db, p.sessions.clock, Event::ConsentGranted, true, &entry).await;
    Ok(format!("{VERIFICATION_PAGE}?result=approved"))
}

pub async fn consents(p: &Provider<'_>, user_id: i64) -> Result<Vec<ConsentRecord>, OidcError> {
    Ok(oauth_grants::consents_of(p.sessions.db, user_id).await?)
}

/// Takes back a consent and ends the client's grants for the user; false if there was none.
pub async fn revoke_consent(
    p: &Provider<'_>,
    user_id: i64,
    client_id: &str,
    from: Client<'_>,
) -> Result<bool, OidcError> {
    let db = p.sessions.db;
    let had = oauth_grants::forget_consent(db, user_id, client_id).await?;
    if had {
        let entry = from
            .entry(Some(user_id), Some(user_id), None)
            .for_client(client_id);
        audit::record(db, p.sessions.clock, Event::ConsentRevoked, true, &entry).await;
    }
    let ended =
        store::sessions::revoke_client_grants(db, user_id, client_id, p.sessions.clock.now_ms())
            .await?;
    for session in &ended {
        p.sessions.notify.session_ended(session).await;
    }
    Ok(had || !ended.is_empty())
}
