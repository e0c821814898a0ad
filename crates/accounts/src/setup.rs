//! First run: while no admin exists, a one-time link lets the owner create one.

use clef_core::SecretToken;
use clef_store::User;

use crate::admin::Actor;
use crate::error::{AccountsError, AccountsResult};
use crate::service::Accounts;

impl Accounts {
    /// Whether an enabled admin exists.
    pub async fn has_admin(&self) -> AccountsResult<bool> {
        Ok(self.store.count_admins().await? > 0)
    }

    /// Whether Clef is still waiting for its first account: no admin and nobody else either.
    pub async fn needs_setup(&self) -> AccountsResult<bool> {
        Ok(!self.has_admin().await? && self.store.list_users().await?.is_empty())
    }

    /// Issues the one-time setup token if there is no admin yet (replacing an earlier one).
    pub async fn issue_setup_token(&self) -> AccountsResult<Option<SecretToken>> {
        if self.has_admin().await? {
            return Ok(None);
        }
        let token = self.rng.token();
        *self.setup.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.hash());
        Ok(Some(token))
    }

    /// Whether `token` is the current setup token.
    pub fn setup_token_valid(&self, token: &str) -> bool {
        let guard = self.setup.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .is_some_and(|h| h.ct_eq(&SecretToken::from_presented(token).hash()))
    }

    /// Creates the first admin with the setup token, which is then spent.
    pub async fn complete_setup(
        &self,
        token: &str,
        username: &str,
        password: String,
    ) -> AccountsResult<User> {
        if !self.setup_token_valid(token) || self.has_admin().await? {
            return Err(AccountsError::SetupUnavailable);
        }
        let user = self
            .create_user(Actor::Console, username, password, true)
            .await?;
        *self.setup.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(user)
    }
}
