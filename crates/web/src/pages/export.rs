//! The Export page ("download to keep"): pick a playlist or an album, tick its songs, choose a
//! format, quality, folder and file-name pattern, and start; the export's own page then shows its
//! progress (see `converted`).
//!
//! The form is a plain POST that works without script; `/static/export.js` adds tick all/none,
//! shows only the chosen format's settings and picks the source as soon as it is selected.

use std::collections::HashSet;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_export::{ExportError, ExportRequest, ExportSettings};
use clef_http::{AppState, ClientIp};
use clef_library::{AlbumSort, LibraryError, Selection, TrackView};
use maud::{html, Markup};
use serde::Deserialize;

use crate::assets::EXPORT_SCRIPT_URL;
use crate::auth::{self, WebAuth};
use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{describe_export, describe_library, Problem};
use crate::format::duration;
use crate::layout::{csrf_field, Extras, Flash, Section};
use crate::pages::{signed_in_page_with, signed_in_problem};
use crate::reply;

/// The file-name pattern offered at first.
pub const DEFAULT_PATTERN: &str = clef_export::naming::DEFAULT_PATTERN;

/// MP3 qualities: constant bit rates and VBR levels, as the select offers them.
const MP3_QUALITIES: &[(&str, &str)] = &[
    ("cbr:320", "320 kbps (CBR)"),
    ("cbr:256", "256 kbps (CBR)"),
    ("cbr:224", "224 kbps (CBR)"),
    ("cbr:192", "192 kbps (CBR)"),
    ("cbr:160", "160 kbps (CBR)"),
    ("cbr:128", "128 kbps (CBR)"),
    ("vbr:0", "VBR V0 (best, about 245 kbps)"),
    ("vbr:1", "VBR V1 (about 225 kbps)"),
    ("vbr:2", "VBR V2 (about 190 kbps)"),
    ("vbr:3", "VBR V3 (about 175 kbps)"),
    ("vbr:4", "VBR V4 (about 165 kbps)"),
];

const AAC_QUALITIES: &[(&str, &str)] = &[
    ("320", "320 kbps"),
    ("256", "256 kbps (as the big stores sell)"),
    ("224", "224 kbps"),
    ("192", "192 kbps"),
    ("160", "160 kbps"),
    ("128", "128 kbps"),
    ("96", "96 kbps"),
];

/// Where the songs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    None,
    Album(String),
    Playlist(String),
}

impl Source {
    /// `album:ID` or `playlist:ID`, as the source select and the form carry it.
    fn parse(s: &str) -> Source {
        match s.split_once(':') {
            Some(("album", id)) if !id.is_empty() => Source::Album(id.to_owned()),
            Some(("playlist", id)) if !id.is_empty() => Source::Playlist(id.to_owned()),
            _ => Source::None,
        }
    }

    fn key(&self) -> String {
        match self {
            Source::None => String::new(),
            Source::Album(id) => format!("album:{id}"),
            Source::Playlist(id) => format!("playlist:{id}"),
        }
    }
}

/// What the person chose: kept when the export is refused, so nothing has to be picked again.
#[derive(Debug, Clone)]
struct Choices {
    source: Source,
    /// The ticked songs; `None` ticks them all.
    ticked: Option<HashSet<String>>,
    format: String,
    mp3: String,
    aac: String,
    compression: String,
    depth: String,
    rate: String,
    folder: String,
    pattern: String,
}

impl Choices {
    fn new(source: Source) -> Choices {
        Choices {
            source,
            ticked: None,
            format: "mp3".into(),
            mp3: "cbr:320".into(),
            aac: "256".into(),
            compression: "5".into(),
            depth: String::new(),
            rate: String::new(),
            folder: String::new(),
            pattern: DEFAULT_PATTERN.into(),
        }
    }

    fn is_ticked(&self, id: &str) -> bool {
        self.ticked.as_ref().is_none_or(|t| t.contains(id))
    }

