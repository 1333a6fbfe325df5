//! Each kind of provider's flow: where the browser is sent, how Portcullis proves itself
//! at the token endpoint, and how the answer tells who signed in. The generic kinds take
//! it from their settings (OpenID Connect by discovery); a preset follows its provider's
//! documented endpoints and quirks: Google's issuer without `https://`, Microsoft's
//! tenant-dependent issuer and unverified emails, GitLab by discovery, GitHub's REST API in
//! place of an ID token, Apple's signed client secret and form-post answer.
use jsonwebtoken::Algorithm;
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use super::identity::{self, Identity};
use super::{ProviderSigninError, Upstream};
use crate::auth::upstream::discovery::ProviderMetadata;
use crate::auth::upstream::{apple, github, id_token, microsoft, token, UpstreamError};
use crate::domain::ProviderKind;
use crate::service::providers::Provider;

const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GITLAB_ISSUER: &str = "https://gitlab.com";

/// Where a provider's flow goes, found once per start and callback.
pub(super) struct Flow {
    pub authorization: Url,
    pub token: Url,
    /// The provider answers with a cross-site form POST (`response_mode=form_post`, Apple).
    pub form_post: bool,
    answer: Answer,
}

/// How the provider says who signed in.
enum Answer {
    /// An ID token, checked against the discovered metadata.
    IdToken(Box<ProviderMetadata>),
    /// An OAuth 2 user-info document, read through the provider's pointers.
    Userinfo(Url),
    /// GitHub's REST API, at this root.
    Github(String),
}

pub(super) async fn discover(
    up: Upstream<'_>,
    provider: &Provider,
) -> Result<Flow, ProviderSigninError> {
    let config = &provider.config;
    let issuer_or = |default: &str| config.issuer.clone().unwrap_or_else(|| default.into());
    let metadata = match provider.kind {
        ProviderKind::Oidc => {
            let issuer = config
                .issuer
                .clone()
                .ok_or(ProviderSigninError::UnknownProvider)?;
            up.cache.discover(up.http, &issuer).await?
        }
        ProviderKind::Google => {
            up.cache
                .discover(up.http, &issuer_or(GOOGLE_ISSUER))
                .await?
        }
        ProviderKind::Gitlab => {
            up.cache
                .discover(up.http, &issuer_or(GITLAB_ISSUER))
                .await?
        }
        ProviderKind::Apple => {
            up.cache
                .discover(up.http, &issuer_or(apple::APPLE_ISSUER))
                .await?
        }
        ProviderKind::Microsoft => {
            let base = config.base_url.as_deref();
            let tenant = config.tenant.as_deref().unwrap_or("common");
            let authority = microsoft::authority(base, tenant);
            up.cache
                .discover_at(up.http, &authority, |stated| {
                    microsoft::accepts_discovered(stated, base, tenant)
                })
                .await?
        }
        ProviderKind::Oauth2 => {
            let url = |v: &Option<String>| {
                v.as_deref()
                    .and_then(|v| Url::parse(v).ok())
                    .ok_or(ProviderSigninError::UnknownProvider)
            };
            return Ok(Flow {
                authorization: url(&config.authorization_endpoint)?,
                token: url(&config.token_endpoint)?,
                form_post: false,
                answer: Answer::Userinfo(url(&config.userinfo_endpoint)?),
            });
        }
        ProviderKind::Github => {
            let endpoints = github::endpoints(config.base_url.as_deref())?;
            return Ok(Flow {
                authorization: endpoints.authorization,
                token: endpoints.token,
                form_post: false,
                answer: Answer::Github(endpoints.api),
            });
        }
    };
    Ok(Flow {
        authorization: metadata.authorization_endpoint.clone(),
        token: metadata.token_endpoint.clone(),
        form_post: provider.kind == ProviderKind::Apple,
        answer: Answer::IdToken(Box::new(metadata)),
    })
}

