//! What each user keeps about the music: stars and ratings of songs, albums and artists, play
//! counts and "recently played" from scrobbles, what each device plays now, and the play queue.
//! Ids come from clients; each is looked up in the catalog (which also says what it names)
//! before anything is stored.

use std::collections::HashMap;

use clef_core::{DeviceId, InputError, Timestamp, UserId};
use clef_store::{Annotation, ItemKind, ItemRef, NowPlaying, PlayQueue};

use crate::{Catalog, Library, LibraryError, LibraryResult, TrackView};

/// The longest play queue kept.
pub const MAX_QUEUE_TRACKS: usize = 10_000;
/// How long after its start a "now playing" entry may still be shown, past the song's length.
const NOW_PLAYING_GRACE_MS: i64 = 5 * 60 * 1000;

/// One user's annotations, read once for a request.
#[derive(Debug, Clone, Default)]
pub struct UserData {
    by_id: HashMap<String, Annotation>,
}

/// A device's current song, with the song itself.
#[derive(Debug, Clone)]
pub struct Playing {
    pub entry: NowPlaying,
    pub track: TrackView,
    /// Minutes since the device said it started.
    pub minutes_ago: i64,
}

impl UserData {
    pub fn new(annotations: Vec<Annotation>) -> UserData {
        UserData {
            by_id: annotations
                .into_iter()
                .map(|a| (a.item_id.clone(), a))
                .collect(),
        }
    }

