//! E-mail addresses, mailed links, and two-step sign-in, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_core::{OsRandom, Random, SecretToken, Timestamp, TokenHash};
use clef_store::*;
use common::*;

conformance!(
    addresses_are_unique_letter_case_aside,
    a_newer_reset_link_supersedes_the_older_and_each_works_once,
    a_reset_ends_every_device_credential_and_waiting_sign_in,
    of_concurrent_uses_of_one_link_exactly_one_wins,
    a_confirmation_link_sets_the_address_unless_it_was_taken,
    a_code_step_and_a_recovery_code_are_accepted_once,
    enrolment_waits_for_its_first_code_and_turning_off_forgets_everything,
    a_challenge_counts_failures_and_is_taken_once,
);

fn link(u: &User, purpose: LinkPurpose, at: Timestamp) -> (EmailLink, SecretToken) {
    let token = OsRandom.token();
    let link = EmailLink {
        token_hash: token.hash(),
        user_id: u.id.clone(),
        purpose,
        email: "anna@example.org".into(),
        created_at: at,
        expires_at: at.plus_secs(1800),
    };
    (link, token)
}

async fn anna(s: &SqlStore) -> User {
    let mut u = user("anna");
    u.email = Some("Anna@Example.org".into());
    s.create_user(&u).await.unwrap();
    u
}

async fn addresses_are_unique_letter_case_aside(s: SqlStore) {
    let a = anna(&s).await;
    let found = s.user_by_email("anna@EXAMPLE.org").await.unwrap().unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(found.email.as_deref(), Some("Anna@Example.org"));
    assert!(found.notify_new_device);
    assert_eq!(found.totp_enabled_at, None);

    let mut bob = user("bob");
    bob.email = Some("ANNA@example.org".into());
    assert!(matches!(
        s.create_user(&bob).await,
        Err(StoreError::Conflict("email"))
    ));
    bob.email = None;
    s.create_user(&bob).await.unwrap();
    assert!(matches!(
        s.set_email(&bob.id, Some("anna@example.ORG")).await,
        Err(StoreError::Conflict("email"))
    ));
    let mut again = user("anna");
    again.email = Some("other@example.org".into());
    assert!(matches!(
        s.create_user(&again).await,
        Err(StoreError::Conflict("username"))
    ));

    // Many users may have no address; clearing one frees it for another.
    s.set_email(&a.id, None).await.unwrap();
    s.set_email(&bob.id, Some("anna@example.org"))
        .await
        .unwrap();
    assert_eq!(
        s.user_by_email("Anna@example.org")
            .await
            .unwrap()
            .unwrap()
            .id,
        bob.id
    );
    s.set_notify_new_device(&bob.id, false).await.unwrap();
    assert!(
        !s.user_by_id(&bob.id)
            .await
            .unwrap()
            .unwrap()
            .notify_new_device
    );
}

