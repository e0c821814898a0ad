//! The export service: starts jobs from a listener's selection, lists the Converted history,
//! cancels, removes history entries and resumes unfinished jobs after a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clef_core::{Clock, Random, UserId};
use clef_library::Library;
use clef_store::{ExportFile, ExportJob, ExportState, FileState, Store, User};
use tokio::sync::{Notify, Semaphore};

use crate::estimate;
use crate::folders::{check_root, user_folder_name, PathView};

use crate::naming::{confine, NameFields, Pattern, UniqueNames, DEFAULT_PATTERN};
use crate::progress::{JobProgress, Tracker};
use crate::settings::ExportSettings;
use crate::{ExportError, ExportResult};

/// At most this many songs in one export.
pub const MAX_EXPORT_TRACKS: usize = 5_000;

/// Where exports may go and how many files convert at once.
#[derive(Clone)]
pub struct ExportsConfig {
    /// Folders the owner allows exports into (`export_roots`); none switches exports off.
    pub roots: Vec<PathBuf>,
    /// Files converted at once (the cores, by default).
    pub workers: usize,
    /// How often a running job checks the store for a cancel made on another node (1 s).
    pub check_every: Duration,
    /// Each user writes into a folder of their own in every root (`<root>/<username>`); off only
    /// for the console's `clef export --out`, whose folder is its own root.
    pub user_folders: bool,
    /// Exports one user may have running at once (2).
    pub max_running_per_user: usize,
    /// Bytes of finished exports a user may keep (their history's files); `None`: no quota.
    pub quota_bytes: Option<u64>,
    /// Reads the free space of the file system holding a folder (`statvfs`).
    pub free_space: fn(&Path) -> std::io::Result<u64>,
}

impl ExportsConfig {
    /// The server's exports: each user in their own folder of every root.
    pub fn new(roots: Vec<PathBuf>) -> Self {
        ExportsConfig {
            roots,
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            check_every: Duration::from_secs(1),
            user_folders: true,
            max_running_per_user: 2,
            quota_bytes: None,
            free_space: estimate::free_bytes,
        }
    }

    /// The console's export into `out`, which is the whole root (the owner at the console may
    /// write anywhere).
    pub fn console(out: PathBuf) -> Self {
        ExportsConfig {
            user_folders: false,
            ..ExportsConfig::new(vec![out])
        }
    }
}

/// What a listener asks for.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// For people: the playlist's or album's name.
    pub title: String,
    /// The ticked songs, in order.
    pub track_ids: Vec<String>,
    pub settings: ExportSettings,
    /// The output folder: relative to the user's folder in the first export root, or (for an
    /// administrator) absolute inside the user's folder of one.
    pub folder: String,
    /// File-name pattern; [`DEFAULT_PATTERN`] when `None`.
    pub pattern: Option<String>,
}

/// The export service.
#[derive(Clone)]
pub struct Exports {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) library: Library,
    pub(crate) clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
    pub(crate) cfg: Arc<ExportsConfig>,
    /// Jobs running in this process, by id.
    pub(crate) running: Arc<Mutex<HashMap<String, Arc<Tracker>>>>,
    /// Set when the server stops: jobs take no new file.
    stopping: Arc<AtomicBool>,
    /// Conversions under way server-wide, whatever the job: `workers` at once.
    pub(crate) conversions: Arc<Semaphore>,
    /// Serialises the checks of a start (running jobs, room) with its record, on this node.
    starting: Arc<tokio::sync::Mutex<()>>,
    /// Woken when the last running job ends.
    pub(crate) idle: Arc<Notify>,
}

impl Exports {
    pub fn new(
        store: Arc<dyn Store>,
        library: Library,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        cfg: ExportsConfig,
    ) -> Exports {
        let workers = cfg.workers.max(1);
        Exports {
            store,
            library,
            clock,
            rng,
            cfg: Arc::new(cfg),
            running: Arc::new(Mutex::new(HashMap::new())),
            stopping: Arc::default(),
            idle: Arc::default(),
            conversions: Arc::new(Semaphore::new(workers)),
            starting: Arc::default(),
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// For a server stop: running jobs take no new file and finish the ones under way, for up
    /// to `grace`; files still converting then are abandoned (their temporary files removed).
    /// Every file on disk under its final name is recorded before this returns, and the jobs
    /// stay running in the store, so the next start resumes them. Returns how many files were
    /// abandoned.
    pub async fn stop(&self, grace: Duration) -> usize {
        self.stopping.store(true, Ordering::SeqCst);
        if self.wait_idle(grace).await {
            return 0;
        }
        let trackers: Vec<Arc<Tracker>> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let abandoned = trackers.iter().map(|t| t.halt_converting()).sum();
        tracing::warn!(
            files = abandoned,
            "exports stopped mid-file; those files resume at the next start"
        );
        // A halted conversion stops at its next packet and removes its temporary file.
        if !self.wait_idle(Duration::from_secs(3)).await {
            tracing::error!("an export did not stop in time");
        }
        abandoned
    }

    /// Waits until no job runs here, for up to `limit`; true if none does.
    async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let woken = self.idle.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
            {
                return true;
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return false;
            }
        }
    }

