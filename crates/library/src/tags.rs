//! Reading one audio file's tags and stream facts with lofty. Runs on a blocking thread under
//! `catch_unwind` (see `scan.rs`), with lofty's allocation limit bounding what a hostile tag can
//! make us allocate.

use std::fs::File;
use std::path::Path;

use lofty::config::{ParseOptions, ParsingMode};
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::mp4::{Mp4Codec, Mp4File};
use lofty::picture::PictureType;
use lofty::prelude::{Accessor, ItemKey};
use lofty::probe::Probe;
use lofty::tag::Tag;

/// Audio file extensions the scanner looks at (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "flac", "m4a", "m4b", "mp4", "ogg", "oga", "opus", "wav", "aif", "aiff", "aifc",
];

/// What one file says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileFacts {
    pub title: Option<String>,
    pub artists: Vec<String>,
    pub album: Option<String>,
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
    pub bitrate: Option<i64>,
    pub codec: String,
    pub format: String,
    pub embedded_cover: bool,
}

/// How hard to try: strict first, then lenient, then the stream facts without any tags.
#[derive(Clone, Copy)]
enum Attempt {
    Strict,
    Relaxed,
    NoTags,
}

fn options(read_cover_art: bool, attempt: Attempt) -> ParseOptions {
    let mut o = ParseOptions::new().read_cover_art(read_cover_art);
    match attempt {
        Attempt::Strict => o,
        Attempt::Relaxed => o.parsing_mode(ParsingMode::Relaxed),
        Attempt::NoTags => o.parsing_mode(ParsingMode::Relaxed).read_tags(false),
    }
}

/// An error with its causes: "failed to parse Mpeg file: failed to parse Id3v2 tag: …".
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Opens a file, retrying leniently when a damaged tag stops the strict parse: one bad frame
/// should not hide a playable file.
pub(crate) fn open(
    path: &Path,
    read_cover_art: bool,
) -> Result<(TaggedFile, Option<Mp4Codec>), String> {
    let mut first_error = None;
    for attempt in [Attempt::Strict, Attempt::Relaxed, Attempt::NoTags] {
        match open_with(path, options(read_cover_art, attempt)) {
            Ok(f) => return Ok(f),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_default())
}

fn open_with(path: &Path, opts: ParseOptions) -> Result<(TaggedFile, Option<Mp4Codec>), String> {
    let probe = Probe::open(path)
        .map_err(|e| chain(&e))?
        .options(opts)
        .guess_file_type()
        .map_err(|e| format!("cannot read file: {e}"))?;
    match probe.file_type() {
        None => Err("not a recognised audio file".into()),
        Some(FileType::Mp4) => {
            let mut f = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
            let mp4 = Mp4File::read_from(&mut f, opts).map_err(|e| chain(&e))?;
            let codec = mp4.properties().codec();
            Ok((TaggedFile::from(mp4), codec))
        }
        Some(_) => Ok((probe.read().map_err(|e| chain(&e))?, None)),
    }
}

/// Refuses, before lofty sees them, Ogg streams that declare no channels: lofty panics on them
/// after allocating some 170 MB (the panic is caught, but the memory is not worth spending).
pub(crate) fn precheck(path: &Path) -> Result<(), String> {
    use std::io::Read;
    let mut head = [0u8; 128];
    let n = File::open(path)
        .and_then(|f| f.take(128).read(&mut head))
        .map_err(|e| format!("cannot read file: {e}"))?;
    let head = &head[..n];
    if head.starts_with(b"fLaC") {
        return check_flac_blocks(path);
    }
    if !head.starts_with(b"OggS") {
        return Ok(());
    }
    let find = |magic: &[u8]| head.windows(magic.len()).position(|w| w == magic);
    let channels = match (find(b"OpusHead"), find(b"\x01vorbis")) {
        (Some(i), _) => head.get(i + 9),
        (None, Some(i)) => head.get(i + 11),
        _ => return Ok(()),
    };
    match channels {
        Some(0) => Err("the stream declares zero channels".into()),
        _ => Ok(()),
    }
}

/// Walks a FLAC file's metadata blocks and refuses one whose lengths run past its block or the
/// file: such a file is damaged, and a PICTURE block declaring gigabytes of picture data is how
/// a crafted file asks a reader to allocate them.
fn check_flac_blocks(path: &Path) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).map_err(|e| format!("cannot read file: {e}"))?;
    let size = f
        .metadata()
        .map_err(|e| format!("cannot read file: {e}"))?
        .len();
    let mut at = 4u64;
    let read_u32 = |f: &mut File| -> Result<u32, String> {
        let mut b = [0u8; 4];
        f.read_exact(&mut b)
            .map_err(|_| "a FLAC metadata block is cut short".to_owned())?;
        Ok(u32::from_be_bytes(b))
    };
    loop {
        f.seek(SeekFrom::Start(at))
            .map_err(|e| format!("cannot read file: {e}"))?;
        let header = read_u32(&mut f)?;
        let (last, kind, len) = (
            header >> 31 == 1,
            (header >> 24) & 0x7f,
            u64::from(header & 0xff_ffff),
        );
        let body = at + 4;
        if body + len > size {
            return Err(format!(
                "a FLAC metadata block (type {kind}) declares {len} bytes, more than the file holds"
            ));
        }
        if kind == 6 {
            // PICTURE: type, MIME (length-prefixed), description (length-prefixed), four sizes,
            // then the data (length-prefixed); each length must fit in what is left.
            let end = body + len;
            let mut pos = body + 4;
            for field in ["MIME type", "description"] {
                f.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
                let n = u64::from(read_u32(&mut f)?);
                pos += 4 + n;
                if pos > end {
                    return Err(format!("the FLAC picture's {field} runs past its block"));
                }
            }
            pos += 16;
            f.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
            let data = u64::from(read_u32(&mut f)?);
            if pos + 4 + data > end {
                return Err(format!(
                    "the FLAC picture block declares {data} bytes of picture data but holds {}",
                    end.saturating_sub(pos + 4)
                ));
            }
        }
        if last {
            return Ok(());
        }
        at = body + len;
    }
}

