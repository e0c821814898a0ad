//! Two-step sign-in with an authenticator app: enrolment, the step after the password, and
//! turning it off (by the user with password and code, or by an admin for a lost phone).

use clef_core::{Password, SecretToken};
use clef_store::{CredentialKind, SignInChallenge, User};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext, DeviceInfo};
use crate::signin::SignedIn;
use crate::two_step::{self, RecoveryCode, TotpSecret};

/// How long the step between the password and the code lasts.
const CHALLENGE_SECS: i64 = 5 * 60;
/// Wrong codes a challenge survives; then the password must be typed again.
pub(crate) const CHALLENGE_TRIES: i64 = 5;
const ISSUER: &str = "Clef";

/// What the Account page shows to enrol an authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The key in groups of four, for typing by hand.
    pub key: String,
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as SVG.
    pub qr_svg: String,
}

/// The second step of a sign-in: the challenge from the first, and a code or a recovery code.
#[derive(Debug, Clone)]
pub struct SecondStep {
    pub challenge: String,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
    pub credential: CredentialKind,
    pub ip: String,
    /// Sign this device out to make room.
    pub replace: Option<clef_core::DeviceId>,
}

/// A code or a recovery code, as given.
enum Proof<'a> {
    Code(&'a str),
    Recovery(&'a str),
}

fn seal_id(user: &User) -> String {
    format!("totp:{}", user.id)
}

impl Accounts {
    fn totp_secret(&self, user: &User, sealed: &str) -> AccountsResult<TotpSecret> {
        let key_hex = self
            .cfg
            .subsonic_key
            .open(&seal_id(user), sealed)
            .ok_or_else(|| {
                AccountsError::Internal("the authenticator key cannot be opened".into())
            })?;
        let bytes = hex::decode(key_hex)
            .map_err(|_| AccountsError::Internal("the authenticator key is damaged".into()))?;
        TotpSecret::from_bytes(bytes).map_err(|e| AccountsError::Internal(e.to_string()))
    }

    /// Starts enrolment after the password is typed again: a new key, waiting for its first
    /// code. Refused (409) while two-step sign-in is on.
    pub async fn begin_two_step(
        &self,
        ctx: &AuthContext,
        current: Password,
    ) -> AccountsResult<Enrolment> {
        let user = self.confirm_password(ctx, &current).await?;
        if user.totp_enabled_at.is_some() {
            return Err(AccountsError::Conflict("two_step"));
        }
        let secret = TotpSecret::generate(self.rng.as_ref());
        let sealed = self.cfg.subsonic_key.seal(
            self.rng.as_ref(),
            &seal_id(&user),
            &hex::encode(secret.as_bytes()),
        );
        if !self.store.begin_totp(&user.id, &sealed).await? {
            return Err(AccountsError::Conflict("two_step"));
        }
        self.enrolment(&user, &secret)
    }

    /// The key waiting for its first code, shown again (the page was reloaded).
    pub async fn pending_enrolment(&self, ctx: &AuthContext) -> AccountsResult<Option<Enrolment>> {
        ctx.require_account()?;
        match self.store.totp_state(&ctx.user.id).await? {
            Some(state) if state.enabled_at.is_none() => {
                let secret = self.totp_secret(&ctx.user, &state.sealed)?;
                Ok(Some(self.enrolment(&ctx.user, &secret)?))
            }
            _ => Ok(None),
        }
    }

    fn enrolment(&self, user: &User, secret: &TotpSecret) -> AccountsResult<Enrolment> {
        let uri = secret.otpauth_uri(ISSUER, &user.username);
        let qr = two_step::qr_svg(&uri, "QR code of the key for your authenticator app")
            .map_err(|e| AccountsError::Internal(e.to_string()))?;
        Ok(Enrolment {
            key: secret.display_key(),
            otpauth_uri: uri,
            qr_svg: qr,
        })
    }

    /// Turns two-step sign-in on with the first code from the app; returns the ten recovery
    /// codes, shown once (only their hashes are kept).
    pub async fn confirm_two_step(
        &self,
        ctx: &AuthContext,
        code: &str,
    ) -> AccountsResult<Vec<String>> {
        ctx.require_account()?;
        let Some(state) = self.store.totp_state(&ctx.user.id).await? else {
            return Err(AccountsError::NotFound("enrolment"));
        };
        if state.enabled_at.is_some() {
            return Err(AccountsError::Conflict("two_step"));
        }
        let secret = self.totp_secret(&ctx.user, &state.sealed)?;
        let now = self.clock.now();
        let Some(step) = secret.verify(code, now.millis(), None) else {
            return Err(AccountsError::InvalidCode);
        };
        let codes = two_step::generate_recovery_codes(self.rng.as_ref());
        let hashes: Vec<String> = codes.iter().map(|c| c.hash(&self.cfg.pepper)).collect();
        if !self
            .store
            .enable_totp(&ctx.user.id, now, step, &hashes)
            .await?
        {
            return Err(AccountsError::Conflict("two_step"));
        }
        self.record(
            &ctx.user.id,
            EventKind::TwoStepEnabled,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some("with an authenticator app; 10 recovery codes made".into()),
        )
        .await?;
        Ok(codes.iter().map(RecoveryCode::display).collect())
    }

    /// Turns two-step sign-in off: needs the password and a code (or a recovery code).
    pub async fn disable_two_step(
        &self,
        ctx: &AuthContext,
        current: Password,
        code: &str,
    ) -> AccountsResult<()> {
        let user = self.confirm_password(ctx, &current).await?;
        if user.totp_enabled_at.is_none() {
            return Ok(());
        }
        let proof = if code.trim().len() > 8 {
            Proof::Recovery(code)
        } else {
            Proof::Code(code)
        };
        if !self.check_proof(&user, proof).await? {
            return Err(AccountsError::InvalidCode);
        }
        self.store.disable_totp(&user.id).await?;
        self.record(
            &user.id,
            EventKind::TwoStepDisabled,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some("by the account's owner".into()),
        )
        .await
    }

    /// An admin turns two-step sign-in off for a user who lost their phone (logged, mailed).
    pub async fn disable_two_step_by_admin(
        &self,
        actor: crate::Actor<'_>,
        username: &str,
    ) -> AccountsResult<()> {
        let user = self.user(actor, username).await?;
        if user.totp_enabled_at.is_none() {
            return Ok(());
        }
        self.store.disable_totp(&user.id).await?;
        self.record(
            &user.id,
            EventKind::TwoStepDisabled,
            None,
            None,
            Some(actor.label()),
        )
        .await
    }

    /// Ten new recovery codes in place of the old ones, used or not (needs the password); shown
    /// once.
    pub async fn new_recovery_codes(
        &self,
        ctx: &AuthContext,
        current: Password,
    ) -> AccountsResult<Vec<String>> {
        let user = self.confirm_password(ctx, &current).await?;
        if user.totp_enabled_at.is_none() {
            return Err(AccountsError::NotFound("two-step sign-in"));
        }
        let codes = two_step::generate_recovery_codes(self.rng.as_ref());
        let hashes: Vec<String> = codes.iter().map(|c| c.hash(&self.cfg.pepper)).collect();
        self.store.replace_recovery_codes(&user.id, &hashes).await?;
        self.record(
            &user.id,
            EventKind::TwoStepEnabled,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some("new recovery codes made; the old ones no longer work".into()),
        )
        .await?;
        Ok(codes.iter().map(RecoveryCode::display).collect())
    }

    /// How many unused recovery codes the caller has.
    pub async fn recovery_codes_left(&self, ctx: &AuthContext) -> AccountsResult<i64> {
        Ok(self.store.recovery_codes_left(&ctx.user.id).await?)
    }

    /// A right password on an account with two-step sign-in: the challenge to answer with a code.
    pub(crate) async fn challenge_for(
        &self,
        user: &User,
        info: &DeviceInfo,
        ip: &str,
    ) -> AccountsResult<AccountsError> {
        let token = self.rng.token();
        self.store
            .put_challenge(&SignInChallenge {
                token_hash: token.hash(),
                user_id: user.id.clone(),
                name: info.name.as_str().to_owned(),
                device_type: info.device_type.as_str().to_owned(),
                client: info.client.clone(),
                ip: ip.to_owned(),
                expires_at: self.clock.now().plus_secs(CHALLENGE_SECS),
                failures: 0,
                passed: false,
            })
            .await?;
        tracing::info!(outcome = "second_factor_required", "sign-in needs a code");
        Ok(AccountsError::SecondFactorRequired {
            challenge: token.expose().to_owned(),
            expires_in: CHALLENGE_SECS,
        })
    }

    /// Whether `proof` is right for `user` now, using it up when it is: a code's time step is
    /// accepted once, a recovery code once.
    async fn check_proof(&self, user: &User, proof: Proof<'_>) -> AccountsResult<bool> {
        match proof {
            Proof::Code(code) => {
                let Some(state) = self.store.totp_state(&user.id).await? else {
                    return Ok(false);
                };
                let secret = self.totp_secret(user, &state.sealed)?;
                let now = self.clock.now().millis();
                match secret.verify(code, now, state.last_step) {
                    Some(step) => Ok(self.store.use_totp_step(&user.id, step).await?),
                    None => Ok(false),
                }
            }
            Proof::Recovery(code) => {
                let Some(normal) = two_step::normalize_recovery_code(code) else {
                    return Ok(false);
                };
                let hash = two_step::hash_recovery_code(&normal, &self.cfg.pepper);
                let used = self
                    .store
                    .use_recovery_code(&user.id, &hash, self.clock.now())
                    .await?;
                if used {
                    let left = self.store.recovery_codes_left(&user.id).await?;
                    self.record(
                        &user.id,
                        EventKind::RecoveryCodeUsed,
                        None,
                        None,
                        Some(crate::users::count(
                            usize::try_from(left).unwrap_or(0),
                            "recovery code left",
                            "recovery codes left",
                        )),
                    )
                    .await?;
                }
                Ok(used)
            }
        }
    }

    /// The second step of a sign-in: the code (or a recovery code) for the challenge the
    /// password earned. Wrong codes count in the sign-in throttle and against the challenge,
    /// which ends after five. At the device limit the challenge stays, marked as passed, so the
    /// repeat that frees a slot needs no second code.
    #[tracing::instrument(skip_all, fields(ip = %step.ip))]
    pub async fn sign_in_second_step(&self, step: SecondStep) -> AccountsResult<SignedIn> {
        let hash = SecretToken::from_presented(&step.challenge).hash();
        let now = self.clock.now();
        let Some(challenge) = self.store.challenge(&hash, now).await? else {
            return Err(AccountsError::ChallengeInvalid);
        };
        let user = self
            .store
            .user_by_id(&challenge.user_id)
            .await?
            .ok_or(AccountsError::ChallengeInvalid)?;
        if user.disabled {
            return Err(AccountsError::AccountDisabled);
        }
        if !challenge.passed {
            let proof = match (&step.code, &step.recovery_code) {
                (Some(c), None) => Proof::Code(c),
                (None, Some(r)) => Proof::Recovery(r),
                _ => {
                    return Err(AccountsError::Invalid(clef_core::InputError {
                        field: "code",
                        message: "give either code or recovery_code".into(),
                    }))
                }
            };
            let reserved = self
                .throttle
                .reserve(&self.store, &self.clock, &user.username, &step.ip)
                .await?;
            if !self.check_proof(&user, proof).await? {
                reserved.failed().await;
                let failures = self.store.fail_challenge(&hash).await?;
                if failures >= CHALLENGE_TRIES {
                    self.store.take_challenge(&hash, now).await?;
                }
                self.record(
                    &user.id,
                    EventKind::FailedSignIn,
                    None,
                    Some(&step.ip),
                    Some("wrong two-step code".into()),
                )
                .await?;
                return Err(AccountsError::InvalidCode);
            }
            reserved.succeeded().await;
        }
        // Used once: of two answers at once, one goes on; a second sign-in needs the password.
        let Some(mut challenge) = self.store.take_challenge(&hash, now).await? else {
            return Err(AccountsError::ChallengeInvalid);
        };
        let info = DeviceInfo {
            name: clef_core::DeviceName::parse(&challenge.name)?,
            device_type: clef_core::DeviceType::parse(&challenge.device_type)?,
            client: challenge.client.clone(),
        };
        let want_ticket = step.credential == CredentialKind::WebSession;
        let issue = self.sign_in_credential(step.credential);
        let done = self
            .admit(&user, &info, issue, &step.ip, step.replace, want_ticket)
            .await;
        if let Err(AccountsError::DeviceLimitReached { .. }) = &done {
            // The code was right: the repeat that frees a slot needs no other.
            challenge.passed = true;
            self.store.put_challenge(&challenge).await?;
        }
        done
    }
}
