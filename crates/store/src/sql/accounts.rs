//! `AccountStore` in SQL.

use async_trait::async_trait;
use clef_core::{DeviceId, Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::credentials::{insert_credential, revocation_from, revoke_device_in};
use super::{bool_int, Backend, SqlStore};
use crate::credential_model::*;
use crate::model::*;
use crate::repo::AccountStore;
use crate::{StoreError, StoreResult};

pub(super) const USER_COLS: &str = "u.id, u.username, u.password_hash, u.is_admin, u.disabled, u.max_devices, u.max_streams, u.created_at, u.must_change_password, u.email, u.notify_new_device, u.totp_enabled_at";
pub(super) const DEVICE_COLS: &str = "d.id, d.user_id, d.name, d.device_type, d.client, d.origin, d.grant_id, d.ip, d.first_seen, d.last_seen, d.expires_at, d.revoked_at, d.revoked_reason, d.revoked_by";
/// The condition for a live device that holds a slot (app seats do not); binds `$2` = now and
/// `$3` = idle cutoff.
const LIVE: &str =
    "d.revoked_at IS NULL AND d.expires_at > $2 AND d.last_seen > $3 AND d.origin <> 'app'";

pub(super) fn user_from(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        is_admin: r.try_get::<i64, _>("is_admin")? != 0,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        max_devices: r.try_get("max_devices")?,
        max_streams: r.try_get("max_streams")?,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        email: r.try_get("email")?,
        notify_new_device: r.try_get::<i64, _>("notify_new_device")? != 0,
        totp_enabled_at: r
            .try_get::<Option<i64>, _>("totp_enabled_at")?
            .map(Timestamp),
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

pub(super) fn device_from(r: &AnyRow, prefix: &str) -> StoreResult<Device> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(Device {
        id: DeviceId(r.try_get(col("id").as_str())?),
        user_id: UserId(r.try_get(col("user_id").as_str())?),
        name: r.try_get(col("name").as_str())?,
        device_type: r.try_get(col("device_type").as_str())?,
        client: r.try_get(col("client").as_str())?,
        origin: DeviceOrigin::read(&r.try_get::<String, _>(col("origin").as_str())?)?,
        grant_id: r.try_get(col("grant_id").as_str())?,
        ip: r.try_get(col("ip").as_str())?,
        first_seen: Timestamp(r.try_get(col("first_seen").as_str())?),
        last_seen: Timestamp(r.try_get(col("last_seen").as_str())?),
        expires_at: Timestamp(r.try_get(col("expires_at").as_str())?),
        revoked: revocation_from(r, prefix)?,
    })
}

fn event_from(r: &AnyRow) -> Result<SecurityEvent, sqlx::Error> {
    Ok(SecurityEvent {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        at: Timestamp(r.try_get("at")?),
        kind: r.try_get("kind")?,
        device_id: r.try_get::<Option<String>, _>("device_id")?.map(DeviceId),
        device_name: r.try_get("device_name")?,
        ip: r.try_get("ip")?,
        detail: r.try_get("detail")?,
    })
}

pub(super) fn conflict(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}

/// Which of a user's unique rules a write broke: the address's index, or the name.
pub(super) fn user_conflict(e: sqlx::Error) -> StoreError {
    let on_email = match &e {
        sqlx::Error::Database(d) => {
            d.constraint() == Some("users_by_email") || d.message().contains("users_by_email")
        }
        _ => false,
    };
    conflict(e, if on_email { "email" } else { "username" })
}

async fn live_devices_on(
    conn: &mut AnyConnection,
    user: &UserId,
    live: Liveness,
) -> StoreResult<Vec<Device>> {
    let sql = format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.user_id = $1 AND {LIVE} ORDER BY d.last_seen DESC, d.id");
    let rows = sqlx::query(&sql)
        .bind(user.as_str())
        .bind(live.now.0)
        .bind(live.idle_cutoff.0)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| device_from(r, "")).collect()
}