    /// The service's settings for the chosen format (fields of other formats are ignored, as
    /// the page without script shows them all).
    fn settings(&self) -> Result<ExportSettings, ExportError> {
        let bad = |m: &str| ExportError::BadSettings(m.to_owned());
        let mut s = ExportSettings {
            format: self.format.clone(),
            bitrate: None,
            vbr: None,
            bit_depth: None,
            sample_rate: None,
            compression: None,
        };
        let lossless = matches!(self.format.as_str(), "flac" | "alac" | "wav" | "aiff");
        if self.format == "aac" {
            s.bitrate = Some(self.aac.parse().map_err(|_| bad("choose an AAC bitrate"))?);
        }
        if self.format == "mp3" {
            match self.mp3.split_once(':') {
                Some(("cbr", k)) => {
                    s.bitrate = Some(k.parse().map_err(|_| bad("choose an MP3 quality"))?)
                }
                Some(("vbr", q)) => {
                    s.vbr = Some(q.parse().map_err(|_| bad("choose an MP3 quality"))?)
                }
                _ => return Err(bad("choose an MP3 quality")),
            }
        }
        if self.format == "flac" {
            s.compression = Some(
                self.compression
                    .parse()
                    .map_err(|_| bad("choose a FLAC compression level from 0 to 8"))?,
            );
        }
        if lossless && !self.depth.is_empty() {
            s.bit_depth = Some(self.depth.parse().map_err(|_| bad("choose a bit depth"))?);
        }
        if lossless && !self.rate.is_empty() {
            s.sample_rate = Some(self.rate.parse().map_err(|_| bad("choose a sample rate"))?);
        }
        Ok(s)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    source: Option<String>,
    album: Option<String>,
    playlist: Option<String>,
}

/// The posted export form, as pairs: the ticked songs repeat the `track` field.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct ExportForm(Vec<(String, String)>);

impl ExportForm {
    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn choices(&self) -> Choices {
        Choices {
            source: Source::parse(self.get("source")),
            ticked: Some(self.all("track").into_iter().collect()),
            format: self.get("format").trim().to_ascii_lowercase(),
            mp3: self.get("mp3").to_owned(),
            aac: self.get("aac").to_owned(),
            compression: self.get("compression").to_owned(),
            depth: self.get("bit_depth").to_owned(),
            rate: self.get("sample_rate").to_owned(),
            folder: self.get("folder").to_owned(),
            pattern: self.get("pattern").to_owned(),
        }
    }
}

impl HasCsrf for ExportForm {
    fn csrf(&self) -> &str {
        self.get("csrf")
    }
}

/// The songs of the chosen source with its name, or the problem to show.
async fn songs_of(
    st: &AppState,
    ctx: &AuthContext,
    source: &Source,
) -> Result<Option<(String, Vec<TrackView>)>, Problem> {
    let picked = match source {
        Source::None => return Ok(None),
        Source::Album(id) => Selection::Album(id.clone()),
        Source::Playlist(id) => Selection::Playlist(id.clone()),
    };
    match st.library.selection(&ctx.user.id, &picked).await {
        Ok(p) => Ok(Some((p.name, p.songs))),
        Err(LibraryError::NotFound("album")) => {
            Err(Problem::new(StatusCode::NOT_FOUND, "No such album."))
        }
        Err(e) => Err(describe_library(&e)),
    }
}

/// The tabs of the export pages.
pub(crate) fn tabs(current: &str) -> Markup {
    let link = |href: &str, label: &str| {
        let here = current == label;
        html! {
            a href=(href) class=[here.then_some("current")] aria-current=[here.then_some("page")] { (label) }
        }
    };
    html! {
        div.subnav {
            nav aria-label="Export" {
                (link("/export", "New export"))
                (link("/export/history", "Converted"))
            }
        }
    }
}

/// An export page: the Export section with the export script.
pub(crate) fn export_page(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    title: &str,
    flash: Option<Flash>,
    content: Markup,
    refresh_secs: Option<u32>,
) -> Response {
    let extras = Extras {
        player: None,
        refresh_secs,
        script: Some(EXPORT_SCRIPT_URL.as_str()),
    };
    signed_in_page_with(
        ctx,
        csrf,
        Section::Export,
        status,
        title,
        flash,
        content,
        &extras,
    )
}

fn source_picker(st: &AppState, playlists: &[(String, String)], current: &Source) -> Markup {
    let (_, albums) = st
        .library
        .catalog()
        .albums(AlbumSort::Artist, None, 0, usize::MAX);
    let key = current.key();
    html! {
        form.row #export-source method="get" action="/export" {
            div.field {
                label for="source" { "Playlist or album" }
                select #source name="source" data-autosubmit {
                    option value="" { "Choose…" }
                    @if !playlists.is_empty() {
                        optgroup label="Your playlists" {
                            @for (id, name) in playlists {
                                @let v = format!("playlist:{id}");
                                option value=(v) selected[v == key] { (name) }
                            }
                        }
                    }
                    optgroup label="Albums" {
                        @for a in &albums {
                            @let v = format!("album:{}", a.id);
                            option value=(v) selected[v == key] { (a.artist) " — " (a.name) }
                        }
                    }
                }
            }
            button.nojs-only type="submit" { "Show songs" }
        }
    }
}

