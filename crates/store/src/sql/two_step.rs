//! `TwoStepStore` in SQL: the authenticator key, recovery codes and sign-in challenges.

use async_trait::async_trait;
use clef_core::{Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::email_model::*;
use crate::repo::TwoStepStore;
use crate::StoreResult;

const CHALLENGE_COLS: &str =
    "token_hash, user_id, name, device_type, client, ip, expires_at, failures, passed";

fn challenge_from(r: &AnyRow) -> StoreResult<SignInChallenge> {
    Ok(SignInChallenge {
        token_hash: TokenHash(r.try_get("token_hash")?),
        user_id: UserId(r.try_get("user_id")?),
        name: r.try_get("name")?,
        device_type: r.try_get("device_type")?,
        client: r.try_get("client")?,
        ip: r.try_get("ip")?,
        expires_at: Timestamp(r.try_get("expires_at")?),
        failures: r.try_get("failures")?,
        passed: r.try_get::<i64, _>("passed")? != 0,
    })
}

async fn insert_codes(
    conn: &mut sqlx::AnyConnection,
    user: &UserId,
    hashes: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user.as_str())
            .bind(h)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl TwoStepStore for SqlStore {
    async fn totp_state(&self, user: &UserId) -> StoreResult<Option<TotpState>> {
        let row = sqlx::query(
            "SELECT totp_sealed, totp_enabled_at, totp_last_step FROM users \
             WHERE id = $1 AND totp_sealed IS NOT NULL",
        )
        .bind(user.as_str())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(TotpState {
            sealed: r.try_get("totp_sealed")?,
            enabled_at: r
                .try_get::<Option<i64>, _>("totp_enabled_at")?
                .map(Timestamp),
            last_step: r.try_get("totp_last_step")?,
        }))
    }

    async fn begin_totp(&self, user: &UserId, sealed: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_sealed = $1, totp_last_step = NULL \
             WHERE id = $2 AND totp_enabled_at IS NULL",
        )
        .bind(sealed)
        .bind(user.as_str())
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn enable_totp(
        &self,
        user: &UserId,
        now: Timestamp,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_enabled_at = $1, totp_last_step = $2 \
             WHERE id = $3 AND totp_sealed IS NOT NULL AND totp_enabled_at IS NULL",
        )
        .bind(now.0)
        .bind(step)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_codes(&mut tx, user, recovery_hashes).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn disable_totp(&self, user: &UserId) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE users SET totp_sealed = NULL, totp_enabled_at = NULL, totp_last_step = NULL \
             WHERE id = $1",
        )
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
        insert_codes(&mut tx, user, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_totp_step(&self, user: &UserId, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
             AND totp_enabled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user.as_str())
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(
        &self,
        user: &UserId,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now.0)
        .bind(user.as_str())
        .bind(hash)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn recovery_codes_left(&self, user: &UserId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user.as_str())
        .fetch_one(&self.read)
        .await?)
    }

    async fn replace_recovery_codes(&self, user: &UserId, hashes: &[String]) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        insert_codes(&mut tx, user, hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_challenge(&self, c: &SignInChallenge) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM sign_in_challenges WHERE expires_at <= $1")
            .bind(c.expires_at.0 - 3_600_000)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO sign_in_challenges ({CHALLENGE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(c.token_hash.as_str())
        .bind(c.user_id.as_str())
        .bind(&c.name)
        .bind(&c.device_type)
        .bind(&c.client)
        .bind(&c.ip)
        .bind(c.expires_at.0)
        .bind(c.failures)
        .bind(i64::from(c.passed))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn challenge(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<SignInChallenge>> {
        let row = sqlx::query(&format!(
            "SELECT {CHALLENGE_COLS} FROM sign_in_challenges WHERE token_hash = $1 AND expires_at > $2"
        ))
        .bind(hash.as_str())
        .bind(now.0)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| challenge_from(&r)).transpose()
    }

    async fn fail_challenge(&self, hash: &TokenHash) -> StoreResult<i64> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE sign_in_challenges SET failures = failures + 1 WHERE token_hash = $1")
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        let n: Option<i64> =
            sqlx::query_scalar("SELECT failures FROM sign_in_challenges WHERE token_hash = $1")
                .bind(hash.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(n.unwrap_or(i64::MAX))
    }

    async fn take_challenge(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<SignInChallenge>> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {CHALLENGE_COLS} FROM sign_in_challenges WHERE token_hash = $1 AND expires_at > $2"
        ))
        .bind(hash.as_str())
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let gone = sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1")
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() != 1 {
            return Ok(None);
        }
        let challenge = challenge_from(&r)?;
        tx.commit().await?;
        Ok(Some(challenge))
    }
}
