//! `StreamStore` in SQL. Granting a slot counts and inserts in one transaction: SQLite's single
//! writer connection serialises it, PostgreSQL locks the user's row first (as device admission does).

use async_trait::async_trait;
use clef_core::{DeviceId, Timestamp, UserId};
use sqlx::{AnyConnection, Row};

use super::credentials::revocation_from;
use super::{placeholders, Backend, SqlStore};
use crate::library_model::*;
use crate::repo::StreamStore;
use crate::SignOutReason;
use crate::StoreResult;

/// A slot counts while its heartbeat is fresh, nobody stopped it and its device is signed in.
const LIVE_SLOT: &str =
    "s.user_id = $1 AND s.heartbeat_at > $2 AND s.stopped_reason IS NULL AND d.revoked_at IS NULL";

async fn live_slots(
    conn: &mut AnyConnection,
    user: &UserId,
    stale_before: Timestamp,
) -> StoreResult<Vec<Slot>> {
    let sql = format!(
        "SELECT s.device_id, d.name, s.track_id, s.started_at, s.heartbeat_at FROM stream_slots s \
         JOIN devices d ON d.id = s.device_id WHERE {LIVE_SLOT} ORDER BY s.started_at, s.device_id"
    );
    let rows = sqlx::query(&sql)
        .bind(user.as_str())
        .bind(stale_before.0)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Slot {
                device_id: DeviceId(r.try_get("device_id")?),
                device_name: r.try_get("name")?,
                track_id: r.try_get("track_id")?,
                started_at: Timestamp(r.try_get("started_at")?),
                heartbeat_at: Timestamp(r.try_get("heartbeat_at")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[async_trait]
impl StreamStore for SqlStore {
    async fn acquire_slot(&self, req: &SlotRequest) -> StoreResult<SlotOutcome> {
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(req.user_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        }
        let mut slots = live_slots(&mut tx, &req.user_id, req.stale_before).await?;
        if slots.iter().any(|s| s.device_id == req.device_id) {
            // Another connection of a device that already plays (prefetch): same slot.
            sqlx::query("UPDATE stream_slots SET heartbeat_at = $2 WHERE device_id = $1")
                .bind(req.device_id.as_str())
                .bind(req.now.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(SlotOutcome::Granted { took_over: None });
        }
        let mut took_over = None;
        if let Some(victim) = &req.takeover {
            let Some(i) = slots.iter().position(|s| &s.device_id == victim) else {
                tx.rollback().await?;
                return Ok(SlotOutcome::TakeoverNotFound);
            };
            sqlx::query(
                "UPDATE stream_slots SET stopped_reason = 'taken_over', stopped_by = $2 WHERE device_id = $1",
            )
            .bind(victim.as_str())
            .bind(req.device_id.as_str())
            .execute(&mut *tx)
            .await?;
            slots.remove(i);
            took_over = Some(victim.clone());
        }
        if i64::try_from(slots.len()).unwrap_or(i64::MAX) >= req.limit {
            tx.rollback().await?;
            return Ok(SlotOutcome::LimitReached(slots));
        }
        sqlx::query("DELETE FROM stream_slots WHERE device_id = $1")
            .bind(req.device_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO stream_slots (device_id, user_id, track_id, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(req.device_id.as_str())
        .bind(req.user_id.as_str())
        .bind(&req.track_id)
        .bind(req.now.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SlotOutcome::Granted { took_over })
    }

    async fn refresh_slots(&self, devices: &[DeviceId], now: Timestamp) -> StoreResult<()> {
        if devices.is_empty() {
            return Ok(());
        }
        // $1 is `now`; the devices follow.
        let list = (2..=devices.len() + 1)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE stream_slots SET heartbeat_at = $1 WHERE stopped_reason IS NULL AND device_id IN ({list})"
        );
        let mut q = sqlx::query(&sql).bind(now.0);
        for d in devices {
            q = q.bind(d.as_str());
        }
        q.execute(&self.write).await?;
        Ok(())
    }

    async fn release_slot(
        &self,
        device: &DeviceId,
    ) -> StoreResult<Option<(SignOutReason, Option<DeviceId>)>> {
        let mut tx = self.write.begin().await?;
        let row =
            sqlx::query("SELECT stopped_reason, stopped_by FROM stream_slots WHERE device_id = $1")
                .bind(device.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        // A stop notice stays: the device hears it until it starts a new stream.
        sqlx::query("DELETE FROM stream_slots WHERE device_id = $1 AND stopped_reason IS NULL")
            .bind(device.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some(row) = row else { return Ok(None) };
        let reason: Option<String> = row.try_get("stopped_reason")?;
        let by: Option<String> = row.try_get("stopped_by")?;
        reason
            .map(|r| Ok((SignOutReason::read(&r)?, by.map(DeviceId))))
            .transpose()
    }

    async fn slots(&self, user: &UserId, stale_before: Timestamp) -> StoreResult<Vec<Slot>> {
        let mut conn = self.read.acquire().await?;
        live_slots(&mut conn, user, stale_before).await
    }

    async fn stream_status(&self, devices: &[DeviceId]) -> StoreResult<Vec<StreamStatus>> {
        if devices.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.id, d.revoked_at, d.revoked_reason, d.revoked_by, u.disabled, s.stopped_reason, s.stopped_by \
             FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN stream_slots s ON s.device_id = d.id \
             WHERE d.id IN ({})",
            placeholders(devices.len())
        );
        let mut q = sqlx::query(&sql);
        for d in devices {
            q = q.bind(d.as_str());
        }
        let rows = q.fetch_all(&self.read).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let stopped = match r.try_get::<Option<String>, _>("stopped_reason")? {
                Some(reason) => Some((
                    SignOutReason::read(&reason)?,
                    r.try_get::<Option<String>, _>("stopped_by")?.map(DeviceId),
                )),
                None => None,
            };
            out.push(StreamStatus {
                device_id: DeviceId(r.try_get("id")?),
                revoked: revocation_from(r, "")?,
                user_disabled: r.try_get::<i64, _>("disabled")? != 0,
                stopped,
            });
        }
        Ok(out)
    }
}
