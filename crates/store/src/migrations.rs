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

/// The library, playlists and stream slots.
const COMMON_V2: &[&str] = &[
    "CREATE TABLE tracks (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size BIGINT NOT NULL,
        mtime BIGINT NOT NULL,
        title TEXT NOT NULL,
        artists TEXT NOT NULL,
        album TEXT NOT NULL,
        album_artists TEXT NOT NULL,
        compilation BIGINT NOT NULL,
        genres TEXT NOT NULL,
        track_no BIGINT,
        track_total BIGINT,
        disc_no BIGINT,
        disc_total BIGINT,
        year BIGINT,
        composer TEXT,
        comment TEXT,
        isrc TEXT,
        duration_ms BIGINT NOT NULL,
        sample_rate BIGINT,
        bit_depth BIGINT,
        channels BIGINT,
        bitrate BIGINT,
        codec TEXT NOT NULL,
        format TEXT NOT NULL,
        embedded_cover BIGINT NOT NULL,
        cover_path TEXT,
        added_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)",
    "CREATE TABLE scan_problems (
        path TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        at BIGINT NOT NULL)",
    "CREATE TABLE playlists (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)",
    "CREATE INDEX playlists_by_user ON playlists (user_id, name)",
    "CREATE TABLE playlist_entries (
        playlist_id TEXT NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position BIGINT NOT NULL,
        track_id TEXT NOT NULL,
        PRIMARY KEY (playlist_id, position))",
    "CREATE TABLE stream_slots (
        device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        track_id TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        heartbeat_at BIGINT NOT NULL,
        stopped_reason TEXT,
        stopped_by TEXT)",
    "CREATE INDEX stream_slots_by_user ON stream_slots (user_id)",
    // Bumped by every scan that changes the library, so other processes and nodes reload it.
    "CREATE TABLE library_state (id BIGINT PRIMARY KEY, version BIGINT NOT NULL)",
    "INSERT INTO library_state (id, version) VALUES (1, 0)",
];

const COMMON_V3: &[&str] = &[
    "CREATE TABLE exports (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        settings TEXT NOT NULL,
        out_dir TEXT NOT NULL,
        pattern TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        finished_at BIGINT,
        error TEXT)",
    "CREATE INDEX exports_by_user ON exports (user_id, created_at)",
    "CREATE INDEX exports_by_state ON exports (state)",
    "CREATE TABLE export_files (
        export_id TEXT NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
        position BIGINT NOT NULL,
        track_id TEXT NOT NULL,
        rel_path TEXT NOT NULL,
        state TEXT NOT NULL,
        size BIGINT,
        error TEXT,
        PRIMARY KEY (export_id, position))",
];

/// Users an admin gave a temporary password choose their own at the next sign-in.
const COMMON_V4: &[&str] =
    &["ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0"];

/// Sign-in throttling moves from memory into the store (keys are digests, never typed names).
const COMMON_V5: &[&str] = &[
    "CREATE TABLE sign_in_attempts (
        key TEXT PRIMARY KEY,
        failures BIGINT NOT NULL,
        last_failure BIGINT NOT NULL,
        pending BIGINT NOT NULL,
        pending_since BIGINT NOT NULL)",
    "CREATE INDEX sign_in_attempts_by_time ON sign_in_attempts (last_failure)",
];

/// Credentials apart from devices: a device may hold several (web session, API token, an app's
/// access and refresh tokens). Every device's token moves into `credentials`; the device keeps
/// how it came to be (`origin`, formerly `credential`) and, for app devices, its grant.
const CREDENTIALS_TABLE: &str = "CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        grant_id TEXT,
        parent_id TEXT,
        kind TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        last_used BIGINT NOT NULL,
        revoked_at BIGINT,
        revoked_reason TEXT,
        revoked_by TEXT)";
/// Each device's one token becomes its first credential (same id as the device).
const CREDENTIALS_FROM_DEVICES: &str = "INSERT INTO credentials \
    (id, user_id, device_id, grant_id, parent_id, kind, token_hash, scopes, created_at, expires_at, last_used, revoked_at, revoked_reason, revoked_by) \
    SELECT id, user_id, id, NULL, NULL, credential, token_hash, '', first_seen, expires_at, last_seen, revoked_at, revoked_reason, revoked_by FROM devices";
const CREDENTIAL_INDEXES: [&str; 3] = [
    "CREATE INDEX credentials_by_device ON credentials (device_id)",
    "CREATE INDEX credentials_by_grant ON credentials (grant_id)",
    "CREATE INDEX credentials_by_parent ON credentials (parent_id)",
];

