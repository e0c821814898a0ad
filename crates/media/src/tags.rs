//! Track metadata and front cover, written with lofty into each output format.

use std::path::Path;

use lofty::config::WriteOptions;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use lofty::tag::{ItemValue, Tag, TagItem, TagType};

use crate::{MediaError, OutputFormat};

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
        for artist in &self.artists {
            // Pushed one by one so formats with multi-valued fields keep them apart.
            tag.push(TagItem::new(
                ItemKey::TrackArtist,
                ItemValue::Text(artist.clone()),
            ));
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
/// ID3v2.3 everywhere else (MP3 frames, the `ID3 ` chunk of WAV and AIFF). ID3v2.3 because
/// older car stereos and players cannot read ID3v2.4.
pub fn write_tags(path: &Path, format: OutputFormat, tags: &TrackTags) -> Result<(), MediaError> {
    if tags.is_empty() {
        return Ok(());
    }
    let tag_type = match format {
        OutputFormat::Flac => TagType::VorbisComments,
        OutputFormat::Mp3 | OutputFormat::Wav | OutputFormat::Aiff => TagType::Id3v2,
    };
    let options = WriteOptions::default().use_id3v23(true);
    tags.to_lofty(tag_type)
        .save_to_path(path, options)
        .map_err(|e| MediaError::Tag {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}
