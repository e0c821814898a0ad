//! The token endpoint's grants, revocation (RFC 7009) and introspection (RFC 7662).

use clef_core::{ScopeSet, SecretToken, Timestamp};
use clef_store::{
    App, CodeUse, CredentialKind, NewCredential, Refresh, RevokeScope, Rotation, SignOutReason,
};

use super::{pkce, OAuthError, ACCESS_TOKEN_SECS, REFRESH_TOKEN_SECS};
use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, Record};

/// Who is calling the token endpoint: the app's id, its secret if it has one, and the address.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub client_id: String,
    pub secret: Option<String>,
    pub ip: String,
}

/// A token request's grant.
#[derive(Debug, Clone)]
pub enum TokenGrant {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        verifier: Option<String>,
    },
    RefreshToken {
        token: String,
    },
    /// RFC 8628 §3.4.
    DeviceCode {
        device_code: String,
    },
}

/// What the token endpoint gives; the tokens leave the server here, once.
#[derive(Debug)]
pub struct Tokens {
    pub access: SecretToken,
    pub refresh: SecretToken,
    pub expires_in: i64,
    pub scopes: ScopeSet,
}

/// RFC 7662's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub sub: Option<String>,
    pub token_type: Option<&'static str>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
}

fn oauth(e: OAuthError) -> AccountsError {
    AccountsError::OAuth(e)
}

impl Accounts {
    /// Authenticates the app: a confidential app by its secret (failures throttled like
    /// sign-in), a public app by its id alone (it proves itself with PKCE or its tokens).
    pub(crate) async fn client(&self, c: &ClientAuth) -> AccountsResult<App> {
        let app = self.store.app(&c.client_id).await?;
        let needs_secret = app.as_ref().is_none_or(App::confidential) || c.secret.is_some();
        if !needs_secret {
            return app.ok_or(oauth(OAuthError::InvalidClient));
        }
        let reserved = self
            .throttle
            .reserve(
                &self.store,
                &self.clock,
                &format!("app {}", c.client_id),
                &c.ip,
            )
            .await?;
        let ok = match (&app, &c.secret) {
            (Some(a), Some(secret)) => a
                .secret_hash
                .as_ref()
                .is_some_and(|h| h.ct_eq(&SecretToken::from_presented(secret).hash())),
            _ => false,
        };
        if ok {
            reserved.succeeded().await;
            app.ok_or(oauth(OAuthError::InvalidClient))
        } else {
            reserved.failed().await;
            Err(oauth(OAuthError::InvalidClient))
        }
    }

    pub(crate) fn token_pair(
        &self,
        scopes: ScopeSet,
        template: &NewCredential,
    ) -> (Tokens, NewCredential, NewCredential) {
        let now = self.clock.now();
        let (access, refresh) = (self.rng.token(), self.rng.token());
        let refresh_cred = NewCredential {
            id: self.rng.id(),
            kind: CredentialKind::OAuthRefresh,
            token_hash: refresh.hash(),
            parent_id: None,
            scopes,
            now,
            expires_at: now.plus_secs(REFRESH_TOKEN_SECS),
            ..template.clone()
        };
        let access_cred = NewCredential {
            id: self.rng.id(),
            kind: CredentialKind::OAuthAccess,
            token_hash: access.hash(),
            parent_id: Some(refresh_cred.id.clone()),
            scopes,
            now,
            expires_at: now.plus_secs(ACCESS_TOKEN_SECS),
            ..template.clone()
        };
        let tokens = Tokens {
            access,
            refresh,
            expires_in: ACCESS_TOKEN_SECS,
            scopes,
        };
        (tokens, access_cred, refresh_cred)
    }

    /// The token endpoint.
    #[tracing::instrument(skip_all, fields(client = %client.client_id))]
    pub async fn token(&self, client: &ClientAuth, grant: TokenGrant) -> AccountsResult<Tokens> {
        let app = self.client(client).await?;
        match grant {
            TokenGrant::AuthorizationCode {
                code,
                redirect_uri,
                verifier,
            } => {
                self.exchange_code(&app, &code, redirect_uri, verifier)
                    .await
            }
            TokenGrant::RefreshToken { token } => self.refresh(&app, &token).await,
            TokenGrant::DeviceCode { device_code } => {
                self.poll_device(&app, &device_code, &client.ip).await
            }
        }
    }