/// SQLite cannot drop a UNIQUE column, so the devices table is rebuilt (foreign keys are off
/// while this migration runs; see `run`).
const SQLITE_V6: &[&str] = &[
    CREDENTIALS_TABLE,
    CREDENTIALS_FROM_DEVICES,
    CREDENTIAL_INDEXES[0],
    CREDENTIAL_INDEXES[1],
    CREDENTIAL_INDEXES[2],
    "CREATE TABLE devices_v6 (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        device_type TEXT NOT NULL,
        client TEXT NOT NULL,
        origin TEXT NOT NULL,
        grant_id TEXT,
        ip TEXT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        revoked_reason TEXT,
        revoked_by TEXT)",
    "INSERT INTO devices_v6 (id, user_id, name, device_type, client, origin, grant_id, ip, first_seen, last_seen, expires_at, revoked_at, revoked_reason, revoked_by) \
     SELECT id, user_id, name, device_type, client, credential, NULL, ip, first_seen, last_seen, expires_at, revoked_at, revoked_reason, revoked_by FROM devices",
    "DROP TABLE devices",
    "ALTER TABLE devices_v6 RENAME TO devices",
    "CREATE INDEX devices_by_user ON devices (user_id, revoked_at)",
];

const POSTGRES_V6: &[&str] = &[
    CREDENTIALS_TABLE,
    CREDENTIALS_FROM_DEVICES,
    CREDENTIAL_INDEXES[0],
    CREDENTIAL_INDEXES[1],
    CREDENTIAL_INDEXES[2],
    "ALTER TABLE devices DROP COLUMN token_hash",
    "ALTER TABLE devices RENAME COLUMN credential TO origin",
    "ALTER TABLE devices ADD COLUMN grant_id TEXT",
];

/// Apps (OAuth clients), what users granted them, authorization codes and device codes.
const COMMON_V7: &[&str] = &[
    "CREATE TABLE oauth_apps (
        client_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        secret_hash TEXT,
        created_at BIGINT NOT NULL)",
    "CREATE INDEX oauth_apps_by_owner ON oauth_apps (owner_id)",
    "CREATE TABLE oauth_grants (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        client_id TEXT NOT NULL REFERENCES oauth_apps(client_id) ON DELETE CASCADE,
        scopes TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT,
        revoked_reason TEXT,
        revoked_by TEXT)",
    "CREATE INDEX oauth_grants_by_user ON oauth_grants (user_id, revoked_at)",
    "CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id)",
    "CREATE TABLE oauth_codes (
        code_hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES oauth_apps(client_id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        grant_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        scopes TEXT NOT NULL,
        challenge TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT,
        issued TEXT)",
    "CREATE TABLE oauth_device_codes (
        device_code_hash TEXT PRIMARY KEY,
        user_code TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL REFERENCES oauth_apps(client_id) ON DELETE CASCADE,
        scopes TEXT NOT NULL,
        device_name TEXT NOT NULL,
        device_type TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        interval_secs BIGINT NOT NULL,
        last_poll BIGINT NOT NULL,
        state TEXT NOT NULL,
        user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
        device_id TEXT)",
];

/// Subsonic clients: an app password's sealed copy beside its hash, and the salts of token
/// logins already seen (each accepted once).
const COMMON_V8: &[&str] = &[
    "ALTER TABLE credentials ADD COLUMN sealed TEXT",
    "CREATE TABLE subsonic_salts (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        salt TEXT NOT NULL,
        target TEXT NOT NULL,
        seen_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, salt))",
    "CREATE INDEX subsonic_salts_by_time ON subsonic_salts (seen_at)",
];

/// What each user keeps about the music: stars, ratings and plays of songs, albums and artists
/// (by catalog id, so they outlive rescans), what each device plays now, and the play queue.
const COMMON_V9: &[&str] = &[
    "CREATE TABLE annotations (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        starred_at BIGINT,
        rating BIGINT NOT NULL DEFAULT 0,
        play_count BIGINT NOT NULL DEFAULT 0,
        played_at BIGINT,
        PRIMARY KEY (user_id, item_id))",
    "CREATE TABLE now_playing (
        device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        track_id TEXT NOT NULL,
        since BIGINT NOT NULL)",
    "CREATE INDEX now_playing_by_user ON now_playing (user_id, since)",
    "CREATE TABLE play_queues (
        user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        track_ids TEXT NOT NULL,
        current_id TEXT,
        position_ms BIGINT NOT NULL,
        changed_at BIGINT NOT NULL,
        changed_by TEXT NOT NULL)",
];

