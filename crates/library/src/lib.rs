//! The music library: scanning music folders into the store, the in-memory catalog served to
//! clients, cover art with cached thumbnails, lyrics from the files' tags, playlists with M3U8,
//! and the sample library made on first run.

mod catalog;
mod covers;
mod error;
mod lyrics;
mod playlists;
mod sample;
mod scan;
mod selection;
mod tags;
mod user_data;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use clef_core::{Clock, Random};
use clef_store::{ScanProblem, Store};

pub use catalog::{
    AlbumSort, AlbumView, ArtistRef, ArtistView, Catalog, GenreView, SearchResults, TrackView,
};
pub use covers::{Cover, THUMBNAIL_SIZES};
pub use error::{LibraryError, LibraryResult};
pub use lyrics::{parse_lyrics, Lyrics, LyricsLine, UNKNOWN_LANGUAGE};
pub use playlists::{PlaylistEdit, PlaylistView, MAX_PLAYLIST_TRACKS};
pub use sample::write_sample_library;
pub use scan::{ScanProgress, ScanReport};
pub use selection::{Selected, Selection};
pub use tags::{read_facts, FileFacts, AUDIO_EXTENSIONS};
pub use user_data::{item_kind, Playing, UserData, MAX_QUEUE_TRACKS};

/// Where the music is and how to scan it.
#[derive(Debug, Clone)]
pub struct LibraryConfig {
    pub music_dirs: Vec<PathBuf>,
    /// Resized covers are kept here.
    pub cache_dir: PathBuf,
    /// A file whose tags take longer than this to read is reported and skipped.
    pub parse_timeout: Duration,
    /// Files parsed at once.
    pub workers: usize,
}

impl LibraryConfig {
    pub fn new(music_dirs: Vec<PathBuf>, cache_dir: PathBuf) -> Self {
        LibraryConfig {
            music_dirs,
            cache_dir,
            parse_timeout: Duration::from_secs(10),
            workers: std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4),
        }
    }
}

/// The library service.
#[derive(Clone)]
pub struct Library {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Random>,
    pub(crate) cfg: Arc<LibraryConfig>,
    catalog: Arc<RwLock<Arc<Catalog>>>,
    progress: Arc<Mutex<ScanProgress>>,
    scan_lock: Arc<tokio::sync::Mutex<()>>,
    /// A scan was asked for and has not finished: asked again, it answers "already running".
    scan_wanted: Arc<std::sync::atomic::AtomicBool>,
    /// The store's library version the catalog reflects.
    version: Arc<std::sync::atomic::AtomicI64>,
    covers: Arc<covers::CoverWork>,
}

