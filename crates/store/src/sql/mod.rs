//! The SQL store: one implementation for SQLite and PostgreSQL through sqlx's `Any` driver.
//! Statements are written once in the dialect both accept; the few differences are chosen by
//! `Backend`.

mod accounts;
mod attempts;
mod credentials;
mod device_codes;
mod email;
mod exports;
mod library;
mod oauth;
mod passkeys;
mod streams;
mod subsonic;
mod two_step;
mod user_data;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::{StoreError, StoreResult};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The SQL store. On SQLite every write goes through one connection, which serialises the
/// read-check-write transactions that enforce limits; on PostgreSQL those take a row lock.
#[derive(Clone)]
pub struct SqlStore {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    /// Token-login salts waiting to be written together (see `subsonic.rs`).
    salts: std::sync::Arc<subsonic::SaltQueue>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish()
    }
}

impl SqlStore {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    /// `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<SqlStore> {
        SqlStore::connect_at(url, crate::migrations::SCHEMA_VERSION).await
    }

    /// Like `connect`, migrating only up to `version`: an earlier release's database, for the
    /// tests that upgrade one.
    #[doc(hidden)]
    pub async fn connect_at(url: &str, version: i64) -> StoreResult<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let opts = AnyConnectOptions::from_str(url)?;
        let store = match backend {
            Backend::Sqlite => {
                let write = sqlite_pool(opts.clone(), 1).await?;
                // The writer sets WAL once; readers then share the file without blocking it.
                write.execute("PRAGMA journal_mode = WAL").await?;
                let read = sqlite_pool(opts, 4).await?;
                SqlStore {
                    read,
                    write,
                    backend,
                    salts: std::sync::Arc::default(),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .connect_with(opts)
                    .await?;
                SqlStore {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    salts: std::sync::Arc::default(),
                }
            }
        };
        crate::migrations::run(&store.write, backend, version).await?;
        Ok(store)
    }

    /// Opens the embedded database file at `path`.
    pub async fn open_sqlite_file(path: &Path) -> StoreResult<SqlStore> {
        SqlStore::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs SQLite's integrity check (used after crash tests); always true on PostgreSQL.
    pub async fn integrity_ok(&self) -> StoreResult<bool> {
        if self.backend == Backend::Postgres {
            return Ok(true);
        }
        let r: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.read)
            .await?;
        Ok(r == "ok")
    }

    /// The text values a query returns; for tests that inspect storage.
    pub async fn raw_strings(&self, sql: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(sql).fetch_all(&self.read).await?)
    }

    /// Runs statements as written; for tests that write rows as an earlier release did.
    #[doc(hidden)]
    pub async fn raw_execute(&self, sql: &str) -> StoreResult<()> {
        self.write.execute(sql).await?;
        Ok(())
    }
}

async fn sqlite_pool(opts: AnyConnectOptions, max: u32) -> StoreResult<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await?)
}

/// A URL with any password removed, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

pub(crate) fn bool_int(b: bool) -> i64 {
    i64::from(b)
}

/// `$1, $2, …, $n`.
pub(crate) fn placeholders(n: usize) -> String {
    placeholders_from(1, n)
}

/// `$first, …` for `n` parameters.
pub(crate) fn placeholders_from(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
