//! Conformance of the library, playlist and stream-slot stores on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_core::{DeviceId, OsRandom, Random, Timestamp, UserId};
use clef_store::*;
use common::*;

conformance!(
    scans_apply_atomically_and_round_trip,
    large_scans_apply_in_batches,
    playlists_belong_to_their_owner,
    stream_slots_hold_under_concurrency,
    slots_takeover_leases_and_sign_out,
);

fn track(path: &str, title: &str) -> TrackRecord {
    TrackRecord {
        id: OsRandom.id(),
        path: path.into(),
        size: 1234,
        mtime: 1_700_000_000_123,
        title: title.into(),
        artists: vec!["Ann".into(), "Bob & Co; \"Ltd\"".into()],
        album: "Album ☃".into(),
        album_artists: vec!["Ann".into()],
        compilation: false,
        genres: vec!["Jazz".into(), "Funk".into()],
        track_no: Some(3),
        track_total: Some(12),
        disc_no: Some(1),
        disc_total: Some(2),
        year: Some(1999),
        composer: Some("Cee".into()),
        comment: None,
        isrc: Some("USRC17607839".into()),
        duration_ms: 183_456,
        sample_rate: Some(96_000),
        bit_depth: Some(24),
        channels: Some(2),
        bitrate: Some(4600),
        codec: "flac".into(),
        format: "flac".into(),
        embedded_cover: true,
        cover_path: Some("/m/a/cover.jpg".into()),
        added_at: T0,
        updated_at: T0,
    }
}

async fn scans_apply_atomically_and_round_trip(s: SqlStore) {
    let a = track("/m/a/01.flac", "One");
    let mut b = track("/m/a/02.flac", "Two");
    b.artists = vec![];
    b.genres = vec![];
    b.year = None;
    let changes = ScanChanges {
        upserts: vec![a.clone(), b.clone()],
        problems: vec![ScanProblem {
            path: "/m/bad.mp3".into(),
            reason: "not audio".into(),
            at: T0,
        }],
        ..ScanChanges::default()
    };
    assert_eq!(s.library_version().await.unwrap(), 0);
    assert_eq!(
        s.apply_scan(&changes).await.unwrap(),
        1,
        "each scan bumps the version"
    );
    assert_eq!(s.library_version().await.unwrap(), 1);
    let all = s.all_tracks().await.unwrap();
    assert_eq!(all, vec![a.clone(), b.clone()], "every field round-trips");
    assert_eq!(s.scan_problems().await.unwrap().len(), 1);

    // Change one, move one, add one; the problem list is replaced.
    let mut a2 = a.clone();
    a2.title = "One (remastered)".into();
    a2.size = 999;
    let c = track("/m/b/03.flac", "Three");
    s.apply_scan(&ScanChanges {
        upserts: vec![a2.clone(), c.clone()],
        moves: vec![(b.id.clone(), "/m/moved/02.flac".into())],
        deletes: vec![],
        problems: vec![],
    })
    .await
    .unwrap();
    let all = s.all_tracks().await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.contains(&a2));
    assert!(all
        .iter()
        .any(|t| t.id == b.id && t.path == "/m/moved/02.flac"));
    assert!(s.scan_problems().await.unwrap().is_empty());
    let index = s.file_index().await.unwrap();
    assert_eq!(index.len(), 3);

    s.apply_scan(&ScanChanges {
        deletes: vec![a.id.clone(), c.id.clone()],
        ..ScanChanges::default()
    })
    .await
    .unwrap();
    let left: Vec<String> = s
        .all_tracks()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(left, vec![b.id]);
}

async fn large_scans_apply_in_batches(s: SqlStore) {
    let tracks: Vec<TrackRecord> = (0..250)
        .map(|i| track(&format!("/m/{i:03}.flac"), &format!("T{i}")))
        .collect();
    s.apply_scan(&ScanChanges {
        upserts: tracks.clone(),
        ..ScanChanges::default()
    })
    .await
    .unwrap();
    assert_eq!(s.all_tracks().await.unwrap(), tracks);
    // Changing every one keeps their ids and replaces their fields.
    let changed: Vec<TrackRecord> = tracks
        .iter()
        .map(|t| TrackRecord {
            title: format!("{} (new)", t.title),
            ..t.clone()
        })
        .collect();
    s.apply_scan(&ScanChanges {
        upserts: changed.clone(),
        ..ScanChanges::default()
    })
    .await
    .unwrap();
    assert_eq!(s.all_tracks().await.unwrap(), changed);
}

