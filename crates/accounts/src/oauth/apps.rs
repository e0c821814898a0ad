//! The apps a user registers, and the access a user gave apps (the Apps page).

use clef_core::SecretToken;
use clef_store::{App, GrantView, RevokeScope, SignOutReason};

use super::redirect;
use crate::error::{AccountsError, AccountsResult};
use crate::events::EventKind;
use crate::service::{Accounts, AuthContext, Record};

/// An app to register.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub confidential: bool,
}

/// A registered app; a confidential app's secret leaves the server here, once.
#[derive(Debug)]
pub struct RegisteredApp {
    pub app: App,
    pub secret: Option<SecretToken>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AccountsError {
    AccountsError::Invalid(clef_core::InputError {
        field,
        message: message.into(),
    })
}

impl Accounts {
    /// Registers an app for the caller.
    pub async fn register_app(
        &self,
        ctx: &AuthContext,
        new: NewApp,
    ) -> AccountsResult<RegisteredApp> {
        ctx.require_account()?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(invalid("name", "must be 1 to 80 characters"));
        }
        if new.redirect_uris.is_empty() || new.redirect_uris.len() > 10 {
            return Err(invalid("redirect_uris", "give 1 to 10 redirect URIs"));
        }
        for uri in &new.redirect_uris {
            redirect::check_registrable(uri)
                .map_err(|why| invalid("redirect_uris", format!("{uri} {why}")))?;
        }
        let secret = new.confidential.then(|| self.rng.token());
        let app = App {
            client_id: self.rng.id(),
            owner_id: ctx.user.id.clone(),
            owner_name: ctx.user.username.clone(),
            name: name.to_owned(),
            redirect_uris: new.redirect_uris,
            secret_hash: secret.as_ref().map(SecretToken::hash),
            created_at: self.clock.now(),
        };
        self.store.create_app(&app).await?;
        self.record(
            &ctx.user.id,
            EventKind::AppRegistered,
            Some(&ctx.device),
            Some(&ctx.device.ip),
            Some(app.name.clone()),
        )
        .await?;
        Ok(RegisteredApp { app, secret })
    }

    /// The apps the caller registered.
    pub async fn my_apps(&self, ctx: &AuthContext) -> AccountsResult<Vec<App>> {
        ctx.require_account()?;
        Ok(self.store.apps_of(&ctx.user.id).await?)
    }

    /// Deletes one of the caller's apps, ending every grant to it (every user's) first.
    pub async fn delete_app(&self, ctx: &AuthContext, client_id: &str) -> AccountsResult<()> {
        ctx.require_account()?;
        let app = match self.store.app(client_id).await? {
            Some(a) if a.owner_id == ctx.user.id => a,
            _ => return Err(AccountsError::NotFound("app")),
        };
        self.revoke(
            RevokeScope::App { client: client_id },
            SignOutReason::AccessRemoved,
            Some(&ctx.device.id),
            |_| {
                Some(Record {
                    user: &ctx.user.id,
                    kind: EventKind::AppDeleted,
                    device: Some(&ctx.device),
                    ip: Some(&ctx.device.ip),
                    detail: Some(app.name.clone()),
                })
            },
        )
        .await?;
        self.store.delete_app(&ctx.user.id, client_id).await?;
        Ok(())
    }

    /// Every app with access to the caller's account.
    pub async fn app_grants(&self, ctx: &AuthContext) -> AccountsResult<Vec<GrantView>> {
        ctx.require_account()?;
        Ok(self.store.grants_of(&ctx.user.id, self.liveness()).await?)
    }

    /// Remove access: the grant, every token issued under it and every device authorised
    /// through it end at once, and their streams are cut.
    pub async fn remove_app_access(&self, ctx: &AuthContext, grant_id: &str) -> AccountsResult<()> {
        ctx.require_account()?;
        let name = match self.store.grant(grant_id).await? {
            Some(g) if g.user_id == ctx.user.id && g.revoked.is_none() => self
                .store
                .app(&g.client_id)
                .await?
                .map(|a| a.name)
                .unwrap_or_default(),
            _ => return Err(AccountsError::NotFound("app access")),
        };
        self.revoke(
            RevokeScope::Grant {
                user: &ctx.user.id,
                grant: grant_id,
            },
            SignOutReason::AccessRemoved,
            Some(&ctx.device.id),
            |_| {
                Some(Record {
                    user: &ctx.user.id,
                    kind: EventKind::AppAccessRemoved,
                    device: Some(&ctx.device),
                    ip: Some(&ctx.device.ip),
                    detail: Some(format!("{name}, by {}", ctx.device.name)),
                })
            },
        )
        .await?;
        Ok(())
    }
}
