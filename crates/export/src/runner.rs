//! Running one export: files convert in parallel (one per core), each under a temporary name
//! renamed when complete, its state stored as it finishes, so a restart redoes only what was
//! not done; at the end an M3U8 is written beside the files.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clef_media::{Cover, MediaError, Settings, TrackTags};
use clef_store::{ExportFile, ExportJob, ExportState, FileOutcome, FileState, TrackRecord};
use tokio::task::JoinSet;

use crate::progress::Tracker;
use crate::service::{dest_of, Exports};
use crate::settings::ExportSettings;
use crate::{naming, playlist, ExportError, ExportResult};

/// How one file's conversion ended.
enum Finished {
    /// Written, with its size and where (under the output folder).
    Written(u64, String),
    /// Stopped by a cancel; nothing was left behind.
    Cancelled,
    /// Could not be converted, and why (for the user).
    Failed(String),
}

impl From<Result<(u64, String), MediaError>> for Finished {
    fn from(r: Result<(u64, String), MediaError>) -> Self {
        match r {
            Ok((size, rel_path)) => Finished::Written(size, rel_path),
            Err(MediaError::Cancelled) => Finished::Cancelled,
            Err(e) => Finished::Failed(e.to_string()),
        }
    }
}

impl Finished {
    /// The file's state and fraction as shown while it is recorded.
    fn shown(&self) -> (&'static str, f32) {
        match self {
            Finished::Written(..) => ("done", 1.0),
            Finished::Cancelled => ("pending", 0.0),
            Finished::Failed(_) => ("failed", 1.0),
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
            let outcome = tokio::select! {
                r = this.run(&job, &files, &tracker) => r,
                never = this.watch_for_cancel(&job.id, &tracker) => match never {},
            };
            let ended = match outcome {
                Ok(()) if tracker.is_cancelled() => ExportState::Cancelled,
                // Stopped with the server: every finished file is recorded, and the job stays
                // running in the store, to resume at the next start.
                Ok(()) if this.is_stopping() => ExportState::Running,
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
            if ended == ExportState::Running {
                tracing::info!(export = %job.id, "export paused for the stop; it resumes at the next start");
            } else {
                tracing::info!(export = %job.id, state = ended.as_str(), "export ended");
            }
            tracker.finish(ended.as_str());
            let mut running = this.running.lock().unwrap_or_else(|p| p.into_inner());
            running.remove(&job.id);
            if running.is_empty() {
                this.idle.notify_waiters();
            }
        });
    }

    /// Checks the store every [`ExportsConfig::check_every`] and stops the job when it is no
    /// longer running there: cancelled on another node (a cancel on this one is seen at once).
    ///
    /// [`ExportsConfig::check_every`]: crate::ExportsConfig::check_every
    async fn watch_for_cancel(&self, id: &str, tracker: &Tracker) -> Infallible {
        let mut tick = tokio::time::interval(self.cfg.check_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if tracker.is_cancelled() {
                return std::future::pending().await;
            }
            match self.store.export_state(id).await {
                Ok(Some(ExportState::Running)) => {}
                Ok(_) => {
                    tracing::info!(export = %id, "export ended elsewhere: stopping here");
                    tracker.cancel();
                }
                Err(e) => tracing::warn!(export = %id, error = %e, "could not check export"),
            }
        }
    }

    async fn run(
        &self,
        job: &ExportJob,
        files: &[ExportFile],
        tracker: &Arc<Tracker>,
    ) -> ExportResult<()> {
        let settings = ExportSettings::from_json(&job.settings)?.to_media()?;
        let out_dir = PathBuf::from(&job.out_dir);
        crate::mkdirs::create_within(&self.cfg.roots, &out_dir)?;
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
        let mut running: JoinSet<Outcome> = JoinSet::new();
        while let Some(i) = queue.pop_front() {
            let permit = self
                .conversions
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
            while let Some(done) = running.try_join_next() {
                self.record(job, files, tracker, joined(done)?).await?;
            }
            if tracker.is_cancelled() || self.is_stopping() {
                break;
            }
            let file = &files[i];
            let prepared = match self.prepare(&out_dir, &file.rel_path, &file.track_id).await {
                Ok(p) => p,
                Err(reason) => {
                    self.record(job, files, tracker, (i, Finished::Failed(reason)))
                        .await?;
                    continue;
                }
            };
            tracker.file(i, "converting", 0.0);
            let claim = self.claim(&job.id, file.position, &out_dir);
            let t = tracker.clone();
            running.spawn(async move {
                let t2 = t.clone();
                let r = tokio::task::spawn_blocking(move || {
                    convert_one(prepared, settings, &t, i, claim)
                })
                .await
                .map_or_else(
                    |e| Finished::Failed(format!("the conversion stopped unexpectedly: {e}")),
                    Finished::from,
                );
                // The file is no longer converting once its place is given up (its state is
                // stored when the job records it).
                let (state, fraction) = r.shown();
                t2.file(i, state, fraction);
                drop(permit);
                (i, r)
            });
        }
        while let Some(done) = running.join_next().await {
            self.record(job, files, tracker, joined(done)?).await?;
        }
        if !tracker.is_cancelled() && !self.is_stopping() {
            self.write_playlist(job).await?;
        }
        Ok(())
    }

