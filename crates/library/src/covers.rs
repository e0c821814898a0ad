//! Cover art: the embedded front cover or the picture beside the file, original or resized to one
//! of a few sizes and cached on disk under the track id, its modification time and the size.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::ImageReader;

use crate::error::{LibraryError, LibraryResult};
use crate::tags::{embedded_cover, sniff_image};
use crate::Library;

/// The sizes thumbnails are made in; a requested size is rounded up to one of these.
pub const THUMBNAIL_SIZES: &[u32] = &[64, 128, 256, 512, 1024];

/// Largest picture we decode for resizing (pixels on a side), against decompression bombs.
const MAX_SOURCE_SIDE: u32 = 8192;

/// A picture ready to send.
#[derive(Debug, Clone)]
pub struct Cover {
    pub bytes: Vec<u8>,
    pub mime: String,
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
        let cache_dir = self.cfg.cache_dir.join("covers");
        tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(|| load(&rec, size, &cache_dir))
                .unwrap_or_else(|_| Err(LibraryError::NotFound("cover")))
        })
        .await
        .map_err(|e| LibraryError::Io(e.to_string()))?
    }
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

fn load(
    rec: &clef_store::TrackRecord,
    size: Option<u32>,
    cache_dir: &Path,
) -> LibraryResult<Cover> {
    let Some(size) = size else {
        return original(rec);
    };
    // Ids are hex, so the cache path is built from safe parts only.
    let cached: PathBuf = cache_dir.join(format!("{}-{}-{size}.jpg", rec.id, rec.mtime));
    if let Ok(bytes) = std::fs::read(&cached) {
        return Ok(Cover {
            bytes,
            mime: "image/jpeg".into(),
        });
    }
    let source = original(rec)?;
    let mut reader = ImageReader::new(Cursor::new(&source.bytes))
        .with_guessed_format()
        .map_err(|_| LibraryError::NotFound("cover"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SOURCE_SIDE);
    limits.max_image_height = Some(MAX_SOURCE_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|_| LibraryError::NotFound("cover"))?;
    let thumb = img.thumbnail(size, size).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&thumb)
        .map_err(|e| LibraryError::Io(e.to_string()))?;
    // Write beside, then rename: a reader never sees half a thumbnail.
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let tmp = cached.with_extension("tmp");
        if std::fs::write(&tmp, &out).is_ok() {
            let _ = std::fs::rename(&tmp, &cached);
        }
    }
    Ok(Cover {
        bytes: out,
        mime: "image/jpeg".into(),
    })
}
