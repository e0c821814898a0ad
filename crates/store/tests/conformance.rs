//! The store conformance suite: every test runs against SQLite and against PostgreSQL, so both
//! implementations keep one contract. PostgreSQL is reached at `CLEF_TEST_POSTGRES_URL`
//! (default: the local server on 127.0.0.1:5432); each test gets a fresh database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_core::{DeviceId, OsRandom, Random, UserId};
use clef_store::*;
use common::*;

conformance!(
    users_roundtrip_and_unique_names,
    migrations_are_idempotent,
    device_limit_holds_under_concurrency,
    replace_frees_exactly_one_slot,
    expired_and_idle_devices_hold_no_slot,
    revocation_scopes,
    events_newest_first_per_user,
    pending_sign_in_is_single_use,
    token_lookup_and_no_raw_tokens,
    admins_are_never_all_removed,
    admins_demoting_each_other_at_once_leave_one,
    deleting_a_user_takes_their_rows_and_no_one_elses,
    the_password_change_flag_round_trips,
    attempt_counts_change_one_call_at_a_time,
);
async fn users_roundtrip_and_unique_names(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    assert_eq!(s.user_by_name("anna").await.unwrap(), Some(u.clone()));
    assert_eq!(s.user_by_id(&u.id).await.unwrap(), Some(u.clone()));
    assert!(matches!(
        s.create_user(&User {
            id: UserId(OsRandom.id()),
            ..u.clone()
        })
        .await,
        Err(StoreError::Conflict("username"))
    ));
    s.set_limits(&u.id, Some(2), None).await.unwrap();
    s.set_disabled(&u.id, true).await.unwrap();
    let back = s.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (back.max_devices, back.max_streams, back.disabled),
        (2, 6, true)
    );
    assert_eq!(s.count_admins().await.unwrap(), 0);
    assert_eq!(s.list_users().await.unwrap().len(), 1);
}

async fn migrations_are_idempotent(s: SqlStore) {
    // Opening again must find the schema current and change nothing.
    let n: Vec<String> = s
        .raw_strings("SELECT CAST(version AS TEXT) FROM schema_migrations")
        .await
        .unwrap();
    assert_eq!(n, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    assert!(s.integrity_ok().await.unwrap());
}

async fn device_limit_holds_under_concurrency(s: SqlStore) {
    let s = Arc::new(s);
    for round in 0..20 {
        let u = user(&format!("round{round}"));
        s.create_user(&u).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let tasks = (0..50).map(|i| {
            let (s, u, barrier) = (s.clone(), u.clone(), barrier.clone());
            tokio::spawn(async move {
                let (d, _) = device(&u, &format!("d{i}"), T0);
                barrier.wait().await;
                s.admit_device(&d, &cred(&d), 6, live(T0), None)
                    .await
                    .unwrap()
            })
        });
        let results = futures::future::join_all(tasks).await;
        let admitted = results
            .iter()
            .filter(|r| matches!(r.as_ref().unwrap(), Admission::Admitted))
            .count();
        assert_eq!(admitted, 6, "round {round}");
        for r in &results {
            if let Admission::LimitReached(holders) = r.as_ref().unwrap() {
                assert!(
                    holders.len() == 6,
                    "a refusal names the 6 holders, got {}",
                    holders.len()
                );
            }
        }
        assert_eq!(s.live_devices(&u.id, live(T0)).await.unwrap().len(), 6);
    }
}

async fn replace_frees_exactly_one_slot(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let mut ids = vec![];
    for i in 0..2 {
        let (d, _) = device(&u, &format!("d{i}"), T0);
        assert_eq!(
            s.admit_device(&d, &cred(&d), 2, live(T0), None)
                .await
                .unwrap(),
            Admission::Admitted
        );
        ids.push(d.id);
    }
    let (third, _) = device(&u, "third", T0);
    assert!(
        matches!(s.admit_device(&third, &cred(&third), 2, live(T0), None).await.unwrap(), Admission::LimitReached(v) if v.len() == 2)
    );
    let unknown = Replace {
        device_id: DeviceId(OsRandom.id()),
        reason: SignOutReason::Replaced,
    };
    assert_eq!(
        s.admit_device(&third, &cred(&third), 2, live(T0), Some(&unknown))
            .await
            .unwrap(),
        Admission::ReplaceNotFound
    );
    let r = Replace {
        device_id: ids[0].clone(),
        reason: SignOutReason::Replaced,
    };
    assert_eq!(
        s.admit_device(&third, &cred(&third), 2, live(T0), Some(&r))
            .await
            .unwrap(),
        Admission::Admitted
    );
    let gone = s.device_by_id(&ids[0]).await.unwrap().unwrap();
    assert_eq!(gone.revoked.unwrap().reason, SignOutReason::Replaced);
    let names: Vec<String> = s
        .live_devices(&u.id, live(T0))
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"third".to_string()) && names.contains(&"d1".to_string()));
}

