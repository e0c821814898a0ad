//! Apps, grants, authorization codes and refresh-token rotation (`OAuthStore`), on SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_core::{DeviceId, OsRandom, Random, ScopeSet, SecretToken, Timestamp, UserId};
use clef_store::*;
use common::*;

conformance!(
    apps_round_trip_and_go_with_their_owner,
    approving_again_widens_the_one_grant_and_keeps_its_seat,
    a_code_is_spent_once_and_its_replay_names_what_it_issued,
    a_refresh_token_rotates_once_and_its_reuse_ends_the_grant,
    concurrent_rotations_of_one_token_admit_at_most_one,
    grants_of_lists_live_grants_with_last_use_and_coded_devices,
);

const DAY: i64 = 86_400;

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

/// An app registered by `owner`; confidential ones have a secret.
fn new_app(owner: &User, name: &str, confidential: bool) -> App {
    App {
        client_id: OsRandom.id(),
        owner_id: owner.id.clone(),
        owner_name: owner.username.clone(),
        name: name.into(),
        redirect_uris: vec![
            "https://app.example/callback".into(),
            "http://127.0.0.1:8765/cb".into(),
        ],
        secret_hash: confidential.then(|| OsRandom.token().hash()),
        created_at: T0,
    }
}

/// `u`'s approval of `app`, with a fresh grant id and seat.
fn approval(u: &User, app: &App, scopes: ScopeSet, now: Timestamp) -> Approval {
    let (seat, _) = device(u, &app.name, now);
    Approval {
        grant_id: OsRandom.id(),
        user_id: u.id.clone(),
        client_id: app.client_id.clone(),
        scopes,
        seat,
    }
}

/// An app's token on `device` under `grant`.
fn app_token(
    u: &UserId,
    device: &DeviceId,
    grant: &str,
    kind: CredentialKind,
    parent: Option<&str>,
    scopes: ScopeSet,
    expires_at: Timestamp,
) -> (NewCredential, SecretToken) {
    let token = OsRandom.token();
    let c = NewCredential {
        id: OsRandom.id(),
        user_id: u.clone(),
        device_id: device.clone(),
        grant_id: Some(grant.into()),
        parent_id: parent.map(str::to_owned),
        kind,
        token_hash: token.hash(),
        scopes,
        now: T0,
        expires_at,
        sealed: None,
    };
    (c, token)
}

/// A user's approved grant to an app, with its seat.
struct Authorised {
    user: User,
    grant: String,
    seat: DeviceId,
    scopes: ScopeSet,
}

async fn authorised(s: &SqlStore, u: &User, app: &App, granted: ScopeSet) -> Authorised {
    let a = s.approve(&approval(u, app, granted, T0)).await.unwrap();
    Authorised {
        user: u.clone(),
        grant: a.grant_id,
        seat: a.seat,
        scopes: a.scopes,
    }
}

/// A token pair as the token endpoint issues it: a refresh token and an access token issued with
/// it, both on the seat.
struct Pair {
    refresh: NewCredential,
    refresh_token: SecretToken,
    access: NewCredential,
    access_token: SecretToken,
}

fn pair(a: &Authorised, expires_at: Timestamp) -> Pair {
    let (refresh, refresh_token) = app_token(
        &a.user.id,
        &a.seat,
        &a.grant,
        CredentialKind::OAuthRefresh,
        None,
        a.scopes,
        expires_at,
    );
    let (access, access_token) = app_token(
        &a.user.id,
        &a.seat,
        &a.grant,
        CredentialKind::OAuthAccess,
        Some(&refresh.id),
        a.scopes,
        T0.plus_secs(3600),
    );
    Pair {
        refresh,
        refresh_token,
        access,
        access_token,
    }
}

async fn issued(s: &SqlStore, a: &Authorised, expires_at: Timestamp) -> Pair {
    let p = pair(a, expires_at);
    s.issue(None, &[p.refresh.clone(), p.access.clone()])
        .await
        .unwrap();
    p
}