/// Reads tags, stream facts and whether there is a front cover.
pub fn read_facts(path: &Path) -> Result<FileFacts, String> {
    precheck(path)?;
    let (file, mp4_codec) = open(path, true)?;
    let props = file.properties();
    let (codec, format) = match (file.file_type(), mp4_codec) {
        (FileType::Mpeg, _) => ("mp3", "mp3"),
        (FileType::Flac, _) => ("flac", "flac"),
        (FileType::Mp4, Some(Mp4Codec::ALAC)) => ("alac", "m4a"),
        (FileType::Mp4, Some(Mp4Codec::AAC)) => ("aac", "m4a"),
        (FileType::Mp4, Some(Mp4Codec::MP3)) => ("mp3", "m4a"),
        (FileType::Mp4, Some(Mp4Codec::FLAC)) => ("flac", "m4a"),
        (FileType::Mp4, _) => ("unknown", "m4a"),
        (FileType::Vorbis, _) => ("vorbis", "ogg"),
        (FileType::Opus, _) => ("opus", "opus"),
        (FileType::Speex, _) => ("speex", "ogg"),
        (FileType::Wav, _) => ("pcm", "wav"),
        (FileType::Aiff, _) => ("pcm", "aiff"),
        (other, _) => return Err(format!("unsupported format: {other:?}")),
    };
    let duration_ms = i64::try_from(props.duration().as_millis()).unwrap_or(i64::MAX);
    if props.channels() == Some(0) {
        return Err("the stream declares zero channels".into());
    }
    let mut facts = FileFacts {
        duration_ms,
        sample_rate: props.sample_rate().map(i64::from),
        bit_depth: props.bit_depth().map(i64::from),
        channels: props.channels().map(i64::from),
        bitrate: props
            .audio_bitrate()
            .or(props.overall_bitrate())
            .map(i64::from),
        codec: codec.into(),
        format: format.into(),
        ..FileFacts::default()
    };
    // A file may carry several tags (ID3v2 and ID3v1, or RIFF INFO and ID3v2): the primary tag
    // wins and the others fill what it lacks.
    let mut tags: Vec<&Tag> = Vec::new();
    if let Some(t) = file.primary_tag() {
        tags.push(t);
    }
    for t in file.tags() {
        if !tags.iter().any(|p| std::ptr::eq(*p, t)) {
            tags.push(t);
        }
    }
    for tag in tags {
        fill(&mut facts, tag);
    }
    Ok(facts)
}

fn text(s: &str) -> Option<String> {
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.to_owned())
}

/// All values of `keys`, split on NUL (ID3v2.4's multi-value separator), trimmed, deduplicated.
fn many(tag: &Tag, keys: &[ItemKey]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        for v in tag.get_strings(*key) {
            for part in v.split('\0').filter_map(text) {
                if !out.iter().any(|o| o == &part) {
                    out.push(part);
                }
            }
        }
    }
    out
}

fn number(tag: &Tag, key: ItemKey) -> Option<i64> {
    let v = tag.get_string(key)?;
    // "3/12" style values: the part before the slash.
    v.split('/').next()?.trim().parse::<i64>().ok()
}

/// The total of a "3/12" style value.
fn total(tag: &Tag, key: ItemKey) -> Option<i64> {
    let v = tag.get_string(key)?;
    v.split_once('/')?.1.trim().parse::<i64>().ok()
}

