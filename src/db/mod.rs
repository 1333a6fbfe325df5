//! The database: one `AnyPool` whatever the backend, chosen at run time by `DATABASE_URL`.
//!
//! Queries are written once with `?` placeholders and in SQL all three dialects share;
//! `Db::sql` renumbers placeholders for PostgreSQL. Schema differences (types,
//! auto-increment) are left to sea-query in `migrations`.
mod migrations;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyQueryResult};
use sqlx::{Any, AnyPool, Executor};

pub use migrations::{
    migrate, versions as migration_versions, SIGNING_KEYS as SIGNING_KEYS_MIGRATION,
};

/// How long a request waits for a connection. A database that stopped answering must
/// turn into a 503 within 2 s (docs/SECURITY.md, "When the database is unreachable"), and
/// sqlx retries a refused connection until this runs out, so it is that bound with room
/// for the answer; a healthy pool of 16 hands a connection out in microseconds.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// The longest a background task (the change feed, pruning, the key reload, the mail
/// queue) waits for one database call before giving up on this round: a query that never
/// comes back (a partition, a hung server) must not stop the task for good.
pub const BACKGROUND_DEADLINE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    MySql,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
    /// The SQLite file, when it is one: where it is, and whether this connection made it.
    pub sqlite_file: Option<SqliteFile>,
}

/// A SQLite database's file, for the start-up log and the command line: a relative
/// `DATABASE_URL` is relative to the working directory, and a command run from another
/// folder would otherwise create and use a new, empty database without a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteFile {
    pub path: std::path::PathBuf,
    /// It did not exist before this connection.
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DATABASE_URL must start with sqlite://, mysql:// or postgres:// (got `{0}`)")]
    UnknownScheme(String),
    #[error("cannot create the directory for the SQLite database {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] sqlx::Error),
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        sqlx::any::install_default_drivers();
        let scheme = url.split("://").next().unwrap_or_default();
        let dialect = match scheme {
            "sqlite" => Dialect::Sqlite,
            "mysql" | "mariadb" => Dialect::MySql,
            "postgres" | "postgresql" => Dialect::Postgres,
            _ => return Err(ConnectError::UnknownScheme(redact(url))),
        };
        let sqlite_file = match dialect {
            Dialect::Sqlite => sqlite_file(url),
            _ => None,
        };
        let url = match dialect {
            Dialect::Sqlite => sqlite_url(url)?,
            Dialect::MySql => url.replacen("mariadb://", "mysql://", 1),
            Dialect::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                // SQLite has one writer at a time; more connections only add lock waits.
                Dialect::Sqlite => 4,
                _ => 16,
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    let setup = match dialect {
                        Dialect::Sqlite => {
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                        }
                        // Strict mode: refuse to truncate or coerce instead of warning.
                        Dialect::MySql => {
                            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', \
                             time_zone = '+00:00'"
                        }
                        Dialect::Postgres => "SET TIME ZONE 'UTC'",
                    };
                    conn.execute(setup).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            dialect,
            sqlite_file,
        })
    }

    /// The database in use, for a log line: a SQLite file's full path (and whether it was
    /// just created), or the server's URL without its password.
    pub fn describe(&self, url: &str) -> String {
        match &self.sqlite_file {
            Some(f) if f.created => format!("SQLite at {} (created now)", f.path.display()),
            Some(f) => format!("SQLite at {}", f.path.display()),
            None => redact(url),
        }
    }

    /// The statement in this database's placeholder syntax.
    pub fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        match self.dialect {
            Dialect::Postgres => Cow::Owned(numbered_placeholders(sql)),
            _ => Cow::Borrowed(sql),
        }
    }

    /// An INSERT that yields the new row's `id`: `RETURNING` where the database has it
    /// (MySQL does not), the driver's last-insert id on MySQL.
    pub fn insert_sql(&self, sql: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("{} RETURNING id", numbered_placeholders(sql)),
            Dialect::Sqlite => format!("{sql} RETURNING id"),
            Dialect::MySql => sql.to_string(),
        }
    }

    pub async fn insert_id<'c, 'q, E>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
        executor: E,
    ) -> Result<i64, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        use sqlx::Row;
        match self.dialect {
            Dialect::Postgres | Dialect::Sqlite => {
                query.fetch_one(executor).await?.try_get::<i64, _>(0)
            }
            Dialect::MySql => {
                let done: AnyQueryResult = query.execute(executor).await?;
                done.last_insert_id()
                    .ok_or_else(|| sqlx::Error::Protocol("no last insert id".into()))
            }
        }
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// A failed database call, as every layer above `store/` sees it: the driver's error stays
/// inside, so only `db/` and `store/` know which driver there is, and the questions the
/// layers above ask of a failure are answered here once.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Driver(#[from] sqlx::Error),
    /// The call was given up after a deadline (`within`): the database did not answer.
    #[error("the database did not answer within {0:?}")]
    NoAnswer(Duration),
    /// One error shared by the callers a cache's single load answered.
    #[error(transparent)]
    Shared(std::sync::Arc<DbError>),
}

