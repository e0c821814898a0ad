//! `EmailStore` in SQL: addresses and the links mailed to them.

use async_trait::async_trait;
use clef_core::{Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::accounts::{conflict, user_from, USER_COLS};
use super::credentials::{revoke_in, Why};
use super::{bool_int, SqlStore};
use crate::credential_model::*;
use crate::email_model::*;
use crate::model::User;
use crate::repo::EmailStore;
use crate::StoreResult;

const LINK_COLS: &str = "token_hash, user_id, purpose, email, created_at, expires_at";

fn link_from(r: &AnyRow) -> StoreResult<EmailLink> {
    Ok(EmailLink {
        token_hash: TokenHash(r.try_get("token_hash")?),
        user_id: UserId(r.try_get("user_id")?),
        purpose: LinkPurpose::read(&r.try_get::<String, _>("purpose")?)?,
        email: r.try_get("email")?,
        created_at: Timestamp(r.try_get("created_at")?),
        expires_at: Timestamp(r.try_get("expires_at")?),
    })
}

/// Marks a valid link used; the link when this call was the one that used it.
async fn use_link(
    conn: &mut AnyConnection,
    hash: &TokenHash,
    purpose: LinkPurpose,
    now: Timestamp,
) -> StoreResult<Option<EmailLink>> {
    let used = sqlx::query(
        "UPDATE email_links SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now.0)
    .bind(hash.as_str())
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(None);
    }
    let sql = format!("SELECT {LINK_COLS} FROM email_links WHERE token_hash = $1");
    let row = sqlx::query(&sql)
        .bind(hash.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(link_from(&row)?))
}

#[async_trait]
impl EmailStore for SqlStore {
    async fn set_email(&self, user: &UserId, email: Option<&str>) -> StoreResult<()> {
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(email)
            .bind(user.as_str())
            .execute(&self.write)
            .await
            .map_err(|e| conflict(e, "email"))?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE lower(u.email) = lower($1)");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|r| user_from(&r)).transpose()?)
    }

    async fn set_notify_new_device(&self, user: &UserId, on: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET notify_new_device = $1 WHERE id = $2")
            .bind(bool_int(on))
            .bind(user.as_str())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn put_email_link(&self, link: &EmailLink) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "DELETE FROM email_links WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(link.user_id.as_str())
        .bind(link.purpose.as_str())
        .execute(&mut *tx)
        .await?;
        // Spent links of this user and purpose are kept only while they could still be presented.
        sqlx::query("DELETE FROM email_links WHERE user_id = $1 AND expires_at <= $2")
            .bind(link.user_id.as_str())
            .bind(link.created_at.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO email_links (token_hash, user_id, purpose, email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(link.token_hash.as_str())
        .bind(link.user_id.as_str())
        .bind(link.purpose.as_str())
        .bind(&link.email)
        .bind(link.created_at.0)
        .bind(link.expires_at.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, "link"))?;
        tx.commit().await?;
        Ok(())
    }

    async fn email_link(
        &self,
        hash: &TokenHash,
        purpose: LinkPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<EmailLink>> {
        let sql = format!(
            "SELECT {LINK_COLS} FROM email_links \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
        );
        let row = sqlx::query(&sql)
            .bind(hash.as_str())
            .bind(purpose.as_str())
            .bind(now.0)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| link_from(&r)).transpose()
    }

    async fn confirm_email(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<EmailLink>> {
        let mut tx = self.write.begin().await?;
        let Some(link) = use_link(&mut tx, hash, LinkPurpose::ConfirmEmail, now).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(&link.email)
            .bind(link.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, "email"))?;
        tx.commit().await?;
        Ok(Some(link))
    }

    async fn reset_password_by_link(
        &self,
        hash: &TokenHash,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(EmailLink, Revoked)>> {
        let mut tx = self.write.begin().await?;
        let Some(link) = use_link(&mut tx, hash, LinkPurpose::PasswordReset, now).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(password_hash)
            .bind(link.user_id.as_str())
            .execute(&mut *tx)
            .await?;
        let why = Why {
            reason: SignOutReason::PasswordReset,
            by: None,
            now,
        };
        let scope = RevokeScope::Everywhere {
            user: &link.user_id,
            keep: None,
            apps: true,
        };
        let revoked = revoke_in(&mut tx, scope, &why).await?;
        // Sign-ins waiting at the device limit or for a second factor end with the password, and
        // so do passkeys, which sign in without it: one added by whoever had the account must
        // not outlive the reset (the owner adds theirs again).
        for table in [
            "pending_signins",
            "sign_in_challenges",
            "webauthn_ceremonies",
            "passkeys",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(link.user_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some((link, revoked)))
    }
}
