//! `CredentialStore` in SQL: credentials, and the one revocation that every sign-out runs.

use async_trait::async_trait;
use clef_core::{DeviceId, ScopeSet, Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::accounts::{device_aliases, device_from, user_from, USER_COLS};
use super::{placeholders, placeholders_from, SqlStore};
use crate::credential_model::*;
use crate::model::Revocation;
use crate::repo::CredentialStore;
use crate::{Presented, StoreError, StoreResult};

const CRED_COLS: [&str; 13] = [
    "id",
    "user_id",
    "device_id",
    "grant_id",
    "parent_id",
    "kind",
    "scopes",
    "created_at",
    "expires_at",
    "last_used",
    "revoked_at",
    "revoked_reason",
    "revoked_by",
];

pub(super) fn cred_aliases() -> String {
    CRED_COLS
        .iter()
        .map(|c| format!("c.{c} AS c_{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the `revoked_*` columns under `prefix`.
pub(super) fn revocation_from(r: &AnyRow, prefix: &str) -> StoreResult<Option<Revocation>> {
    let col = |c: &str| format!("{prefix}{c}");
    let Some(at) = r.try_get::<Option<i64>, _>(col("revoked_at").as_str())? else {
        return Ok(None);
    };
    let reason: Option<String> = r.try_get(col("revoked_reason").as_str())?;
    Ok(Some(Revocation {
        at: Timestamp(at),
        reason: SignOutReason::read(reason.as_deref().unwrap_or(""))?,
        by_device: r
            .try_get::<Option<String>, _>(col("revoked_by").as_str())?
            .map(DeviceId),
    }))
}

pub(super) fn credential_from(r: &AnyRow) -> StoreResult<Credential> {
    let scopes: String = r.try_get("c_scopes")?;
    Ok(Credential {
        id: r.try_get("c_id")?,
        user_id: UserId(r.try_get("c_user_id")?),
        device_id: DeviceId(r.try_get("c_device_id")?),
        grant_id: r.try_get("c_grant_id")?,
        parent_id: r.try_get("c_parent_id")?,
        kind: CredentialKind::read(&r.try_get::<String, _>("c_kind")?)?,
        scopes: ScopeSet::parse(&scopes).map_err(|e| StoreError::UnknownValue {
            what: "scope",
            value: e.0,
        })?,
        created_at: Timestamp(r.try_get("c_created_at")?),
        expires_at: Timestamp(r.try_get("c_expires_at")?),
        last_used: Timestamp(r.try_get("c_last_used")?),
        revoked: revocation_from(r, "c_")?,
    })
}

pub(super) async fn insert_credential(
    conn: &mut AnyConnection,
    c: &NewCredential,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO credentials (id, user_id, device_id, grant_id, parent_id, kind, token_hash, scopes, created_at, expires_at, last_used, sealed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $11)",
    )
    .bind(&c.id)
    .bind(c.user_id.as_str())
    .bind(c.device_id.as_str())
    .bind(c.grant_id.clone())
    .bind(c.parent_id.clone())
    .bind(c.kind.as_str())
    .bind(c.token_hash.as_str())
    .bind(c.scopes.to_string())
    .bind(c.now.0)
    .bind(c.expires_at.0)
    .bind(c.sealed.clone())
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict("credential"),
        _ => StoreError::Database(e),
    })?;
    Ok(())
}

/// Ids from `sql`, whose parameters are `binds`.
async fn ids(conn: &mut AnyConnection, sql: &str, binds: &[&str]) -> StoreResult<Vec<String>> {
    let mut q = sqlx::query_scalar(sql);
    for b in binds {
        q = q.bind(*b);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// Marks the rows of `table` among `ids` revoked (callers pass ids they found unrevoked in the
/// same transaction, so all of them are); returns `ids`.
async fn mark(
    conn: &mut AnyConnection,
    table: &str,
    ids: Vec<String>,
    why: &Why<'_>,
) -> StoreResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(ids);
    }
    let list = placeholders_from(4, ids.len());
    let sql = format!(
        "UPDATE {table} SET revoked_at = $1, revoked_reason = $2, revoked_by = $3 \
         WHERE revoked_at IS NULL AND id IN ({list})"
    );
    let mut q = sqlx::query(&sql)
        .bind(why.now.0)
        .bind(why.reason.as_str())
        .bind(why.by.map(|d| d.as_str().to_owned()));
    for id in &ids {
        q = q.bind(id.as_str());
    }
    q.execute(&mut *conn).await?;
    Ok(ids)
}

pub(super) struct Why<'a> {
    pub reason: SignOutReason,
    pub by: Option<&'a DeviceId>,
    pub now: Timestamp,
}

