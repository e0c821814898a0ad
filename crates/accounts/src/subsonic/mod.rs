//! Subsonic clients: per-device app passwords and OpenSubsonic API keys, and the checks of a
//! `/rest` request's login. The account password is never accepted here and never stored in a
//! form that can be read back: a phone gets its own app password (or key), which is a device like
//! any other — listed, counted against the limit, signed out with the rest.

mod seal;

use clef_core::{DeviceId, Random, ScopeSet, SecretToken, Timestamp, Username};
use clef_store::{CredentialKind, DeviceOrigin, Presented, SaltUse, StoreError};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

pub use seal::{BadSealKey, SealKey};

use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext, DeviceInfo};
use crate::signin::Issue;

/// What a Subsonic credential may do: read and play the library and keep playlists; never manage
/// the account (error 50 on `/rest`).
pub const SUBSONIC_SCOPES: &str = "profile library:read playlists:read playlists:write stream";

/// App passwords and keys last until they are revoked, or go unused for the idle timeout.
const SUBSONIC_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// Salts of token logins are remembered this long; within it each is accepted once.
pub const SALT_WINDOW_SECS: i64 = 24 * 3600;

/// Letters and digits a person can type on a phone without confusing them (no l, o, 0 or 1):
/// 32 of them, so each carries 5 bits.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// 28 characters (140 bits), written in groups of 4.
const PASSWORD_CHARS: usize = 28;
const GROUP: usize = 4;

/// Which Subsonic credential to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubsonicKind {
    AppPassword,
    ApiKey,
}

/// A new app password or key, shown once.
#[derive(Debug)]
pub struct SubsonicSecret {
    pub username: String,
    pub secret: SecretToken,
    pub device_id: DeviceId,
    pub kind: SubsonicKind,
}

/// How a `/rest` request says who it is.
#[derive(Debug, Clone)]
pub enum SubsonicLogin {
    /// `apiKey` (OpenSubsonic).
    ApiKey(String),
    /// `u` and `p` (already decoded from `enc:` hex).
    Password { username: String, password: String },
    /// `u`, `t` and `s`: `t = md5(password + s)`.
    Token {
        username: String,
        token: String,
        salt: String,
    },
}

impl SubsonicLogin {
    fn username(&self) -> &str {
        match self {
            SubsonicLogin::ApiKey(_) => "",
            SubsonicLogin::Password { username, .. } | SubsonicLogin::Token { username, .. } => {
                username
            }
        }
    }
}

/// A new app password: 28 characters from `ALPHABET`, in groups of four.
fn new_app_password(rng: &dyn Random) -> String {
    let mut bytes = [0u8; PASSWORD_CHARS];
    rng.fill(&mut bytes);
    let mut out = String::with_capacity(PASSWORD_CHARS + PASSWORD_CHARS / GROUP);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    out
}

/// An app password as typed (any case, with or without its dashes or spaces) in the form it was
/// issued in; `None` if it cannot be one.
fn canonical_app_password(typed: &str) -> Option<String> {
    let plain: Vec<u8> = typed
        .bytes()
        .filter(|b| !matches!(b, b'-' | b' '))
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if plain.len() != PASSWORD_CHARS || !plain.iter().all(|b| ALPHABET.contains(b)) {
        return None;
    }
    let mut out = String::with_capacity(PASSWORD_CHARS + PASSWORD_CHARS / GROUP);
    for (i, b) in plain.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(char::from(*b));
    }
    Some(out)
}

/// The forms a person may have typed the app password in, for token login (whose hash is of the
/// typed form): as issued, without dashes, and each in capitals (phones capitalise).
fn typed_forms(password: &str) -> [String; 4] {
    let plain = password.replace('-', "");
    [
        password.to_ascii_uppercase(),
        plain.to_ascii_uppercase(),
        plain,
        password.to_owned(),
    ]
}

fn md5_hex(text: &str, salt: &str) -> String {
    let mut h = Md5::new();
    h.update(text.as_bytes());
    h.update(salt.as_bytes());
    hex::encode(h.finalize())
}

