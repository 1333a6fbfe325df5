//! WebAuthn ceremonies begun and not yet finished: the server's half of each (webauthn-rs's
//! state, serialised), kept in the database so that any node can finish what another began,
//! and found by the SHA-256 of the challenge the browser signs.
use sqlx::Row;

use crate::clock::Millis;
use crate::db::{long_text, Db, DbError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Registering a passkey for a signed-in account.
    Register,
    /// Signing in with a discoverable passkey.
    Signin,
    /// A passkey as the second step of a password sign-in.
    SecondFactor,
    /// A new account's first passkey, its only way to sign in.
    Signup,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Signin => "signin",
            Purpose::SecondFactor => "second_factor",
            Purpose::Signup => "signup",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Purpose::Register,
            Purpose::Signin,
            Purpose::SecondFactor,
            Purpose::Signup,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }
}

#[derive(Clone, Debug)]
pub struct Ceremony {
    pub purpose: Purpose,
    /// Whose ceremony it is; none for a discoverable sign-in.
    pub user_id: Option<i64>,
    pub state: String,
    pub expires_at: Millis,
}

pub struct NewCeremony<'a> {
    pub challenge_hash: &'a str,
    pub purpose: Purpose,
    pub user_id: Option<i64>,
    pub state: &'a str,
    pub expires_at: Millis,
}

pub async fn begin(db: &Db, c: NewCeremony<'_>, now: Millis) -> Result<(), DbError> {
    let sql = db.sql(
        "INSERT INTO webauthn_ceremonies (challenge_hash, purpose, user_id, state, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&sql)
        .bind(c.challenge_hash)
        .bind(c.purpose.name())
        .bind(c.user_id)
        .bind(c.state)
        .bind(now)
        .bind(c.expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Takes the ceremony of this challenge out of the store: it can be finished once, by
/// whichever request deletes it first. Expired ones are taken too, and reported as such
/// through `expires_at`.
pub async fn take(db: &Db, challenge_hash: &str) -> Result<Option<Ceremony>, DbError> {
    let find = db.sql(
        "SELECT id, purpose, user_id, state, expires_at FROM webauthn_ceremonies WHERE challenge_hash = ?",
    );
    let Some(row) = sqlx::query(&find)
        .bind(challenge_hash)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get(0)?;
    let delete = db.sql("DELETE FROM webauthn_ceremonies WHERE id = ?");
    let done = sqlx::query(&delete).bind(id).execute(&db.pool).await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    let purpose: String = row.try_get(1)?;
    let Some(purpose) = Purpose::from_name(&purpose) else {
        return Ok(None);
    };
    Ok(Some(Ceremony {
        purpose,
        user_id: row.try_get(2)?,
        state: long_text(&row, 3)?,
        expires_at: row.try_get(4)?,
    }))
}

/// Forgets ceremonies that expired before `before` (begun and abandoned).
pub async fn prune(db: &Db, before: Millis) -> Result<(), DbError> {
    let sql = db.sql("DELETE FROM webauthn_ceremonies WHERE expires_at < ?");
    sqlx::query(&sql).bind(before).execute(&db.pool).await?;
    Ok(())
}