/// Unrevoked credentials of these devices.
async fn credentials_of(conn: &mut AnyConnection, devices: &[String]) -> StoreResult<Vec<String>> {
    if devices.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id FROM credentials WHERE revoked_at IS NULL AND device_id IN ({})",
        placeholders(devices.len())
    );
    let binds: Vec<&str> = devices.iter().map(String::as_str).collect();
    ids(conn, &sql, &binds).await
}

/// Devices among those of `credentials` that were authorised by code and have no credential
/// left: their access ended with their tokens.
async fn emptied_devices(
    conn: &mut AnyConnection,
    credentials: &[String],
) -> StoreResult<Vec<String>> {
    if credentials.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT d.id FROM devices d WHERE d.revoked_at IS NULL AND d.origin = 'device_code' \
         AND d.id IN (SELECT device_id FROM credentials WHERE id IN ({})) \
         AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.device_id = d.id AND c.revoked_at IS NULL)",
        placeholders(credentials.len())
    );
    let binds: Vec<&str> = credentials.iter().map(String::as_str).collect();
    ids(conn, &sql, &binds).await
}

pub(super) async fn revoke_in(
    conn: &mut AnyConnection,
    scope: RevokeScope<'_>,
    why: &Why<'_>,
) -> StoreResult<Revoked> {
    let mut out = Revoked::default();
    let devices = match scope {
        RevokeScope::Device { user, device } => {
            ids(
                conn,
                "SELECT id FROM devices WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                &[device.as_str(), user.as_str()],
            )
            .await?
        }
        RevokeScope::Everywhere { user, keep, apps } => {
            let keep = keep.map(DeviceId::as_str).unwrap_or("");
            let sql = if apps {
                "SELECT id FROM devices WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2"
            } else {
                "SELECT id FROM devices WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2 AND origin <> 'app'"
            };
            let found = ids(conn, sql, &[user.as_str(), keep]).await?;
            if apps {
                let app_creds = ids(
                    conn,
                    "SELECT id FROM credentials WHERE user_id = $1 AND revoked_at IS NULL AND grant_id IS NOT NULL",
                    &[user.as_str()],
                )
                .await?;
                out.credentials = mark(conn, "credentials", app_creds, why).await?;
                let grants = ids(
                    conn,
                    "SELECT id FROM oauth_grants WHERE user_id = $1 AND revoked_at IS NULL",
                    &[user.as_str()],
                )
                .await?;
                out.grants = mark(conn, "oauth_grants", grants, why).await?;
            }
            found
        }
        RevokeScope::Credential { id } => {
            let creds = ids(
                conn,
                "SELECT id FROM credentials WHERE revoked_at IS NULL AND (id = $1 OR parent_id = $1)",
                &[id],
            )
            .await?;
            out.credentials = mark(conn, "credentials", creds, why).await?;
            emptied_devices(conn, &out.credentials).await?
        }
        RevokeScope::App { client } => {
            let grants = ids(
                conn,
                "SELECT id FROM oauth_grants WHERE client_id = $1 AND revoked_at IS NULL",
                &[client],
            )
            .await?;
            let mut devices = Vec::new();
            for grant in &grants {
                let part = Box::pin(revoke_in(conn, RevokeScope::GrantOf { grant }, why)).await?;
                out.credentials.extend(part.credentials);
                devices.extend(part.devices.into_iter().map(|d| d.0));
            }
            out.grants = mark(conn, "oauth_grants", grants, why).await?;
            devices
        }
        RevokeScope::GrantOf { grant } => {
            let user: Option<String> =
                sqlx::query_scalar("SELECT user_id FROM oauth_grants WHERE id = $1")
                    .bind(grant)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(user) = user else {
                return Ok(out);
            };
            return Box::pin(revoke_in(
                conn,
                RevokeScope::Grant {
                    user: &UserId(user),
                    grant,
                },
                why,
            ))
            .await;
        }
        RevokeScope::Grant { user, grant } => {
            let found = ids(
                conn,
                "SELECT id FROM oauth_grants WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                &[grant, user.as_str()],
            )
            .await?;
            out.grants = mark(conn, "oauth_grants", found, why).await?;
            let creds = ids(
                conn,
                "SELECT id FROM credentials WHERE revoked_at IS NULL AND grant_id = $1 AND user_id = $2",
                &[grant, user.as_str()],
            )
            .await?;
            out.credentials = mark(conn, "credentials", creds, why).await?;
            ids(
                conn,
                "SELECT id FROM devices WHERE revoked_at IS NULL AND grant_id = $1 AND user_id = $2",
                &[grant, user.as_str()],
            )
            .await?
        }
    };
    let creds = credentials_of(conn, &devices).await?;
    out.credentials
        .extend(mark(conn, "credentials", creds, why).await?);
    out.devices = mark(conn, "devices", devices, why)
        .await?
        .into_iter()
        .map(DeviceId)
        .collect();
    Ok(out)
}

