//! `OAuthStore` in SQL.

use async_trait::async_trait;
use clef_core::{DeviceId, ScopeSet, Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::accounts::{device_from, insert_device, lock_user, DEVICE_COLS};
use super::credentials::{insert_credential, revocation_from, revoke_in, Why};
use super::{Backend, SqlStore};
use crate::credential_model::*;
use crate::model::Liveness;
use crate::oauth_model::*;
use crate::repo::OAuthStore;
use crate::{StoreError, StoreResult};

const APP_COLS: &str =
    "a.client_id, a.owner_id, u.username AS owner_name, a.name, a.redirect_uris, a.secret_hash, a.created_at";
const GRANT_COLS: &str =
    "g.id, g.user_id, g.client_id, g.scopes, g.created_at, g.revoked_at, g.revoked_reason, g.revoked_by";

fn scopes(s: &str) -> StoreResult<ScopeSet> {
    ScopeSet::parse(s).map_err(|e| StoreError::UnknownValue {
        what: "scope",
        value: e.0,
    })
}

fn app_from(r: &AnyRow) -> StoreResult<App> {
    let uris: String = r.try_get("redirect_uris")?;
    Ok(App {
        client_id: r.try_get("client_id")?,
        owner_id: UserId(r.try_get("owner_id")?),
        owner_name: r.try_get("owner_name")?,
        name: r.try_get("name")?,
        redirect_uris: uris.lines().map(str::to_owned).collect(),
        secret_hash: r
            .try_get::<Option<String>, _>("secret_hash")?
            .map(TokenHash),
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

fn grant_from(r: &AnyRow) -> StoreResult<Grant> {
    Ok(Grant {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        client_id: r.try_get("client_id")?,
        scopes: scopes(&r.try_get::<String, _>("scopes")?)?,
        created_at: Timestamp(r.try_get("created_at")?),
        revoked: revocation_from(r, "")?,
    })
}

async fn grant_on(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Grant>> {
    let sql = format!("SELECT {GRANT_COLS} FROM oauth_grants g WHERE g.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(grant_from).transpose()
}

/// Inside a transaction holding the user's lock: the user's live grant to the app, widened by
/// `scopes`, or a new one with `new_id`. Returns its id and scopes.
pub(super) async fn grant_for(
    conn: &mut AnyConnection,
    user: &UserId,
    client_id: &str,
    scopes: ScopeSet,
    new_id: &str,
    now: Timestamp,
) -> StoreResult<(String, ScopeSet)> {
    let sql = format!(
        "SELECT {GRANT_COLS} FROM oauth_grants g \
         WHERE g.user_id = $1 AND g.client_id = $2 AND g.revoked_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(user.as_str())
        .bind(client_id)
        .fetch_optional(&mut *conn)
        .await?;
    match row.as_ref().map(grant_from).transpose()? {
        Some(g) => {
            let wider = g.scopes.union(scopes);
            sqlx::query("UPDATE oauth_grants SET scopes = $1 WHERE id = $2")
                .bind(wider.to_string())
                .bind(&g.id)
                .execute(&mut *conn)
                .await?;
            Ok((g.id, wider))
        }
        None => {
            sqlx::query(
                "INSERT INTO oauth_grants (id, user_id, client_id, scopes, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new_id)
            .bind(user.as_str())
            .bind(client_id)
            .bind(scopes.to_string())
            .bind(now.0)
            .execute(&mut *conn)
            .await?;
            Ok((new_id.to_owned(), scopes))
        }
    }
}

#[async_trait]
impl OAuthStore for SqlStore {
    async fn create_app(&self, a: &App) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_apps (client_id, owner_id, name, redirect_uris, secret_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&a.client_id)
        .bind(a.owner_id.as_str())
        .bind(&a.name)
        .bind(a.redirect_uris.join("\n"))
        .bind(a.secret_hash.as_ref().map(|h| h.0.clone()))
        .bind(a.created_at.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn app(&self, client_id: &str) -> StoreResult<Option<App>> {
        let sql = format!(
            "SELECT {APP_COLS} FROM oauth_apps a JOIN users u ON u.id = a.owner_id WHERE a.client_id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(client_id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(app_from).transpose()
    }

    async fn apps_of(&self, owner: &UserId) -> StoreResult<Vec<App>> {
        let sql = format!(
            "SELECT {APP_COLS} FROM oauth_apps a JOIN users u ON u.id = a.owner_id \
             WHERE a.owner_id = $1 ORDER BY a.name, a.client_id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner.as_str())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(app_from).collect()
    }

    async fn delete_app(&self, owner: &UserId, client_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM oauth_apps WHERE client_id = $1 AND owner_id = $2")
            .bind(client_id)
            .bind(owner.as_str())
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn approve(&self, a: &Approval) -> StoreResult<Approved> {
        let mut tx = self.write.begin().await?;
        lock_user(&mut tx, self.backend, &a.user_id).await?;
        let (grant_id, scopes) = grant_for(
            &mut tx,
            &a.user_id,
            &a.client_id,
            a.scopes,
            &a.grant_id,
            a.seat.now,
        )
        .await?;
        let seat: Option<String> = sqlx::query_scalar(
            "SELECT id FROM devices WHERE grant_id = $1 AND origin = 'app' AND revoked_at IS NULL",
        )
        .bind(&grant_id)
        .fetch_optional(&mut *tx)
        .await?;
        let seat = match seat {
            Some(id) => DeviceId(id),
            None => {
                let mut d = a.seat.clone();
                d.origin = DeviceOrigin::App;
                d.grant_id = Some(grant_id.clone());
                insert_device(&mut tx, &d).await?;
                d.id
            }
        };
        tx.commit().await?;
        Ok(Approved {
            grant_id,
            seat,
            scopes,
        })
    }

    async fn grant(&self, id: &str) -> StoreResult<Option<Grant>> {
        let mut conn = self.read.acquire().await?;
        grant_on(&mut conn, id).await
    }

    async fn grants_of(&self, user: &UserId, live: Liveness) -> StoreResult<Vec<GrantView>> {
        let sql = format!(
            "SELECT {GRANT_COLS}, \
             (SELECT MAX(c.last_used) FROM credentials c WHERE c.grant_id = g.id) AS last_used \
             FROM oauth_grants g WHERE g.user_id = $1 AND g.revoked_at IS NULL"
        );
        let rows = sqlx::query(&sql)
            .bind(user.as_str())
            .fetch_all(&self.read)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let grant = grant_from(r)?;
            let Some(app) = self.app(&grant.client_id).await? else {
                continue;
            };
            let last_used = Timestamp(
                r.try_get::<Option<i64>, _>("last_used")?
                    .unwrap_or(grant.created_at.0),
            );
            let sql = format!(
                "SELECT {DEVICE_COLS} FROM devices d WHERE d.grant_id = $1 AND d.origin = 'device_code' \
                 AND d.revoked_at IS NULL AND d.expires_at > $2 AND d.last_seen > $3 ORDER BY d.last_seen DESC"
            );
            let devices = sqlx::query(&sql)
                .bind(&grant.id)
                .bind(live.now.0)
                .bind(live.idle_cutoff.0)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| device_from(r, ""))
                .collect::<StoreResult<_>>()?;
            out.push(GrantView {
                grant,
                app,
                last_used,
                devices,
            });
        }
        out.sort_by_key(|g| std::cmp::Reverse(g.last_used));
        Ok(out)
    }

    async fn put_code(&self, c: &AuthCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_codes (code_hash, client_id, user_id, grant_id, device_id, redirect_uri, scopes, challenge, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.code_hash.as_str())
        .bind(&c.client_id)
        .bind(c.user_id.as_str())
        .bind(&c.grant_id)
        .bind(c.device_id.as_str())
        .bind(&c.redirect_uri)
        .bind(c.scopes.to_string())
        .bind(&c.challenge)
        .bind(c.expires_at.0)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn use_code(&self, hash: &TokenHash, now: Timestamp) -> StoreResult<CodeUse> {
        let mut tx = self.write.begin().await?;
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let sql = format!(
            "SELECT code_hash, client_id, user_id, grant_id, device_id, redirect_uri, scopes, challenge, expires_at, used_at, issued \
             FROM oauth_codes WHERE code_hash = $1{lock}"
        );
        let row = sqlx::query(&sql)
            .bind(hash.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(r) = row else {
            return Ok(CodeUse::Unknown);
        };
        if !TokenHash(r.try_get("code_hash")?).ct_eq(hash) {
            return Ok(CodeUse::Unknown);
        }
        if r.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(CodeUse::Replayed {
                issued: r.try_get("issued")?,
            });
        }
        let code = AuthCode {
            code_hash: hash.clone(),
            client_id: r.try_get("client_id")?,
            user_id: UserId(r.try_get("user_id")?),
            grant_id: r.try_get("grant_id")?,
            device_id: DeviceId(r.try_get("device_id")?),
            redirect_uri: r.try_get("redirect_uri")?,
            scopes: scopes(&r.try_get::<String, _>("scopes")?)?,
            challenge: r.try_get("challenge")?,
            expires_at: Timestamp(r.try_get("expires_at")?),
        };
        if code.expires_at <= now {
            return Ok(CodeUse::Unknown);
        }
        sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2")
            .bind(now.0)
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        // Spent codes are kept a day so that a replay is recognised; older ones go.
        sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1")
            .bind(now.minus_secs(86_400).0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(CodeUse::Fresh(code))
    }

    async fn issue(
        &self,
        code: Option<&TokenHash>,
        credentials: &[NewCredential],
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        for c in credentials {
            insert_credential(&mut tx, c).await?;
        }
        if let (Some(code), Some(refresh)) = (
            code,
            credentials
                .iter()
                .find(|c| c.kind == CredentialKind::OAuthRefresh),
        ) {
            sqlx::query("UPDATE oauth_codes SET issued = $1 WHERE code_hash = $2")
                .bind(&refresh.id)
                .bind(code.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_refresh(&self, f: &Refresh, now: Timestamp) -> StoreResult<Rotation> {
        let mut tx = self.write.begin().await?;
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE OF c"
        } else {
            ""
        };
        let sql = format!(
            "SELECT c.id, c.token_hash, c.kind, c.scopes, c.device_id, c.grant_id, c.expires_at, c.revoked_at, c.revoked_reason, c.revoked_by, g.client_id \
             FROM credentials c JOIN oauth_grants g ON g.id = c.grant_id WHERE c.token_hash = $1{lock}"
        );
        let row = sqlx::query(&sql)
            .bind(f.presented.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(r) = row else {
            return Ok(Rotation::Refused);
        };
        let client: String = r.try_get("client_id")?;
        if !TokenHash(r.try_get("token_hash")?).ct_eq(&f.presented)
            || client != f.client_id
            || CredentialKind::read(&r.try_get::<String, _>("kind")?)?
                != CredentialKind::OAuthRefresh
        {
            return Ok(Rotation::Refused);
        }
        let grant_id: String = r.try_get("grant_id")?;
        if let Some(rev) = revocation_from(&r, "")? {
            if rev.reason != SignOutReason::Rotated {
                return Ok(Rotation::Refused);
            }
            let Some(grant) = grant_on(&mut tx, &grant_id).await? else {
                return Ok(Rotation::Refused);
            };
            let why = Why {
                reason: SignOutReason::RefreshTokenReused,
                by: None,
                now,
            };
            revoke_in(
                &mut tx,
                RevokeScope::Grant {
                    user: &grant.user_id,
                    grant: &grant.id,
                },
                &why,
            )
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Reused {
                user_id: grant.user_id,
                grant_id,
            });
        }
        if Timestamp(r.try_get("expires_at")?) <= now {
            return Ok(Rotation::Refused);
        }
        let Some(grant) = grant_on(&mut tx, &grant_id).await? else {
            return Ok(Rotation::Refused);
        };
        if grant.revoked.is_some() {
            return Ok(Rotation::Refused);
        }
        let old: String = r.try_get("id")?;
        sqlx::query(
            "UPDATE credentials SET revoked_at = $1, revoked_reason = $2, last_used = $1 WHERE id = $3",
        )
        .bind(now.0)
        .bind(SignOutReason::Rotated.as_str())
        .bind(&old)
        .execute(&mut *tx)
        .await?;
        let device = DeviceId(r.try_get("device_id")?);
        let kept = scopes(&r.try_get::<String, _>("scopes")?)?;
        for c in [&f.refresh, &f.access] {
            let mut c = c.clone();
            c.device_id = device.clone();
            c.grant_id = Some(grant_id.clone());
            c.user_id = grant.user_id.clone();
            c.scopes = kept;
            insert_credential(&mut tx, &c).await?;
        }
        sqlx::query("UPDATE devices SET last_seen = $1 WHERE id = $2 AND last_seen < $1")
            .bind(now.0)
            .bind(device.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Rotation::Rotated {
            grant,
            scopes: kept,
        })
    }

    async fn put_device_code(&self, code: &DeviceCode) -> StoreResult<()> {
        self.put_device_code_sql(code).await
    }

    async fn pending_device_code(
        &self,
        user_code: &str,
        now: Timestamp,
    ) -> StoreResult<Option<DeviceCode>> {
        self.pending_device_code_sql(user_code, now).await
    }

    async fn decide_device_code(
        &self,
        user: &UserId,
        user_code: &str,
        decision: &DeviceDecision,
        now: Timestamp,
    ) -> StoreResult<Decided> {
        self.decide_device_code_sql(user, user_code, decision, now)
            .await
    }

    async fn poll_device_code(
        &self,
        hash: &TokenHash,
        client_id: &str,
        now: Timestamp,
    ) -> StoreResult<Poll> {
        self.poll_device_code_sql(hash, client_id, now).await
    }
}
