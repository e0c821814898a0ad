//! The library pages: albums (sorted, by genre, paged), artists, one artist, one album, search.
//!
//! Everything is plain server-rendered HTML that works for browsing without script; the Play and
//! Add to queue buttons are read by `/static/player.js` from the rows' `data-` attributes.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_http::AppState;
use clef_library::{AlbumSort, AlbumView, ArtistRef, PlaylistView, TrackView, UserData};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::WebAuth;
use crate::csrf::CsrfToken;
use crate::errors::describe_library;
use crate::format::{count, duration, query_value, total};
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::kept::{self, badges, PERSONAL_SORTS};
use crate::pages::missing::{self, Missing};
use crate::pages::{library_page, signed_in_problem};

/// Albums on one page of the grid.
pub const ALBUMS_PER_PAGE: usize = 48;

/// Results of each kind the search page shows.
const SEARCH_LIMIT: usize = 50;

/// The longest search text looked at (the API's limit too).
const MAX_QUERY_CHARS: usize = 200;

/// The sub-navigation of the library pages, with the search box.
pub(crate) fn subnav(current: &str, q: &str) -> Markup {
    let link = |href: &str, label: &str| {
        let here = current == label;
        html! {
            a href=(href) class=[here.then_some("current")] aria-current=[here.then_some("page")] { (label) }
        }
    };
    html! {
        div.subnav {
            nav aria-label="Library" {
                (link("/library", "Albums"))
                (link("/library/artists", "Artists"))
                (link("/library/playlists", "Playlists"))
            }
            form.search method="get" action="/library/search" role="search" {
                label.sr-only for="library-q" { "Search the library" }
                input #library-q type="search" name="q" value=(q) placeholder="Search the library" maxlength="200";
                button type="submit" { "Search" }
            }
        }
    }
}

/// An album's cover, or a placeholder with its initial when it has none.
fn cover(album_id: &str, name: &str, has_cover: bool, size: u32) -> Markup {
    html! {
        @if has_cover {
            img.cover src={ "/api/v1/albums/" (album_id) "/cover?size=" (size) }
                srcset={ "/api/v1/albums/" (album_id) "/cover?size=" (size) " 1x, /api/v1/albums/" (album_id) "/cover?size=" (size * 2) " 2x" }
                width=(size) height=(size) alt="" loading="lazy";
        } @else {
            span.cover.placeholder aria-hidden="true" { (name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()) }
        }
    }
}

/// The grid of album cards.
pub(crate) fn album_grid(albums: &[AlbumView], data: &UserData) -> Markup {
    html! {
        ul.albums {
            @for a in albums {
                li.album-card data-album-id=(a.id) {
                    a href={ "/library/albums/" (a.id) } {
                        (cover(&a.id, &a.name, a.has_cover, 256))
                        span.album-name { (a.name) }
                    }
                    span.album-artist { (a.artist) }
                    @if let Some(y) = a.year { span.album-year { (y) } }
                    (badges(data, &a.id))
                }
            }
        }
    }
}

fn artist_links(artists: &[ArtistRef]) -> Markup {
    html! {
        @for (i, a) in artists.iter().enumerate() {
            @if i > 0 { ", " }
            a href={ "/library/artists/" (a.id) } { (a.name) }
        }
    }
}

