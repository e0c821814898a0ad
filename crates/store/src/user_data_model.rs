//! What each user keeps about the music: stars, ratings, play counts and when last played, what
//! each device is playing now, and the play queue a phone saves to pick up on another.

use clef_core::{DeviceId, Timestamp, UserId};

stored_enum! {
    /// What an annotated item is. Items are named by catalog ids (artists and albums derived
    /// from names, songs from the store), so stars outlive a rescan that keeps the music.
    ItemKind {
        Song = "song",
        Album = "album",
        Artist = "artist",
    }
}

/// One item as one user sees it. An item never annotated has no row (all zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub item_id: String,
    pub kind: ItemKind,
    /// When the user starred it; `None` when not starred.
    pub starred_at: Option<Timestamp>,
    /// 1 to 5; 0 when not rated.
    pub rating: i64,
    pub play_count: i64,
    pub played_at: Option<Timestamp>,
}

/// An item to annotate: its catalog id and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef<'a> {
    pub id: &'a str,
    pub kind: ItemKind,
}

/// What a device said it is playing (Subsonic `scrobble` with `submission=false`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NowPlaying {
    pub user_id: UserId,
    pub device_id: DeviceId,
    /// The device's name and client, as on the Devices page.
    pub device_name: String,
    pub client: String,
    pub track_id: String,
    pub since: Timestamp,
}

/// A user's saved play queue: the songs in order, the current one and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayQueue {
    pub track_ids: Vec<String>,
    pub current: Option<String>,
    pub position_ms: i64,
    pub changed_at: Timestamp,
    /// The client that saved it (its `c`).
    pub changed_by: String,
}
