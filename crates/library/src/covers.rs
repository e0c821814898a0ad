//! Cover art: the embedded front cover or the picture beside the file, original or resized to one
//! of a few sizes and cached on disk under the track id, its modification time and the size.
//!
//! Making a thumbnail is bounded: each (cover, size) is decoded once while other requests for it
//! wait for the result (then read from the cache), at most `DECODES_AT_ONCE` pictures are
//! decoded at a time server-wide, and a picture over `MAX_PIXELS` is refused from its header,
//! before any decoding.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use image::ImageReader;
use tokio::sync::Semaphore;

use crate::error::{LibraryError, LibraryResult};
use crate::tags::{embedded_cover, sniff_image};
use crate::Library;

/// The sizes thumbnails are made in; a requested size is rounded up to one of these.
pub const THUMBNAIL_SIZES: &[u32] = &[64, 128, 256, 512, 1024];

/// Largest picture we decode for resizing, in pixels (24 megapixels: 4,900 on a side, beyond
/// any store's cover), read from the header before decoding; decoded, it takes about 72 MB.
const MAX_PIXELS: u64 = 24_000_000;
/// Largest side, against pictures a few pixels high and a million wide.
const MAX_SOURCE_SIDE: u32 = 16_384;
/// Pictures decoded at once, server-wide.
const DECODES_AT_ONCE: usize = 2;

/// A picture ready to send.
#[derive(Debug, Clone)]
pub struct Cover {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// Thumbnails being made, and the bound on decoding.
pub(crate) struct CoverWork {
    decodes: Semaphore,
    in_flight: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    decoded: AtomicU64,
}

impl Default for CoverWork {
    fn default() -> Self {
        CoverWork {
            decodes: Semaphore::new(DECODES_AT_ONCE),
            in_flight: Mutex::default(),
            decoded: AtomicU64::new(0),
        }
    }
}

impl CoverWork {
    /// The lock of one thumbnail's making (shared by every request for it).
    fn key(&self, path: &Path) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(path.to_path_buf()).or_default().clone()
    }

    /// Forgets the lock once nobody else holds it.
    fn release(&self, path: &Path, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut m = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and ours: nobody else waits.
        if Arc::strong_count(&lock) == 2 {
            m.remove(path);
        }
    }
}

impl Library {
    /// A track's cover, at `size` (rounded up to a thumbnail size) or the original.
    pub async fn track_cover(&self, track_id: &str, size: Option<u32>) -> LibraryResult<Cover> {
        let rec = self
            .catalog()
            .track_record(track_id)
            .cloned()
            .ok_or(LibraryError::NotFound("track"))?;
        self.cover_of(rec, size).await
    }

    pub async fn album_cover(&self, album_id: &str, size: Option<u32>) -> LibraryResult<Cover> {
        let catalog = self.catalog();
        if catalog.album(album_id).is_none() {
            return Err(LibraryError::NotFound("album"));
        }
        let rec = catalog
            .album_cover_track(album_id)
            .cloned()
            .ok_or(LibraryError::NotFound("cover"))?;
        self.cover_of(rec, size).await
    }

    async fn cover_of(
        &self,
        rec: clef_store::TrackRecord,
        size: Option<u32>,
    ) -> LibraryResult<Cover> {
        let size = size.map(|s| {
            THUMBNAIL_SIZES
                .iter()
                .copied()
                .find(|t| *t >= s)
                .unwrap_or(1024)
        });
        let Some(size) = size else {
            return blocking(move || original(&rec)).await;
        };
        // Ids are hex, so the cache path is built from safe parts only.
        let cache_dir = self.cfg.cache_dir.join("covers");
        let cached = cache_dir.join(format!("{}-{}-{size}.jpg", rec.id, rec.mtime));
        if let Some(c) = read_cached(&cached).await {
            return Ok(c);
        }
        let work = self.covers.clone();
        let lock = work.key(&cached);
        let made = async {
            let _making = lock.lock().await;
            // Made while we waited?
            if let Some(c) = read_cached(&cached).await {
                return Ok(c);
            }
            let _permit = work
                .decodes
                .acquire()
                .await
                .map_err(|e| LibraryError::Io(e.to_string()))?;
            let counter = work.clone();
            let target = cached.clone();
            blocking(move || thumbnail(&rec, size, &cache_dir, &target, &counter.decoded)).await
        }
        .await;
        work.release(&cached, lock);
        made
    }

