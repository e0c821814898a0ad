//! The protocol's shapes for one song, album or artist, built from catalog views. Every answer
//! that shows a song shows it through [`song`], so all methods agree on its fields.

use clef_library::{AlbumView, ArtistRef, ArtistView, Catalog, TrackView};

use crate::ids;
use crate::response::Element;

/// A song as a `Child` (named `song`; a list renames it `child` or `entry`), with the OpenSubsonic
/// fields. Fields OpenSubsonic adds are always present, empty when unknown, so clients can tell
/// what the server supports. `path` is made up for display: never the file's real path.
pub fn song(catalog: &Catalog, t: &TrackView) -> Element {
    let album = catalog.album_view(&t.album_id);
    let album_artists: &[ArtistRef] = album.map_or(&[], |a| a.artists.as_slice());
    let display_artist = names(&t.artists);
    let suffix = suffix(&t.format);
    Element::new("song")
        .attr("id", t.id.as_str())
        .attr("parent", t.album_id.as_str())
        .attr("isDir", false)
        .attr("title", t.title.as_str())
        .attr("album", t.album.as_str())
        .attr("artist", display_artist.as_str())
        .opt("track", t.track_no)
        .opt("year", t.year)
        .opt("genre", t.genres.first())
        .opt("coverArt", ids::track_cover_art(catalog, t))
        .attr("size", t.size)
        .attr("contentType", content_type(&t.format))
        .attr("suffix", suffix)
        .attr("duration", seconds(t.duration_ms))
        .opt("bitRate", t.bitrate)
        .attr("bitDepth", t.bit_depth.unwrap_or(0))
        .attr("samplingRate", t.sample_rate.unwrap_or(0))
        .attr("channelCount", t.channels.unwrap_or(0))
        .attr("path", display_path(t, suffix))
        .attr("isVideo", false)
        .opt("discNumber", t.disc_no)
        .attr("created", iso8601(t.added_at))
        .attr("albumId", t.album_id.as_str())
        .opt("artistId", t.artists.first().map(|a| a.id.as_str()))
        .attr("type", "music")
        .attr("mediaType", "song")
        .attr("comment", t.comment.as_deref().unwrap_or(""))
        .attr("displayComposer", t.composer.as_deref().unwrap_or(""))
        .attr("displayArtist", display_artist)
        .attr("displayAlbumArtist", t.album_artist.as_str())
        .values("isrc", t.isrc.iter().map(String::as_str))
        .list("genres", genre_items(&t.genres))
        .list("artists", artist_refs(&t.artists))
        .list("albumArtists", artist_refs(album_artists))
}

/// An album as `AlbumID3` (named `album`), with the OpenSubsonic fields.
pub fn album_id3(a: &AlbumView) -> Element {
    Element::new("album")
        .attr("id", a.id.as_str())
        .attr("name", a.name.as_str())
        .attr("artist", a.artist.as_str())
        .opt("artistId", a.artists.first().map(|r| r.id.as_str()))
        .opt("coverArt", ids::album_cover_art(a))
        .attr("songCount", a.track_count)
        .attr("duration", seconds(a.duration_ms))
        .attr("created", iso8601(a.added_at))
        .opt("year", a.year)
        .opt("genre", a.genres.first())
        .attr("displayArtist", a.artist.as_str())
        .attr("isCompilation", a.compilation)
        .list("genres", genre_items(&a.genres))
        .list("artists", artist_refs(&a.artists))
}

/// An album as a folder `Child` (`isDir`), for the folder-based methods; `parent` is the artist
/// folder it is listed in.
pub fn album_dir(a: &AlbumView, parent: Option<&str>) -> Element {
    Element::new("album")
        .attr("id", a.id.as_str())
        .opt(
            "parent",
            parent.or_else(|| a.artists.first().map(|r| r.id.as_str())),
        )
        .attr("isDir", true)
        .attr("title", a.name.as_str())
        .attr("name", a.name.as_str())
        .attr("album", a.name.as_str())
        .attr("artist", a.artist.as_str())
        .opt("artistId", a.artists.first().map(|r| r.id.as_str()))
        .opt("year", a.year)
        .opt("genre", a.genres.first())
        .opt("coverArt", ids::album_cover_art(a))
        .attr("songCount", a.track_count)
        .attr("duration", seconds(a.duration_ms))
        .attr("created", iso8601(a.added_at))
        .attr("mediaType", "album")
}

