//! Who the provider says signed in, read from what it answered: an ID token's claims
//! (OpenID Connect and the presets that speak it), an OAuth 2 user-info document through
//! the provider's pointers, or GitHub's account. Nothing here trusts an email the provider
//! does not vouch for.
use serde_json::{Map, Value};

use super::ProviderSigninError;
use crate::auth::upstream::{github, microsoft, UpstreamError};
use crate::domain::{ProviderConfig, ProviderKind};

#[derive(Debug)]
pub(super) struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// What to name a new account after.
    pub username_hints: Vec<String>,
    /// Everything the provider said of the person, for a role mapping's claim.
    pub claims: Map<String, Value>,
}

impl Identity {
    /// The values of `claim`: a string, or the strings (and numbers) of a list.
    pub fn claim_values(&self, claim: &str) -> Vec<String> {
        let one = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match self.claims.get(claim) {
            Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
            Some(other) => one(other).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

fn text_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `email_verified` is a boolean by the standard; some providers (Apple) send the string.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn local_part(email: &Option<String>) -> Option<String> {
    email
        .as_ref()
        .and_then(|e| e.split('@').next())
        .map(str::to_string)
}

/// From an ID token's verified claims (with userinfo's merged in). `extra_hints` come
/// first: Apple's name, which it sends beside the token once and never signs.
pub(super) fn from_claims(
    kind: ProviderKind,
    subject: String,
    claims: &Map<String, Value>,
    extra_hints: Vec<String>,
) -> Identity {
    let email = text_claim(claims, "email");
    let said_verified = match kind {
        ProviderKind::Microsoft => microsoft::email_verified(claims),
        _ => truthy(claims.get("email_verified")),
    };
    let username_hints = extra_hints
        .into_iter()
        .chain(
            ["preferred_username", "nickname", "name"]
                .iter()
                .filter_map(|c| text_claim(claims, c)),
        )
        .chain(local_part(&email))
        .collect();
    Identity {
        subject,
        email_verified: email.is_some() && said_verified,
        email,
        username_hints,
        claims: claims.clone(),
    }
}

/// Apple's `user` form field (first sign-in only): `{"name":{"firstName","lastName"}}`.
/// Unsigned, so it names the account and nothing else.
pub(super) fn apple_name(user: Option<&str>) -> Vec<String> {
    let Some(user) = user.and_then(|u| serde_json::from_str::<Value>(u).ok()) else {
        return Vec::new();
    };
    let part = |p: &str| {
        user.pointer(p)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    match (part("/name/firstName"), part("/name/lastName")) {
        (Some(first), Some(last)) => vec![format!("{first} {last}"), first.to_string()],
        (Some(one), None) | (None, Some(one)) => vec![one.to_string()],
        (None, None) => Vec::new(),
    }
}

/// From an OAuth 2 provider's user-info document, through its configured pointers.
pub(super) fn from_userinfo(
    config: &ProviderConfig,
    info: &Map<String, Value>,
) -> Result<Identity, ProviderSigninError> {
    let claims = config.claims.clone().unwrap_or_default();
    let document = Value::Object(info.clone());
    let at = |pointer: &Option<String>| pointer.as_deref().and_then(|p| document.pointer(p));
    let subject = match document.pointer(&claims.id) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(ProviderSigninError::Unavailable(UpstreamError::Garbage(
                "the user-info answer has no id where the provider's claims say".into(),
            )))
        }
    };
    let email = at(&claims.email)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    let username_hints = at(&claims.username)
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .chain(local_part(&email))
        .collect();
    Ok(Identity {
        subject,
        email_verified: email.is_some() && truthy(at(&claims.email_verified)),
        email,
        username_hints,
        claims: info.clone(),
    })
}

/// From GitHub's account: its numeric id, its primary email only if verified; its
/// organisations as the claim `orgs`.
pub(super) fn from_github(account: github::Account) -> Identity {
    let email_verified = account.verified_email.is_some();
    let mut claims = Map::new();
    claims.insert("orgs".into(), Value::from(account.orgs));
    Identity {
        claims,
        subject: account.id,
        email: account.verified_email,
        email_verified,
        username_hints: std::iter::once(account.login).chain(account.name).collect(),
    }
}

/// What is stored of an identity fits its columns: a subject of at most 255 bytes (OpenID
/// Connect's own bound), an email of at most 254 (a longer one is no address).
pub(super) fn within_bounds(mut identity: Identity) -> Result<Identity, ProviderSigninError> {
    if identity.subject.is_empty() || identity.subject.len() > 255 {
        return Err(ProviderSigninError::Unavailable(UpstreamError::Garbage(
            "the provider's subject is empty or longer than 255 bytes".into(),
        )));
    }
    if identity.email.as_ref().is_some_and(|e| e.len() > 254) {
        identity.email = None;
        identity.email_verified = false;
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn subjects_and_emails_beyond_their_columns_are_not_stored() {
        let identity = |subject: &str, email: &str| Identity {
            subject: subject.into(),
            email: Some(email.into()),
            email_verified: true,
            username_hints: vec![],
            claims: Map::new(),
        };
        assert!(within_bounds(identity(&"s".repeat(256), "a@example.com")).is_err());
        assert!(within_bounds(identity("", "a@example.com")).is_err());
        let long_email = format!("{}@example.com", "a".repeat(250));
        let kept = within_bounds(identity(&"s".repeat(255), &long_email)).unwrap();
        assert_eq!(kept.email, None);
        assert!(!kept.email_verified);
    }

    #[test]
    fn only_a_provider_that_says_so_verifies_an_email() {
        let oidc = |v: Value| from_claims(ProviderKind::Oidc, "s".into(), &claims(v), vec![]);
        assert!(oidc(json!({"email": "a@example.com", "email_verified": true})).email_verified);
        assert!(!oidc(json!({"email": "a@example.com"})).email_verified);
        assert!(oidc(json!({"email": "a@example.com", "email_verified": "true"})).email_verified);
        // Microsoft's email_verified is not its word: only a verified domain is.
        let ms = |v: Value| from_claims(ProviderKind::Microsoft, "s".into(), &claims(v), vec![]);
        assert!(!ms(json!({"email": "a@example.com", "email_verified": true})).email_verified);
        assert!(ms(json!({"email": "a@example.com", "xms_edov": true})).email_verified);
    }

    #[test]
    fn apples_name_names_the_account_first() {
        let hints = apple_name(Some(
            r#"{"name":{"firstName":"Ada","lastName":"Lovelace"}}"#,
        ));
        assert_eq!(hints, ["Ada Lovelace", "Ada"]);
        assert!(apple_name(Some("not json")).is_empty());
        assert!(apple_name(None).is_empty());
        let identity = from_claims(
            ProviderKind::Apple,
            "001.abc".into(),
            &claims(json!({"email": "x@privaterelay.appleid.com"})),
            hints,
        );
        assert_eq!(identity.username_hints[0], "Ada Lovelace");
    }

    #[test]
    fn a_claims_values_are_its_string_or_its_lists_strings() {
        let identity = from_claims(
            ProviderKind::Oidc,
            "s".into(),
            &claims(json!({"groups": ["ops", 7, {"x": 1}], "role": "admin", "n": null})),
            vec![],
        );
        assert_eq!(identity.claim_values("groups"), ["ops", "7"]);
        assert_eq!(identity.claim_values("role"), ["admin"]);
        assert!(identity.claim_values("n").is_empty());
        assert!(identity.claim_values("absent").is_empty());
    }
}