/// The refresh of `presented` with a new pair whose user, device, grant and scopes are wrong on
/// purpose: the store takes them from the presented token.
fn refresh_of(presented: &SecretToken, client_id: &str) -> (Refresh, Pair) {
    let nobody = UserId("not-the-user".into());
    let nowhere = DeviceId("not-the-seat".into());
    let (refresh, refresh_token) = app_token(
        &nobody,
        &nowhere,
        "not-the-grant",
        CredentialKind::OAuthRefresh,
        None,
        ScopeSet::EMPTY,
        T0.plus_secs(30 * DAY),
    );
    let (access, access_token) = app_token(
        &nobody,
        &nowhere,
        "not-the-grant",
        CredentialKind::OAuthAccess,
        Some(&refresh.id),
        ScopeSet::EMPTY,
        T0.plus_secs(3600),
    );
    let f = Refresh {
        presented: presented.hash(),
        client_id: client_id.into(),
        access: access.clone(),
        refresh: refresh.clone(),
    };
    (
        f,
        Pair {
            refresh,
            refresh_token,
            access,
            access_token,
        },
    )
}

async fn presented(s: &SqlStore, token: &SecretToken) -> Option<Presented> {
    s.credential_by_token(&token.hash()).await.unwrap()
}

/// Which of `ids` are revoked, and why.
async fn revocations(s: &SqlStore, ids: &[&str]) -> Vec<(String, SignOutReason)> {
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let mut out: Vec<(String, SignOutReason)> = s
        .revoked_credentials(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, why)| (id, why.reason))
        .collect();
    out.sort_by(|x, y| x.0.cmp(&y.0));
    out
}

fn all_for(ids: &[&str], reason: SignOutReason) -> Vec<(String, SignOutReason)> {
    let mut v: Vec<(String, SignOutReason)> =
        ids.iter().map(|id| (id.to_string(), reason)).collect();
    v.sort_by(|x, y| x.0.cmp(&y.0));
    v
}

async fn apps_round_trip_and_go_with_their_owner(s: SqlStore) {
    let anna = user("anna");
    let bob = user("bob");
    s.create_user(&anna).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let zebra = new_app(&anna, "Zebra player", false);
    let alpha = new_app(&anna, "Alpha sync", true);
    let bobs = new_app(&bob, "Bob's radio", false);
    for a in [&zebra, &alpha, &bobs] {
        s.create_app(a).await.unwrap();
    }

    // Read back whole, with the owner's name from users.
    let back = s.app(&zebra.client_id).await.unwrap().unwrap();
    assert_eq!(back, zebra);
    assert!(back.secret_hash.is_none() && !back.confidential());
    let back = s.app(&alpha.client_id).await.unwrap().unwrap();
    assert_eq!(back, alpha);
    assert!(back.confidential());
    assert_eq!(back.owner_name, "anna");
    assert_eq!(back.redirect_uris.len(), 2);
    assert_eq!(s.app("no-such-client").await.unwrap(), None);

    // Each owner's apps, by name.
    assert_eq!(
        s.apps_of(&anna.id).await.unwrap(),
        vec![alpha.clone(), zebra.clone()]
    );
    assert_eq!(s.apps_of(&bob.id).await.unwrap(), vec![bobs.clone()]);

    // Only the owner deletes an app.
    assert!(!s.delete_app(&bob.id, &zebra.client_id).await.unwrap());
    assert_eq!(s.app(&zebra.client_id).await.unwrap(), Some(zebra.clone()));
    assert!(s.delete_app(&anna.id, &zebra.client_id).await.unwrap());
    assert_eq!(s.app(&zebra.client_id).await.unwrap(), None);
    assert!(!s.delete_app(&anna.id, &zebra.client_id).await.unwrap());
    assert_eq!(s.apps_of(&anna.id).await.unwrap(), vec![alpha.clone()]);

    // Bob uses Anna's remaining app; when Anna's account goes, her apps go with it and Bob's
    // grant to it is no longer listed. Bob's own app stays.
    authorised(&s, &bob, &alpha, scopes("stream")).await;
    assert_eq!(s.grants_of(&bob.id, live(T0)).await.unwrap().len(), 1);
    assert_eq!(
        s.change_user_guarded(&anna.id, GuardedChange::Delete)
            .await
            .unwrap(),
        GuardOutcome::Done
    );
    assert!(s.apps_of(&anna.id).await.unwrap().is_empty());
    assert_eq!(s.app(&alpha.client_id).await.unwrap(), None);
    assert!(s.grants_of(&bob.id, live(T0)).await.unwrap().is_empty());
    assert_eq!(s.apps_of(&bob.id).await.unwrap(), vec![bobs.clone()]);
    assert_eq!(s.app(&bobs.client_id).await.unwrap(), Some(bobs));
}

