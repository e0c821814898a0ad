//! Output names for exports: a file-name pattern filled from tags, every part made safe for
//! FAT/exFAT sticks and car stereos, collisions told apart, and nothing outside the export root.
//!
//! Tag values are never trusted as paths: a value's slashes, dots and device names become plain
//! characters of one name, so only the pattern's own `/` makes folders.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The longest name we write, in bytes of UTF-8 (FAT, exFAT and ext4 all allow 255; a UTF-8
/// byte count never exceeds the UTF-16 count those file systems limit).
const MAX_NAME_BYTES: usize = 255;
/// Folder names are kept shorter so a whole path stays readable on a car stereo's screen and
/// within the 260-character paths older Windows tools handle.
const MAX_FOLDER_BYTES: usize = 100;
/// At most this many folder levels from one pattern.
const MAX_DEPTH: usize = 8;

/// The values a pattern can use, taken from a track's tags.
#[derive(Debug, Clone, Default)]
pub struct NameFields {
    pub title: String,
    pub artist: String,
    pub album: String,
    pub album_artist: String,
    pub track: Option<u32>,
    pub disc: Option<u32>,
    pub year: Option<i32>,
    pub genre: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Title,
    Artist,
    Album,
    AlbumArtist,
    Track,
    Disc,
    Year,
    Genre,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field { field: Field, width: usize },
}

/// Why a file-name pattern was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

/// A parsed file-name pattern such as `{album_artist}/{album}/{track:02} {title}`.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// One list of pieces per path component; the last one names the file.
    components: Vec<Vec<Piece>>,
}

/// The pattern used when the user gives none.
pub const DEFAULT_PATTERN: &str = "{album_artist}/{album}/{track:02} {title}";

impl Pattern {
    /// Parses a pattern, refusing unknown fields, unbalanced braces, empty components and
    /// anything that would leave the output folder (`..`, a leading `/`).
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let bad = |why: &str| PatternError(format!("{why} in \"{text}\""));
        if text.trim().is_empty() {
            return Err(bad("the pattern is empty"));
        }
        if text.starts_with('/') || text.starts_with('\\') {
            return Err(bad(
                "a pattern is relative to the output folder: no leading '/'",
            ));
        }
        let mut components = Vec::new();
        for part in text.split('/') {
            if part.trim().is_empty() {
                return Err(bad("an empty folder name"));
            }
            if part.trim() == ".." || part.trim() == "." {
                return Err(bad("'.' and '..' are not allowed"));
            }
            components.push(parse_component(part).map_err(|why| bad(&why))?);
        }
        if components.len() > MAX_DEPTH + 1 {
            return Err(bad("too many folder levels"));
        }
        let last = components.last().map(Vec::as_slice).unwrap_or_default();
        if !last.iter().any(|p| matches!(p, Piece::Field { .. })) {
            return Err(bad(
                "the file name must use at least one field, such as {title}",
            ));
        }
        Ok(Pattern { components })
    }

    /// The relative path for a track, with `ext` (without the dot) on the file name. Every
    /// component is a safe, non-empty name; none is `.` or `..`.
    pub fn render(&self, fields: &NameFields, ext: &str) -> PathBuf {
        let mut path = PathBuf::new();
        let last = self.components.len() - 1;
        for (i, pieces) in self.components.iter().enumerate() {
            let raw: String = pieces.iter().map(|p| fill(p, fields)).collect();
            if i == last {
                path.push(safe_file_name(&raw, ext));
            } else {
                path.push(safe_name(&raw, MAX_FOLDER_BYTES));
            }
        }
        path
    }
}

fn parse_component(part: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = part;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("a '}' without its '{'".into());
        }
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| "a '{' without its '}'".to_owned())?;
        pieces.push(parse_field(&rest[open + 1..open + close])?);
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

fn parse_field(spec: &str) -> Result<Piece, String> {
    let (name, width) = match spec.split_once(':') {
        Some((name, w)) => {
            let digits = w.strip_prefix('0').unwrap_or(w);
            let width = digits
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=4).contains(n))
                .ok_or_else(|| format!("'{w}' is not a width such as 02"))?;
            (name, width)
        }
        None => (spec, 0),
    };
    let field = match name {
        "title" => Field::Title,
        "artist" => Field::Artist,
        "album" => Field::Album,
        "album_artist" => Field::AlbumArtist,
        "track" => Field::Track,
        "disc" => Field::Disc,
        "year" => Field::Year,
        "genre" => Field::Genre,
        other => {
            return Err(format!(
                "unknown field {{{other}}} (known: title, artist, album, album_artist, track, \
                 disc, year, genre)"
            ))
        }
    };
    if width > 0 && !matches!(field, Field::Track | Field::Disc | Field::Year) {
        return Err(format!("{{{name}}} is text and takes no width"));
    }
    Ok(Piece::Field { field, width })
}

fn fill(piece: &Piece, f: &NameFields) -> String {
    let number = |n: Option<i64>, width: usize| match n {
        Some(n) => format!("{n:0width$}"),
        None => String::new(),
    };
    match piece {
        Piece::Text(t) => t.clone(),
        Piece::Field { field, width } => {
            let text = |s: &str, fallback: &str| {
                // A value's own separators must not make folders.
                let s = s.replace(['/', '\\'], "_");
                if s.trim().is_empty() {
                    fallback.to_owned()
                } else {
                    s
                }
            };
            match field {
                Field::Title => text(&f.title, "Untitled"),
                Field::Artist => text(&f.artist, "Unknown Artist"),
                Field::Album => text(&f.album, "Unknown Album"),
                Field::AlbumArtist => {
                    let a = if f.album_artist.trim().is_empty() {
                        &f.artist
                    } else {
                        &f.album_artist
                    };
                    text(a, "Unknown Artist")
                }
                Field::Genre => text(&f.genre, "Unknown Genre"),
                Field::Track => number(f.track.map(i64::from), *width),
                Field::Disc => number(f.disc.map(i64::from), *width),
                Field::Year => number(f.year.map(i64::from), *width),
            }
        }
    }
}