/// Serialises a user's admissions across every node (PostgreSQL locks the user's row; SQLite's
/// single writer already serialises them).
pub(super) async fn lock_user(
    conn: &mut AnyConnection,
    backend: Backend,
    user: &UserId,
) -> StoreResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inside a transaction holding the user's lock: optionally signs out `replace`, then inserts
/// `d` only below `limit` live listed devices. Anything but `Admitted` must be rolled back.
pub(super) async fn admit_on(
    conn: &mut AnyConnection,
    d: &NewDevice,
    limit: i64,
    live: Liveness,
    replace: Option<&Replace>,
) -> StoreResult<Admission> {
    if let Some(r) = replace {
        let sql =
            format!("SELECT COUNT(*) FROM devices d WHERE d.user_id = $1 AND {LIVE} AND d.id = $4");
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(d.user_id.as_str())
            .bind(live.now.0)
            .bind(live.idle_cutoff.0)
            .bind(r.device_id.as_str())
            .fetch_one(&mut *conn)
            .await?;
        if n == 0 {
            return Ok(Admission::ReplaceNotFound);
        }
        revoke_device_in(&mut *conn, &d.user_id, &r.device_id, r.reason, live.now).await?;
    }
    let sql = format!("SELECT COUNT(*) FROM devices d WHERE d.user_id = $1 AND {LIVE}");
    let held: i64 = sqlx::query_scalar(&sql)
        .bind(d.user_id.as_str())
        .bind(live.now.0)
        .bind(live.idle_cutoff.0)
        .fetch_one(&mut *conn)
        .await?;
    if held >= limit {
        return Ok(Admission::LimitReached(
            live_devices_on(&mut *conn, &d.user_id, live).await?,
        ));
    }
    insert_device(&mut *conn, d).await?;
    Ok(Admission::Admitted)
}

