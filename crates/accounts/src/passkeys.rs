//! Passkeys (WebAuthn, through `webauthn-rs`): adding one with the password typed again, listing
//! and removing them, signing in with one instead of the password, and answering a sign-in's
//! two-step challenge with one.
//!
//! The relying party is the host of `public_url` (an IP address cannot be one: browsers and
//! webauthn-rs both refuse it), and the only origin accepted is `public_url` itself. Each
//! ceremony's state stays on the server (`webauthn_ceremonies`, under the SHA-256 of a token the
//! browser holds) for ten minutes and is used once. Passkeys are made discoverable where the
//! authenticator can, so they sign in without a user name, and always ask for user verification
//! (a PIN or a fingerprint on the device): a passkey is two factors in itself, so signing in with
//! one skips the two-step code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clef_core::{DeviceId, InputError, Password, SecretToken, Timestamp, TokenHash, UserId};
use clef_store::{
    CeremonyKind, CredentialKind, SignInChallenge, StoreError, StoredPasskey, User,
    WebauthnCeremony,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext, DeviceInfo};
use crate::signin::SignedIn;

/// How long a browser has to answer a ceremony.
const CEREMONY_SECS: i64 = 10 * 60;
/// The longest passkey name.
const MAX_NAME_CHARS: usize = 64;
/// The relying party's name, which the browser may show.
const RP_NAME: &str = "Clef";

/// A ceremony started: the token that names it in the answer, and the options for the browser's
/// `navigator.credentials.create` or `.get` (`{"publicKey": …}`, binary values in base64url).
#[derive(Debug, Clone)]
pub struct PasskeyCeremony {
    pub token: String,
    pub options: serde_json::Value,
}

/// A passkey as its owner sees it listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Signing in with a passkey, without the password: the ceremony from
/// `begin_passkey_sign_in` and the browser's answer (`PublicKeyCredential` as JSON).
#[derive(Debug, Clone)]
pub struct PasskeySignIn {
    pub ceremony: String,
    pub response: String,
    pub device: DeviceInfo,
    pub credential: CredentialKind,
    pub ip: String,
}

/// Answering a sign-in's two-step challenge with a passkey instead of a code.
#[derive(Debug, Clone)]
pub struct PasskeySecondStep {
    pub challenge: String,
    pub ceremony: String,
    pub response: String,
    pub credential: CredentialKind,
    pub ip: String,
    /// Sign this device out to make room.
    pub replace: Option<DeviceId>,
}

#[derive(Serialize, Deserialize)]
struct RegisterState {
    name: String,
    registration: PasskeyRegistration,
}

#[derive(Serialize, Deserialize)]
struct SignInState {
    authentication: DiscoverableAuthentication,
}

#[derive(Serialize, Deserialize)]
struct SecondStepState {
    /// The SHA-256 of the sign-in challenge this answers.
    challenge: String,
    authentication: PasskeyAuthentication,
}

