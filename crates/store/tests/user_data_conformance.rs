//! Stars, ratings, plays, now playing and play queues, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_store::*;
use common::*;

conformance!(
    stars_and_ratings_are_kept_per_user,
    concurrent_plays_all_count_and_last_played_never_goes_back,
    now_playing_shows_live_devices_only,
    a_play_queue_is_replaced_whole,
    deleting_a_user_deletes_what_they_kept,
);

fn song(id: &str) -> ItemRef<'_> {
    ItemRef {
        id,
        kind: ItemKind::Song,
    }
}

fn album(id: &str) -> ItemRef<'_> {
    ItemRef {
        id,
        kind: ItemKind::Album,
    }
}

async fn two_users(s: &SqlStore) -> (User, User) {
    let anna = user("anna");
    let bob = user("bob");
    s.create_user(&anna).await.unwrap();
    s.create_user(&bob).await.unwrap();
    (anna, bob)
}

async fn stars_and_ratings_are_kept_per_user(s: SqlStore) {
    let (anna, bob) = two_users(&s).await;
    s.set_starred(&anna.id, &[song("s1"), album("a1")], Some(T0))
        .await
        .unwrap();
    s.set_rating(&anna.id, song("s1"), 4).await.unwrap();
    s.set_rating(&anna.id, album("a2"), 5).await.unwrap();
    s.set_starred(&bob.id, &[song("s2")], Some(T0))
        .await
        .unwrap();
    let got = s.annotations(&anna.id).await.unwrap();
    let view: Vec<_> = got
        .iter()
        .map(|a| (a.item_id.as_str(), a.kind, a.starred_at, a.rating))
        .collect();
    assert_eq!(
        view,
        vec![
            ("a1", ItemKind::Album, Some(T0), 0),
            ("a2", ItemKind::Album, None, 5),
            ("s1", ItemKind::Song, Some(T0), 4),
        ]
    );
    // Unstarring keeps the rating; starring again moves the time.
    s.set_starred(&anna.id, &[song("s1")], None).await.unwrap();
    s.set_starred(&anna.id, &[album("a1")], Some(T0.plus_secs(9)))
        .await
        .unwrap();
    s.set_rating(&anna.id, album("a2"), 0).await.unwrap();
    let got = s.annotations(&anna.id).await.unwrap();
    let view: Vec<_> = got
        .iter()
        .map(|a| (a.item_id.as_str(), a.starred_at, a.rating))
        .collect();
    assert_eq!(
        view,
        vec![
            ("a1", Some(T0.plus_secs(9)), 0),
            ("a2", None, 0),
            ("s1", None, 4)
        ]
    );
    assert_eq!(s.annotations(&bob.id).await.unwrap().len(), 1);
    // A kind this build does not know is refused, not guessed at.
    s.raw_execute(
        "INSERT INTO annotations (user_id, item_id, kind) \
         SELECT id, 'x', 'podcast' FROM users WHERE username = 'bob'",
    )
    .await
    .unwrap();
    assert!(matches!(
        s.annotations(&bob.id).await,
        Err(StoreError::UnknownValue { .. })
    ));
}

async fn concurrent_plays_all_count_and_last_played_never_goes_back(s: SqlStore) {
    let (anna, _) = two_users(&s).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks = (0..20i64).map(|i| {
        let (s, id, barrier) = (s.clone(), anna.id.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            s.record_plays(&id, &[song("s1"), album("a1")], T0.plus_secs(i))
                .await
                .unwrap();
        })
    });
    for t in futures::future::join_all(tasks).await {
        t.unwrap();
    }
    // An older play (a phone scrobbling what it played offline) counts but is not "last".
    s.record_plays(&anna.id, &[song("s1")], T0).await.unwrap();
    let got = s.annotations(&anna.id).await.unwrap();
    let view: Vec<_> = got
        .iter()
        .map(|a| (a.item_id.as_str(), a.play_count, a.played_at))
        .collect();
    assert_eq!(
        view,
        vec![
            ("a1", 20, Some(T0.plus_secs(19))),
            ("s1", 21, Some(T0.plus_secs(19)))
        ]
    );
}

async fn now_playing_shows_live_devices_only(s: SqlStore) {
    let (anna, bob) = two_users(&s).await;
    let (phone, _) = device(&anna, "phone", T0);
    let (laptop, _) = device(&anna, "laptop", T0);
    let (bobs, _) = device(&bob, "bob's phone", T0);
    for d in [&phone, &laptop, &bobs] {
        s.admit_device(d, &cred(d), 6, live(T0), None)
            .await
            .unwrap();
    }
    s.set_now_playing(&anna.id, &phone.id, "s1", T0)
        .await
        .unwrap();
    s.set_now_playing(&anna.id, &phone.id, "s2", T0.plus_secs(200))
        .await
        .unwrap();
    s.set_now_playing(&anna.id, &laptop.id, "s3", T0.plus_secs(100))
        .await
        .unwrap();
    s.set_now_playing(&bob.id, &bobs.id, "s9", T0.plus_secs(300))
        .await
        .unwrap();
    let got = s.now_playing(&anna.id, T0).await.unwrap();
    let view: Vec<_> = got
        .iter()
        .map(|n| (n.device_name.as_str(), n.track_id.as_str(), n.since))
        .collect();
    assert_eq!(
        view,
        vec![
            ("phone", "s2", T0.plus_secs(200)),
            ("laptop", "s3", T0.plus_secs(100))
        ]
    );
    // Older than the window, or signed out: gone.
    assert_eq!(
        s.now_playing(&anna.id, T0.plus_secs(150))
            .await
            .unwrap()
            .len(),
        1
    );
    s.revoke(
        RevokeScope::Device {
            user: &anna.id,
            device: &phone.id,
        },
        SignOutReason::SignedOutByUser,
        None,
        T0,
    )
    .await
    .unwrap();
    let left: Vec<_> = s
        .now_playing(&anna.id, T0)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.device_name)
        .collect();
    assert_eq!(left, vec!["laptop"]);
}