fn artist_names(artists: &[ArtistRef]) -> String {
    artists
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the first column of a track table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbering {
    /// The track number on its album (with the disc when there are several).
    Album { discs: bool },
    /// The position in the list.
    Position,
}

/// More actions for a row of a track table, by position.
pub(crate) type RowExtra<'a> = &'a dyn Fn(usize, &TrackView) -> Markup;

/// What a track table shows besides its tracks.
pub(crate) struct TrackTable<'a> {
    pub numbering: Numbering,
    pub show_album: bool,
    /// Playlists for each row's "Add to playlist" form, and the page to come back to.
    pub add_to: Option<(&'a [PlaylistView], &'a str, &'a str)>,
    /// More actions for a row (by position), such as a playlist's remove and move.
    pub extra: Option<RowExtra<'a>>,
    /// The user's stars, ratings and plays, shown beside each title.
    pub kept: &'a UserData,
}

fn number(t: &TrackView, i: usize, n: Numbering) -> String {
    match n {
        Numbering::Position => (i + 1).to_string(),
        Numbering::Album { discs } => match (t.track_no, discs) {
            (Some(no), true) => format!("{}-{no:02}", t.disc_no.unwrap_or(1)),
            (Some(no), false) => no.to_string(),
            (None, _) => String::new(),
        },
    }
}

/// The form adding tracks to one of the person's playlists.
pub(crate) fn add_to_playlist_form(
    playlists: &[PlaylistView],
    track_ids: &str,
    back: &str,
    csrf: &str,
    label: &str,
    id_suffix: &str,
) -> Markup {
    html! {
        form.inline.add-to-playlist method="post" action="/library/playlists/add" {
            (csrf_field(csrf))
            input type="hidden" name="track_ids" value=(track_ids);
            input type="hidden" name="back" value=(back);
            label.sr-only for={ "playlist-" (id_suffix) } { "Playlist" }
            select id={ "playlist-" (id_suffix) } name="playlist" {
                @for p in playlists { option value=(p.id) { (p.name) } }
            }
            button.subtle type="submit" { (label) }
        }
    }
}

/// A table of tracks whose rows the player reads: `tr[data-track-id]` inside `tbody#tracks`.
pub(crate) fn track_table(tracks: &[TrackView], opts: &TrackTable<'_>) -> Markup {
    html! {
        div.table-wrap {
            table.tracks {
                thead {
                    tr {
                        th.no { "#" }
                        th { "Title" }
                        th.artists-col { "Artists" }
                        @if opts.show_album { th.album-col { "Album" } }
                        th.dur { "Time" }
                        th { span.sr-only { "Actions" } }
                    }
                }
                tbody #tracks {
                    @for (i, t) in tracks.iter().enumerate() {
                        tr.track data-track-id=(t.id) data-title=(t.title)
                            data-artist=(artist_names(&t.artists)) data-album=(t.album)
                            data-album-id=(t.album_id) data-duration-ms=(t.duration_ms)
                            data-cover=(if t.has_cover { format!("/api/v1/tracks/{}/cover?size=64", t.id) } else { String::new() }) {
                            td.no { (number(t, i, opts.numbering)) }
                            td.title {
                                span.track-title { (t.title) " " (badges(opts.kept, &t.id)) }
                                span.track-sub { (artist_names(&t.artists)) }
                            }
                            td.artists-col { (artist_links(&t.artists)) }
                            @if opts.show_album {
                                td.album-col { a href={ "/library/albums/" (t.album_id) } { (t.album) } }
                            }
                            td.dur { (duration(t.duration_ms)) }
                            td.actions {
                                button.play-track.js-only type="button" data-track-id=(t.id) aria-label={ "Play " (t.title) } { "Play" }
                                " "
                                button.queue-track.subtle.js-only type="button" data-track-id=(t.id) aria-label={ "Add " (t.title) " to the queue" } { "Add to queue" }
                                @if let Some((playlists, back, csrf)) = opts.add_to {
                                    @if !playlists.is_empty() {
                                        details.more {
                                            summary { "More" }
                                            div.more-menu {
                                                (add_to_playlist_form(playlists, &t.id, back, csrf, "Add to playlist", &format!("{i}")))
                                            }
                                        }
                                    }
                                }
                                @if let Some(extra) = opts.extra { (extra(i, t)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AlbumsQuery {
    sort: Option<String>,
    genre: Option<String>,
    /// Kept as text so a mangled link shows the first page rather than an error.
    page: Option<String>,
    seed: Option<String>,
}

const SORTS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("artist", "Artist"),
    ("year", "Year, newest first"),
    ("recent", "Recently added"),
    ("random", "Random"),
];

/// A seed for a new random order, kept in the paging links so the pages agree.
fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_secs().wrapping_mul(1_000_003) ^ u64::from(now.subsec_nanos())
}

/// `GET /library`: the albums.
pub async fn albums(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<AlbumsQuery>,
) -> Response {
    let catalog = st.library.catalog();
    let sort_key = SORTS
        .iter()
        .chain(PERSONAL_SORTS)
        .map(|(k, _)| *k)
        .find(|k| Some(*k) == q.sort.as_deref())
        .unwrap_or("name");
    let seed = q
        .seed
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(fresh_seed);
    let sort = match sort_key {
        "artist" => AlbumSort::Artist,
        "year" => AlbumSort::Year,
        "recent" => AlbumSort::RecentlyAdded,
        "random" => AlbumSort::Random(seed),
        _ => AlbumSort::Name,
    };
    let genre = q.genre.as_deref().map(str::trim).filter(|g| !g.is_empty());
    let page = q
        .page
        .as_deref()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let offset = (page - 1).saturating_mul(ALBUMS_PER_PAGE);
    let data = kept::kept(&st, &ctx).await;
    let (total_albums, shown) = match kept::personal_albums(&catalog, &data, sort_key, genre) {
        Some(all) => (
            all.len(),
            all.into_iter().skip(offset).take(ALBUMS_PER_PAGE).collect(),
        ),
        None => catalog.albums(sort, genre, offset, ALBUMS_PER_PAGE),
    };
    let personal = PERSONAL_SORTS.iter().any(|(k, _)| *k == sort_key);
    let pages = total_albums.div_ceil(ALBUMS_PER_PAGE).max(1);
    let page_link = |p: usize| {
        let mut href = format!("/library?sort={sort_key}&page={p}");
        if sort_key == "random" {
            href.push_str(&format!("&seed={seed}"));
        }
        if let Some(g) = genre {
            href.push_str(&format!("&genre={}", query_value(g)));
        }
        href
    };
    let body = html! {
        (subnav("Albums", ""))
        h1 { "Albums" }
        form.row.album-filters #album-sort method="get" action="/library" {
            div.field {
                label for="sort" { "Sort by" }
                select #sort name="sort" data-autosubmit {
                    @for (k, label) in SORTS {
                        option value=(k) selected[*k == sort_key] { (label) }
                    }
                    optgroup label="Yours" {
                        @for (k, label) in PERSONAL_SORTS {
                            option value=(k) selected[*k == sort_key] { (label) }
                        }
                    }
                }
            }
            @if !catalog.genres().is_empty() {
                div.field {
                    label for="genre" { "Genre" }
                    select #genre name="genre" data-autosubmit {
                        option value="" { "All genres" }
                        @for g in catalog.genres() {
                            option value=(g.name) selected[Some(g.name.as_str()) == genre] { (g.name) }
                        }
                    }
                }
            }
            button.nojs-only type="submit" { "Show" }
            @if sort_key == "random" {
                a.button-link href={ "/library?sort=random&seed=" (fresh_seed()) } { "Shuffle again" }
            }
        }
        @if total_albums == 0 {
            p.empty #no-albums {
                @if personal {
                    "None yet: albums you star, rate or play (here or in a Subsonic app) show up here."
                } @else if genre.is_some() { "No albums in this genre." }
                @else { "The library is empty. Add music to the music folder and scan." }
            }
        } @else {
            p.meta { (count(total_albums, "album", "albums")) " · " (count(catalog.track_count(), "track", "tracks")) " in the library" }
            (album_grid(&shown, &data))
            @if pages > 1 {
                nav.pager aria-label="Pages" {
                    @if page > 1 { a #prev-page rel="prev" href=(page_link(page - 1)) { "← Previous" } }
                    span { "Page " (page.min(pages)) " of " (pages) }
                    @if page < pages { a #next-page rel="next" href=(page_link(page + 1)) { "Next →" } }
                }
            }
        }
    };
    library_page(&ctx, &csrf, StatusCode::OK, "Albums", None, body)
}

/// `GET /library/artists`.
pub async fn artists(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
) -> Response {
    let all = st.library.catalog().artists();
    let body = html! {
        (subnav("Artists", ""))
        h1 { "Artists" }
        @if all.is_empty() {
            p.empty { "No artists yet." }
        } @else {
            ul.artists #artists {
                @for a in &all {
                    li {
                        a href={ "/library/artists/" (a.id) } { (a.name) }
                        " " span.meta { (count(a.album_count, "album", "albums")) ", " (count(a.track_count, "track", "tracks")) }
                    }
                }
            }
        }
    };
    library_page(&ctx, &csrf, StatusCode::OK, "Artists", None, body)
}

fn not_found(ctx: &AuthContext, csrf: &CsrfToken, what: &str) -> Response {
    missing::signed_in(ctx, csrf, Missing::from_name(what))
}

/// `GET /library/artists/{id}`.
pub async fn artist(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Response {
    let Some((artist, albums)) = st.library.catalog().artist(&id) else {
        return not_found(&ctx, &csrf, "artist");
    };
    let data = kept::kept(&st, &ctx).await;
    let body = html! {
        (subnav("", ""))
        p.crumbs { a href="/library/artists" { "Artists" } }
        h1 #artist-name { (artist.name) }
        p.meta { (count(artist.album_count, "album", "albums")) ", " (count(artist.track_count, "track", "tracks")) }
        (album_grid(&albums, &data))
    };
    library_page(&ctx, &csrf, StatusCode::OK, &artist.name, None, body)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
    n: Option<usize>,
    playlist: Option<String>,
}

impl NoticeQuery {
    /// Notices are chosen by code; the playlist is named from the person's own playlists.
    fn flash(&self, playlists: &[PlaylistView]) -> Option<Flash> {
        match self.notice.as_deref()? {
            "added" => {
                let n = count(self.n.unwrap_or(0), "track", "tracks");
                let name = self
                    .playlist
                    .as_deref()
                    .and_then(|id| playlists.iter().find(|p| p.id == id));
                match name {
                    Some(p) => Flash::notice(format!("Added {n} to “{}”.", p.name)),
                    None => Flash::notice(format!("Added {n} to the playlist.")),
                }
            }
            _ => None,
        }
    }
}

/// The person's playlists for the "Add to playlist" forms; none when they cannot be read.
async fn own_playlists(st: &AppState, ctx: &AuthContext) -> Vec<PlaylistView> {
    match st.library.playlists(&ctx.user.id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "could not list playlists for a page");
            Vec::new()
        }
    }
}

/// `GET /library/albums/{id}`.
pub async fn album(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let Some((album, tracks)) = st.library.catalog().album(&id) else {
        return not_found(&ctx, &csrf, "album");
    };
    let playlists = own_playlists(&st, &ctx).await;
    let data = kept::kept(&st, &ctx).await;
    let back = format!("/library/albums/{}", album.id);
    let all_ids = tracks
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let body = html! {
        (subnav("", ""))
        div.album-head {
            div.album-cover { (cover(&album.id, &album.name, album.has_cover, 256)) }
            div.album-info {
                p.kicker { @if album.compilation { "Compilation" } @else { "Album" } }
                h1 #album-name { (album.name) }
                p.album-by { (artist_links(&album.artists)) }
                p.meta {
                    @if let Some(y) = album.year { (y) " · " }
                    (count(album.track_count, "track", "tracks")) " · " (total(album.duration_ms))
                    @if !album.genres.is_empty() { " · " (album.genres.join(", ")) }
                }
                (kept::album_panel(&album.id, &data, csrf.value()))
                div.album-actions {
                    button #play-album .primary.js-only type="button" { "▶ Play album" }
                    button #queue-album .js-only type="button" { "Add album to queue" }
                    a.button-link #export-album href={ "/export?album=" (album.id) } { "Export…" }
                }
                details.more.album-playlists {
                    summary { "Add to a playlist" }
                    div.more-menu {
                        @if !playlists.is_empty() {
                            (add_to_playlist_form(&playlists, &all_ids, &back, csrf.value(), "Add album", "album"))
                        }
                        form.inline.new-playlist method="post" action="/library/playlists" {
                            (csrf_field(csrf.value()))
                            input type="hidden" name="track_ids" value=(all_ids);
                            label.sr-only for="new-playlist-name" { "New playlist name" }
                            input #new-playlist-name type="text" name="name" value=(album.name) maxlength="200" required;
                            button.subtle type="submit" { "New playlist" }
                        }
                    }
                }
            }
        }
        (track_table(&tracks, &TrackTable {
            numbering: Numbering::Album { discs: album.disc_count > 1 },
            show_album: false,
            add_to: Some((&playlists, &back, csrf.value())),
            extra: None,
            kept: &data,
        }))
    };
    library_page(
        &ctx,
        &csrf,
        StatusCode::OK,
        &album.name,
        q.flash(&playlists),
        body,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    notice: Option<String>,
    n: Option<usize>,
    playlist: Option<String>,
}

/// `GET /library/search?q=`.
pub async fn search(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<SearchQuery>,
) -> Response {
    let text: String = q.q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let results = st.library.catalog().search(&text, SEARCH_LIMIT);
    let playlists = own_playlists(&st, &ctx).await;
    let data = kept::kept(&st, &ctx).await;
    let back = format!("/library/search?q={}", query_value(&text));
    let nothing =
        results.artists.is_empty() && results.albums.is_empty() && results.tracks.is_empty();
    let flash = NoticeQuery {
        notice: q.notice.clone(),
        n: q.n,
        playlist: q.playlist.clone(),
    }
    .flash(&playlists);
    let body = html! {
        (subnav("", &text))
        h1 { @if text.is_empty() { "Search" } @else { "Results for “" (text) "”" } }
        @if text.is_empty() {
            p.empty { "Type a few words: an artist, an album or a track." }
        } @else if nothing {
            p.empty #no-results { "Nothing found." }
        } @else {
            @if !results.artists.is_empty() {
                section #artist-results {
                    h2 { "Artists" }
                    ul.artists {
                        @for a in &results.artists {
                            li { a href={ "/library/artists/" (a.id) } { (a.name) } }
                        }
                    }
                }
            }
            @if !results.albums.is_empty() {
                section #album-results {
                    h2 { "Albums" }
                    (album_grid(&results.albums, &data))
                }
            }
            @if !results.tracks.is_empty() {
                section #track-results {
                    h2 { "Tracks" }
                    (track_table(&results.tracks, &TrackTable {
                        numbering: Numbering::Position,
                        show_album: true,
                        add_to: Some((&playlists, &back, csrf.value())),
                        extra: None,
                        kept: &data,
                    }))
                }
            }
        }
    };
    let title = if text.is_empty() {
        "Search"
    } else {
        "Search results"
    };
    library_page(&ctx, &csrf, StatusCode::OK, title, flash, body)
}

/// The problem page for a library error on a library page.
pub(crate) fn library_problem(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    e: &clef_library::LibraryError,
) -> Response {
    if let clef_library::LibraryError::NotFound(what) = e {
        return missing::signed_in(ctx, csrf, Missing::from_name(what));
    }
    let p = describe_library(e);
    p.decorate(signed_in_problem(ctx, csrf, Some(Section::Library), &p))
}