/// The user handle an authenticator keeps with a passkey: derived from the user's id, so it is
/// the same for each of the user's passkeys and tells nothing about the account.
fn user_handle(user: &UserId) -> Uuid {
    let digest = Sha256::digest(format!("clef passkey user handle\0{user}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn credential_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

fn passkey_name(name: &str) -> AccountsResult<String> {
    let name = name.trim();
    let bad = |message: &str| {
        AccountsError::Invalid(InputError {
            field: "name",
            message: message.into(),
        })
    };
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(bad("must be 1 to 64 characters"));
    }
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}');
    if name.chars().any(|c| c.is_control() || bidi(c)) {
        return Err(bad("must not contain control characters"));
    }
    Ok(name.to_owned())
}

fn view(p: &StoredPasskey) -> PasskeyView {
    PasskeyView {
        id: p.id.clone(),
        name: p.name.clone(),
        created_at: p.created_at,
        last_used_at: p.last_used_at,
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> AccountsError {
    AccountsError::Internal(format!("{what}: {e}"))
}

/// The browser's answer, or a refusal when it is not one.
fn answer<T: DeserializeOwned>(json: &str) -> AccountsResult<T> {
    serde_json::from_str(json).map_err(|e| {
        tracing::info!(error = %e, "a passkey answer that is not WebAuthn's JSON");
        AccountsError::PasskeyRefused
    })
}

fn refused(e: impl std::fmt::Display) -> AccountsError {
    tracing::info!(error = %e, outcome = "passkey_refused", "a passkey was not accepted");
    AccountsError::PasskeyRefused
}

impl Accounts {
    /// The relying party, from `public_url`: its host is the id, and it is the one origin.
    fn relying_party(&self) -> AccountsResult<Webauthn> {
        let origin = Url::parse(self.cfg.public_url.trim_end_matches('/'))
            .map_err(|_| AccountsError::PasskeysUnavailable)?;
        let Some(domain) = origin.domain().map(str::to_owned) else {
            return Err(AccountsError::PasskeysUnavailable);
        };
        WebauthnBuilder::new(&domain, &origin)
            .and_then(|b| b.rp_name(RP_NAME).build())
            .map_err(|e| {
                tracing::warn!(error = %e, "passkeys unavailable with this public_url");
                AccountsError::PasskeysUnavailable
            })
    }

    /// Whether this server can offer passkeys (its `public_url` names a host, not an address).
    pub fn passkeys_available(&self) -> bool {
        self.relying_party().is_ok()
    }

    async fn put_ceremony<S: Serialize>(
        &self,
        user: Option<&UserId>,
        kind: CeremonyKind,
        state: &S,
    ) -> AccountsResult<String> {
        let token = self.rng.token();
        let state = serde_json::to_string(state).map_err(|e| internal("ceremony state", e))?;
        self.store
            .put_ceremony(&WebauthnCeremony {
                token_hash: token.hash(),
                user_id: user.cloned(),
                kind,
                state,
                expires_at: self.clock.now().plus_secs(CEREMONY_SECS),
            })
            .await?;
        Ok(token.expose().to_owned())
    }

    /// Uses up the ceremony `token` names, if it is of `kind`, unexpired, and `user`'s.
    async fn take_ceremony<S: DeserializeOwned>(
        &self,
        token: &str,
        kind: CeremonyKind,
        user: Option<&UserId>,
    ) -> AccountsResult<S> {
        let hash = SecretToken::from_presented(token).hash();
        let Some(c) = self.store.take_ceremony(&hash, self.clock.now()).await? else {
            return Err(refused("no such ceremony, or it expired or was used"));
        };
        if c.kind != kind || c.user_id.as_ref() != user {
            return Err(refused("a ceremony of another kind or account"));
        }
        serde_json::from_str(&c.state).map_err(|e| internal("ceremony state", e))
    }

    fn parse_passkey(p: &StoredPasskey) -> AccountsResult<Passkey> {
        serde_json::from_str(&p.passkey).map_err(|e| internal("a stored passkey", e))
    }

    /// Starts adding a passkey, after the password is typed again (SECURITY.md S7): the options
    /// for the browser, excluding the account's passkeys so one authenticator is not added twice.
    pub async fn begin_passkey_registration(
        &self,
        ctx: &AuthContext,
        current: Password,
        name: &str,
    ) -> AccountsResult<PasskeyCeremony> {
        let name = passkey_name(name)?;
        let rp = self.relying_party()?;
        let user = self.confirm_password(ctx, &current).await?;
        let mut exclude = Vec::new();
        for p in self.store.passkeys(&user.id).await? {
            exclude.push(Self::parse_passkey(&p)?.cred_id().clone());
        }
        let (options, registration) = rp
            .start_passkey_registration(
                user_handle(&user.id),
                &user.username,
                &user.username,
                Some(exclude),
            )
            .map_err(|e| internal("passkey registration", e))?;
        let mut options =
            serde_json::to_value(&options).map_err(|e| internal("passkey options", e))?;
        // Discoverable where the authenticator can, so it signs in without a user name; a
        // security key that cannot still works as the step after the password.
        if let Some(sel) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(|v| v.as_object_mut())
        {
            sel.insert("residentKey".into(), "preferred".into());
            sel.insert("requireResidentKey".into(), false.into());
        }
        let state = RegisterState { name, registration };
        let token = self
            .put_ceremony(Some(&user.id), CeremonyKind::Register, &state)
            .await?;
        Ok(PasskeyCeremony { token, options })
    }

    /// Adds the passkey the browser made for the ceremony `token` (started by this account),
    /// under the name given at the start; logged and mailed.
    pub async fn finish_passkey_registration(
        &self,
        ctx: &AuthContext,
        token: &str,
        response: &str,
    ) -> AccountsResult<PasskeyView> {
        ctx.require_account()?;
        let rp = self.relying_party()?;
        let state: RegisterState = self
            .take_ceremony(token, CeremonyKind::Register, Some(&ctx.user.id))
            .await?;
        let made: RegisterPublicKeyCredential = answer(response)?;
        let passkey = rp
            .finish_passkey_registration(&made, &state.registration)
            .map_err(refused)?;
        let stored = StoredPasskey {
            id: self.rng.id(),
            user_id: ctx.user.id.clone(),
            name: state.name,
            credential_id: credential_id(passkey.cred_id()),
            passkey: serde_json::to_string(&passkey).map_err(|e| internal("a passkey", e))?,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        match self.store.add_passkey(&stored).await {
            Err(StoreError::Conflict(_)) => return Err(AccountsError::Conflict("passkey")),
            r => r?,
        }
        self.record(
            &ctx.user.id,
            EventKind::PasskeyAdded,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some(format!("“{}”", stored.name)),
        )
        .await?;
        Ok(view(&stored))
    }

    /// The caller's passkeys, oldest first.
    pub async fn passkeys(&self, ctx: &AuthContext) -> AccountsResult<Vec<PasskeyView>> {
        ctx.require_account()?;
        Ok(self
            .store
            .passkeys(&ctx.user.id)
            .await?
            .iter()
            .map(view)
            .collect())
    }

    /// Removes one of the caller's passkeys (logged and mailed); returns its name.
    pub async fn remove_passkey(&self, ctx: &AuthContext, id: &str) -> AccountsResult<String> {
        ctx.require_account()?;
        let removed = self
            .store
            .remove_passkey(&ctx.user.id, id)
            .await?
            .ok_or(AccountsError::NotFound("passkey"))?;
        self.record(
            &ctx.user.id,
            EventKind::PasskeyRemoved,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some(format!("“{}”", removed.name)),
        )
        .await?;
        Ok(removed.name)
    }

    /// Starts a sign-in with a passkey, for whichever account's passkey the browser offers.
    /// Each start stores a ceremony, so starts are counted per address (60 in 15 minutes).
    pub async fn begin_passkey_sign_in(&self, ip: &str) -> AccountsResult<PasskeyCeremony> {
        let rp = self.relying_party()?;
        let limits = crate::config::RequestLimits {
            per_account: i64::MAX,
            per_address: 60,
            window_secs: 15 * 60,
        };
        let now = self.clock.now();
        crate::throttle::count_request(&self.store, now, "passkey", "", ip, limits).await?;
        let (mut options, authentication) = rp
            .start_discoverable_authentication()
            .map_err(|e| internal("passkey sign-in", e))?;
        // Asked for by a button, not offered in the name field's autofill.
        options.mediation = None;
        let options = serde_json::to_value(&options).map_err(|e| internal("passkey options", e))?;
        let token = self
            .put_ceremony(None, CeremonyKind::SignIn, &SignInState { authentication })
            .await?;
        Ok(PasskeyCeremony { token, options })
    }

    /// Signs in with a passkey instead of the password: the device is admitted exactly as a
    /// password sign-in's (device limit, ticket, log, new-device notice), without a code, as a
    /// passkey verifies its user itself.
    #[tracing::instrument(skip_all, fields(ip = %attempt.ip))]
    pub async fn sign_in_with_passkey(&self, attempt: PasskeySignIn) -> AccountsResult<SignedIn> {
        let rp = self.relying_party()?;
        let state: SignInState = self
            .take_ceremony(&attempt.ceremony, CeremonyKind::SignIn, None)
            .await?;
        let presented: PublicKeyCredential = answer(&attempt.response)?;
        let (handle, raw_id) = rp
            .identify_discoverable_authentication(&presented)
            .map_err(refused)?;
        let Some(stored) = self
            .store
            .passkey_by_credential(&credential_id(raw_id))
            .await?
        else {
            return Err(refused("a passkey this server does not know"));
        };
        if handle != user_handle(&stored.user_id) {
            return Err(refused("a passkey presented for another account"));
        }
        let user = self
            .store
            .user_by_id(&stored.user_id)
            .await?
            .ok_or(AccountsError::PasskeyRefused)?;
        let passkey = Self::parse_passkey(&stored)?;
        let result = rp.finish_discoverable_authentication_v2(
            &presented,
            state.authentication,
            DiscoverableKey::from(&passkey),
        );
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                self.passkey_failed(&user, &stored, &attempt.ip).await?;
                return Err(refused(e));
            }
        };
        if user.disabled {
            tracing::info!(outcome = "disabled", "sign-in refused: account disabled");
            return Err(AccountsError::AccountDisabled);
        }
        self.passkey_used(&stored, passkey, &result).await?;
        let want_ticket = attempt.credential == CredentialKind::WebSession;
        let mut issue = self.sign_in_credential(attempt.credential);
        issue.announce = Some(self.announce(&user, &attempt.device, &stored.name).await?);
        self.admit(
            &user,
            &attempt.device,
            issue,
            &attempt.ip,
            None,
            want_ticket,
        )
        .await
    }

    /// Whether the account of a sign-in's two-step challenge has passkeys to answer it with.
    pub async fn challenge_has_passkeys(&self, challenge: &str) -> AccountsResult<bool> {
        if self.relying_party().is_err() {
            return Ok(false);
        }
        let hash = SecretToken::from_presented(challenge).hash();
        match self.store.challenge(&hash, self.clock.now()).await? {
            Some(c) => Ok(!self.store.passkeys(&c.user_id).await?.is_empty()),
            None => Ok(false),
        }
    }

    /// Starts answering a two-step challenge with a passkey: only that user's passkeys may.
    pub async fn begin_passkey_second_step(
        &self,
        challenge: &str,
    ) -> AccountsResult<PasskeyCeremony> {
        let rp = self.relying_party()?;
        let hash = SecretToken::from_presented(challenge).hash();
        let Some(found) = self.store.challenge(&hash, self.clock.now()).await? else {
            return Err(AccountsError::ChallengeInvalid);
        };
        let mut passkeys = Vec::new();
        for p in self.store.passkeys(&found.user_id).await? {
            passkeys.push(Self::parse_passkey(&p)?);
        }
        if passkeys.is_empty() {
            return Err(AccountsError::NotFound("passkey"));
        }
        let (options, authentication) = rp
            .start_passkey_authentication(&passkeys)
            .map_err(|e| internal("passkey authentication", e))?;
        let options = serde_json::to_value(&options).map_err(|e| internal("passkey options", e))?;
        let state = SecondStepState {
            challenge: hash.as_str().to_owned(),
            authentication,
        };
        let token = self
            .put_ceremony(Some(&found.user_id), CeremonyKind::SecondStep, &state)
            .await?;
        Ok(PasskeyCeremony { token, options })
    }

    /// The second step of a sign-in answered with a passkey instead of a code. A passkey that
    /// is not accepted counts against the challenge like a wrong code; at the device limit the
    /// challenge stays, marked as passed, as after a right code.
    #[tracing::instrument(skip_all, fields(ip = %step.ip))]
    pub async fn sign_in_second_step_with_passkey(
        &self,
        step: PasskeySecondStep,
    ) -> AccountsResult<SignedIn> {
        let rp = self.relying_party()?;
        let hash = SecretToken::from_presented(&step.challenge).hash();
        let now = self.clock.now();
        let Some(challenge) = self.store.challenge(&hash, now).await? else {
            return Err(AccountsError::ChallengeInvalid);
        };
        let state: SecondStepState = self
            .take_ceremony(
                &step.ceremony,
                CeremonyKind::SecondStep,
                Some(&challenge.user_id),
            )
            .await?;
        if !TokenHash(state.challenge).ct_eq(&hash) {
            return Err(refused("a ceremony for another sign-in"));
        }
        let user = self
            .store
            .user_by_id(&challenge.user_id)
            .await?
            .ok_or(AccountsError::ChallengeInvalid)?;
        if user.disabled {
            return Err(AccountsError::AccountDisabled);
        }
        let presented: PublicKeyCredential = answer(&step.response)?;
        let stored = match self
            .store
            .passkey_by_credential(&credential_id(presented.get_credential_id()))
            .await?
        {
            Some(p) if p.user_id == user.id => p,
            _ => {
                self.second_step_failed(&user, &hash, now, &step.ip).await?;
                return Err(refused("not a passkey of this account"));
            }
        };
        let passkey = Self::parse_passkey(&stored)?;
        let result = match rp.finish_passkey_authentication(&presented, &state.authentication) {
            Ok(r) => r,
            Err(e) => {
                self.second_step_failed(&user, &hash, now, &step.ip).await?;
                return Err(refused(e));
            }
        };
        self.passkey_used(&stored, passkey, &result).await?;
        // Used once: of two answers at once, one goes on.
        let Some(mut challenge) = self.store.take_challenge(&hash, now).await? else {
            return Err(AccountsError::ChallengeInvalid);
        };
        let info = device_of_challenge(&challenge)?;
        let want_ticket = step.credential == CredentialKind::WebSession;
        let mut issue = self.sign_in_credential(step.credential);
        issue.announce = Some(self.announce(&user, &info, &stored.name).await?);
        let done = self
            .admit(&user, &info, issue, &step.ip, step.replace, want_ticket)
            .await;
        if let Err(AccountsError::DeviceLimitReached { .. }) = &done {
            challenge.passed = true;
            self.store.put_challenge(&challenge).await?;
        }
        done
    }

    /// The log entry of a sign-in with the passkey `name`: from a new device (with its notice)
    /// or, from a known one, "signed in with a passkey".
    async fn announce(
        &self,
        user: &User,
        info: &DeviceInfo,
        name: &str,
    ) -> AccountsResult<(EventKind, String)> {
        let known = self
            .store
            .known_device(
                &user.id,
                info.name.as_str(),
                info.device_type.as_str(),
                &info.client,
            )
            .await?;
        Ok(if known {
            (
                EventKind::PasskeySignIn,
                format!("{}, with the passkey “{name}”", info.client),
            )
        } else {
            (
                EventKind::NewDevice,
                format!(
                    "{} on {}, with the passkey “{name}”",
                    info.client,
                    info.device_type.as_str()
                ),
            )
        })
    }

    /// Records a use of a passkey: its counter as the authenticator reported it, and when.
    async fn passkey_used(
        &self,
        stored: &StoredPasskey,
        mut passkey: Passkey,
        result: &AuthenticationResult,
    ) -> AccountsResult<()> {
        passkey.update_credential(result);
        let json = serde_json::to_string(&passkey).map_err(|e| internal("a passkey", e))?;
        if !self
            .store
            .use_passkey(&stored.id, &json, self.clock.now())
            .await?
        {
            // Removed while it was being used: it no longer signs anyone in.
            return Err(refused("a passkey removed meanwhile"));
        }
        Ok(())
    }

    async fn passkey_failed(
        &self,
        user: &User,
        stored: &StoredPasskey,
        ip: &str,
    ) -> AccountsResult<()> {
        self.record(
            &user.id,
            EventKind::FailedSignIn,
            None,
            Some(ip),
            Some(format!("the passkey “{}” was not accepted", stored.name)),
        )
        .await
    }

    async fn second_step_failed(
        &self,
        user: &User,
        hash: &TokenHash,
        now: Timestamp,
        ip: &str,
    ) -> AccountsResult<()> {
        let failures = self.store.fail_challenge(hash).await?;
        if failures >= crate::second_factor::CHALLENGE_TRIES {
            self.store.take_challenge(hash, now).await?;
        }
        self.record(
            &user.id,
            EventKind::FailedSignIn,
            None,
            Some(ip),
            Some("a passkey was not accepted as the second step".into()),
        )
        .await
    }
}

fn device_of_challenge(c: &SignInChallenge) -> AccountsResult<DeviceInfo> {
    Ok(DeviceInfo {
        name: clef_core::DeviceName::parse(&c.name)?,
        device_type: clef_core::DeviceType::parse(&c.device_type)?,
        client: c.client.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_handle_is_stable_and_differs_between_users() {
        let a = UserId("a".into());
        assert_eq!(user_handle(&a), user_handle(&a));
        assert_ne!(user_handle(&a), user_handle(&UserId("b".into())));
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(passkey_name("  Laptop ").unwrap(), "Laptop");
        assert!(passkey_name("").is_err());
        assert!(passkey_name(&"x".repeat(65)).is_err());
        assert!(passkey_name("a\u{202E}b").is_err());
        assert!(passkey_name("a\nb").is_err());
    }
}
