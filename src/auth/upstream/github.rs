//! GitHub, which speaks OAuth 2 but not OpenID Connect: no discovery, no ID token. Who
//! signed in is `GET /user` (its numeric `id` is the subject: the `login` can be renamed and
//! then taken by someone else), and the email is a separate call, `GET /user/emails`, since
//! `/user`'s `email` is only the public one and says nothing of verification. Only the
//! primary address, and only when GitHub marks it verified, is taken as verified.
use serde::Deserialize;
use url::Url;

use super::{get_bearer_json, UpstreamError};

/// Where GitHub's flow goes: github.com's, or a GitHub Enterprise Server's at `base_url`.
pub struct Endpoints {
    pub authorization: Url,
    pub token: Url,
    /// The REST API's root: `https://api.github.com`, or `{base_url}/api/v3`.
    pub api: String,
}

pub fn endpoints(base_url: Option<&str>) -> Result<Endpoints, UpstreamError> {
    let (web, api) = match base_url {
        None => (
            "https://github.com".to_string(),
            "https://api.github.com".to_string(),
        ),
        Some(base) => {
            let base = base.trim_end_matches('/');
            (base.to_string(), format!("{base}/api/v3"))
        }
    };
    let url = |path: &str| {
        Url::parse(&format!("{web}{path}"))
            .map_err(|_| UpstreamError::Garbage("GitHub's base URL is not a URL".into()))
    };
    Ok(Endpoints {
        authorization: url("/login/oauth/authorize")?,
        token: url("/login/oauth/access_token")?,
        api,
    })
}

/// The account a GitHub token belongs to.
#[derive(Debug)]
pub struct Account {
    pub id: String,
    pub login: String,
    pub name: Option<String>,
    /// The primary address, when GitHub has verified it.
    pub verified_email: Option<String>,
    /// Organisations the person belongs to, when asked for (`read:org`).
    pub orgs: Vec<String>,
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Address {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

#[derive(Deserialize)]
struct Org {
    login: String,
}

fn api_url(api: &str, path: &str) -> Result<Url, UpstreamError> {
    Url::parse(&format!("{api}{path}"))
        .map_err(|_| UpstreamError::Garbage("GitHub's API URL is not a URL".into()))
}

/// Reads the account behind `access_token`; with `orgs`, its organisations too.
pub async fn account(
    http: &reqwest::Client,
    api: &str,
    access_token: &str,
    orgs: bool,
) -> Result<Account, UpstreamError> {
    let user: User = get_bearer_json(http, &api_url(api, "/user")?, access_token, "user").await?;
    let addresses: Vec<Address> =
        get_bearer_json(http, &api_url(api, "/user/emails")?, access_token, "emails").await?;
    let verified_email = addresses
        .into_iter()
        .find(|a| a.primary && a.verified)
        .map(|a| a.email);
    let orgs = if orgs {
        let list: Vec<Org> =
            get_bearer_json(http, &api_url(api, "/user/orgs")?, access_token, "orgs").await?;
        list.into_iter().map(|o| o.login).collect()
    } else {
        Vec::new()
    };
    Ok(Account {
        id: user.id.to_string(),
        login: user.login,
        name: user.name,
        verified_email,
        orgs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_com_or_an_enterprise_server() {
        let public = endpoints(None).unwrap();
        assert_eq!(
            public.authorization.as_str(),
            "https://github.com/login/oauth/authorize"
        );
        assert_eq!(public.api, "https://api.github.com");
        let ghes = endpoints(Some("https://git.example.com/")).unwrap();
        assert_eq!(
            ghes.token.as_str(),
            "https://git.example.com/login/oauth/access_token"
        );
        assert_eq!(ghes.api, "https://git.example.com/api/v3");
    }
}
