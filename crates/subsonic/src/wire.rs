//! Readers that turn an XML or a JSON answer into the same flat list of (path, value) pairs, so
//! tests (this crate's, and the server's over HTTP) can check that both formats say the same.
//! Built for tests only: the `test-support` feature.

// Test support: a reader that meets what it cannot read fails the test there and then.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;
use serde_json::Value;

/// The namespace every element of an XML answer is in.
pub const NAMESPACE: &str = "http://subsonic.org/restapi";

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

/// Attributes the protocol types as strings, whole numbers and booleans.
const STRINGS: &[&str] = &[
    "id",
    "parent",
    "albumId",
    "artistId",
    "coverArt",
    "title",
    "name",
    "album",
    "artist",
    "created",
    "path",
    "suffix",
    "contentType",
    "type",
    "mediaType",
    "displayArtist",
    "displayAlbumArtist",
    "comment",
    "displayComposer",
    "genre",
    "message",
    "status",
    "version",
    "serverVersion",
    "ignoredArticles",
    "starred",
    "played",
    "changed",
    "changedBy",
    "current",
    "username",
    "playerName",
    "lang",
    "displayTitle",
];
const INTEGERS: &[&str] = &[
    "duration",
    "size",
    "songCount",
    "albumCount",
    "track",
    "year",
    "discNumber",
    "bitRate",
    "bitDepth",
    "samplingRate",
    "channelCount",
    "lastModified",
    "code",
    "userRating",
    "playCount",
    "minutesAgo",
    "playerId",
    "position",
    "offset",
    "start",
];
const BOOLEANS: &[&str] = &[
    "isDir",
    "isVideo",
    "isCompilation",
    "valid",
    "openSubsonic",
    "synced",
    "public",
];
/// Keys the protocol defines as lists wherever they appear below the answer's top level.
const LISTS: &[&str] = &[
    "song",
    "album",
    "artist",
    "child",
    "index",
    "genre",
    "genres",
    "artists",
    "albumArtists",
    "isrc",
    "musicFolder",
    "similarArtist",
    "versions",
];

/// Checks the protocol's JSON types through a whole answer: ids and names are strings, counts and
/// durations whole numbers, flags booleans, times ISO 8601 in UTC, lists arrays.
pub fn check_json_types(answer: &Value) {
    check_types(&answer["subsonic-response"], 0, "subsonic-response");
}

/// The protocol's JSON types, recursively.
fn check_types(v: &Value, depth: usize, at: &str) {
    let Some(obj) = v.as_object() else {
        return;
    };
    for (k, child) in obj {
        let here = format!("{at}.{k}");
        if depth > 0 && LISTS.contains(&k.as_str()) {
            // (`album` and `artist` are also a song's plain names.)
            assert!(!child.is_object(), "{here} is a list, not an object");
        }
        let items: Vec<&Value> = match child {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for item in items {
            if item.is_object() {
                check_types(item, depth + 1, &here);
                continue;
            }
            let k = k.as_str();
            if k == "id" && at.ends_with("musicFolder") {
                assert!(item.is_i64(), "{here}: folder ids are integers");
            } else if STRINGS.contains(&k) {
                assert!(item.is_string(), "{here} is a string: {item}");
            } else if INTEGERS.contains(&k) {
                assert!(item.is_i64(), "{here} is a whole number: {item}");
            } else if BOOLEANS.contains(&k) {
                assert!(item.is_boolean(), "{here} is true or false: {item}");
            }
            if ["created", "starred", "played", "changed"].contains(&k) {
                let s = item.as_str().unwrap();
                let rfc3339 = &time::format_description::well_known::Rfc3339;
                assert!(
                    time::OffsetDateTime::parse(s, rfc3339).is_ok(),
                    "{here}: {s}"
                );
                assert!(s.ends_with('Z') && s.len() == 24, "{here}: {s}");
            }
        }
    }
}