#[async_trait]
impl CredentialStore for SqlStore {
    async fn add_credential(&self, c: &NewCredential) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        insert_credential(&mut conn, c).await
    }

    async fn credential_by_token(&self, hash: &TokenHash) -> StoreResult<Option<Presented>> {
        let sql = format!(
            "SELECT {}, c.token_hash AS c_token_hash, {}, {USER_COLS} FROM credentials c \
             JOIN devices d ON d.id = c.device_id JOIN users u ON u.id = c.user_id \
             WHERE c.token_hash = $1",
            cred_aliases(),
            device_aliases()
        );
        let row = sqlx::query(&sql)
            .bind(hash.as_str())
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("c_token_hash")?;
        if !TokenHash(stored).ct_eq(hash) {
            return Ok(None);
        }
        Ok(Some(Presented {
            credential: credential_from(&row)?,
            device: device_from(&row, "d_")?,
            user: user_from(&row)?,
        }))
    }

    async fn touch(
        &self,
        credential: &str,
        device: &DeviceId,
        now: Timestamp,
        ip: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE credentials SET last_used = $1 WHERE id = $2 AND last_used < $1")
            .bind(now.0)
            .bind(credential)
            .execute(&mut *tx)
            .await?;
        // Time never runs backwards here; a new address is written even within the same second.
        sqlx::query(
            "UPDATE devices SET last_seen = CASE WHEN last_seen < $1 THEN $1 ELSE last_seen END, \
             ip = $2 WHERE id = $3 AND (last_seen < $1 OR ip <> $2)",
        )
        .bind(now.0)
        .bind(ip)
        .bind(device.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke(
        &self,
        scope: RevokeScope<'_>,
        reason: SignOutReason,
        by: Option<&DeviceId>,
        now: Timestamp,
    ) -> StoreResult<Revoked> {
        let mut tx = self.write.begin().await?;
        let out = revoke_in(&mut tx, scope, &Why { reason, by, now }).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn revoked_credentials(&self, ids: &[String]) -> StoreResult<Vec<(String, Revocation)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, revoked_at, revoked_reason, revoked_by FROM credentials \
             WHERE revoked_at IS NOT NULL AND id IN ({})",
            placeholders(ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(&self.read).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Some(rev) = revocation_from(r, "")? {
                out.push((r.try_get("id")?, rev));
            }
        }
        Ok(out)
    }
}

/// Exposed for the device admission in `accounts.rs`, which revokes the replaced device with the
/// same code path.
pub(super) async fn revoke_device_in(
    conn: &mut AnyConnection,
    user: &UserId,
    device: &DeviceId,
    reason: SignOutReason,
    now: Timestamp,
) -> StoreResult<Revoked> {
    revoke_in(
        conn,
        RevokeScope::Device { user, device },
        &Why {
            reason,
            by: None,
            now,
        },
    )
    .await
}