    async fn exchange_code(
        &self,
        app: &App,
        code: &str,
        redirect_uri: Option<String>,
        verifier: Option<String>,
    ) -> AccountsResult<Tokens> {
        let hash = SecretToken::from_presented(code).hash();
        let code = match self.store.use_code(&hash, self.clock.now()).await? {
            CodeUse::Fresh(c) => c,
            CodeUse::Replayed { issued } => {
                tracing::warn!("authorization code replayed; revoking what it issued");
                if let Some(id) = issued {
                    self.revoke(
                        RevokeScope::Credential { id: &id },
                        SignOutReason::CodeReplayed,
                        None,
                        |_| None,
                    )
                    .await?;
                }
                return Err(oauth(OAuthError::InvalidGrant(
                    "the code was already used".into(),
                )));
            }
            CodeUse::Unknown => {
                return Err(oauth(OAuthError::InvalidGrant(
                    "the code is unknown or expired".into(),
                )))
            }
        };
        if code.client_id != app.client_id {
            return Err(oauth(OAuthError::InvalidGrant(
                "the code was issued to another app".into(),
            )));
        }
        if redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
            return Err(oauth(OAuthError::InvalidGrant(
                "redirect_uri differs from the authorization request's".into(),
            )));
        }
        let Some(verifier) = verifier else {
            return Err(oauth(OAuthError::InvalidRequest(
                "code_verifier is missing".into(),
            )));
        };
        if !pkce::verify(&verifier, &code.challenge) {
            return Err(oauth(OAuthError::InvalidGrant(
                "the code_verifier does not match".into(),
            )));
        }
        match self.store.grant(&code.grant_id).await? {
            Some(g) if g.revoked.is_none() => {}
            _ => return Err(oauth(OAuthError::InvalidGrant("access was removed".into()))),
        }
        let template = NewCredential {
            id: String::new(),
            user_id: code.user_id.clone(),
            device_id: code.device_id.clone(),
            grant_id: Some(code.grant_id.clone()),
            parent_id: None,
            kind: CredentialKind::OAuthAccess,
            token_hash: hash.clone(),
            scopes: code.scopes,
            now: Timestamp(0),
            expires_at: Timestamp(0),
            sealed: None,
        };
        let (tokens, access, refresh) = self.token_pair(code.scopes, &template);
        self.store.issue(Some(&hash), &[refresh, access]).await?;
        Ok(tokens)
    }

    async fn refresh(&self, app: &App, token: &str) -> AccountsResult<Tokens> {
        let presented = SecretToken::from_presented(token).hash();
        let template = NewCredential {
            id: String::new(),
            user_id: app.owner_id.clone(),
            device_id: clef_core::DeviceId(String::new()),
            grant_id: None,
            parent_id: None,
            kind: CredentialKind::OAuthAccess,
            token_hash: presented.clone(),
            scopes: ScopeSet::EMPTY,
            now: Timestamp(0),
            expires_at: Timestamp(0),
            sealed: None,
        };
        let (mut tokens, access, refresh) = self.token_pair(ScopeSet::EMPTY, &template);
        let rotation = self
            .store
            .rotate_refresh(
                &Refresh {
                    presented,
                    client_id: app.client_id.clone(),
                    access,
                    refresh,
                },
                self.clock.now(),
            )
            .await?;
        match rotation {
            Rotation::Rotated { scopes, .. } => {
                tokens.scopes = scopes;
                Ok(tokens)
            }
            Rotation::Reused { user_id, .. } => {
                tracing::warn!("refresh token reused; the grant is revoked");
                self.wake_streams();
                self.record(
                    &user_id,
                    EventKind::RefreshTokenReused,
                    None,
                    None,
                    Some(format!("{}: its access was ended", app.name)),
                )
                .await?;
                Err(oauth(OAuthError::InvalidGrant(
                    "the refresh token was already used".into(),
                )))
            }
            Rotation::Refused => Err(oauth(OAuthError::InvalidGrant(
                "the refresh token is unknown, expired or revoked".into(),
            ))),
        }
    }

    /// RFC 7009: revokes an app's own token (a refresh token takes its access tokens). Unknown
    /// tokens and other apps' tokens are answered the same way and left alone.
    pub async fn revoke_app_token(&self, client: &ClientAuth, token: &str) -> AccountsResult<()> {
        let app = self.client(client).await?;
        let Some(found) = self
            .store
            .credential_by_token(&SecretToken::from_presented(token).hash())
            .await?
        else {
            return Ok(());
        };
        let Some(grant_id) = &found.credential.grant_id else {
            return Ok(());
        };
        match self.store.grant(grant_id).await? {
            Some(g) if g.client_id == app.client_id => {}
            _ => return Ok(()),
        }
        self.revoke(
            RevokeScope::Credential {
                id: &found.credential.id,
            },
            SignOutReason::TokenRevoked,
            None,
            |_| None::<Record<'_>>,
        )
        .await?;
        Ok(())
    }

    /// RFC 7662, for confidential apps about their own tokens.
    pub async fn introspect(
        &self,
        client: &ClientAuth,
        token: &str,
    ) -> AccountsResult<Introspection> {
        let app = self.client(client).await?;
        if !app.confidential() {
            return Err(oauth(OAuthError::InvalidClient));
        }
        let inactive = Introspection::default();
        let Some(p) = self
            .store
            .credential_by_token(&SecretToken::from_presented(token).hash())
            .await?
        else {
            return Ok(inactive);
        };
        let Some(grant_id) = &p.credential.grant_id else {
            return Ok(inactive);
        };
        match self.store.grant(grant_id).await? {
            Some(g) if g.client_id == app.client_id && g.revoked.is_none() => {}
            _ => return Ok(inactive),
        }
        let now = self.clock.now();
        if p.credential.revoked.is_some()
            || p.device.revoked.is_some()
            || p.user.disabled
            || p.credential.expires_at <= now
        {
            return Ok(inactive);
        }
        Ok(Introspection {
            active: true,
            scope: Some(p.credential.scopes.to_string()),
            client_id: Some(app.client_id),
            username: Some(p.user.username),
            sub: Some(p.user.id.to_string()),
            token_type: Some(match p.credential.kind {
                CredentialKind::OAuthRefresh => "refresh_token",
                _ => "access_token",
            }),
            exp: Some(p.credential.expires_at.0 / 1000),
            iat: Some(p.credential.created_at.0 / 1000),
        })
    }
}
