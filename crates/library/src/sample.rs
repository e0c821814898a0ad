//! The sample library written on first run when no music folder is configured: a few short tunes
//! synthesised here, written as FLAC, WAV and AIFF with tags, cover art and, on two of them,
//! lyrics (LRC timed to the tune in a FLAC, plain lines in a WAV), so a fresh install has
//! something to browse, play and sing along to.

use std::f32::consts::TAU;
use std::path::Path;

use lofty::config::WriteOptions;
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::{Accessor, ItemKey};
use lofty::tag::{ItemValue, Tag, TagItem, TagType};

const RATE: u32 = 44_100;

struct SampleTrack {
    title: &'static str,
    file: &'static str,
    /// Scale degrees of the melody, one per beat (0 = rest).
    melody: &'static [u8],
    root_hz: f32,
    embed_cover: bool,
    lyrics: Option<&'static str>,
}

/// Timed to "Morning Scale": a line every four beats (two seconds).
const MORNING_SCALE_LRC: &str = "[ar:The Placeholders]
[ti:Morning Scale]
[00:00.00]Up the steps the morning climbs
[00:02.00]and down again to rest
[00:04.00]One note higher, second time
[00:06.00]then quiet does the rest
";

/// Plain lyrics for "Carrier Wave", two verses.
const CARRIER_WAVE_LYRICS: &str = "Carrier wave, carry me
over static, over sea

Every packet finds its way
home before the end of day
";

struct SampleAlbum {
    artist: &'static str,
    album: &'static str,
    year: i32,
    genre: &'static str,
    folder: &'static str,
    /// Two colours for the generated cover.
    colours: ([u8; 3], [u8; 3]),
    cover_beside: bool,
    tracks: &'static [SampleTrack],
}

const ALBUMS: &[SampleAlbum] = &[
    SampleAlbum {
        artist: "The Placeholders",
        album: "First Light",
        year: 2024,
        genre: "Ambient",
        folder: "The Placeholders/First Light",
        colours: ([32, 64, 128], [240, 170, 80]),
        cover_beside: true,
        tracks: &[
            SampleTrack {
                title: "Morning Scale",
                file: "01 Morning Scale.flac",
                melody: &[1, 3, 5, 8, 5, 3, 1, 0, 2, 4, 6, 8, 6, 4, 2, 0],
                root_hz: 261.63,
                embed_cover: true,
                lyrics: Some(MORNING_SCALE_LRC),
            },
            SampleTrack {
                title: "Open Window",
                file: "02 Open Window.flac",
                melody: &[5, 0, 5, 6, 5, 3, 1, 0, 3, 4, 5, 3, 2, 1, 2, 0],
                root_hz: 293.66,
                embed_cover: true,
                lyrics: None,
            },
            SampleTrack {
                title: "Tea Steam",
                file: "03 Tea Steam.wav",
                melody: &[8, 7, 6, 5, 4, 3, 2, 1, 3, 5, 8, 5, 3, 1, 0, 0],
                root_hz: 246.94,
                embed_cover: false,
                lyrics: None,
            },
        ],
    },
    SampleAlbum {
        artist: "Mira Oak",
        album: "Signal Garden",
        year: 2025,
        genre: "Electronic",
        folder: "Mira Oak/Signal Garden",
        colours: ([20, 110, 90], [230, 230, 200]),
        cover_beside: false,
        tracks: &[
            SampleTrack {
                title: "Carrier Wave",
                file: "01 Carrier Wave.wav",
                melody: &[1, 1, 5, 5, 6, 6, 5, 0, 4, 4, 3, 3, 2, 2, 1, 0],
                root_hz: 220.0,
                embed_cover: true,
                lyrics: Some(CARRIER_WAVE_LYRICS),
            },
            SampleTrack {
                title: "Quiet Relay",
                file: "02 Quiet Relay.aiff",
                melody: &[3, 5, 3, 5, 6, 5, 3, 0, 2, 3, 2, 1, 2, 3, 1, 0],
                root_hz: 196.0,
                embed_cover: true,
                lyrics: None,
            },
            SampleTrack {
                title: "Last Packet",
                file: "03 Last Packet.flac",
                melody: &[8, 0, 6, 0, 5, 0, 3, 0, 5, 6, 5, 3, 2, 1, 1, 0],
                root_hz: 174.61,
                embed_cover: true,
                lyrics: None,
            },
        ],
    },
];

