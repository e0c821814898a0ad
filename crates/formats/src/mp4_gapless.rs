//! The exact length of AAC in MP4, which Symphonia does not apply: the encoder's priming at the
//! start and its padding at the end, read from the audio track's edit list (`edts/elst`) or,
//! without one, from iTunes' `iTunSMPB` tag.
//!
//! Only the boxes on the way are read (`moov` and the few inside it that matter), each with a
//! bounded read; a file that is not what it claims gives no information rather than an error,
//! and is decoded untrimmed.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::mp4_box::{Children, Mp4Box};

/// The frames of a decoded track to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// The `tkhd` id of the track this applies to.
    pub track_id: u32,
    /// Frames to drop at the start (the encoder's priming).
    pub skip: u64,
    /// Frames to keep after them, when known; the rest is padding.
    pub keep: Option<u64>,
}

/// What the first audio track says about itself.
struct Track {
    id: u32,
    media: Media,
    /// The first non-empty edit: segment duration (movie timescale), media time.
    edit: Option<(u64, u64)>,
}

/// A sound track's `mdia`.
struct Media {
    /// `mdhd`: the media timescale and the duration in it.
    timescale: u64,
    duration: Option<u64>,
    /// The first sample entry's type in `stsd`.
    format: [u8; 4],
}

/// The trim of an AAC track in an `.m4a`, `.m4b` or `.mp4` file decoded at `sample_rate`, or
/// `None` for any other file, an ALAC track, or a file without (readable) gapless information.
pub fn read(path: &Path, sample_rate: u32) -> Option<Trim> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !["m4a", "m4b", "mp4"].contains(&ext.as_str()) {
        return None;
    }
    let mut file = File::open(path).ok()?;
    read_from(&mut file, u64::from(sample_rate)).ok().flatten()
}

/// The trim of the file read from `file` (any seekable bytes), decoded at `rate` frames a
/// second; an error or `None` for anything that is not an MP4 with gapless information.
pub fn read_from<R: Read + Seek>(file: &mut R, rate: u64) -> io::Result<Option<Trim>> {
    let len = file.seek(SeekFrom::End(0))?;
    let Some(moov) = Children::new(0, len).find(file, b"moov")? else {
        return Ok(None);
    };
    let (mut movie_timescale, mut track, mut udta) = (None, None, None);
    let mut boxes = moov.children(0);
    while let Some(child) = boxes.next(file)? {
        match &child.kind {
            b"mvhd" => movie_timescale = Some(timescale_duration(&child.read_body(file, 32)?)?.0),
            b"trak" if track.is_none() => track = read_track(file, &child)?,
            b"udta" => udta = Some(child),
            _ => {}
        }
    }
    let Some(Track { id, media, edit }) = track.filter(|t| &t.media.format == b"mp4a") else {
        return Ok(None);
    };
    // Media time to frames: the media timescale is normally the sample rate already.
    let rate = if rate == 0 { media.timescale } else { rate };
    let frames = |t: u64| scale(t, rate, media.timescale);
    // An edit never reaches past the media: skip and keep are cut to its length when known.
    let length = media.duration.map(frames);
    let within = |skip: u64, keep: Option<u64>| {
        let skip = length.map_or(skip, |l| skip.min(l));
        let room = length.map(|l| l - skip);
        Trim {
            track_id: id,
            skip,
            keep: match (keep, room) {
                (Some(k), Some(r)) => Some(k.min(r)),
                (k, r) => k.or(r),
            },
        }
    };
    if let (Some((segment, media_time)), Some(movie)) = (edit, movie_timescale) {
        if media.duration.is_some_and(|d| media_time > d) {
            // An edit starting after the media ends says nothing we can use.
            return Ok(None);
        }
        let left = media.duration.map(|d| d.saturating_sub(media_time));
        let keep = edit_length(segment, movie, media.timescale, left);
        let skip = frames(media_time);
        // Counted from the start, so that the two roundings cannot add a frame.
        let keep = keep.map(|k| frames(media_time.saturating_add(k)).saturating_sub(skip));
        return Ok(Some(within(skip, keep)));
    }
    let Some(udta) = udta else {
        return Ok(None);
    };
    let Some((priming, padding, total)) = itunsmpb(file, &udta)? else {
        return Ok(None);
    };
    let keep = match total {
        0 => media
            .duration
            .map(|d| frames(d).saturating_sub(priming + padding)),
        total => Some(total),
    };
    // The tag's total is kept as it is: more than the media holds is how a cut file shows.
    Ok(Some(Trim {
        track_id: id,
        skip: priming,
        keep,
    }))
}

