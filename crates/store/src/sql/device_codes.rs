//! The device-authorization requests of RFC 8628 in SQL: a pending request is answered once by
//! its user (approving admits the device under the limit, in the same transaction as a sign-in's
//! admission) and polled by the device until it gets its tokens, once.

use clef_core::{DeviceId, ScopeSet, Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::accounts::{admit_on, lock_user};
use super::oauth::grant_for;
use super::{Backend, SqlStore};
use crate::credential_model::DeviceOrigin;
use crate::model::Admission;
use crate::oauth_model::*;
use crate::{StoreError, StoreResult};

const COLS: &str = "device_code_hash, user_code, client_id, scopes, device_name, device_type, created_at, expires_at, interval_secs, last_poll, state, user_id, device_id";

fn code_from(r: &AnyRow) -> StoreResult<DeviceCode> {
    let scopes: String = r.try_get("scopes")?;
    Ok(DeviceCode {
        device_code_hash: TokenHash(r.try_get("device_code_hash")?),
        user_code: r.try_get("user_code")?,
        client_id: r.try_get("client_id")?,
        scopes: ScopeSet::parse(&scopes).map_err(|e| StoreError::UnknownValue {
            what: "scope",
            value: e.0,
        })?,
        device_name: r.try_get("device_name")?,
        device_type: r.try_get("device_type")?,
        created_at: Timestamp(r.try_get("created_at")?),
        expires_at: Timestamp(r.try_get("expires_at")?),
        interval_secs: r.try_get("interval_secs")?,
    })
}

impl SqlStore {
    pub(super) async fn put_device_code_sql(&self, c: &DeviceCode) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO oauth_device_codes ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', NULL, NULL)"
        ))
        .bind(c.device_code_hash.as_str())
        .bind(&c.user_code)
        .bind(&c.client_id)
        .bind(c.scopes.to_string())
        .bind(&c.device_name)
        .bind(&c.device_type)
        .bind(c.created_at.0)
        .bind(c.expires_at.0)
        .bind(c.interval_secs)
        .bind(0_i64)
        .execute(&self.write)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict("user_code"),
            _ => StoreError::Database(e),
        })?;
        // Requests expired a day ago are of no more use, even to explain themselves.
        sqlx::query("DELETE FROM oauth_device_codes WHERE expires_at < $1")
            .bind(c.created_at.minus_secs(86_400).0)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub(super) async fn pending_device_code_sql(
        &self,
        user_code: &str,
        now: Timestamp,
    ) -> StoreResult<Option<DeviceCode>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM oauth_device_codes WHERE user_code = $1 AND state = 'pending' AND expires_at > $2"
        ))
        .bind(user_code)
        .bind(now.0)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(code_from).transpose()
    }

    pub(super) async fn decide_device_code_sql(
        &self,
        user: &UserId,
        user_code: &str,
        decision: &DeviceDecision,
        now: Timestamp,
    ) -> StoreResult<Decided> {
        let mut tx = self.write.begin().await?;
        lock_user(&mut tx, self.backend, user).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM oauth_device_codes WHERE user_code = $1 AND state = 'pending' AND expires_at > $2"
        ))
        .bind(user_code)
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(code) = row.as_ref().map(code_from).transpose()? else {
            return Ok(Decided::NotPending);
        };
        let (state, device_id, outcome) = match decision {
            DeviceDecision::Deny => ("denied", None, Decided::Denied),
            DeviceDecision::Approve {
                grant_id,
                device,
                limit,
                live,
                replace,
            } => {
                let (grant, _) =
                    grant_for(&mut tx, user, &code.client_id, code.scopes, grant_id, now).await?;
                let mut d = (**device).clone();
                d.origin = DeviceOrigin::DeviceCode;
                d.grant_id = Some(grant.clone());
                d.user_id = user.clone();
                match admit_on(&mut tx, &d, *limit, *live, replace.as_ref()).await? {
                    Admission::Admitted => {}
                    Admission::LimitReached(holders) => {
                        tx.rollback().await?;
                        return Ok(Decided::LimitReached(holders));
                    }
                    Admission::ReplaceNotFound => {
                        tx.rollback().await?;
                        return Ok(Decided::ReplaceNotFound);
                    }
                }
                (
                    "approved",
                    Some(d.id.as_str().to_owned()),
                    Decided::Approved { grant_id: grant },
                )
            }
        };
        sqlx::query(
            "UPDATE oauth_device_codes SET state = $1, user_id = $2, device_id = $3 WHERE user_code = $4",
        )
        .bind(state)
        .bind(user.as_str())
        .bind(device_id)
        .bind(user_code)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn poll_device_code_sql(
        &self,
        hash: &TokenHash,
        client_id: &str,
        now: Timestamp,
    ) -> StoreResult<Poll> {
        let mut tx = self.write.begin().await?;
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM oauth_device_codes WHERE device_code_hash = $1{lock}"
        ))
        .bind(hash.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else {
            return Ok(Poll::Unknown);
        };
        let code = code_from(&r)?;
        if !code.device_code_hash.ct_eq(hash) || code.client_id != client_id {
            return Ok(Poll::Unknown);
        }
        let state: String = r.try_get("state")?;
        if state == "used" {
            return Ok(Poll::Unknown);
        }
        if state == "pending" && code.expires_at <= now {
            return Ok(Poll::Expired);
        }
        let last_poll: i64 = r.try_get("last_poll")?;
        if state == "pending" && now.0 - last_poll < code.interval_secs * 1000 {
            sqlx::query(
                "UPDATE oauth_device_codes SET interval_secs = interval_secs + 5, last_poll = $1 WHERE device_code_hash = $2",
            )
            .bind(now.0)
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Poll::SlowDown);
        }
        let next_state = if state == "approved" {
            "used"
        } else {
            state.as_str()
        };
        sqlx::query(
            "UPDATE oauth_device_codes SET last_poll = $1, state = $2 WHERE device_code_hash = $3",
        )
        .bind(now.0)
        .bind(next_state)
        .bind(hash.as_str())
        .execute(&mut *tx)
        .await?;
        let outcome = match state.as_str() {
            "pending" => Poll::Pending,
            "denied" => Poll::Denied,
            "approved" => {
                let user = UserId(r.try_get("user_id")?);
                let device = DeviceId(r.try_get::<String, _>("device_id")?);
                let grant: Option<String> = sqlx::query_scalar(
                    "SELECT grant_id FROM devices WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(device.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
                match grant {
                    Some(grant_id) => Poll::Approved {
                        user_id: user,
                        device_id: device,
                        grant_id,
                        scopes: code.scopes,
                    },
                    // Signed out before it collected its tokens.
                    None => Poll::Denied,
                }
            }
            _ => Poll::Unknown,
        };
        tx.commit().await?;
        Ok(outcome)
    }
}
