//! A queued mail made into a message: who it goes to, the token its link carries (made
//! now, so that only the latest mail's link works and no working link waits in the
//! queue), and the words.
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use crate::auth::mail_token;
use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::domain::branding::{text_on, DEFAULT_COLOUR, PRODUCT_LOGO};
use crate::domain::Locale;
use crate::mail::templates::{self, Fields};
use crate::store;
use crate::store::mail_outbox::{Claimed, Kind};
use crate::store::mail_tokens::{self, Purpose};

/// Where links point and how long they work.
#[derive(Clone, Debug)]
pub struct Links {
    /// `PORTCULLIS_PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
    pub reset_ttl: Duration,
    pub verify_ttl: Duration,
    pub magic_link_ttl: Duration,
    /// The service's name in the mails.
    pub service: String,
}

/// A mail ready to go: the message, and its plain text for the log of `--dev-mail`.
pub struct Outgoing {
    /// The account the mail is about.
    pub user_id: i64,
    pub message: Message,
    pub to: String,
    pub subject: String,
    pub text: String,
}

pub enum Composed {
    Send(Box<Outgoing>),
    /// Nothing to send, and why (for the log): no such account, disabled, gone, or the
    /// address has changed since the mail was queued.
    Skip(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Template(#[from] crate::mail::templates::TemplateError),
    /// The recipient is not an address lettre accepts: retrying will not help.
    #[error("recipient {0:?} is not a mail address")]
    Recipient(String),
    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),
}

fn ms(d: Duration) -> Millis {
    d.as_millis() as Millis
}

impl Links {
    /// How long a link of `purpose` works.
    pub fn ttl(&self, purpose: Purpose) -> Duration {
        match purpose {
            Purpose::Reset => self.reset_ttl,
            Purpose::Verify | Purpose::EmailChange => self.verify_ttl,
            Purpose::MagicLink => self.magic_link_ttl,
        }
    }
}

/// A new token of `purpose` for `user_id`, bound to `email` (voiding the account's earlier
/// ones of that purpose); the link that carries it.
pub async fn new_link(
    db: &Db,
    links: &Links,
    purpose: Purpose,
    user_id: i64,
    email: &str,
    now: Millis,
) -> Result<String, DbError> {
    let token = mail_token::generate();
    let hash = mail_token::hash(&token);
    let expires_at = now + ms(links.ttl(purpose));
    mail_tokens::replace(db, purpose, user_id, email, &hash, now, expires_at).await?;
    let page = match purpose {
        Purpose::Reset => "reset-password",
        Purpose::Verify | Purpose::EmailChange => "verify-email",
        Purpose::MagicLink => "magic-link",
    };
    Ok(format!("{}/{page}?token={token}", links.public_url))
}

/// Whether the account has an authenticator app, and its passkeys' names.
async fn account_factors(db: &Db, user_id: i64) -> Result<(bool, Vec<String>), DbError> {
    let has_totp = store::totp::find(db, user_id)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some());
    let passkeys = store::passkeys::list(db, user_id)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    Ok((has_totp, passkeys))
}

/// The language a mail about an account speaks: the one its owner chose, else the one of
/// the request that queued it, else English.
async fn language(db: &Db, user_id: i64, job: &Claimed) -> Result<Locale, DbError> {
    let chosen = store::users::locale(db, user_id).await?;
    Ok(chosen
        .as_deref()
        .or(job.locale.as_deref())
        .and_then(Locale::parse)
        .unwrap_or_default())
}

pub async fn compose(
    db: &Db,
    links: &Links,
    from: &Mailbox,
    job: &Claimed,
    now: Millis,
) -> Result<Composed, ComposeError> {
    // The account the mail is about: by id when queued for one, else by the address typed.
    let user = match job.user_id {
        Some(id) => store::users::find_by_id(db, id).await?,
        None => store::users::find_by_email(db, &job.email).await?,
    };
    let Some(user) = user else {
        return Ok(Composed::Skip("no such account"));
    };
    if user.disabled && job.kind != Kind::PasswordChanged {
        return Ok(Composed::Skip("the account is disabled"));
    }
    let minutes = |d: Duration| d.as_secs().div_ceil(60);
    let hours = |d: Duration| d.as_secs().div_ceil(3600);
    let brand = store::branding::get(db).await?.unwrap_or_default();
    // Mails said the issuer before branding existed; a name the operator chose says more.
    let service = brand.product_name.as_deref().unwrap_or(&links.service);
    let colour = brand.primary_color.as_deref().unwrap_or(DEFAULT_COLOUR);
    let logo_url = store::branding::logo_versions(db, &[PRODUCT_LOGO])
        .await?
        .first()
        .map(|(_, v)| format!("{}/api/branding/logo?v={v}", links.public_url))
        .unwrap_or_default();
    let mut fields = Fields {
        username: &user.username,
        service,
        colour,
        colour_text: text_on(colour),
        logo_url: &logo_url,
        ..Fields::default()
    };
    let mut factors = (false, Vec::new());
    let (to, url) = match job.kind {
        Kind::PasswordReset => {
            let url = new_link(db, links, Purpose::Reset, user.id, &user.email, now).await?;
            fields.minutes = minutes(links.reset_ttl);
            (user.email.as_str(), Some(url))
        }
        Kind::MagicLink => {
            let url = new_link(db, links, Purpose::MagicLink, user.id, &user.email, now).await?;
            fields.minutes = minutes(links.magic_link_ttl);
            (user.email.as_str(), Some(url))
        }
        Kind::VerifyEmail => {
            if !user.email.eq_ignore_ascii_case(&job.email) {
                return Ok(Composed::Skip("the address has changed since"));
            }
            if user.email_verified_at.is_some() {
                return Ok(Composed::Skip("the address is verified already"));
            }
            let url = new_link(db, links, Purpose::Verify, user.id, &user.email, now).await?;
            fields.email = &user.email;
            fields.hours = hours(links.verify_ttl);
            (user.email.as_str(), Some(url))
        }
        Kind::EmailChange => {
            let url = new_link(db, links, Purpose::EmailChange, user.id, &job.email, now).await?;
            fields.email = &job.email;
            fields.hours = hours(links.verify_ttl);
            (job.email.as_str(), Some(url))
        }
        Kind::EmailChanged => {
            fields.email = job.detail.as_deref().unwrap_or_default();
            (job.email.as_str(), None)
        }
        Kind::PasswordChanged => {
            factors = account_factors(db, user.id).await?;
            (user.email.as_str(), None)
        }
        Kind::FactorChanged => {
            // `passkey_added Laptop`; a row an older node queued holds a whole sentence.
            let detail = job.detail.as_deref().unwrap_or_default();
            match detail.split_once(' ') {
                Some((code, name)) if code.starts_with("passkey_") => {
                    fields.change = code;
                    fields.passkey = name;
                }
                _ => fields.change = detail,
            }
            (
                user.email.as_str(),
                Some(format!("{}/account/security", links.public_url)),
            )
        }
    };
    (fields.has_totp, fields.passkeys) = factors;
    fields.link = url.as_deref().unwrap_or_default();
    let locale = language(db, user.id, job).await?;
    let rendered = templates::render(job.kind, locale, &fields)?;
    let mailbox: Mailbox = to
        .parse()
        .map_err(|_| ComposeError::Recipient(to.to_string()))?;
    let message = Message::builder()
        .from(from.clone())
        .to(mailbox)
        .subject(rendered.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html,
        ))?;
    Ok(Composed::Send(Box::new(Outgoing {
        user_id: user.id,
        message,
        to: to.to_string(),
        subject: rendered.subject,
        text: rendered.text,
    })))
}
