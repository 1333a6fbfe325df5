//! Accounts and their roles.
use sqlx::any::AnyRow;
use sqlx::Row;

use super::StoreError;
use crate::clock::Millis;
use crate::db::{is_unique_violation, Db, DbError, Dialect};
use crate::domain::UserState;
use crate::domain::{Email, Role, RoleSet, Username};
use crate::store::rights::{self, GrantedRole};

/// An account to create: validated names (their lower-cased keys are what the unique
/// indexes hold) and a password hash.
pub struct NewUser<'a> {
    pub username: &'a Username,
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub roles: RoleSet,
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub disabled: bool,
    /// The built-in roles given to the account itself (what the last-admin rules count).
    pub roles: RoleSet,
    /// Every role it holds, its own and its groups', built-in ones included.
    pub granted: Vec<GrantedRole>,
    /// An account for machines: no interactive sign-in.
    pub service_account: bool,
    pub created_at: Millis,
    pub last_signin_at: Option<Millis>,
    /// When the address was last proven its owner's; `None` until then.
    pub email_verified_at: Option<Millis>,
    /// Made at a first sign-in with a provider, and no password set since: nobody knows
    /// its password.
    pub password_unset: bool,
}

const COLUMNS: &str = "id, username, email, password_hash, disabled, created_at, last_signin_at, \
     email_verified_at, service_account, password_unset";

/// How a new account may sign in, beyond what `NewUser` says.
#[derive(Default)]
struct Beginning<'a> {
    /// No password its owner knows (made by a provider, or with a passkey alone).
    password_unset: bool,
    email_verified_at: Option<Millis>,
    /// Its passkeys' user handle, when one is made with it.
    webauthn_handle: Option<&'a str>,
}

/// Inserts the account and its roles within `tx`. A taken username or email is reported
/// from the unique constraint itself, so concurrent sign-ups make one account.
async fn insert_account(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &NewUser<'_>,
    beginning: Beginning<'_>,
    now: Millis,
) -> Result<i64, StoreError> {
    let sql = db.insert_sql(
        "INSERT INTO users (username, username_lower, email, email_lower, password_hash, disabled, \
         created_at, updated_at, password_unset, email_verified_at, webauthn_handle) \
         VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
    );
    let query = sqlx::query(&sql)
        .bind(user.username.as_str())
        .bind(user.username.key())
        .bind(user.email.as_str())
        .bind(user.email.key())
        .bind(user.password_hash)
        .bind(now)
        .bind(now)
        .bind(i64::from(beginning.password_unset))
        .bind(beginning.email_verified_at)
        .bind(beginning.webauthn_handle);
    let id = match db.insert_id(query, &mut **tx).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(which_unique(e)),
        Err(e) => return Err(e.into()),
    };
    insert_roles(db, tx, id, user.roles).await?;
    Ok(id)
}

/// Creates the account and its roles in one transaction.
pub async fn create(db: &Db, user: NewUser<'_>, now: Millis) -> Result<i64, StoreError> {
    let mut tx = db.pool.begin().await?;
    let id = insert_account(db, &mut tx, &user, Beginning::default(), now).await?;
    tx.commit().await?;
    Ok(id)
}

/// The identity at an upstream provider a new account is made from.
pub struct FirstIdentity<'a> {
    pub provider_id: &'a str,
    pub subject: &'a str,
    /// The provider said the email is the person's: it counts as verified.
    pub email_verified: bool,
}