    /// Whether the owner allows exports at all.
    pub fn enabled(&self) -> bool {
        !self.cfg.roots.is_empty()
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.cfg.roots
    }

    /// Whether `user` is an administrator, and their folder's name inside each root (none for
    /// the console's export).
    async fn owner(&self, user: &UserId) -> ExportResult<(bool, Option<String>)> {
        let u = self
            .store
            .user_by_id(user)
            .await?
            .ok_or(ExportError::NotFound)?;
        let own = self.cfg.user_folders.then(|| user_folder_name(&u.username));
        Ok((u.is_admin, own))
    }

    /// How paths are shown to `user`.
    pub fn view(&self, user: &User) -> PathView {
        let own = self
            .cfg
            .user_folders
            .then(|| user_folder_name(&user.username));
        let music = &self.library.config().music_dirs;
        PathView::new(user.is_admin, &self.cfg.roots, own.as_deref(), music)
    }

    /// Whether exports can be saved now, for the Export page: the first root (where folders go)
    /// exists, is writable and has room. The error says why not, to `user` in their terms.
    pub fn check(&self, user: &User) -> ExportResult<()> {
        if self.cfg.roots.is_empty() {
            return Err(ExportError::NoExportRoot);
        }
        self.check_root(0, user.is_admin)
    }

    fn check_root(&self, i: usize, admin: bool) -> ExportResult<()> {
        let Some(root) = self.cfg.roots.get(i) else {
            return Err(ExportError::NoExportRoot);
        };
        check_root(root).map_err(|problem| {
            tracing::warn!(root = %root.display(), problem = %problem.says(), "export folder unusable");
            ExportError::RootUnusable {
                folder: admin.then(|| root.display().to_string()),
                problem,
            }
        })
    }

    /// Checks the request, decides every file's name and starts converting in the background.
    #[tracing::instrument(skip_all, fields(user = %user.as_str(), tracks = req.track_ids.len()))]
    pub async fn start(&self, user: &UserId, req: ExportRequest) -> ExportResult<ExportJob> {
        let settings = req.settings.to_media()?;
        let pattern_text = req
            .pattern
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or(DEFAULT_PATTERN);
        let pattern = Pattern::parse(pattern_text)?;
        if req.track_ids.is_empty() {
            return Err(ExportError::EmptySelection);
        }
        if req.track_ids.len() > MAX_EXPORT_TRACKS {
            return Err(ExportError::TooMany(MAX_EXPORT_TRACKS));
        }
        let (admin, own) = self.owner(user).await?;
        if Path::new(&req.folder).is_absolute() {
            // Only administrators know the server's paths; anyone else names a folder under
            // their own, and a guessed path gets the same answer whether it exists or not.
            if !admin {
                return Err(ExportError::OutsideRoots(req.folder.clone()));
            }
        } else {
            self.check_root(0, admin)?;
        }
        let (root, out_dir) = confine(&self.cfg.roots, own.as_deref(), &req.folder)?;
        self.check_root(root, admin)?;
        let _starting = self.starting.lock().await;
        let running = self.store.running_exports().await?;
        if running.iter().filter(|j| &j.user_id == user).count() >= self.cfg.max_running_per_user {
            return Err(ExportError::TooManyRunning(self.cfg.max_running_per_user));
        }
        let catalog = self.library.catalog();
        let mut names = UniqueNames::default();
        let mut files = Vec::with_capacity(req.track_ids.len());
        let ext = settings.format.format().extension();
        for (i, id) in req.track_ids.iter().enumerate() {
            // Only the library's own files: an id the catalog does not know is refused.
            let rec = catalog
                .track_record(id)
                .ok_or_else(|| ExportError::UnknownTrack(id.clone()))?;
            let rel = pattern.render(&name_fields(rec), ext);
            let mut rel = names.claim(&rel);
            // A file already there (from another export) is not overwritten.
            while out_dir.join(&rel).symlink_metadata().is_ok() {
                names.reserve(&rel);
                rel = names.claim(&rel);
            }
            files.push(ExportFile {
                position: i64::try_from(i).unwrap_or(i64::MAX),
                track_id: id.clone(),
                rel_path: rel.to_string_lossy().into_owned(),
                state: FileState::Pending,
                size: None,
                error: None,
            });
        }
        let need = req
            .track_ids
            .iter()
            .filter_map(|id| catalog.track_record(id))
            .map(|rec| estimate::file_bytes(rec, &req.settings))
            .sum();
        self.check_room(user, &self.cfg.roots[root], need).await?;
        let title = req.title.trim();
        let job = ExportJob {
            id: self.rng.id(),
            user_id: user.clone(),
            title: if title.is_empty() {
                "Export".to_owned()
            } else {
                title.chars().take(200).collect()
            },
            settings: req.settings.to_json(),
            out_dir: out_dir.to_string_lossy().into_owned(),
            pattern: pattern_text.to_owned(),
            state: ExportState::Running,
            created_at: self.clock.now(),
            finished_at: None,
            error: None,
        };
        self.store.create_export(&job, &files).await?;
        tracing::info!(export = %job.id, folder = %job.out_dir, "export started");
        self.launch(job.clone(), files);
        Ok(job)
    }

