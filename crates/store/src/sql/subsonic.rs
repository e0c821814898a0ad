//! `SubsonicStore` in SQL: sealed app passwords and the salts of token logins.

use async_trait::async_trait;
use clef_core::{DeviceId, Timestamp, UserId};
use sqlx::Row;

use super::accounts::{device_aliases, device_from, user_from, USER_COLS};
use super::credentials::{cred_aliases, credential_from};
use super::SqlStore;
use crate::credential_model::{Presented, SaltUse, SealedSecret};
use crate::repo::SubsonicStore;
use crate::{StoreError, StoreResult};

/// One token login's salt, waiting to be written.
pub(super) struct SaltAsk {
    user: String,
    salt: String,
    target: String,
    at: i64,
    reply: tokio::sync::oneshot::Sender<StoreResult<SaltUse>>,
}

/// Salts waiting to be written, and the lock of whoever writes them. Each login's salt is still
/// decided by its own `INSERT … ON CONFLICT DO NOTHING`, so two nodes cannot both accept one;
/// a batch only shares the transaction (and its commit) among the logins that arrived together.
#[derive(Default)]
pub(super) struct SaltQueue {
    pending: std::sync::Mutex<Vec<SaltAsk>>,
    writer: tokio::sync::Mutex<()>,
}

impl SaltQueue {
    fn push(&self, ask: SaltAsk) {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(ask);
    }

    fn take(&self) -> Vec<SaltAsk> {
        std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl SqlStore {
    /// Writes a batch of salts in one transaction and answers each. Sorted first, so that two
    /// nodes writing batches that share salts take their row locks in the same order.
    async fn write_salts(&self, mut batch: Vec<SaltAsk>) {
        batch.sort_by(|a, b| (&a.user, &a.salt).cmp(&(&b.user, &b.salt)));
        match self.decide_salts(&batch).await {
            Ok(uses) => {
                for (ask, used) in batch.into_iter().zip(uses) {
                    let _ = ask.reply.send(Ok(used));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for ask in batch {
                    let _ = ask
                        .reply
                        .send(Err(StoreError::Database(sqlx::Error::Protocol(
                            message.clone(),
                        ))));
                }
            }
        }
    }

    async fn decide_salts(&self, batch: &[SaltAsk]) -> StoreResult<Vec<SaltUse>> {
        let mut tx = self.write.begin().await?;
        let mut uses = Vec::with_capacity(batch.len());
        for ask in batch {
            let inserted = sqlx::query(
                "INSERT INTO subsonic_salts (user_id, salt, target, seen_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, salt) DO NOTHING",
            )
            .bind(&ask.user)
            .bind(&ask.salt)
            .bind(&ask.target)
            .bind(ask.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                uses.push(SaltUse::Fresh);
                continue;
            }
            let first: Option<String> = sqlx::query_scalar(
                "SELECT target FROM subsonic_salts WHERE user_id = $1 AND salt = $2",
            )
            .bind(&ask.user)
            .bind(&ask.salt)
            .fetch_optional(&mut *tx)
            .await?;
            uses.push(match first {
                Some(t) if t == ask.target => SaltUse::SameTarget,
                _ => SaltUse::Replayed,
            });
        }
        tx.commit().await?;
        Ok(uses)
    }
}

#[async_trait]
impl SubsonicStore for SqlStore {
    async fn sealed_app_passwords(
        &self,
        username: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedSecret>> {
        let sql = format!(
            "SELECT {}, c.sealed AS c_sealed, {}, {USER_COLS} FROM credentials c \
             JOIN devices d ON d.id = c.device_id JOIN users u ON u.id = c.user_id \
             WHERE u.username = $1 AND c.kind = 'app_password' AND c.sealed IS NOT NULL \
             AND c.revoked_at IS NULL AND c.expires_at > $2 \
             AND d.revoked_at IS NULL AND d.expires_at > $2 \
             ORDER BY d.last_seen DESC",
            cred_aliases(),
            device_aliases()
        );
        let rows = sqlx::query(&sql)
            .bind(username)
            .bind(now.0)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SealedSecret {
                    presented: Presented {
                        credential: credential_from(r)?,
                        device: device_from(r, "d_")?,
                        user: user_from(r)?,
                    },
                    sealed: r.try_get("c_sealed")?,
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
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.salts.push(SaltAsk {
            user: user.as_str().to_owned(),
            salt: salt.to_owned(),
            target: target.to_owned(),
            at: now.0,
            reply,
        });
        {
            // Whoever holds the lock writes every salt waiting, its own and those that came
            // while the previous batch was being written: one transaction for many logins.
            let _writer = self.salts.writer.lock().await;
            let batch = self.salts.take();
            if !batch.is_empty() {
                // In a task of its own, so that a caller going away mid-write (a client hanging
                // up) leaves the others of its batch answered.
                let store = self.clone();
                let _ = tokio::spawn(async move { store.write_salts(batch).await }).await;
            }
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Database(sqlx::Error::Protocol(
                "a salt was dropped unanswered".into(),
            )))
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