async fn a_newer_reset_link_supersedes_the_older_and_each_works_once(s: SqlStore) {
    let a = anna(&s).await;
    let (old, old_token) = link(&a, LinkPurpose::PasswordReset, T0);
    s.put_email_link(&old).await.unwrap();
    let (confirm, confirm_token) = link(&a, LinkPurpose::ConfirmEmail, T0);
    s.put_email_link(&confirm).await.unwrap();
    let (new, new_token) = link(&a, LinkPurpose::PasswordReset, T0.plus_secs(60));
    s.put_email_link(&new).await.unwrap();
    let now = T0.plus_secs(120);

    let reset = LinkPurpose::PasswordReset;
    assert_eq!(
        s.email_link(&old_token.hash(), reset, now).await.unwrap(),
        None
    );
    assert_eq!(
        s.reset_password_by_link(&old_token.hash(), "h2", now)
            .await
            .unwrap(),
        None
    );
    // A link of another purpose is neither superseded nor usable as a reset.
    assert!(s
        .email_link(&confirm_token.hash(), LinkPurpose::ConfirmEmail, now)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        s.reset_password_by_link(&confirm_token.hash(), "h2", now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.email_link(&new_token.hash(), reset, now).await.unwrap(),
        Some(new.clone())
    );
    let (used, _) = s
        .reset_password_by_link(&new_token.hash(), "h2", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used, new);
    assert_eq!(
        s.user_by_id(&a.id).await.unwrap().unwrap().password_hash,
        "h2"
    );
    assert_eq!(
        s.email_link(&new_token.hash(), reset, now).await.unwrap(),
        None
    );
    assert_eq!(
        s.reset_password_by_link(&new_token.hash(), "h3", now)
            .await
            .unwrap(),
        None
    );

    // Expired: valid a moment before its end, not at it.
    let (late, late_token) = link(&a, reset, now);
    s.put_email_link(&late).await.unwrap();
    let end = late.expires_at;
    assert!(s
        .email_link(&late_token.hash(), reset, Timestamp(end.0 - 1))
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        s.reset_password_by_link(&late_token.hash(), "h4", end)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.user_by_id(&a.id).await.unwrap().unwrap().password_hash,
        "h2"
    );
}

async fn a_reset_ends_every_device_credential_and_waiting_sign_in(s: SqlStore) {
    let a = anna(&s).await;
    let bob = user("bob");
    s.create_user(&bob).await.unwrap();
    s.set_must_change_password(&a.id, true).await.unwrap();
    let mut tokens = Vec::new();
    for (u, name, origin) in [
        (&a, "laptop", DeviceOrigin::WebSession),
        (&a, "DSub", DeviceOrigin::AppPassword),
        (&a, "Symfonium", DeviceOrigin::ApiKey),
        (&bob, "bob's laptop", DeviceOrigin::WebSession),
    ] {
        let (mut d, _) = device(u, name, T0);
        d.origin = origin;
        s.admit_device(&d, &cred(&d), 6, live(T0), None)
            .await
            .unwrap();
        tokens.push(token_of(&d));
    }
    let pending = PendingSignIn {
        token_hash: TokenHash("pending".into()),
        user_id: a.id.clone(),
        name: "phone".into(),
        device_type: "phone".into(),
        client: "Clef".into(),
        ip: "10.0.0.1".into(),
        expires_at: T0.plus_secs(600),
    };
    s.put_pending(&pending).await.unwrap();
    let (l, t) = link(&a, LinkPurpose::PasswordReset, T0);
    s.put_email_link(&l).await.unwrap();
    for (u, id) in [(&a, "anna's key"), (&bob, "bob's key")] {
        s.add_passkey(&StoredPasskey {
            id: id.into(),
            user_id: u.id.clone(),
            name: "Laptop".into(),
            credential_id: format!("cred-{id}"),
            passkey: "{}".into(),
            created_at: T0,
            last_used_at: None,
        })
        .await
        .unwrap();
    }

    let (_, revoked) = s
        .reset_password_by_link(&t.hash(), "new-hash", T0.plus_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.devices.len(), 3);
    for token in &tokens[..3] {
        let p = s.credential_by_token(&token.hash()).await.unwrap().unwrap();
        let r = p.credential.revoked.expect("revoked");
        assert_eq!(r.reason, SignOutReason::PasswordReset);
        assert_eq!(r.by_device, None);
    }
    let bobs = s
        .credential_by_token(&tokens[3].hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bobs.credential.revoked, None,
        "another user's device is untouched"
    );
    let user = s.user_by_id(&a.id).await.unwrap().unwrap();
    assert_eq!(user.password_hash, "new-hash");
    assert!(!user.must_change_password);
    assert!(
        s.passkeys(&a.id).await.unwrap().is_empty(),
        "passkeys end with the reset"
    );
    assert_eq!(s.passkeys(&bob.id).await.unwrap().len(), 1);
    assert!(s
        .take_pending(&pending.token_hash, T0.plus_secs(6))
        .await
        .unwrap()
        .is_none());
}

async fn of_concurrent_uses_of_one_link_exactly_one_wins(s: SqlStore) {
    let s = Arc::new(s);
    let a = anna(&s).await;
    for round in 0..5 {
        let (l, t) = link(&a, LinkPurpose::PasswordReset, T0);
        s.put_email_link(&l).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(10));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (s, b, h) = (s.clone(), barrier.clone(), t.hash());
                tokio::spawn(async move {
                    b.wait().await;
                    s.reset_password_by_link(&h, &format!("h{round}-{i}"), T0.plus_secs(1))
                        .await
                        .unwrap()
                        .is_some()
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.unwrap());
        }
        assert_eq!(won, 1, "round {round}");
    }
}