async fn playlists_belong_to_their_owner(s: SqlStore) {
    let ann = user("ann");
    let bob = user("bob");
    s.create_user(&ann).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let p = Playlist {
        id: OsRandom.id(),
        user_id: ann.id.clone(),
        name: "Road trip".into(),
        created_at: T0,
        updated_at: T0,
        tracks: vec!["t1".into(), "t2".into(), "t1".into()],
        track_count: 3,
    };
    s.create_playlist(&p).await.unwrap();
    assert_eq!(s.playlist(&ann.id, &p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(s.playlist(&bob.id, &p.id).await.unwrap(), None);
    let listed = s.playlists(&ann.id).await.unwrap();
    assert_eq!((listed.len(), listed[0].track_count), (1, 3));
    assert!(s.playlists(&bob.id).await.unwrap().is_empty());

    let later = T0.plus_secs(5);
    let order = vec!["t2".to_owned(), "t1".to_owned()];
    assert!(!s
        .update_playlist(&bob.id, &p.id, "x", &order, later)
        .await
        .unwrap());
    assert!(s
        .update_playlist(&ann.id, &p.id, "Drive", &order, later)
        .await
        .unwrap());
    let back = s.playlist(&ann.id, &p.id).await.unwrap().unwrap();
    assert_eq!(
        (back.name.as_str(), back.tracks, back.updated_at),
        ("Drive", order, later)
    );

    assert!(!s.delete_playlist(&bob.id, &p.id).await.unwrap());
    assert!(s.delete_playlist(&ann.id, &p.id).await.unwrap());
    assert_eq!(s.playlist(&ann.id, &p.id).await.unwrap(), None);
}

async fn signed_in(s: &SqlStore, u: &User, n: usize) -> Vec<DeviceId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (d, _) = device(u, &format!("d{i}"), T0);
        assert_eq!(
            s.admit_device(&d, &cred(&d), 100, live(T0), None)
                .await
                .unwrap(),
            Admission::Admitted
        );
        ids.push(d.id);
    }
    ids
}

fn request(u: &User, d: &DeviceId, now: Timestamp, takeover: Option<DeviceId>) -> SlotRequest {
    SlotRequest {
        user_id: u.id.clone(),
        device_id: d.clone(),
        track_id: "track".into(),
        limit: 6,
        now,
        stale_before: now.minus_secs(45),
        takeover,
    }
}

async fn stream_slots_hold_under_concurrency(s: SqlStore) {
    let s = Arc::new(s);
    let u = user("ann");
    s.create_user(&u).await.unwrap();
    let devices = Arc::new(signed_in(&s, &u, 50).await);
    for round in 0..20 {
        let now = T0.plus_secs(round);
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let tasks = (0..50).map(|i| {
            let (s, u, devices, barrier) = (s.clone(), u.clone(), devices.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                s.acquire_slot(&request(&u, &devices[i], now, None))
                    .await
                    .unwrap()
            })
        });
        let results = futures::future::join_all(tasks).await;
        let granted: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.as_ref().unwrap(), SlotOutcome::Granted { .. }))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(granted.len(), 6, "round {round}");
        for r in &results {
            if let SlotOutcome::LimitReached(playing) = r.as_ref().unwrap() {
                assert_eq!(playing.len(), 6, "a refusal names the six players");
            }
        }
        // A holder asking again (a second connection) keeps its one slot.
        let again = s
            .acquire_slot(&request(&u, &devices[granted[0]], now, None))
            .await
            .unwrap();
        assert_eq!(again, SlotOutcome::Granted { took_over: None });
        assert_eq!(s.slots(&u.id, now.minus_secs(45)).await.unwrap().len(), 6);
        for i in granted {
            assert_eq!(s.release_slot(&devices[i]).await.unwrap(), None);
        }
    }
}

