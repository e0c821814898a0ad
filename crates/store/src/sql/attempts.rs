//! Sign-in attempt counts: read, changed and written back in one transaction. SQLite's single
//! writer serialises the calls; on PostgreSQL each key's row is locked, always in the same
//! (sorted) order so that two calls sharing keys cannot deadlock.

use clef_core::Timestamp;
use sqlx::Row;

use super::{Backend, SqlStore};
use crate::model::{AttemptCount, AttemptUpdate};
use crate::StoreResult;

impl SqlStore {
    pub(super) async fn update_attempts_sql(
        &self,
        keys: &[&str],
        update: &mut AttemptUpdate<'_>,
    ) -> StoreResult<()> {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        order.dedup_by_key(|i| keys[*i]);
        let mut tx = self.write.begin().await?;
        let mut counts = vec![AttemptCount::ZERO; keys.len()];
        for &i in &order {
            let select = if self.backend == Backend::Postgres {
                // A row to lock even for a key seen for the first time.
                sqlx::query(
                    "INSERT INTO sign_in_attempts (key, failures, last_failure, pending, \
                     pending_since) VALUES ($1, 0, 0, 0, 0) ON CONFLICT (key) DO NOTHING",
                )
                .bind(keys[i])
                .execute(&mut *tx)
                .await?;
                "SELECT failures, last_failure, pending, pending_since FROM sign_in_attempts \
                 WHERE key = $1 FOR UPDATE"
            } else {
                "SELECT failures, last_failure, pending, pending_since FROM sign_in_attempts \
                 WHERE key = $1"
            };
            if let Some(row) = sqlx::query(select)
                .bind(keys[i])
                .fetch_optional(&mut *tx)
                .await?
            {
                counts[i] = AttemptCount {
                    failures: row.try_get("failures")?,
                    last_failure: Timestamp(row.try_get("last_failure")?),
                    pending: row.try_get("pending")?,
                    pending_since: Timestamp(row.try_get("pending_since")?),
                };
            }
        }
        update(&mut counts);
        for &i in &order {
            let c = counts[i];
            if c.is_zero() {
                sqlx::query("DELETE FROM sign_in_attempts WHERE key = $1")
                    .bind(keys[i])
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            sqlx::query(
                "INSERT INTO sign_in_attempts (key, failures, last_failure, pending, pending_since) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET \
                 failures = excluded.failures, last_failure = excluded.last_failure, \
                 pending = excluded.pending, pending_since = excluded.pending_since",
            )
            .bind(keys[i])
            .bind(c.failures)
            .bind(c.last_failure.0)
            .bind(c.pending)
            .bind(c.pending_since.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn forget_attempts_sql(&self, cutoff: Timestamp) -> StoreResult<u64> {
        let sql = if self.backend == Backend::Postgres {
            // Rows a sign-in holds right now are left for the next sweep rather than waited for.
            "DELETE FROM sign_in_attempts WHERE key IN (SELECT key FROM sign_in_attempts \
             WHERE pending = 0 AND last_failure < $1 FOR UPDATE SKIP LOCKED)"
        } else {
            "DELETE FROM sign_in_attempts WHERE pending = 0 AND last_failure < $1"
        };
        let r = sqlx::query(sql).bind(cutoff.0).execute(&self.write).await?;
        Ok(r.rows_affected())
    }
}