async fn a_confirmation_link_sets_the_address_unless_it_was_taken(s: SqlStore) {
    let a = anna(&s).await;
    let bob = user("bob");
    s.create_user(&bob).await.unwrap();
    let at = T0.plus_secs(1);
    let confirm = |u: &User, email: &str| {
        let (mut l, t) = link(u, LinkPurpose::ConfirmEmail, T0);
        l.email = email.into();
        (l, t)
    };
    let (l, t) = confirm(&bob, "bob@example.org");
    s.put_email_link(&l).await.unwrap();
    assert_eq!(
        s.confirm_email(&t.hash(), at).await.unwrap().unwrap().email,
        "bob@example.org"
    );
    let found = s.user_by_id(&bob.id).await.unwrap().unwrap();
    assert_eq!(found.email.as_deref(), Some("bob@example.org"));
    assert_eq!(s.confirm_email(&t.hash(), at).await.unwrap(), None);

    // Anna asks for bob's address meanwhile: refused, her link stays unused, her address kept.
    let (l, t) = confirm(&a, "BOB@example.org");
    s.put_email_link(&l).await.unwrap();
    assert!(matches!(
        s.confirm_email(&t.hash(), at).await,
        Err(StoreError::Conflict("email"))
    ));
    assert!(s
        .email_link(&t.hash(), LinkPurpose::ConfirmEmail, at)
        .await
        .unwrap()
        .is_some());
    let anna_now = s.user_by_id(&a.id).await.unwrap().unwrap();
    assert_eq!(anna_now.email.as_deref(), Some("Anna@Example.org"));
}

async fn enrolled(s: &SqlStore, name: &str) -> User {
    let u = user(name);
    s.create_user(&u).await.unwrap();
    assert!(s.begin_totp(&u.id, "sealed-key").await.unwrap());
    let codes: Vec<String> = (0..10).map(|i| format!("code{i}")).collect();
    assert!(s.enable_totp(&u.id, T0, 100, &codes).await.unwrap());
    u
}

async fn a_code_step_and_a_recovery_code_are_accepted_once(s: SqlStore) {
    let s = Arc::new(s);
    let u = enrolled(&s, "anna").await;
    // The enrolment's own step is spent.
    assert!(!s.use_totp_step(&u.id, 100).await.unwrap());
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (s, b, id) = (s.clone(), barrier.clone(), u.id.clone());
            tokio::spawn(async move {
                b.wait().await;
                let step = s.use_totp_step(&id, 101).await.unwrap();
                let code = s.use_recovery_code(&id, "code3", T0).await.unwrap();
                (step, code, i)
            })
        })
        .collect();
    let (mut steps, mut codes) = (0, 0);
    for t in tasks {
        let (step, code, _) = t.await.unwrap();
        steps += usize::from(step);
        codes += usize::from(code);
    }
    assert_eq!((steps, codes), (1, 1));
    assert!(
        !s.use_totp_step(&u.id, 99).await.unwrap(),
        "an earlier step"
    );
    assert!(s.use_totp_step(&u.id, 103).await.unwrap());
    assert!(!s.use_recovery_code(&u.id, "unknown", T0).await.unwrap());
    assert_eq!(s.recovery_codes_left(&u.id).await.unwrap(), 9);
    let state = s.totp_state(&u.id).await.unwrap().unwrap();
    assert_eq!(state.last_step, Some(103));
    assert_eq!(state.enabled_at, Some(T0));

    // New codes replace the old ones, used or not.
    s.replace_recovery_codes(&u.id, &["fresh".into()])
        .await
        .unwrap();
    assert!(!s.use_recovery_code(&u.id, "code4", T0).await.unwrap());
    assert_eq!(s.recovery_codes_left(&u.id).await.unwrap(), 1);
}

async fn enrolment_waits_for_its_first_code_and_turning_off_forgets_everything(s: SqlStore) {
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    assert_eq!(s.totp_state(&u.id).await.unwrap(), None);
    assert!(
        !s.enable_totp(&u.id, T0, 5, &[]).await.unwrap(),
        "no key waits"
    );
    assert!(s.begin_totp(&u.id, "first").await.unwrap());
    assert!(
        s.begin_totp(&u.id, "second").await.unwrap(),
        "a waiting key is replaced"
    );
    let waiting = s.totp_state(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (waiting.sealed.as_str(), waiting.enabled_at),
        ("second", None)
    );
    assert_eq!(
        s.user_by_id(&u.id).await.unwrap().unwrap().totp_enabled_at,
        None
    );
    assert!(!s.use_totp_step(&u.id, 7).await.unwrap(), "not on yet");

    assert!(s.enable_totp(&u.id, T0, 7, &["c1".into()]).await.unwrap());
    assert_eq!(
        s.user_by_id(&u.id).await.unwrap().unwrap().totp_enabled_at,
        Some(T0)
    );
    assert!(
        !s.begin_totp(&u.id, "third").await.unwrap(),
        "an enabled key stays"
    );
    assert!(!s.enable_totp(&u.id, T0, 8, &[]).await.unwrap());

    s.disable_totp(&u.id).await.unwrap();
    assert_eq!(s.totp_state(&u.id).await.unwrap(), None);
    assert_eq!(s.recovery_codes_left(&u.id).await.unwrap(), 0);
    assert_eq!(
        s.user_by_id(&u.id).await.unwrap().unwrap().totp_enabled_at,
        None
    );
}

