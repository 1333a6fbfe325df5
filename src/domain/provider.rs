//! An upstream identity provider people may sign in with (docs/API.md §2, "Identity
//! providers"): what an admin configures, checked once here so that every later step can
//! rely on it. The kind decides which fields a provider needs; a preset's endpoints are its
//! provider's documented ones, filled in where the flow runs, not stored.
use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// What kind of provider: the two generic ones, or a preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenID Connect provider, from its issuer (discovery).
    Oidc,
    /// Any OAuth 2 provider: its three URLs and where the account's fields are in its
    /// user-info answer.
    Oauth2,
    Github,
    Google,
    /// Entra ID: one tenant, or `common`, `organizations`, `consumers`.
    Microsoft,
    /// gitlab.com, or a self-managed GitLab at `issuer`.
    Gitlab,
    Apple,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 7] = [
        ProviderKind::Oidc,
        ProviderKind::Oauth2,
        ProviderKind::Github,
        ProviderKind::Google,
        ProviderKind::Microsoft,
        ProviderKind::Gitlab,
        ProviderKind::Apple,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Oidc => "oidc",
            ProviderKind::Oauth2 => "oauth2",
            ProviderKind::Github => "github",
            ProviderKind::Google => "google",
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Gitlab => "gitlab",
            ProviderKind::Apple => "apple",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The scopes asked for when the admin names none.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            ProviderKind::Oidc | ProviderKind::Google | ProviderKind::Gitlab => {
                &["openid", "email", "profile"]
            }
            ProviderKind::Microsoft => &["openid", "email", "profile"],
            ProviderKind::Apple => &["openid", "email", "name"],
            ProviderKind::Github => &["read:user", "user:email"],
            ProviderKind::Oauth2 => &[],
        }
    }

    /// Speaks OpenID Connect: an ID token proves the sign-in, so `openid` is asked for.
    pub fn is_oidc(self) -> bool {
        !matches!(self, ProviderKind::Oauth2 | ProviderKind::Github)
    }
}

/// Who may get a new account from a first sign-in with this provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignupPolicy {
    /// Anyone the provider signs in.
    Open,
    /// Only people whose verified email is in one of `allowed_domains`.
    Domains,
    /// Nobody: only accounts that already exist (and link the identity) sign in.
    #[default]
    Existing,
}

/// Where the account's fields are in an OAuth 2 provider's user-info answer: JSON
/// pointers (RFC 6901), such as `/id` or `/data/attributes/email`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimPointers {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<String>,
}

/// Roles and groups an upstream claim gives, at each sign-in with the provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleMapping {
    /// The claim read (a string or a list of them): `groups`, `roles`, …; GitHub's is
    /// `orgs`, the person's organisations.
    pub claim: String,
    pub rules: Vec<MappingRule>,
}

/// When the claim holds `value`, the account has these roles and groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MappingRule {
    pub value: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

const MAX_RULES: usize = 50;
const MAX_NAMES_PER_RULE: usize = 20;

impl RoleMapping {
    fn check(&self, kind: ProviderKind) -> Result<(), String> {
        let claim_ok = (1..=64).contains(&self.claim.len())
            && self
                .claim
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'));
        if !claim_ok {
            return Err("roleMapping.claim is a claim's name, such as groups.".into());
        }
        if kind == ProviderKind::Github && self.claim != "orgs" {
            return Err("A github provider's roleMapping.claim is orgs.".into());
        }
        if self.rules.is_empty() || self.rules.len() > MAX_RULES {
            return Err(format!("roleMapping.rules: 1 to {MAX_RULES} rules."));
        }
        for rule in &self.rules {
            let value_ok =
                (1..=255).contains(&rule.value.len()) && !rule.value.chars().any(char::is_control);
            let names = rule.roles.iter().chain(&rule.groups);
            let names_ok = rule.roles.len() + rule.groups.len() > 0
                && rule.roles.len() <= MAX_NAMES_PER_RULE
                && rule.groups.len() <= MAX_NAMES_PER_RULE
                && names.clone().all(|n| (1..=64).contains(&n.len()));
            if !value_ok || !names_ok {
                return Err(format!(
                    "roleMapping.rules: each has a value (1 to 255 characters) and 1 to {MAX_NAMES_PER_RULE} roles or groups."
                ));
            }
        }
        Ok(())
    }

