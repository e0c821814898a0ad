//! Conformance of the export store on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use clef_core::{OsRandom, Random, Timestamp};
use clef_store::*;
use common::*;

conformance!(
    exports_round_trip_and_belong_to_their_owner,
    ended_exports_stay_ended_and_leave_the_resume_list,
);

fn job(u: &User, title: &str, at: Timestamp) -> ExportJob {
    ExportJob {
        id: OsRandom.id(),
        user_id: u.id.clone(),
        title: title.into(),
        settings: r#"{"format":"mp3","bitrate":320}"#.into(),
        out_dir: "/srv/usb/Car".into(),
        pattern: "{album_artist}/{album}/{track:02} {title}".into(),
        state: ExportState::Running,
        created_at: at,
        finished_at: None,
        error: None,
    }
}

fn files(n: i64) -> Vec<ExportFile> {
    (0..n)
        .map(|i| ExportFile {
            position: i,
            track_id: format!("track-{i}"),
            rel_path: format!("Ann/Road ☃/{:02} Song \"{i}\".mp3", i + 1),
            state: FileState::Pending,
            size: None,
            error: None,
        })
        .collect()
}

async fn exports_round_trip_and_belong_to_their_owner(s: SqlStore) {
    let ann = user("ann");
    let bob = user("bob");
    s.create_user(&ann).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let older = job(&ann, "Road trip", T0);
    let newer = job(&ann, "Kitchen", T0.plus_secs(60));
    s.create_export(&older, &files(25)).await.unwrap();
    s.create_export(&newer, &files(1)).await.unwrap();

    let list = s.exports(&ann.id).await.unwrap();
    assert_eq!(list, vec![newer.clone(), older.clone()], "newest first");
    assert!(s.exports(&bob.id).await.unwrap().is_empty());
    assert!(s.export(&bob.id, &older.id).await.unwrap().is_none());

    // A file saved under another name than planned (the first was taken meanwhile).
    let done = FileOutcome::Done {
        size: 4_321_000,
        rel_path: "Artist/Album/03 Song (2).mp3",
    };
    s.set_file_state(&older.id, 3, done).await.unwrap();
    let failed = FileOutcome::Failed {
        reason: "cannot decode",
    };
    s.set_file_state(&older.id, 4, failed).await.unwrap();
    let (got, got_files) = s.export(&ann.id, &older.id).await.unwrap().unwrap();
    assert_eq!(got, older);
    let mut want = files(25);
    want[3].state = FileState::Done;
    want[3].size = Some(4_321_000);
    want[3].rel_path = "Artist/Album/03 Song (2).mp3".into();
    want[4].state = FileState::Failed;
    want[4].error = Some("cannot decode".into());
    assert_eq!(got_files, want);
    // What counts against a quota: the finished files only, of this user only.
    let done = FileOutcome::Done {
        size: 1_000,
        rel_path: "Kitchen.mp3",
    };
    s.set_file_state(&newer.id, 0, done).await.unwrap();
    assert_eq!(s.exported_bytes(&ann.id).await.unwrap(), 4_322_000);
    assert_eq!(s.exported_bytes(&bob.id).await.unwrap(), 0);

    // History removal: not someone else's, not a running one; files go with the job.
    assert!(!s.delete_export(&bob.id, &older.id).await.unwrap());
    assert!(!s.delete_export(&ann.id, &older.id).await.unwrap());
    assert!(s
        .end_export(&older.id, ExportState::Done, T0.plus_secs(90), None)
        .await
        .unwrap());
    assert!(s.delete_export(&ann.id, &older.id).await.unwrap());
    assert!(s.export(&ann.id, &older.id).await.unwrap().is_none());
    assert_eq!(s.exports(&ann.id).await.unwrap(), vec![newer]);
    let left = s
        .raw_strings(&format!(
            "SELECT rel_path FROM export_files WHERE export_id = '{}'",
            older.id
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

async fn ended_exports_stay_ended_and_leave_the_resume_list(s: SqlStore) {
    let ann = user("ann");
    s.create_user(&ann).await.unwrap();
    let a = job(&ann, "A", T0);
    let b = job(&ann, "B", T0.plus_secs(1));
    s.create_export(&a, &files(2)).await.unwrap();
    s.create_export(&b, &files(2)).await.unwrap();
    let ids = |v: Vec<ExportJob>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.running_exports().await.unwrap()),
        vec![a.id.clone(), b.id.clone()]
    );

    assert_eq!(
        s.export_state(&a.id).await.unwrap(),
        Some(ExportState::Running)
    );
    assert_eq!(s.export_state("no-such-export").await.unwrap(), None);

    // A cancel and a worker finishing race: the first end wins, the other changes nothing.
    let at = T0.plus_secs(5);
    assert!(s
        .end_export(&a.id, ExportState::Cancelled, at, None)
        .await
        .unwrap());
    assert!(!s
        .end_export(&a.id, ExportState::Done, at.plus_secs(1), None)
        .await
        .unwrap());
    let (got, _) = s.export(&ann.id, &a.id).await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.finished_at),
        (ExportState::Cancelled, Some(at))
    );
    assert_eq!(
        s.export_state(&a.id).await.unwrap(),
        Some(ExportState::Cancelled),
        "what another node running it sees"
    );
    assert!(s
        .end_export(
            &b.id,
            ExportState::Failed,
            at,
            Some("the output folder is gone")
        )
        .await
        .unwrap());
    let (got, _) = s.export(&ann.id, &b.id).await.unwrap().unwrap();
    assert_eq!(got.error.as_deref(), Some("the output folder is gone"));
    assert!(s.running_exports().await.unwrap().is_empty());
}