impl Accounts {
    /// Creates an app password or API key for a new device of `ctx`'s user, under the device
    /// limit (signing out `replace` to make room). Only the account itself may: never an app.
    #[tracing::instrument(skip_all, fields(user = %ctx.user.username))]
    pub async fn create_subsonic_credential(
        &self,
        ctx: &AuthContext,
        info: DeviceInfo,
        kind: SubsonicKind,
        replace: Option<DeviceId>,
        ip: &str,
    ) -> AccountsResult<SubsonicSecret> {
        ctx.require_account()?;
        let id = self.rng.id();
        let (token, origin, cred_kind, event) = match kind {
            SubsonicKind::AppPassword => (
                SecretToken::from_presented(&new_app_password(self.rng.as_ref())),
                DeviceOrigin::AppPassword,
                CredentialKind::AppPassword,
                EventKind::AppPasswordCreated,
            ),
            SubsonicKind::ApiKey => (
                self.rng.token(),
                DeviceOrigin::ApiKey,
                CredentialKind::ApiKey,
                EventKind::ApiKeyCreated,
            ),
        };
        // Only app passwords are kept sealed: token login needs them back. Keys are hashed only.
        let sealed = (kind == SubsonicKind::AppPassword).then(|| {
            self.cfg
                .subsonic_key
                .seal(self.rng.as_ref(), &id, token.expose())
        });
        let detail = format!("{} ({})", info.name.as_str(), info.device_type.as_str());
        let issue = Issue {
            id,
            kind: cred_kind,
            origin,
            token,
            sealed,
            scopes: subsonic_scopes(),
            lifetime_secs: SUBSONIC_LIFETIME_SECS,
            announce: Some((event, detail)),
        };
        let done = self
            .admit(&ctx.user, &info, issue, ip, replace, false)
            .await?;
        Ok(SubsonicSecret {
            username: ctx.user.username.clone(),
            secret: done.token,
            device_id: done.device_id,
            kind,
        })
    }

    /// Checks a `/rest` request's login. A token login's salt is accepted once, or, when the
    /// request names a `target` (a stream's method and id), again for that same target only (a
    /// player asking for another range of the same stream URL). `client` is the app's name (`c`), shown on the
    /// Devices page. Failures count in the sign-in throttle; a right credential is never refused
    /// for others' failures.
    #[tracing::instrument(skip_all, fields(ip = %ip))]
    pub async fn subsonic_authenticate(
        &self,
        login: &SubsonicLogin,
        target: Option<&str>,
        client: &str,
        ip: &str,
    ) -> AccountsResult<AuthContext> {
        // A request without a target is its own: nothing else can share its salt.
        let once;
        let target = match target {
            Some(t) => t,
            None => {
                once = format!("once {}", self.rng.id());
                &once
            }
        };
        let found = match self.find_subsonic(login, target).await {
            Ok(found) => found,
            Err(StoreOr::Store(e)) => return Err(e.into()),
            Err(StoreOr::Accounts(e)) => return Err(e),
        };
        let Some(presented) = found else {
            return Err(self.subsonic_failure(login, ip).await);
        };
        let ctx = self.check_presented(presented, ip).await?;
        let client = client.trim();
        if !client.is_empty()
            && client.len() <= 64
            && !client.chars().any(char::is_control)
            && ctx.device.client != client
        {
            self.store.set_device_client(&ctx.device.id, client).await?;
        }
        Ok(ctx)
    }

    async fn find_subsonic(
        &self,
        login: &SubsonicLogin,
        target: &str,
    ) -> Result<Option<Presented>, StoreOr> {
        let now = self.clock.now();
        let (kind, secret) = match login {
            SubsonicLogin::ApiKey(key) => (CredentialKind::ApiKey, key.clone()),
            SubsonicLogin::Password { password, .. } => match canonical_app_password(password) {
                Some(p) => (CredentialKind::AppPassword, p),
                None => return Ok(None),
            },
            SubsonicLogin::Token {
                username,
                token,
                salt,
            } => return self.match_token(username, token, salt, target, now).await,
        };
        let found = match self
            .store
            .credential_by_token(&SecretToken::from_presented(&secret).hash())
            .await
        {
            Err(StoreError::UnknownValue { .. }) => return Ok(None),
            r => r.map_err(StoreOr::Store)?,
        };
        Ok(found.filter(|p| {
            p.credential.kind == kind
                && match login {
                    SubsonicLogin::ApiKey(_) => true,
                    _ => p.user.username == login.username(),
                }
        }))
    }

