//! Records of the library, playlists and stream slots.

use clef_core::{DeviceId, Timestamp, UserId};

use crate::model::Revocation;
use crate::SignOutReason;

/// One audio file in the library with everything the scanner read from it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackRecord {
    pub id: String,
    /// The file's absolute path.
    pub path: String,
    pub size: i64,
    /// Modification time, milliseconds since the epoch.
    pub mtime: i64,
    pub title: String,
    pub artists: Vec<String>,
    pub album: String,
    pub album_artists: Vec<String>,
    pub compilation: bool,
    pub genres: Vec<String>,
    pub track_no: Option<i64>,
    pub track_total: Option<i64>,
    pub disc_no: Option<i64>,
    pub disc_total: Option<i64>,
    pub year: Option<i64>,
    pub composer: Option<String>,
    pub comment: Option<String>,
    pub isrc: Option<String>,
    pub duration_ms: i64,
    pub sample_rate: Option<i64>,
    pub bit_depth: Option<i64>,
    pub channels: Option<i64>,
    /// Average bit rate in kbit/s.
    pub bitrate: Option<i64>,
    /// The codec: `mp3`, `flac`, `aac`, `alac`, `vorbis`, `opus`, `pcm`.
    pub codec: String,
    /// The container: `mp3`, `flac`, `m4a`, `ogg`, `opus`, `wav`, `aiff`.
    pub format: String,
    pub embedded_cover: bool,
    /// A `cover.jpg` or `folder.jpg` beside the file.
    pub cover_path: Option<String>,
    pub added_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What the scanner needs to decide whether a file changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub id: String,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
}

/// A file the scanner could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanProblem {
    pub path: String,
    pub reason: String,
    pub at: Timestamp,
}

/// The result of one scan, applied in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ScanChanges {
    /// New and changed tracks (matched by id).
    pub upserts: Vec<TrackRecord>,
    /// Tracks whose file moved: id and new path.
    pub moves: Vec<(String, String)>,
    /// Tracks whose file is gone.
    pub deletes: Vec<String>,
    /// Replaces the whole list of unreadable files.
    pub problems: Vec<ScanProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Track ids in order (empty in listings).
    pub tracks: Vec<String>,
    pub track_count: i64,
}

/// A device's stream slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub device_id: DeviceId,
    pub device_name: String,
    pub track_id: String,
    pub started_at: Timestamp,
    pub heartbeat_at: Timestamp,
}

/// Asking for a slot.
#[derive(Debug, Clone)]
pub struct SlotRequest {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub track_id: String,
    pub limit: i64,
    pub now: Timestamp,
    /// Slots whose heartbeat is older than this are free.
    pub stale_before: Timestamp,
    /// Stop this device's playback (same user) and take its slot.
    pub takeover: Option<DeviceId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotOutcome {
    /// The device holds a slot (it may already have had one).
    Granted { took_over: Option<DeviceId> },
    /// Every slot is taken; these devices are playing.
    LimitReached(Vec<Slot>),
    /// The device named for takeover is not playing.
    TakeoverNotFound,
}

/// Whether an open stream may go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    pub device_id: DeviceId,
    pub revoked: Option<Revocation>,
    pub user_disabled: bool,
    /// Set when another device took this one's slot: (reason, by device).
    pub stopped: Option<(SignOutReason, Option<DeviceId>)>,
}