/// Major-scale ratios for degrees 1..=8.
const SCALE: [f32; 8] = [1.0, 1.122, 1.26, 1.335, 1.498, 1.682, 1.888, 2.0];

/// Interleaved 16-bit stereo samples of a tune: plucked notes over a soft drone, two bars a
/// second… about 8 seconds.
fn synthesise(t: &SampleTrack) -> Vec<i32> {
    let beat = RATE as usize / 2;
    let frames = beat * t.melody.len();
    let mut out = Vec::with_capacity(frames * 2);
    for n in 0..frames {
        let i = n / beat;
        let within = (n % beat) as f32 / RATE as f32;
        let time = n as f32 / RATE as f32;
        let mut v = 0.12 * (TAU * t.root_hz / 2.0 * time).sin();
        let degree = t.melody[i];
        if degree > 0 {
            let f = t.root_hz * SCALE[usize::from(degree - 1)];
            let env = (-within * 5.0).exp() * (within * 400.0).min(1.0);
            v += 0.45 * env * ((TAU * f * time).sin() + 0.3 * (TAU * 2.0 * f * time).sin());
        }
        // Fade the last half second so the loop point is silent.
        let tail = (frames - n) as f32 / (RATE as f32 / 2.0);
        let v = v * tail.min(1.0);
        let s = (v.clamp(-1.0, 1.0) * 30_000.0) as i32;
        let pan = 0.15 * (TAU * 0.25 * time).sin();
        out.push((s as f32 * (1.0 - pan)) as i32);
        out.push((s as f32 * (1.0 + pan)) as i32);
    }
    out
}

