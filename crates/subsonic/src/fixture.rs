//! Test catalogs, a repeatable source of randomness, and readers that turn an XML or a JSON answer
//! into the same flat list of (path, value) pairs so the two formats can be compared.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clef_core::{Random, Timestamp};
use clef_library::Catalog;
use clef_store::TrackRecord;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;

/// Where the fixture's files "are": no answer may ever contain it.
pub const SECRET_ROOT: &str = "/srv/secret-music";
pub const NAMESPACE: &str = "http://subsonic.org/restapi";
/// 2020-09-13T12:26:40Z.
pub const T0: i64 = 1_600_000_000_000;
const DAY: i64 = 86_400_000;

pub fn track_id(n: usize) -> String {
    format!("{n:032x}")
}

fn rec(n: usize, folder: &str, title: &str, format: &str) -> TrackRecord {
    TrackRecord {
        id: track_id(n),
        path: format!("{SECRET_ROOT}/{folder}/{n:02} {title}.{format}"),
        size: 4_000_000 + i64::try_from(n).unwrap_or(0),
        title: title.into(),
        duration_ms: 185_400,
        sample_rate: Some(44_100),
        bit_depth: Some(16),
        channels: Some(2),
        codec: format.into(),
        format: format.into(),
        added_at: Timestamp(T0),
        updated_at: Timestamp(T0),
        ..TrackRecord::default()
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// A small library covering the shapes that matter: multi-artist and untagged tracks, a
/// compilation, two discs, several formats, covers on some albums only, and a title full of
/// characters that need escaping.
pub fn small() -> Arc<Catalog> {
    let mut out = Vec::new();
    for (n, title) in [(1, "Come Together"), (2, "Something")] {
        out.push(TrackRecord {
            artists: strings(&["The Beatles"]),
            album: "Abbey Road".into(),
            album_artists: strings(&["The Beatles"]),
            genres: strings(&["Rock"]),
            track_no: Some(i64::try_from(n).unwrap_or(0)),
            disc_no: Some(1),
            year: Some(1969),
            bitrate: Some(900),
            embedded_cover: true,
            composer: (n == 2).then(|| "George Harrison".into()),
            comment: (n == 1).then(|| "remastered".into()),
            isrc: (n == 1).then(|| "GBAYE0601690".into()),
            ..rec(n, "Beatles/Abbey Road", title, "flac")
        });
    }
    out.push(TrackRecord {
        artists: strings(&["Miles Davis"]),
        album: "Kind of Blue".into(),
        album_artists: strings(&["Miles Davis"]),
        genres: strings(&["Jazz"]),
        track_no: Some(1),
        year: Some(1959),
        bitrate: Some(320),
        bit_depth: None,
        added_at: Timestamp(T0 + DAY),
        ..rec(3, "Miles/Kind of Blue", "So What", "mp3")
    });
    for (n, artists, genres) in [
        (4, &["Dido"][..], &["Pop", "Dance"][..]),
        (5, &["Moby", "Gwen Stefani"][..], &["Pop"][..]),
    ] {
        out.push(TrackRecord {
            artists: strings(artists),
            album: "Hits 2001".into(),
            compilation: true,
            genres: strings(genres),
            track_no: Some(i64::try_from(n - 3).unwrap_or(0)),
            year: Some(2001),
            cover_path: (n == 5).then(|| format!("{SECRET_ROOT}/Hits/cover.jpg")),
            added_at: Timestamp(T0 + 2 * DAY),
            ..rec(n, "Hits", &format!("Hit {n}"), "m4a")
        });
    }
    for (n, disc) in [(6, 1), (7, 2)] {
        out.push(TrackRecord {
            artists: strings(&["Élodie"]),
            album: "Zèbre".into(),
            album_artists: strings(&["Élodie"]),
            genres: strings(&["rock"]),
            track_no: Some(1),
            disc_no: Some(disc),
            disc_total: Some(2),
            year: Some(2020),
            added_at: Timestamp(T0 + 3 * DAY),
            updated_at: Timestamp(T0 + 5 * DAY),
            ..rec(
                n,
                "Elodie",
                &format!("Quotes \"&\" <tags> 'x' \u{1}bell\ttab\nline {disc}"),
                "opus",
            )
        });
    }
    // No tags at all: the title comes from the file name.
    out.push(TrackRecord {
        title: String::new(),
        sample_rate: None,
        bit_depth: None,
        channels: None,
        added_at: Timestamp(T0 - DAY),
        ..rec(8, "Loose", "untitled", "wav")
    });
    Catalog::build(out)
}

/// `albums` albums of `per_album` songs each, by `artists` artists, years and genres cycling.
pub fn many(albums: usize, per_album: usize, artists: usize) -> Arc<Catalog> {
    let mut out = Vec::new();
    for a in 0..albums {
        let artist = format!("Artist {:03}", a % artists);
        for t in 0..per_album {
            let n = a * per_album + t + 1;
            out.push(TrackRecord {
                artists: vec![artist.clone()],
                album: format!("Album {a:04}"),
                album_artists: vec![artist.clone()],
                genres: vec![["Rock", "Jazz", "Pop"][a % 3].to_owned()],
                track_no: i64::try_from(t + 1).ok(),
                year: i64::try_from(1960 + a % 50).ok(),
                embedded_cover: a % 2 == 0,
                added_at: Timestamp(T0 + i64::try_from(a).unwrap_or(0) * DAY),
                ..rec(
                    n,
                    &format!("{artist}/Album {a:04}"),
                    &format!("Song {t}"),
                    "mp3",
                )
            });
        }
    }
    Catalog::build(out)
}

/// Repeatable randomness (SplitMix64 from a seed).
pub struct SeqRandom(AtomicU64);

impl SeqRandom {
    pub fn new(seed: u64) -> SeqRandom {
        SeqRandom(AtomicU64::new(seed))
    }
}

impl Random for SeqRandom {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// Flat (path, value) pairs of an answer. Every element is a path (`/a[0]/b[2]`) whose value is
/// `{}`; attributes and text (`value`) are paths below it. An element that is only text (an item
/// of a list of plain values) is its text.
pub type Pairs = BTreeMap<String, String>;

fn put(pairs: &mut Pairs, path: String, value: String) {
    let dup = pairs.insert(path.clone(), value);
    assert!(dup.is_none(), "{path} appears twice");
}

/// Reads an XML answer, checking that it is well-formed and that every element is in the
/// Subsonic namespace.
pub fn xml_pairs(xml: &str) -> Pairs {
    struct Frame {
        path: String,
        counts: BTreeMap<String, usize>,
        attrs: usize,
        children: usize,
        text: String,
    }
    let mut reader = NsReader::from_str(xml);
    let mut pairs = Pairs::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut roots = 0;
    loop {
        let (ns, event) = reader.read_resolved_event().expect("well-formed XML");
        let ns_ok = matches!(ns, ResolveResult::Bound(Namespace(n)) if n == NAMESPACE.as_bytes());
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                assert!(ns_ok, "element outside the Subsonic namespace: {ns:?}");
                let name = String::from_utf8(e.local_name().as_ref().to_vec()).expect("utf-8");
                let path = match stack.last_mut() {
                    Some(parent) => {
                        parent.children += 1;
                        let i = parent.counts.entry(name.clone()).or_default();
                        *i += 1;
                        format!("{}/{name}[{}]", parent.path, *i - 1)
                    }
                    None => {
                        roots += 1;
                        format!("/{name}[0]")
                    }
                };
                let mut attrs = 0;
                for a in e.attributes() {
                    let a = a.expect("attribute");
                    let key = String::from_utf8(a.key.as_ref().to_vec()).expect("utf-8");
                    if key == "xmlns" {
                        continue;
                    }
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("attribute value");
                    put(&mut pairs, format!("{path}/{key}"), value.into_owned());
                    attrs += 1;
                }
                stack.push(Frame {
                    path,
                    counts: BTreeMap::new(),
                    attrs,
                    children: 0,
                    text: String::new(),
                });
                if !empty {
                    continue;
                }
                close(&mut pairs, stack.pop());
            }
            Event::End(_) => close(&mut pairs, stack.pop()),
            Event::Text(t) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&t.decode().expect("utf-8"));
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("character reference") {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().expect("utf-8");
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .expect("a predefined entity")
                            .to_owned()
                    }
                };
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) => {}
            other => panic!("unexpected XML: {other:?}"),
        }
    }
    assert_eq!(roots, 1, "one root element");
    assert!(stack.is_empty(), "every element closed");

    fn close(pairs: &mut Pairs, frame: Option<Frame>) {
        let f = frame.expect("an open element");
        if f.attrs == 0 && f.children == 0 && !f.text.is_empty() {
            put(pairs, f.path, f.text);
        } else {
            put(pairs, f.path.clone(), "{}".into());
            if !f.text.is_empty() {
                put(pairs, format!("{}/value", f.path), f.text);
            }
        }
    }
    pairs
}

/// Reads a JSON answer into the same pairs as [`xml_pairs`].
pub fn json_pairs(json: &serde_json::Value) -> Pairs {
    fn scalar(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    fn walk(pairs: &mut Pairs, path: String, v: &serde_json::Value) {
        if let Some(s) = scalar(v) {
            return put(pairs, path, s);
        }
        let obj = v.as_object().expect("an object");
        if obj.len() == 1 {
            if let Some(s) = obj.get("value").and_then(scalar) {
                return put(pairs, path, s);
            }
        }
        put(pairs, path.clone(), "{}".into());
        for (k, child) in obj {
            match child {
                serde_json::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(pairs, format!("{path}/{k}[{i}]"), item);
                    }
                }
                serde_json::Value::Object(_) => walk(pairs, format!("{path}/{k}[0]"), child),
                other => put(
                    pairs,
                    format!("{path}/{k}"),
                    scalar(other).expect("no nulls in answers"),
                ),
            }
        }
    }
    let root = json.as_object().expect("an object");
    assert_eq!(root.len(), 1, "one root: subsonic-response");
    let mut pairs = Pairs::new();
    walk(
        &mut pairs,
        "/subsonic-response[0]".into(),
        &json["subsonic-response"],
    );
    pairs
}
