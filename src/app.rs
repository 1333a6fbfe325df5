//! Wiring: every component built once from the settings and the database, and handed
//! to the handlers as `AppState`; each use case gets just the components it needs from
//! it (`notifier`, `sessions`). `http::router` composes the routes over it and `server`
//! runs them.
use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context;
use ipnet::IpNet;
use secrecy::ExposeSecret;

use crate::auth::access_token::AccessTokens;
use crate::auth::key_store;
use crate::auth::keys::Sealer;
use crate::auth::notify::Notifier;
use crate::auth::passkeys::RelyingParty;
use crate::auth::password::PasswordHasher;
use crate::auth::session_cache::SessionCache;
use crate::auth::sessions::{Lifetimes, Sessions};
use crate::auth::signing_key;
use crate::auth::starts::Starts;
use crate::auth::throttle::Throttle;
use crate::auth::upstream::cache::ProviderCache;
use crate::clock::Clock;
use crate::config::{Settings, TokenAlg};
use crate::db::{self, Db};
use crate::domain::PasswordPolicy;
use crate::mail::compose::Links;
use crate::mail::{Outbox, Transport};
use crate::redis_link::RedisLink;
use crate::service::factors::Factors;
use crate::service::oidc::Provider;
use crate::service::signin::Rules;
use crate::store;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub settings: Settings,
    pub db: Db,
    pub clock: Clock,
    pub tokens: AccessTokens,
    /// Opens the signing keys read from the database (`auth::key_store`).
    pub sealer: Sealer,
    /// Seals and opens TOTP secrets (`service::enrolment`, `service::mfa`).
    pub totp_sealer: Sealer,
    /// Seals and opens upstream identity providers' client secrets (`service::providers`).
    pub provider_sealer: Sealer,
    /// Calls upstream identity providers (`auth::upstream`): bounded, no redirects.
    pub upstream_http: reqwest::Client,
    /// Upstream providers' metadata and keys, kept on this node a while.
    pub upstream_cache: ProviderCache,
    /// Derives refresh-token successors (see `auth::refresh_token`).
    pub refresh_key: Vec<u8>,
    pub hasher: Arc<PasswordHasher>,
    pub cache: SessionCache,
    pub throttle: Throttle,
    /// What one client address may start before signing in (`auth::starts`).
    pub starts: Starts,
    /// Requests that send mail (a reset link, a sign-in link), per address and client.
    pub mail_throttle: Throttle,
    /// Set when mail is on (`PORTCULLIS_SMTP_URL`, or `serve --dev-mail`).
    pub mail: Option<Mail>,
    /// Set when `PORTCULLIS_REDIS_URL` is: see `redis_link`.
    pub redis: Option<Arc<RedisLink>>,
    pub policy: PasswordPolicy,
    /// Passkeys' relying party; `None` when the settings give none that browsers accept
    /// (a public URL on an IP address, and no `PORTCULLIS_RP_ID`).
    pub relying_party: Option<RelyingParty>,
    /// The relying party id, also the name TOTP apps show beside the codes.
    pub rp_id: String,
    pub trusted_proxies: Vec<IpNet>,
    pub cors_origins: Vec<String>,
}

/// Mail's components: what the sender needs, and the bell that wakes it.
pub struct Mail {
    pub transport: Transport,
    pub from: lettre::message::Mailbox,
    pub links: Links,
    pub wake: Arc<tokio::sync::Notify>,
}

/// How long a sign-in link works.
const MAGIC_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// Where mailed links point and how long they work, from the settings.
pub fn links(settings: &Settings) -> Links {
    Links {
        public_url: settings.public_base(),
        reset_ttl: settings.reset_ttl,
        verify_ttl: settings.verify_ttl,
        magic_link_ttl: MAGIC_LINK_TTL,
        service: settings.issuer.clone(),
    }
}

/// The passkeys' relying party. One set explicitly must work; one derived from the public
/// URL may not (browsers refuse an IP address as RP ID), and then passkeys are off.
fn relying_party(settings: &Settings) -> anyhow::Result<(String, Option<RelyingParty>)> {
    let (rp_id, origins) = settings.relying_party();
    let explicit = settings
        .rp_id
        .as_deref()
        .is_some_and(|id| !id.trim().is_empty())
        || settings.rp_origins.iter().any(|o| !o.trim().is_empty());
    match RelyingParty::new(&rp_id, &origins, &rp_id) {
        Ok(rp) => Ok((rp_id, Some(rp))),
        Err(e) if explicit => Err(e.context("PORTCULLIS_RP_ID / PORTCULLIS_RP_ORIGINS")),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off: set PORTCULLIS_RP_ID and PORTCULLIS_RP_ORIGINS");
            Ok((rp_id, None))
        }
    }
}