impl DbError {
    /// The database cannot be reached (down, network cut, pool exhausted, no answer), as
    /// opposed to a statement that failed: worth a 503 and a retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Driver(e) => is_unavailable(e),
            DbError::NoAnswer(_) => true,
            DbError::Shared(e) => e.is_unavailable(),
        }
    }

    /// Whether any error in a chain of causes is an unreachable database.
    pub fn unavailable_in<'a>(
        mut chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
    ) -> bool {
        chain.any(|cause| {
            cause
                .downcast_ref::<DbError>()
                .is_some_and(DbError::is_unavailable)
                || cause
                    .downcast_ref::<sqlx::Error>()
                    .is_some_and(is_unavailable)
        })
    }
}

/// Runs a database call with a deadline: past it the call is dropped (sqlx closes or
/// recovers its connection) and the caller gets `DbError::NoAnswer`.
pub async fn within<T>(
    deadline: Duration,
    call: impl std::future::Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    tokio::time::timeout(deadline, call)
        .await
        .unwrap_or(Err(DbError::NoAnswer(deadline)))
}

pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// The name of the unique index a unique violation hit, in the `ix_<table>_<columns>` form
/// the migrations give every index. PostgreSQL names the constraint; MySQL and MariaDB
/// name the key in their message (`for key 'ix_users_email_lower'`, MySQL 8 with the
/// table in front); SQLite names the columns (`UNIQUE constraint failed: users.email_lower`),
/// from which the name follows.
pub(crate) fn violated_unique_index(e: &sqlx::Error) -> Option<String> {
    let d = e.as_database_error().filter(|d| d.is_unique_violation())?;
    if let Some(name) = d.constraint() {
        return Some(name.to_string());
    }
    let message = d.message();
    if let Some((_, rest)) = message.split_once("for key '") {
        let key = rest.split('\'').next()?;
        return Some(key.rsplit('.').next().unwrap_or(key).to_string());
    }
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut names = Vec::new();
    for qualified in columns.split(',').map(str::trim) {
        let (t, column) = qualified.split_once('.')?;
        if table.is_some_and(|known| known != t) {
            return None;
        }
        table = Some(t);
        names.push(column);
    }
    Some(format!("ix_{}_{}", table?, names.join("_")))
}

/// `sqlite://data/portcullis.db` → create `data/` and the file on first start.
/// The file a `sqlite:` URL names, as an absolute path, and whether it is missing now.
fn sqlite_file(url: &str) -> Option<SqliteFile> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    let path = std::path::absolute(path).ok()?;
    Some(SqliteFile {
        created: !path.exists(),
        path,
    })
}

fn sqlite_url(url: &str) -> Result<String, ConnectError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if !path.is_empty() && path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ConnectError::Directory(path.to_string(), e))?;
            }
        }
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// `?` → `$1, $2, …`, leaving quoted text alone.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// A URL with its password replaced, fit for an error message or a log: the one after
/// the user name, and the value of any query parameter that names a password, secret or
/// key (`?password=`, `?sslpassword=`, `?sslkey=`...).
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &base[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme_end + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if names_a_secret(key) => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "secret", "key", "token"]
        .iter()
        .any(|word| key.contains(word))
}

/// A `TEXT` column's value. MySQL reports `TEXT` to the Any driver as `BLOB`, so there it
/// arrives as bytes, which are the UTF-8 that was written.
pub(crate) fn long_text(row: &sqlx::any::AnyRow, index: usize) -> Result<String, sqlx::Error> {
    use sqlx::Row;
    match row.try_get::<String, _>(index) {
        Ok(text) => Ok(text),
        Err(_) => {
            let bytes: Vec<u8> = row.try_get(index)?;
            String::from_utf8(bytes).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        }
    }
}

/// As `long_text`, for a column that may be NULL.
pub(crate) fn long_text_null(
    row: &sqlx::any::AnyRow,
    index: usize,
) -> Result<Option<String>, sqlx::Error> {
    use sqlx::Row;
    match row.try_get::<Option<String>, _>(index) {
        Ok(text) => Ok(text),
        Err(_) => row
            .try_get::<Option<Vec<u8>>, _>(index)?
            .map(|bytes| String::from_utf8(bytes).map_err(|e| sqlx::Error::Decode(Box::new(e))))
            .transpose(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"
        );
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(redact("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
        assert_eq!(
            redact("mysql://u@h/db?password=pw&ssl-mode=required&sslkey=/k.pem"),
            "mysql://u@h/db?password=***&ssl-mode=required&sslkey=***"
        );
        // An @ in the query is no user name.
        assert_eq!(
            redact("sqlite://x.db?note=a:b@c"),
            "sqlite://x.db?note=a:b@c"
        );
    }
}
