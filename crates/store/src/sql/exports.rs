//! `ExportStore` in SQL: export jobs and their files.

use async_trait::async_trait;
use clef_core::{Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::export_model::*;
use crate::repo::ExportStore;
use crate::StoreResult;

const JOB_COLS: &str =
    "id, user_id, title, settings, out_dir, pattern, state, created_at, finished_at, error";

fn bad_state(s: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown export state {s:?}").into())
}

fn job_from(r: &AnyRow) -> Result<ExportJob, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(ExportJob {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        title: r.try_get("title")?,
        settings: r.try_get("settings")?,
        out_dir: r.try_get("out_dir")?,
        pattern: r.try_get("pattern")?,
        state: ExportState::parse(&state).ok_or_else(|| bad_state(&state))?,
        created_at: Timestamp(r.try_get("created_at")?),
        finished_at: r.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
        error: r.try_get("error")?,
    })
}

fn file_from(r: &AnyRow) -> Result<ExportFile, sqlx::Error> {
    let state: String = r.try_get("state")?;
    Ok(ExportFile {
        position: r.try_get("position")?,
        track_id: r.try_get("track_id")?,
        rel_path: r.try_get("rel_path")?,
        state: FileState::parse(&state).ok_or_else(|| bad_state(&state))?,
        size: r.try_get("size")?,
        error: r.try_get("error")?,
    })
}

#[async_trait]
impl ExportStore for SqlStore {
    async fn create_export(&self, job: &ExportJob, files: &[ExportFile]) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO exports ({JOB_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&job.id)
        .bind(job.user_id.as_str())
        .bind(&job.title)
        .bind(&job.settings)
        .bind(&job.out_dir)
        .bind(&job.pattern)
        .bind(job.state.as_str())
        .bind(job.created_at.0)
        .bind(job.finished_at.map(|t| t.0))
        .bind(job.error.as_deref())
        .execute(&mut *tx)
        .await?;
        for f in files {
            sqlx::query(
                "INSERT INTO export_files (export_id, position, track_id, rel_path, state, size, \
                 error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&job.id)
            .bind(f.position)
            .bind(&f.track_id)
            .bind(&f.rel_path)
            .bind(f.state.as_str())
            .bind(f.size)
            .bind(f.error.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn exports(&self, user: &UserId) -> StoreResult<Vec<ExportJob>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM exports WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(user.as_str())
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(job_from).collect::<Result<_, _>>()?)
    }

    async fn export(
        &self,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<(ExportJob, Vec<ExportFile>)>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM exports WHERE user_id = $1 AND id = $2"
        ))
        .bind(user.as_str())
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let files = sqlx::query(
            "SELECT position, track_id, rel_path, state, size, error FROM export_files \
             WHERE export_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        Ok(Some((
            job_from(&row)?,
            files.iter().map(file_from).collect::<Result<_, _>>()?,
        )))
    }

    async fn exported_bytes(&self, user: &UserId) -> StoreResult<i64> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(f.size) AS BIGINT) FROM export_files f \
             JOIN exports e ON e.id = f.export_id WHERE e.user_id = $1 AND f.state = 'done'",
        )
        .bind(user.as_str())
        .fetch_one(&self.read)
        .await?;
        Ok(n.unwrap_or(0))
    }

    async fn running_exports(&self) -> StoreResult<Vec<ExportJob>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM exports WHERE state = 'running' ORDER BY created_at, id"
        ))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(job_from).collect::<Result<_, _>>()?)
    }

    async fn export_state(&self, id: &str) -> StoreResult<Option<ExportState>> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM exports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        let state = state
            .map(|s| ExportState::parse(&s).ok_or_else(|| bad_state(&s)))
            .transpose()?;
        Ok(state)
    }

    async fn set_file_state(
        &self,
        export_id: &str,
        position: i64,
        outcome: FileOutcome<'_>,
    ) -> StoreResult<()> {
        let query = match outcome {
            FileOutcome::Done { size, rel_path } => sqlx::query(
                "UPDATE export_files SET state = 'done', size = $3, rel_path = $4, error = NULL \
                 WHERE export_id = $1 AND position = $2",
            )
            .bind(export_id)
            .bind(position)
            .bind(size)
            .bind(rel_path),
            FileOutcome::Failed { reason } => sqlx::query(
                "UPDATE export_files SET state = 'failed', size = NULL, error = $3 \
                 WHERE export_id = $1 AND position = $2",
            )
            .bind(export_id)
            .bind(position)
            .bind(reason),
        };
        query.execute(&self.write).await?;
        Ok(())
    }

    async fn end_export(
        &self,
        id: &str,
        state: ExportState,
        at: Timestamp,
        error: Option<&str>,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE exports SET state = $2, finished_at = $3, error = $4 \
             WHERE id = $1 AND state = 'running'",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(at.0)
        .bind(error)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    async fn delete_export(&self, user: &UserId, id: &str) -> StoreResult<bool> {
        let n = sqlx::query(
            "DELETE FROM exports WHERE user_id = $1 AND id = $2 AND state <> 'running'",
        )
        .bind(user.as_str())
        .bind(id)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