/// DOS device names that Windows and FAT tools refuse as a name, with or without an extension.
fn is_reserved(stem: &str) -> bool {
    let upper = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
    let base = upper.split('.').next().unwrap_or_default();
    matches!(base, "CON" | "PRN" | "AUX" | "NUL" | "CLOCK$")
        || ((base.starts_with("COM") || base.starts_with("LPT"))
            && base.len() == 4
            && base.as_bytes()[3].is_ascii_digit())
}

fn is_invisible_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || c == '\u{feff}'
}

/// One safe name: no control or direction-override characters, none of `<>:"/\|?*`, no leading
/// or trailing spaces and dots, not a device name, not empty, at most `max` bytes.
pub fn safe_name(raw: &str, max: usize) -> String {
    let mut s: String = raw
        .chars()
        .filter(|c| !is_invisible_control(*c) || *c == '\t')
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*' | '\t' => '_',
            c => c,
        })
        .collect();
    s = truncate_bytes(&s, max).to_owned();
    let trimmed = s.trim_matches([' ', '.']);
    let mut s = if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed.to_owned()
    };
    if is_reserved(&s) {
        s.insert(0, '_');
        s = truncate_bytes(&s, max).to_owned();
    }
    s
}

/// A safe file name with its extension, the stem shortened so the whole fits.
pub fn safe_file_name(stem: &str, ext: &str) -> String {
    let ext = safe_name(ext, 16);
    let stem = safe_name(stem, MAX_NAME_BYTES - ext.len() - 1);
    format!("{stem}.{ext}")
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Tells apart names that would land on the same file, case-insensitively as FAT and exFAT
/// compare them: the second `Song.mp3` becomes `Song (2).mp3`.
#[derive(Debug, Default)]
pub struct UniqueNames {
    taken: HashSet<String>,
}

impl UniqueNames {
    /// Marks a path as taken (for files already written by an earlier run of the same export).
    pub fn reserve(&mut self, rel: &Path) {
        self.taken.insert(fold(rel));
    }

    /// `rel`, or the first `stem (n).ext` that is free.
    pub fn claim(&mut self, rel: &Path) -> PathBuf {
        if self.taken.insert(fold(rel)) {
            return rel.to_path_buf();
        }
        for n in 2.. {
            let candidate = numbered(rel, n);
            if self.taken.insert(fold(&candidate)) {
                return candidate;
            }
        }
        unreachable!("an unbounded counter always finds a free name")
    }
}

/// The `n`th name for `path` when the first is taken: `Song.mp3` → `Song (n).mp3`, the stem
/// shortened so the name stays within 255 bytes.
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    let parent = path.parent().unwrap_or(Path::new(""));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = format!(" ({n})");
    let stem = truncate_bytes(&stem, MAX_NAME_BYTES - ext.len() - 1 - suffix.len());
    parent.join(format!("{stem}{suffix}.{ext}"))
}

fn fold(p: &Path) -> String {
    p.to_string_lossy().to_lowercase()
}

#[cfg(test)]
mod properties {
    use std::path::Component;

    use proptest::prelude::*;

    use super::*;

    /// Patterns built from real fields and hostile text, and any text at all.
    fn pattern() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("{title}".to_owned()),
            Just("{artist}".to_owned()),
            Just("{album}".to_owned()),
            Just("{track:02}".to_owned()),
            Just("{year}".to_owned()),
            "[ -~]{0,6}",
            ".*",
        ];
        prop_oneof![
            prop::collection::vec(piece, 1..8).prop_map(|p| p.concat()),
            ".*",
        ]
    }

    fn fields() -> impl Strategy<Value = NameFields> {
        (
            ".*",
            ".*",
            ".*",
            ".*",
            any::<Option<u32>>(),
            any::<Option<i32>>(),
        )
            .prop_map(|(title, artist, album, genre, track, year)| NameFields {
                title,
                artist,
                album,
                album_artist: String::new(),
                track,
                disc: Some(1),
                year,
                genre,
            })
    }

    proptest! {
        /// Whatever the pattern and the tags, a rendered path stays inside the output folder:
        /// plain names only, none empty, `.` or `..`, each within 255 bytes, free of separators
        /// and control characters, the file name ending in the extension.
        #[test]
        fn rendered_paths_are_plain_names_inside_the_folder(p in pattern(), f in fields()) {
            let Ok(pattern) = Pattern::parse(&p) else { return Ok(()) };
            let path = pattern.render(&f, "mp3");
            let parts: Vec<Component> = path.components().collect();
            prop_assert!(!parts.is_empty());
            for c in &parts {
                let Component::Normal(name) = c else {
                    return Err(TestCaseError::fail(format!("{c:?} in {path:?}")));
                };
                let name = name.to_str().unwrap_or_default();
                prop_assert!(!name.is_empty() && name != "." && name != "..", "{path:?}");
                prop_assert!(name.len() <= 255, "{} bytes", name.len());
                prop_assert!(!name.contains(['/', '\\', '\0']), "{name:?}");
                prop_assert!(!name.chars().any(char::is_control), "{name:?}");
            }
            prop_assert!(path.to_string_lossy().ends_with(".mp3"), "{path:?}");
            let numbered = numbered(&path, 2);
            prop_assert_eq!(numbered.parent(), path.parent());
        }
    }
}