async fn approving_again_widens_the_one_grant_and_keeps_its_seat(s: SqlStore) {
    let owner = user("owner");
    let anna = user("anna");
    let bob = user("bob");
    for u in [&owner, &anna, &bob] {
        s.create_user(u).await.unwrap();
    }
    let app = new_app(&owner, "Player", false);
    s.create_app(&app).await.unwrap();

    let first = approval(&anna, &app, scopes("library:read"), T0);
    let a1 = s.approve(&first).await.unwrap();
    assert_eq!(
        a1,
        Approved {
            grant_id: first.grant_id.clone(),
            seat: first.seat.id.clone(),
            scopes: scopes("library:read"),
        }
    );
    assert_eq!(
        s.grant(&a1.grant_id).await.unwrap(),
        Some(Grant {
            id: a1.grant_id.clone(),
            user_id: anna.id.clone(),
            client_id: app.client_id.clone(),
            scopes: scopes("library:read"),
            created_at: T0,
            revoked: None,
        })
    );
    // The seat is the app's, whatever the approval's device said.
    let seat = s.device_by_id(&a1.seat).await.unwrap().unwrap();
    assert_eq!(
        (
            seat.user_id.clone(),
            seat.origin,
            seat.grant_id.as_deref(),
            seat.revoked.is_none()
        ),
        (
            anna.id.clone(),
            DeviceOrigin::App,
            Some(a1.grant_id.as_str()),
            true
        )
    );

    // Approving again lands on the same grant, widened, and the same seat.
    let second = approval(&anna, &app, scopes("stream"), T0.plus_secs(60));
    let a2 = s.approve(&second).await.unwrap();
    assert_eq!(
        a2,
        Approved {
            grant_id: a1.grant_id.clone(),
            seat: a1.seat.clone(),
            scopes: scopes("library:read stream"),
        }
    );
    let g = s.grant(&a1.grant_id).await.unwrap().unwrap();
    assert_eq!(
        (g.scopes, g.created_at),
        (scopes("library:read stream"), T0)
    );
    assert_eq!(s.grant(&second.grant_id).await.unwrap(), None);
    assert_eq!(s.device_by_id(&second.seat.id).await.unwrap(), None);
    // A narrower approval keeps what was granted.
    let a2b = s
        .approve(&approval(&anna, &app, scopes("stream"), T0.plus_secs(90)))
        .await
        .unwrap();
    assert_eq!(a2b, a2);

    // Another user gets a grant and seat of their own.
    let b = s
        .approve(&approval(&bob, &app, scopes("profile"), T0))
        .await
        .unwrap();
    assert_ne!(b.grant_id, a1.grant_id);
    assert_ne!(b.seat, a1.seat);
    assert_eq!(b.scopes, scopes("profile"));
    assert_eq!(s.grant(&b.grant_id).await.unwrap().unwrap().user_id, bob.id);
    assert_eq!(
        s.grant(&a1.grant_id).await.unwrap().unwrap().scopes,
        scopes("library:read stream"),
        "bob's approval left anna's grant alone"
    );

    // Once the grant is removed, approving makes a new grant with a new seat and only the new
    // scopes.
    let r = s
        .revoke(
            RevokeScope::Grant {
                user: &anna.id,
                grant: &a1.grant_id,
            },
            SignOutReason::AccessRemoved,
            None,
            T0.plus_secs(120),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.grants, r.devices),
        (vec![a1.grant_id.clone()], vec![a1.seat.clone()])
    );
    let third = approval(&anna, &app, scopes("profile"), T0.plus_secs(180));
    let a3 = s.approve(&third).await.unwrap();
    assert_eq!(
        a3,
        Approved {
            grant_id: third.grant_id.clone(),
            seat: third.seat.id.clone(),
            scopes: scopes("profile"),
        }
    );
    assert_ne!(a3.grant_id, a1.grant_id);
    let old = s.grant(&a1.grant_id).await.unwrap().unwrap();
    assert_eq!(
        old.revoked.map(|r| r.reason),
        Some(SignOutReason::AccessRemoved)
    );
    assert_eq!(s.grant(&b.grant_id).await.unwrap().unwrap().revoked, None);
}