    /// Every role any rule names: the ones this mapping manages.
    pub fn managed_roles(&self) -> impl Iterator<Item = &str> {
        self.rules
            .iter()
            .flat_map(|r| r.roles.iter().map(String::as_str))
    }

    pub fn managed_groups(&self) -> impl Iterator<Item = &str> {
        self.rules
            .iter()
            .flat_map(|r| r.groups.iter().map(String::as_str))
    }

    /// The roles and groups the claim's `values` give.
    pub fn granted<'a>(&'a self, values: &'a [String]) -> impl Iterator<Item = &'a MappingRule> {
        self.rules.iter().filter(|r| values.contains(&r.value))
    }
}

/// A provider's settings, as stored (`identity_providers.config`) and answered. The client
/// secret is not here: it is sealed apart and never answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderConfig {
    pub display_name: String,
    /// A `data:image/svg+xml` or `data:image/png` URL: served with the login page, so no
    /// asset is fetched from elsewhere. None: the preset's own, or a plain button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// OpenID Connect: the issuer (discovery). GitLab: a self-managed instance's URL.
    /// Google, Apple: their own issuer unless set (a proxy, or a stand-in in tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// GitHub: a GitHub Enterprise Server's URL (its API is under `/api/v3`). Microsoft: the
    /// authority host of a national cloud, such as `https://login.microsoftonline.us`.
    /// Unset: github.com, `https://login.microsoftonline.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Microsoft: a tenant id or domain, or `common`, `organizations`, `consumers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimPointers>,
    pub client_id: String,
    /// Apple: the team and the key that sign the client secret (the key is the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub signup: SignupPolicy,
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// The provider's sign-in counts as both factors: no second step follows it, and its
    /// `amr` is carried into Portcullis' tokens.
    #[serde(default)]
    pub trusted_for_mfa: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_mapping: Option<RoleMapping>,
}

pub const MAX_ICON_CHARS: usize = 16 * 1024;
const MAX_SCOPES: usize = 20;
const MAX_DOMAINS: usize = 100;

/// A provider's id: its name in URLs (`/api/auth/providers/{id}/start`), 1 to 32 of
/// `a-z 0-9 -`, starting with a letter.
pub fn check_provider_id(id: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err("A provider's id is 1 to 32 of a-z, 0-9 and -, starting with a letter.".into())
    }
}

/// A host where nothing on the wire can be read or changed: 127.0.0.0/8, ::1, `localhost`.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An endpoint or issuer: https, or http on a loopback host only (a provider run on the
/// same machine, as in the tests), never with credentials or a fragment.
pub fn check_provider_url(value: &str, field: &str) -> Result<Url, String> {
    let bad = || format!("{field} must be an https URL (http only on a loopback host).");
    let url = Url::parse(value).map_err(|_| bad())?;
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(&url));
    if !secure
        || value.len() > 512
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Err(bad());
    }
    Ok(url)
}

