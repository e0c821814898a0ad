//! Signing in: throttling, password check, the device limit and its in-flow replacement.

use clef_core::{DeviceId, Password, SecretToken, Username};
use clef_store::{
    Admission, CredentialKind, DeviceOrigin, NewCredential, NewDevice, PendingSignIn, Replace,
    SignOutReason, User,
};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, DeviceInfo};

/// A sign-in attempt.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub username: String,
    pub password: Password,
    pub device: DeviceInfo,
    pub credential: CredentialKind,
    pub ip: String,
    /// Sign this device out to make room (the password proves the right to do so).
    pub replace: Option<DeviceId>,
}

/// A completed sign-in: the token leaves the server here, once.
#[derive(Debug)]
pub struct SignedIn {
    pub token: SecretToken,
    pub device_id: DeviceId,
}

/// The credential a new device gets.
pub(crate) struct Issue {
    /// The credential's id (an app password is sealed bound to it).
    pub id: String,
    pub kind: CredentialKind,
    pub origin: DeviceOrigin,
    pub token: SecretToken,
    /// The secret sealed with the server's key, for app passwords.
    pub sealed: Option<String>,
    /// Empty for full access.
    pub scopes: clef_core::ScopeSet,
    pub lifetime_secs: i64,
    /// The log entry, when not a sign-in's ("signed in" or "new device").
    pub announce: Option<(EventKind, String)>,
}

/// How long the "free a slot and continue" ticket of a refused sign-in lasts.
const CONTINUE_TTL_SECS: i64 = 10 * 60;

impl Accounts {
    /// Signs in, creating a device; refuses at the device limit with the devices holding slots.
    #[tracing::instrument(skip_all, fields(username = %attempt.username, ip = %attempt.ip))]
    pub async fn sign_in(&self, attempt: SignIn) -> AccountsResult<SignedIn> {
        let reserved = self
            .throttle
            .reserve(&self.store, &self.clock, &attempt.username, &attempt.ip)
            .await;
        let reserved = match reserved {
            Err(e @ AccountsError::Throttled { retry_after_secs }) => {
                tracing::warn!(retry_after = retry_after_secs, "sign-in throttled");
                return Err(e);
            }
            r => r?,
        };
        let user = match Username::parse(&attempt.username) {
            Ok(name) => self.store.user_by_name(name.as_str()).await?,
            Err(_) => None,
        };
        let ok = self
            .hasher
            .verify(
                attempt.password.expose().to_owned(),
                user.as_ref().map(|u| u.password_hash.clone()),
            )
            .await?;
        let user = match (ok, user) {
            (true, Some(u)) => u,
            (_, user) => {
                reserved.failed().await;
                tracing::info!(outcome = "failure", "sign-in failed");
                if let Some(u) = user {
                    // Written in the background: waiting for it would make failures on real
                    // accounts measurably slower than on unknown names.
                    let this = self.clone();
                    let (ip, client) = (attempt.ip.clone(), attempt.device.client.clone());
                    tokio::spawn(async move {
                        let detail = Some(format!("from {client}"));
                        let r = this
                            .record(&u.id, EventKind::FailedSignIn, None, Some(&ip), detail)
                            .await;
                        if let Err(e) = r {
                            tracing::error!(error = %e, "could not record a failed sign-in");
                        }
                    });
                }
                return Err(AccountsError::InvalidCredentials);
            }
        };
        reserved.succeeded().await;
        if user.disabled {
            tracing::info!(outcome = "disabled", "sign-in refused: account disabled");
            return Err(AccountsError::AccountDisabled);
        }
        if user.totp_enabled_at.is_some() {
            return Err(self
                .challenge_for(&user, &attempt.device, &attempt.ip)
                .await?);
        }
        let want_ticket = attempt.credential == CredentialKind::WebSession;
        let issue = self.sign_in_credential(attempt.credential);
        self.admit(
            &user,
            &attempt.device,
            issue,
            &attempt.ip,
            attempt.replace,
            want_ticket,
        )
        .await
    }

    /// Finishes a sign-in refused at the limit by signing out `replace`, using the ticket the
    /// refusal gave instead of the password.
    pub async fn continue_sign_in(
        &self,
        ticket: &str,
        replace: DeviceId,
        ip: &str,
    ) -> AccountsResult<SignedIn> {
        let pending = self
            .store
            .take_pending(
                &SecretToken::from_presented(ticket).hash(),
                self.clock.now(),
            )
            .await?
            .ok_or(AccountsError::Unauthenticated)?;
        let user = self
            .store
            .user_by_id(&pending.user_id)
            .await?
            .ok_or(AccountsError::Unauthenticated)?;
        if user.disabled {
            return Err(AccountsError::AccountDisabled);
        }
        let device = DeviceInfo {
            name: clef_core::DeviceName::parse(&pending.name)?,
            device_type: clef_core::DeviceType::parse(&pending.device_type)?,
            client: pending.client,
        };
        let issue = self.sign_in_credential(CredentialKind::WebSession);
        self.admit(&user, &device, issue, ip, Some(replace), true)
            .await
    }

