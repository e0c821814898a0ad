//! Passkeys and WebAuthn ceremonies, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use clef_core::{OsRandom, Random, SecretToken, Timestamp, UserId};
use clef_store::*;
use common::*;

conformance!(
    passkeys_are_listed_used_and_removed_by_their_owner_only,
    a_credential_id_is_registered_once_across_accounts,
    deleting_a_user_deletes_their_passkeys_and_ceremonies,
    a_ceremony_is_taken_once_and_never_after_it_expires,
    of_concurrent_takes_of_one_ceremony_exactly_one_wins,
);

fn passkey(u: &User, name: &str, at: Timestamp) -> StoredPasskey {
    StoredPasskey {
        id: OsRandom.id(),
        user_id: u.id.clone(),
        name: name.into(),
        credential_id: format!("cred-{}", OsRandom.id()),
        passkey: format!("{{\"cred\":{{\"counter\":0,\"name\":\"{name}\"}}}}"),
        created_at: at,
        last_used_at: None,
    }
}

fn ceremony(
    user: Option<&UserId>,
    kind: CeremonyKind,
    ends: Timestamp,
) -> (WebauthnCeremony, SecretToken) {
    let token = OsRandom.token();
    let c = WebauthnCeremony {
        token_hash: token.hash(),
        user_id: user.cloned(),
        kind,
        state: format!(
            "{{\"kind\":\"{kind}\",\"challenge\":\"{}\"}}",
            OsRandom.id()
        ),
        expires_at: ends,
    };
    (c, token)
}

async fn created(s: &SqlStore, name: &str) -> User {
    let u = user(name);
    s.create_user(&u).await.unwrap();
    u
}

async fn passkeys_are_listed_used_and_removed_by_their_owner_only(s: SqlStore) {
    let anna = created(&s, "anna").await;
    let bob = created(&s, "bob").await;
    let laptop = passkey(&anna, "Laptop", T0);
    let phone = passkey(&anna, "Phone", T0.plus_secs(60));
    let bobs = passkey(&bob, "Bob's key", T0);
    for p in [&phone, &laptop, &bobs] {
        s.add_passkey(p).await.unwrap();
    }
    assert_eq!(
        s.passkeys(&anna.id).await.unwrap(),
        vec![laptop.clone(), phone.clone()],
        "oldest first, each as stored"
    );
    assert_eq!(s.passkeys(&bob.id).await.unwrap(), vec![bobs.clone()]);
    assert_eq!(
        s.passkey_by_credential(&phone.credential_id).await.unwrap(),
        Some(phone.clone())
    );
    assert_eq!(s.passkey_by_credential("cred-unknown").await.unwrap(), None);

    // A use keeps the credential as the use left it (its counter) and when.
    let used = "{\"cred\":{\"counter\":7}}";
    assert!(s
        .use_passkey(&laptop.id, used, T0.plus_secs(600))
        .await
        .unwrap());
    let now = s
        .passkey_by_credential(&laptop.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.passkey, used);
    assert_eq!(now.last_used_at, Some(T0.plus_secs(600)));
    assert_eq!(now.name, "Laptop");

    // Only its owner removes a passkey.
    assert_eq!(s.remove_passkey(&bob.id, &laptop.id).await.unwrap(), None);
    assert_eq!(s.passkeys(&anna.id).await.unwrap().len(), 2);
    let removed = s.remove_passkey(&anna.id, &laptop.id).await.unwrap();
    assert_eq!(removed.map(|p| p.name), Some("Laptop".to_owned()));
    assert_eq!(s.remove_passkey(&anna.id, &laptop.id).await.unwrap(), None);
    assert_eq!(s.passkeys(&anna.id).await.unwrap(), vec![phone.clone()]);
    assert_eq!(
        s.passkey_by_credential(&laptop.credential_id)
            .await
            .unwrap(),
        None
    );
    assert!(
        !s.use_passkey(&laptop.id, used, T0.plus_secs(700))
            .await
            .unwrap(),
        "a removed passkey is not used"
    );
    assert_eq!(s.passkeys(&bob.id).await.unwrap(), vec![bobs]);
}

