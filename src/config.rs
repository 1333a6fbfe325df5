//! Settings: every one is a command-line flag and an environment variable (docs/API.md §3).
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::keys::KeyAlg;
use crate::auth::password::Argon2Cost;
use crate::domain::{Role, RoleSet};

/// Where signin and refresh put the tokens they issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TokenDelivery {
    /// Tokens in the response body and in HttpOnly cookies.
    Both,
    /// HttpOnly cookies only: no script ever sees a token.
    Cookie,
    /// The response body only: no cookies are set or read for refresh.
    Body,
}

impl TokenDelivery {
    pub fn uses_cookies(self) -> bool {
        matches!(self, TokenDelivery::Both | TokenDelivery::Cookie)
    }
    pub fn uses_body(self) -> bool {
        matches!(self, TokenDelivery::Both | TokenDelivery::Body)
    }
}

#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// Listen address of the API and the web app.
    #[arg(
        long,
        env = "PORTCULLIS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// sqlite://…, mysql://… (MySQL, MariaDB) or postgres://…
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/portcullis.db",
        hide_env_values = true,
        value_parser = SecretUrl::parse,
        global = true
    )]
    pub database_url: SecretUrl,

    /// How first-party access tokens are signed: EdDSA (Ed25519, the default), ES256 or
    /// RS256 with the published key ring, or HS256 with `PORTCULLIS_JWT_SECRET` (the
    /// tutorial's kind of token, which only Portcullis can check). OpenID Connect tokens
    /// use the ring's algorithm, EdDSA when this is HS256.
    #[arg(long, env = "PORTCULLIS_ACCESS_TOKEN_ALG", default_value = "EdDSA", value_parser = parse_token_alg, global = true)]
    pub access_token_alg: TokenAlg,

    /// Seals the signing keys and TOTP secrets kept in the database (AES-256-GCM); at
    /// least 32 bytes. Unset, they are stored unsealed and the database is what guards them.
    #[arg(
        long,
        env = "PORTCULLIS_KEY_ENCRYPTION_KEY",
        hide_env_values = true,
        value_parser = parse_secret,
        global = true
    )]
    pub key_encryption_key: Option<SecretString>,

    /// HS256 key, at least 32 bytes. Unset: a random key is generated once and kept in the database.
    #[arg(
        long,
        env = "PORTCULLIS_JWT_SECRET",
        hide_env_values = true,
        value_parser = parse_secret,
        global = true
    )]
    pub jwt_secret: Option<SecretString>,

    /// `iss` and `aud` of access tokens.
    #[arg(
        long,
        env = "PORTCULLIS_ISSUER",
        default_value = "portcullis",
        global = true
    )]
    pub issuer: String,

    /// Access token lifetime (30s, 15m, 2h, 7d).
    #[arg(long, env = "PORTCULLIS_ACCESS_TTL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub access_ttl: Duration,

    /// Refresh idle lifetime: a session unused that long ends.
    #[arg(long, env = "PORTCULLIS_REFRESH_TTL", default_value = "7d", value_parser = parse_duration, global = true)]
    pub refresh_ttl: Duration,

    /// How long a spent refresh token still yields the session's current successor.
    #[arg(long, env = "PORTCULLIS_REFRESH_REUSE_INTERVAL", default_value = "10s", value_parser = parse_duration, global = true)]
    pub refresh_reuse_interval: Duration,

    /// Where tokens go: both, cookie or body.
    #[arg(
        long,
        env = "PORTCULLIS_TOKEN_DELIVERY",
        value_enum,
        default_value = "both",
        global = true
    )]
    pub token_delivery: TokenDelivery,

    /// Absolute session lifetime, however often refreshed.
    #[arg(long, env = "PORTCULLIS_SESSION_TTL", default_value = "30d", value_parser = parse_duration, global = true)]
    pub session_ttl: Duration,

    /// Exact origins allowed to call with credentials, comma-separated.
    #[arg(
        long,
        env = "PORTCULLIS_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "",
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// `Secure` attribute on cookies.
    #[arg(long, env = "PORTCULLIS_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub cookie_secure: bool,

    /// Authorization requests waiting for consent, and passkey sign-ins begun, that one
    /// client address may start per minute (each kind; per node): what anyone can make the
    /// server store before signing in.
    #[arg(long, env = "PORTCULLIS_ANONYMOUS_STARTS_PER_MINUTE", default_value_t = crate::auth::starts::DEFAULT_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..=100_000), global = true)]
    pub anonymous_starts_per_minute: u32,

    /// `Strict-Transport-Security` on every answer when the public URL is `https://`; turn
    /// it off behind a proxy that adds its own.
    #[arg(long, env = "PORTCULLIS_HSTS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub hsts: bool,

    /// The longest any request may take; past it the answer is 503 with `Retry-After`
    /// (an OAuth `temporarily_unavailable` on the OAuth endpoints), so a database that
    /// stopped answering cannot hold a client (1s to 60s).
    #[arg(long, env = "PORTCULLIS_REQUEST_TIMEOUT", default_value = "4s", value_parser = parse_bounded(1, 60), global = true)]
    pub request_timeout: Duration,

    /// How long this node trusts its cache of sessions and users after it last heard the
    /// change feed (the database's event table, and Redis when set): past it, a session or
    /// a user is read from the database on every request, or the answer is 503 when the
    /// database cannot be read either, and `/health/ready` says so (1s to 30s).
    #[arg(long, env = "PORTCULLIS_FEED_STALE_AFTER", default_value = "3s", value_parser = parse_bounded(1, 30), global = true)]
    pub feed_stale_after: Duration,

    /// Minimum password length in characters (never below 8).
    #[arg(long, env = "PORTCULLIS_PASSWORD_MIN_LENGTH", default_value_t = 8, value_parser = clap::value_parser!(u16).range(8..=128), global = true)]
    pub password_min_length: u16,

    /// A password hash (sign-up, sign-in, password change) is admitted only while the wait
    /// it can expect, from the measured hashing rate, is under this; otherwise 503 with
    /// `Retry-After` at once (1s to 60s).
    #[arg(long, env = "PORTCULLIS_MAX_HASH_WAIT", default_value = "2s", value_parser = parse_bounded(1, 60), global = true)]
    pub max_hash_wait: Duration,

    /// argon2id cost: m=KiB,t=passes,p=lanes.
    #[arg(long, env = "PORTCULLIS_ARGON2", default_value = "m=19456,t=2,p=1", value_parser = Argon2Cost::parse, global = true)]
    pub argon2: Argon2Cost,

    /// Addresses or networks whose X-Forwarded-For is believed, comma-separated.
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", value_delimiter = ',', default_value = "", value_parser = parse_net, global = true)]
    pub trusted_proxies: Vec<Option<IpNet>>,

    /// Failed sign-ins per username per window before 429 (at most 100).
    #[arg(long, env = "PORTCULLIS_THROTTLE_ACCOUNT_FAILURES", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100), global = true)]
    pub throttle_account_failures: u32,

    /// Failed sign-ins per client address per window before 429.
    #[arg(long, env = "PORTCULLIS_THROTTLE_CLIENT_FAILURES", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub throttle_client_failures: u32,

    /// The throttling window.
    #[arg(long, env = "PORTCULLIS_THROTTLE_WINDOW", default_value = "15m", value_parser = parse_duration, global = true)]
    pub throttle_window: Duration,

    /// redis://… (or rediss://…): failed sign-in counters and cache events go through Redis,
    /// with the database as fallback. Unset: the database does both.
    #[arg(
        long,
        env = "PORTCULLIS_REDIS_URL",
        hide_env_values = true,
        value_parser = SecretUrl::parse,
        global = true
    )]
    pub redis_url: Option<SecretUrl>,

    /// Listen address of the Prometheus /metrics listener (off when unset).
    #[arg(long, env = "PORTCULLIS_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// smtp://host:port, smtps://user:pass@host:465 or smtp+starttls://user:pass@host:587.
    /// Unset: mail is off and the routes that send it answer 503.
    #[arg(
        long,
        env = "PORTCULLIS_SMTP_URL",
        hide_env_values = true,
        value_parser = SecretUrl::parse,
        global = true
    )]
    pub smtp_url: Option<SecretUrl>,

    /// The sender of every mail.
    #[arg(
        long,
        env = "PORTCULLIS_MAIL_FROM",
        default_value = "Portcullis <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Where users reach the web app: the base of the links in mails.
    #[arg(
        long,
        env = "PORTCULLIS_PUBLIC_URL",
        default_value = "http://localhost:8080",
        global = true
    )]
    pub public_url: String,

    /// How long a password reset link works.
    #[arg(long, env = "PORTCULLIS_RESET_TTL", default_value = "30m", value_parser = parse_duration, global = true)]
    pub reset_ttl: Duration,

    /// How long an email verification link works.
    #[arg(long, env = "PORTCULLIS_VERIFY_TTL", default_value = "24h", value_parser = parse_duration, global = true)]
    pub verify_ttl: Duration,

    /// Sign-in answers 403 until the account's address is verified.
    #[arg(long, env = "PORTCULLIS_REQUIRE_VERIFIED_EMAIL", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub require_verified_email: bool,

    /// Signing in with a link mailed to the account's address, without a password.
    #[arg(long, env = "PORTCULLIS_MAGIC_LINKS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub magic_links: bool,

    /// Signing up with a passkey and no password (`POST /api/auth/passkeys/signup/start`);
    /// needs passkeys on.
    #[arg(long, env = "PORTCULLIS_PASSKEY_SIGNUP", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub passkey_signup: bool,

    /// The passkeys' relying party id: a domain that the web app's host is, or ends in.
    /// Default: the host of `PORTCULLIS_PUBLIC_URL` (`localhost` if it has none).
    #[arg(long, env = "PORTCULLIS_RP_ID", global = true)]
    pub rp_id: Option<String>,

    /// Origins allowed to use the passkeys, comma-separated. Default: the origin of
    /// `PORTCULLIS_PUBLIC_URL`.
    #[arg(
        long,
        env = "PORTCULLIS_RP_ORIGINS",
        value_delimiter = ',',
        default_value = "",
        global = true
    )]
    pub rp_origins: Vec<String>,

    /// Roles whose accounts must enrol a second factor before a sign-in completes,
    /// comma-separated (`admin`, `moderator`, `user`).
    #[arg(long, env = "PORTCULLIS_REQUIRE_MFA_FOR", value_delimiter = ',', default_value = "", value_parser = parse_role, global = true)]
    pub require_mfa_for: Vec<Option<Role>>,

    /// Mails go to the log instead of SMTP (`portcullis serve --dev-mail`): local trials only.
    #[arg(skip)]
    pub dev_mail: bool,
}