async fn a_code_is_spent_once_and_its_replay_names_what_it_issued(s: SqlStore) {
    let anna = user("anna");
    s.create_user(&anna).await.unwrap();
    let app = new_app(&anna, "Player", false);
    s.create_app(&app).await.unwrap();
    let a = authorised(&s, &anna, &app, scopes("library:read stream")).await;
    let code_of = |secret: &SecretToken| AuthCode {
        code_hash: secret.hash(),
        client_id: app.client_id.clone(),
        user_id: anna.id.clone(),
        grant_id: a.grant.clone(),
        device_id: a.seat.clone(),
        redirect_uri: app.redirect_uris[1].clone(),
        scopes: a.scopes,
        challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        expires_at: T0.plus_secs(600),
    };

    let secret = OsRandom.token();
    let code = code_of(&secret);
    s.put_code(&code).await.unwrap();
    assert_eq!(
        s.use_code(&secret.hash(), T0.plus_secs(1)).await.unwrap(),
        CodeUse::Fresh(code.clone())
    );
    assert_eq!(
        s.use_code(&secret.hash(), T0.plus_secs(2)).await.unwrap(),
        CodeUse::Replayed { issued: None }
    );
    // Once tokens went out for it, a replay names the refresh token to revoke.
    let p = pair(&a, T0.plus_secs(30 * DAY));
    s.issue(Some(&secret.hash()), &[p.refresh.clone(), p.access.clone()])
        .await
        .unwrap();
    assert_eq!(
        s.use_code(&secret.hash(), T0.plus_secs(3)).await.unwrap(),
        CodeUse::Replayed {
            issued: Some(p.refresh.id.clone())
        }
    );
    let rt = presented(&s, &p.refresh_token).await.unwrap().credential;
    assert_eq!(
        (rt.kind, rt.grant_id.as_deref(), rt.device_id),
        (
            CredentialKind::OAuthRefresh,
            Some(a.grant.as_str()),
            a.seat.clone()
        )
    );
    let at = presented(&s, &p.access_token).await.unwrap().credential;
    assert_eq!(at.parent_id, Some(p.refresh.id.clone()));
    // A replay after the code's expiry is still recognised.
    assert_eq!(
        s.use_code(&secret.hash(), T0.plus_secs(7200))
            .await
            .unwrap(),
        CodeUse::Replayed {
            issued: Some(p.refresh.id.clone())
        }
    );

    // An expired code is unknown, and stays so.
    let late = OsRandom.token();
    s.put_code(&code_of(&late)).await.unwrap();
    assert_eq!(
        s.use_code(&late.hash(), T0.plus_secs(600)).await.unwrap(),
        CodeUse::Unknown
    );
    assert_eq!(
        s.use_code(&late.hash(), T0.plus_secs(601)).await.unwrap(),
        CodeUse::Unknown
    );
    // One used just before its expiry is fresh.
    let just = OsRandom.token();
    s.put_code(&code_of(&just)).await.unwrap();
    assert_eq!(
        s.use_code(&just.hash(), Timestamp(T0.plus_secs(600).0 - 1))
            .await
            .unwrap(),
        CodeUse::Fresh(code_of(&just))
    );
    // A code never issued is unknown.
    assert_eq!(
        s.use_code(&OsRandom.token().hash(), T0.plus_secs(1))
            .await
            .unwrap(),
        CodeUse::Unknown
    );
}