/// An artist as `ArtistID3` (named `artist`).
pub fn artist_id3(catalog: &Catalog, a: &ArtistView) -> Element {
    Element::new("artist")
        .attr("id", a.id.as_str())
        .attr("name", a.name.as_str())
        .opt("coverArt", ids::artist_cover_art(catalog, &a.id))
        .attr("albumCount", a.album_count)
}

/// An artist as the folder-based `Artist` (named `artist`).
pub fn artist(a: &ArtistView) -> Element {
    Element::new("artist")
        .attr("id", a.id.as_str())
        .attr("name", a.name.as_str())
}

fn genre_items(genres: &[String]) -> Vec<Element> {
    genres
        .iter()
        .map(|g| Element::new("genre").attr("name", g.as_str()))
        .collect()
}

fn artist_refs(refs: &[ArtistRef]) -> Vec<Element> {
    refs.iter()
        .map(|r| {
            Element::new("artist")
                .attr("id", r.id.as_str())
                .attr("name", r.name.as_str())
        })
        .collect()
}

fn names(refs: &[ArtistRef]) -> String {
    let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
    names.join(", ")
}

/// Whole seconds, rounded.
pub fn seconds(ms: i64) -> i64 {
    (ms.max(0) + 500) / 1000
}

/// ISO 8601 in UTC with milliseconds, as the first Subsonic server wrote dates:
/// `2021-07-22T02:09:31.000Z`.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The media type of a file of this container (as the REST API and the stream say it).
pub use clef_http::play::content_type;

/// The file suffix clients show and use to pick a player: the container's usual extension.
pub fn suffix(format: &str) -> &'static str {
    match format {
        "mp3" => "mp3",
        "flac" => "flac",
        "m4a" => "m4a",
        "ogg" => "ogg",
        "opus" => "opus",
        "wav" => "wav",
        "aiff" => "aiff",
        _ => "bin",
    }
}

/// `Album Artist/Album/NN - Title.ext` (`D-NN` on albums of several discs): a path for clients
/// that show or sort by one, made from tags so the real file path never leaves the server.
pub fn display_path(t: &TrackView, suffix: &str) -> String {
    let several_discs = t.disc_total.unwrap_or(1) > 1 || t.disc_no.unwrap_or(1) > 1;
    let number = match (t.track_no, t.disc_no) {
        (Some(n), Some(d)) if several_discs => format!("{d}-{n:02} - "),
        (Some(n), _) => format!("{n:02} - "),
        (None, _) => String::new(),
    };
    format!(
        "{}/{}/{number}{}.{suffix}",
        path_part(&t.album_artist),
        path_part(&t.album),
        path_part(&t.title)
    )
}

/// A tag made safe as one path component.
fn path_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim();
    match trimmed {
        "" | "." | ".." => "_".to_owned(),
        t => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_and_dates_are_utc_iso8601() {
        assert_eq!(seconds(0), 0);
        assert_eq!(seconds(1499), 1);
        assert_eq!(seconds(1500), 2);
        assert_eq!(seconds(-5), 0);
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_626_919_771_123), "2021-07-22T02:09:31.123Z");
    }

    #[test]
    fn content_types_and_suffixes() {
        for (format, ct, sfx) in [
            ("mp3", "audio/mpeg", "mp3"),
            ("flac", "audio/flac", "flac"),
            ("m4a", "audio/mp4", "m4a"),
            ("ogg", "audio/ogg", "ogg"),
            ("opus", "audio/ogg", "opus"),
            ("wav", "audio/wav", "wav"),
            ("aiff", "audio/aiff", "aiff"),
        ] {
            assert_eq!(content_type(format), ct);
            assert_eq!(suffix(format), sfx);
        }
    }

    #[test]
    fn display_paths_are_made_from_tags() {
        assert_eq!(path_part("AC/DC"), "AC_DC");
        assert_eq!(path_part(".."), "_");
        assert_eq!(path_part(" a\nb "), "a b");
    }
}