/// The media time an edit keeps. Its `segment` is counted in the movie timescale, often a
/// coarse one (ffmpeg writes milliseconds, rounded either way), whereas the media's duration
/// after the edit's start, `left`, is exact when the last packet's duration excludes the padding
/// (ffmpeg's and Apple's encoders): within a tick of the movie timescale, the edit runs to the
/// end of the media and `left` is the length. A segment of 0 also means the rest of the media.
fn edit_length(segment: u64, movie: u64, media: u64, left: Option<u64>) -> Option<u64> {
    let Some(left) = left else {
        return (segment > 0).then(|| scale(segment, media, movie));
    };
    if segment == 0 {
        return Some(left);
    }
    let tick = media.div_ceil(movie);
    let segment = scale(segment, media, movie);
    Some(if segment.abs_diff(left) <= tick {
        left
    } else {
        segment.min(left)
    })
}

/// `t` in units of `1/from` seconds, counted in units of `1/to`, rounded to the nearest.
fn scale(t: u64, to: u64, from: u64) -> u64 {
    if to == from {
        return t;
    }
    let scaled = (u128::from(t) * u128::from(to) + u128::from(from / 2)) / u128::from(from);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

fn malformed() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "malformed MP4 box")
}

fn be32(data: &[u8], at: usize) -> io::Result<u32> {
    let bytes = data.get(at..at + 4).ok_or_else(malformed)?;
    Ok(u32::from_be_bytes(
        bytes.try_into().map_err(|_| malformed())?,
    ))
}

fn be64(data: &[u8], at: usize) -> io::Result<u64> {
    Ok(u64::from(be32(data, at)?) << 32 | u64::from(be32(data, at + 4)?))
}

/// Timescale and duration of an `mvhd` or `mdhd` body (a duration of all ones is unknown).
fn timescale_duration(body: &[u8]) -> io::Result<(u64, Option<u64>)> {
    let (timescale, duration) = match body.first() {
        Some(0) => (be32(body, 12)?, u64::from(be32(body, 16)?)),
        Some(1) => (be32(body, 20)?, be64(body, 24)?),
        _ => return Err(malformed()),
    };
    if timescale == 0 {
        return Err(malformed());
    }
    let known = duration != u64::from(u32::MAX) && duration != u64::MAX;
    Ok((u64::from(timescale), known.then_some(duration)))
}

/// The track in `trak`, if it is a sound track.
fn read_track<R: Read + Seek>(file: &mut R, trak: &Mp4Box) -> io::Result<Option<Track>> {
    let (mut id, mut edit, mut media) = (None, None, None);
    let mut boxes = trak.children(0);
    while let Some(child) = boxes.next(file)? {
        match &child.kind {
            b"tkhd" => {
                let body = child.read_body(file, 24)?;
                id = Some(be32(&body, if body.first() == Some(&1) { 20 } else { 12 })?);
            }
            b"edts" => {
                if let Some(elst) = child.children(0).find(file, b"elst")? {
                    edit = first_edit(&elst.read_body(file, 8 + 20 * 64)?)?;
                }
            }
            b"mdia" => media = read_media(file, &child)?,
            _ => {}
        }
    }
    let (Some(id), Some(media)) = (id, media) else {
        return Ok(None);
    };
    Ok(Some(Track { id, media, edit }))
}

/// The first edit that is not empty (media time -1), from the first entries of an `elst` body.
fn first_edit(body: &[u8]) -> io::Result<Option<(u64, u64)>> {
    let version = *body.first().ok_or_else(malformed)?;
    let count = be32(body, 4)? as usize;
    let entry = if version == 1 { 20 } else { 12 };
    for at in (8..).step_by(entry).take(count) {
        if at + entry > body.len() {
            break;
        }
        let (segment, media_time) = if version == 1 {
            (be64(body, at)?, be64(body, at + 8)? as i64)
        } else {
            (
                u64::from(be32(body, at)?),
                i64::from(be32(body, at + 4)? as i32),
            )
        };
        if media_time >= 0 {
            return Ok(Some((segment, media_time as u64)));
        }
    }
    Ok(None)
}