async fn slots_takeover_leases_and_sign_out(s: SqlStore) {
    let u = user("ann");
    s.create_user(&u).await.unwrap();
    let d = signed_in(&s, &u, 3).await;
    let one = |dev: &DeviceId, now: Timestamp, takeover: Option<DeviceId>| SlotRequest {
        limit: 1,
        ..request(&u, dev, now, takeover)
    };
    assert!(matches!(
        s.acquire_slot(&one(&d[0], T0, None)).await.unwrap(),
        SlotOutcome::Granted { .. }
    ));
    assert!(
        matches!(s.acquire_slot(&one(&d[1], T0, None)).await.unwrap(), SlotOutcome::LimitReached(p) if p[0].device_id == d[0] && p[0].device_name == "d0")
    );
    // Taking over a device that is not playing changes nothing.
    assert_eq!(
        s.acquire_slot(&one(&d[1], T0, Some(d[2].clone())))
            .await
            .unwrap(),
        SlotOutcome::TakeoverNotFound
    );
    assert_eq!(
        s.acquire_slot(&one(&d[1], T0, Some(d[0].clone())))
            .await
            .unwrap(),
        SlotOutcome::Granted {
            took_over: Some(d[0].clone())
        }
    );
    let status = s
        .stream_status(&[d[0].clone(), d[1].clone()])
        .await
        .unwrap();
    let of = |id: &DeviceId| status.iter().find(|x| &x.device_id == id).unwrap().clone();
    assert_eq!(
        of(&d[0]).stopped,
        Some((SignOutReason::TakenOver, Some(d[1].clone())))
    );
    assert_eq!(of(&d[1]).stopped, None);
    assert_eq!(of(&d[1]).revoked, None);
    // The stopped device keeps hearing it until it is granted a slot again.
    let notice = Some((SignOutReason::TakenOver, Some(d[1].clone())));
    assert_eq!(s.release_slot(&d[0]).await.unwrap(), notice);
    assert_eq!(s.release_slot(&d[0]).await.unwrap(), notice);

    // Heartbeats keep a lease; without them it ends.
    s.refresh_slots(&[d[1].clone()], T0.plus_secs(40))
        .await
        .unwrap();
    let at = T0.plus_secs(80);
    assert!(matches!(
        s.acquire_slot(&one(&d[2], at, None)).await.unwrap(),
        SlotOutcome::LimitReached(_)
    ));
    let later = T0.plus_secs(86);
    assert!(matches!(
        s.acquire_slot(&one(&d[2], later, None)).await.unwrap(),
        SlotOutcome::Granted { took_over: None }
    ));

    // A signed-out device's slot does not count, and its status says why.
    s.revoke(
        RevokeScope::Device {
            user: &u.id,
            device: &d[2],
        },
        SignOutReason::SignedOutByUser,
        None,
        later,
    )
    .await
    .unwrap();
    assert!(s
        .slots(&u.id, later.minus_secs(45))
        .await
        .unwrap()
        .is_empty());
    let st = s.stream_status(&[d[2].clone()]).await.unwrap();
    assert_eq!(
        st[0].revoked.as_ref().unwrap().reason,
        SignOutReason::SignedOutByUser
    );
    assert!(matches!(
        s.acquire_slot(&one(&d[1], later, None)).await.unwrap(),
        SlotOutcome::Granted { .. }
    ));
    let unknown: Vec<StreamStatus> = s.stream_status(&[DeviceId(OsRandom.id())]).await.unwrap();
    assert!(unknown.is_empty());
    // Granted a slot again, the stopped device's notice is gone.
    s.release_slot(&d[1]).await.unwrap();
    assert!(matches!(
        s.acquire_slot(&one(&d[0], later, None)).await.unwrap(),
        SlotOutcome::Granted { took_over: None }
    ));
    assert_eq!(s.release_slot(&d[0]).await.unwrap(), None);
    let _ = UserId(String::new());
}