impl Flow {
    /// The provider's own authorization parameters.
    pub fn extra_params(&self) -> &'static [(&'static str, &'static str)] {
        if self.form_post {
            &[("response_mode", "form_post")]
        } else {
            &[]
        }
    }

    /// RFC 9207 §2.4: the callback's `iss`, when there is an issuer to hold it to.
    pub fn check_callback_issuer(
        &self,
        kind: ProviderKind,
        iss: Option<&str>,
    ) -> Result<(), UpstreamError> {
        let Answer::IdToken(metadata) = &self.answer else {
            return Ok(());
        };
        match (kind, iss) {
            (ProviderKind::Microsoft, Some(iss)) => {
                if microsoft::accepts_callback_issuer(iss, &metadata.issuer) {
                    Ok(())
                } else {
                    Err(UpstreamError::IssuerMismatch)
                }
            }
            _ => token::check_callback_issuer(
                iss,
                &metadata.issuer,
                metadata.iss_parameter_supported,
            ),
        }
    }

    /// How Portcullis authenticates at the token endpoint with `secret` (the stored one,
    /// opened): as the provider documents, or as its metadata says.
    pub fn credential(
        &self,
        provider: &Provider,
        secret: Option<SecretString>,
        now_secs: i64,
    ) -> Result<Credential, ProviderSigninError> {
        let Some(secret) = secret else {
            return Ok(Credential::None);
        };
        Ok(match (&self.answer, provider.kind) {
            (Answer::IdToken(metadata), ProviderKind::Apple) => {
                let config = &provider.config;
                let signer = apple::Signer {
                    team_id: config.team_id.as_deref().unwrap_or_default(),
                    key_id: config.key_id.as_deref().unwrap_or_default(),
                    client_id: &config.client_id,
                    private_key: &secret,
                };
                Credential::Post(apple::client_secret(&signer, &metadata.issuer, now_secs)?)
            }
            (Answer::IdToken(metadata), _) => {
                let says = |m: &str| {
                    metadata
                        .token_endpoint_auth_methods_supported
                        .iter()
                        .any(|a| a == m)
                };
                if !says("client_secret_basic") && says("client_secret_post") {
                    Credential::Post(secret)
                } else {
                    Credential::Basic(secret)
                }
            }
            // GitHub documents its secret in the form.
            (Answer::Github(_), _) => Credential::Post(secret),
            (Answer::Userinfo(_), _) => Credential::Basic(secret),
        })
    }

    /// Who signed in, from the token endpoint's answer. `apple_user` is Apple's unsigned
    /// `user` form field, which only names a new account.
    pub async fn identity(
        &self,
        up: Upstream<'_>,
        provider: &Provider,
        tokens: &token::TokenAnswer,
        expected_nonce: &str,
        now_secs: i64,
        apple_user: Option<&str>,
    ) -> Result<Identity, ProviderSigninError> {
        let metadata = match &self.answer {
            Answer::Userinfo(endpoint) => {
                let info = token::userinfo(up.http, endpoint, &tokens.access_token).await?;
                return identity::from_userinfo(&provider.config, &info);
            }
            Answer::Github(api) => {
                // Its organisations only when a role mapping reads them (`read:org`).
                let orgs = provider.config.role_mapping.is_some();
                let account = github::account(up.http, api, &tokens.access_token, orgs).await?;
                return Ok(identity::from_github(account));
            }
            Answer::IdToken(metadata) => metadata,
        };
        let kind = provider.kind;
        let id_token = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| ProviderSigninError::IdTokenInvalid("none was issued".into()))?;
        // The kept set, or a fresh one when the token names a key it lacks (a rotation).
        let jwks = up
            .cache
            .keys_for(up.http, &metadata.jwks_uri, id_token)
            .await?;
        let algs = allowed_algs(metadata);
        // Google's and Microsoft's tokens carry an issuer other than the discovered one
        // character for character; it is checked below, by their rules.
        let exact = !matches!(kind, ProviderKind::Google | ProviderKind::Microsoft);
        let verified = id_token::verify_id_token(
            &jwks,
            id_token,
            &id_token::Expected {
                issuer: exact.then_some(metadata.issuer.as_str()),
                client_id: &provider.config.client_id,
                nonce: expected_nonce,
                now_secs,
                leeway_secs: id_token::DEFAULT_LEEWAY_SECS,
                allowed_algs: &algs,
            },
        )?;
        let issuer_ok = match kind {
            ProviderKind::Google => google_issuer_ok(&metadata.issuer, &verified.issuer),
            ProviderKind::Microsoft => {
                microsoft::expected_issuer(&metadata.issuer, &verified.claims).as_deref()
                    == Some(verified.issuer.as_str())
            }
            _ => true,
        };
        if !issuer_ok {
            return Err(ProviderSigninError::IssuerMismatch);
        }
        let mut claims = verified.claims;
        // An ID token without the email: userinfo may have it, for the same subject.
        if !claims.contains_key("email") {
            if let Some(endpoint) = &metadata.userinfo_endpoint {
                let more = token::userinfo(up.http, endpoint, &tokens.access_token).await?;
                if more.get("sub").and_then(Value::as_str) == Some(verified.subject.as_str()) {
                    for (k, v) in more {
                        claims.entry(k).or_insert(v);
                    }
                }
            }
        }
        let hints = if kind == ProviderKind::Apple {
            identity::apple_name(apple_user)
        } else {
            Vec::new()
        };
        Ok(identity::from_claims(
            kind,
            verified.subject,
            &claims,
            hints,
        ))
    }
}

/// Google documents both `https://accounts.google.com` and `accounts.google.com` as its
/// ID tokens' issuer: the discovered one, or the same without its scheme. The one departure
/// from OIDC Core §3.1.3.7 step 2's exact match, for this preset alone (docs/SECURITY.md).
fn google_issuer_ok(discovered: &str, iss: &str) -> bool {
    iss == discovered || discovered.split_once("://").map(|(_, rest)| rest) == Some(iss)
}

/// The client's proof at the token endpoint, owned (Apple's is made per exchange).
pub(super) enum Credential {
    Basic(SecretString),
    Post(SecretString),
    None,
}

impl Credential {
    pub fn as_auth(&self) -> token::ClientAuth<'_> {
        match self {
            Credential::Basic(s) => token::ClientAuth::Basic(s),
            Credential::Post(s) => token::ClientAuth::Post(s),
            Credential::None => token::ClientAuth::None,
        }
    }
}

/// The algorithms the provider says it signs ID tokens with, of those we verify; RS256,
/// which OpenID Connect requires every provider to support, when it says none.
fn allowed_algs(metadata: &ProviderMetadata) -> Vec<Algorithm> {
    let named: Vec<Algorithm> = metadata
        .id_token_signing_alg_values_supported
        .iter()
        .filter_map(|a| a.parse().ok())
        .filter(|a| id_token::ASYMMETRIC_ALGS.contains(a))
        .collect();
    if named.is_empty() {
        vec![Algorithm::RS256]
    } else {
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googles_issuer_is_taken_with_or_without_its_scheme_and_nothing_else() {
        let google = "https://accounts.google.com";
        assert!(google_issuer_ok(google, "https://accounts.google.com"));
        assert!(google_issuer_ok(google, "accounts.google.com"));
        for other in [
            "evil.example.com",
            "http://accounts.google.com",
            "accounts.google.com.evil",
        ] {
            assert!(!google_issuer_ok(google, other), "{other}");
        }
    }
}
