//! Output names for exports: a file-name pattern filled from tags, every part made safe for
//! FAT/exFAT sticks and car stereos, collisions told apart, and nothing outside the export root.
//!
//! Tag values are never trusted as paths: a value's slashes, dots and device names become plain
//! characters of one name, so only the pattern's own `/` makes folders.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::error::{ExportError, ExportResult};

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
    pub fn parse(text: &str) -> ExportResult<Pattern> {
        let bad = |why: &str| ExportError::BadPattern(format!("{why} in \"{text}\""));
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

/// Resolves the output folder the user asked for against the export roots the owner allows.
/// With `own` (the user's folder name, see [`crate::folders::user_folder_name`]), the answer must
/// lie inside `<root>/<own>` of one root; without it (the console's own root), inside a root.
/// `requested` is either absolute or relative to that folder in the first root. The answer is the
/// root's index and a canonical path (it may not exist yet: its missing part holds only plain
/// names). Every refusal is the same whatever exists beyond the user's folder.
pub fn confine(
    roots: &[PathBuf],
    own: Option<&str>,
    requested: &str,
) -> ExportResult<(usize, PathBuf)> {
    if roots.is_empty() {
        return Err(ExportError::NoExportRoot);
    }
    if requested.contains('\0') {
        return Err(ExportError::OutsideRoots(requested.replace('\0', "\\0")));
    }
    let base = |root: &Path| match own {
        Some(name) => root.join(name),
        None => root.to_path_buf(),
    };
    let wanted = Path::new(requested);
    let wanted = if wanted.is_absolute() {
        wanted.to_path_buf()
    } else {
        base(&roots[0]).join(wanted)
    };
    let resolved = resolve_existing_prefix(&wanted)
        .ok_or_else(|| ExportError::OutsideRoots(requested.to_owned()))?;
    for (i, root) in roots.iter().enumerate() {
        let Ok(root) = root.canonicalize() else {
            continue;
        };
        // The user's folder itself is not resolved: a symbolic link in its place leads out.
        if resolved.starts_with(base(&root)) {
            return Ok((i, resolved));
        }
    }
    Err(ExportError::OutsideRoots(requested.to_owned()))
}

/// Canonicalises the longest existing prefix of `path` (following its symbolic links) and
/// appends the rest, which must be plain names: no `..`, no `.`.
fn resolve_existing_prefix(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for name in rest.iter().rev() {
                out.push(name);
            }
            return Some(out);
        }
        match existing.components().next_back()? {
            Component::Normal(name) => rest.push(name.to_owned()),
            _ => return None,
        }
        existing.pop();
    }
}