async fn a_refresh_token_rotates_once_and_its_reuse_ends_the_grant(s: SqlStore) {
    let anna = user("anna");
    s.create_user(&anna).await.unwrap();
    let app = new_app(&anna, "Player", true);
    let other = new_app(&anna, "Other", false);
    s.create_app(&app).await.unwrap();
    s.create_app(&other).await.unwrap();
    let a = authorised(&s, &anna, &app, scopes("library:read stream")).await;
    let p0 = issued(&s, &a, T0.plus_secs(30 * DAY)).await;
    let t1 = T0.plus_secs(60);

    // The first rotation replaces it; the new pair carries its user, seat, grant and scopes.
    let (f1, p1) = refresh_of(&p0.refresh_token, &app.client_id);
    match s.rotate_refresh(&f1, t1).await.unwrap() {
        Rotation::Rotated { grant, scopes } => {
            assert_eq!(scopes, a.scopes);
            assert_eq!(
                (grant.id, grant.user_id, grant.client_id),
                (a.grant.clone(), anna.id.clone(), app.client_id.clone())
            );
        }
        other => panic!("expected Rotated, got {other:?}"),
    }
    assert_eq!(
        revocations(&s, &[&p0.refresh.id]).await,
        all_for(&[&p0.refresh.id], SignOutReason::Rotated)
    );
    for (token, kind) in [
        (&p1.refresh_token, CredentialKind::OAuthRefresh),
        (&p1.access_token, CredentialKind::OAuthAccess),
    ] {
        let got = presented(&s, token).await.expect("the new pair was issued");
        let c = &got.credential;
        assert_eq!(
            (
                c.kind,
                c.user_id.clone(),
                c.device_id.clone(),
                c.grant_id.as_deref(),
                c.scopes,
                c.revoked.is_none()
            ),
            (
                kind,
                anna.id.clone(),
                a.seat.clone(),
                Some(a.grant.as_str()),
                a.scopes,
                true
            )
        );
    }

    // Refused, and the live refresh token is left alone: another app's client id, an access
    // token presented as a refresh token, a token never issued.
    let (wrong_client, wc) = refresh_of(&p1.refresh_token, &other.client_id);
    assert_eq!(
        s.rotate_refresh(&wrong_client, t1).await.unwrap(),
        Rotation::Refused
    );
    let (as_refresh, ar) = refresh_of(&p1.access_token, &app.client_id);
    assert_eq!(
        s.rotate_refresh(&as_refresh, t1).await.unwrap(),
        Rotation::Refused
    );
    let (unknown, un) = refresh_of(&OsRandom.token(), &app.client_id);
    assert_eq!(
        s.rotate_refresh(&unknown, t1).await.unwrap(),
        Rotation::Refused
    );
    for p in [&wc, &ar, &un] {
        assert!(presented(&s, &p.refresh_token).await.is_none());
    }
    assert!(
        revocations(&s, &[&p1.refresh.id, &p1.access.id])
            .await
            .is_empty(),
        "a refused presentation revokes nothing"
    );

    // The replaced token again: it is presumed stolen, and the whole grant ends.
    let t2 = T0.plus_secs(120);
    let (again, p2) = refresh_of(&p0.refresh_token, &app.client_id);
    assert_eq!(
        s.rotate_refresh(&again, t2).await.unwrap(),
        Rotation::Reused {
            user_id: anna.id.clone(),
            grant_id: a.grant.clone()
        }
    );
    assert!(presented(&s, &p2.refresh_token).await.is_none());
    let mut expected = all_for(
        &[&p0.access.id, &p1.refresh.id, &p1.access.id],
        SignOutReason::RefreshTokenReused,
    );
    expected.push((p0.refresh.id.clone(), SignOutReason::Rotated));
    expected.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        revocations(
            &s,
            &[&p0.refresh.id, &p0.access.id, &p1.refresh.id, &p1.access.id]
        )
        .await,
        expected
    );
    let seat = s.device_by_id(&a.seat).await.unwrap().unwrap();
    assert_eq!(
        seat.revoked.map(|r| r.reason),
        Some(SignOutReason::RefreshTokenReused)
    );
    let g = s.grant(&a.grant).await.unwrap().unwrap();
    assert_eq!(
        g.revoked.map(|r| (r.reason, r.at)),
        Some((SignOutReason::RefreshTokenReused, t2))
    );
    // The newer token, revoked with the grant, is refused too.
    let (late, _) = refresh_of(&p1.refresh_token, &app.client_id);
    assert_eq!(
        s.rotate_refresh(&late, t2).await.unwrap(),
        Rotation::Refused
    );

    // An expired refresh token is refused and nothing is issued for it.
    let b = authorised(&s, &anna, &other, scopes("profile")).await;
    let short = issued(&s, &b, T0.plus_secs(600)).await;
    let (expired, pe) = refresh_of(&short.refresh_token, &other.client_id);
    assert_eq!(
        s.rotate_refresh(&expired, T0.plus_secs(600)).await.unwrap(),
        Rotation::Refused
    );
    assert!(presented(&s, &pe.refresh_token).await.is_none());
    assert_eq!(s.grant(&b.grant).await.unwrap().unwrap().revoked, None);
}