/// Creates an account at a first sign-in with a provider, and links the identity, in one
/// transaction: no password it knows (`password_unset`), the email verified only when the
/// provider said so.
pub async fn create_from_identity(
    db: &Db,
    user: NewUser<'_>,
    identity: FirstIdentity<'_>,
    now: Millis,
) -> Result<i64, StoreError> {
    let mut tx = db.pool.begin().await?;
    let beginning = Beginning {
        password_unset: true,
        email_verified_at: identity.email_verified.then_some(now),
        webauthn_handle: None,
    };
    let id = insert_account(db, &mut tx, &user, beginning, now).await?;
    let link = db.sql(
        "INSERT INTO user_identities (user_id, provider_id, subject, email, created_at, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    );
    sqlx::query(&link)
        .bind(id)
        .bind(identity.provider_id)
        .bind(identity.subject)
        .bind(user.email.as_str())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// A new account's first passkey, stored with it.
pub struct FirstPasskey<'a> {
    /// The user handle the authenticator keeps (`users.webauthn_handle`).
    pub handle: &'a str,
    pub credential_hash: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
}

/// Creates an account that signs in with a passkey alone, and that passkey, in one
/// transaction: no password it knows (`password_unset`), the email not verified yet.
/// Never an account without its way in.
pub async fn create_with_passkey(
    db: &Db,
    user: NewUser<'_>,
    passkey: FirstPasskey<'_>,
    now: Millis,
) -> Result<i64, StoreError> {
    let mut tx = db.pool.begin().await?;
    let beginning = Beginning {
        password_unset: true,
        email_verified_at: None,
        webauthn_handle: Some(passkey.handle),
    };
    let id = insert_account(db, &mut tx, &user, beginning, now).await?;
    let sql = db.sql(
        "INSERT INTO passkeys (user_id, credential_hash, name, credential, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    );
    // A credential is new to this ceremony, which is spent once: a duplicate is a fault.
    sqlx::query(&sql)
        .bind(id)
        .bind(passkey.credential_hash)
        .bind(passkey.name)
        .bind(passkey.credential)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a service account (no interactive sign-in) with only the `user` role.
pub async fn create_service_account(
    db: &Db,
    username: &Username,
    email: &Email,
    password_hash: &str,
    now: Millis,
) -> Result<i64, StoreError> {
    let mut tx = db.pool.begin().await?;
    let sql = db.insert_sql(
        "INSERT INTO users (username, username_lower, email, email_lower, password_hash, disabled, \
         created_at, updated_at, service_account) VALUES (?, ?, ?, ?, ?, 0, ?, ?, 1)",
    );
    let query = sqlx::query(&sql)
        .bind(username.as_str())
        .bind(username.key())
        .bind(email.as_str())
        .bind(email.key())
        .bind(password_hash)
        .bind(now)
        .bind(now);
    let id = match db.insert_id(query, &mut *tx).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(which_unique(e)),
        Err(e) => return Err(e.into()),
    };
    insert_roles(db, &mut tx, id, [Role::User].into_iter().collect()).await?;
    tx.commit().await?;
    Ok(id)
}

/// The unique indexes on users (db/migrations.rs names them `ix_<table>_<columns>`).
const USERNAME_INDEX: &str = "ix_users_username_lower";
const EMAIL_INDEX: &str = "ix_users_email_lower";

/// Which of the two is taken, from the name of the index the insert ran into; any other
/// unique violation is no client's doing and stays a database error.
fn which_unique(e: sqlx::Error) -> StoreError {
    match crate::db::violated_unique_index(&e).as_deref() {
        Some(USERNAME_INDEX) => StoreError::UsernameTaken,
        Some(EMAIL_INDEX) => StoreError::EmailTaken,
        _ => StoreError::Db(e.into()),
    }
}

async fn insert_roles(
    db: &Db,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    roles: RoleSet,
) -> Result<(), DbError> {
    let sql = db.sql("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)");
    for role in roles.iter() {
        sqlx::query(&sql)
            .bind(user_id)
            .bind(role.id())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The account a sign-in names: by email when the login contains `@`, else by username.
pub async fn find_by_login(db: &Db, login: &str) -> Result<Option<UserRecord>, DbError> {
    if login.contains('@') {
        return find_by_email(db, login).await;
    }
    let key = login.to_ascii_lowercase();
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username_lower = ?");
    let sql = db.sql(&sql);
    let row = sqlx::query(&sql).bind(key).fetch_optional(&db.pool).await?;
    match row {
        Some(row) => Ok(Some(with_roles(db, &row).await?)),
        None => Ok(None),
    }
}

/// The account whose address is `email` (compared without regard to case).
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRecord>, DbError> {
    // No address contains NUL, and PostgreSQL refuses it in text: it is never looked up.
    if email.contains('\0') {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email_lower = ?");
    let sql = db.sql(&sql);
    let row = sqlx::query(&sql)
        .bind(email.to_ascii_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => Ok(Some(with_roles(db, &row).await?)),
        None => Ok(None),
    }
}

/// Marks the account's address verified, if it is still `email`; false when it is not.
pub async fn mark_email_verified(
    db: &Db,
    user_id: i64,
    email: &str,
    now: Millis,
) -> Result<bool, DbError> {
    let sql = db.sql(
        "UPDATE users SET email_verified_at = ?, updated_at = ? WHERE id = ? AND email_lower = ?",
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(now)
        .bind(user_id)
        .bind(email.to_ascii_lowercase())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the account's address with `email`, proven now. `EmailTaken` when another
/// account has it (the unique index decides, as at signup).
pub async fn set_verified_email(
    db: &Db,
    user_id: i64,
    email: &Email,
    now: Millis,
) -> Result<bool, StoreError> {
    let sql = db.sql(
        "UPDATE users SET email = ?, email_lower = ?, email_verified_at = ?, updated_at = ? WHERE id = ?",
    );
    let done = sqlx::query(&sql)
        .bind(email.as_str())
        .bind(email.key())
        .bind(now)
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await;
    match done {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(e) if is_unique_violation(&e) => Err(which_unique(e)),
        Err(e) => Err(e.into()),
    }
}

/// The language the account chose for its mails and pages, if it chose one.
pub async fn locale(db: &Db, id: i64) -> Result<Option<String>, DbError> {
    let sql = db.sql("SELECT locale FROM users WHERE id = ?");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&db.pool).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.flatten())
}

/// Whether the account is there to take it.
pub async fn set_locale(db: &Db, id: i64, locale: Option<&str>) -> Result<bool, DbError> {
    let sql = db.sql("UPDATE users SET locale = ? WHERE id = ?");
    let done = sqlx::query(&sql)
        .bind(locale)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<UserRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?");
    let sql = db.sql(&sql);
    let row = sqlx::query(&sql).bind(id).fetch_optional(&db.pool).await?;
    match row {
        Some(row) => Ok(Some(with_roles(db, &row).await?)),
        None => Ok(None),
    }
}

async fn with_roles(db: &Db, row: &AnyRow) -> Result<UserRecord, DbError> {
    let id: i64 = row.try_get(0)?;
    let granted = rights::granted_roles(db, id).await?;
    let roles = granted
        .iter()
        .filter(|g| !g.via_group)
        .filter_map(GrantedRole::built_in)
        .collect();
    Ok(UserRecord {
        id,
        username: row.try_get(1)?,
        email: row.try_get(2)?,
        password_hash: row.try_get(3)?,
        disabled: row.try_get::<i64, _>(4)? != 0,
        created_at: row.try_get(5)?,
        last_signin_at: row.try_get(6)?,
        email_verified_at: row.try_get(7)?,
        service_account: row.try_get::<i64, _>(8)? != 0,
        password_unset: row.try_get::<i64, _>(9)? != 0,
        roles,
        granted,
    })
}

impl UserRecord {
    /// The roles that hold for every client, its own and its groups', as authorities
    /// (`ROLE_` + the name in upper case): the built-in ones in their order, then the rest
    /// by name. What sign-in and the admin list answer.
    pub fn authorities(&self) -> Vec<String> {
        let built_in: RoleSet = self
            .granted
            .iter()
            .filter_map(GrantedRole::built_in)
            .collect();
        let mut custom: Vec<String> = self
            .granted
            .iter()
            .filter(|g| g.built_in().is_none() && g.client_id.is_none())
            .map(|g| crate::domain::authority(&g.name))
            .collect();
        custom.sort_unstable();
        custom.dedup();
        built_in
            .authorities()
            .into_iter()
            .map(str::to_string)
            .chain(custom)
            .collect()
    }

    /// The roles given to the account itself, by name (built-in and application ones too).
    pub fn own_role_names(&self) -> Vec<String> {
        let mut own: Vec<String> = self
            .granted
            .iter()
            .filter(|g| !g.via_group)
            .map(|g| g.name.clone())
            .collect();
        own.sort_unstable();
        own.dedup();
        own
    }
}

/// What the session check needs: roles, rights and whether the account may be used.
/// `None` when the user does not exist (any more).
pub async fn auth_state(db: &Db, user_id: i64) -> Result<Option<UserState>, DbError> {
    let sql = db.sql(
        "SELECT disabled, username, email, email_verified_at, created_at, service_account \
         FROM users WHERE id = ?",
    );
    let Some(row) = sqlx::query(&sql)
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?
    else {
        return Ok(None);
    };
    let (roles, rights) = rights::effective(db, user_id).await?;
    Ok(Some(UserState {
        disabled: row.try_get::<i64, _>(0)? != 0,
        username: row.try_get::<String, _>(1)?.into(),
        email: row.try_get::<String, _>(2)?.into(),
        email_verified: row.try_get::<Option<i64>, _>(3)?.is_some(),
        created_at: row.try_get(4)?,
        service_account: row.try_get::<i64, _>(5)? != 0,
        roles,
        rights: std::sync::Arc::new(rights),
    }))
}

/// Replaces the roles given to the account itself (`role_ids`: built-in and others); `user`
/// is always kept. False when there is no such user.
pub async fn set_roles(
    db: &Db,
    user_id: i64,
    role_ids: &[i64],
    now: Millis,
) -> Result<bool, DbError> {
    if !exists(db, user_id).await? {
        return Ok(false);
    }
    let mut ids: Vec<i64> = role_ids.to_vec();
    ids.push(Role::User.id());
    ids.sort_unstable();
    ids.dedup();
    // Writes first: a SQLite transaction that starts with a read cannot wait for the lock.
    let mut tx = db.pool.begin().await?;
    let sql = db.sql("UPDATE users SET updated_at = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let sql = db.sql("DELETE FROM user_roles WHERE user_id = ?");
    sqlx::query(&sql).bind(user_id).execute(&mut *tx).await?;
    let sql = db.sql("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)");
    for id in ids {
        sqlx::query(&sql)
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// False when there is no such user.
pub async fn set_disabled(
    db: &Db,
    user_id: i64,
    disabled: bool,
    now: Millis,
) -> Result<bool, DbError> {
    if !exists(db, user_id).await? {
        return Ok(false);
    }
    let sql = db.sql("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(i64::from(disabled))
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(true)
}

/// MySQL counts changed rows, not matched ones, so existence is asked, not inferred from
/// an UPDATE.
async fn exists(db: &Db, user_id: i64) -> Result<bool, DbError> {
    let sql = db.sql("SELECT 1 FROM users WHERE id = ?");
    Ok(sqlx::query(&sql)
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?
        .is_some())
}

pub async fn touch_signin(db: &Db, user_id: i64, now: Millis) -> Result<(), DbError> {
    let sql = db.sql("UPDATE users SET last_signin_at = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A page of users ordered by id, with the total; `prefix` matches the start of the
/// username or the email, ignoring case.
pub async fn list(
    db: &Db,
    prefix: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<UserRecord>, i64), DbError> {
    let (filter, args) = match prefix {
        Some(p) => prefix_filter(db.dialect, p),
        None => ("", Vec::new()),
    };
    let count_sql = format!("SELECT COUNT(*) FROM users{filter}");
    let count_sql = db.sql(&count_sql);
    let mut count = sqlx::query(&count_sql);
    for arg in &args {
        count = count.bind(arg.clone());
    }
    let total: i64 = count.fetch_one(&db.pool).await?.try_get(0)?;

    let page_sql = format!("SELECT {COLUMNS} FROM users{filter} ORDER BY id LIMIT ? OFFSET ?");
    let page_sql = db.sql(&page_sql);
    let mut page = sqlx::query(&page_sql);
    for arg in &args {
        page = page.bind(arg.clone());
    }
    let rows = page.bind(limit).bind(offset).fetch_all(&db.pool).await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in &rows {
        users.push(with_roles(db, row).await?);
    }
    Ok((users, total))
}

/// The WHERE clause of a prefix search on the lower-cased keys, and its arguments in order.
///
/// SQLite: a range, `key >= prefix AND key < prefix || U+10FFFF`, which the unique indexes
/// serve (MULTI-INDEX OR); its LIKE ignores ASCII case, so it cannot use those BINARY
/// indexes and scans the table. Under BINARY (byte, so code point, order) the range is
/// exactly the keys that start with the prefix, wildcards included as plain characters.
/// MySQL serves `LIKE 'prefix%'` from the indexes itself (index_merge sort_union).
/// PostgreSQL keeps LIKE: exact under any collation, and served by the `text_pattern_ops`
/// indexes of migration 4 (a plain btree serves it only under the C collation). A range
/// would be served by the plain indexes under the database's collation, but in one with
/// contractions (cs, da, ...) it misses keys that do start with the prefix.
fn prefix_filter(dialect: Dialect, prefix: &str) -> (&'static str, Vec<String>) {
    let lower = prefix.to_lowercase();
    match dialect {
        Dialect::Sqlite => {
            let above = format!("{lower}{}", char::MAX);
            (
                " WHERE (username_lower >= ? AND username_lower < ?) \
                 OR (email_lower >= ? AND email_lower < ?)",
                vec![lower.clone(), above.clone(), lower, above],
            )
        }
        Dialect::MySql | Dialect::Postgres => {
            // `!` escapes LIKE's wildcards: the one escape character all three databases
            // read alike.
            let escaped: String = lower
                .chars()
                .flat_map(|c| match c {
                    '!' | '%' | '_' => vec!['!', c],
                    c => vec![c],
                })
                .collect();
            let pattern = format!("{escaped}%");
            (
                " WHERE username_lower LIKE ? ESCAPE '!' OR email_lower LIKE ? ESCAPE '!'",
                vec![pattern.clone(), pattern],
            )
        }
    }
}

/// Enabled admins other than `user_id`: the last-admin rule counts these.
pub async fn count_active_admins_except(db: &Db, user_id: i64) -> Result<i64, DbError> {
    let sql = db.sql(
        "SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE r.role_id = ? AND u.disabled = 0 AND u.id <> ?",
    );
    sqlx::query(&sql)
        .bind(Role::Admin.id())
        .bind(user_id)
        .fetch_one(&db.pool)
        .await?
        .try_get(0)
        .map_err(DbError::from)
}

pub async fn set_password(
    db: &Db,
    user_id: i64,
    password_hash: &str,
    now: Millis,
) -> Result<(), DbError> {
    let sql = db
        .sql("UPDATE users SET password_hash = ?, password_unset = 0, updated_at = ? WHERE id = ?");
    sqlx::query(&sql)
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Deletes the account; its roles, sessions and refresh tokens go with it (ON DELETE
/// CASCADE). False when there was no such user.
pub async fn delete(db: &Db, user_id: i64) -> Result<bool, DbError> {
    let sql = db.sql("DELETE FROM users WHERE id = ?");
    let done = sqlx::query(&sql).bind(user_id).execute(&db.pool).await?;
    Ok(done.rows_affected() > 0)
}
