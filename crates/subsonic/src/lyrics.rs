//! `getLyricsBySongId` (OpenSubsonic `songLyrics`): the lyrics tags in the song's own file, as
//! `structuredLyrics`, synced lines with their start times.

use clef_http::AppState;
use clef_library::{LibraryError, Lyrics};

use crate::error::SubsonicError;
use crate::params::Params;
use crate::refusal::from_library;
use crate::response::Element;

/// Reads the song's lyrics; an id that is no song is error 70.
pub(crate) async fn get(st: &AppState, p: &Params) -> Result<Element, SubsonicError> {
    let id = p.require("id")?;
    let all = st.library.lyrics(id).await.map_err(|e| match e {
        LibraryError::NotFound(_) => SubsonicError::not_found("song", id),
        other => from_library(other),
    })?;
    Ok(answer(&all))
}

/// The answer: one `structuredLyrics` for each set of lyrics, none when the file has none.
pub(crate) fn answer(all: &[Lyrics]) -> Element {
    Element::response()
        .child(Element::new("lyricsList").list("structuredLyrics", all.iter().map(structured)))
}

fn structured(l: &Lyrics) -> Element {
    let lines = l.lines.iter().map(|line| {
        Element::new("line")
            .opt("start", line.start_ms.filter(|_| l.synced))
            .text(line.text.as_str())
    });
    let named = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Element::new("structuredLyrics")
        .opt("displayArtist", named(&l.display_artist))
        .opt("displayTitle", named(&l.display_title))
        .attr("lang", l.lang.as_str())
        .attr("offset", l.offset_ms)
        .attr("synced", l.synced)
        .list("line", lines)
}

#[cfg(test)]
mod tests {
    use clef_library::LyricsLine;
    use serde_json::{json, Value};

    use super::*;
    use crate::fixture::{json_pairs, xml_pairs};
    use crate::response::{render, Format};

    fn synced() -> Lyrics {
        Lyrics {
            lang: "xxx".into(),
            synced: true,
            lines: vec![
                LyricsLine {
                    start_ms: Some(0),
                    text: "Up the steps <the> morning & climbs".into(),
                },
                LyricsLine {
                    start_ms: Some(2000),
                    text: "and down again to rest".into(),
                },
            ],
            offset_ms: -40,
            display_artist: "The Placeholders".into(),
            display_title: "Morning Scale".into(),
        }
    }

    fn unsynced() -> Lyrics {
        Lyrics {
            lang: "eng".into(),
            synced: false,
            lines: vec![
                LyricsLine {
                    start_ms: None,
                    text: "Carrier wave".into(),
                },
                LyricsLine {
                    start_ms: None,
                    text: "over sea".into(),
                },
            ],
            offset_ms: 0,
            display_artist: String::new(),
            display_title: String::new(),
        }
    }

    fn json_of(e: &Element) -> Value {
        let (_, body) = render(Format::Json, Ok(e.clone()));
        serde_json::from_slice::<Value>(&body).unwrap()["subsonic-response"].clone()
    }

    #[test]
    fn structured_lyrics_have_the_opensubsonic_shape_in_json() {
        let got = json_of(&answer(&[synced(), unsynced()]));
        assert_eq!(
            got["lyricsList"],
            json!({"structuredLyrics": [
                {
                    "displayArtist": "The Placeholders",
                    "displayTitle": "Morning Scale",
                    "lang": "xxx",
                    "offset": -40,
                    "synced": true,
                    "line": [
                        {"start": 0, "value": "Up the steps <the> morning & climbs"},
                        {"start": 2000, "value": "and down again to rest"},
                    ],
                },
                {
                    "lang": "eng",
                    "offset": 0,
                    "synced": false,
                    "line": [{"value": "Carrier wave"}, {"value": "over sea"}],
                },
            ]})
        );
        // No lyrics: an empty list, still an array.
        let none = json_of(&answer(&[]));
        assert_eq!(none["lyricsList"], json!({"structuredLyrics": []}));
    }

    #[test]
    fn xml_says_the_same_with_each_line_as_text() {
        let e = answer(&[synced(), unsynced()]);
        let (_, xml) = render(Format::Xml, Ok(e.clone()));
        let xml = String::from_utf8(xml).unwrap();
        assert!(
            xml.contains(
                "<structuredLyrics displayArtist=\"The Placeholders\" displayTitle=\"Morning Scale\" \
                 lang=\"xxx\" offset=\"-40\" synced=\"true\">\
                 <line start=\"0\">Up the steps &lt;the&gt; morning &amp; climbs</line>\
                 <line start=\"2000\">and down again to rest</line></structuredLyrics>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<line>Carrier wave</line><line>over sea</line>"),
            "{xml}"
        );
        let (_, json) = render(Format::Json, Ok(e));
        let json: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(xml_pairs(&xml), json_pairs(&json));
    }

    #[test]
    fn a_pause_is_an_empty_value_and_start_only_ever_comes_with_synced() {
        let mut l = synced();
        l.lines.push(LyricsLine {
            start_ms: Some(4000),
            text: String::new(),
        });
        let mut odd = unsynced();
        // A start time on unsynced lyrics is never shown.
        odd.lines[0].start_ms = Some(5);
        let got = json_of(&answer(&[l, odd]));
        let lists = &got["lyricsList"]["structuredLyrics"];
        assert_eq!(lists[0]["line"][2], json!({"start": 4000, "value": ""}));
        assert_eq!(lists[1]["line"][0], json!({"value": "Carrier wave"}));
    }
}
