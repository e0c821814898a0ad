//! The LRC and plain-text parser, and lyrics written into real files with lofty and read back.

use std::path::Path;
use std::sync::Arc;

use lofty::config::WriteOptions;
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::tag::{ItemValue, TagItem, TagType};

use super::*;

fn line(start_ms: Option<i64>, text: &str) -> LyricsLine {
    LyricsLine::new(start_ms, text)
}

fn timed(lines: &[(i64, &str)]) -> Vec<LyricsLine> {
    lines.iter().map(|(ms, t)| line(Some(*ms), t)).collect()
}

fn plain(lines: &[&str]) -> Vec<LyricsLine> {
    lines.iter().map(|t| line(None, t)).collect()
}

#[test]
fn lrc_is_synced_with_headers_left_out_and_lines_in_time_order() {
    let l = parse_lyrics(
        "[ar: The Placeholders]\r\n[ti:Morning Scale]\r\n[al:First Light]\r\n[by:someone]\r\n\
         [00:01.00]First\r\n[00:10.50][00:03.25] Chorus \r\n\r\n[01:02]Late\r\n[00:05.5]Half\r\n\
         [00:07.123]Milli\r\n[00:08.00]\r\n",
    )
    .unwrap();
    assert!(l.synced);
    assert_eq!(
        l.lines,
        timed(&[
            (1000, "First"),
            (3250, "Chorus"),
            (5500, "Half"),
            (7123, "Milli"),
            (8000, ""),
            (10_500, "Chorus"),
            (62_000, "Late"),
        ])
    );
    assert_eq!(
        (l.display_artist.as_str(), l.display_title.as_str()),
        ("The Placeholders", "Morning Scale")
    );
    assert_eq!((l.offset_ms, l.lang.as_str()), (0, "xxx"));
}

#[test]
fn lines_stamped_alike_keep_the_files_order_and_headers_are_any_case() {
    let l = parse_lyrics("[AR:Mira Oak]\n[00:02.00]b\n[00:01.00]a\n[00:02.00]c\n").unwrap();
    assert_eq!(l.lines, timed(&[(1000, "a"), (2000, "b"), (2000, "c")]));
    assert_eq!(l.display_artist, "Mira Oak");
}

#[test]
fn the_offset_is_read_with_either_sign_and_a_bad_one_is_none() {
    let at = |text: &str| parse_lyrics(text).unwrap().offset_ms;
    assert_eq!(at("[offset:+250]\n[00:01.00]a"), 250);
    assert_eq!(at("[offset: -100 ]\n[00:01.00]a"), -100);
    assert_eq!(at("[offset:500]\n[00:01.00]a"), 500);
    assert_eq!(at("[offset:soon]\n[00:01.00]a"), 0);
    // The stamps themselves are left as written: a client applies the offset.
    assert_eq!(
        parse_lyrics("[offset:+250]\n[00:01.00]a").unwrap().lines,
        timed(&[(1000, "a")])
    );
}

#[test]
fn text_without_stamps_is_plain_lines_with_blank_ones_kept_only_inside() {
    let l = parse_lyrics("\r\n  \r\nCarrier wave\r\n\r\n  over sea  \r\n\r\n\r\n").unwrap();
    assert!(!l.synced);
    assert_eq!(l.lines, plain(&["Carrier wave", "", "over sea"]));
    // Old Mac line ends, a byte order mark and a trailing NUL from a tag.
    let l = parse_lyrics("\u{feff}one\rtwo\r\rthree\0").unwrap();
    assert_eq!(l.lines, plain(&["one", "two", "", "three"]));
    assert_eq!((l.offset_ms, l.lang.as_str()), (0, "xxx"));
}