fn cover(colours: ([u8; 3], [u8; 3]), seed: u32) -> Result<Vec<u8>, String> {
    let (a, b) = colours;
    let img = image::RgbImage::from_fn(300, 300, |x, y| {
        let t = (x + y) as f32 / 598.0;
        let ring = (((x as f32 - 150.0).powi(2) + (y as f32 - 150.0).powi(2)).sqrt() as u32
            / (12 + seed % 7))
            % 2;
        let mix = |i: usize| {
            let c = a[i] as f32 * (1.0 - t) + b[i] as f32 * t;
            (if ring == 0 { c } else { c * 0.85 }) as u8
        };
        image::Rgb([mix(0), mix(1), mix(2)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88)
        .encode_image(&img)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn wav(samples: &[i32]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&RATE.to_le_bytes());
    b.extend_from_slice(&(RATE * 4).to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&(*s as i16).to_le_bytes());
    }
    b
}

/// An 80-bit IEEE extended float of a whole number, as AIFF stores its sample rate.
fn extended(rate: u32) -> [u8; 10] {
    let e = 31 - rate.leading_zeros();
    let exponent = (16383 + e) as u16;
    let mantissa = u64::from(rate) << (63 - e);
    let mut out = [0u8; 10];
    out[..2].copy_from_slice(&exponent.to_be_bytes());
    out[2..].copy_from_slice(&mantissa.to_be_bytes());
    out
}

fn aiff(samples: &[i32]) -> Vec<u8> {
    let frames = (samples.len() / 2) as u32;
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(54 + samples.len() * 2);
    b.extend_from_slice(b"FORM");
    b.extend_from_slice(&(4 + 26 + 16 + data_len).to_be_bytes());
    b.extend_from_slice(b"AIFFCOMM");
    b.extend_from_slice(&18u32.to_be_bytes());
    b.extend_from_slice(&2u16.to_be_bytes());
    b.extend_from_slice(&frames.to_be_bytes());
    b.extend_from_slice(&16u16.to_be_bytes());
    b.extend_from_slice(&extended(RATE));
    b.extend_from_slice(b"SSND");
    b.extend_from_slice(&(8 + data_len).to_be_bytes());
    b.extend_from_slice(&[0u8; 8]);
    for s in samples {
        b.extend_from_slice(&(*s as i16).to_be_bytes());
    }
    b
}

/// The samples (interleaved stereo, 16-bit) as a FLAC stream, by clef-media's encoder.
pub(crate) fn flac(samples: &[i32]) -> Result<Vec<u8>, String> {
    let out = std::io::Cursor::new(Vec::new());
    let frames = (samples.len() / 2) as u64;
    let mut writer = clef_media::FlacWriter::with_seek_table(out, 5, RATE, 2, 16, frames)?;
    writer.write(samples).map_err(|e| e.to_string())?;
    Ok(writer.finish().map_err(|e| e.to_string())?.into_inner())
}

fn tag_file(
    path: &Path,
    album: &SampleAlbum,
    track: &SampleTrack,
    no: usize,
    cover_jpg: &[u8],
) -> Result<(), String> {
    let mut file = lofty::read_from_path(path).map_err(|e| e.to_string())?;
    let mut tag = Tag::new(file.primary_tag_type());
    tag.set_title(track.title.into());
    tag.set_artist(album.artist.into());
    tag.set_album(album.album.into());
    tag.insert_text(ItemKey::AlbumArtist, album.artist.into());
    tag.set_genre(album.genre.into());
    tag.set_track(no as u32);
    tag.set_track_total(album.tracks.len() as u32);
    tag.set_disk(1);
    tag.set_disk_total(1);
    tag.insert_text(ItemKey::Year, album.year.to_string());
    tag.insert_text(ItemKey::RecordingDate, album.year.to_string());
    tag.insert_text(ItemKey::Composer, album.artist.into());
    tag.set_comment("Made by Clef as a sample; replace it with your music.".into());
    if track.embed_cover {
        tag.push_picture(
            Picture::unchecked(cover_jpg.to_vec())
                .pic_type(PictureType::CoverFront)
                .mime_type(MimeType::Jpeg)
                .build(),
        );
    }
    if let Some(text) = track.lyrics {
        // ID3v2 (WAV, AIFF) keeps lyrics in USLT, which has a language; lofty's `Lyrics` key is
        // for the others (Vorbis `LYRICS`).
        let key = if tag.tag_type() == TagType::Id3v2 {
            ItemKey::UnsyncLyrics
        } else {
            ItemKey::Lyrics
        };
        let mut item = TagItem::new(key, ItemValue::Text(text.into()));
        item.set_lang(*b"eng");
        tag.insert(item);
    }
    file.insert_tag(tag);
    file.save_to_path(path, WriteOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes the sample library under `dir` (skipping files that exist) and returns how many tracks
/// it wrote.
pub fn write_sample_library(dir: &Path) -> Result<usize, String> {
    let mut written = 0;
    for (a, album) in ALBUMS.iter().enumerate() {
        let folder = dir.join(album.folder);
        std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
        let jpg = cover(album.colours, a as u32)?;
        if album.cover_beside {
            std::fs::write(folder.join("cover.jpg"), &jpg).map_err(|e| e.to_string())?;
        }
        for (i, track) in album.tracks.iter().enumerate() {
            let path = folder.join(track.file);
            if path.exists() {
                continue;
            }
            let samples = synthesise(track);
            let bytes = match path.extension().and_then(|e| e.to_str()) {
                Some("flac") => flac(&samples)?,
                Some("aiff") => aiff(&samples),
                _ => wav(&samples),
            };
            // Written under a temporary name and renamed, so a crash never leaves half a file.
            let tmp = path.with_extension("partial");
            std::fs::write(&tmp, &bytes).map_err(|e| e.to_string())?;
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tagged_tmp = tmp.with_extension(format!("partial.{ext}"));
            std::fs::rename(&tmp, &tagged_tmp).map_err(|e| e.to_string())?;
            tag_file(&tagged_tmp, album, track, i + 1, &jpg)?;
            std::fs::rename(&tagged_tmp, &path).map_err(|e| e.to_string())?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_float_of_44100_matches_the_aiff_constant() {
        assert_eq!(extended(44_100), [0x40, 0x0e, 0xac, 0x44, 0, 0, 0, 0, 0, 0]);
        assert_eq!(extended(48_000), [0x40, 0x0e, 0xbb, 0x80, 0, 0, 0, 0, 0, 0]);
    }
}
