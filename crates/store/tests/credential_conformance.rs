//! Credentials apart from devices, and revocation in every scope, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use clef_core::{DeviceId, OsRandom, Random, ScopeSet, SecretToken, Timestamp};
use clef_store::*;
use common::*;

conformance!(
    each_scope_revokes_exactly_its_credentials,
    app_seats_hold_no_device_slot,
    an_unknown_kind_or_reason_is_refused,
    a_touch_records_a_new_address_and_never_turns_time_back,
);

/// An app's token on `device`: a refresh token, or an access token issued with `parent`.
fn app_token(
    d: &NewDevice,
    grant: &str,
    kind: CredentialKind,
    parent: Option<&str>,
) -> (NewCredential, SecretToken) {
    let token = OsRandom.token();
    let c = NewCredential {
        id: OsRandom.id(),
        user_id: d.user_id.clone(),
        device_id: d.id.clone(),
        grant_id: Some(grant.into()),
        parent_id: parent.map(str::to_owned),
        kind,
        token_hash: token.hash(),
        scopes: ScopeSet::parse("library:read stream").unwrap(),
        now: T0,
        expires_at: T0.plus_secs(3600),
        sealed: None,
    };
    (c, token)
}

/// A device authorised through `grant` (an app seat or a TV approved by code) with a refresh
/// token and an access token issued with it.
async fn grant_device(
    s: &SqlStore,
    u: &User,
    origin: DeviceOrigin,
    grant: &str,
) -> (DeviceId, NewCredential, NewCredential) {
    let (mut d, _) = device(u, &format!("{origin}"), T0);
    d.origin = origin;
    d.grant_id = Some(grant.into());
    let (refresh, _) = app_token(&d, grant, CredentialKind::OAuthRefresh, None);
    assert_eq!(
        s.admit_device(&d, &refresh, 6, live(T0), None)
            .await
            .unwrap(),
        Admission::Admitted
    );
    let (access, _) = app_token(&d, grant, CredentialKind::OAuthAccess, Some(&refresh.id));
    s.add_credential(&access).await.unwrap();
    (d.id, refresh, access)
}