#[test]
fn bad_stamps_are_words() {
    let l = parse_lyrics("[00:61.00]sixty-one\n[ab:cd]letters\n[00:01.0000]four digits\n[1:2:3]three parts\n[00:01.]dot\n[Chorus]\n[Verse 1: Mira]\nla")
        .unwrap();
    assert!(!l.synced, "no valid stamp at all: plain text");
    assert_eq!(
        l.lines,
        plain(&[
            "[00:61.00]sixty-one",
            "[ab:cd]letters",
            "[00:01.0000]four digits",
            "[1:2:3]three parts",
            "[00:01.]dot",
            "[Chorus]",
            "[Verse 1: Mira]",
            "la",
        ])
    );
    // Among timed lines, an unstamped one continues the line before it (every time that line
    // is sung), or starts at 0 when it comes first.
    let l = parse_lyrics(
        "intro words\n[00:01.00][00:09.00]chorus\n[00:99.00]still chorus\n[00:05.00]verse\n",
    )
    .unwrap();
    assert!(l.synced);
    assert_eq!(
        l.lines,
        timed(&[
            (0, "intro words"),
            (1000, "chorus\n[00:99.00]still chorus"),
            (5000, "verse"),
            (9000, "chorus\n[00:99.00]still chorus"),
        ])
    );
    // The words after a valid stamp may hold anything, brackets too.
    let l = parse_lyrics("[00:01.00] [x] marks the spot").unwrap();
    assert_eq!(l.lines, timed(&[(1000, "[x] marks the spot")]));
}

#[test]
fn no_words_is_no_lyrics() {
    for text in [
        "",
        "  \r\n \n",
        "[ar:Someone]\n[ti:Something]\n",
        "[00:01.00]\n[00:02.00]",
    ] {
        assert_eq!(parse_lyrics(text), None, "{text:?}");
    }
}

#[test]
fn languages_are_three_lower_case_letters_or_xxx() {
    assert_eq!(language(b"ENG"), "eng");
    assert_eq!(language(b"deu"), "deu");
    assert_eq!(language(b"XXX"), "xxx");
    assert_eq!(language(&[0, 0, 0]), "xxx");
    assert_eq!(language(b"e1g"), "xxx");
}

/// Some MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz, 417 bytes each).
fn mp3_frames() -> Vec<u8> {
    let mut frame = vec![0xff, 0xfb, 0x90, 0x64];
    frame.resize(417, 0);
    frame.repeat(40)
}

/// Writes `items` into a new tag of `kind` in the file, keeping its other tags.
fn tag_with(path: &Path, kind: TagType, items: Vec<TagItem>) {
    let mut file = lofty::read_from_path(path).unwrap();
    let mut tag = Tag::new(kind);
    for item in items {
        assert!(tag.push(item), "{kind:?} takes the item");
    }
    file.insert_tag(tag);
    file.save_to_path(path, WriteOptions::default()).unwrap();
}

fn item(key: ItemKey, text: &str, lang: &[u8; 3]) -> TagItem {
    let mut item = TagItem::new(key, ItemValue::Text(text.into()));
    item.set_lang(*lang);
    item
}

const LRC: &str = "[ti:Song]\n[offset:-40]\n[00:00.50]one\n[00:01.75]two\n";

#[test]
fn a_flac_keeps_lyrics_in_lyrics_and_unsyncedlyrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.flac");
    std::fs::write(&path, crate::sample::flac(&vec![0; 2 * 44_100]).unwrap()).unwrap();
    tag_with(
        &path,
        TagType::VorbisComments,
        vec![
            item(ItemKey::Lyrics, LRC, b"XXX"),
            item(ItemKey::UnsyncLyrics, "Plain words\nsecond line", b"XXX"),
        ],
    );
    let all = read_lyrics(&path).unwrap();
    assert_eq!(
        all,
        [
            Lyrics {
                lang: "xxx".into(),
                synced: true,
                lines: timed(&[(500, "one"), (1750, "two")]),
                offset_ms: -40,
                display_artist: String::new(),
                display_title: "Song".into(),
            },
            Lyrics {
                lang: "xxx".into(),
                synced: false,
                lines: plain(&["Plain words", "second line"]),
                ..Lyrics::default()
            },
        ]
    );
}

