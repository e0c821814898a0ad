//! `PasskeyStore` in SQL: passkeys and WebAuthn ceremonies.

use async_trait::async_trait;
use clef_core::{Timestamp, TokenHash, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::accounts::conflict;
use super::SqlStore;
use crate::passkey_model::*;
use crate::repo::PasskeyStore;
use crate::StoreResult;

const PASSKEY_COLS: &str = "id, user_id, name, credential_id, passkey, created_at, last_used_at";
const CEREMONY_COLS: &str = "token_hash, user_id, kind, state, expires_at";

fn passkey_from(r: &AnyRow) -> StoreResult<StoredPasskey> {
    Ok(StoredPasskey {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        name: r.try_get("name")?,
        credential_id: r.try_get("credential_id")?,
        passkey: r.try_get("passkey")?,
        created_at: Timestamp(r.try_get("created_at")?),
        last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(Timestamp),
    })
}

fn ceremony_from(r: &AnyRow) -> StoreResult<WebauthnCeremony> {
    Ok(WebauthnCeremony {
        token_hash: TokenHash(r.try_get("token_hash")?),
        user_id: r.try_get::<Option<String>, _>("user_id")?.map(UserId),
        kind: CeremonyKind::read(&r.try_get::<String, _>("kind")?)?,
        state: r.try_get("state")?,
        expires_at: Timestamp(r.try_get("expires_at")?),
    })
}

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn add_passkey(&self, p: &StoredPasskey) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO passkeys ({PASSKEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&p.id)
        .bind(p.user_id.as_str())
        .bind(&p.name)
        .bind(&p.credential_id)
        .bind(&p.passkey)
        .bind(p.created_at.0)
        .bind(p.last_used_at.map(|t| t.0))
        .execute(&self.write)
        .await
        .map_err(|e| conflict(e, "passkey"))?;
        Ok(())
    }

    async fn passkeys(&self, user: &UserId) -> StoreResult<Vec<StoredPasskey>> {
        let rows = sqlx::query(&format!(
            "SELECT {PASSKEY_COLS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(passkey_from).collect()
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<StoredPasskey>> {
        let row = sqlx::query(&format!(
            "SELECT {PASSKEY_COLS} FROM passkeys WHERE credential_id = $1"
        ))
        .bind(credential_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| passkey_from(&r)).transpose()
    }

    async fn remove_passkey(&self, user: &UserId, id: &str) -> StoreResult<Option<StoredPasskey>> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {PASSKEY_COLS} FROM passkeys WHERE id = $1 AND user_id = $2"
        ))
        .bind(id)
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let gone = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() != 1 {
            return Ok(None);
        }
        let removed = passkey_from(&r)?;
        tx.commit().await?;
        Ok(Some(removed))
    }

    async fn use_passkey(&self, id: &str, passkey: &str, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey)
            .bind(at.0)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn put_ceremony(&self, c: &WebauthnCeremony) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        // Ceremonies last minutes; those an hour past their end are forgotten as new ones come.
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
            .bind(c.expires_at.0 - 3_600_000)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO webauthn_ceremonies ({CEREMONY_COLS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(c.token_hash.as_str())
        .bind(c.user_id.as_ref().map(|u| u.as_str().to_owned()))
        .bind(c.kind.as_str())
        .bind(&c.state)
        .bind(c.expires_at.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<WebauthnCeremony>> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {CEREMONY_COLS} FROM webauthn_ceremonies WHERE token_hash = $1 AND expires_at > $2"
        ))
        .bind(hash.as_str())
        .bind(now.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        // Of two takes at once, only the one whose DELETE removed the row goes on.
        let gone = sqlx::query("DELETE FROM webauthn_ceremonies WHERE token_hash = $1")
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() != 1 {
            return Ok(None);
        }
        let ceremony = ceremony_from(&r)?;
        tx.commit().await?;
        Ok(Some(ceremony))
    }
}
