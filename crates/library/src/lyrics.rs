//! Lyrics from a track's own tags: every lyrics tag lofty reads (ID3v2 `USLT`, MP4 `©lyr`, Vorbis
//! and FLAC `LYRICS` and `UNSYNCEDLYRICS`, APE `Lyrics`), each read as LRC when it carries time
//! stamps and as plain lines otherwise.

use std::path::{Path, PathBuf};

use lofty::file::TaggedFileExt;
use lofty::prelude::ItemKey;
use lofty::tag::Tag;

use crate::error::{LibraryError, LibraryResult};
use crate::tags::{open, precheck};
use crate::Library;

/// The language of lyrics whose tag does not say (OpenSubsonic's word for unknown).
pub const UNKNOWN_LANGUAGE: &str = "xxx";

/// LRC header tags: a line that is one of these is about the lyrics, not part of them.
const LRC_HEADERS: &[&str] = &[
    "ar", "al", "ti", "au", "by", "re", "ve", "tool", "length", "offset", "la", "lang", "#",
];

/// One set of lyrics, as a tag holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lyrics {
    /// The tag's language (ISO 639-2, lower case), or [`UNKNOWN_LANGUAGE`].
    pub lang: String,
    /// The lines carry start times (the text was LRC).
    pub synced: bool,
    pub lines: Vec<LyricsLine>,
    /// LRC `[offset:]` in milliseconds: positive shows every line that much sooner.
    pub offset_ms: i64,
    /// LRC `[ar:]`, else the track's artists; empty when nothing says.
    pub display_artist: String,
    /// LRC `[ti:]`, else the track's title; empty when nothing says.
    pub display_title: String,
}

/// One line of lyrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LyricsLine {
    /// Milliseconds from the start of the track (before the offset); synced lyrics only.
    pub start_ms: Option<i64>,
    /// The words; empty for a pause (a stamp alone, or a blank line inside plain lyrics).
    pub text: String,
}

impl LyricsLine {
    fn new(start_ms: Option<i64>, text: &str) -> LyricsLine {
        LyricsLine {
            start_ms,
            text: text.to_owned(),
        }
    }
}

/// Reads lyrics text: LRC (`[mm:ss.xx]words`, several stamps to a line allowed, `[offset:±N]`,
/// header lines such as `[ar:…]` left out) when any line starts with a valid stamp, else plain
/// lines with the blank ones at the start and end left out. `None` when there are no words.
///
/// In LRC, a line without a valid stamp (a bad stamp is words like any other) continues the
/// stamped line before it, or starts at 0 when none came before.
pub fn parse_lyrics(text: &str) -> Option<Lyrics> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let mut out = Lyrics {
        lang: UNKNOWN_LANGUAGE.to_owned(),
        ..Lyrics::default()
    };
    let mut body: Vec<(Vec<i64>, &str)> = Vec::new();
    for line in text.split(['\n', '\r']) {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if let Some((key, value)) = header(line) {
            match key {
                "ar" => out.display_artist = value.to_owned(),
                "ti" => out.display_title = value.to_owned(),
                "offset" => out.offset_ms = value.parse().unwrap_or(0),
                _ => {}
            }
            continue;
        }
        body.push(stamps(line));
    }
    out.synced = body.iter().any(|(stamps, _)| !stamps.is_empty());
    out.lines = if out.synced {
        synced_lines(&body)
    } else {
        let first = body.iter().position(|(_, t)| !t.is_empty())?;
        let last = body.iter().rposition(|(_, t)| !t.is_empty())?;
        body.get(first..=last)?
            .iter()
            .map(|(_, t)| LyricsLine::new(None, t))
            .collect()
    };
    out.lines.iter().any(|l| !l.text.is_empty()).then_some(out)
}

/// The lines of LRC, in time order (lines stamped alike keep the file's order).
fn synced_lines(body: &[(Vec<i64>, &str)]) -> Vec<LyricsLine> {
    let mut lines: Vec<LyricsLine> = Vec::new();
    // The lines made from the last stamped line, which an unstamped one continues.
    let mut last: Vec<usize> = Vec::new();
    for (stamps, text) in body {
        if !stamps.is_empty() {
            last.clear();
            for ms in stamps {
                last.push(lines.len());
                lines.push(LyricsLine::new(Some(*ms), text));
            }
        } else if text.is_empty() {
            continue;
        } else if last.is_empty() {
            last.push(lines.len());
            lines.push(LyricsLine::new(Some(0), text));
        } else {
            for i in &last {
                if let Some(line) = lines.get_mut(*i) {
                    if !line.text.is_empty() {
                        line.text.push('\n');
                    }
                    line.text.push_str(text);
                }
            }
        }
    }
    lines.sort_by_key(|l| l.start_ms);
    lines
}

