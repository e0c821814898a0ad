//! What every conformance suite shares: a fresh SQLite file or PostgreSQL database per test, the
//! macro that runs each test on both, and record builders.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use clef_core::{DeviceId, OsRandom, Random, Timestamp, UserId};
use clef_store::*;
use sqlx::Executor;

pub struct Db {
    pub store: SqlStore,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open_sqlite_file(&dir.path().join("t.db"))
        .await
        .unwrap();
    Db {
        store,
        _dir: Some(dir),
    }
}

fn pg_admin_url() -> String {
    std::env::var("CLEF_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn postgres() -> Db {
    let store = SqlStore::connect(&postgres_url().await).await.unwrap();
    Db { store, _dir: None }
}

/// The address of a fresh, empty PostgreSQL database.
pub async fn postgres_url() -> String {
    sqlx::any::install_default_drivers();
    let admin = pg_admin_url();
    let name = format!("clef_test_{}", OsRandom.id());
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .expect("PostgreSQL must be running for the conformance suite (see README)");
    pool.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    match admin.rfind('/') {
        Some(i) => format!("{}/{name}", &admin[..i]),
        None => panic!("CLEF_TEST_POSTGRES_URL needs a database path"),
    }
}

#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(super::sqlite().await.store).await } )* }
        mod on_postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)] async fn $name() { super::$name(super::postgres().await.store).await } )* }
    };
}

pub const T0: Timestamp = Timestamp(1_700_000_000_000);

pub fn user(name: &str) -> User {
    User {
        id: UserId(OsRandom.id()),
        username: name.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        is_admin: false,
        disabled: false,
        max_devices: 6,
        max_streams: 6,
        created_at: T0,
        must_change_password: false,
        email: None,
        notify_new_device: true,
        totp_enabled_at: None,
    }
}

pub fn device(u: &User, name: &str, now: Timestamp) -> (NewDevice, clef_core::SecretToken) {
    let d = NewDevice {
        id: DeviceId(OsRandom.id()),
        user_id: u.id.clone(),
        name: name.into(),
        device_type: "phone".into(),
        client: "test".into(),
        origin: DeviceOrigin::ApiToken,
        grant_id: None,
        ip: "127.0.0.1".into(),
        now,
        expires_at: now.plus_secs(30 * 86_400),
    };
    let token = token_of(&d);
    (d, token)
}

/// The token of a test device's first credential (its random id makes it unguessable).
pub fn token_of(d: &NewDevice) -> clef_core::SecretToken {
    clef_core::SecretToken::from_presented(&format!("token-{}", d.id))
}

/// A test device's first credential: an API token.
pub fn cred(d: &NewDevice) -> NewCredential {
    NewCredential {
        id: format!("c{}", d.id),
        user_id: d.user_id.clone(),
        device_id: d.id.clone(),
        grant_id: None,
        parent_id: None,
        kind: CredentialKind::ApiToken,
        token_hash: token_of(d).hash(),
        scopes: clef_core::ScopeSet::EMPTY,
        now: d.now,
        expires_at: d.expires_at,
        sealed: None,
    }
}

pub fn live(now: Timestamp) -> Liveness {
    Liveness {
        now,
        idle_cutoff: now.minus_secs(30 * 86_400),
    }
}
