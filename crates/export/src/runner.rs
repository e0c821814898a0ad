//! Running one export: files convert in parallel (one per core), each under a temporary name
//! renamed when complete, its state stored as it finishes, so a restart redoes only what was
//! not done; at the end an M3U8 is written beside the files.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clef_media::{Cover, MediaError, Settings, TrackTags};
use clef_store::{ExportFile, ExportJob, ExportState, FileState, TrackRecord};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::progress::Tracker;
use crate::service::{dest_of, Exports};
use crate::settings::ExportSettings;
use crate::{playlist, ExportError, ExportResult};

/// How one file's conversion ended.
enum Finished {
    /// Written, with its size.
    Written(u64),
    /// Stopped by a cancel; nothing was left behind.
    Cancelled,
    /// Could not be converted, and why (for the user).
    Failed(String),
}

impl From<Result<u64, MediaError>> for Finished {
    fn from(r: Result<u64, MediaError>) -> Self {
        match r {
            Ok(size) => Finished::Written(size),
            Err(MediaError::Cancelled) => Finished::Cancelled,
            Err(e) => Finished::Failed(e.to_string()),
        }
    }
}

/// A file's index in the job and how its conversion ended.
type Outcome = (usize, Finished);

impl Exports {
    /// Runs `job` in the background and tracks it until it ends.
    pub(crate) fn launch(&self, job: ExportJob, files: Vec<ExportFile>) {
        let tracker = Arc::new(Tracker::new(&files));
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job.id.clone(), tracker.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let ended = match this.run(&job, &files, &tracker).await {
                Ok(()) if tracker.is_cancelled() => ExportState::Cancelled,
                Ok(()) => {
                    let at = this.clock.now();
                    match this
                        .store
                        .end_export(&job.id, ExportState::Done, at, None)
                        .await
                    {
                        Ok(true) => ExportState::Done,
                        // Cancelled elsewhere in the meantime.
                        Ok(false) => ExportState::Cancelled,
                        Err(e) => {
                            tracing::error!(export = %job.id, error = %e, "could not end export");
                            ExportState::Failed
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(export = %job.id, error = %e, "export failed");
                    let msg = e.to_string();
                    let at = this.clock.now();
                    if let Err(e) = this
                        .store
                        .end_export(&job.id, ExportState::Failed, at, Some(&msg))
                        .await
                    {
                        tracing::error!(export = %job.id, error = %e, "could not end export");
                    }
                    ExportState::Failed
                }
            };
            tracing::info!(export = %job.id, state = ended.as_str(), "export ended");
            tracker.finish(ended.as_str());
            this.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&job.id);
        });
    }

    async fn run(
        &self,
        job: &ExportJob,
        files: &[ExportFile],
        tracker: &Arc<Tracker>,
    ) -> ExportResult<()> {
        let settings = ExportSettings::from_json(&job.settings)?.to_media()?;
        let out_dir = PathBuf::from(&job.out_dir);
        std::fs::create_dir_all(&out_dir)?;
        let mut queue = VecDeque::new();
        for (i, f) in files.iter().enumerate() {
            let dest = dest_of(job, f);
            let kept = f.state == FileState::Done
                && std::fs::metadata(&dest).is_ok_and(|m| Some(m.len() as i64) == f.size);
            match f.state {
                FileState::Failed => {}
                _ if kept => {}
                _ => {
                    clef_media::remove_partial_files(&dest);
                    tracker.file(i, "pending", 0.0);
                    queue.push_back(i);
                }
            }
        }
        let permits = Arc::new(Semaphore::new(self.cfg.workers.max(1)));
        let mut running: JoinSet<Outcome> = JoinSet::new();
        while let Some(i) = queue.pop_front() {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
            while let Some(done) = running.try_join_next() {
                self.record(job, files, tracker, joined(done)?).await?;
            }
            if tracker.is_cancelled() {
                break;
            }
            let file = &files[i];
            let dest = dest_of(job, file);
            let prepared = match self.prepare(&out_dir, &dest, &file.track_id).await {
                Ok(p) => p,
                Err(reason) => {
                    self.record(job, files, tracker, (i, Finished::Failed(reason)))
                        .await?;
                    continue;
                }
            };
            tracker.file(i, "converting", 0.0);
            let t = tracker.clone();
            running.spawn(async move {
                let r = tokio::task::spawn_blocking(move || convert_one(prepared, settings, &t, i))
                    .await
                    .map_or_else(
                        |e| Finished::Failed(format!("the conversion stopped unexpectedly: {e}")),
                        Finished::from,
                    );
                drop(permit);
                (i, r)
            });
        }
        while let Some(done) = running.join_next().await {
            self.record(job, files, tracker, joined(done)?).await?;
        }
        if !tracker.is_cancelled() {
            self.write_playlist(job).await?;
        }
        Ok(())
    }

    /// Everything a conversion needs, read on the async side: the source, its tags and cover.
    async fn prepare(
        &self,
        out_dir: &Path,
        dest: &Path,
        track_id: &str,
    ) -> Result<Prepared, String> {
        let catalog = self.library.catalog();
        let rec = catalog
            .track_record(track_id)
            .ok_or("the song is no longer in the library")?;
        let folder = dest.parent().unwrap_or(out_dir);
        let cannot = |e: std::io::Error| format!("cannot create {}: {e}", folder.display());
        std::fs::create_dir_all(folder).map_err(cannot)?;
        // A folder swapped for a symbolic link must not take the file out of the export folder.
        let real = folder.canonicalize().map_err(cannot)?;
        if !real.starts_with(out_dir) {
            return Err("a folder on the way leads out of the export folder".into());
        }
        let cover = self
            .library
            .track_cover(track_id, None)
            .await
            .ok()
            .map(|c| Cover {
                data: c.bytes,
                mime: c.mime,
            });
        Ok(Prepared {
            source: PathBuf::from(&rec.path),
            dest: dest.to_path_buf(),
            tags: tags_of(rec, cover),
        })
    }

    /// Stores a finished file's state and publishes it; notices a cancel made on another node.
    async fn record(
        &self,
        job: &ExportJob,
        files: &[ExportFile],
        tracker: &Tracker,
        (i, result): Outcome,
    ) -> ExportResult<()> {
        let position = files[i].position;
        match result {
            Finished::Written(size) => {
                self.store
                    .set_file_state(&job.id, position, FileState::Done, Some(size as i64), None)
                    .await?;
                tracker.file(i, "done", 1.0);
            }
            Finished::Cancelled => tracker.file(i, "pending", 0.0),
            Finished::Failed(reason) => {
                tracing::warn!(export = %job.id, position, error = %reason, "export file failed");
                self.store
                    .set_file_state(&job.id, position, FileState::Failed, None, Some(&reason))
                    .await?;
                tracker.file(i, "failed", 1.0);
            }
        }
        if !tracker.is_cancelled() {
            let state = self.store.export(&job.user_id, &job.id).await?;
            if state.is_none_or(|(j, _)| j.state != ExportState::Running) {
                tracker.cancel();
            }
        }
        Ok(())
    }

    /// Writes `<title>.m3u8` beside the files, listing the finished ones.
    async fn write_playlist(&self, job: &ExportJob) -> ExportResult<()> {
        let Some((_, stored)) = self.store.export(&job.user_id, &job.id).await? else {
            return Ok(());
        };
        let text = playlist::m3u8(&self.library.catalog(), &stored);
        let path = Path::new(&job.out_dir).join(playlist::file_name(&job.title));
        let dir = PathBuf::from(&job.out_dir);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut tmp = tempfile::Builder::new()
                .prefix(".playlist.")
                .suffix(".part")
                .tempfile_in(&dir)?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(|e| ExportError::Io(std::io::Error::other(e)))??;
        Ok(())
    }
}