/// E-mail addresses, the links mailed to them (password reset, address confirmation), the
/// new-device notice setting, and two-step sign-in: the authenticator key (sealed), its last
/// accepted time step, recovery codes and the challenge between the password and the code;
/// passkeys (WebAuthn credentials, as JSON) and the ceremonies under way.
const COMMON_V10: &[&str] = &[
    "ALTER TABLE users ADD COLUMN email TEXT",
    "ALTER TABLE users ADD COLUMN notify_new_device BIGINT NOT NULL DEFAULT 1",
    "ALTER TABLE users ADD COLUMN totp_sealed TEXT",
    "ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT",
    "ALTER TABLE users ADD COLUMN totp_last_step BIGINT",
    "CREATE UNIQUE INDEX users_by_email ON users (lower(email))",
    "CREATE TABLE email_links (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT)",
    "CREATE INDEX email_links_by_user ON email_links (user_id, purpose)",
    "CREATE TABLE recovery_codes (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL,
        used_at BIGINT,
        PRIMARY KEY (user_id, code_hash))",
    "CREATE TABLE sign_in_challenges (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        device_type TEXT NOT NULL,
        client TEXT NOT NULL,
        ip TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        failures BIGINT NOT NULL DEFAULT 0,
        passed BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE passkeys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        credential_id TEXT NOT NULL UNIQUE,
        passkey TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT)",
    "CREATE INDEX passkeys_by_user ON passkeys (user_id)",
    "CREATE TABLE webauthn_ceremonies (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        expires_at BIGINT NOT NULL)",
    "CREATE INDEX webauthn_ceremonies_by_expiry ON webauthn_ceremonies (expires_at)",
];

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: COMMON_V1,
        postgres: COMMON_V1,
    },
    Migration {
        version: 2,
        sqlite: COMMON_V2,
        postgres: COMMON_V2,
    },
    Migration {
        version: 3,
        sqlite: COMMON_V3,
        postgres: COMMON_V3,
    },
    Migration {
        version: 4,
        sqlite: COMMON_V4,
        postgres: COMMON_V4,
    },
    Migration {
        version: 5,
        sqlite: COMMON_V5,
        postgres: COMMON_V5,
    },
    Migration {
        version: 6,
        sqlite: SQLITE_V6,
        postgres: POSTGRES_V6,
    },
    Migration {
        version: 7,
        sqlite: COMMON_V7,
        postgres: COMMON_V7,
    },
    Migration {
        version: 8,
        sqlite: COMMON_V8,
        postgres: COMMON_V8,
    },
    Migration {
        version: 9,
        sqlite: COMMON_V9,
        postgres: COMMON_V9,
    },
    Migration {
        version: 10,
        sqlite: COMMON_V10,
        postgres: COMMON_V10,
    },
];

/// The schema version this build expects.
pub const SCHEMA_VERSION: i64 = 10;

/// Applies every migration newer than the database's version, up to `target`.
pub(crate) async fn run(pool: &AnyPool, backend: Backend, target: i64) -> StoreResult<()> {
    pool.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .await?;
    if backend == Backend::Postgres {
        // Several nodes may start at once; one migrates, the others wait for it.
        let mut tx = pool.begin().await?;
        tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            .await?;
        apply_pending(&mut tx, backend, target).await?;
        tx.commit().await?;
        return Ok(());
    }
    // SQLite rebuilds tables in some migrations, which must not cascade deletes: foreign keys
    // are off on the one connection that migrates (they cannot change inside a transaction),
    // checked before the commit, and back on before the connection returns to the pool.
    let mut conn = pool.acquire().await?;
    conn.execute("PRAGMA foreign_keys = OFF").await?;
    let migrated = migrate_sqlite(&mut conn, target).await;
    let restored = conn.execute("PRAGMA foreign_keys = ON").await;
    if restored.is_err() {
        conn.detach();
    }
    migrated?;
    restored?;
    Ok(())
}

async fn migrate_sqlite(conn: &mut sqlx::AnyConnection, target: i64) -> StoreResult<()> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    apply_pending(&mut tx, Backend::Sqlite, target).await?;
    let broken: Vec<String> = sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut *tx)
        .await?;
    if let Some(table) = broken.first() {
        return Err(crate::StoreError::Database(sqlx::Error::Protocol(format!(
            "migration left rows in {table} that refer to nothing"
        ))));
    }
    tx.commit().await?;
    Ok(())
}

async fn apply_pending(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    target: i64,
) -> StoreResult<()> {
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let current = current.unwrap_or(0);
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
    {
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