    /// Refuses an export of about `need` bytes that the root's free space or the user's quota
    /// cannot take.
    async fn check_room(&self, user: &UserId, root: &Path, need: u64) -> ExportResult<()> {
        match (self.cfg.free_space)(root) {
            Ok(free) if need > free => return Err(ExportError::NoRoom { need, free }),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(root = %root.display(), error = %e, "could not read the free space")
            }
        }
        if let Some(quota) = self.cfg.quota_bytes {
            let used = u64::try_from(self.store.exported_bytes(user).await?).unwrap_or(0);
            if used.saturating_add(need) > quota {
                return Err(ExportError::OverQuota { need, used, quota });
            }
        }
        Ok(())
    }

    /// The user's exports, newest first.
    pub async fn list(&self, user: &UserId) -> ExportResult<Vec<ExportJob>> {
        Ok(self.store.exports(user).await?)
    }

    /// One export with its files.
    pub async fn get(&self, user: &UserId, id: &str) -> ExportResult<(ExportJob, Vec<ExportFile>)> {
        self.store
            .export(user, id)
            .await?
            .ok_or(ExportError::NotFound)
    }

    /// Live progress of a job running here, or `None` when it has ended (or runs elsewhere).
    pub fn progress(&self, id: &str) -> Option<tokio::sync::watch::Receiver<JobProgress>> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.get(id).map(|t| t.subscribe())
    }

    /// Cancels a running export: files in progress are abandoned (their temporary files
    /// removed), finished ones stay. Cancelling an ended export changes nothing.
    pub async fn cancel(&self, user: &UserId, id: &str) -> ExportResult<ExportJob> {
        let (job, _) = self.get(user, id).await?;
        if job.state == ExportState::Running {
            self.store
                .end_export(id, ExportState::Cancelled, self.clock.now(), None)
                .await?;
            if let Some(t) = self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
            {
                t.cancel();
            }
            tracing::info!(export = %id, "export cancelled");
        }
        Ok(self.get(user, id).await?.0)
    }

    /// Removes an ended export from the history; its files stay where they were saved.
    pub async fn delete(&self, user: &UserId, id: &str) -> ExportResult<()> {
        let (job, _) = self.get(user, id).await?;
        if job.state == ExportState::Running {
            return Err(ExportError::StillRunning);
        }
        self.store.delete_export(user, id).await?;
        Ok(())
    }

    /// Resumes every export that was running when the server stopped: finished files are kept
    /// (when still there with their size), the rest are converted again.
    pub async fn resume_unfinished(&self) -> ExportResult<usize> {
        let jobs = self.store.running_exports().await?;
        let mut resumed = 0;
        for job in jobs {
            if self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&job.id)
            {
                continue;
            }
            let Some((job, files)) = self.store.export(&job.user_id, &job.id).await? else {
                continue;
            };
            tracing::info!(export = %job.id, "resuming an export");
            self.launch(job, files);
            resumed += 1;
        }
        Ok(resumed)
    }
}

/// The values a file-name pattern can use, from a track's tags.
fn name_fields(rec: &clef_store::TrackRecord) -> NameFields {
    let num = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
    NameFields {
        title: rec.title.clone(),
        artist: rec.artists.join(", "),
        album: rec.album.clone(),
        album_artist: rec.album_artists.join(", "),
        track: num(rec.track_no),
        disc: num(rec.disc_no),
        year: rec.year.and_then(|y| i32::try_from(y).ok()),
        genre: rec.genres.first().cloned().unwrap_or_default(),
    }
}

/// The absolute path of a file of a job.
pub(crate) fn dest_of(job: &ExportJob, file: &ExportFile) -> PathBuf {
    Path::new(&job.out_dir).join(&file.rel_path)
}