impl Settings {
    /// The settings a test or an embedding program starts from: every default of §3.
    pub fn defaults() -> Self {
        use clap::{FromArgMatches, Parser};
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            settings: Settings,
        }
        // Environment variables are deliberately read here too: `defaults` means "what
        // the binary would use", so tests clear the PORTCULLIS_ variables they care about.
        let matches = <Only as clap::CommandFactory>::command()
            .no_binary_name(true)
            .get_matches_from(Vec::<String>::new());
        match Only::from_arg_matches(&matches) {
            Ok(only) => only.settings,
            Err(e) => e.exit(),
        }
    }

    pub fn trusted_proxies(&self) -> Vec<IpNet> {
        self.trusted_proxies.iter().flatten().copied().collect()
    }

    /// `PORTCULLIS_PUBLIC_URL` without a trailing slash, ready for a path.
    pub fn public_base(&self) -> String {
        self.public_url.trim().trim_end_matches('/').to_string()
    }

    /// The passkeys' relying party: its id and the origins allowed to use it.
    pub fn relying_party(&self) -> (String, Vec<String>) {
        let public = url::Url::parse(self.public_url.trim()).ok();
        let rp_id = self
            .rp_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_ascii_lowercase)
            .or_else(|| {
                public
                    .as_ref()
                    .and_then(|u| u.host_str().map(str::to_string))
            })
            .unwrap_or_else(|| "localhost".to_string());
        let mut origins: Vec<String> = self
            .rp_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.is_empty() {
            if let Some(public) = public {
                origins.push(public.origin().ascii_serialization());
            }
        }
        (rp_id, origins)
    }

    /// The roles of `PORTCULLIS_REQUIRE_MFA_FOR`.
    pub fn require_mfa_for(&self) -> RoleSet {
        self.require_mfa_for.iter().flatten().copied().collect()
    }

    /// Mail is on: an SMTP server is set, or `--dev-mail` writes mails to the log.
    pub fn mail_enabled(&self) -> bool {
        self.dev_mail
            || self
                .smtp_url
                .as_ref()
                .is_some_and(|u| !u.expose().trim().is_empty())
    }

    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect()
    }
}