fn settings_panel(c: &Choices) -> Markup {
    let formats = [
        ("mp3", "MP3"),
        ("aac", "AAC (.m4a)"),
        ("flac", "FLAC"),
        ("alac", "ALAC (.m4a, Apple Lossless)"),
        ("wav", "WAV"),
        ("aiff", "AIFF"),
    ];
    html! {
        fieldset.settings #export-settings {
            legend { "Format and quality" }
            div.field {
                label for="format" { "Format" }
                select #format name="format" {
                    @for (v, label) in formats {
                        option value=(v) selected[c.format == v] { (label) }
                    }
                }
            }
            div.field data-for="mp3" {
                label for="mp3" { "MP3 quality" }
                select #mp3 name="mp3" {
                    @for (v, label) in MP3_QUALITIES {
                        option value=(v) selected[c.mp3 == *v] { (label) }
                    }
                }
            }
            div.field data-for="aac" {
                label for="aac" { "AAC quality" }
                select #aac name="aac" {
                    @for (v, label) in AAC_QUALITIES {
                        option value=(v) selected[c.aac == *v] { (label) }
                    }
                }
            }
            div.field data-for="flac" {
                label for="compression" { "FLAC compression" }
                select #compression name="compression" {
                    @for level in 0..=8 {
                        @let v = level.to_string();
                        option value=(v) selected[c.compression == v] {
                            (level)
                            @if level == 0 { " (fastest)" }
                            @if level == 5 { " (default)" }
                            @if level == 8 { " (smallest)" }
                        }
                    }
                }
            }
            div.field data-for="flac alac wav aiff" {
                label for="bit_depth" { "Bit depth" }
                select #bit_depth name="bit_depth" {
                    option value="" selected[c.depth.is_empty()] { "Same as source" }
                    option value="16" selected[c.depth == "16"] { "16-bit" }
                    option value="24" selected[c.depth == "24"] { "24-bit" }
                }
            }
            div.field data-for="flac alac wav aiff" {
                label for="sample_rate" { "Sample rate" }
                select #sample_rate name="sample_rate" {
                    option value="" selected[c.rate.is_empty()] { "Same as source" }
                    @for (hz, label) in [("44100", "44.1 kHz (CD)"), ("48000", "48 kHz"), ("96000", "96 kHz")] {
                        option value=(hz) selected[c.rate == hz] { (label) }
                    }
                }
            }
            p.hint.nojs-only { "MP3 and AAC quality apply to their formats; compression to FLAC; bit depth and sample rate to FLAC, ALAC, WAV and AIFF." }
        }
    }
}