async fn concurrent_rotations_of_one_token_admit_at_most_one(s: SqlStore) {
    const N: usize = 20;
    let anna = user("anna");
    s.create_user(&anna).await.unwrap();
    let app = new_app(&anna, "Player", false);
    s.create_app(&app).await.unwrap();
    let a = authorised(&s, &anna, &app, scopes("library:read stream")).await;
    let p0 = issued(&s, &a, T0.plus_secs(30 * DAY)).await;

    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::new();
    for _ in 0..N {
        let (f, p) = refresh_of(&p0.refresh_token, &app.client_id);
        let (s, barrier) = (s.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (s.rotate_refresh(&f, T0.plus_secs(60)).await.unwrap(), p)
        }));
    }
    let (mut rotated, mut reused, mut refused) = (Vec::new(), 0, 0);
    for t in tasks {
        let (outcome, p) = t.await.unwrap();
        match outcome {
            Rotation::Rotated { scopes, .. } => {
                assert_eq!(scopes, a.scopes);
                rotated.push(p);
            }
            Rotation::Reused { user_id, grant_id } => {
                assert_eq!((user_id, grant_id), (anna.id.clone(), a.grant.clone()));
                reused += 1;
            }
            Rotation::Refused => refused += 1,
        }
    }
    assert!(
        rotated.len() <= 1,
        "{} of {N} concurrent rotations succeeded",
        rotated.len()
    );
    assert_eq!(rotated.len() + reused + refused, N);
    let winners = rotated.len();
    // No loser was issued anything: the grant holds the original pair and the winner's, if any.
    let grant_credentials = s
        .raw_strings(&format!(
            "SELECT id FROM credentials WHERE grant_id = '{}'",
            a.grant
        ))
        .await
        .unwrap();
    assert_eq!(grant_credentials.len(), 2 + 2 * winners);
    let grant = s.grant(&a.grant).await.unwrap().unwrap();
    let seat = s.device_by_id(&a.seat).await.unwrap().unwrap();
    if reused > 0 {
        assert_eq!(
            grant.revoked.map(|r| r.reason),
            Some(SignOutReason::RefreshTokenReused)
        );
        assert!(seat.revoked.is_some());
        // Including whatever the winner was given.
        for p in &rotated {
            let c = presented(&s, &p.refresh_token).await.unwrap().credential;
            assert_eq!(
                c.revoked.map(|r| r.reason),
                Some(SignOutReason::RefreshTokenReused)
            );
        }
    } else {
        assert_eq!(grant.revoked, None);
        assert!(seat.revoked.is_none());
    }
}