async fn revoked(s: &SqlStore, ids: &[&str]) -> Vec<String> {
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let mut out: Vec<String> = s
        .revoked_credentials(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    out.sort();
    out
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

async fn each_scope_revokes_exactly_its_credentials(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let (phone, _) = device(&u, "phone", T0);
    s.admit_device(&phone, &cred(&phone), 6, live(T0), None)
        .await
        .unwrap();
    let (app, app_rt, app_at) = grant_device(&s, &u, DeviceOrigin::App, "g1").await;
    let (tv, tv_rt, tv_at) = grant_device(&s, &u, DeviceOrigin::DeviceCode, "g1").await;
    let phone_c = cred(&phone).id;
    let all = [
        phone_c.as_str(),
        &app_rt.id,
        &app_at.id,
        &tv_rt.id,
        &tv_at.id,
    ];

    // One access token: that token alone.
    let r = s
        .revoke(
            RevokeScope::Credential { id: &app_at.id },
            SignOutReason::TokenRevoked,
            None,
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        (r.credentials, r.devices),
        (vec![app_at.id.clone()], vec![])
    );
    // A refresh token takes the access tokens issued with it; a TV left with none is signed out.
    let r = s
        .revoke(
            RevokeScope::Credential { id: &tv_rt.id },
            SignOutReason::TokenRevoked,
            None,
            T0,
        )
        .await
        .unwrap();
    assert_eq!(r.devices, vec![tv.clone()]);
    assert_eq!(
        revoked(&s, &all).await,
        sorted(&[&app_at.id, &tv_rt.id, &tv_at.id])
    );
    let tv_dev = s.device_by_id(&tv).await.unwrap().unwrap();
    assert_eq!(tv_dev.revoked.unwrap().reason, SignOutReason::TokenRevoked);

    // Sign out everywhere without apps leaves the app's seat and its refresh token.
    let r = s
        .revoke(
            RevokeScope::Everywhere {
                user: &u.id,
                keep: None,
                apps: false,
            },
            SignOutReason::SignedOutEverywhere,
            None,
            T0,
        )
        .await
        .unwrap();
    assert_eq!(r.devices, vec![phone.id.clone()]);
    assert!(s
        .device_by_id(&app)
        .await
        .unwrap()
        .unwrap()
        .revoked
        .is_none());
    // Removing the grant ends the rest.
    let r = s
        .revoke(
            RevokeScope::Grant {
                user: &u.id,
                grant: "g1",
            },
            SignOutReason::AccessRemoved,
            Some(&phone.id),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(
        (r.devices, r.credentials),
        (vec![app], vec![app_rt.id.clone()])
    );
    assert_eq!(revoked(&s, &all).await, sorted(&all));
    let (_, why) = s
        .revoked_credentials(std::slice::from_ref(&app_rt.id))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (why.reason, why.by_device),
        (SignOutReason::AccessRemoved, Some(phone.id.clone()))
    );
}

async fn app_seats_hold_no_device_slot(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let (app, _, _) = grant_device(&s, &u, DeviceOrigin::App, "g1").await;
    let (phone, _) = device(&u, "phone", T0);
    assert_eq!(
        s.admit_device(&phone, &cred(&phone), 1, live(T0), None)
            .await
            .unwrap(),
        Admission::Admitted,
        "the app's seat does not count against the limit"
    );
    let listed: Vec<DeviceId> = s
        .live_devices(&u.id, live(T0))
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, vec![phone.id.clone()]);
    assert_ne!(listed[0], app);
    // Sign out everywhere with apps reaches it.
    let r = s
        .revoke(
            RevokeScope::Everywhere {
                user: &u.id,
                keep: Some(&phone.id),
                apps: true,
            },
            SignOutReason::SignedOutEverywhere,
            Some(&phone.id),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(r.devices, vec![app]);
    assert_eq!(r.credentials.len(), 2);
}

async fn an_unknown_kind_or_reason_is_refused(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let (d, token) = device(&u, "phone", T0);
    s.admit_device(&d, &cred(&d), 6, live(T0), None)
        .await
        .unwrap();
    // A newer release's kind is not taken for anything this build knows.
    s.raw_execute("UPDATE credentials SET kind = 'subsonic_master_key'")
        .await
        .unwrap();
    assert!(matches!(
        s.credential_by_token(&token.hash()).await,
        Err(StoreError::UnknownValue {
            what: "CredentialKind",
            ..
        })
    ));
    s.raw_execute("UPDATE credentials SET kind = 'api_token', scopes = 'admin'")
        .await
        .unwrap();
    assert!(matches!(
        s.credential_by_token(&token.hash()).await,
        Err(StoreError::UnknownValue { what: "scope", .. })
    ));
    s.raw_execute(
        "UPDATE credentials SET scopes = '', revoked_at = 1, revoked_reason = 'gremlins'",
    )
    .await
    .unwrap();
    assert!(matches!(
        s.credential_by_token(&token.hash()).await,
        Err(StoreError::UnknownValue {
            what: "SignOutReason",
            ..
        })
    ));
    for r in SignOutReason::ALL {
        assert_eq!(SignOutReason::parse(r.as_str()), Some(*r));
    }
    for k in CredentialKind::ALL {
        assert_eq!(CredentialKind::parse(k.as_str()), Some(*k));
    }
}

async fn a_touch_records_a_new_address_and_never_turns_time_back(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let (d, _) = device(&u, "phone", T0);
    let c = cred(&d);
    s.admit_device(&d, &c, 6, live(T0), None).await.unwrap();
    let seen = |d: Option<Device>| {
        let d = d.unwrap();
        (d.last_seen, d.ip)
    };
    // Within the same second, from a new address (a TV collecting its tokens): the address.
    s.touch(&c.id, &d.id, T0, "192.0.2.7").await.unwrap();
    assert_eq!(
        seen(s.device_by_id(&d.id).await.unwrap()),
        (T0, "192.0.2.7".to_owned())
    );
    // Later: the time.
    let later = T0.plus_secs(60);
    s.touch(&c.id, &d.id, later, "192.0.2.7").await.unwrap();
    assert_eq!(
        seen(s.device_by_id(&d.id).await.unwrap()),
        (later, "192.0.2.7".to_owned())
    );
    // A request that finishes late, from elsewhere: its address, but the time stays.
    s.touch(&c.id, &d.id, T0, "198.51.100.1").await.unwrap();
    assert_eq!(
        seen(s.device_by_id(&d.id).await.unwrap()),
        (later, "198.51.100.1".to_owned())
    );
}

/// A database of the previous release (schema 5): each device's token becomes its credential
/// and still signs it in; revoked devices stay revoked with their reason; stream slots,
/// playlists and exports stay.
async fn upgrade_from_schema_5(url: &str) {
    let old = SqlStore::connect_at(url, 5).await.unwrap();
    let token = OsRandom.token();
    let gone = OsRandom.token();
    for sql in [
        "INSERT INTO users (id, username, password_hash, is_admin, disabled, max_devices, max_streams, created_at) \
         VALUES ('u1', 'anna', 'h', 0, 0, 3, 2, 1700000000000)".to_owned(),
        format!("INSERT INTO devices (id, user_id, token_hash, name, device_type, client, credential, ip, first_seen, last_seen, expires_at) \
         VALUES ('d1', 'u1', '{}', 'Anna''s phone', 'phone', 'Clef', 'web_session', '10.0.0.7', 1700000000000, 1700000500000, 1900000000000)", token.hash().0),
        format!("INSERT INTO devices (id, user_id, token_hash, name, device_type, client, credential, ip, first_seen, last_seen, expires_at, revoked_at, revoked_reason, revoked_by) \
         VALUES ('d2', 'u1', '{}', 'Old laptop', 'computer', 'curl', 'api_token', '10.0.0.8', 1700000000000, 1700000000000, 1900000000000, 1700000600000, 'signed_out_everywhere', 'd1')", gone.hash().0),
        "INSERT INTO stream_slots (device_id, user_id, track_id, started_at, heartbeat_at) VALUES ('d1', 'u1', 't1', 1700000400000, 1700000500000)".to_owned(),
        "INSERT INTO playlists (id, user_id, name, created_at, updated_at) VALUES ('p1', 'u1', 'Car', 1700000000000, 1700000000000)".to_owned(),
        "INSERT INTO exports (id, user_id, title, settings, out_dir, pattern, state, created_at) \
         VALUES ('e1', 'u1', 'Car', '{}', '/srv/usb/Car', '{title}', 'done', 1700000000000)".to_owned(),
    ] {
        old.raw_execute(&sql).await.unwrap();
    }
    drop(old);
    let s = SqlStore::connect(url).await.unwrap();
    let p = s.credential_by_token(&token.hash()).await.unwrap().unwrap();
    assert_eq!(
        (
            p.device.id.as_str(),
            p.device.origin,
            p.credential.kind,
            p.user.username.as_str()
        ),
        (
            "d1",
            DeviceOrigin::WebSession,
            CredentialKind::WebSession,
            "anna"
        )
    );
    assert_eq!(
        (
            p.device.ip.as_str(),
            p.credential.last_used,
            p.credential.expires_at
        ),
        (
            "10.0.0.7",
            Timestamp(1_700_000_500_000),
            Timestamp(1_900_000_000_000)
        )
    );
    assert!(p.credential.revoked.is_none() && p.credential.access().is_full());
    let old = s.credential_by_token(&gone.hash()).await.unwrap().unwrap();
    let why = old.credential.revoked.unwrap();
    assert_eq!(
        (why.reason, why.by_device),
        (
            SignOutReason::SignedOutEverywhere,
            Some(DeviceId("d1".into()))
        )
    );
    let slots = s
        .slots(&p.user.id, Timestamp(1_700_000_000_000))
        .await
        .unwrap();
    assert_eq!(
        slots.len(),
        1,
        "the stream slot survived the devices table's rebuild"
    );
    assert_eq!(s.playlists(&p.user.id).await.unwrap()[0].name, "Car");
    assert_eq!(s.exports(&p.user.id).await.unwrap().len(), 1);
    let columns = s
        .raw_strings("SELECT CAST(COUNT(*) AS TEXT) FROM devices")
        .await
        .unwrap();
    assert_eq!(columns, vec!["2"]);
    // Deleting the user still takes its devices and their credentials (the rebuilt table kept
    // its foreign keys).
    assert_eq!(
        s.change_user_guarded(&p.user.id, GuardedChange::Delete)
            .await
            .unwrap(),
        GuardOutcome::Done
    );
    assert_eq!(
        s.raw_strings("SELECT id FROM credentials").await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_schema_5_database_upgrades_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_from_schema_5(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.db").display()
    ))
    .await;
}

#[tokio::test]
async fn a_schema_5_database_upgrades_on_postgres() {
    upgrade_from_schema_5(&postgres_url().await).await;
}