async fn a_play_queue_is_replaced_whole(s: SqlStore) {
    let (anna, bob) = two_users(&s).await;
    assert_eq!(s.play_queue(&anna.id).await.unwrap(), None);
    let q = PlayQueue {
        track_ids: vec!["s1".into(), "s2".into(), "s1".into()],
        current: Some("s2".into()),
        position_ms: 61_500,
        changed_at: T0,
        changed_by: "Symfonium".into(),
    };
    s.save_play_queue(&anna.id, &q).await.unwrap();
    assert_eq!(s.play_queue(&anna.id).await.unwrap(), Some(q.clone()));
    assert_eq!(s.play_queue(&bob.id).await.unwrap(), None);
    let q2 = PlayQueue {
        track_ids: vec!["s3".into()],
        current: None,
        position_ms: 0,
        changed_at: T0.plus_secs(5),
        changed_by: "Feishin".into(),
    };
    s.save_play_queue(&anna.id, &q2).await.unwrap();
    assert_eq!(s.play_queue(&anna.id).await.unwrap(), Some(q2));
    let empty = PlayQueue {
        track_ids: vec![],
        ..q
    };
    s.save_play_queue(&anna.id, &empty).await.unwrap();
    assert_eq!(s.play_queue(&anna.id).await.unwrap(), None);
}

async fn deleting_a_user_deletes_what_they_kept(s: SqlStore) {
    let (anna, bob) = two_users(&s).await;
    let (phone, _) = device(&anna, "phone", T0);
    s.admit_device(&phone, &cred(&phone), 6, live(T0), None)
        .await
        .unwrap();
    s.set_starred(&anna.id, &[song("s1")], Some(T0))
        .await
        .unwrap();
    s.set_now_playing(&anna.id, &phone.id, "s1", T0)
        .await
        .unwrap();
    let q = PlayQueue {
        track_ids: vec!["s1".into()],
        current: None,
        position_ms: 0,
        changed_at: T0,
        changed_by: "x".into(),
    };
    s.save_play_queue(&anna.id, &q).await.unwrap();
    s.set_starred(&bob.id, &[song("s1")], Some(T0))
        .await
        .unwrap();
    s.change_user_guarded(&anna.id, GuardedChange::Delete)
        .await
        .unwrap();
    for table in ["annotations", "now_playing", "play_queues"] {
        let left = s
            .raw_strings(&format!("SELECT user_id FROM {table}"))
            .await
            .unwrap();
        assert!(
            left.iter().all(|u| u == bob.id.as_str()),
            "{table}: {left:?}"
        );
    }
    assert_eq!(s.annotations(&bob.id).await.unwrap().len(), 1);
}

/// A database of the previous release (schema 8): its users, app-password devices and playlists
/// carry over, and nothing is starred, played or queued yet.
async fn upgrade_from_schema_8(url: &str) {
    let old = SqlStore::connect_at(url, 8).await.unwrap();
    for sql in [
        "INSERT INTO users (id, username, password_hash, is_admin, disabled, max_devices, max_streams, created_at) \
         VALUES ('u1', 'anna', 'h', 0, 0, 3, 2, 1700000000000)",
        "INSERT INTO devices (id, user_id, name, device_type, client, origin, ip, first_seen, last_seen, expires_at) \
         VALUES ('d1', 'u1', 'Anna''s phone', 'phone', 'DSub', 'app_password', '10.0.0.7', 1700000000000, 1700000500000, 1900000000000)",
        "INSERT INTO credentials (id, user_id, device_id, kind, token_hash, scopes, created_at, expires_at, last_used, sealed) \
         VALUES ('c1', 'u1', 'd1', 'app_password', 'h1', 'library:read stream', 1700000000000, 1900000000000, 1700000500000, 'v1:x')",
        "INSERT INTO playlists (id, user_id, name, created_at, updated_at) VALUES ('p1', 'u1', 'Car', 1700000000000, 1700000000000)",
    ] {
        old.raw_execute(sql).await.unwrap();
    }
    drop(old);
    let s = SqlStore::connect(url).await.unwrap();
    let anna = s.user_by_name("anna").await.unwrap().unwrap();
    let sealed = s.sealed_app_passwords("anna", T0).await.unwrap();
    assert_eq!(sealed.len(), 1);
    assert_eq!(
        s.raw_strings("SELECT name FROM playlists").await.unwrap(),
        vec!["Car"]
    );
    assert!(s.annotations(&anna.id).await.unwrap().is_empty());
    assert_eq!(s.play_queue(&anna.id).await.unwrap(), None);
    let phone = clef_core::DeviceId("d1".into());
    s.set_now_playing(&anna.id, &phone, "s1", T0).await.unwrap();
    s.record_plays(&anna.id, &[song("s1")], T0).await.unwrap();
    assert_eq!(s.annotations(&anna.id).await.unwrap()[0].play_count, 1);
    assert_eq!(s.now_playing(&anna.id, T0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_schema_8_database_upgrades_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_from_schema_8(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.db").display()
    ))
    .await;
}

#[tokio::test]
async fn a_schema_8_database_upgrades_on_postgres() {
    upgrade_from_schema_8(&postgres_url().await).await;
}