async fn grants_of_lists_live_grants_with_last_use_and_coded_devices(s: SqlStore) {
    let anna = user("anna");
    let bob = user("bob");
    s.create_user(&anna).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let player = new_app(&bob, "Player", false);
    let sync = new_app(&bob, "Sync", true);
    s.create_app(&player).await.unwrap();
    s.create_app(&sync).await.unwrap();
    let a = authorised(&s, &anna, &player, scopes("library:read stream")).await;
    let b = authorised(&s, &anna, &sync, scopes("export")).await;
    let pa = issued(&s, &a, T0.plus_secs(30 * DAY)).await;
    let pb = issued(&s, &b, T0.plus_secs(30 * DAY)).await;

    // A TV approved by code through the player's grant.
    let (mut tv, _) = device(&anna, "Living room TV", T0);
    tv.device_type = "tv".into();
    tv.origin = DeviceOrigin::DeviceCode;
    tv.grant_id = Some(a.grant.clone());
    let (tv_rt, _) = app_token(
        &anna.id,
        &tv.id,
        &a.grant,
        CredentialKind::OAuthRefresh,
        None,
        a.scopes,
        T0.plus_secs(30 * DAY),
    );
    assert_eq!(
        s.admit_device(&tv, &tv_rt, 6, live(T0), None)
            .await
            .unwrap(),
        Admission::Admitted
    );

    let now = T0.plus_secs(7200);
    let listed = |views: Vec<GrantView>| -> Vec<(String, Timestamp)> {
        views
            .into_iter()
            .map(|v| (v.grant.id, v.last_used))
            .collect()
    };
    s.touch(&pa.access.id, &a.seat, T0.plus_secs(3600), "10.0.0.1")
        .await
        .unwrap();
    s.touch(&pb.refresh.id, &b.seat, T0.plus_secs(1800), "10.0.0.1")
        .await
        .unwrap();
    let views = s.grants_of(&anna.id, live(now)).await.unwrap();
    // Whole: the grant, its app, and only the devices approved by code (not the app's seat).
    let va = views.iter().find(|v| v.grant.id == a.grant).unwrap();
    assert_eq!(Some(&va.grant), s.grant(&a.grant).await.unwrap().as_ref());
    assert_eq!(va.app, player);
    let tv_ids: Vec<&DeviceId> = va.devices.iter().map(|d| &d.id).collect();
    assert_eq!(tv_ids, vec![&tv.id]);
    assert_eq!(va.devices[0].origin, DeviceOrigin::DeviceCode);
    let vb = views.iter().find(|v| v.grant.id == b.grant).unwrap();
    assert_eq!(vb.app, sync);
    assert!(vb.devices.is_empty());
    assert_eq!(
        listed(views),
        vec![
            (a.grant.clone(), T0.plus_secs(3600)),
            (b.grant.clone(), T0.plus_secs(1800)),
        ]
    );
    // Any token's use moves it, the TV's too; the most recently used comes first.
    s.touch(&pb.access.id, &b.seat, T0.plus_secs(5400), "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(
        listed(s.grants_of(&anna.id, live(now)).await.unwrap()),
        vec![
            (b.grant.clone(), T0.plus_secs(5400)),
            (a.grant.clone(), T0.plus_secs(3600)),
        ]
    );
    s.touch(&tv_rt.id, &tv.id, T0.plus_secs(6000), "10.0.0.2")
        .await
        .unwrap();
    assert_eq!(
        listed(s.grants_of(&anna.id, live(now)).await.unwrap()),
        vec![
            (a.grant.clone(), T0.plus_secs(6000)),
            (b.grant.clone(), T0.plus_secs(5400)),
        ]
    );
    // Other users' grants are not listed.
    assert!(s.grants_of(&bob.id, live(now)).await.unwrap().is_empty());

    // A signed-out TV leaves the list of devices; a removed grant leaves the list of grants.
    s.revoke(
        RevokeScope::Device {
            user: &anna.id,
            device: &tv.id,
        },
        SignOutReason::SignedOutByUser,
        None,
        now,
    )
    .await
    .unwrap();
    s.revoke(
        RevokeScope::Grant {
            user: &anna.id,
            grant: &b.grant,
        },
        SignOutReason::AccessRemoved,
        None,
        now,
    )
    .await
    .unwrap();
    let views = s.grants_of(&anna.id, live(now)).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].grant.id, a.grant);
    assert!(views[0].devices.is_empty());
}