    /// A sign-in's credential: a new random token with full access, for the absolute lifetime.
    pub(crate) fn sign_in_credential(&self, kind: CredentialKind) -> Issue {
        Issue {
            id: self.rng.id(),
            kind,
            origin: match kind {
                CredentialKind::WebSession => DeviceOrigin::WebSession,
                _ => DeviceOrigin::ApiToken,
            },
            token: self.rng.token(),
            sealed: None,
            scopes: clef_core::ScopeSet::EMPTY,
            lifetime_secs: self.cfg.absolute_lifetime_secs,
            announce: None,
        }
    }

    /// Creates a device holding the credential `issue` under the device limit (signing out
    /// `replace` to make room), and records it.
    pub(crate) async fn admit(
        &self,
        user: &User,
        info: &DeviceInfo,
        issue: Issue,
        ip: &str,
        replace: Option<DeviceId>,
        want_ticket: bool,
    ) -> AccountsResult<SignedIn> {
        let now = self.clock.now();
        let Issue {
            id: credential_id,
            kind: credential,
            origin,
            token,
            sealed,
            scopes,
            lifetime_secs,
            announce,
        } = issue;
        let expires_at = now.plus_secs(lifetime_secs);
        let device = NewDevice {
            id: DeviceId(self.rng.id()),
            user_id: user.id.clone(),
            name: info.name.as_str().to_owned(),
            device_type: info.device_type.as_str().to_owned(),
            client: info.client.clone(),
            origin,
            grant_id: None,
            ip: ip.to_owned(),
            now,
            expires_at,
        };
        let first = NewCredential {
            id: credential_id,
            user_id: user.id.clone(),
            device_id: device.id.clone(),
            grant_id: None,
            parent_id: None,
            kind: credential,
            token_hash: token.hash(),
            scopes,
            now,
            expires_at,
            sealed,
        };
        let replaced = match &replace {
            Some(id) => Some(self.device_of(&user.id, id).await?),
            None => None,
        };
        let known = self
            .store
            .known_device(
                &user.id,
                info.name.as_str(),
                info.device_type.as_str(),
                &info.client,
            )
            .await?;
        let replace_req = replace.map(|device_id| Replace {
            device_id,
            reason: SignOutReason::Replaced,
        });
        match self
            .store
            .admit_device(
                &device,
                &first,
                user.max_devices,
                self.liveness(),
                replace_req.as_ref(),
            )
            .await?
        {
            Admission::Admitted => {
                if replace_req.is_some() {
                    self.wake_streams();
                }
            }
            Admission::ReplaceNotFound => return Err(AccountsError::NotFound("device")),
            Admission::LimitReached(devices) => {
                tracing::info!(
                    outcome = "device_limit",
                    limit = user.max_devices,
                    "sign-in refused at device limit"
                );
                self.record(
                    &user.id,
                    EventKind::DeviceLimitRefused,
                    None,
                    Some(ip),
                    Some(format!("{} ({})", info.name.as_str(), info.client)),
                )
                .await?;
                let continue_token = if want_ticket {
                    Some(self.issue_ticket(user, info, ip).await?)
                } else {
                    None
                };
                return Err(AccountsError::DeviceLimitReached {
                    limit: user.max_devices,
                    devices,
                    continue_token,
                });
            }
        }
        let created = self
            .store
            .device_by_id(&device.id)
            .await?
            .ok_or(AccountsError::NotFound("device"))?;
        if let Some(old) = replaced {
            self.record(
                &user.id,
                EventKind::SignedOut,
                Some(&old),
                Some(ip),
                Some(format!("to make room for {}", created.name)),
            )
            .await?;
        }
        // One entry per sign-in: "from a new device" says it signed in, too.
        let (kind, detail) = if let Some(a) = announce {
            a
        } else if known {
            (EventKind::SignedIn, created.client.clone())
        } else {
            (
                EventKind::NewDevice,
                format!("{} on {}", created.client, created.device_type),
            )
        };
        self.record(&user.id, kind, Some(&created), Some(ip), Some(detail))
            .await?;
        tracing::info!(outcome = "success", device = %created.id, "signed in");
        Ok(SignedIn {
            token,
            device_id: created.id,
        })
    }

    async fn issue_ticket(
        &self,
        user: &User,
        info: &DeviceInfo,
        ip: &str,
    ) -> AccountsResult<String> {
        let ticket = self.rng.token();
        let pending = PendingSignIn {
            token_hash: ticket.hash(),
            user_id: user.id.clone(),
            name: info.name.as_str().to_owned(),
            device_type: info.device_type.as_str().to_owned(),
            client: info.client.clone(),
            ip: ip.to_owned(),
            expires_at: self.clock.now().plus_secs(CONTINUE_TTL_SECS),
        };
        self.store.put_pending(&pending).await?;
        Ok(ticket.expose().to_owned())
    }
}