impl ProviderConfig {
    /// Every rule a stored provider obeys; defaults the scopes when none are named.
    pub fn check(&mut self, kind: ProviderKind) -> Result<(), String> {
        let name_len = self.display_name.trim().chars().count();
        if name_len == 0 || name_len > 64 || self.display_name.chars().any(char::is_control) {
            return Err("displayName is 1 to 64 characters.".into());
        }
        if let Some(icon) = &self.icon {
            let image = icon.starts_with("data:image/svg+xml")
                || icon.starts_with("data:image/png;base64,");
            if !image || icon.len() > MAX_ICON_CHARS {
                return Err(format!(
                    "icon is a data:image/svg+xml or data:image/png;base64 URL of at most {MAX_ICON_CHARS} characters."
                ));
            }
        }
        if self.client_id.is_empty()
            || self.client_id.len() > 255
            || self.client_id.chars().any(char::is_control)
        {
            return Err("clientId is 1 to 255 characters.".into());
        }
        self.check_endpoints(kind)?;
        if self.scopes.is_empty() {
            self.scopes = kind
                .default_scopes()
                .iter()
                .map(|s| s.to_string())
                .collect();
        }
        let scope_ok = |s: &String| {
            !s.is_empty()
                && s.len() <= 100
                && s.chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        };
        if self.scopes.len() > MAX_SCOPES || !self.scopes.iter().all(scope_ok) {
            return Err(format!(
                "scopes: at most {MAX_SCOPES}, each 1 to 100 printable characters without spaces."
            ));
        }
        if kind.is_oidc() && !self.scopes.iter().any(|s| s == "openid") {
            return Err("An OpenID Connect provider's scopes include openid.".into());
        }
        self.allowed_domains = self
            .allowed_domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .collect();
        let domain_ok = |d: &String| {
            (1..=253).contains(&d.len())
                && d.contains('.')
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        };
        if self.allowed_domains.len() > MAX_DOMAINS || !self.allowed_domains.iter().all(domain_ok) {
            return Err(format!(
                "allowedDomains: at most {MAX_DOMAINS} domain names, such as example.com."
            ));
        }
        if self.signup == SignupPolicy::Domains && self.allowed_domains.is_empty() {
            return Err("signup \"domains\" needs allowedDomains.".into());
        }
        if let Some(mapping) = &self.role_mapping {
            mapping.check(kind)?;
            // GitHub lists a person's organisations only with this scope.
            if kind == ProviderKind::Github && !self.scopes.iter().any(|s| s == "read:org") {
                self.scopes.push("read:org".into());
            }
        }
        Ok(())
    }

    fn check_endpoints(&mut self, kind: ProviderKind) -> Result<(), String> {
        let stray = |field: &str, value: &Option<String>| match value {
            Some(_) => Err(format!(
                "{field} is not a setting of a {} provider.",
                kind.name()
            )),
            None => Ok(()),
        };
        let own_urls = kind == ProviderKind::Oauth2;
        if !own_urls {
            stray("authorizationEndpoint", &self.authorization_endpoint)?;
            stray("tokenEndpoint", &self.token_endpoint)?;
            stray("userinfoEndpoint", &self.userinfo_endpoint)?;
            stray("claims", &self.claims.as_ref().map(|_| String::new()))?;
        }
        if !matches!(
            kind,
            ProviderKind::Oidc | ProviderKind::Gitlab | ProviderKind::Google | ProviderKind::Apple
        ) {
            stray("issuer", &self.issuer)?;
        }
        if !matches!(kind, ProviderKind::Github | ProviderKind::Microsoft) {
            stray("baseUrl", &self.base_url)?;
        } else if let Some(base) = &self.base_url {
            let url = check_provider_url(base, "baseUrl")?;
            if url.query().is_some() {
                return Err("baseUrl has no query.".into());
            }
            self.base_url = Some(base.trim_end_matches('/').to_string());
        }
        if kind != ProviderKind::Microsoft {
            stray("tenant", &self.tenant)?;
        }
        if kind != ProviderKind::Apple {
            stray("teamId", &self.team_id)?;
            stray("keyId", &self.key_id)?;
        }
        match kind {
            ProviderKind::Oidc => {
                let issuer = self.issuer.as_deref().ok_or("issuer is required.")?;
                check_provider_url(issuer, "issuer")?;
            }
            ProviderKind::Gitlab | ProviderKind::Google => {
                if let Some(issuer) = &self.issuer {
                    check_provider_url(issuer, "issuer")?;
                }
            }
            ProviderKind::Oauth2 => {
                for (field, value) in [
                    ("authorizationEndpoint", &self.authorization_endpoint),
                    ("tokenEndpoint", &self.token_endpoint),
                    ("userinfoEndpoint", &self.userinfo_endpoint),
                ] {
                    let value = value.as_deref().ok_or(format!("{field} is required."))?;
                    check_provider_url(value, field)?;
                }
                let claims = self.claims.as_ref().ok_or("claims.id is required.")?;
                let pointers = [
                    Some(&claims.id),
                    claims.username.as_ref(),
                    claims.email.as_ref(),
                    claims.email_verified.as_ref(),
                ];
                let pointer_ok = |p: &&String| p.starts_with('/') && p.len() <= 200;
                if !pointers.iter().flatten().all(pointer_ok) {
                    return Err("claims are JSON pointers, such as /id or /email.".into());
                }
            }
            ProviderKind::Microsoft => {
                let tenant = self.tenant.get_or_insert_with(|| "common".into());
                let ok = !tenant.is_empty()
                    && tenant.len() <= 100
                    && tenant
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                if !ok {
                    return Err(
                        "tenant is a tenant id or domain, or common, organizations, consumers."
                            .into(),
                    );
                }
            }
            ProviderKind::Apple => {
                if let Some(issuer) = &self.issuer {
                    check_provider_url(issuer, "issuer")?;
                }
                let ten = |v: &Option<String>| {
                    v.as_deref().is_some_and(|v| {
                        v.len() == 10 && v.chars().all(|c| c.is_ascii_alphanumeric())
                    })
                };
                if !ten(&self.team_id) || !ten(&self.key_id) {
                    return Err(
                        "An Apple provider needs teamId and keyId (10 characters each).".into(),
                    );
                }
            }
            ProviderKind::Github => {}
        }
        Ok(())
    }

