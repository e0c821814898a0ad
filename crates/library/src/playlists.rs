//! Playlists: a user's ordered lists of tracks, with M3U8 import and export.

use clef_formats::m3u8;
use std::path::Path;

use clef_core::{InputError, UserId};
use clef_store::Playlist;
use serde::Serialize;

use crate::catalog::{Catalog, TrackView};
use crate::error::{LibraryError, LibraryResult};
use crate::Library;

/// Longest playlist we keep.
pub const MAX_PLAYLIST_TRACKS: usize = 10_000;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlaylistView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub track_count: usize,
    pub duration_ms: i64,
    /// In order; tracks whose files have left the library are not shown (their entries are kept
    /// and come back with the file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<TrackView>>,
}

fn check_name(name: &str) -> LibraryResult<String> {
    let name = name.trim();
    let err = |m: &str| {
        LibraryError::Invalid(InputError {
            field: "name",
            message: m.into(),
        })
    };
    if name.is_empty() {
        return Err(err("A playlist needs a name."));
    }
    if name.chars().count() > 200 {
        return Err(err("Playlist names are at most 200 characters."));
    }
    if name
        .chars()
        .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
    {
        return Err(err("Playlist names cannot contain control characters."));
    }
    Ok(name.to_owned())
}

fn check_tracks(catalog: &Catalog, ids: &[String]) -> LibraryResult<()> {
    if let Some(bad) = ids.iter().find(|id| catalog.track(id).is_none()) {
        return Err(LibraryError::Invalid(InputError {
            field: "track_ids",
            message: format!(
                "No track with id {:?}.",
                bad.chars().take(64).collect::<String>()
            ),
        }));
    }
    Ok(())
}

fn too_long() -> LibraryError {
    LibraryError::Invalid(InputError {
        field: "track_ids",
        message: format!("A playlist holds at most {MAX_PLAYLIST_TRACKS} tracks."),
    })
}

fn view(catalog: &Catalog, p: &Playlist, with_tracks: bool) -> PlaylistView {
    let tracks: Vec<TrackView> = p
        .tracks
        .iter()
        .filter_map(|id| catalog.track(id).cloned())
        .collect();
    PlaylistView {
        id: p.id.clone(),
        name: p.name.clone(),
        created_at: p.created_at.0,
        updated_at: p.updated_at.0,
        track_count: if with_tracks {
            tracks.len()
        } else {
            usize::try_from(p.track_count).unwrap_or(0)
        },
        duration_ms: tracks.iter().map(|t| t.duration_ms).sum(),
        tracks: with_tracks.then_some(tracks),
    }
}

/// How to change a playlist.
#[derive(Debug, Clone)]
pub enum PlaylistEdit {
    Rename(String),
    /// Insert tracks at a position (the end when `None`).
    Add {
        track_ids: Vec<String>,
        position: Option<usize>,
    },
    /// Remove the entries at these positions.
    Remove(Vec<usize>),
    /// Move the entry at `from` to `to`.
    Move {
        from: usize,
        to: usize,
    },
    /// Replace the whole order.
    Replace(Vec<String>),
}

impl Library {
    pub async fn playlists(&self, user: &UserId) -> LibraryResult<Vec<PlaylistView>> {
        let catalog = self.catalog();
        let list = self.store.playlists(user).await?;
        Ok(list.iter().map(|p| view(&catalog, p, false)).collect())
    }

    pub async fn playlist(&self, user: &UserId, id: &str) -> LibraryResult<PlaylistView> {
        let p = self.stored_playlist(user, id).await?;
        Ok(view(&self.catalog(), &p, true))
    }

    /// Which of `track_ids` the playlist holds already, so that adding an album twice can be
    /// asked about first.
    pub async fn already_in_playlist(
        &self,
        user: &UserId,
        id: &str,
        track_ids: &[String],
    ) -> LibraryResult<Vec<String>> {
        let p = self.stored_playlist(user, id).await?;
        let held: std::collections::HashSet<&str> = p.tracks.iter().map(String::as_str).collect();
        Ok(track_ids
            .iter()
            .filter(|t| held.contains(t.as_str()))
            .cloned()
            .collect())
    }

