//! TV and speaker sign-in by code (RFC 8628): the device asks for a code, its user types the
//! short code on a signed-in phone and approves, and the device, polling, gets its tokens. A
//! device authorised this way is a device: named, typed, listed, counted against the limit and
//! signed out like any other.

use clef_core::{DeviceId, DeviceName, DeviceType, ScopeSet, SecretToken};
use clef_store::{
    App, Decided, DeviceCode, DeviceDecision, DeviceOrigin, NewDevice, Poll, Replace,
    SignOutReason, StoreError,
};

use super::token::{ClientAuth, Tokens};
use super::OAuthError;
use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext};

/// A device code lasts 10 minutes.
pub const DEVICE_CODE_SECS: i64 = 600;
/// How often a device may poll, at first.
pub const POLL_INTERVAL_SECS: i64 = 5;
/// User codes use consonants only (RFC 8628 §6.1): no words, no 0/O or 1/I confusion.
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// What the device shows its user.
#[derive(Debug)]
pub struct DeviceAuthorization {
    pub device_code: SecretToken,
    /// As people read it: `BCDF-GHJK`.
    pub user_code: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// A pending request as the approval page shows it.
#[derive(Debug, Clone)]
pub struct DeviceRequest {
    pub app: App,
    pub code: DeviceCode,
}

/// The user code as typed, without dashes, spaces or case; what the store keeps.
pub fn normalise_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// `BCDFGHJK` → `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    if code.len() == 8 {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

impl Accounts {
    fn user_code(&self) -> String {
        let mut out = String::with_capacity(8);
        while out.len() < 8 {
            let mut b = [0u8; 16];
            self.rng.fill(&mut b);
            // Bytes from 240 up would favour the first letters; they are drawn again.
            for x in b.into_iter().filter(|x| *x < 240) {
                if out.len() < 8 {
                    out.push(ALPHABET[usize::from(x) % ALPHABET.len()] as char);
                }
            }
        }
        out
    }