#[test]
fn an_mp3_keeps_lyrics_in_id3v2_uslt_with_their_language_and_in_ape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.mp3");
    std::fs::write(&path, mp3_frames()).unwrap();
    tag_with(
        &path,
        TagType::Id3v2,
        vec![
            item(ItemKey::UnsyncLyrics, LRC, b"deu"),
            item(ItemKey::UnsyncLyrics, "Words in English", b"eng"),
        ],
    );
    tag_with(
        &path,
        TagType::Ape,
        vec![item(ItemKey::Lyrics, "From the APE tag", b"XXX")],
    );
    let all = read_lyrics(&path).unwrap();
    // lofty writes the USLT frames in no set order: compare by language.
    let mut summary: Vec<(&str, bool, Vec<LyricsLine>)> = all
        .iter()
        .map(|l| (l.lang.as_str(), l.synced, l.lines.clone()))
        .collect();
    summary.sort_by_key(|(lang, _, _)| *lang);
    assert_eq!(
        summary,
        [
            ("deu", true, timed(&[(500, "one"), (1750, "two")])),
            ("eng", false, plain(&["Words in English"])),
            ("xxx", false, plain(&["From the APE tag"])),
        ]
    );
    let offsets: Vec<(&str, i64)> = all.iter().map(|l| (l.lang.as_str(), l.offset_ms)).collect();
    assert!(offsets.contains(&("deu", -40)), "{offsets:?}");
    // A file without lyrics has none; one that is not audio is an error.
    let bare = dir.path().join("bare.mp3");
    std::fs::write(&bare, mp3_frames()).unwrap();
    assert_eq!(read_lyrics(&bare), Ok(vec![]));
    let junk = dir.path().join("junk.mp3");
    std::fs::write(&junk, b"not audio").unwrap();
    assert!(read_lyrics(&junk).is_err());
}

/// The sample library's lyrics, through the service: the LRC in a FLAC (with its own artist and
/// title), the plain lines in a WAV's ID3v2 (in English, showing the track's artist and title),
/// none elsewhere, and an unknown track is not found.
#[tokio::test]
async fn the_sample_librarys_lyrics_come_through_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    crate::write_sample_library(&music).unwrap();
    let store = clef_store::SqlStore::open_sqlite_file(&dir.path().join("t.db"))
        .await
        .unwrap();
    let lib = Library::open(
        Arc::new(store),
        Arc::new(clef_core::SystemClock),
        Arc::new(clef_core::OsRandom),
        crate::LibraryConfig::new(vec![music], dir.path().join("cache")),
    )
    .await
    .unwrap();
    lib.scan().await.unwrap();
    let id = |title: &str| {
        lib.catalog()
            .records()
            .find(|r| r.title == title)
            .map(|r| r.id.clone())
            .unwrap()
    };
    let morning = lib.lyrics(&id("Morning Scale")).await.unwrap();
    assert_eq!(
        morning,
        [Lyrics {
            lang: "xxx".into(),
            synced: true,
            lines: timed(&[
                (0, "Up the steps the morning climbs"),
                (2000, "and down again to rest"),
                (4000, "One note higher, second time"),
                (6000, "then quiet does the rest"),
            ]),
            offset_ms: 0,
            display_artist: "The Placeholders".into(),
            display_title: "Morning Scale".into(),
        }]
    );
    let carrier = lib.lyrics(&id("Carrier Wave")).await.unwrap();
    assert_eq!(
        carrier,
        [Lyrics {
            lang: "eng".into(),
            synced: false,
            lines: plain(&[
                "Carrier wave, carry me",
                "over static, over sea",
                "",
                "Every packet finds its way",
                "home before the end of day",
            ]),
            offset_ms: 0,
            display_artist: "Mira Oak".into(),
            display_title: "Carrier Wave".into(),
        }]
    );
    for title in ["Open Window", "Tea Steam", "Quiet Relay", "Last Packet"] {
        assert_eq!(lib.lyrics(&id(title)).await.unwrap(), [], "{title}");
    }
    assert!(matches!(
        lib.lyrics("0123456789abcdef0123456789abcdef").await,
        Err(LibraryError::NotFound("track"))
    ));
}