/// A setting that must never reach a log: `Debug` shows `[REDACTED]`.
/// `PORTCULLIS_ACCESS_TOKEN_ALG`: a key ring algorithm, or the shared secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAlg {
    Ring(KeyAlg),
    Hs256,
}

impl TokenAlg {
    /// The algorithm of the key ring's keys.
    pub fn ring_alg(self) -> KeyAlg {
        match self {
            TokenAlg::Ring(alg) => alg,
            TokenAlg::Hs256 => KeyAlg::EdDSA,
        }
    }
}

fn parse_token_alg(text: &str) -> Result<TokenAlg, String> {
    match text.trim() {
        "HS256" => Ok(TokenAlg::Hs256),
        other => other
            .parse()
            .map(TokenAlg::Ring)
            .map_err(|_| format!("{other:?} is not EdDSA, ES256, RS256 or HS256")),
    }
}

fn parse_secret(text: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(text))
}

/// A connection URL, which may carry a password (`mysql://user:pass@host/db`). `Debug` and
/// `Display` show it with the password replaced, so settings can be logged; the URL itself
/// is had only by asking for it (`expose`).
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(Self::from(text))
    }

    /// The URL with its password, for the connection and nothing else.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        Self(SecretString::from(url))
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> Self {
        Self(SecretString::from(url))
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::db::redact(self.expose()))
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", crate::db::redact(self.expose()))
    }
}

