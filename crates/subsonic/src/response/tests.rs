use super::*;
use crate::fixture::{json_pairs, xml_pairs};

fn sample() -> Element {
    Element::response().child(
        Element::new("albumList2")
            .attr("note", "a \"quoted\" <b> & 'c'\nnext\tcol\r\u{1}\u{FFFF}")
            .list(
                "album",
                [Element::new("x")
                    .attr("id", "0a1")
                    .attr("songCount", 3usize)
                    .attr("isCompilation", false)
                    .attr("gain", 1.5)
                    .list("genres", [Element::new("g").attr("name", "Rock")])],
            )
            .list("empty", [])
            .values("versions", [1i64, 2])
            .child(
                Element::new("line")
                    .attr("start", 0i64)
                    .text("la <la> & la"),
            ),
    )
}

fn xml(e: &Element) -> String {
    let (ct, body) = render_ok(Format::Xml, e.clone());
    assert!(ct.starts_with("text/xml"));
    String::from_utf8(body).unwrap()
}

fn json(e: &Element) -> serde_json::Value {
    let (ct, body) = render_ok(Format::Json, e.clone());
    assert_eq!(ct, "application/json");
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn xml_has_the_declaration_namespace_and_envelope() {
    let x = xml(&Element::response());
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let pairs = xml_pairs(&x);
    let root = "/subsonic-response[0]";
    assert_eq!(pairs[&format!("{root}/status")], "ok");
    assert_eq!(pairs[&format!("{root}/version")], "1.16.1");
    assert_eq!(pairs[&format!("{root}/type")], "clef");
    assert_eq!(pairs[&format!("{root}/serverVersion")], SERVER_VERSION);
    assert_eq!(pairs[&format!("{root}/openSubsonic")], "true");
}

#[test]
fn json_has_the_envelope_with_typed_values() {
    let j = json(&Element::response());
    let r = &j["subsonic-response"];
    assert_eq!(r["status"], "ok");
    assert_eq!(r["version"], "1.16.1");
    assert_eq!(r["type"], "clef");
    assert_eq!(r["serverVersion"], SERVER_VERSION);
    assert_eq!(r["openSubsonic"], true);
}

#[test]
fn both_formats_carry_the_same_content() {
    let e = sample();
    let x = xml_pairs(&xml(&e));
    let j = json_pairs(&json(&e));
    assert_eq!(x, j);
    // Escaped and restored exactly, apart from characters XML cannot carry.
    let note = &x["/subsonic-response[0]/albumList2[0]/note"];
    assert_eq!(note, "a \"quoted\" <b> & 'c'\nnext\tcol\r\u{FFFD}\u{FFFD}");
}

#[test]
fn lists_are_arrays_in_json_even_with_one_item_or_none() {
    let j = json(&sample());
    let list = &j["subsonic-response"]["albumList2"];
    assert_eq!(list["album"].as_array().unwrap().len(), 1);
    assert_eq!(list["album"][0]["genres"].as_array().unwrap().len(), 1);
    assert_eq!(list["empty"], serde_json::json!([]));
    assert_eq!(list["versions"], serde_json::json!([1, 2]));
    assert_eq!(list["album"][0]["id"], "0a1");
    assert_eq!(list["album"][0]["songCount"], 3);
    assert_eq!(list["album"][0]["isCompilation"], false);
    assert_eq!(list["album"][0]["gain"], 1.5);
    assert_eq!(list["line"]["value"], "la <la> & la");
    assert_eq!(list["line"]["start"], 0);
    // Single children are objects.
    assert!(list.is_object());
}

#[test]
fn xml_writes_lists_as_repeated_elements_and_values_as_text() {
    let x = xml(&sample());
    assert!(
        x.contains("<versions>1</versions><versions>2</versions>"),
        "{x}"
    );
    assert!(x.contains("<album id=\"0a1\""), "{x}");
    assert!(x.contains("isCompilation=\"false\""), "{x}");
    assert!(x.contains(">la &lt;la&gt; &amp; la</line>"), "{x}");
    // Nothing XML 1.0 forbids, even escaped.
    assert!(!x.contains('\u{1}') && !x.contains("&#1;"));
}

#[test]
fn failures_carry_code_and_message_in_both_formats() {
    let e = SubsonicError::missing_parameter("id");
    let (_, body) = render(Format::Xml, Err(e.clone()));
    let x = xml_pairs(std::str::from_utf8(&body).unwrap());
    assert_eq!(x["/subsonic-response[0]/status"], "failed");
    assert_eq!(x["/subsonic-response[0]/error[0]/code"], "10");
    assert!(x["/subsonic-response[0]/error[0]/message"].contains("id"));
    let (_, body) = render(Format::Json, Err(e));
    let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(j["subsonic-response"]["status"], "failed");
    assert_eq!(j["subsonic-response"]["openSubsonic"], true);
    assert_eq!(j["subsonic-response"]["error"]["code"], 10);
    assert_eq!(json_pairs(&j), x);
    let with_help = SubsonicError::token_auth_not_supported().with_help_url("https://clef/help");
    let (_, body) = render(Format::Json, Err(with_help));
    let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        j["subsonic-response"]["error"]["helpUrl"],
        "https://clef/help"
    );
}

#[test]
fn formats_from_the_f_parameter() {
    let f = |v: &[(&str, &str)]| Format::from_params(&Params::from_pairs(v.iter().copied()));
    assert_eq!(f(&[]).unwrap(), Format::Xml);
    assert_eq!(f(&[("f", "xml")]).unwrap(), Format::Xml);
    assert_eq!(f(&[("f", "json")]).unwrap(), Format::Json);
    let e = f(&[("f", "jsonp"), ("callback", "cb")]).unwrap_err();
    assert_eq!(e.code, 0);
    assert!(e.message.contains("jsonp"));
    // The refusal itself is answered in XML, the default.
    let (ct, body) = render(Format::default(), Err(e));
    assert!(ct.starts_with("text/xml"));
    assert!(std::str::from_utf8(&body)
        .unwrap()
        .contains("status=\"failed\""));
}

#[test]
fn payload_attributes_join_the_envelope() {
    let e = Element::response().attr("extra", 1i64);
    let j = json(&e);
    assert_eq!(j["subsonic-response"]["extra"], 1);
    assert_eq!(j["subsonic-response"]["status"], "ok");
}

#[test]
fn lookups_on_the_tree() {
    let e = sample();
    let list = e.find("albumList2").unwrap();
    assert_eq!(list.items("album").len(), 1);
    assert!(list.items("nothing").is_empty());
    assert_eq!(
        list.items("album")[0].get("id").unwrap().as_str(),
        Some("0a1")
    );
    assert_eq!(
        list.items("album")[0].get("songCount").unwrap().as_int(),
        Some(3)
    );
    assert_eq!(Attr::Float(f64::NAN).to_text(), "0");
}