    /// Pictures decoded for thumbnails since start (a figure for tests and operators).
    pub fn cover_decodes(&self) -> u64 {
        self.covers.decoded.load(Ordering::Relaxed)
    }
}

async fn read_cached(path: &Path) -> Option<Cover> {
    tokio::fs::read(path).await.ok().map(|bytes| Cover {
        bytes,
        mime: "image/jpeg".into(),
    })
}

/// Runs picture work on the blocking pool; a panic in a decoder is no cover, not a crash.
async fn blocking(
    f: impl FnOnce() -> LibraryResult<Cover> + Send + 'static,
) -> LibraryResult<Cover> {
    tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err(LibraryError::NotFound("cover")))
    })
    .await
    .map_err(|e| LibraryError::Io(e.to_string()))?
}

/// The picture as stored, when its bytes are a JPEG, PNG, GIF or WebP: the embedded one first,
/// then the folder's. Anything else is no cover at all.
fn original(rec: &clef_store::TrackRecord) -> LibraryResult<Cover> {
    let as_cover = |bytes: Vec<u8>| {
        sniff_image(&bytes).map(|mime| Cover {
            mime: mime.to_owned(),
            bytes,
        })
    };
    if rec.embedded_cover {
        if let Some(c) = embedded_cover(Path::new(&rec.path))
            .ok()
            .flatten()
            .and_then(as_cover)
        {
            return Ok(c);
        }
    }
    if let Some(p) = &rec.cover_path {
        if let Some(c) = std::fs::read(p).ok().and_then(as_cover) {
            return Ok(c);
        }
    }
    Err(LibraryError::NotFound("cover"))
}

/// Decodes the cover, resizes it to `size` and writes it to the cache at `cached`.
fn thumbnail(
    rec: &clef_store::TrackRecord,
    size: u32,
    cache_dir: &Path,
    cached: &Path,
    decoded: &AtomicU64,
) -> LibraryResult<Cover> {
    let source = original(rec)?;
    let no_cover = |_| LibraryError::NotFound("cover");
    let (w, h) = ImageReader::new(Cursor::new(&source.bytes))
        .with_guessed_format()
        .map_err(no_cover)?
        .into_dimensions()
        .map_err(|_| LibraryError::NotFound("cover"))?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        tracing::warn!(track = %rec.id, width = w, height = h, "cover too large to make a thumbnail of");
        return Err(LibraryError::NotFound("cover"));
    }
    let mut reader = ImageReader::new(Cursor::new(&source.bytes))
        .with_guessed_format()
        .map_err(no_cover)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    limits.max_alloc = Some(4 * MAX_PIXELS * 2);
    reader.limits(limits);
    decoded.fetch_add(1, Ordering::Relaxed);
    let img = reader
        .decode()
        .map_err(|_| LibraryError::NotFound("cover"))?;
    let thumb = img.thumbnail(size, size).to_rgb8();
    drop(img);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&thumb)
        .map_err(|e| LibraryError::Io(e.to_string()))?;
    // Write beside, then rename: a reader never sees half a thumbnail.
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let tmp = cached.with_extension("tmp");
        if std::fs::write(&tmp, &out).is_ok() {
            let _ = std::fs::rename(&tmp, cached);
        }
    }
    Ok(Cover {
        bytes: out,
        mime: "image/jpeg".into(),
    })
}