fn output_panel(st: &AppState, ctx: &AuthContext, c: &Choices) -> Markup {
    let view = st.exports.view(&ctx.user);
    let own = clef_export::folders::user_folder_name(&ctx.user.username);
    html! {
        fieldset.settings #export-output {
            legend { "Where to save" }
            div.field {
                label for="folder" { "Folder" }
                input #folder type="text" name="folder" value=(c.folder) maxlength="500" placeholder="for example Car";
                p.hint #export-roots {
                    "Inside your own export folder"
                    @if view.is_admin() {
                        " "
                        code { (st.exports.roots().first().map(|r| r.join(&own).display().to_string()).unwrap_or_default()) }
                    } @else {
                        " on the server"
                    }
                    "; empty saves straight into it."
                }
            }
            div.field {
                label for="pattern" { "File names" }
                input #pattern type="text" name="pattern" value=(c.pattern) maxlength="500";
                p.hint #pattern-help {
                    "Fields: " code { "{title}" } ", " code { "{artist}" } ", " code { "{album}" } ", "
                    code { "{album_artist}" } ", " code { "{track}" } " (" code { "{track:02}" } " pads to two digits), "
                    code { "{disc}" } ", " code { "{year}" } ", " code { "{genre}" } ". "
                    code { "/" } " makes folders; the extension is added."
                }
            }
        }
    }
}

fn songs_table(tracks: &[TrackView], c: &Choices) -> Markup {
    html! {
        div.tick-all.js-only {
            button #tick-all .subtle type="button" { "Tick all" }
            button #tick-none .subtle type="button" { "Tick none" }
        }
        div.table-wrap {
            table #export-songs .export-songs {
                thead { tr { th.no { "Export" } th { "Title" } th { "Artist" } th.dur { "Length" } } }
                tbody {
                    @for (i, t) in tracks.iter().enumerate() {
                        @let box_id = format!("track-{i}");
                        tr data-track-id=(t.id) {
                            td.no {
                                input id=(box_id) type="checkbox" name="track" value=(t.id) checked[c.is_ticked(&t.id)];
                            }
                            td { label for=(box_id) { (t.title) } }
                            td { (t.artists.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")) }
                            td.dur { (duration(t.duration_ms)) }
                        }
                    }
                }
            }
        }
    }
}

/// The Export page with the person's choices and, after a refused POST, what went wrong.
async fn render(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    c: &Choices,
    problem: Option<&Problem>,
) -> Response {
    // A root that cannot take files is said at once, instead of a form that would fail.
    if let Err(e) = st.exports.check(&ctx.user) {
        let p = describe_export(&e);
        let body = html! {
            (tabs("New export"))
            h1 { "Export" }
            p.flash.error #export-unavailable role="alert" { (p.message) }
        };
        // After a refused start the answer says so; the page on its own is fine to show.
        let status = problem.map_or(StatusCode::OK, |_| p.status);
        return export_page(ctx, csrf, status, "Export", None, body, None);
    }
    let playlists: Vec<(String, String)> = match st.library.playlists(&ctx.user.id).await {
        Ok(l) => l.into_iter().map(|p| (p.id, p.name)).collect(),
        Err(e) => {
            return signed_in_problem(ctx, csrf, Some(Section::Export), &describe_library(&e))
        }
    };
    let songs = match songs_of(st, ctx, &c.source).await {
        Ok(s) => s,
        Err(p) => return signed_in_problem(ctx, csrf, Some(Section::Export), &p),
    };
    let body = html! {
        (tabs("New export"))
        h1 { "Export" }
        p.lead { "Convert songs into files to keep: for a car stereo, a USB stick or a player without a network." }
        (source_picker(st, &playlists, &c.source))
        @if let Some((name, tracks)) = &songs {
            form.export #export-form method="post" action="/export" {
                (csrf_field(csrf.value()))
                input type="hidden" name="source" value=(c.source.key());
                h2 #export-title { (name) }
                @if let Some(p) = problem {
                    p.flash.error #export-error role="alert" { (p.message) }
                }
                @if tracks.is_empty() {
                    p.empty { "This playlist has no songs." }
                } @else {
                    (songs_table(tracks, c))
                }
                div.panels {
                    (settings_panel(c))
                    (output_panel(st, ctx, c))
                }
                div.form-actions {
                    button.primary #start-export type="submit" { "Start export" }
                }
            }
        } @else {
            @if let Some(p) = problem {
                p.flash.error #export-error role="alert" { (p.message) }
            }
            p.empty #choose-source { "Choose one of your playlists or an album to see its songs." }
        }
    };
    let status = problem.map_or(StatusCode::OK, |p| p.status);
    export_page(ctx, csrf, status, "Export", None, body, None)
}

