//! `UserDataStore` in SQL: annotations (stars, ratings, plays), now playing, play queues.

use async_trait::async_trait;
use clef_core::{DeviceId, Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::repo::UserDataStore;
use crate::user_data_model::*;
use crate::StoreResult;

/// Inserts the item's row if it has none; `set` then changes it.
const ENSURE: &str = "INSERT INTO annotations (user_id, item_id, kind) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, item_id) DO NOTHING";

fn annotation(r: &AnyRow) -> StoreResult<Annotation> {
    let kind: String = r.try_get("kind")?;
    Ok(Annotation {
        item_id: r.try_get("item_id")?,
        kind: ItemKind::read(&kind)?,
        starred_at: r.try_get::<Option<i64>, _>("starred_at")?.map(Timestamp),
        rating: r.try_get("rating")?,
        play_count: r.try_get("play_count")?,
        played_at: r.try_get::<Option<i64>, _>("played_at")?.map(Timestamp),
    })
}

impl SqlStore {
    /// In one transaction: gives each item a row if it has none, then changes it with `set`, an
    /// assignment whose one parameter, `$1`, is `value`.
    async fn change_each(
        &self,
        user: &UserId,
        items: &[ItemRef<'_>],
        set: &str,
        value: Option<i64>,
    ) -> StoreResult<()> {
        let update = format!("UPDATE annotations SET {set} WHERE user_id = $2 AND item_id = $3");
        let mut tx = self.write.begin().await?;
        for item in items {
            sqlx::query(ENSURE)
                .bind(user.as_str())
                .bind(item.id)
                .bind(item.kind.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(&update)
                .bind(value)
                .bind(user.as_str())
                .bind(item.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl UserDataStore for SqlStore {
    async fn set_starred(
        &self,
        user: &UserId,
        items: &[ItemRef<'_>],
        at: Option<Timestamp>,
    ) -> StoreResult<()> {
        self.change_each(user, items, "starred_at = $1", at.map(|t| t.0))
            .await
    }

    async fn set_rating(&self, user: &UserId, item: ItemRef<'_>, rating: i64) -> StoreResult<()> {
        self.change_each(user, &[item], "rating = $1", Some(rating))
            .await
    }

    async fn record_plays(
        &self,
        user: &UserId,
        items: &[ItemRef<'_>],
        at: Timestamp,
    ) -> StoreResult<()> {
        // One statement: concurrent plays each add one, and the latest time wins.
        let set = "play_count = play_count + 1, \
                   played_at = CASE WHEN played_at IS NULL OR played_at < $1 THEN $1 \
                   ELSE played_at END";
        self.change_each(user, items, set, Some(at.0)).await
    }

    async fn annotations(&self, user: &UserId) -> StoreResult<Vec<Annotation>> {
        let rows = sqlx::query(
            "SELECT item_id, kind, starred_at, rating, play_count, played_at FROM annotations \
             WHERE user_id = $1 ORDER BY item_id",
        )
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(annotation).collect()
    }

    async fn set_now_playing(
        &self,
        user: &UserId,
        device: &DeviceId,
        track_id: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO now_playing (device_id, user_id, track_id, since) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (device_id) DO UPDATE SET track_id = excluded.track_id, \
             since = excluded.since",
        )
        .bind(device.as_str())
        .bind(user.as_str())
        .bind(track_id)
        .bind(at.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn now_playing(&self, user: &UserId, since: Timestamp) -> StoreResult<Vec<NowPlaying>> {
        let rows = sqlx::query(
            "SELECT n.device_id, n.track_id, n.since, d.name, d.client FROM now_playing n \
             JOIN devices d ON d.id = n.device_id \
             WHERE n.user_id = $1 AND n.since >= $2 AND d.revoked_at IS NULL \
             ORDER BY n.since DESC, n.device_id",
        )
        .bind(user.as_str())
        .bind(since.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NowPlaying {
                    user_id: user.clone(),
                    device_id: DeviceId(r.try_get("device_id")?),
                    device_name: r.try_get("name")?,
                    client: r.try_get("client")?,
                    track_id: r.try_get("track_id")?,
                    since: Timestamp(r.try_get("since")?),
                })
            })
            .collect()
    }

    async fn save_play_queue(&self, user: &UserId, queue: &PlayQueue) -> StoreResult<()> {
        if queue.track_ids.is_empty() {
            sqlx::query("DELETE FROM play_queues WHERE user_id = $1")
                .bind(user.as_str())
                .execute(&self.write)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO play_queues \
             (user_id, track_ids, current_id, position_ms, changed_at, changed_by) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET track_ids = excluded.track_ids, \
             current_id = excluded.current_id, position_ms = excluded.position_ms, \
             changed_at = excluded.changed_at, changed_by = excluded.changed_by",
        )
        .bind(user.as_str())
        .bind(queue.track_ids.join(" "))
        .bind(queue.current.as_deref())
        .bind(queue.position_ms)
        .bind(queue.changed_at.0)
        .bind(&queue.changed_by)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn play_queue(&self, user: &UserId) -> StoreResult<Option<PlayQueue>> {
        let row = sqlx::query(
            "SELECT track_ids, current_id, position_ms, changed_at, changed_by FROM play_queues \
             WHERE user_id = $1",
        )
        .bind(user.as_str())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let ids: String = r.try_get("track_ids")?;
        Ok(Some(PlayQueue {
            track_ids: ids.split_whitespace().map(str::to_owned).collect(),
            current: r.try_get("current_id")?,
            position_ms: r.try_get("position_ms")?,
            changed_at: Timestamp(r.try_get("changed_at")?),
            changed_by: r.try_get("changed_by")?,
        }))
    }
}