async fn a_credential_id_is_registered_once_across_accounts(s: SqlStore) {
    let anna = created(&s, "anna").await;
    let bob = created(&s, "bob").await;
    let first = passkey(&anna, "Laptop", T0);
    s.add_passkey(&first).await.unwrap();
    let mut again = passkey(&anna, "Laptop again", T0);
    again.credential_id = first.credential_id.clone();
    assert!(matches!(
        s.add_passkey(&again).await,
        Err(StoreError::Conflict("passkey"))
    ));
    let mut bobs = passkey(&bob, "Stolen id", T0);
    bobs.credential_id = first.credential_id.clone();
    assert!(matches!(
        s.add_passkey(&bobs).await,
        Err(StoreError::Conflict("passkey"))
    ));
    assert!(s.passkeys(&bob.id).await.unwrap().is_empty());
    assert_eq!(s.passkeys(&anna.id).await.unwrap(), vec![first]);
}

async fn deleting_a_user_deletes_their_passkeys_and_ceremonies(s: SqlStore) {
    let anna = created(&s, "anna").await;
    let p = passkey(&anna, "Laptop", T0);
    s.add_passkey(&p).await.unwrap();
    let (c, t) = ceremony(Some(&anna.id), CeremonyKind::Register, T0.plus_secs(300));
    s.put_ceremony(&c).await.unwrap();
    assert_eq!(
        s.change_user_guarded(&anna.id, GuardedChange::Delete)
            .await
            .unwrap(),
        GuardOutcome::Done
    );
    assert_eq!(
        s.passkey_by_credential(&p.credential_id).await.unwrap(),
        None
    );
    assert_eq!(s.take_ceremony(&t.hash(), T0).await.unwrap(), None);
}

async fn a_ceremony_is_taken_once_and_never_after_it_expires(s: SqlStore) {
    let anna = created(&s, "anna").await;
    let ends = T0.plus_secs(300);
    let (reg, reg_token) = ceremony(Some(&anna.id), CeremonyKind::Register, ends);
    let (sign_in, sign_in_token) = ceremony(None, CeremonyKind::SignIn, ends);
    let (second, second_token) = ceremony(Some(&anna.id), CeremonyKind::SecondStep, ends);
    for c in [&reg, &sign_in, &second] {
        s.put_ceremony(c).await.unwrap();
    }
    // Unknown tokens find nothing.
    assert_eq!(
        s.take_ceremony(&OsRandom.token().hash(), T0).await.unwrap(),
        None
    );
    assert_eq!(
        s.take_ceremony(&reg_token.hash(), T0).await.unwrap(),
        Some(reg.clone())
    );
    assert_eq!(s.take_ceremony(&reg_token.hash(), T0).await.unwrap(), None);
    assert_eq!(
        s.take_ceremony(&sign_in_token.hash(), ends.minus_secs(1))
            .await
            .unwrap(),
        Some(sign_in),
        "one without a user reads back without one"
    );
    // At its end, a ceremony is gone.
    assert_eq!(
        s.take_ceremony(&second_token.hash(), ends).await.unwrap(),
        None
    );
    assert_eq!(
        s.take_ceremony(&second_token.hash(), ends.minus_secs(1))
            .await
            .unwrap(),
        Some(second),
        "a take at its end changed nothing"
    );

    // Long-expired ceremonies are forgotten when new ones come.
    let (old, old_token) = ceremony(None, CeremonyKind::SignIn, T0);
    s.put_ceremony(&old).await.unwrap();
    let (new, _) = ceremony(None, CeremonyKind::SignIn, T0.plus_secs(7200));
    s.put_ceremony(&new).await.unwrap();
    assert_eq!(
        s.take_ceremony(&old_token.hash(), T0.minus_secs(1))
            .await
            .unwrap(),
        None
    );
}

async fn of_concurrent_takes_of_one_ceremony_exactly_one_wins(s: SqlStore) {
    let s = Arc::new(s);
    let anna = created(&s, "anna").await;
    for _ in 0..5 {
        let (c, t) = ceremony(Some(&anna.id), CeremonyKind::SecondStep, T0.plus_secs(300));
        s.put_ceremony(&c).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(10));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (s, b, h) = (s.clone(), barrier.clone(), t.hash());
                tokio::spawn(async move {
                    b.wait().await;
                    s.take_ceremony(&h, T0).await.unwrap()
                })
            })
            .collect();
        let mut won = Vec::new();
        for task in tasks {
            if let Some(got) = task.await.unwrap() {
                won.push(got);
            }
        }
        assert_eq!(won, vec![c], "exactly one take gets the ceremony");
    }
}
