//! Parsers and writers of what strangers hand Clef, kept apart from I/O and the rest of the
//! server so that each can be tested on its own, property-tested and fuzzed (see `fuzz/`):
//! the HTTP `Range` header, M3U8 playlists, export file-name patterns, and MP4 boxes with the
//! gapless information of AAC.

pub mod m3u8;
pub mod mp4_box;
pub mod mp4_gapless;
pub mod naming;
pub mod range;