struct Prepared {
    source: PathBuf,
    dest: PathBuf,
    tags: TrackTags,
}

fn convert_one(
    p: Prepared,
    settings: Settings,
    tracker: &Tracker,
    i: usize,
) -> Result<u64, MediaError> {
    let mut report = |progress: clef_media::Progress| {
        if tracker.is_cancelled() {
            return ControlFlow::Break(());
        }
        if let Some(total) = progress.total_frames.filter(|t| *t > 0) {
            tracker.file(i, "converting", progress.frames_done as f32 / total as f32);
        }
        ControlFlow::Continue(())
    };
    let dest = clef_media::convert(&p.source, &p.dest, &settings, &p.tags, &mut report)?;
    Ok(std::fs::metadata(&dest)
        .map_err(|e| io_error(&dest, e))?
        .len())
}

fn joined(r: Result<Outcome, tokio::task::JoinError>) -> ExportResult<Outcome> {
    r.map_err(|e| ExportError::Io(std::io::Error::other(e)))
}

fn io_error(path: &Path, e: std::io::Error) -> MediaError {
    MediaError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// The tags carried into an exported file.
fn tags_of(rec: &TrackRecord, cover: Option<Cover>) -> TrackTags {
    let num = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    TrackTags {
        title: text(&rec.title),
        artists: rec.artists.clone(),
        album: text(&rec.album),
        album_artist: text(&rec.album_artists.join("; ")),
        track: num(rec.track_no),
        track_total: num(rec.track_total),
        disc: num(rec.disc_no),
        disc_total: num(rec.disc_total),
        date: rec.year.map(|y| y.to_string()),
        genre: text(&rec.genres.join("; ")),
        composer: rec.composer.clone(),
        comment: rec.comment.clone(),
        isrc: rec.isrc.clone(),
        cover,
    }
}