    /// `POST /oauth/device_authorization`: a code for a device to show.
    pub async fn start_device_authorization(
        &self,
        client: &ClientAuth,
        scope: Option<&str>,
        name: Option<&str>,
        device_type: Option<&str>,
    ) -> AccountsResult<DeviceAuthorization> {
        let app = self.client(client).await?;
        let scopes = match ScopeSet::parse(scope.unwrap_or("")) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => return Err(OAuthError::InvalidScope("name at least one scope".into()).into()),
            Err(e) => return Err(OAuthError::InvalidScope(e.to_string()).into()),
        };
        let invalid = |e: clef_core::InputError| OAuthError::InvalidRequest(e.to_string());
        let name = DeviceName::parse(name.unwrap_or(&app.name)).map_err(invalid)?;
        let device_type = DeviceType::parse(device_type.unwrap_or("app")).map_err(invalid)?;
        let now = self.clock.now();
        for _ in 0..4 {
            let device_code = self.rng.token();
            let user_code = self.user_code();
            let put = self
                .store
                .put_device_code(&DeviceCode {
                    device_code_hash: device_code.hash(),
                    user_code: user_code.clone(),
                    client_id: app.client_id.clone(),
                    scopes,
                    device_name: name.as_str().to_owned(),
                    device_type: device_type.as_str().to_owned(),
                    created_at: now,
                    expires_at: now.plus_secs(DEVICE_CODE_SECS),
                    interval_secs: POLL_INTERVAL_SECS,
                })
                .await;
            match put {
                Ok(()) => {
                    return Ok(DeviceAuthorization {
                        device_code,
                        user_code: display_user_code(&user_code),
                        expires_in: DEVICE_CODE_SECS,
                        interval: POLL_INTERVAL_SECS,
                    })
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AccountsError::Internal("no free user code".into()))
    }

    /// The pending request a signed-in user typed the code of. Wrong codes are throttled per
    /// account and address like passwords, so codes cannot be guessed.
    pub async fn device_request(
        &self,
        ctx: &AuthContext,
        typed: &str,
    ) -> AccountsResult<DeviceRequest> {
        ctx.require_account()?;
        let reserved = self
            .throttle
            .reserve(
                &self.store,
                &self.clock,
                &format!("device code {}", ctx.user.username),
                &ctx.device.ip,
            )
            .await?;
        let found = self
            .store
            .pending_device_code(&normalise_user_code(typed), self.clock.now())
            .await?;
        let app = match &found {
            Some(c) => self.store.app(&c.client_id).await?,
            None => None,
        };
        match (found, app) {
            (Some(code), Some(app)) => {
                reserved.succeeded().await;
                Ok(DeviceRequest { app, code })
            }
            _ => {
                reserved.failed().await;
                Err(AccountsError::NotFound("code"))
            }
        }
    }

    /// The user's answer; approving admits the device under the account's device limit
    /// (signing out `replace` first to make room, when given).
    pub async fn answer_device_code(
        &self,
        ctx: &AuthContext,
        typed: &str,
        approve: bool,
        replace: Option<DeviceId>,
    ) -> AccountsResult<()> {
        let req = self.device_request(ctx, typed).await?;
        let now = self.clock.now();
        let decision = if approve {
            DeviceDecision::Approve {
                grant_id: self.rng.id(),
                device: Box::new(NewDevice {
                    id: DeviceId(self.rng.id()),
                    user_id: ctx.user.id.clone(),
                    name: req.code.device_name.clone(),
                    device_type: req.code.device_type.clone(),
                    client: req.app.name.clone(),
                    origin: DeviceOrigin::DeviceCode,
                    grant_id: None,
                    ip: String::new(),
                    now,
                    expires_at: now.plus_secs(self.cfg.absolute_lifetime_secs),
                }),
                limit: ctx.user.max_devices,
                live: self.liveness(),
                replace: replace.clone().map(|device_id| Replace {
                    device_id,
                    reason: SignOutReason::Replaced,
                }),
            }
        } else {
            DeviceDecision::Deny
        };
        let decided = self
            .store
            .decide_device_code(&ctx.user.id, &req.code.user_code, &decision, now)
            .await?;
        match decided {
            Decided::Approved { .. } => {
                if replace.is_some() {
                    self.wake_streams();
                }
                self.record(
                    &ctx.user.id,
                    EventKind::DeviceAuthorized,
                    Some(&ctx.device),
                    Some(&ctx.device.ip),
                    Some(format!(
                        "{} ({}) by code, for {}",
                        req.code.device_name, req.app.name, req.code.scopes
                    )),
                )
                .await?;
                Ok(())
            }
            Decided::Denied => Ok(()),
            Decided::LimitReached(devices) => Err(AccountsError::DeviceLimitReached {
                limit: ctx.user.max_devices,
                devices,
                continue_token: None,
            }),
            Decided::ReplaceNotFound => Err(AccountsError::NotFound("device")),
            Decided::NotPending => Err(AccountsError::NotFound("code")),
        }
    }

    /// The device's poll at the token endpoint. The poll that collects the tokens comes from the
    /// device itself: its address is the device's from then on (the approving phone's is not).
    pub(crate) async fn poll_device(
        &self,
        app: &App,
        device_code: &str,
        ip: &str,
    ) -> AccountsResult<Tokens> {
        let hash = SecretToken::from_presented(device_code).hash();
        let poll = self
            .store
            .poll_device_code(&hash, &app.client_id, self.clock.now())
            .await?;
        let (user_id, device_id, grant_id, scopes) = match poll {
            Poll::Approved {
                user_id,
                device_id,
                grant_id,
                scopes,
            } => (user_id, device_id, grant_id, scopes),
            Poll::Pending => return Err(OAuthError::AuthorizationPending.into()),
            Poll::SlowDown => return Err(OAuthError::SlowDown.into()),
            Poll::Denied => return Err(OAuthError::AccessDenied.into()),
            Poll::Expired => return Err(OAuthError::ExpiredToken.into()),
            Poll::Unknown => {
                return Err(
                    OAuthError::InvalidGrant("the device code is unknown or used".into()).into(),
                )
            }
        };
        let template = clef_store::NewCredential {
            id: String::new(),
            user_id,
            device_id,
            grant_id: Some(grant_id),
            parent_id: None,
            kind: clef_store::CredentialKind::OAuthAccess,
            token_hash: hash,
            scopes,
            now: clef_core::Timestamp(0),
            expires_at: clef_core::Timestamp(0),
            sealed: None,
        };
        let (tokens, access, refresh) = self.token_pair(scopes, &template);
        self.store.issue(None, &[refresh, access.clone()]).await?;
        self.store
            .touch(&access.id, &access.device_id, self.clock.now(), ip)
            .await?;
        Ok(tokens)
    }
}