    /// What a conversion runs just before its finished file takes its name: the file is
    /// recorded done there first (from the blocking thread), so a process killed right after
    /// the rename never leaves a finished file the job does not know of.
    fn claim(&self, export_id: &str, position: i64, out_dir: &Path) -> Claim {
        let (store, export_id, root) = (
            self.store.clone(),
            export_id.to_owned(),
            out_dir.to_path_buf(),
        );
        let rt = tokio::runtime::Handle::current();
        Box::new(move |path: &Path, size: u64| {
            let rel = path.strip_prefix(&root).unwrap_or(path);
            let rel_path = &rel.to_string_lossy();
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            let done = FileOutcome::Done { size, rel_path };
            rt.block_on(store.set_file_state(&export_id, position, done))
                .map_err(|e| io_error(path, std::io::Error::other(e.to_string())))
        })
    }

    /// Everything a conversion needs, read on the async side: the source, its tags and cover.
    async fn prepare(&self, out_dir: &Path, rel: &str, track_id: &str) -> Result<Prepared, String> {
        let dest = out_dir.join(rel);
        let catalog = self.library.catalog();
        let rec = catalog
            .track_record(track_id)
            .ok_or("the song is no longer in the library")?;
        let folder = dest.parent().unwrap_or(out_dir);
        let cannot = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::PermissionDenied if e.to_string() == crate::mkdirs::LEADS_OUT => {
                crate::mkdirs::LEADS_OUT.to_owned()
            }
            _ => format!("cannot create {}: {e}", folder.display()),
        };
        crate::mkdirs::create_within(&self.cfg.roots, folder).map_err(cannot)?;
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
            root: out_dir.to_path_buf(),
            rel: PathBuf::from(rel),
            tags: tags_of(rec, cover),
        })
    }

    /// Stores a finished file's state and publishes it.
    async fn record(
        &self,
        job: &ExportJob,
        files: &[ExportFile],
        tracker: &Tracker,
        (i, result): Outcome,
    ) -> ExportResult<()> {
        let position = files[i].position;
        match result {
            Finished::Written(size, rel_path) => {
                let size = i64::try_from(size).unwrap_or(i64::MAX);
                let rel_path = &rel_path;
                let done = FileOutcome::Done { size, rel_path };
                self.store.set_file_state(&job.id, position, done).await?;
                tracker.file(i, "done", 1.0);
            }
            Finished::Cancelled => tracker.file(i, "pending", 0.0),
            Finished::Failed(reason) => {
                tracing::warn!(export = %job.id, position, error = %reason, "export file failed");
                let failed = FileOutcome::Failed { reason: &reason };
                self.store.set_file_state(&job.id, position, failed).await?;
                tracker.file(i, "failed", 1.0);
            }
        }
        Ok(())
    }

    /// Writes `<title>.m3u8` beside the files, listing the finished ones; a playlist of that
    /// name already there (another export's) is kept, and this one is numbered.
    async fn write_playlist(&self, job: &ExportJob) -> ExportResult<()> {
        let Some((_, stored)) = self.store.export(&job.user_id, &job.id).await? else {
            return Ok(());
        };
        let text = playlist::m3u8(&self.library.catalog(), &stored);
        let name = PathBuf::from(playlist::file_name(&job.title));
        let dir = PathBuf::from(&job.out_dir);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut tmp = tempfile::Builder::new()
                .prefix(".playlist.")
                .suffix(".part")
                .tempfile_in(&dir)?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())?;
            let mut path = dir.join(&name);
            for n in 2.. {
                match tmp.persist_noclobber(&path) {
                    Ok(_) => break,
                    Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && n < 1_000 => {
                        tmp = e.file;
                        path = dir.join(naming::numbered(&name, n));
                    }
                    Err(e) => return Err(e.error),
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| ExportError::Io(std::io::Error::other(e)))??;
        Ok(())
    }
}

struct Prepared {
    source: PathBuf,
    /// The output folder and the file's path under it.
    root: PathBuf,
    rel: PathBuf,
    tags: TrackTags,
}

/// Converts one file; a file that appeared under its name since the job started (another
/// export into the same folder, say) is kept, and this one takes the next numbered name.
/// Returns the size and the path under the output folder.
/// Records a finished file under the path it is about to take, with its size.
type Claim = Box<dyn FnMut(&Path, u64) -> Result<(), MediaError> + Send>;

fn convert_one(
    p: Prepared,
    settings: Settings,
    tracker: &Tracker,
    i: usize,
    mut claim: Claim,
) -> Result<(u64, String), MediaError> {
    let mut report = |progress: clef_media::Progress| {
        if tracker.should_stop() {
            return ControlFlow::Break(());
        }
        if let Some(total) = progress.total_frames.filter(|t| *t > 0) {
            tracker.file(i, "converting", progress.frames_done as f32 / total as f32);
        }
        ControlFlow::Continue(())
    };
    let dest = p.root.join(&p.rel);
    let renamed = |n| p.root.join(naming::numbered(&p.rel, n));
    let written = clef_media::convert_keeping_existing(
        &p.source,
        &dest,
        &renamed,
        &settings,
        &p.tags,
        &mut report,
        &mut *claim,
    )?;
    let size = std::fs::metadata(&written)
        .map_err(|e| io_error(&written, e))?
        .len();
    let rel = written.strip_prefix(&p.root).unwrap_or(&p.rel);
    Ok((size, rel.to_string_lossy().into_owned()))
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
