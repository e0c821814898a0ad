//! Sealed app passwords and token-login salts, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_core::{OsRandom, Random, ScopeSet};
use clef_store::*;
use common::*;

conformance!(
    only_live_app_passwords_are_handed_out_sealed,
    a_salt_is_accepted_once_or_again_for_the_same_target,
    twenty_nodes_racing_with_one_salt_admit_one,
    many_logins_at_once_each_get_their_own_answer,
);

/// An app-password device of `u` whose credential holds `sealed`.
async fn app_password_device(s: &SqlStore, u: &User, name: &str, sealed: &str) -> NewCredential {
    let (mut d, _) = device(u, name, T0);
    d.origin = DeviceOrigin::AppPassword;
    let mut c = cred(&d);
    c.kind = CredentialKind::AppPassword;
    c.scopes = ScopeSet::parse("library:read stream").unwrap();
    c.sealed = Some(sealed.to_owned());
    c.token_hash = OsRandom.token().hash();
    assert_eq!(
        s.admit_device(&d, &c, 6, live(T0), None).await.unwrap(),
        Admission::Admitted
    );
    c
}

async fn only_live_app_passwords_are_handed_out_sealed(s: SqlStore) {
    let anna = user("anna");
    let bob = user("bob");
    s.create_user(&anna).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let phone = app_password_device(&s, &anna, "phone", "v1:phone").await;
    let tablet = app_password_device(&s, &anna, "tablet", "v1:tablet").await;
    app_password_device(&s, &bob, "bob's phone", "v1:bob").await;
    // A sign-in's token on another device is never handed out.
    let (laptop, _) = device(&anna, "laptop", T0);
    s.admit_device(&laptop, &cred(&laptop), 6, live(T0), None)
        .await
        .unwrap();
    let mut got: Vec<String> = s
        .sealed_app_passwords("anna", T0)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.sealed)
        .collect();
    got.sort();
    assert_eq!(got, vec!["v1:phone", "v1:tablet"]);
    // Signed out, the tablet's is gone; so are all once they expire.
    s.revoke(
        RevokeScope::Device {
            user: &anna.id,
            device: &tablet.device_id,
        },
        SignOutReason::SignedOutByUser,
        None,
        T0,
    )
    .await
    .unwrap();
    let left = s.sealed_app_passwords("anna", T0).await.unwrap();
    let view: Vec<_> = left
        .iter()
        .map(|x| {
            (
                x.presented.credential.id.as_str(),
                x.presented.device.name.as_str(),
                x.presented.user.username.as_str(),
                x.sealed.as_str(),
            )
        })
        .collect();
    assert_eq!(view, vec![(phone.id.as_str(), "phone", "anna", "v1:phone")]);
    assert!(s
        .sealed_app_passwords("anna", phone.expires_at)
        .await
        .unwrap()
        .is_empty());
    // The app's name, as it says it, is shown for its device.
    s.set_device_client(&phone.device_id, "Symfonium")
        .await
        .unwrap();
    let d = s.device_by_id(&phone.device_id).await.unwrap().unwrap();
    assert_eq!(
        (d.client.as_str(), d.origin),
        ("Symfonium", DeviceOrigin::AppPassword)
    );
}

async fn a_salt_is_accepted_once_or_again_for_the_same_target(s: SqlStore) {
    let anna = user("anna");
    let bob = user("bob");
    s.create_user(&anna).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let use_salt = |u: &User, salt: &'static str, target: &'static str, at| {
        let (s, id) = (s.clone(), u.id.clone());
        async move { s.use_salt(&id, salt, target, at).await.unwrap() }
    };
    assert_eq!(
        use_salt(&anna, "c19b2d", "stream t1", T0).await,
        SaltUse::Fresh
    );
    assert_eq!(
        use_salt(&anna, "c19b2d", "stream t1", T0.plus_secs(5)).await,
        SaltUse::SameTarget,
        "another range of the same stream"
    );
    assert_eq!(
        use_salt(&anna, "c19b2d", "getUser", T0.plus_secs(6)).await,
        SaltUse::Replayed
    );
    assert_eq!(
        use_salt(&bob, "c19b2d", "getUser", T0).await,
        SaltUse::Fresh,
        "salts are per user"
    );
    // Forgotten after the window, and only those older than the cutoff.
    assert_eq!(
        use_salt(&anna, "later", "ping", T0.plus_secs(100)).await,
        SaltUse::Fresh
    );
    assert_eq!(s.forget_salts(T0.plus_secs(50)).await.unwrap(), 2);
    assert_eq!(
        use_salt(&anna, "c19b2d", "getUser", T0.plus_secs(200)).await,
        SaltUse::Fresh
    );
    assert_eq!(
        use_salt(&anna, "later", "getUser", T0.plus_secs(200)).await,
        SaltUse::Replayed
    );
}

