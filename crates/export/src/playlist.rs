//! The M3U8 written beside an export's files (and put in its ZIP): relative paths, so the folder
//! can move to a stick or a phone and the playlist still finds its songs.

use clef_library::Catalog;
use clef_store::{ExportFile, FileState};

use crate::naming::safe_file_name;

/// The playlist's file name for an export titled `title`.
pub fn file_name(title: &str) -> String {
    safe_file_name(title, "m3u8")
}

/// `#EXTM3U` with one entry per finished file, in the export's order.
pub fn m3u8(catalog: &Catalog, files: &[ExportFile]) -> String {
    let mut out = String::from("#EXTM3U\n");
    for f in files.iter().filter(|f| f.state == FileState::Done) {
        let (secs, label) = match catalog.track_record(&f.track_id) {
            Some(r) => (
                r.duration_ms.div_euclid(1000),
                format!("{} - {}", r.artists.join(", "), r.title),
            ),
            None => (-1, f.rel_path.clone()),
        };
        // Entries are one line each: a tag with a line break must not start a new entry.
        let label: String = label.chars().filter(|c| !c.is_control()).collect();
        out.push_str(&format!("#EXTINF:{secs},{label}\n"));
        out.push_str(&f.rel_path.replace('\\', "/"));
        out.push('\n');
    }
    out
}
