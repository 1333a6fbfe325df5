//! Administrative changes to users run one at a time across every node sharing the
//! database, so two admins can neither both pass the last-admin check nor remove each
//! other at the same moment.
//!
//! On MySQL/MariaDB and PostgreSQL the lock is a row lock (`SELECT ... FOR UPDATE`) held by
//! an otherwise empty transaction on a connection of its own, on the `server_keys` row
//! every node creates at its first start. That row is never updated and nothing refers to
//! it, so the lock blocks nothing but other admin changes; a lock on a `roles` row would
//! also block the foreign-key check of the very role grant it protects. The change itself
//! runs on other connections, statement by statement, each committed before the lock is
//! let go. On SQLite (one node per database file) a process-wide mutex does the same job,
//! because a write lock held open would block the change's own writes.
use std::time::Duration;

use sqlx::{Any, Transaction};

use crate::db::{Db, DbError, Dialect};

static IN_PROCESS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a change waits for the one before it.
const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another administrative change held the lock for {0:?}")]
    Busy(Duration),
    #[error("database: {0}")]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for LockError {
    fn from(e: sqlx::Error) -> Self {
        LockError::Db(e.into())
    }
}

/// Held while one change runs. Dropping it lets the next one in: the transaction rolls
/// back (it changed nothing) when its connection goes back to the pool.
pub struct AdminChangeLock {
    _local: Option<tokio::sync::MutexGuard<'static, ()>>,
    _shared: Option<Transaction<'static, Any>>,
}

pub async fn lock(db: &Db) -> Result<AdminChangeLock, LockError> {
    let acquired = tokio::time::timeout(WAIT, async {
        if db.dialect == Dialect::Sqlite {
            return Ok(AdminChangeLock {
                _local: Some(IN_PROCESS.lock().await),
                _shared: None,
            });
        }
        let mut tx = db.pool.begin().await?;
        let sql = db.sql("SELECT name FROM server_keys WHERE name = ? FOR UPDATE");
        sqlx::query(&sql)
            .bind("refresh_successor")
            .fetch_optional(&mut *tx)
            .await?;
        Ok(AdminChangeLock {
            _local: None,
            _shared: Some(tx),
        })
    })
    .await;
    acquired.unwrap_or(Err(LockError::Busy(WAIT)))
}