/// Twenty requests carrying one salt at once, each for another target (as a thief replaying a
/// captured pair would send them to several nodes): exactly one is fresh, the rest replays.
async fn twenty_nodes_racing_with_one_salt_admit_one(s: SqlStore) {
    let anna = user("anna");
    s.create_user(&anna).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks = (0..20).map(|i| {
        let (s, id, barrier) = (s.clone(), anna.id.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            s.use_salt(&id, "one-salt", &format!("getSong {i}"), T0)
                .await
                .unwrap()
        })
    });
    let uses: Vec<SaltUse> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let fresh = uses.iter().filter(|u| **u == SaltUse::Fresh).count();
    let replayed = uses.iter().filter(|u| **u == SaltUse::Replayed).count();
    assert_eq!((fresh, replayed), (1, 19), "{uses:?}");
}

/// A database of the previous release (schema 7): its devices and credentials carry over, still
/// sign in, and hold nothing sealed; salts start empty.
async fn upgrade_from_schema_7(url: &str) {
    let old = SqlStore::connect_at(url, 7).await.unwrap();
    let token = OsRandom.token();
    for sql in [
        "INSERT INTO users (id, username, password_hash, is_admin, disabled, max_devices, max_streams, created_at) \
         VALUES ('u1', 'anna', 'h', 0, 0, 3, 2, 1700000000000)".to_owned(),
        "INSERT INTO devices (id, user_id, name, device_type, client, origin, ip, first_seen, last_seen, expires_at) \
         VALUES ('d1', 'u1', 'Anna''s phone', 'phone', 'Clef', 'web_session', '10.0.0.7', 1700000000000, 1700000500000, 1900000000000)".to_owned(),
        format!("INSERT INTO credentials (id, user_id, device_id, kind, token_hash, scopes, created_at, expires_at, last_used) \
         VALUES ('c1', 'u1', 'd1', 'web_session', '{}', '', 1700000000000, 1900000000000, 1700000500000)", token.hash().0),
        "INSERT INTO playlists (id, user_id, name, created_at, updated_at) VALUES ('p1', 'u1', 'Car', 1700000000000, 1700000000000)".to_owned(),
    ] {
        old.raw_execute(&sql).await.unwrap();
    }
    drop(old);
    let s = SqlStore::connect(url).await.unwrap();
    let p = s.credential_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(
        (
            p.device.name.as_str(),
            p.credential.kind,
            p.user.username.as_str()
        ),
        ("Anna's phone", CredentialKind::WebSession, "anna")
    );
    assert_eq!(
        s.raw_strings("SELECT id FROM credentials WHERE sealed IS NULL")
            .await
            .unwrap(),
        vec!["c1"]
    );
    assert_eq!(
        s.raw_strings("SELECT name FROM playlists").await.unwrap(),
        vec!["Car"]
    );
    assert_eq!(
        s.use_salt(&p.user.id, "first", "ping", T0).await.unwrap(),
        SaltUse::Fresh
    );
}

#[tokio::test]
async fn a_schema_7_database_upgrades_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_from_schema_7(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.db").display()
    ))
    .await;
}

#[tokio::test]
async fn a_schema_7_database_upgrades_on_postgres() {
    upgrade_from_schema_7(&postgres_url().await).await;
}

/// Two hundred token logins at once (written together in batches): each of a hundred salts is
/// presented twice for different targets, and exactly one of each pair is fresh.
async fn many_logins_at_once_each_get_their_own_answer(s: SqlStore) {
    let anna = user("anna");
    s.create_user(&anna).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks = (0..200).map(|i| {
        let (s, id, barrier) = (s.clone(), anna.id.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            let salt = format!("salt-{}", i % 100);
            let used = s.use_salt(&id, &salt, &format!("getSong {i}"), T0).await;
            (salt, used.unwrap())
        })
    });
    let mut fresh = std::collections::BTreeMap::<String, usize>::new();
    for t in futures::future::join_all(tasks).await {
        let (salt, used) = t.unwrap();
        assert_ne!(used, SaltUse::SameTarget, "no two asks share a target");
        *fresh.entry(salt).or_default() += usize::from(used == SaltUse::Fresh);
    }
    assert_eq!(fresh.len(), 100);
    assert!(fresh.values().all(|n| *n == 1), "{fresh:?}");
}
