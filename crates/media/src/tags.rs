//! Track metadata and front cover, written with lofty into each output format.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use lofty::config::WriteOptions;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use lofty::tag::{ItemValue, Tag, TagItem, TagType};

use crate::{MediaError, OutputFormat};

/// How several artists are joined in ID3's single-valued TPE1 frame.
pub const ID3_ARTIST_SEPARATOR: &str = "; ";

/// A front cover image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// The encoded image.
    pub data: Vec<u8>,
    /// Its MIME type, such as `image/jpeg` or `image/png`.
    pub mime: String,
}

/// The tags carried into every export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackTags {
    /// Track title.
    pub title: Option<String>,
    /// Track artists, in order.
    pub artists: Vec<String>,
    /// Album title.
    pub album: Option<String>,
    /// Album artist.
    pub album_artist: Option<String>,
    /// Track number.
    pub track: Option<u32>,
    /// Tracks on the disc.
    pub track_total: Option<u32>,
    /// Disc number.
    pub disc: Option<u32>,
    /// Discs in the release.
    pub disc_total: Option<u32>,
    /// Release date: `YYYY` or `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Composer.
    pub composer: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// International Standard Recording Code.
    pub isrc: Option<String>,
    /// Front cover.
    pub cover: Option<Cover>,
}

impl TrackTags {
    /// Builds the lofty tag of `tag_type` holding every field that is set.
    fn to_lofty(&self, tag_type: TagType) -> Tag {
        let mut tag = Tag::new(tag_type);
        let mut text = |key: ItemKey, value: Option<String>| {
            if let Some(value) = value {
                tag.push(TagItem::new(key, ItemValue::Text(value)));
            }
        };
        text(ItemKey::TrackTitle, self.title.clone());
        text(ItemKey::AlbumTitle, self.album.clone());
        text(ItemKey::AlbumArtist, self.album_artist.clone());
        text(ItemKey::TrackNumber, self.track.map(|n| n.to_string()));
        text(ItemKey::TrackTotal, self.track_total.map(|n| n.to_string()));
        text(ItemKey::DiscNumber, self.disc.map(|n| n.to_string()));
        text(ItemKey::DiscTotal, self.disc_total.map(|n| n.to_string()));
        text(ItemKey::RecordingDate, self.date.clone());
        text(ItemKey::Genre, self.genre.clone());
        text(ItemKey::Composer, self.composer.clone());
        text(ItemKey::Comment, self.comment.clone());
        text(ItemKey::Isrc, self.isrc.clone());
        if matches!(tag_type, TagType::Id3v2 | TagType::Mp4Ilst) {
            // ID3v2.3 has no multi-valued frames: readers of that age show only the first of
            // null-separated values. One TPE1 with the names joined reads right everywhere;
            // iTunes likewise shows only the first value of a repeated ©ART.
            let joined = self.artists.join(ID3_ARTIST_SEPARATOR);
            text(ItemKey::TrackArtist, Some(joined).filter(|j| !j.is_empty()));
        } else {
            // Vorbis comments repeat the field, one artist each.
            for artist in &self.artists {
                tag.push(TagItem::new(
                    ItemKey::TrackArtist,
                    ItemValue::Text(artist.clone()),
                ));
            }
        }
        if let Some(cover) = &self.cover {
            let picture = Picture::unchecked(cover.data.clone())
                .pic_type(PictureType::CoverFront)
                .mime_type(MimeType::from_str(&cover.mime))
                .build();
            tag.push_picture(picture);
        }
        tag
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Writes `tags` into the finished file at `path`: Vorbis comments and a PICTURE block in FLAC,
/// iTunes items (`ilst`) in M4A, ID3v2.3 everywhere else (MP3 frames, an ID3 chunk in WAV and
/// AIFF). ID3v2.3 because older car stereos and players cannot read ID3v2.4.
pub fn write_tags(path: &Path, format: OutputFormat, tags: &TrackTags) -> Result<(), MediaError> {
    if tags.is_empty() {
        return Ok(());
    }
    let tag_error = |reason: String| MediaError::Tag {
        path: path.to_path_buf(),
        reason,
    };
    let options = WriteOptions::default().use_id3v23(true);
    match format {
        OutputFormat::Flac | OutputFormat::Mp3 => {
            let tag_type = if format == OutputFormat::Flac {
                TagType::VorbisComments
            } else {
                TagType::Id3v2
            };
            tags.to_lofty(tag_type)
                .save_to_path(path, options)
                .map_err(|e| tag_error(e.to_string()))
        }
        OutputFormat::Aac | OutputFormat::Alac => {
            let mut ilst = Vec::new();
            lofty::mp4::Ilst::from(tags.to_lofty(TagType::Mp4Ilst))
                .dump_to(&mut ilst, options)
                .map_err(|e| tag_error(e.to_string()))?;
            crate::encode::replace_ilst(path, &ilst)
        }
        OutputFormat::Wav | OutputFormat::Aiff => {
            let mut id3 = Vec::new();
            tags.to_lofty(TagType::Id3v2)
                .dump_to(&mut id3, options)
                .map_err(|e| tag_error(e.to_string()))?;
            append_chunk(path, format, &id3)
        }
    }
}

/// Appends an ID3 chunk to a finished WAV or AIFF file and updates the outer chunk's size.
/// lofty would rewrite these files by reading them whole; appending keeps memory bounded.
fn append_chunk(path: &Path, format: OutputFormat, data: &[u8]) -> Result<(), MediaError> {
    let io = |e| MediaError::io(path, e);
    let (outer, id, big_endian): (&[u8; 4], &[u8; 4], bool) = match format {
        OutputFormat::Aiff => (b"FORM", b"ID3 ", true),
        _ => (b"RIFF", b"id3 ", false),
    };
    let size_bytes = |n: u32| {
        if big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        }
    };
    let too_big = || MediaError::Tag {
        path: path.to_path_buf(),
        reason: "file over 4 GiB".into(),
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let mut header = [0u8; 4];
    file.read_exact(&mut header).map_err(io)?;
    if &header != outer {
        return Err(MediaError::Tag {
            path: path.to_path_buf(),
            reason: "not a RIFF/FORM file".into(),
        });
    }
    let mut end = file.seek(SeekFrom::End(0)).map_err(io)?;
    if end % 2 == 1 {
        // Chunks start on even offsets.
        file.write_all(&[0]).map_err(io)?;
        end += 1;
    }
    let len = u32::try_from(data.len()).map_err(|_| too_big())?;
    file.write_all(id).map_err(io)?;
    file.write_all(&size_bytes(len)).map_err(io)?;
    file.write_all(data).map_err(io)?;
    if data.len() % 2 == 1 {
        file.write_all(&[0]).map_err(io)?;
    }
    let total = end + 8 + u64::from(len) + u64::from(len % 2);
    let outer_size = u32::try_from(total - 8).map_err(|_| too_big())?;
    file.seek(SeekFrom::Start(4)).map_err(io)?;
    file.write_all(&size_bytes(outer_size)).map_err(io)?;
    file.flush().map_err(io)
}