async fn expired_and_idle_devices_hold_no_slot(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let (a, _) = device(&u, "old", T0);
    s.admit_device(&a, &cred(&a), 1, live(T0), None)
        .await
        .unwrap();
    let (b, _) = device(&u, "new", T0);
    assert!(matches!(
        s.admit_device(&b, &cred(&b), 1, live(T0), None)
            .await
            .unwrap(),
        Admission::LimitReached(_)
    ));
    // Thirty days and a second later the old device is idle and no longer holds its slot.
    let later = T0.plus_secs(30 * 86_400 + 1);
    let (c, _) = device(&u, "new", later);
    assert_eq!(
        s.admit_device(&c, &cred(&c), 1, live(later), None)
            .await
            .unwrap(),
        Admission::Admitted
    );
    // Use moves last-seen forward; it never moves back.
    let cid = cred(&c).id;
    s.touch(&cid, &c.id, later.plus_secs(10), "10.0.0.1")
        .await
        .unwrap();
    s.touch(&cid, &c.id, later, "10.0.0.1").await.unwrap();
    let d = s.device_by_id(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (d.last_seen, d.ip.as_str()),
        (later.plus_secs(10), "10.0.0.1")
    );
    let found = s
        .credential_by_token(&token_of(&c).hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.credential.last_used, later.plus_secs(10));
}