/// Timescale, duration and sample entry type of a sound `mdia`; `None` for other handlers.
fn read_media<R: Read + Seek>(file: &mut R, mdia: &Mp4Box) -> io::Result<Option<Media>> {
    let (mut header, mut sound, mut format) = (None, false, None);
    let mut boxes = mdia.children(0);
    while let Some(child) = boxes.next(file)? {
        match &child.kind {
            b"mdhd" => header = Some(timescale_duration(&child.read_body(file, 32)?)?),
            b"hdlr" => sound = child.read_body(file, 12)?.get(8..12) == Some(b"soun".as_slice()),
            b"minf" => format = sample_entry(file, &child)?,
            _ => {}
        }
    }
    Ok(match (header, sound, format) {
        (Some((timescale, duration)), true, Some(format)) => Some(Media {
            timescale,
            duration,
            format,
        }),
        _ => None,
    })
}

/// The type of the first sample entry in `minf/stbl/stsd`.
fn sample_entry<R: Read + Seek>(file: &mut R, minf: &Mp4Box) -> io::Result<Option<[u8; 4]>> {
    let Some(stbl) = minf.children(0).find(file, b"stbl")? else {
        return Ok(None);
    };
    let Some(stsd) = stbl.children(0).find(file, b"stsd")? else {
        return Ok(None);
    };
    // Version and flags, the entry count, then the first entry's size and type.
    let body = stsd.read_body(file, 16)?;
    Ok(body.get(12..16).map(|t| [t[0], t[1], t[2], t[3]]))
}

/// Priming, padding and total frames from `udta/meta/ilst/----` named `iTunSMPB`, whose text is
/// " 00000000 PPPPPPPP EEEEEEEE TTTTTTTTTTTTTTTT ..." in hexadecimal.
fn itunsmpb<R: Read + Seek>(file: &mut R, udta: &Mp4Box) -> io::Result<Option<(u64, u64, u64)>> {
    let Some(meta) = udta.children(0).find(file, b"meta")? else {
        return Ok(None);
    };
    // `meta` is a full box in MP4, but QuickTime writes it without version and flags.
    let head = meta.read_body(file, 8)?;
    let skip = if head.get(4..8) == Some(b"hdlr".as_slice()) {
        0
    } else {
        4
    };
    let Some(ilst) = meta.children(skip).find(file, b"ilst")? else {
        return Ok(None);
    };
    let mut items = ilst.children(0);
    while let Some(item) = items.next(file)? {
        if &item.kind != b"----" {
            continue;
        }
        let (mut named, mut text) = (false, None);
        let mut parts = item.children(0);
        while let Some(part) = parts.next(file)? {
            match &part.kind {
                // Version and flags, then the name.
                b"name" => {
                    named = part.read_body(file, 64)?.get(4..) == Some(b"iTunSMPB".as_slice())
                }
                // Type and locale, then the text.
                b"data" => text = part.read_body(file, 256)?.get(8..).map(<[u8]>::to_vec),
                _ => {}
            }
        }
        if let (true, Some(text)) = (named, text) {
            return Ok(parse_itunsmpb(&String::from_utf8_lossy(&text)));
        }
    }
    Ok(None)
}