pub(super) async fn insert_device(conn: &mut AnyConnection, d: &NewDevice) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO devices (id, user_id, name, device_type, client, origin, grant_id, ip, first_seen, last_seen, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
    )
    .bind(d.id.as_str())
    .bind(d.user_id.as_str())
    .bind(&d.name)
    .bind(&d.device_type)
    .bind(&d.client)
    .bind(d.origin.as_str())
    .bind(d.grant_id.clone())
    .bind(&d.ip)
    .bind(d.now.0)
    .bind(d.expires_at.0)
    .execute(&mut *conn)
    .await
    .map_err(|e| conflict(e, "device"))?;
    Ok(())
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn update_attempts(
        &self,
        keys: &[&str],
        update: &mut AttemptUpdate<'_>,
    ) -> StoreResult<()> {
        self.update_attempts_sql(keys, update).await
    }

    async fn forget_attempts(&self, cutoff: Timestamp) -> StoreResult<u64> {
        self.forget_attempts_sql(cutoff).await
    }

    async fn create_user(&self, u: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, is_admin, disabled, max_devices, max_streams, created_at, must_change_password, email, notify_new_device) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(u.id.as_str())
        .bind(&u.username)
        .bind(&u.password_hash)
        .bind(bool_int(u.is_admin))
        .bind(bool_int(u.disabled))
        .bind(u.max_devices)
        .bind(u.max_streams)
        .bind(u.created_at.0)
        .bind(bool_int(u.must_change_password))
        .bind(u.email.as_deref())
        .bind(bool_int(u.notify_new_device))
        .execute(&self.write)
        .await
        .map_err(user_conflict)?;
        Ok(())
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.username = $1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from).transpose()?)
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from).transpose()?)
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users u ORDER BY u.username");
        let rows = sqlx::query(&sql).fetch_all(&self.read).await?;
        Ok(rows.iter().map(user_from).collect::<Result<_, _>>()?)
    }

    async fn count_admins(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled = 0")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.as_str())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn set_disabled(&self, id: &UserId, disabled: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(bool_int(disabled))
            .bind(id.as_str())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn change_user_guarded(
        &self,
        id: &UserId,
        change: GuardedChange,
    ) -> StoreResult<GuardOutcome> {
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Postgres {
            // Serialises guarded changes across nodes (SQLite has one writer already); the mode
            // conflicts with itself and with writes to users, not with readers or row locks.
            sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query("SELECT is_admin, disabled FROM users WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(GuardOutcome::NotFound);
        };
        let enabled_admin =
            row.try_get::<i64, _>("is_admin")? != 0 && row.try_get::<i64, _>("disabled")? == 0;
        let removes_an_admin = enabled_admin
            && matches!(
                change,
                GuardedChange::SetAdmin(false)
                    | GuardedChange::SetDisabled(true)
                    | GuardedChange::Delete
            );
        if removes_an_admin {
            let admins: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled = 0",
            )
            .fetch_one(&mut *tx)
            .await?;
            if admins <= 1 {
                return Ok(GuardOutcome::LastAdmin);
            }
        }
        let q = match change {
            GuardedChange::SetAdmin(on) => {
                sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2").bind(bool_int(on))
            }
            GuardedChange::SetDisabled(on) => {
                sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(bool_int(on))
            }
            // Devices, stream slots, playlists, exports, pending sign-ins and the user's own
            // security log go with the user (ON DELETE CASCADE).
            GuardedChange::Delete => sqlx::query("DELETE FROM users WHERE id = $1"),
        };
        q.bind(id.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(GuardOutcome::Done)
    }

    async fn set_must_change_password(&self, id: &UserId, must: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET must_change_password = $1 WHERE id = $2")
            .bind(bool_int(must))
            .bind(id.as_str())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn set_limits(
        &self,
        id: &UserId,
        max_devices: Option<i64>,
        max_streams: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        if let Some(n) = max_devices {
            sqlx::query("UPDATE users SET max_devices = $1 WHERE id = $2")
                .bind(n)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(n) = max_streams {
            sqlx::query("UPDATE users SET max_streams = $1 WHERE id = $2")
                .bind(n)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn admit_device(
        &self,
        d: &NewDevice,
        credential: &NewCredential,
        limit: i64,
        live: Liveness,
        replace: Option<&Replace>,
    ) -> StoreResult<Admission> {
        let mut tx = self.write.begin().await?;
        lock_user(&mut tx, self.backend, &d.user_id).await?;
        let admission = admit_on(&mut tx, d, limit, live, replace).await?;
        if admission != Admission::Admitted {
            tx.rollback().await?;
            return Ok(admission);
        }
        insert_credential(&mut tx, credential).await?;
        tx.commit().await?;
        Ok(Admission::Admitted)
    }

    async fn device_by_id(&self, id: &DeviceId) -> StoreResult<Option<Device>> {
        let sql = format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(|r| device_from(r, "")).transpose()
    }

    async fn known_device(
        &self,
        user: &UserId,
        name: &str,
        device_type: &str,
        client: &str,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE user_id = $1 AND name = $2 AND device_type = $3 AND client = $4")
            .bind(user.as_str())
            .bind(name)
            .bind(device_type)
            .bind(client)
            .fetch_one(&self.read)
            .await?;
        Ok(n > 0)
    }

    async fn live_devices(&self, user: &UserId, live: Liveness) -> StoreResult<Vec<Device>> {
        let mut conn = self.read.acquire().await?;
        live_devices_on(&mut conn, user, live).await
    }

    async fn add_event(&self, e: &SecurityEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO security_events (id, user_id, at, kind, device_id, device_name, ip, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.id)
        .bind(e.user_id.as_str())
        .bind(e.at.0)
        .bind(&e.kind)
        .bind(e.device_id.as_ref().map(|d| d.as_str().to_owned()))
        .bind(e.device_name.clone())
        .bind(e.ip.clone())
        .bind(e.detail.clone())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn events(&self, user: Option<&UserId>, limit: i64) -> StoreResult<Vec<SecurityEvent>> {
        let cols = "id, user_id, at, kind, device_id, device_name, ip, detail";
        let rows = match user {
            Some(u) => {
                let sql = format!("SELECT {cols} FROM security_events WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2");
                sqlx::query(&sql)
                    .bind(u.as_str())
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {cols} FROM security_events ORDER BY at DESC, id DESC LIMIT $1"
                );
                sqlx::query(&sql).bind(limit).fetch_all(&self.read).await?
            }
        };
        Ok(rows.iter().map(event_from).collect::<Result<_, _>>()?)
    }

    async fn put_pending(&self, p: &PendingSignIn) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO pending_signins (token_hash, user_id, name, device_type, client, ip, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(p.token_hash.as_str())
        .bind(p.user_id.as_str())
        .bind(&p.name)
        .bind(&p.device_type)
        .bind(&p.client)
        .bind(&p.ip)
        .bind(p.expires_at.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn take_pending(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM pending_signins WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT token_hash, user_id, name, device_type, client, ip, expires_at FROM pending_signins WHERE token_hash = $1")
            .bind(hash.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(r) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        sqlx::query("DELETE FROM pending_signins WHERE token_hash = $1")
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(PendingSignIn {
            token_hash: TokenHash(r.try_get("token_hash")?),
            user_id: UserId(r.try_get("user_id")?),
            name: r.try_get("name")?,
            device_type: r.try_get("device_type")?,
            client: r.try_get("client")?,
            ip: r.try_get("ip")?,
            expires_at: Timestamp(r.try_get("expires_at")?),
        }))
    }
}

/// The device columns aliased with a `d_` prefix, for queries that also select user columns.
pub(super) fn device_aliases() -> String {
    DEVICE_COLS
        .split(", ")
        .map(|c| format!("{c} AS d_{}", c.trim_start_matches("d.")))
        .collect::<Vec<_>>()
        .join(", ")
}