/// `GET /export`: the form, for `?album=ID`, `?playlist=ID` or `?source=album:ID`.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<ExportQuery>,
) -> Response {
    let source = match (q.album, q.playlist, q.source) {
        (Some(id), _, _) if !id.is_empty() => Source::Album(id),
        (_, Some(id), _) if !id.is_empty() => Source::Playlist(id),
        (_, _, Some(s)) => Source::parse(&s),
        _ => Source::None,
    };
    render(&st, &ctx, &csrf, &Choices::new(source), None).await
}

/// `POST /export`: starts the export and goes to its page, or shows the form again with what
/// went wrong and every choice kept.
pub async fn start(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<ExportForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let c = form.choices();
    let title = match songs_of(&st, &ctx, &c.source).await {
        Ok(Some((name, _))) => name,
        Ok(None) => {
            let p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a playlist or an album first.",
            );
            return render(&st, &ctx, &csrf, &c, Some(&p)).await;
        }
        Err(p) => return signed_in_problem(&ctx, &csrf, Some(Section::Export), &p),
    };
    let request = c.settings().map(|settings| ExportRequest {
        title,
        track_ids: form.all("track"),
        settings,
        folder: c.folder.trim().to_owned(),
        pattern: Some(c.pattern.clone()),
    });
    let started = match request {
        Ok(r) => st.exports.start(&ctx.user.id, r).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(job) => reply::see_other(&format!("/export/{}", job.id)),
        Err(e) => {
            let p = describe_export(&e);
            let res = render(&st, &ctx, &csrf, &c, Some(&p)).await;
            p.decorate(res)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> ExportForm {
        ExportForm(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn sources_read_back_what_they_write() {
        for s in [Source::Album("a1".into()), Source::Playlist("p1".into())] {
            assert_eq!(Source::parse(&s.key()), s);
        }
        assert_eq!(Source::parse("album:"), Source::None);
        assert_eq!(Source::parse("artist:x"), Source::None);
    }

    #[test]
    fn only_the_chosen_formats_settings_are_sent() {
        let f = form(&[
            ("format", "mp3"),
            ("mp3", "vbr:2"),
            ("compression", "8"),
            ("bit_depth", "24"),
            ("track", "a"),
            ("track", "c"),
        ]);
        let s = f.choices().settings().unwrap();
        assert_eq!(
            (s.vbr, s.bitrate, s.compression, s.bit_depth),
            (Some(2), None, None, None)
        );
        assert_eq!(f.all("track"), ["a", "c"]);
        let s = form(&[
            ("format", "flac"),
            ("mp3", "cbr:320"),
            ("compression", "8"),
            ("bit_depth", ""),
        ])
        .choices()
        .settings()
        .unwrap();
        assert_eq!(
            (s.bitrate, s.compression, s.bit_depth),
            (None, Some(8), None)
        );
        let s = form(&[
            ("format", "wav"),
            ("bit_depth", "16"),
            ("sample_rate", "48000"),
            ("compression", "3"),
        ])
        .choices()
        .settings()
        .unwrap();
        assert_eq!(s.sample_rate, Some(48_000));
        let mp3 = form(&[
            ("format", "mp3"),
            ("mp3", "cbr:320"),
            ("sample_rate", "48000"),
        ]);
        assert_eq!(mp3.choices().settings().unwrap().sample_rate, None);
        assert_eq!((s.compression, s.bit_depth), (None, Some(16)));
        let aac = form(&[
            ("format", "aac"),
            ("aac", "192"),
            ("mp3", "cbr:320"),
            ("bit_depth", "24"),
        ])
        .choices()
        .settings()
        .unwrap();
        assert_eq!((aac.bitrate, aac.bit_depth), (Some(192), None));
        let alac = form(&[
            ("format", "alac"),
            ("bit_depth", "24"),
            ("sample_rate", "48000"),
            ("aac", "192"),
        ])
        .choices()
        .settings()
        .unwrap();
        assert_eq!(
            (alac.bitrate, alac.bit_depth, alac.sample_rate),
            (None, Some(24), Some(48_000))
        );
        assert!(form(&[("format", "mp3"), ("mp3", "loud")])
            .choices()
            .settings()
            .is_err());
    }
}
