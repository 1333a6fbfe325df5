//! The audit trail: who did what to whom, from where, and whether it worked. Never holds
//! a password or a token.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{Db, DbError};
use crate::store::mail_outbox::Kind as MailKind;

/// Every event docs/API.md §2 names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Signup,
    Signin,
    SigninThrottled,
    Refresh,
    RefreshReuse,
    Signout,
    SignoutAll,
    SessionEnded,
    PasswordChanged,
    RolesChanged,
    Disabled,
    Enabled,
    Deleted,
    /// The command line's `--force` let a change remove the last enabled admin.
    LastAdminOverride,
    /// `POST /api/auth/password-reset`, for whatever address was typed.
    PasswordResetRequested,
    /// A password set with a reset link (or a refused link).
    PasswordReset,
    /// An address proven by a link mailed to it.
    EmailVerified,
    /// `POST /api/auth/email`: a link to the new address was asked for.
    EmailChangeRequested,
    /// The new address was proven and replaced the old one.
    EmailChanged,
    /// `POST /api/auth/magic-link`, for whatever address was typed.
    MagicLinkRequested,
    /// A sign-in with a link mailed to the account (or a refused link).
    MagicLinkSignin,
    /// A mail of this kind was sent (ok) or given up (failed).
    Mailed(MailKind),
    PasskeyRegistered,
    PasskeyRenamed,
    PasskeyRemoved,
    /// A sign-in with a passkey (or a refused one).
    PasskeySignin,
    /// A passkey's signature counter went backwards: possibly a cloned authenticator.
    PasskeyCounterRegressed,
    TotpEnabled,
    TotpDisabled,
    RecoveryCodesCreated,
    /// The second step of a sign-in (or a wrong code).
    MfaVerified,
    /// An admin removed an account's second factors and passkeys.
    MfaReset,
    /// An OpenID Connect client was registered (`clientId` says which).
    ClientCreated,
    /// A client's settings were changed.
    ClientUpdated,
    ClientDeleted,
    /// A user allowed a client the scopes it asked for, on the consent page.
    ConsentGranted,
    /// A user took a consent back (and the client's grants ended).
    ConsentRevoked,
    /// A client exchanged a code for a user's tokens: the user signed in to it.
    ClientSignin,
    /// A code was presented again: refused, and the grant its first use gave ended.
    CodeReuse,
    RoleCreated,
    /// A role's description or permissions changed (`detail` lists them as they now are).
    RoleUpdated,
    RoleDeleted,
    PermissionCreated,
    PermissionDeleted,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupMemberAdded,
    GroupMemberRemoved,
    ApiKeyCreated,
    ApiKeyRevoked,
    ServiceAccountCreated,
    ProviderCreated,
    /// A provider's settings changed (`detail` names the fields).
    ProviderUpdated,
    ProviderDeleted,
    /// A sign-in through an upstream provider (`detail` names it, and why one failed).
    ProviderSignin,
    /// An account linked an identity at a provider.
    ProviderLinked,
    /// An identity was unlinked, by its account or an admin.
    ProviderUnlinked,
    /// The product's name, colour, footer link or logo changed (`detail` names which).
    BrandingChanged,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::Signup => "signup",
            Event::Signin => "signin",
            Event::SigninThrottled => "signin_throttled",
            Event::Refresh => "refresh",
            Event::RefreshReuse => "refresh_reuse",
            Event::Signout => "signout",
            Event::SignoutAll => "signout_all",
            Event::SessionEnded => "session_ended",
            Event::PasswordChanged => "password_changed",
            Event::RolesChanged => "roles_changed",
            Event::Disabled => "disabled",
            Event::Enabled => "enabled",
            Event::Deleted => "deleted",
            Event::LastAdminOverride => "last_admin_override",
            Event::PasswordResetRequested => "password_reset_requested",
            Event::PasswordReset => "password_reset",
            Event::EmailVerified => "email_verified",
            Event::EmailChangeRequested => "email_change_requested",
            Event::EmailChanged => "email_changed",
            Event::MagicLinkRequested => "magic_link_requested",
            Event::MagicLinkSignin => "signin_magic_link",
            Event::PasskeyRegistered => "passkey_registered",
            Event::PasskeyRenamed => "passkey_renamed",
            Event::PasskeyRemoved => "passkey_removed",
            Event::PasskeySignin => "signin_passkey",
            Event::PasskeyCounterRegressed => "passkey_counter_regressed",
            Event::TotpEnabled => "totp_enabled",
            Event::TotpDisabled => "totp_disabled",
            Event::RecoveryCodesCreated => "recovery_codes_created",
            Event::MfaVerified => "mfa_verified",
            Event::MfaReset => "mfa_reset",
            Event::ClientCreated => "client_created",
            Event::ClientUpdated => "client_updated",
            Event::ClientDeleted => "client_deleted",
            Event::ConsentGranted => "consent_granted",
            Event::ConsentRevoked => "consent_revoked",
            Event::ClientSignin => "signin_client",
            Event::CodeReuse => "code_reuse",
            Event::RoleCreated => "role_created",
            Event::RoleUpdated => "role_updated",
            Event::RoleDeleted => "role_deleted",
            Event::PermissionCreated => "permission_created",
            Event::PermissionDeleted => "permission_deleted",
            Event::GroupCreated => "group_created",
            Event::GroupUpdated => "group_updated",
            Event::GroupDeleted => "group_deleted",
            Event::GroupMemberAdded => "group_member_added",
            Event::GroupMemberRemoved => "group_member_removed",
            Event::ApiKeyCreated => "api_key_created",
            Event::ApiKeyRevoked => "api_key_revoked",
            Event::ServiceAccountCreated => "service_account_created",
            Event::ProviderCreated => "provider_created",
            Event::ProviderUpdated => "provider_updated",
            Event::ProviderDeleted => "provider_deleted",
            Event::ProviderSignin => "signin_provider",
            Event::ProviderLinked => "provider_linked",
            Event::ProviderUnlinked => "provider_unlinked",
            Event::BrandingChanged => "branding_changed",
            Event::Mailed(kind) => match kind {
                MailKind::PasswordReset => "mailed_password_reset",
                MailKind::PasswordChanged => "mailed_password_changed",
                MailKind::VerifyEmail => "mailed_verify_email",
                MailKind::EmailChange => "mailed_email_change",
                MailKind::EmailChanged => "mailed_email_changed",
                MailKind::MagicLink => "mailed_magic_link",
                MailKind::FactorChanged => "mailed_factor_changed",
            },
        }
    }
}

