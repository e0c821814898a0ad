//! The authorization request: checked before the consent page shows, and again when it is
//! answered; approving it makes a single-use code.

use clef_core::{DeviceId, ScopeSet};
use clef_store::{App, Approval, AuthCode, DeviceOrigin, NewDevice};

use super::{pkce, redirect, CODE_SECS};
use crate::error::AccountsResult;
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext};

/// The query of an authorization request, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A request that may be shown for consent.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub app: App,
    pub redirect_uri: String,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub challenge: String,
}

/// Why a request is refused, and how the refusal is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Told on our own page, never by redirect: the app or its redirect URI is not what was
    /// registered, so the URI given may be an attacker's.
    Page(String),
    /// Told to the app at its registered redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl Accounts {
    /// Checks an authorization request (RFC 6749 §4.1.1 with PKCE S256 required).
    pub async fn check_authorization(
        &self,
        p: &AuthorizeParams,
    ) -> AccountsResult<Result<AuthorizeRequest, Rejection>> {
        let Some(client_id) = p.client_id.as_deref() else {
            return Ok(Err(Rejection::Page(
                "The request names no app (client_id).".into(),
            )));
        };
        let Some(app) = self.store.app(client_id).await? else {
            return Ok(Err(Rejection::Page(
                "No app with this client_id is registered here.".into(),
            )));
        };
        let Some(uri) = p.redirect_uri.as_deref() else {
            return Ok(Err(Rejection::Page(
                "The request has no redirect_uri.".into(),
            )));
        };
        if !redirect::matches(&app.redirect_uris, uri, !app.confidential()) {
            return Ok(Err(Rejection::Page(
                "The redirect_uri is not one this app registered.".into(),
            )));
        }
        let refuse = |error: &'static str, description: &str| {
            Err(Rejection::Redirect {
                redirect_uri: uri.to_owned(),
                state: p.state.clone(),
                error,
                description: description.to_owned(),
            })
        };
        match p.response_type.as_deref() {
            Some("code") => {}
            Some(_) => {
                return Ok(refuse(
                    "unsupported_response_type",
                    "only response_type=code is supported",
                ))
            }
            None => return Ok(refuse("invalid_request", "response_type is missing")),
        }
        let challenge = match (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ) {
            (Some(c), Some("S256")) if pkce::valid_challenge(c) => c.to_owned(),
            (Some(_), Some("S256")) => {
                return Ok(refuse(
                    "invalid_request",
                    "code_challenge must be 43 base64url characters",
                ))
            }
            (Some(_), _) => {
                return Ok(refuse(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ))
            }
            (None, _) => {
                return Ok(refuse(
                    "invalid_request",
                    "PKCE is required: send code_challenge with code_challenge_method=S256",
                ))
            }
        };
        let scopes = match ScopeSet::parse(p.scope.as_deref().unwrap_or("")) {
            Ok(s) if !s.is_empty() => s,
            Ok(_) => return Ok(refuse("invalid_scope", "name at least one scope")),
            Err(e) => return Ok(refuse("invalid_scope", &e.to_string())),
        };
        Ok(Ok(AuthorizeRequest {
            redirect_uri: uri.to_owned(),
            app,
            scopes,
            state: p.state.clone(),
            challenge,
        }))
    }

    /// The signed-in user approves: the grant is made (or widened) and a single-use code for
    /// the app is returned.
    pub async fn approve_authorization(
        &self,
        ctx: &AuthContext,
        req: &AuthorizeRequest,
    ) -> AccountsResult<String> {
        ctx.require_account()?;
        let now = self.clock.now();
        let approved = self
            .store
            .approve(&Approval {
                grant_id: self.rng.id(),
                user_id: ctx.user.id.clone(),
                client_id: req.app.client_id.clone(),
                scopes: req.scopes,
                seat: NewDevice {
                    id: DeviceId(self.rng.id()),
                    user_id: ctx.user.id.clone(),
                    name: req.app.name.clone(),
                    device_type: "app".into(),
                    client: req.app.name.clone(),
                    origin: DeviceOrigin::App,
                    grant_id: None,
                    ip: ctx.device.ip.clone(),
                    now,
                    // An app's seat lasts as long as its grant; its tokens expire on their own.
                    expires_at: now.plus_secs(100 * 365 * 86_400),
                },
            })
            .await?;
        let code = self.rng.token();
        self.store
            .put_code(&AuthCode {
                code_hash: code.hash(),
                client_id: req.app.client_id.clone(),
                user_id: ctx.user.id.clone(),
                grant_id: approved.grant_id,
                device_id: approved.seat,
                redirect_uri: req.redirect_uri.clone(),
                scopes: req.scopes,
                challenge: req.challenge.clone(),
                expires_at: now.plus_secs(CODE_SECS),
            })
            .await?;
        self.record(
            &ctx.user.id,
            EventKind::AppAuthorized,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some(format!("{}: {}", req.app.name, req.scopes)),
        )
        .await?;
        Ok(code.expose().to_owned())
    }
}
