//! `SubsonicStore` in SQL: sealed app passwords and the salts of token logins.

use async_trait::async_trait;
use clef_core::{DeviceId, Timestamp, UserId};
use sqlx::Row;

use super::SqlStore;
use crate::credential_model::{SaltUse, SealedSecret};
use crate::repo::SubsonicStore;
use crate::StoreResult;

#[async_trait]
impl SubsonicStore for SqlStore {
    async fn sealed_app_passwords(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedSecret>> {
        let rows = sqlx::query(
            "SELECT c.id, c.sealed FROM credentials c JOIN devices d ON d.id = c.device_id \
             WHERE c.user_id = $1 AND c.kind = 'app_password' AND c.sealed IS NOT NULL \
             AND c.revoked_at IS NULL AND c.expires_at > $2 \
             AND d.revoked_at IS NULL AND d.expires_at > $2 \
             ORDER BY d.last_seen DESC",
        )
        .bind(user.as_str())
        .bind(now.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SealedSecret {
                    credential_id: r.try_get("id")?,
                    sealed: r.try_get("sealed")?,
                })
            })
            .collect()
    }

    async fn use_salt(
        &self,
        user: &UserId,
        salt: &str,
        target: &str,
        now: Timestamp,
    ) -> StoreResult<SaltUse> {
        let inserted = sqlx::query(
            "INSERT INTO subsonic_salts (user_id, salt, target, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, salt) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(salt)
        .bind(target)
        .bind(now.0)
        .execute(&self.write)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(SaltUse::Fresh);
        }
        let first: Option<String> = sqlx::query_scalar(
            "SELECT target FROM subsonic_salts WHERE user_id = $1 AND salt = $2",
        )
        .bind(user.as_str())
        .bind(salt)
        .fetch_optional(&self.write)
        .await?;
        Ok(match first {
            Some(t) if t == target => SaltUse::SameTarget,
            _ => SaltUse::Replayed,
        })
    }

    async fn forget_salts(&self, cutoff: Timestamp) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM subsonic_salts WHERE seen_at < $1")
            .bind(cutoff.0)
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    async fn set_device_client(&self, device: &DeviceId, client: &str) -> StoreResult<()> {
        sqlx::query("UPDATE devices SET client = $1 WHERE id = $2")
            .bind(client)
            .bind(device.as_str())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