    /// May a first sign-in with a verified `email` (or none) make a new account?
    pub fn admits_new_account(&self, verified_email: Option<&str>) -> bool {
        match self.signup {
            SignupPolicy::Open => true,
            SignupPolicy::Existing => false,
            SignupPolicy::Domains => {
                verified_email
                    .and_then(|e| e.rsplit_once('@'))
                    .is_some_and(|(_, domain)| {
                        let domain = domain.to_ascii_lowercase();
                        self.allowed_domains.contains(&domain)
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc() -> ProviderConfig {
        ProviderConfig {
            display_name: "Corp".into(),
            icon: None,
            issuer: Some("https://id.example.com".into()),
            base_url: None,
            tenant: None,
            authorization_endpoint: None,
            token_endpoint: None,
            userinfo_endpoint: None,
            claims: None,
            client_id: "portcullis".into(),
            team_id: None,
            key_id: None,
            scopes: vec![],
            signup: SignupPolicy::Existing,
            allowed_domains: vec![],
            trusted_for_mfa: false,
            role_mapping: None,
        }
    }

    #[test]
    fn ids_are_url_safe_names() {
        for good in ["corp", "github", "a", "acme-2"] {
            assert!(check_provider_id(good).is_ok(), "{good}");
        }
        for bad in ["", "Corp", "2corp", "corp_x", "a/b", &"a".repeat(33)] {
            assert!(check_provider_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(check_provider_url("https://id.example.com/realms/x", "issuer").is_ok());
        assert!(check_provider_url("http://127.0.0.1:8080", "issuer").is_ok());
        assert!(check_provider_url("http://localhost:8080", "issuer").is_ok());
        for bad in [
            "http://id.example.com",
            "ftp://id.example.com",
            "https://user:pw@id.example.com",
            "https://id.example.com/#x",
            "not a url",
        ] {
            assert!(check_provider_url(bad, "issuer").is_err(), "{bad}");
        }
    }

    #[test]
    fn an_oidc_provider_needs_an_issuer_and_openid_and_gets_default_scopes() {
        let mut config = oidc();
        config.check(ProviderKind::Oidc).unwrap();
        assert_eq!(config.scopes, ["openid", "email", "profile"]);
        let mut no_issuer = ProviderConfig {
            issuer: None,
            ..oidc()
        };
        assert!(no_issuer.check(ProviderKind::Oidc).is_err());
        let mut no_openid = ProviderConfig {
            scopes: vec!["email".into()],
            ..oidc()
        };
        assert!(no_openid.check(ProviderKind::Oidc).is_err());
    }

    #[test]
    fn a_field_of_another_kind_is_refused() {
        let mut github = oidc();
        assert!(
            github.check(ProviderKind::Github).is_err(),
            "issuer on github"
        );
        let mut with_tenant = ProviderConfig {
            tenant: Some("common".into()),
            ..oidc()
        };
        assert!(with_tenant.check(ProviderKind::Oidc).is_err());
    }

    #[test]
    fn an_oauth2_provider_needs_its_urls_and_an_id_pointer() {
        let mut config = ProviderConfig {
            issuer: None,
            authorization_endpoint: Some("https://p.example.com/authorize".into()),
            token_endpoint: Some("https://p.example.com/token".into()),
            userinfo_endpoint: Some("https://p.example.com/me".into()),
            claims: Some(ClaimPointers {
                id: "/id".into(),
                ..Default::default()
            }),
            ..oidc()
        };
        config.clone().check(ProviderKind::Oauth2).unwrap();
        config.claims = Some(ClaimPointers {
            id: "id".into(),
            ..Default::default()
        });
        assert!(config.check(ProviderKind::Oauth2).is_err(), "not a pointer");
    }

    #[test]
    fn microsoft_defaults_to_common_and_apple_needs_team_and_key() {
        let mut ms = ProviderConfig {
            issuer: None,
            ..oidc()
        };
        ms.check(ProviderKind::Microsoft).unwrap();
        assert_eq!(ms.tenant.as_deref(), Some("common"));
        let mut apple = ProviderConfig {
            issuer: None,
            ..oidc()
        };
        assert!(apple.clone().check(ProviderKind::Apple).is_err());
        apple.team_id = Some("ABCDE12345".into());
        apple.key_id = Some("KEY1234567".into());
        apple.check(ProviderKind::Apple).unwrap();
    }

    #[test]
    fn the_signup_policy_decides_new_accounts() {
        let mut config = oidc();
        assert!(!config.admits_new_account(Some("a@example.com")));
        config.signup = SignupPolicy::Open;
        assert!(config.admits_new_account(None));
        config.signup = SignupPolicy::Domains;
        config.allowed_domains = vec!["Example.com ".into()];
        config.check(ProviderKind::Oidc).unwrap();
        assert!(config.admits_new_account(Some("a@EXAMPLE.com")));
        assert!(!config.admits_new_account(Some("a@example.org")));
        assert!(!config.admits_new_account(None));
        config.allowed_domains.clear();
        assert!(config.check(ProviderKind::Oidc).is_err());
    }

    #[test]
    fn icons_are_inline_images_of_bounded_size() {
        let mut config = ProviderConfig {
            icon: Some("https://cdn.example.com/logo.png".into()),
            ..oidc()
        };
        assert!(config.check(ProviderKind::Oidc).is_err());
        config.icon = Some(format!(
            "data:image/png;base64,{}",
            "A".repeat(MAX_ICON_CHARS)
        ));
        assert!(config.check(ProviderKind::Oidc).is_err());
        config.icon = Some("data:image/svg+xml,<svg/>".into());
        config.check(ProviderKind::Oidc).unwrap();
    }

    #[test]
    fn a_role_mapping_names_a_claim_and_rules_and_github_maps_orgs_with_read_org() {
        let mapping = |claim: &str, rules: Vec<MappingRule>| RoleMapping {
            claim: claim.into(),
            rules,
        };
        let rule = MappingRule {
            value: "admins".into(),
            roles: vec!["moderator".into()],
            groups: vec![],
        };
        let mut config = ProviderConfig {
            role_mapping: Some(mapping("groups", vec![rule.clone()])),
            ..oidc()
        };
        config.check(ProviderKind::Oidc).unwrap();
        config.role_mapping = Some(mapping("groups", vec![]));
        assert!(config.check(ProviderKind::Oidc).is_err(), "no rules");
        config.role_mapping = Some(mapping("a b", vec![rule.clone()]));
        assert!(
            config.check(ProviderKind::Oidc).is_err(),
            "not a claim name"
        );
        let empty = MappingRule {
            roles: vec![],
            ..rule.clone()
        };
        config.role_mapping = Some(mapping("groups", vec![empty]));
        assert!(config.check(ProviderKind::Oidc).is_err(), "gives nothing");
        let mut github = ProviderConfig {
            issuer: None,
            role_mapping: Some(mapping("groups", vec![rule.clone()])),
            ..oidc()
        };
        assert!(github.clone().check(ProviderKind::Github).is_err());
        github.role_mapping = Some(mapping("orgs", vec![rule]));
        github.check(ProviderKind::Github).unwrap();
        assert!(github.scopes.contains(&"read:org".to_string()));
    }
}