/// The sealer of signing keys, from `PORTCULLIS_KEY_ENCRYPTION_KEY`.
pub fn sealer(settings: &Settings) -> anyhow::Result<Sealer> {
    Ok(Sealer::new(key_encryption_key(settings)?.as_deref()))
}

/// The sealer of identity providers' client secrets, from `PORTCULLIS_KEY_ENCRYPTION_KEY`.
pub fn provider_sealer(settings: &Settings) -> anyhow::Result<Sealer> {
    Ok(Sealer::for_providers(
        key_encryption_key(settings)?.as_deref(),
    ))
}

fn key_encryption_key(settings: &Settings) -> anyhow::Result<Option<String>> {
    let secret = settings
        .key_encryption_key
        .as_ref()
        .map(|s| s.expose_secret().to_string())
        .filter(|s| !s.is_empty());
    if let Some(secret) = &secret {
        signing_key::check_named("PORTCULLIS_KEY_ENCRYPTION_KEY", secret)?;
    }
    Ok(secret)
}

fn mail(settings: &Settings) -> anyhow::Result<Option<Mail>> {
    let public = url::Url::parse(settings.public_url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if public.is_none() {
        anyhow::bail!(
            "PORTCULLIS_PUBLIC_URL must be an http:// or https:// URL, not {:?}",
            settings.public_url
        );
    }
    if !settings.mail_enabled() {
        if settings.magic_links {
            anyhow::bail!(
                "PORTCULLIS_MAGIC_LINKS=true needs mail to send the links with: \
                 set PORTCULLIS_SMTP_URL (or serve --dev-mail)"
            );
        }
        if settings.require_verified_email {
            anyhow::bail!(
                "PORTCULLIS_REQUIRE_VERIFIED_EMAIL=true needs mail to verify addresses with: \
                 set PORTCULLIS_SMTP_URL (or serve --dev-mail)"
            );
        }
        return Ok(None);
    }
    let transport = match &settings.smtp_url {
        _ if settings.dev_mail => Transport::Log,
        Some(url) => Transport::from_url(url.expose())?,
        None => return Ok(None),
    };
    Ok(Some(Mail {
        transport,
        from: crate::mail::transport::parse_from(&settings.mail_from)?,
        links: links(settings),
        wake: Arc::new(tokio::sync::Notify::new()),
    }))
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// Tells this node's cache and the other nodes of ended sessions and changed users.
    pub fn notifier(&self) -> Notifier<'_> {
        Notifier {
            db: &self.db,
            clock: &self.clock,
            redis: self.redis.as_deref(),
            cache: Some(&self.cache),
        }
    }

    /// The mail queue, when mail is on.
    /// The mail queue for mails asked for in `locale` (`http::locale::RequestLocale`).
    pub fn outbox_in(&self, locale: Option<crate::domain::Locale>) -> Option<Outbox<'_>> {
        self.outbox().map(|o| o.speaking(locale))
    }

    pub fn outbox(&self) -> Option<Outbox<'_>> {
        self.mail.as_ref().map(|mail| Outbox {
            db: &self.db,
            clock: &self.clock,
            wake: &mail.wake,
            locale: None,
        })
    }

    /// The session lifecycle's components (`auth::sessions`).
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions {
            db: &self.db,
            clock: &self.clock,
            tokens: &self.tokens,
            refresh_key: &self.refresh_key,
            lifetimes: Lifetimes {
                session: self.settings.session_ttl,
                refresh_idle: self.settings.refresh_ttl,
                reuse_interval: self.settings.refresh_reuse_interval,
            },
            notify: self.notifier(),
        }
    }

    /// The OpenID Connect provider's components (`service::oidc`).
    pub fn provider(&self) -> Provider<'_> {
        Provider {
            sessions: self.sessions(),
            cache: &self.cache,
            issuer: self.tokens.oidc_issuer(),
            starts: &self.starts,
        }
    }

    /// As `factors`, with notices to the owner in `locale` unless they chose one.
    pub fn factors_in(&self, locale: Option<crate::domain::Locale>) -> Factors<'_> {
        Factors {
            outbox: self.outbox_in(locale),
            ..self.factors()
        }
    }

    /// The second factors' components (`service::mfa`), with passkeys if they are on.
    pub fn factors(&self) -> Factors<'_> {
        Factors {
            sessions: self.sessions(),
            rp: self.relying_party.as_ref(),
            hasher: &self.hasher,
            throttle: &self.throttle,
            issuer: &self.rp_id,
            totp_sealer: &self.totp_sealer,
            outbox: self.outbox(),
            starts: &self.starts,
        }
    }

    /// The settings every sign-in obeys.
    pub fn signin_rules(&self) -> Rules {
        Rules {
            require_verified_email: self.settings.require_verified_email,
            require_mfa_for: self.settings.require_mfa_for(),
        }
    }

    /// Opens the database, applies migrations, loads keys: what `serve` does before it listens.
    pub async fn build(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        // Refuse a bad secret before touching the database.
        if let Some(secret) = &settings.jwt_secret {
            signing_key::check_secret(secret.expose_secret())?;
        }
        let mail = mail(&settings)?;
        let (rp_id, relying_party) = relying_party(&settings)?;
        let db = Db::connect(settings.database_url.expose()).await?;
        db::migrate(&db).await.context("applying migrations")?;
        let now = clock.now_ms();
        let kek = key_encryption_key(&settings)?;
        let (sealer, totp_sealer, provider_sealer) = (
            Sealer::new(kek.as_deref()),
            Sealer::for_totp(kek.as_deref()),
            Sealer::for_providers(kek.as_deref()),
        );
        let ring = key_store::ensure(&db, &sealer, now)
            .await
            .context("loading the signing keys")?;
        let mut tokens = AccessTokens::new(
            ring,
            settings.access_token_alg.ring_alg(),
            &settings.issuer,
            &settings.public_base(),
            settings.access_ttl,
        );
        if settings.access_token_alg == TokenAlg::Hs256 {
            let key = signing_key::jwt_key(settings.jwt_secret.as_ref(), &db, now).await?;
            tokens = tokens.with_shared_secret(&key);
        } else if settings.jwt_secret.is_some() {
            tracing::warn!(
                "PORTCULLIS_JWT_SECRET is set but unused: access tokens are signed with the \
                 published keys (set PORTCULLIS_ACCESS_TOKEN_ALG=HS256 to sign with the secret)"
            );
        }
        let refresh_key = store::server_keys::get_or_create(&db, "refresh_successor", now).await?;
        let hasher = PasswordHasher::new(settings.argon2)
            .map_err(anyhow::Error::msg)?
            .max_wait(settings.max_hash_wait);
        let redis = match &settings.redis_url {
            Some(url) if !url.expose().trim().is_empty() => {
                let cluster_id = store::server_keys::get_or_create(&db, "cluster_id", now).await?;
                Some(Arc::new(
                    RedisLink::new(url.expose(), &cluster_id).map_err(anyhow::Error::msg)?,
                ))
            }
            _ => None,
        };
        Ok(AppState(Arc::new(Services {
            tokens,
            sealer,
            totp_sealer,
            provider_sealer,
            upstream_http: crate::auth::upstream::http_client()
                .map_err(|e| anyhow::anyhow!("the identity providers' HTTP client: {e}"))?,
            upstream_cache: ProviderCache::new(clock.clone()),
            refresh_key,
            hasher: Arc::new(hasher),
            cache: SessionCache::new(settings.feed_stale_after),
            throttle: Throttle::new(
                db.clone(),
                redis.clone(),
                settings.throttle_account_failures,
                settings.throttle_client_failures,
                settings.throttle_window,
            ),
            starts: Starts::new(
                NonZeroU32::new(settings.anonymous_starts_per_minute).unwrap_or(NonZeroU32::MIN),
            ),
            mail_throttle: Throttle::new(
                db.clone(),
                redis.clone(),
                settings.throttle_account_failures,
                settings.throttle_client_failures,
                settings.throttle_window,
            )
            .scoped("mail:"),
            mail,
            redis,
            policy: PasswordPolicy::new(settings.password_min_length as usize),
            relying_party,
            rp_id,
            trusted_proxies: settings.trusted_proxies(),
            cors_origins: settings.cors_origins(),
            settings,
            db,
            clock,
        })))
    }
}