fn fill(f: &mut FileFacts, tag: &Tag) {
    if f.title.is_none() {
        f.title = tag.title().as_deref().and_then(text);
    }
    if f.artists.is_empty() {
        let mut a = many(tag, &[ItemKey::TrackArtists]);
        if a.is_empty() {
            a = many(tag, &[ItemKey::TrackArtist]);
        }
        f.artists = a;
    }
    if f.album.is_none() {
        f.album = tag.album().as_deref().and_then(text);
    }
    if f.album_artists.is_empty() {
        f.album_artists = many(tag, &[ItemKey::AlbumArtist]);
    }
    if !f.compilation {
        f.compilation = matches!(
            tag.get_string(ItemKey::FlagCompilation).map(str::trim),
            Some("1" | "true" | "TRUE" | "True")
        );
    }
    if f.genres.is_empty() {
        f.genres = many(tag, &[ItemKey::Genre]);
    }
    f.track_no = f
        .track_no
        .or(tag.track().map(i64::from))
        .or(number(tag, ItemKey::TrackNumber));
    f.track_total = f
        .track_total
        .or(tag.track_total().map(i64::from))
        .or(number(tag, ItemKey::TrackTotal))
        .or(total(tag, ItemKey::TrackNumber));
    f.disc_no = f.disc_no.or(tag.disk().map(i64::from));
    f.disc_total = f
        .disc_total
        .or(tag.disk_total().map(i64::from))
        .or(number(tag, ItemKey::DiscTotal));
    if f.year.is_none() {
        f.year = tag.date().map(|d| i64::from(d.year)).or_else(|| {
            [ItemKey::Year, ItemKey::RecordingDate, ItemKey::ReleaseDate]
                .into_iter()
                .find_map(|k| year_of(tag.get_string(k)?))
        });
    }
    if f.composer.is_none() {
        f.composer = tag.get_string(ItemKey::Composer).and_then(text);
    }
    if f.comment.is_none() {
        f.comment = tag
            .comment()
            .as_deref()
            .and_then(text)
            .or_else(|| tag.get_string(ItemKey::Description).and_then(text));
    }
    if f.isrc.is_none() {
        f.isrc = tag.get_string(ItemKey::Isrc).and_then(text);
    }
    if !f.embedded_cover {
        f.embedded_cover = !tag.pictures().is_empty();
    }
}

fn year_of(s: &str) -> Option<i64> {
    let digits: String = s.trim().chars().take(4).collect();
    (digits.len() == 4).then(|| digits.parse().ok()).flatten()
}

/// The embedded front cover (or else the first picture): bytes and MIME type.
pub fn embedded_cover(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let (file, _) = open(path, true)?;
    let mut best: Option<&lofty::picture::Picture> = None;
    for tag in file.tags() {
        for p in tag.pictures() {
            if p.pic_type() == PictureType::CoverFront {
                best = Some(p);
                break;
            }
            best = best.or(Some(p));
        }
    }
    // The type a tag declares is never trusted: the bytes decide (`sniff_image`).
    Ok(best.map(|p| p.data().to_vec()))
}

/// The MIME type of picture bytes by their signature: JPEG, PNG, GIF or WebP, the only pictures
/// Clef ever sends. Anything else (HTML, SVG, script, whatever a tag calls it) is `None`, so it
/// is never served and can never run as content of Clef's own origin.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FLAC head: STREAMINFO, then a last PICTURE block whose data length field says `declared`
    /// while two bytes follow.
    fn flac_with_picture(declared: u32) -> Vec<u8> {
        let mut picture = Vec::new();
        picture.extend_from_slice(&3u32.to_be_bytes());
        picture.extend_from_slice(&10u32.to_be_bytes());
        picture.extend_from_slice(b"image/jpeg");
        picture.extend_from_slice(&0u32.to_be_bytes());
        picture.extend_from_slice(&[0u8; 16]);
        picture.extend_from_slice(&declared.to_be_bytes());
        picture.extend_from_slice(&[0xff, 0xd8]);
        let mut f = b"fLaC".to_vec();
        f.extend_from_slice(&34u32.to_be_bytes());
        f.extend_from_slice(&[0u8; 34]);
        let header = (1u32 << 31) | (6 << 24) | picture.len() as u32;
        f.extend_from_slice(&header.to_be_bytes());
        f.extend_from_slice(&picture);
        f
    }

    #[test]
    fn a_flac_picture_declaring_more_than_it_holds_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.flac");
        std::fs::write(&bad, flac_with_picture(0xFFFF_FFF0)).unwrap();
        assert_eq!(
            precheck(&bad).unwrap_err(),
            "the FLAC picture block declares 4294967280 bytes of picture data but holds 2"
        );
        let good = dir.path().join("good.flac");
        std::fs::write(&good, flac_with_picture(2)).unwrap();
        assert_eq!(precheck(&good), Ok(()));
        let mut cut = flac_with_picture(2);
        cut.truncate(50);
        let cut_path = dir.path().join("cut.flac");
        std::fs::write(&cut_path, cut).unwrap();
        assert!(precheck(&cut_path)
            .unwrap_err()
            .contains("more than the file holds"));
    }
}
