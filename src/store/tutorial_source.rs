//! Reading a database made by the Node.js tutorial's backend (Sequelize: `users`, `roles`,
//! `user_roles`), for `service::import`. Nothing here writes to it.
use std::collections::HashMap;

use sea_query::{Alias, MysqlQueryBuilder, PostgresQueryBuilder, Query, SqliteQueryBuilder};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{Db, DbError, Dialect};

/// A row of the tutorial's `users`, unchecked: the tutorial enforced no formats.
pub struct SourceUser {
    pub id: i64,
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

fn select(db: &Db, table: &str, columns: &[&str]) -> String {
    let mut q = Query::select();
    q.from(Alias::new(table));
    for c in columns {
        q.column(Alias::new(*c));
    }
    // Sequelize wrote camelCase identifiers; each dialect quotes them its own way.
    match db.dialect {
        Dialect::Sqlite => q.to_string(SqliteQueryBuilder),
        Dialect::MySql => q.to_string(MysqlQueryBuilder),
        Dialect::Postgres => q.to_string(PostgresQueryBuilder),
    }
}

/// Integer columns are INT in the tutorial's MySQL schema and BIGINT elsewhere.
fn int(row: &AnyRow, index: usize) -> Result<i64, sqlx::Error> {
    row.try_get::<i64, _>(index)
        .or_else(|_| row.try_get::<i32, _>(index).map(i64::from))
}

/// Every user, by id.
pub async fn users(db: &Db) -> Result<Vec<SourceUser>, DbError> {
    let sql = select(db, "users", &["id", "username", "email", "password"]);
    let mut users = sqlx::query(&sql)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(SourceUser {
                id: int(row, 0)?,
                username: row.try_get(1)?,
                email: row.try_get(2)?,
                password: row.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    users.sort_by_key(|u| u.id);
    Ok(users)
}

/// Role id → name.
pub async fn roles(db: &Db) -> Result<HashMap<i64, String>, DbError> {
    let sql = select(db, "roles", &["id", "name"]);
    let rows = sqlx::query(&sql).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| {
            Ok((
                int(row, 0)?,
                row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// (user id, role id) pairs.
pub async fn user_roles(db: &Db) -> Result<Vec<(i64, i64)>, DbError> {
    let sql = select(db, "user_roles", &["userId", "roleId"]);
    let rows = sqlx::query(&sql).fetch_all(&db.pool).await?;
    rows.iter()
        .map(|row| Ok((int(row, 0)?, int(row, 1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
