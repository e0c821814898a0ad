//! The in-memory catalog: built from the stored tracks after every scan and swapped in whole, so
//! browsing and search never touch the database. Albums and artists get ids derived from their
//! names, so they stay the same across rescans.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use clef_store::TrackRecord;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A stable id for a name-derived entity.
pub(crate) fn derived_id(kind: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\u{1f}{key}").as_bytes());
    hex::encode(&digest[..16])
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ArtistRef {
    pub id: String,
    pub name: String,
}

/// A track as clients see it (never its path).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrackView {
    pub id: String,
    pub title: String,
    pub artists: Vec<ArtistRef>,
    pub album: String,
    pub album_id: String,
    pub album_artist: String,
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
    pub bitrate: Option<i64>,
    pub codec: String,
    pub format: String,
    pub size: i64,
    pub has_cover: bool,
    pub added_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlbumView {
    pub id: String,
    pub name: String,
    pub artist: String,
    pub artists: Vec<ArtistRef>,
    pub year: Option<i64>,
    pub compilation: bool,
    pub genres: Vec<String>,
    pub track_count: usize,
    pub disc_count: i64,
    pub duration_ms: i64,
    pub added_at: i64,
    pub has_cover: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ArtistView {
    pub id: String,
    pub name: String,
    pub album_count: usize,
    pub track_count: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GenreView {
    pub name: String,
    pub track_count: usize,
    pub album_count: usize,
}

pub(crate) struct Track {
    pub(crate) rec: TrackRecord,
    pub(crate) view: TrackView,
    search: String,
}

pub(crate) struct Album {
    pub(crate) view: AlbumView,
    /// Indexes into `tracks`, in disc and track order.
    pub(crate) tracks: Vec<usize>,
    /// The track whose picture (embedded or beside it) is the album's cover.
    pub(crate) cover_track: Option<usize>,
    search: String,
    /// Genres folded to lower case, for the genre filter.
    genre_keys: Vec<String>,
}

struct Artist {
    view: ArtistView,
    albums: Vec<usize>,
    search: String,
}

/// How to order album lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlbumSort {
    Name,
    Artist,
    Year,
    RecentlyAdded,
    /// Shuffled by a seed, so paging through a random list is stable.
    Random(u64),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResults {
    pub artists: Vec<ArtistView>,
    pub albums: Vec<AlbumView>,
    pub tracks: Vec<TrackView>,
}

/// A snapshot of the whole library.
#[derive(Default)]
pub struct Catalog {
    pub(crate) tracks: Vec<Track>,
    track_by_id: HashMap<String, usize>,
    pub(crate) albums: Vec<Album>,
    album_by_id: HashMap<String, usize>,
    artists: Vec<Artist>,
    artist_by_id: HashMap<String, usize>,
    genres: Vec<GenreView>,
    /// Album indexes in each fixed order, sorted once when the catalog is built.
    album_orders: AlbumOrders,
}

#[derive(Default)]
struct AlbumOrders {
    name: Vec<usize>,
    artist: Vec<usize>,
    year: Vec<usize>,
    recent: Vec<usize>,
}

impl AlbumOrders {
    fn new(albums: &[Album]) -> AlbumOrders {
        let name: Vec<String> = albums.iter().map(|a| fold(&a.view.name)).collect();
        let artist: Vec<String> = albums.iter().map(|a| fold(&a.view.artist)).collect();
        // Ties fall back to the folded name and artist, then the index, so orders are total.
        let tie = |i: usize| (albums[i].search.as_str(), i);
        let sorted = |cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering| {
            let mut idx: Vec<usize> = (0..albums.len()).collect();
            idx.sort_by(|&a, &b| cmp(a, b));
            idx
        };
        AlbumOrders {
            name: sorted(&|a, b| name[a].cmp(&name[b]).then(tie(a).cmp(&tie(b)))),
            artist: sorted(&|a, b| {
                artist[a]
                    .cmp(&artist[b])
                    .then(albums[a].view.year.cmp(&albums[b].view.year))
                    .then(tie(a).cmp(&tie(b)))
            }),
            year: sorted(&|a, b| {
                albums[b]
                    .view
                    .year
                    .cmp(&albums[a].view.year)
                    .then(tie(a).cmp(&tie(b)))
            }),
            recent: sorted(&|a, b| {
                albums[b]
                    .view
                    .added_at
                    .cmp(&albums[a].view.added_at)
                    .then(tie(a).cmp(&tie(b)))
            }),
        }
    }
}

struct AlbumDraft {
    /// Folded name and scope (album artist, or folder when untagged): the album's identity.
    key: String,
    name: String,
    album_artists: Vec<String>,
    tracks: Vec<usize>,
}

impl Catalog {
    pub fn build(mut records: Vec<TrackRecord>) -> Arc<Catalog> {
        records.sort_by(|a, b| a.path.cmp(&b.path));
        // Albums: by album-artist tag when there is one, otherwise by folder, so an untagged
        // compilation stays one album.
        let mut drafts: Vec<AlbumDraft> = Vec::new();
        let mut draft_by_key: HashMap<String, usize> = HashMap::new();
        let mut album_of: Vec<usize> = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let name = if r.album.is_empty() {
                "[Unknown Album]".to_owned()
            } else {
                r.album.clone()
            };
            let scope = if r.album_artists.is_empty() {
                let folder = Path::new(&r.path)
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("folder:{folder}")
            } else {
                format!("artist:{}", fold(&r.album_artists.join(", ")))
            };
            let key = format!("{}\u{1f}{scope}", fold(&name));
            let d = *draft_by_key.entry(key.clone()).or_insert_with(|| {
                drafts.push(AlbumDraft {
                    key,
                    name,
                    album_artists: r.album_artists.clone(),
                    tracks: Vec::new(),
                });
                drafts.len() - 1
            });
            drafts[d].tracks.push(i);
            album_of.push(d);
        }

        let mut artists: Vec<Artist> = Vec::new();
        let mut artist_by_id: HashMap<String, usize> = HashMap::new();
        let mut artist_ref = |name: &str, artists: &mut Vec<Artist>| -> ArtistRef {
            let id = derived_id("artist", &fold(name));
            let idx = *artist_by_id.entry(id.clone()).or_insert_with(|| {
                artists.push(Artist {
                    view: ArtistView {
                        id: id.clone(),
                        name: name.to_owned(),
                        album_count: 0,
                        track_count: 0,
                    },
                    albums: Vec::new(),
                    search: fold(name),
                });
                artists.len() - 1
            });
            ArtistRef {
                id,
                name: artists[idx].view.name.clone(),
            }
        };

        // The album's display artist: its album artist, else the one artist all tracks share,
        // else "Various Artists".
        let mut album_artist_names: Vec<String> = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let name = if !d.album_artists.is_empty() {
                d.album_artists.join(", ")
            } else {
                let first = records[d.tracks[0]].artists.first().cloned();
                let shared = d
                    .tracks
                    .iter()
                    .all(|&t| records[t].artists.first() == first.as_ref());
                let compilation = d.tracks.iter().any(|&t| records[t].compilation);
                match first {
                    Some(a) if shared && !compilation => a,
                    None if !compilation => "[Unknown Artist]".to_owned(),
                    _ => "Various Artists".to_owned(),
                }
            };
            album_artist_names.push(name);
        }

        let mut tracks: Vec<Track> = Vec::with_capacity(records.len());
        for (i, r) in records.into_iter().enumerate() {
            let d = album_of[i];
            let album_id = derived_id("album", &drafts[d].key);
            let artists_list = if r.artists.is_empty() {
                vec!["[Unknown Artist]".to_owned()]
            } else {
                r.artists.clone()
            };
            let refs: Vec<ArtistRef> = artists_list
                .iter()
                .map(|a| artist_ref(a, &mut artists))
                .collect();
            let title = if r.title.is_empty() {
                file_stem(&r.path)
            } else {
                r.title.clone()
            };
            let search = fold(&format!(
                "{title}\u{1f}{}\u{1f}{}",
                artists_list.join(" "),
                drafts[d].name
            ));
            let view = TrackView {
                id: r.id.clone(),
                title,
                artists: refs,
                album: drafts[d].name.clone(),
                album_id,
                album_artist: album_artist_names[d].clone(),
                compilation: r.compilation,
                genres: r.genres.clone(),
                track_no: r.track_no,
                track_total: r.track_total,
                disc_no: r.disc_no,
                disc_total: r.disc_total,
                year: r.year,
                composer: r.composer.clone(),
                comment: r.comment.clone(),
                isrc: r.isrc.clone(),
                duration_ms: r.duration_ms,
                sample_rate: r.sample_rate,
                bit_depth: r.bit_depth,
                channels: r.channels,
                bitrate: r.bitrate,
                codec: r.codec.clone(),
                format: r.format.clone(),
                size: r.size,
                has_cover: r.embedded_cover || r.cover_path.is_some(),
                added_at: r.added_at.0,
            };
            tracks.push(Track {
                rec: r,
                view,
                search,
            });
        }

        let mut albums: Vec<Album> = Vec::with_capacity(drafts.len());
        for (d, draft) in drafts.iter().enumerate() {
            let mut order = draft.tracks.clone();
            order.sort_by_key(|&t| {
                let v = &tracks[t].view;
                (
                    v.disc_no.unwrap_or(1),
                    v.track_no.unwrap_or(i64::MAX),
                    v.title.to_lowercase(),
                )
            });
            let names: Vec<String> = if draft.album_artists.is_empty() {
                vec![album_artist_names[d].clone()]
            } else {
                draft.album_artists.clone()
            };
            let refs: Vec<ArtistRef> = names.iter().map(|a| artist_ref(a, &mut artists)).collect();
            let mut genres: Vec<String> = Vec::new();
            for &t in &order {
                for g in &tracks[t].view.genres {
                    if !genres.contains(g) {
                        genres.push(g.clone());
                    }
                }
            }
            let cover_track = order.iter().copied().find(|&t| tracks[t].view.has_cover);
            let view = AlbumView {
                id: derived_id("album", &draft.key),
                name: draft.name.clone(),
                artist: album_artist_names[d].clone(),
                artists: refs,
                year: order.iter().filter_map(|&t| tracks[t].view.year).min(),
                compilation: order.iter().any(|&t| tracks[t].view.compilation),
                genres,
                track_count: order.len(),
                disc_count: order
                    .iter()
                    .filter_map(|&t| tracks[t].view.disc_no)
                    .max()
                    .unwrap_or(1),
                duration_ms: order.iter().map(|&t| tracks[t].view.duration_ms).sum(),
                added_at: order
                    .iter()
                    .map(|&t| tracks[t].view.added_at)
                    .max()
                    .unwrap_or(0),
                has_cover: cover_track.is_some(),
            };
            let search = fold(&format!("{}\u{1f}{}", view.name, view.artist));
            let genre_keys = view.genres.iter().map(|g| fold(g)).collect();
            albums.push(Album {
                view,
                tracks: order,
                cover_track,
                search,
                genre_keys,
            });
        }

        // Artist → albums they lead or appear on, and their track counts.
        let mut album_by_id = HashMap::with_capacity(albums.len());
        for (a, album) in albums.iter().enumerate() {
            album_by_id.insert(album.view.id.clone(), a);
            let mut seen: Vec<&str> = Vec::new();
            let lead = album.view.artists.iter().map(|r| r.id.as_str());
            let featured = album
                .tracks
                .iter()
                .flat_map(|&t| tracks[t].view.artists.iter().map(|r| r.id.as_str()));
            for id in lead.chain(featured) {
                if !seen.contains(&id) {
                    seen.push(id);
                    if let Some(&i) = artist_by_id.get(id) {
                        artists[i].albums.push(a);
                    }
                }
            }
        }
        for t in &tracks {
            for r in &t.view.artists {
                if let Some(&i) = artist_by_id.get(&r.id) {
                    artists[i].view.track_count += 1;
                }
            }
        }
        for a in &mut artists {
            a.view.album_count = a.albums.len();
        }
        artists.sort_by(|a, b| a.search.cmp(&b.search).then(a.view.id.cmp(&b.view.id)));
        let artist_by_id = artists
            .iter()
            .enumerate()
            .map(|(i, a)| (a.view.id.clone(), i))
            .collect();

        let mut genre_map: HashMap<String, (String, usize, Vec<usize>)> = HashMap::new();
        for t in &tracks {
            for g in &t.view.genres {
                let e = genre_map
                    .entry(fold(g))
                    .or_insert_with(|| (g.clone(), 0, Vec::new()));
                e.1 += 1;
            }
        }
        for (a, album) in albums.iter().enumerate() {
            for g in &album.view.genres {
                if let Some(e) = genre_map.get_mut(&fold(g)) {
                    if !e.2.contains(&a) {
                        e.2.push(a);
                    }
                }
            }
        }
        let mut genres: Vec<GenreView> = genre_map
            .into_values()
            .map(|(name, track_count, albums)| GenreView {
                name,
                track_count,
                album_count: albums.len(),
            })
            .collect();
        genres.sort_by_key(|g| fold(&g.name));

        let track_by_id = tracks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.view.id.clone(), i))
            .collect();
        let album_orders = AlbumOrders::new(&albums);
        Arc::new(Catalog {
            album_orders,
            tracks,
            track_by_id,
            albums,
            album_by_id,
            artists,
            artist_by_id,
            genres,
        })
    }

    pub fn track_count(&self) -> usize {
        self.tracks.len()
    }

    pub fn album_count(&self) -> usize {
        self.albums.len()
    }

    pub(crate) fn track_index(&self, id: &str) -> Option<usize> {
        self.track_by_id.get(id).copied()
    }

    pub fn track(&self, id: &str) -> Option<&TrackView> {
        self.track_index(id).map(|i| &self.tracks[i].view)
    }

    /// The stored record (with the file path) of a track.
    pub fn track_record(&self, id: &str) -> Option<&TrackRecord> {
        self.track_index(id).map(|i| &self.tracks[i].rec)
    }

    pub fn records(&self) -> impl Iterator<Item = &TrackRecord> {
        self.tracks.iter().map(|t| &t.rec)
    }

    pub fn artists(&self) -> Vec<ArtistView> {
        self.artists.iter().map(|a| a.view.clone()).collect()
    }

    pub fn artist(&self, id: &str) -> Option<(ArtistView, Vec<AlbumView>)> {
        let a = &self.artists[*self.artist_by_id.get(id)?];
        let mut albums: Vec<AlbumView> = a
            .albums
            .iter()
            .map(|&i| self.albums[i].view.clone())
            .collect();
        albums.sort_by(|x, y| x.year.cmp(&y.year).then(x.name.cmp(&y.name)));
        Some((a.view.clone(), albums))
    }

    pub fn albums(
        &self,
        sort: AlbumSort,
        genre: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<AlbumView>) {
        let genre = genre.map(fold);
        let keep = |i: &usize| match &genre {
            Some(g) => self.albums[*i].genre_keys.contains(g),
            None => true,
        };
        let fixed = |order: &[usize]| order.iter().copied().filter(keep).collect::<Vec<usize>>();
        let idx: Vec<usize> = match sort {
            AlbumSort::Name => fixed(&self.album_orders.name),
            AlbumSort::Artist => fixed(&self.album_orders.artist),
            AlbumSort::Year => fixed(&self.album_orders.year),
            AlbumSort::RecentlyAdded => fixed(&self.album_orders.recent),
            AlbumSort::Random(seed) => {
                let mut idx: Vec<usize> = (0..self.albums.len()).filter(keep).collect();
                idx.sort_by_key(|&i| {
                    let d = Sha256::digest(format!("{seed}:{}", self.albums[i].view.id));
                    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
                });
                idx
            }
        };
        let total = idx.len();
        let page = idx
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|i| self.albums[i].view.clone())
            .collect();
        (total, page)
    }

    pub fn album(&self, id: &str) -> Option<(AlbumView, Vec<TrackView>)> {
        let a = &self.albums[*self.album_by_id.get(id)?];
        let tracks = a
            .tracks
            .iter()
            .map(|&t| self.tracks[t].view.clone())
            .collect();
        Some((a.view.clone(), tracks))
    }

    /// The track whose picture stands for this album.
    pub fn album_cover_track(&self, id: &str) -> Option<&TrackRecord> {
        let a = &self.albums[*self.album_by_id.get(id)?];
        a.cover_track.map(|t| &self.tracks[t].rec)
    }

    /// Every track, in the catalog's stable order (by file), for paging through the whole library.
    pub fn tracks(&self) -> impl Iterator<Item = &TrackView> {
        self.tracks.iter().map(|t| &t.view)
    }

    /// An album without copying its tracks.
    pub fn album_view(&self, id: &str) -> Option<&AlbumView> {
        self.album_by_id.get(id).map(|&i| &self.albums[i].view)
    }

    /// An artist without copying its albums.
    pub fn artist_view(&self, id: &str) -> Option<&ArtistView> {
        self.artist_by_id.get(id).map(|&i| &self.artists[i].view)
    }

    /// The first of the artist's albums that has a cover: the picture that stands for an artist,
    /// who has none of its own.
    pub fn artist_cover_album(&self, id: &str) -> Option<&AlbumView> {
        let a = &self.artists[*self.artist_by_id.get(id)?];
        a.albums
            .iter()
            .map(|&i| &self.albums[i].view)
            .find(|v| v.has_cover)
    }

    pub fn genres(&self) -> &[GenreView] {
        &self.genres
    }

    /// Every word of the query must appear (case-insensitively) in a title, artist or album.
    pub fn search(&self, query: &str, limit: usize) -> SearchResults {
        let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
        let hit = |s: &str| !words.is_empty() && words.iter().all(|w| s.contains(w.as_str()));
        SearchResults {
            artists: self
                .artists
                .iter()
                .filter(|a| hit(&a.search))
                .take(limit)
                .map(|a| a.view.clone())
                .collect(),
            albums: self
                .albums
                .iter()
                .filter(|a| hit(&a.search))
                .take(limit)
                .map(|a| a.view.clone())
                .collect(),
            tracks: self
                .tracks
                .iter()
                .filter(|t| hit(&t.search))
                .take(limit)
                .map(|t| t.view.clone())
                .collect(),
        }
    }
}

fn file_stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