    /// The app password whose `md5(password + salt)` is `token`, with its device and user, if the
    /// salt is fresh.
    async fn match_token(
        &self,
        username: &str,
        token: &str,
        salt: &str,
        target: &str,
        now: Timestamp,
    ) -> Result<Option<Presented>, StoreOr> {
        if salt.is_empty() || salt.len() > 128 || token.len() != 32 {
            return Ok(None);
        }
        let Ok(name) = Username::parse(username) else {
            return Ok(None);
        };
        let token = token.to_ascii_lowercase();
        let sealed = match self.store.sealed_app_passwords(name.as_str(), now).await {
            // A credential of a kind this build does not know is no match.
            Err(StoreError::UnknownValue { .. }) => return Ok(None),
            r => r.map_err(StoreOr::Store)?,
        };
        let key = &self.cfg.subsonic_key;
        let mut matched = None;
        for s in sealed {
            let id = &s.presented.credential.id;
            let Some(password) = key.open(id, &s.sealed) else {
                tracing::error!(
                    credential = %id,
                    "an app password does not open with this server's key (a different key file?)"
                );
                continue;
            };
            let hit = typed_forms(&password)
                .iter()
                .any(|form| bool::from(md5_hex(form, salt).as_bytes().ct_eq(token.as_bytes())));
            if hit {
                matched = Some(s.presented);
                break;
            }
        }
        let Some(presented) = matched else {
            return Ok(None);
        };
        let user = &presented.user;
        match self
            .store
            .use_salt(&user.id, salt, target, now)
            .await
            .map_err(StoreOr::Store)?
        {
            SaltUse::Fresh | SaltUse::SameTarget => Ok(Some(presented)),
            SaltUse::Replayed => {
                tracing::warn!(user = %user.username, "a Subsonic token and salt were presented again");
                Err(StoreOr::Accounts(AccountsError::SaltReused))
            }
        }
    }

    /// Counts a failed `/rest` login against the account and the address, and says so.
    async fn subsonic_failure(&self, login: &SubsonicLogin, ip: &str) -> AccountsError {
        tracing::info!(outcome = "failure", "Subsonic login failed");
        let account = match login {
            SubsonicLogin::ApiKey(_) => "\0api-key",
            _ => login.username(),
        };
        match self
            .throttle
            .reserve(&self.store, &self.clock, account, ip)
            .await
        {
            Ok(attempt) => attempt.failed().await,
            Err(e) => return e,
        }
        match login {
            SubsonicLogin::ApiKey(_) => AccountsError::InvalidApiKey,
            _ => AccountsError::InvalidCredentials,
        }
    }

    /// Forgets token-login salts older than their window (run now and then).
    pub async fn forget_old_salts(&self) -> AccountsResult<u64> {
        let cutoff = self.clock.now().minus_secs(SALT_WINDOW_SECS);
        Ok(self.store.forget_salts(cutoff).await?)
    }
}

fn subsonic_scopes() -> ScopeSet {
    // The constant names known scopes only.
    ScopeSet::parse(SUBSONIC_SCOPES).unwrap_or(ScopeSet::EMPTY)
}

enum StoreOr {
    Store(StoreError),
    Accounts(AccountsError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clef_core::OsRandom;

    #[test]
    fn app_passwords_are_typable_and_carry_140_bits() {
        let p = new_app_password(&OsRandom);
        assert_eq!(p.len(), 34, "{p}");
        assert_eq!(p.split('-').count(), 7);
        assert!(p.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)));
        assert_ne!(p, new_app_password(&OsRandom));
        let shouted = p.replace('-', " ").to_uppercase();
        assert_eq!(
            canonical_app_password(&shouted).as_deref(),
            Some(p.as_str())
        );
        assert_eq!(canonical_app_password("the account password"), None);
        assert_eq!(canonical_app_password(&p[..30]), None);
        assert_eq!(subsonic_scopes().to_string(), SUBSONIC_SCOPES);
    }

    #[test]
    fn token_login_matches_the_forms_a_person_types() {
        let p = "abcd-efgh-jkmn-pqrs-tuvw-xyz2-3456";
        let salt = "c19b2d";
        for typed in [
            "abcdefghjkmnpqrstuvwxyz23456",
            "ABCD-EFGH-JKMN-PQRS-TUVW-XYZ2-3456",
            p,
        ] {
            let t = md5_hex(typed, salt);
            assert!(
                typed_forms(p).iter().any(|f| md5_hex(f, salt) == t),
                "{typed}"
            );
        }
        // The Subsonic documentation's own example: md5("sesame" + "c19b2d").
        assert_eq!(md5_hex("sesame", salt), "26719a1196d2a940705a59634eb18eab");
    }
}
