//! ID tokens (OpenID Connect Core §2, §3.1.3.6) and the user's claims that scopes let a
//! client see, in ID tokens and at userinfo alike.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::keys::KeyAlg;
use crate::domain::{SecondFactor, SigninMethod, UserState};
use crate::service::clients;
use crate::store::oauth_clients::ClientRecord;

use super::error::OidcError;
use super::pending::CodeForExchange;
use super::Provider;

/// The ID token's claims (OpenID Connect Core §2, §5.1).
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: String,
    aud: &'a str,
    azp: &'a str,
    iat: i64,
    exp: i64,
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: Vec<&'static str>,
    acr: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    at_hash: String,
    #[serde(flatten)]
    profile: serde_json::Map<String, serde_json::Value>,
}

/// The ID token of a code's exchange, signed with the client's algorithm.
pub(super) fn id_token(
    p: &Provider<'_>,
    user_id: i64,
    held: &UserState,
    client: &ClientRecord,
    pending: &CodeForExchange,
    scopes: &[&str],
    access_token: &str,
) -> Result<String, OidcError> {
    let now = p.sessions.clock.now_secs();
    let (amr, acr) = authentication(
        SigninMethod::from_stored(pending.method.as_deref()),
        SecondFactor::from_stored(pending.second_factor.as_deref()),
    );
    let mut profile = user_claims(held, &client.client_id, scopes, Target::IdToken);
    if groups_move(held, scopes) {
        // OpenID Connect Core §5.6.2: a distributed claim, fetched from userinfo with the
        // access token, as an identity provider does for a user in too many groups.
        profile.insert(
            "_claim_names".into(),
            serde_json::json!({ "groups": "userinfo" }),
        );
        profile.insert(
            "_claim_sources".into(),
            serde_json::json!({ "userinfo": { "endpoint": format!("{}{}", p.issuer, USERINFO_PATH) } }),
        );
    }
    p.sessions
        .tokens
        .sign_with("JWT", clients::id_token_alg(client), now, |alg| IdClaims {
            iss: p.issuer,
            sub: user_id.to_string(),
            aud: &client.client_id,
            azp: &client.client_id,
            iat: now,
            exp: now + p.sessions.tokens.ttl_secs(),
            auth_time: pending.auth_time,
            nonce: pending.request.nonce.as_deref(),
            amr,
            acr,
            sid: pending.browser_session.as_deref(),
            at_hash: half_hash(alg, access_token),
            profile,
        })
        .map_err(|e| OidcError::Internal(e.into()))
}

/// The ID token's `amr` (RFC 8176 values) and `acr`: `"2"` for a passkey sign-in or one
/// with a second factor, `"1"` for one factor.
fn authentication(
    method: SigninMethod,
    second: Option<SecondFactor>,
) -> (Vec<&'static str>, &'static str) {
    let mut amr = match method {
        SigninMethod::Password => vec!["pwd"],
        SigninMethod::MagicLink => vec!["mail"],
        SigninMethod::Passkey => vec!["hwk", "user"],
        // Not among RFC 8176's values, which name no federated sign-in; "fed" is the one
        // Entra ID uses for it.
        SigninMethod::Provider => vec!["fed"],
        SigninMethod::ProviderMfa => vec!["fed", "mfa"],
    };
    let Some(second) = second else {
        let acr = if matches!(method, SigninMethod::Passkey | SigninMethod::ProviderMfa) {
            "2"
        } else {
            "1"
        };
        return (amr, acr);
    };
    amr.push(match second {
        SecondFactor::Totp | SecondFactor::RecoveryCode => "otp",
        SecondFactor::Passkey => "hwk",
    });
    amr.push("mfa");
    (amr, "2")
}

/// OpenID Connect Core §3.1.3.6: the left half of the access token's hash, with the hash
/// of the signing algorithm (SHA-512 for Ed25519, SHA-256 for ES256 and RS256).
fn half_hash(alg: KeyAlg, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        KeyAlg::EdDSA => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
        KeyAlg::ES256 | KeyAlg::RS256 => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Where the claims go: an ID token carries at most `MAX_GROUPS_IN_ID_TOKEN` groups (more
/// move to userinfo) and no permissions; userinfo answers them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    IdToken,
    Userinfo,
}

/// How many groups an ID token names before the claim moves to userinfo: 50 names of at
/// most 20 characters keep the `groups` claim under about 1.2 KB, so a user in 200 groups
/// still gets an ID token well inside a cookie or a URL.
pub const MAX_GROUPS_IN_ID_TOKEN: usize = 50;
/// The userinfo route: the distributed claim's endpoint, and where the HTTP layer serves it.
pub const USERINFO_PATH: &str = "/api/oauth/userinfo";

/// Whether the `groups` claim moves from the ID token to userinfo.
fn groups_move(held: &UserState, scopes: &[&str]) -> bool {
    scopes.contains(&"groups") && held.rights.groups.len() > MAX_GROUPS_IN_ID_TOKEN
}

/// The claims the scopes let `client_id` see (ID token and userinfo alike): `roles` holds
/// the built-in and global roles and the client's own application roles; `groups` the
/// groups; at userinfo, `permissions` (with `roles`) what those roles give.
pub(super) fn user_claims(
    held: &UserState,
    client_id: &str,
    scopes: &[&str],
    target: Target,
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    if scopes.contains(&"profile") {
        claims.insert("preferred_username".into(), held.username.as_ref().into());
        claims.insert("name".into(), held.username.as_ref().into());
    }
    if scopes.contains(&"email") {
        claims.insert("email".into(), held.email.as_ref().into());
        claims.insert("email_verified".into(), held.email_verified.into());
    }
    if scopes.contains(&"roles") {
        let roles: Vec<&str> = held
            .roles
            .iter()
            .map(|r| r.name())
            .chain(held.rights.roles.iter().map(|r| r.as_ref()))
            .chain(held.rights.roles_of_client(client_id))
            .collect();
        claims.insert("roles".into(), roles.into());
        if target == Target::Userinfo {
            let permissions = held.rights.permissions_for(Some(client_id));
            claims.insert("permissions".into(), permissions.into());
        }
    }
    if scopes.contains(&"groups") {
        let groups: Vec<&str> = held.rights.groups.iter().map(|g| g.as_ref()).collect();
        if !(target == Target::IdToken && groups_move(held, scopes)) {
            claims.insert("groups".into(), groups.into());
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_and_acr_say_how_many_factors_signed_in() {
        use SecondFactor as F;
        use SigninMethod as M;
        let cases: [(M, Option<F>, &[&str], &str); 7] = [
            (M::Password, None, &["pwd"], "1"),
            (M::MagicLink, None, &["mail"], "1"),
            (M::Passkey, None, &["hwk", "user"], "2"),
            (M::Password, Some(F::Totp), &["pwd", "otp", "mfa"], "2"),
            (
                M::Password,
                Some(F::RecoveryCode),
                &["pwd", "otp", "mfa"],
                "2",
            ),
            (M::Password, Some(F::Passkey), &["pwd", "hwk", "mfa"], "2"),
            (M::MagicLink, Some(F::Totp), &["mail", "otp", "mfa"], "2"),
        ];
        for (method, second, amr, acr) in cases {
            assert_eq!(
                authentication(method, second),
                (amr.to_vec(), acr),
                "{method:?} {second:?}"
            );
        }
    }
}