/// A `parse_duration` between `min` and `max` seconds.
fn parse_bounded(min: u64, max: u64) -> impl Fn(&str) -> Result<Duration, String> + Clone {
    move |text| {
        let d = parse_duration(text)?;
        if (min..=max).contains(&d.as_secs()) {
            Ok(d)
        } else {
            Err(format!(
                "`{}` must be between {min}s and {max}s",
                text.trim()
            ))
        }
    }
}

/// Parses `30s`, `15m`, `2h`, `7d` (and `0s`). A bare number is refused: the unit is
/// never guessed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit: write it like 30s, 15m, 2h or 7d"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit must be s, m, h or d")),
    };
    number
        .checked_mul(seconds_per_unit)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// An empty item parses to `None`, as for `parse_net`.
fn parse_role(text: &str) -> Result<Option<Role>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Role::from_name(&text.to_ascii_lowercase())
        .map(Some)
        .ok_or_else(|| format!("`{text}` is not a role: use user, moderator or admin"))
}

/// An empty item (from an empty list) parses to `None` so the default `""` means "none".
fn parse_net(text: &str) -> Result<Option<IpNet>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(Some(net));
    }
    text.parse::<std::net::IpAddr>()
        .map(|ip| Some(IpNet::from(ip)))
        .map_err(|_| format!("`{text}` is neither an IP address nor a network like 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formatted_settings_show_no_secret() {
        let mut settings = Settings::defaults();
        settings.jwt_secret = Some("jwt-secret-XYZZY-0123456789abcdef0123".into());
        settings.database_url =
            "postgres://portcullis:db-pass-XYZZY@db.internal:5432/p?sslpassword=ssl-XYZZY".into();
        settings.redis_url = Some("rediss://default:redis-pass-XYZZY@cache:6380".into());
        for text in [format!("{settings:?}"), format!("{settings:#?}")] {
            assert!(!text.contains("XYZZY"), "a secret in {text}");
            assert!(
                text.contains("postgres://portcullis:***@db.internal:5432/p"),
                "{text}"
            );
            assert!(text.contains("sslpassword=***"), "{text}");
            assert!(text.contains("rediss://default:***@cache:6380"), "{text}");
            assert!(text.contains("SecretBox<str>([REDACTED])"), "{text}");
        }
        assert_eq!(
            settings.database_url.to_string(),
            "postgres://portcullis:***@db.internal:5432/p?sslpassword=***"
        );
        // The real thing is there for whoever asks for it by name.
        assert!(settings.database_url.expose().contains("db-pass-XYZZY"));
    }

    #[test]
    fn durations_in_every_documented_form() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn durations_are_capped_at_a_hundred_years() {
        assert!(parse_duration("36500d").is_ok());
        assert!(parse_duration("36501d").is_err());
    }

    #[test]
    fn durations_without_a_known_unit_are_refused() {
        for bad in [
            "",
            "15",
            "m",
            "15x",
            "1.5h",
            "-3s",
            "15 m",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    proptest! {
        #[test]
        fn every_number_with_a_unit_round_trips(n in 0u64..36_500, unit in prop::sample::select(vec![("s", 1u64), ("m", 60), ("h", 3600), ("d", 86_400)])) {
            let parsed = parse_duration(&format!("{n}{}", unit.0)).unwrap();
            prop_assert_eq!(parsed, Duration::from_secs(n * unit.1));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,12}") {
            let _ = parse_duration(&text);
        }
    }

    #[test]
    fn trusted_proxies_take_addresses_and_networks() {
        assert_eq!(parse_net(""), Ok(None));
        assert!(parse_net("10.0.0.0/8")
            .unwrap()
            .unwrap()
            .contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_net("127.0.0.1")
            .unwrap()
            .unwrap()
            .contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_net("not-an-ip").is_err());
    }
}