/// How a change reached the service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Via {
    /// The HTTP API (or, for events recorded before this was, unknown).
    #[default]
    Api,
    /// The `portcullis` command line: no account acts, an operator on the host does.
    Cli,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Cli => "cli",
        }
    }
}

/// One event to record. `username` is the name the event concerns (as typed at sign-in,
/// or the account's), for events whose subject may not exist.
#[derive(Clone, Debug, Default)]
pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub username: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub via: Via,
    /// The OpenID Connect client the event concerns.
    pub client_id: Option<&'a str>,
    /// What the change was about beyond its subject: the role, group or key, and what
    /// changed.
    pub detail: Option<&'a str>,
}

impl<'a> Entry<'a> {
    pub fn for_client(self, client_id: &'a str) -> Self {
        Entry {
            client_id: Some(client_id),
            ..self
        }
    }
}

#[derive(Clone, Debug)]
pub struct Record {
    pub id: i64,
    pub at: Millis,
    pub event: String,
    /// The stored outcome was `ok` (anything else is `failed`).
    pub ok: bool,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub username: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Events from before it was recorded count as `Api`.
    pub via: Via,
    pub client_id: Option<String>,
    pub detail: Option<String>,
    /// The actor's and the subject's usernames now (not when recorded); none once deleted.
    pub actor_username: Option<String>,
    pub subject_username: Option<String>,
}

fn clip(text: Option<&str>, max: usize) -> Option<String> {
    text.map(|t| t.chars().take(max).collect())
}

pub async fn record(
    db: &Db,
    event: Event,
    ok: bool,
    entry: &Entry<'_>,
    at: Millis,
) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO audit_events (at, event, outcome, actor_id, subject_id, username, ip, user_agent, via, \
         client_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(at)
        .bind(event.name())
        .bind(if ok { "ok" } else { "failed" })
        .bind(entry.actor_id)
        .bind(entry.subject_id)
        .bind(clip(entry.username, 254))
        .bind(clip(entry.ip, 64))
        .bind(clip(entry.user_agent, 512))
        .bind(entry.via.name())
        .bind(clip(entry.client_id, 64))
        .bind(clip(entry.detail, 512))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Newest first; `before` is an event id to page back from.
pub async fn list(db: &Db, limit: i64, before: Option<i64>) -> Result<Vec<Record>, DbError> {
    let sql = db.sql(
        "SELECT e.id, e.at, e.event, e.outcome, e.actor_id, e.subject_id, e.username, e.ip, \
         e.user_agent, e.via, e.client_id, e.detail, a.username, s.username \
         FROM audit_events e LEFT JOIN users a ON a.id = e.actor_id \
         LEFT JOIN users s ON s.id = e.subject_id \
         WHERE e.id < ? ORDER BY e.id DESC LIMIT ?",
    );
    let rows = sqlx::query(&sql)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Record {
                id: row.try_get(0)?,
                at: row.try_get(1)?,
                event: row.try_get(2)?,
                ok: row.try_get::<String, _>(3)? == "ok",
                actor_id: row.try_get(4)?,
                subject_id: row.try_get(5)?,
                username: row.try_get(6)?,
                ip: row.try_get(7)?,
                user_agent: row.try_get(8)?,
                via: match row.try_get::<Option<String>, _>(9)?.as_deref() {
                    Some("cli") => Via::Cli,
                    _ => Via::Api,
                },
                client_id: row.try_get(10)?,
                detail: row.try_get(11)?,
                actor_username: row.try_get(12)?,
                subject_username: row.try_get(13)?,
            })
        })
        .collect()
}
