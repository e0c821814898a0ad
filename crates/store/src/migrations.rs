//! Embedded schema migrations, applied at start, each in its own transaction. The list is
//! append-only: a released migration is never edited.

use sqlx::{AnyPool, Executor};

use crate::sql::Backend;
use crate::StoreResult;

/// One migration: its version and the statements for each backend.
struct Migration {
    version: i64,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
}

const COMMON_V1: &[&str] = &[
    "CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        is_admin BIGINT NOT NULL,
        disabled BIGINT NOT NULL,
        max_devices BIGINT NOT NULL,
        max_streams BIGINT NOT NULL,
        created_at BIGINT NOT NULL)",
    "CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        device_type TEXT NOT NULL,
        client TEXT NOT NULL,
        credential TEXT NOT NULL,
        ip TEXT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        revoked_reason TEXT,
        revoked_by TEXT)",
    "CREATE INDEX devices_by_user ON devices (user_id, revoked_at)",
    "CREATE TABLE security_events (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        at BIGINT NOT NULL,
        kind TEXT NOT NULL,
        device_id TEXT,
        device_name TEXT,
        ip TEXT,
        detail TEXT)",
    "CREATE INDEX security_events_by_user ON security_events (user_id, at)",
    "CREATE INDEX security_events_by_time ON security_events (at)",
    "CREATE TABLE pending_signins (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        device_type TEXT NOT NULL,
        client TEXT NOT NULL,
        ip TEXT NOT NULL,
        expires_at BIGINT NOT NULL)",
];

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: COMMON_V1,
    postgres: COMMON_V1,
}];

/// The schema version this build expects.
pub const SCHEMA_VERSION: i64 = 1;

/// Applies every migration newer than the database's version.
pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> StoreResult<()> {
    pool.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .await?;
    if backend == Backend::Postgres {
        // Several nodes may start at once; one migrates, the others wait for it.
        let mut tx = pool.begin().await?;
        tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            .await?;
        apply_pending(&mut tx, backend).await?;
        tx.commit().await?;
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    apply_pending(&mut tx, backend).await?;
    tx.commit().await?;
    Ok(())
}

async fn apply_pending(conn: &mut sqlx::AnyConnection, backend: Backend) -> StoreResult<()> {
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let current = current.unwrap_or(0);
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let statements = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        for s in statements {
            conn.execute(*s).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(m.version)
            .execute(&mut *conn)
            .await?;
        tracing::info!(version = m.version, "applied database migration");
    }
    debug_assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    Ok(())
}