impl Library {
    /// Loads the catalog from the store (no scan).
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        cfg: LibraryConfig,
    ) -> LibraryResult<Library> {
        // The version first: a scan landing in between only makes the next refresh reload.
        let version = store.library_version().await?;
        let catalog = Catalog::build(store.all_tracks().await?);
        Ok(Library {
            store,
            clock,
            rng,
            cfg: Arc::new(cfg),
            catalog: Arc::new(RwLock::new(catalog)),
            progress: Arc::new(Mutex::new(ScanProgress {
                phase: "idle".into(),
                ..ScanProgress::default()
            })),
            scan_lock: Arc::new(tokio::sync::Mutex::new(())),
            scan_wanted: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            version: Arc::new(std::sync::atomic::AtomicI64::new(version)),
            covers: Arc::default(),
        })
    }

    fn known_version(&self) -> i64 {
        self.version.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Reloads the catalog when another process or node changed the library (a `clef scan` from
    /// the command line, another server). Returns whether it reloaded.
    pub async fn refresh_if_changed(&self) -> LibraryResult<bool> {
        let Ok(_guard) = self.scan_lock.try_lock() else {
            // A scan is running here; it brings the catalog up to date itself.
            return Ok(false);
        };
        self.reload_if_changed().await
    }

    /// With the scan lock held: reloads the catalog if the store's version moved.
    async fn reload_if_changed(&self) -> LibraryResult<bool> {
        let version = self.store.library_version().await?;
        if version == self.known_version() {
            return Ok(false);
        }
        let catalog = Catalog::build(self.store.all_tracks().await?);
        self.set_catalog(catalog);
        self.version
            .store(version, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(version, "library changed elsewhere; catalog reloaded");
        Ok(true)
    }

    /// Checks for changes made elsewhere every `every`, until the process ends.
    pub async fn run_refresher(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.refresh_if_changed().await {
                tracing::warn!(error = %e, "library refresh failed");
            }
        }
    }

    pub fn config(&self) -> &LibraryConfig {
        &self.cfg
    }

    /// The current catalog snapshot.
    pub fn catalog(&self) -> Arc<Catalog> {
        match self.catalog.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_catalog(&self, c: Arc<Catalog>) {
        match self.catalog.write() {
            Ok(mut g) => *g = c,
            Err(poisoned) => *poisoned.into_inner() = c,
        }
    }

    pub fn progress(&self) -> ScanProgress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut ScanProgress)) {
        if let Ok(mut p) = self.progress.lock() {
            f(&mut p);
        }
    }

    pub async fn problems(&self) -> LibraryResult<Vec<ScanProblem>> {
        Ok(self.store.scan_problems().await?)
    }

    /// Starts a scan in the background unless one is already asked for or running. It waits for
    /// the lock rather than giving up: the catalog refresher, or `scan()`, may hold it a moment,
    /// and the scan asked for at start must never be dropped for that.
    pub fn start_scan(&self) -> LibraryResult<()> {
        use std::sync::atomic::Ordering;
        if self
            .scan_wanted
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(LibraryError::ScanRunning);
        }
        let lib = self.clone();
        tokio::spawn(async move {
            let guard = lib.scan_lock.clone().lock_owned().await;
            if let Err(e) = lib.scan_locked().await {
                tracing::error!(error = %e, "scan failed");
            }
            lib.scan_wanted.store(false, Ordering::Release);
            drop(guard);
        });
        Ok(())
    }

    /// Scans now and returns the report (waits for a running scan to finish first).
    pub async fn scan(&self) -> LibraryResult<ScanReport> {
        let _guard = self.scan_lock.lock().await;
        self.scan_locked().await
    }

    #[tracing::instrument(skip_all)]
    async fn scan_locked(&self) -> LibraryResult<ScanReport> {
        let started = Instant::now();
        self.update(|p| {
            p.running = true;
            p.phase = "walking".into();
            p.files_found = 0;
            p.to_read = 0;
            p.read = 0;
        });
        let result = self.scan_inner(started).await;
        self.update(|p| {
            p.running = false;
            p.phase = "idle".into();
            if let Ok(r) = &result {
                p.last = Some(r.clone());
            }
        });
        result
    }

    async fn scan_inner(&self, started: Instant) -> LibraryResult<ScanReport> {
        let roots = self.cfg.music_dirs.clone();
        let (found, mut problems, unreachable) = tokio::task::spawn_blocking(move || {
            let unreachable = scan::unreachable_roots(&roots);
            let (found, problems) = scan::walk(&roots);
            (found, problems, unreachable)
        })
        .await
        .map_err(|e| LibraryError::Io(e.to_string()))?;
        let now = self.clock.now();
        for p in &mut problems {
            p.at = now;
        }
        // Plan against what the store holds now, in case another process scanned meanwhile.
        self.reload_if_changed().await?;
        let current = self.catalog();
        let known: Vec<_> = current.records().cloned().collect();
        let rng = self.rng.clone();
        let mut plan = scan::plan(&found, &known, || rng.id(), now);
        if !unreachable.is_empty() {
            let walked: Vec<_> = self
                .cfg
                .music_dirs
                .iter()
                .filter(|r| {
                    !unreachable
                        .iter()
                        .any(|u| Path::new(&u.path) == r.as_path())
                })
                .cloned()
                .collect();
            scan::keep_unreachable(&mut plan, &known, &walked);
            for mut u in unreachable {
                tracing::warn!(folder = %u.path, "{}", u.reason);
                u.at = now;
                problems.push(u);
            }
        }
        self.update(|p| {
            p.phase = "reading".into();
            p.files_found = found.len();
            p.to_read = plan.to_read.len();
        });
        let progress = self.progress.clone();
        let on_done: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            if let Ok(mut p) = progress.lock() {
                p.read += 1;
            }
        });
        let (records, read_problems) = scan::read_all(
            plan.to_read.clone(),
            self.cfg.workers,
            self.cfg.parse_timeout,
            now,
            on_done,
        )
        .await;
        problems.extend(read_problems);
        let unchanged_run = plan.to_read.is_empty()
            && plan.moves.is_empty()
            && plan.deletes.is_empty()
            && plan.cover_updates.is_empty();
        let walked = started.elapsed();
        let (changes, report) = scan::changes(plan, records, problems, found.len(), started);
        if unchanged_run && self.same_problems(&changes.problems).await? {
            // Nothing to write: a no-change rescan costs a walk and a comparison.
            return Ok(report);
        }
        self.update(|p| p.phase = "saving".into());
        let saving = Instant::now();
        let version = self.store.apply_scan(&changes).await?;
        let saved = saving.elapsed();
        // The new catalog is the old one with the changes applied, unless another process changed
        // the library since this one last looked: then it is read back whole.
        let catalog = if version == self.known_version() + 1 {
            Catalog::build(scan::apply_to(known, &changes))
        } else {
            Catalog::build(self.store.all_tracks().await?)
        };
        self.set_catalog(catalog);
        self.version
            .store(version, std::sync::atomic::Ordering::SeqCst);
        tracing::debug!(?walked, ?saved, built = ?saving.elapsed() - saved, "scan phases");
        let report = ScanReport {
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ..report
        };
        tracing::info!(
            files = report.files,
            added = report.added,
            changed = report.changed,
            moved = report.moved,
            deleted = report.deleted,
            unreadable = report.unreadable,
            ms = report.duration_ms,
            "scan finished"
        );
        Ok(report)
    }

    /// Whether the stored list of unreadable files already says what this scan found.
    async fn same_problems(&self, found: &[ScanProblem]) -> LibraryResult<bool> {
        let stored = self.store.scan_problems().await?;
        Ok(stored.len() == found.len()
            && stored
                .iter()
                .zip(found)
                .all(|(a, b)| a.path == b.path && a.reason == b.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan asked for at start is never dropped because something else holds the lock a
    /// moment (the catalog refresher did, once in 20 restarts); asked twice, it runs once.
    #[tokio::test]
    async fn a_scan_asked_for_while_the_lock_is_held_waits_and_runs() {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("music");
        std::fs::create_dir(&music).unwrap();
        let store = clef_store::SqlStore::open_sqlite_file(&dir.path().join("t.db"))
            .await
            .unwrap();
        let lib = Library::open(
            Arc::new(store),
            Arc::new(clef_core::SystemClock),
            Arc::new(clef_core::OsRandom),
            LibraryConfig::new(vec![music], dir.path().join("cache")),
        )
        .await
        .unwrap();
        let held = lib.scan_lock.clone().lock_owned().await;
        lib.start_scan().expect("queued, not refused");
        assert!(matches!(lib.start_scan(), Err(LibraryError::ScanRunning)));
        assert!(
            lib.progress().last.is_none(),
            "nothing ran while the lock was held"
        );
        drop(held);
        let deadline = Instant::now() + Duration::from_secs(10);
        while lib.progress().last.is_none() {
            assert!(Instant::now() < deadline, "the queued scan ran");
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Once done, a new scan may be asked for.
        while lib.scan_wanted.load(std::sync::atomic::Ordering::Acquire) {
            assert!(Instant::now() < deadline, "the scan finished");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(lib.start_scan().is_ok());
    }
}