async fn a_challenge_counts_failures_and_is_taken_once(s: SqlStore) {
    let s = Arc::new(s);
    let u = user("anna");
    s.create_user(&u).await.unwrap();
    let c = SignInChallenge {
        token_hash: OsRandom.token().hash(),
        user_id: u.id.clone(),
        name: "phone".into(),
        device_type: "phone".into(),
        client: "Clef".into(),
        ip: "10.0.0.9".into(),
        expires_at: T0.plus_secs(300),
        failures: 0,
        passed: false,
    };
    s.put_challenge(&c).await.unwrap();
    assert_eq!(
        s.challenge(&c.token_hash, T0).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(s.fail_challenge(&c.token_hash).await.unwrap(), 1);
    assert_eq!(s.fail_challenge(&c.token_hash).await.unwrap(), 2);

    assert_eq!(
        s.challenge(&c.token_hash, c.expires_at).await.unwrap(),
        None
    );

    let barrier = Arc::new(tokio::sync::Barrier::new(6));
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (s, b, h) = (s.clone(), barrier.clone(), c.token_hash.clone());
            tokio::spawn(async move {
                b.wait().await;
                s.take_challenge(&h, T0).await.unwrap()
            })
        })
        .collect();
    let mut taken = Vec::new();
    for t in tasks {
        taken.extend(t.await.unwrap());
    }
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].failures, 2);
    // Put back marked as passed (the device limit stopped the sign-in), it reads back so.
    let passed = SignInChallenge {
        passed: true,
        ..taken[0].clone()
    };
    s.put_challenge(&passed).await.unwrap();
    assert_eq!(
        s.challenge(&c.token_hash, T0).await.unwrap(),
        Some(passed.clone())
    );
    assert_eq!(
        s.take_challenge(&c.token_hash, T0).await.unwrap(),
        Some(passed)
    );
    assert_eq!(s.challenge(&c.token_hash, T0).await.unwrap(), None);
}

/// A database of the previous release (schema 9): its users, devices and playlists carry over,
/// with no address, the new-device notice on and two-step sign-in off.
async fn upgrade_from_schema_9(url: &str) {
    let old = SqlStore::connect_at(url, 9).await.unwrap();
    for sql in [
        "INSERT INTO users (id, username, password_hash, is_admin, disabled, max_devices, max_streams, created_at, must_change_password) \
         VALUES ('u1', 'anna', 'h', 1, 0, 3, 2, 1700000000000, 0)",
        "INSERT INTO devices (id, user_id, name, device_type, client, origin, ip, first_seen, last_seen, expires_at) \
         VALUES ('d1', 'u1', 'Anna''s phone', 'phone', 'DSub', 'app_password', '10.0.0.7', 1700000000000, 1700000500000, 1900000000000)",
        "INSERT INTO playlists (id, user_id, name, created_at, updated_at) VALUES ('p1', 'u1', 'Car', 1700000000000, 1700000000000)",
        "INSERT INTO annotations (user_id, item_id, kind, starred_at) VALUES ('u1', 'al-1', 'album', 1700000000000)",
    ] {
        old.raw_execute(sql).await.unwrap();
    }
    drop(old);
    let s = SqlStore::connect(url).await.unwrap();
    let anna = s.user_by_name("anna").await.unwrap().unwrap();
    assert!(anna.is_admin);
    assert_eq!(anna.email, None);
    assert!(anna.notify_new_device);
    assert_eq!(anna.totp_enabled_at, None);
    assert_eq!(s.totp_state(&anna.id).await.unwrap(), None);
    assert!(s
        .device_by_id(&clef_core::DeviceId("d1".into()))
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        s.raw_strings("SELECT name FROM playlists").await.unwrap(),
        ["Car"]
    );
    assert_eq!(s.annotations(&anna.id).await.unwrap().len(), 1);
    s.set_email(&anna.id, Some("anna@example.org"))
        .await
        .unwrap();
    assert!(s.user_by_email("ANNA@example.org").await.unwrap().is_some());
}

#[tokio::test]
async fn a_schema_9_database_upgrades_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_from_schema_9(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.db").display()
    ))
    .await;
}

#[tokio::test]
async fn a_schema_9_database_upgrades_on_postgres() {
    upgrade_from_schema_9(&postgres_url().await).await;
}