fn parse_itunsmpb(text: &str) -> Option<(u64, u64, u64)> {
    let mut fields = text
        .split_whitespace()
        .map(|f| u64::from_str_radix(f, 16).ok());
    let _zero = fields.next()?;
    Some((fields.next()??, fields.next()??, fields.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_text_is_read_as_hex() {
        let text = " 00000000 00000840 000001CA 00000000003F31F6 00000000 00000000";
        assert_eq!(parse_itunsmpb(text), Some((0x840, 0x1CA, 0x3F31F6)));
        assert_eq!(parse_itunsmpb(" 00000000 0840"), None);
        assert_eq!(parse_itunsmpb("nonsense"), None);
    }

    #[test]
    fn edits_of_both_versions_skip_empty_ones() {
        let mut v0 = vec![0, 0, 0, 0, 0, 0, 0, 2];
        v0.extend_from_slice(&[0, 0, 0, 10, 0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0, 0]);
        v0.extend_from_slice(&[0, 0, 0x0B, 0xBB, 0, 0, 4, 0, 0, 1, 0, 0]);
        assert_eq!(first_edit(&v0).unwrap(), Some((3003, 1024)));
        let mut v1 = vec![1, 0, 0, 0, 0, 0, 0, 1];
        v1.extend_from_slice(&132_423u64.to_be_bytes());
        v1.extend_from_slice(&2112u64.to_be_bytes());
        v1.extend_from_slice(&[0, 1, 0, 0]);
        assert_eq!(first_edit(&v1).unwrap(), Some((132_423, 2112)));
        // More entries announced than present: the missing ones are not read.
        v1[7] = 9;
        assert_eq!(first_edit(&v1).unwrap(), Some((132_423, 2112)));
        assert!(first_edit(&[0, 0]).is_err());
    }

    #[test]
    fn edits_in_milliseconds_run_to_the_exact_end_of_the_media() {
        // ffmpeg: 96,077 frames at 48 kHz after 1024 of priming, an edit of 2001 ms.
        assert_eq!(edit_length(2001, 1000, 48_000, Some(96_077)), Some(96_077));
        assert_eq!(
            edit_length(3003, 1000, 44_100, Some(132_423)),
            Some(132_423)
        );
        // A real cut, or an exact movie timescale, is taken as it is.
        assert_eq!(edit_length(1000, 1000, 48_000, Some(96_077)), Some(48_000));
        assert_eq!(
            edit_length(96_000, 48_000, 48_000, Some(96_077)),
            Some(96_000)
        );
        assert_eq!(edit_length(0, 1000, 48_000, Some(96_077)), Some(96_077));
        assert_eq!(edit_length(0, 1000, 48_000, None), None);
        assert_eq!(edit_length(3000, 1000, 48_000, Some(96_077)), Some(96_077));
    }

    #[test]
    fn times_are_scaled_to_the_nearest_frame() {
        assert_eq!(scale(3003, 44_100, 1000), 132_432);
        assert_eq!(scale(1024, 48_000, 48_000), 1024);
        assert_eq!(scale(1000, 44_100, 22_050), 2000);
    }
}

#[cfg(test)]
mod properties {
    use std::io::Cursor;

    use proptest::prelude::*;

    use super::*;

    /// A box: size, type, body.
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let size = u32::try_from(8 + body.len()).unwrap_or(u32::MAX);
        [size.to_be_bytes().as_slice(), kind, body].concat()
    }

    /// An AAC track's boxes with the given timescales, duration and first edit.
    fn movie(
        movie_ts: u32,
        media_ts: u32,
        duration: u32,
        segment: u32,
        media_time: i32,
    ) -> Vec<u8> {
        let mvhd = [vec![0; 12], movie_ts.to_be_bytes().to_vec(), vec![0; 4]].concat();
        let tkhd = [vec![0; 12], 1u32.to_be_bytes().to_vec(), vec![0; 8]].concat();
        let elst = [
            vec![0, 0, 0, 0, 0, 0, 0, 1],
            segment.to_be_bytes().to_vec(),
            media_time.to_be_bytes().to_vec(),
            vec![0, 1, 0, 0],
        ]
        .concat();
        let mdhd = [
            vec![0; 12],
            media_ts.to_be_bytes().to_vec(),
            duration.to_be_bytes().to_vec(),
        ]
        .concat();
        let hdlr = [vec![0; 8], b"soun".to_vec()].concat();
        let stsd = [vec![0; 8], vec![0, 0, 0, 16], b"mp4a".to_vec()].concat();
        let stbl = bx(b"stbl", &bx(b"stsd", &stsd));
        let mdia = [bx(b"mdhd", &mdhd), bx(b"hdlr", &hdlr), bx(b"minf", &stbl)].concat();
        let trak = [
            bx(b"tkhd", &tkhd),
            bx(b"edts", &bx(b"elst", &elst)),
            bx(b"mdia", &mdia),
        ]
        .concat();
        [
            bx(b"ftyp", b"M4A "),
            bx(b"moov", &[bx(b"mvhd", &mvhd), bx(b"trak", &trak)].concat()),
        ]
        .concat()
    }

    proptest! {
        /// Whatever an edit list says, the trim never reaches past the track's length.
        #[test]
        fn the_trim_stays_inside_the_track(
            movie_ts in 1u32..200_000, media_ts in 1u32..200_000, duration in 0u32..u32::MAX,
            segment in any::<u32>(), media_time in any::<i32>(), rate in 0u32..200_000,
        ) {
            let bytes = movie(movie_ts, media_ts, duration, segment, media_time);
            let got = read_from(&mut Cursor::new(&bytes), u64::from(rate)).unwrap();
            let Some(trim) = got else { return Ok(()) };
            let rate = if rate == 0 { u64::from(media_ts) } else { u64::from(rate) };
            let length = scale(u64::from(duration), rate, u64::from(media_ts));
            prop_assert!(
                trim.skip + trim.keep.unwrap_or(0) <= length,
                "{trim:?} past {length} frames"
            );
        }

        /// Any bytes at all: an answer or an error, never a panic.
        #[test]
        fn any_bytes_are_read_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_from(&mut Cursor::new(&bytes), 44_100);
        }
    }
}
