//! How an album, a playlist or ticked songs of either become a list of songs, written once for
//! every front-end (the API, the web pages and the command line).

use clef_core::UserId;

use crate::catalog::TrackView;
use crate::error::{LibraryError, LibraryResult};
use crate::Library;

/// Where songs are taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Album(String),
    /// One of the user's playlists.
    Playlist(String),
}

/// The songs of a selection, with its name for people.
#[derive(Debug, Clone)]
pub struct Selected {
    pub name: String,
    pub songs: Vec<TrackView>,
}

impl Selected {
    /// The ticked songs' ids as given; all of the selection's, in its order, when none is
    /// ticked.
    pub fn ticked_or_all(&self, ticked: &[String]) -> Vec<String> {
        if ticked.is_empty() {
            return self.songs.iter().map(|t| t.id.clone()).collect();
        }
        ticked.to_vec()
    }
}

impl Library {
    /// The name and songs, in order, of an album or of one of `user`'s playlists; another
    /// user's playlist is "not found", like an unknown one.
    pub async fn selection(&self, user: &UserId, s: &Selection) -> LibraryResult<Selected> {
        match s {
            Selection::Album(id) => {
                let (album, songs) = self
                    .catalog()
                    .album(id)
                    .ok_or(LibraryError::NotFound("album"))?;
                Ok(Selected {
                    name: album.name,
                    songs,
                })
            }
            Selection::Playlist(id) => {
                let p = self.playlist(user, id).await?;
                Ok(Selected {
                    name: p.name,
                    songs: p.tracks.unwrap_or_default(),
                })
            }
        }
    }
}