    /// Whether the user annotated nothing at all.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Annotation> {
        self.by_id.get(id)
    }

    pub fn starred_at(&self, id: &str) -> Option<Timestamp> {
        self.get(id).and_then(|a| a.starred_at)
    }

    /// 1 to 5, or 0 when not rated.
    pub fn rating(&self, id: &str) -> i64 {
        self.get(id).map_or(0, |a| a.rating)
    }

    pub fn play_count(&self, id: &str) -> i64 {
        self.get(id).map_or(0, |a| a.play_count)
    }

    pub fn played_at(&self, id: &str) -> Option<Timestamp> {
        self.get(id).and_then(|a| a.played_at)
    }

    fn of_kind(&self, kind: ItemKind) -> impl Iterator<Item = &Annotation> {
        self.by_id.values().filter(move |a| a.kind == kind)
    }

    /// Starred items of `kind`, most recently starred first.
    pub fn starred(&self, kind: ItemKind) -> Vec<String> {
        let mut v: Vec<&Annotation> = self
            .of_kind(kind)
            .filter(|a| a.starred_at.is_some())
            .collect();
        v.sort_by(|a, b| {
            b.starred_at
                .cmp(&a.starred_at)
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        v.into_iter().map(|a| a.item_id.clone()).collect()
    }

    /// Played items of `kind`, most played first (ties: most recently played first).
    pub fn most_played(&self, kind: ItemKind) -> Vec<String> {
        let mut v: Vec<&Annotation> = self.of_kind(kind).filter(|a| a.play_count > 0).collect();
        v.sort_by(|a, b| {
            b.play_count
                .cmp(&a.play_count)
                .then_with(|| b.played_at.cmp(&a.played_at))
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        v.into_iter().map(|a| a.item_id.clone()).collect()
    }

    /// Played items of `kind`, most recently played first.
    pub fn recently_played(&self, kind: ItemKind) -> Vec<String> {
        let mut v: Vec<&Annotation> = self
            .of_kind(kind)
            .filter(|a| a.played_at.is_some())
            .collect();
        v.sort_by(|a, b| {
            b.played_at
                .cmp(&a.played_at)
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        v.into_iter().map(|a| a.item_id.clone()).collect()
    }

    /// Rated items of `kind`, highest first (ties: most played first).
    pub fn highest_rated(&self, kind: ItemKind) -> Vec<String> {
        let mut v: Vec<&Annotation> = self.of_kind(kind).filter(|a| a.rating > 0).collect();
        v.sort_by(|a, b| {
            b.rating
                .cmp(&a.rating)
                .then_with(|| b.play_count.cmp(&a.play_count))
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        v.into_iter().map(|a| a.item_id.clone()).collect()
    }
}

/// What an id names in the catalog; `NotFound` when nothing.
pub fn item_kind(catalog: &Catalog, id: &str) -> LibraryResult<ItemKind> {
    if catalog.track(id).is_some() {
        Ok(ItemKind::Song)
    } else if catalog.album_view(id).is_some() {
        Ok(ItemKind::Album)
    } else if catalog.artist_view(id).is_some() {
        Ok(ItemKind::Artist)
    } else {
        Err(LibraryError::NotFound("song, album or artist"))
    }
}

fn invalid(field: &'static str, message: &str) -> LibraryError {
    LibraryError::Invalid(InputError {
        field,
        message: message.to_owned(),
    })
}

impl Library {
    /// The user's annotations, for one request.
    pub async fn user_data(&self, user: &UserId) -> LibraryResult<UserData> {
        Ok(UserData::new(self.store.annotations(user).await?))
    }

    /// Stars (or unstars) songs, albums and artists by id; nothing is stored unless every id is
    /// known.
    pub async fn set_starred(
        &self,
        user: &UserId,
        ids: &[&str],
        starred: bool,
    ) -> LibraryResult<()> {
        let catalog = self.catalog();
        let kinds = ids
            .iter()
            .map(|id| item_kind(&catalog, id))
            .collect::<LibraryResult<Vec<_>>>()?;
        let items: Vec<ItemRef<'_>> = ids
            .iter()
            .zip(kinds)
            .map(|(id, kind)| ItemRef { id, kind })
            .collect();
        let at = starred.then(|| self.clock.now());
        self.store.set_starred(user, &items, at).await?;
        Ok(())
    }

    /// Rates a song, album or artist 1 to 5; 0 removes the rating.
    pub async fn set_rating(&self, user: &UserId, id: &str, rating: i64) -> LibraryResult<()> {
        if !(0..=5).contains(&rating) {
            return Err(invalid("rating", "must be 0 (no rating) to 5"));
        }
        let kind = item_kind(&self.catalog(), id)?;
        self.store
            .set_rating(user, ItemRef { id, kind }, rating)
            .await?;
        Ok(())
    }

    /// Counts a play of a song (and of its album and artists) at `at`, or now; a time in the
    /// future counts as now.
    pub async fn record_play(
        &self,
        user: &UserId,
        track_id: &str,
        at: Option<Timestamp>,
    ) -> LibraryResult<()> {
        let catalog = self.catalog();
        let track = catalog
            .track(track_id)
            .ok_or(LibraryError::NotFound("song"))?;
        let now = self.clock.now();
        let at = at.filter(|t| *t < now).unwrap_or(now);
        let mut items = vec![
            ItemRef {
                id: &track.id,
                kind: ItemKind::Song,
            },
            ItemRef {
                id: &track.album_id,
                kind: ItemKind::Album,
            },
        ];
        for a in &track.artists {
            if !items.iter().any(|i| i.id == a.id) {
                items.push(ItemRef {
                    id: &a.id,
                    kind: ItemKind::Artist,
                });
            }
        }
        self.store.record_plays(user, &items, at).await?;
        Ok(())
    }

    /// Records that `device` started playing a song now.
    pub async fn set_now_playing(
        &self,
        user: &UserId,
        device: &DeviceId,
        track_id: &str,
    ) -> LibraryResult<()> {
        if self.catalog().track(track_id).is_none() {
            return Err(LibraryError::NotFound("song"));
        }
        self.store
            .set_now_playing(user, device, track_id, self.clock.now())
            .await?;
        Ok(())
    }

    /// What the user's devices are playing: entries whose song could still be playing.
    pub async fn now_playing(&self, user: &UserId) -> LibraryResult<Vec<Playing>> {
        let now = self.clock.now();
        let catalog = self.catalog();
        let since = Timestamp(now.0 - 24 * 3600 * 1000);
        let entries = self.store.now_playing(user, since).await?;
        Ok(entries
            .into_iter()
            .filter_map(|entry| {
                let track = catalog.track(&entry.track_id)?.clone();
                let ends = entry.since.0 + track.duration_ms + NOW_PLAYING_GRACE_MS;
                (ends >= now.0).then(|| Playing {
                    minutes_ago: (now.0 - entry.since.0).max(0) / 60_000,
                    entry,
                    track,
                })
            })
            .collect())
    }

    /// Saves the user's play queue (every id a known song); an empty one removes it.
    pub async fn save_play_queue(
        &self,
        user: &UserId,
        track_ids: Vec<String>,
        current: Option<String>,
        position_ms: i64,
        client: &str,
    ) -> LibraryResult<()> {
        if track_ids.len() > MAX_QUEUE_TRACKS {
            return Err(invalid("id", "a play queue holds at most 10,000 songs"));
        }
        if position_ms < 0 {
            return Err(invalid("position", "must not be negative"));
        }
        let catalog = self.catalog();
        if track_ids.iter().any(|id| catalog.track(id).is_none()) {
            return Err(LibraryError::NotFound("song"));
        }
        if let Some(c) = &current {
            if !track_ids.contains(c) {
                return Err(invalid("current", "must be one of the queue's songs"));
            }
        }
        let queue = PlayQueue {
            track_ids,
            current,
            position_ms,
            changed_at: self.clock.now(),
            changed_by: client.chars().take(100).collect(),
        };
        self.store.save_play_queue(user, &queue).await?;
        Ok(())
    }

    /// The user's play queue, without songs that have since left the library.
    pub async fn play_queue(&self, user: &UserId) -> LibraryResult<Option<PlayQueue>> {
        let Some(mut q) = self.store.play_queue(user).await? else {
            return Ok(None);
        };
        let catalog = self.catalog();
        q.track_ids.retain(|id| catalog.track(id).is_some());
        if q.current
            .as_deref()
            .is_some_and(|c| catalog.track(c).is_none())
        {
            q.current = None;
        }
        Ok(Some(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(
        id: &str,
        kind: ItemKind,
        star: Option<i64>,
        rating: i64,
        plays: i64,
        at: Option<i64>,
    ) -> Annotation {
        Annotation {
            item_id: id.into(),
            kind,
            starred_at: star.map(Timestamp),
            rating,
            play_count: plays,
            played_at: at.map(Timestamp),
        }
    }

    #[test]
    fn lists_are_ordered_as_their_names_say() {
        let d = UserData::new(vec![
            a("a1", ItemKind::Album, Some(5), 3, 2, Some(100)),
            a("a2", ItemKind::Album, Some(9), 5, 7, Some(50)),
            a("a3", ItemKind::Album, None, 3, 2, Some(300)),
            a("a4", ItemKind::Album, None, 0, 0, None),
            a("s1", ItemKind::Song, Some(1), 5, 9, Some(900)),
        ]);
        assert_eq!(d.starred(ItemKind::Album), ["a2", "a1"]);
        assert_eq!(d.most_played(ItemKind::Album), ["a2", "a3", "a1"]);
        assert_eq!(d.recently_played(ItemKind::Album), ["a3", "a1", "a2"]);
        assert_eq!(d.highest_rated(ItemKind::Album), ["a2", "a1", "a3"]);
        assert_eq!(d.starred(ItemKind::Song), ["s1"]);
        assert_eq!((d.rating("a4"), d.play_count("nothing")), (0, 0));
        assert_eq!(d.starred_at("a1"), Some(Timestamp(5)));
    }
}