/// An LRC header line (`[ar: Someone]`): its tag, lower case, and value.
fn header(line: &str) -> Option<(&'static str, &str)> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    if inner.contains(['[', ']']) {
        return None;
    }
    let (key, value) = inner.split_once(':')?;
    let key = LRC_HEADERS
        .iter()
        .find(|h| h.eq_ignore_ascii_case(key.trim()))?;
    Some((key, value.trim()))
}

/// The time stamps a line starts with, in milliseconds, and the words after them (the whole
/// line when it starts with none).
fn stamps(line: &str) -> (Vec<i64>, &str) {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some((ms, tail)) = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(inner, tail)| Some((stamp(inner)?, tail)))
    {
        found.push(ms);
        rest = tail.trim_start();
    }
    if found.is_empty() {
        (found, line)
    } else {
        (found, rest.trim_end())
    }
}

/// `m:ss`, `mm:ss.x`, `mm:ss.xx` or `mm:ss.xxx` in milliseconds; anything else is not a stamp.
fn stamp(s: &str) -> Option<i64> {
    let number = |d: &str, max: usize| -> Option<i64> {
        let ok = (1..=max).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| d.parse().ok()).flatten()
    };
    let (min, sec) = s.split_once(':')?;
    let (sec, frac) = match sec.split_once('.') {
        Some((sec, frac)) => (sec, Some(frac)),
        None => (sec, None),
    };
    let (min, sec) = (number(min, 4)?, number(sec, 2)?);
    let frac_ms = match frac {
        None => 0,
        Some(f) => number(f, 3)? * [100, 10, 1][f.len() - 1],
    };
    (sec < 60).then_some(min * 60_000 + sec * 1000 + frac_ms)
}

/// A tag's language as OpenSubsonic wants it: three lower-case letters, or `xxx`.
fn language(lang: &[u8; 3]) -> String {
    if lang.iter().all(u8::is_ascii_alphabetic) && !lang.eq_ignore_ascii_case(b"xxx") {
        String::from_utf8_lossy(lang).to_ascii_lowercase()
    } else {
        UNKNOWN_LANGUAGE.to_owned()
    }
}

/// Every set of lyrics in the file's tags (the primary tag's first), without repeats.
pub(crate) fn read_lyrics(path: &Path) -> Result<Vec<Lyrics>, String> {
    precheck(path)?;
    let (file, _) = open(path, false)?;
    let mut tags: Vec<&Tag> = file.primary_tag().into_iter().collect();
    for t in file.tags() {
        if !tags.iter().any(|p| std::ptr::eq(*p, t)) {
            tags.push(t);
        }
    }
    let mut out: Vec<Lyrics> = Vec::new();
    for tag in tags {
        for key in [ItemKey::Lyrics, ItemKey::UnsyncLyrics] {
            for item in tag.get_items(key) {
                let Some(mut lyrics) = item.value().text().and_then(parse_lyrics) else {
                    continue;
                };
                lyrics.lang = language(item.lang());
                if !out.contains(&lyrics) {
                    out.push(lyrics);
                }
            }
        }
    }
    Ok(out)
}

impl Library {
    /// The lyrics in a track's file, none when it has no lyrics tag. The file is the one the scan
    /// recorded for the track id; nothing the caller says names a path. Lyrics that do not say
    /// who and what they are show the track's artists and title.
    #[tracing::instrument(skip(self))]
    pub async fn lyrics(&self, track_id: &str) -> LibraryResult<Vec<Lyrics>> {
        let catalog = self.catalog();
        let (Some(rec), Some(view)) = (catalog.track_record(track_id), catalog.track(track_id))
        else {
            return Err(LibraryError::NotFound("track"));
        };
        let path = PathBuf::from(&rec.path);
        let task = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(|| read_lyrics(&path))
                .unwrap_or_else(|_| Err("the file crashed the tag reader".into()))
        });
        let read = match tokio::time::timeout(self.cfg.parse_timeout, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("the tag reader failed: {e}")),
            Err(_) => Err("reading the lyrics took too long".into()),
        };
        let mut all = read.map_err(|e| {
            tracing::warn!(error = %e, "cannot read the lyrics");
            LibraryError::Io(e)
        })?;
        let artists: Vec<&str> = view.artists.iter().map(|a| a.name.as_str()).collect();
        for l in &mut all {
            if l.display_artist.is_empty() {
                l.display_artist = artists.join(", ");
            }
            if l.display_title.is_empty() {
                l.display_title.clone_from(&view.title);
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests;