async fn revocation_scopes(s: SqlStore) {
    let (u, other) = (user("anna"), user("bob"));
    s.create_user(&u).await.unwrap();
    s.create_user(&other).await.unwrap();
    let mut mine = vec![];
    for i in 0..4 {
        let (d, _) = device(&u, &format!("d{i}"), T0);
        s.admit_device(&d, &cred(&d), 6, live(T0), None)
            .await
            .unwrap();
        mine.push(d.id);
    }
    let (theirs, _) = device(&other, "bob's", T0);
    s.admit_device(&theirs, &cred(&theirs), 6, live(T0), None)
        .await
        .unwrap();
    let why = SignOutReason::SignedOutByUser;
    // Another user's device cannot be revoked through this user.
    let none = s
        .revoke(
            RevokeScope::Device {
                user: &u.id,
                device: &theirs.id,
            },
            why,
            None,
            T0,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    let one = s
        .revoke(
            RevokeScope::Device {
                user: &u.id,
                device: &mine[0],
            },
            why,
            Some(&mine[1]),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(one.devices, vec![mine[0].clone()]);
    assert_eq!(
        one.credentials,
        vec![format!("c{}", mine[0])],
        "its credential with it"
    );
    let again = s
        .revoke(
            RevokeScope::Device {
                user: &u.id,
                device: &mine[0],
            },
            why,
            None,
            T0,
        )
        .await
        .unwrap();
    assert!(again.is_empty(), "already revoked");
    let out = s
        .revoke(
            RevokeScope::Everywhere {
                user: &u.id,
                keep: Some(&mine[1]),
                apps: false,
            },
            SignOutReason::SignedOutEverywhere,
            Some(&mine[1]),
            T0,
        )
        .await
        .unwrap();
    assert_eq!((out.devices.len(), out.credentials.len()), (2, 2));
    let live_now: Vec<DeviceId> = s
        .live_devices(&u.id, live(T0))
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(live_now, vec![mine[1].clone()]);
    assert_eq!(
        s.live_devices(&other.id, live(T0)).await.unwrap().len(),
        1,
        "other users untouched"
    );
    let first = s
        .device_by_id(&mine[0])
        .await
        .unwrap()
        .unwrap()
        .revoked
        .unwrap();
    assert_eq!(
        (first.reason, first.by_device),
        (SignOutReason::SignedOutByUser, Some(mine[1].clone()))
    );
    assert!(s.known_device(&u.id, "d0", "phone", "test").await.unwrap());
    assert!(!s.known_device(&u.id, "d9", "phone", "test").await.unwrap());
}

async fn events_newest_first_per_user(s: SqlStore) {
    let (u, other) = (user("anna"), user("bob"));
    s.create_user(&u).await.unwrap();
    s.create_user(&other).await.unwrap();
    for (i, who) in [&u, &other, &u].into_iter().enumerate() {
        let e = SecurityEvent {
            id: OsRandom.id(),
            user_id: who.id.clone(),
            at: T0.plus_secs(i as i64),
            kind: format!("k{i}"),
            device_id: None,
            device_name: Some("Анна ☕".into()),
            ip: None,
            detail: None,
        };
        s.add_event(&e).await.unwrap();
    }
    let mine: Vec<String> = s
        .events(Some(&u.id), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(mine, vec!["k2", "k0"]);
    assert_eq!(s.events(None, 10).await.unwrap().len(), 3);
    assert_eq!(
        s.events(None, 1).await.unwrap()[0].device_name.as_deref(),
        Some("Анна ☕")
    );
}

async fn pending_sign_in_is_single_use(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let ticket = OsRandom.token();
    let p = PendingSignIn {
        token_hash: ticket.hash(),
        user_id: u.id.clone(),
        name: "web".into(),
        device_type: "web".into(),
        client: "Chromium".into(),
        ip: "127.0.0.1".into(),
        expires_at: T0.plus_secs(600),
    };
    s.put_pending(&p).await.unwrap();
    assert!(s.take_pending(&ticket.hash(), T0).await.unwrap().is_some());
    assert!(
        s.take_pending(&ticket.hash(), T0).await.unwrap().is_none(),
        "single use"
    );
    let late = OsRandom.token();
    s.put_pending(&PendingSignIn {
        token_hash: late.hash(),
        ..p
    })
    .await
    .unwrap();
    assert!(
        s.take_pending(&late.hash(), T0.plus_secs(601))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
}

async fn token_lookup_and_no_raw_tokens(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let (d, token) = device(&u, "phone", T0);
    s.admit_device(&d, &cred(&d), 6, live(T0), None)
        .await
        .unwrap();
    let found = s.credential_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(
        (found.device.id, found.user.id, found.credential.kind),
        (d.id.clone(), u.id.clone(), CredentialKind::ApiToken)
    );
    assert!(s
        .credential_by_token(&OsRandom.token().hash())
        .await
        .unwrap()
        .is_none());
    let stored = s
        .raw_strings("SELECT token_hash FROM credentials")
        .await
        .unwrap();
    assert_eq!(stored, vec![token.hash().0.clone()]);
    assert!(!stored.iter().any(|h| h.contains(token.expose())));
}

fn admin(name: &str) -> User {
    User {
        is_admin: true,
        ..user(name)
    }
}

async fn admins_are_never_all_removed(s: SqlStore) {
    let (a, b, c) = (admin("a"), admin("b"), user("c"));
    for u in [&a, &b, &c] {
        s.create_user(u).await.unwrap();
    }
    use GuardedChange::*;
    assert_eq!(
        s.change_user_guarded(&b.id, SetAdmin(false)).await.unwrap(),
        GuardOutcome::Done
    );
    for change in [SetAdmin(false), SetDisabled(true), Delete] {
        assert_eq!(
            s.change_user_guarded(&a.id, change).await.unwrap(),
            GuardOutcome::LastAdmin,
            "{change:?} of the last admin"
        );
    }
    assert_eq!(s.count_admins().await.unwrap(), 1);
    // Changes that keep an admin go through: a listener made admin, then the other demoted.
    assert_eq!(
        s.change_user_guarded(&c.id, SetAdmin(true)).await.unwrap(),
        GuardOutcome::Done
    );
    assert_eq!(
        s.change_user_guarded(&a.id, SetDisabled(true))
            .await
            .unwrap(),
        GuardOutcome::Done
    );
    // A disabled admin does not count: c is the last enabled one.
    assert_eq!(
        s.change_user_guarded(&c.id, Delete).await.unwrap(),
        GuardOutcome::LastAdmin
    );
    assert_eq!(
        s.change_user_guarded(&a.id, Delete).await.unwrap(),
        GuardOutcome::Done
    );
    assert_eq!(s.user_by_id(&a.id).await.unwrap(), None);
    assert_eq!(
        s.change_user_guarded(&a.id, SetAdmin(true)).await.unwrap(),
        GuardOutcome::NotFound
    );
}

async fn admins_demoting_each_other_at_once_leave_one(s: SqlStore) {
    let s = Arc::new(s);
    for round in 0..10 {
        let admins: Vec<User> = (0..3).map(|i| admin(&format!("r{round}a{i}"))).collect();
        for a in &admins {
            s.create_user(a).await.unwrap();
        }
        // Everyone else's admins are gone, so these three are all there are.
        let barrier = Arc::new(tokio::sync::Barrier::new(admins.len()));
        let tasks = admins.iter().enumerate().map(|(i, a)| {
            let (s, id, barrier) = (s.clone(), a.id.clone(), barrier.clone());
            let change = [
                GuardedChange::SetAdmin(false),
                GuardedChange::Delete,
                GuardedChange::SetDisabled(true),
            ][i];
            tokio::spawn(async move {
                barrier.wait().await;
                s.change_user_guarded(&id, change).await.unwrap()
            })
        });
        let outcomes: Vec<GuardOutcome> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let done = outcomes
            .iter()
            .filter(|o| **o == GuardOutcome::Done)
            .count();
        assert_eq!(done, 2, "round {round}: {outcomes:?}");
        assert_eq!(s.count_admins().await.unwrap(), 1, "round {round}");
        // The survivor steps down for the next round by handing over to nobody: remove it
        // outside the guard's reach by making a fresh admin first.
        let next = admin(&format!("r{round}next"));
        s.create_user(&next).await.unwrap();
        for a in &admins {
            let _ = s.change_user_guarded(&a.id, GuardedChange::Delete).await;
        }
        assert_eq!(
            s.change_user_guarded(&next.id, GuardedChange::Delete)
                .await
                .unwrap(),
            GuardOutcome::LastAdmin
        );
        s.raw_execute(&format!(
            "DELETE FROM users WHERE id = '{}'",
            next.id.as_str()
        ))
        .await
        .unwrap();
    }
}

async fn deleting_a_user_takes_their_rows_and_no_one_elses(s: SqlStore) {
    let (gone, kept) = (user("gone"), user("kept"));
    for u in [&gone, &kept] {
        s.create_user(u).await.unwrap();
        let (d, token) = device(u, "phone", T0);
        s.admit_device(&d, &cred(&d), 6, live(T0), None)
            .await
            .unwrap();
        s.add_event(&SecurityEvent {
            id: OsRandom.id(),
            user_id: u.id.clone(),
            at: T0,
            kind: "signed_in".into(),
            device_id: Some(d.id.clone()),
            device_name: Some("phone".into()),
            ip: None,
            detail: None,
        })
        .await
        .unwrap();
        s.create_playlist(&Playlist {
            id: OsRandom.id(),
            user_id: u.id.clone(),
            name: "Road trip".into(),
            created_at: T0,
            updated_at: T0,
            tracks: vec![],
            track_count: 0,
        })
        .await
        .unwrap();
        s.create_export(
            &ExportJob {
                id: OsRandom.id(),
                user_id: u.id.clone(),
                title: "Road trip".into(),
                settings: "{}".into(),
                out_dir: "/srv/usb/Car".into(),
                pattern: "{title}".into(),
                state: ExportState::Done,
                created_at: T0,
                finished_at: Some(T0),
                error: None,
            },
            &[],
        )
        .await
        .unwrap();
        let _ = token;
    }
    assert_eq!(
        s.change_user_guarded(&gone.id, GuardedChange::Delete)
            .await
            .unwrap(),
        GuardOutcome::Done
    );
    assert_eq!(s.user_by_id(&gone.id).await.unwrap(), None);
    assert!(s.live_devices(&gone.id, live(T0)).await.unwrap().is_empty());
    assert!(s.playlists(&gone.id).await.unwrap().is_empty());
    assert!(s.exports(&gone.id).await.unwrap().is_empty());
    assert!(s.events(Some(&gone.id), 10).await.unwrap().is_empty());
    assert_eq!(s.live_devices(&kept.id, live(T0)).await.unwrap().len(), 1);
    assert_eq!(s.playlists(&kept.id).await.unwrap().len(), 1);
    assert_eq!(s.exports(&kept.id).await.unwrap().len(), 1);
    assert_eq!(s.events(Some(&kept.id), 10).await.unwrap().len(), 1);
    assert!(s.integrity_ok().await.unwrap());
}

async fn the_password_change_flag_round_trips(s: SqlStore) {
    let u = user("temp");
    s.create_user(&u).await.unwrap();
    assert!(
        !s.user_by_id(&u.id)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    s.set_must_change_password(&u.id, true).await.unwrap();
    assert!(
        s.user_by_name("temp")
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    s.set_must_change_password(&u.id, false).await.unwrap();
    assert!(
        !s.user_by_id(&u.id)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
}

/// A database made by the release before this one (schema 3) with users, devices, playlists
/// and exports opens with everything still there, and nobody asked to change their password.
async fn upgrade_from_schema_3(url: &str) {
    let old = SqlStore::connect_at(url, 3).await.unwrap();
    old.raw_execute(
        "INSERT INTO users (id, username, password_hash, is_admin, disabled, max_devices, max_streams, created_at) \
         VALUES ('u1', 'anna', 'h', 1, 0, 3, 2, 1700000000000)",
    )
    .await
    .unwrap();
    old.raw_execute(
        "INSERT INTO devices (id, user_id, token_hash, name, device_type, client, credential, ip, first_seen, last_seen, expires_at) \
         VALUES ('d1', 'u1', 'th', 'Anna''s phone', 'phone', 'Clef', 'api_token', '127.0.0.1', 1700000000000, 1700000000000, 1900000000000)",
    )
    .await
    .unwrap();
    old.raw_execute(
        "INSERT INTO playlists (id, user_id, name, created_at, updated_at) VALUES ('p1', 'u1', 'Car', 1700000000000, 1700000000000)",
    )
    .await
    .unwrap();
    old.raw_execute(
        "INSERT INTO exports (id, user_id, title, settings, out_dir, pattern, state, created_at) \
         VALUES ('e1', 'u1', 'Car', '{}', '/srv/usb/Car', '{title}', 'done', 1700000000000)",
    )
    .await
    .unwrap();
    drop(old);
    let s = SqlStore::connect(url).await.unwrap();
    let u = s.user_by_name("anna").await.unwrap().unwrap();
    assert!(u.is_admin && !u.must_change_password);
    assert_eq!((u.max_devices, u.max_streams), (3, 2));
    assert_eq!(
        s.device_by_id(&DeviceId("d1".into()))
            .await
            .unwrap()
            .unwrap()
            .name,
        "Anna's phone"
    );
    assert_eq!(s.playlists(&u.id).await.unwrap()[0].name, "Car");
    assert_eq!(s.exports(&u.id).await.unwrap()[0].out_dir, "/srv/usb/Car");
}

#[tokio::test]
async fn a_schema_3_database_upgrades_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_from_schema_3(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.db").display()
    ))
    .await;
}

#[tokio::test]
async fn a_schema_3_database_upgrades_on_postgres() {
    upgrade_from_schema_3(&postgres_url().await).await;
}

async fn attempt_counts_change_one_call_at_a_time(s: SqlStore) {
    let s = Arc::new(s);
    // 40 calls at once, over overlapping keys named in either order, each taking a slot only
    // while fewer than 5 are taken under every key it names: exactly 5 get one.
    let barrier = Arc::new(tokio::sync::Barrier::new(40));
    let tasks = (0..40).map(|i| {
        let (s, barrier) = (s.clone(), barrier.clone());
        tokio::spawn(async move {
            let keys: &[&str] = match i % 3 {
                0 => &["account", "address"],
                1 => &["address", "account"],
                _ => &["account"],
            };
            barrier.wait().await;
            let mut granted = false;
            s.update_attempts(keys, &mut |counts| {
                if counts.iter().all(|c| c.pending < 5) {
                    for c in counts.iter_mut() {
                        c.pending += 1;
                        c.pending_since = clef_core::Timestamp(i);
                    }
                    granted = true;
                }
            })
            .await
            .unwrap();
            granted
        })
    });
    let granted = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|g| *g.as_ref().unwrap())
        .count();
    assert_eq!(granted, 5);
    let mut seen = vec![];
    s.update_attempts(&["account", "address", "new"], &mut |c| seen = c.to_vec())
        .await
        .unwrap();
    assert_eq!(seen[0].pending, 5);
    assert!(seen[1].pending <= 5);
    assert_eq!(
        seen[2],
        AttemptCount::ZERO,
        "a key never seen counts nothing"
    );

    // Failures are kept; a count back at zero leaves no row; old counts are forgotten.
    s.update_attempts(&["account", "address"], &mut |c| {
        c[0] = AttemptCount {
            failures: 3,
            last_failure: clef_core::Timestamp(1_000),
            ..AttemptCount::ZERO
        };
        c[1] = AttemptCount::ZERO;
    })
    .await
    .unwrap();
    let rows = s
        .raw_strings("SELECT key FROM sign_in_attempts ORDER BY key")
        .await
        .unwrap();
    assert_eq!(rows, ["account"]);
    assert_eq!(
        s.forget_attempts(clef_core::Timestamp(1_000))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.forget_attempts(clef_core::Timestamp(1_001))
            .await
            .unwrap(),
        1
    );
    let rows = s
        .raw_strings("SELECT key FROM sign_in_attempts")
        .await
        .unwrap();
    assert!(rows.is_empty());
}