    async fn stored_playlist(&self, user: &UserId, id: &str) -> LibraryResult<Playlist> {
        self.store
            .playlist(user, id)
            .await?
            .ok_or(LibraryError::NotFound("playlist"))
    }

    pub async fn create_playlist(
        &self,
        user: &UserId,
        name: &str,
        track_ids: Vec<String>,
    ) -> LibraryResult<PlaylistView> {
        let name = check_name(name)?;
        let catalog = self.catalog();
        check_tracks(&catalog, &track_ids)?;
        if track_ids.len() > MAX_PLAYLIST_TRACKS {
            return Err(too_long());
        }
        let now = self.clock.now();
        let p = Playlist {
            id: self.rng.id(),
            user_id: user.clone(),
            name,
            created_at: now,
            updated_at: now,
            track_count: i64::try_from(track_ids.len()).unwrap_or(0),
            tracks: track_ids,
        };
        self.store.create_playlist(&p).await?;
        Ok(view(&catalog, &p, true))
    }

    pub async fn edit_playlist(
        &self,
        user: &UserId,
        id: &str,
        edit: PlaylistEdit,
    ) -> LibraryResult<PlaylistView> {
        let mut p = self.stored_playlist(user, id).await?;
        let catalog = self.catalog();
        let out_of_range = |field: &'static str| {
            LibraryError::Invalid(InputError {
                field,
                message: "That position is not in the playlist.".into(),
            })
        };
        // Positions count the entries shown, which skip tracks whose files have left the library;
        // they are mapped onto the stored list so the right entry changes.
        let shown = |tracks: &[String]| -> Vec<usize> {
            tracks
                .iter()
                .enumerate()
                .filter(|(_, id)| catalog.track(id).is_some())
                .map(|(i, _)| i)
                .collect()
        };
        let visible = shown(&p.tracks);
        match edit {
            PlaylistEdit::Rename(name) => p.name = check_name(&name)?,
            PlaylistEdit::Add {
                track_ids,
                position,
            } => {
                check_tracks(&catalog, &track_ids)?;
                let at = match position {
                    None => p.tracks.len(),
                    Some(i) if i == visible.len() => p.tracks.len(),
                    Some(i) => *visible.get(i).ok_or_else(|| out_of_range("position"))?,
                };
                p.tracks.splice(at..at, track_ids);
            }
            PlaylistEdit::Remove(mut positions) => {
                positions.sort_unstable();
                positions.dedup();
                let mut stored = Vec::with_capacity(positions.len());
                for i in positions {
                    stored.push(*visible.get(i).ok_or_else(|| out_of_range("positions"))?);
                }
                for i in stored.into_iter().rev() {
                    p.tracks.remove(i);
                }
            }
            PlaylistEdit::Move { from, to } => {
                if to >= visible.len() {
                    return Err(out_of_range("to"));
                }
                let from = *visible.get(from).ok_or_else(|| out_of_range("from"))?;
                let t = p.tracks.remove(from);
                let after = shown(&p.tracks);
                let at = after.get(to).copied().unwrap_or(p.tracks.len());
                p.tracks.insert(at, t);
            }
            PlaylistEdit::Replace(ids) => {
                check_tracks(&catalog, &ids)?;
                p.tracks = ids;
            }
        }
        if p.tracks.len() > MAX_PLAYLIST_TRACKS {
            return Err(too_long());
        }
        let now = self.clock.now();
        if !self
            .store
            .update_playlist(user, id, &p.name, &p.tracks, now)
            .await?
        {
            return Err(LibraryError::NotFound("playlist"));
        }
        p.updated_at = now;
        Ok(view(&catalog, &p, true))
    }

    pub async fn delete_playlist(&self, user: &UserId, id: &str) -> LibraryResult<()> {
        if self.store.delete_playlist(user, id).await? {
            Ok(())
        } else {
            Err(LibraryError::NotFound("playlist"))
        }
    }

    /// The playlist as M3U8: paths relative to the music folder that holds each file.
    pub async fn export_m3u8(&self, user: &UserId, id: &str) -> LibraryResult<(String, String)> {
        let p = self.stored_playlist(user, id).await?;
        let catalog = self.catalog();
        let mut out = String::from("#EXTM3U\n");
        out.push_str(&format!("#PLAYLIST:{}\n", m3u8::one_line(&p.name)));
        for tid in &p.tracks {
            let (Some(t), Some(r)) = (catalog.track(tid), catalog.track_record(tid)) else {
                continue;
            };
            let artists: Vec<&str> = t.artists.iter().map(|a| a.name.as_str()).collect();
            out.push_str(&format!(
                "#EXTINF:{},{} - {}\n{}\n",
                t.duration_ms / 1000,
                m3u8::one_line(&artists.join(", ")),
                m3u8::one_line(&t.title),
                m3u8::path_line(&self.relative_path(&r.path))
            ));
        }
        Ok((p.name, out))
    }

    fn relative_path(&self, path: &str) -> String {
        for root in &self.cfg.music_dirs {
            let root = root.canonicalize().unwrap_or_else(|_| root.clone());
            if let Ok(rel) = Path::new(path).strip_prefix(&root) {
                return rel.to_string_lossy().into_owned();
            }
        }
        path.to_owned()
    }

    /// Makes a playlist from M3U/M3U8 text. Entries are matched by path (absolute, or relative to a
    /// music folder), then by file name; returns the playlist and the entries that matched nothing.
    pub async fn import_m3u8(
        &self,
        user: &UserId,
        name: &str,
        text: &str,
    ) -> LibraryResult<(PlaylistView, Vec<String>)> {
        let catalog = self.catalog();
        let roots: Vec<_> = self
            .cfg
            .music_dirs
            .iter()
            .map(|r| r.canonicalize().unwrap_or_else(|_| r.clone()))
            .collect();
        let mut by_path = std::collections::HashMap::new();
        let mut by_rel = std::collections::HashMap::new();
        let mut by_name: std::collections::HashMap<String, Vec<String>> = Default::default();
        for r in catalog.records() {
            by_path.insert(r.path.clone(), r.id.clone());
            for root in &roots {
                if let Ok(rel) = Path::new(&r.path).strip_prefix(root) {
                    by_rel.insert(rel.to_string_lossy().replace('\\', "/"), r.id.clone());
                }
            }
            if let Some(n) = Path::new(&r.path).file_name() {
                by_name
                    .entry(n.to_string_lossy().to_lowercase())
                    .or_default()
                    .push(r.id.clone());
            }
        }
        let mut ids = Vec::new();
        let mut unmatched = Vec::new();
        for entry in m3u8::entries(text) {
            let lookup = |line: &str| {
                let norm = line.replace('\\', "/");
                by_path
                    .get(line)
                    .or_else(|| by_rel.get(norm.trim_start_matches("./")))
                    .cloned()
                    .or_else(|| {
                        let file = norm.rsplit('/').next()?.to_lowercase();
                        match by_name.get(&file) {
                            Some(c) if c.len() == 1 => Some(c[0].clone()),
                            _ => None,
                        }
                    })
            };
            match entry.candidates().find_map(lookup) {
                Some(id) => ids.push(id),
                None => unmatched.push(entry.line.chars().take(500).collect()),
            }
            if ids.len() > MAX_PLAYLIST_TRACKS {
                return Err(too_long());
            }
        }
        let view = self.create_playlist(user, name, ids).await?;
        Ok((view, unmatched))
    }
}
