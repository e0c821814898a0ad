//! The two writers of an answer tree: XML and JSON, with the same content.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{finite, Attr, Element, Node, NAMESPACE};

pub(super) fn to_xml(root: &Element) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_xml(&mut out, root, true);
    out
}

fn write_xml(out: &mut String, e: &Element, root: bool) {
    out.push('<');
    out.push_str(e.name);
    if root {
        push_attr(out, "xmlns", NAMESPACE);
    }
    for (name, value) in &e.attrs {
        push_attr(out, name, &value.to_text());
    }
    if e.children.is_empty() && e.value.is_none() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(v) = &e.value {
        escape(out, v, false);
    }
    for child in &e.children {
        match child {
            Node::One(c) => write_xml(out, c, false),
            Node::List(_, items) => items.iter().for_each(|c| write_xml(out, c, false)),
            Node::Values(name, values) => {
                for v in values {
                    out.push('<');
                    out.push_str(name);
                    out.push('>');
                    escape(out, &v.to_text(), false);
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
        }
    }
    out.push_str("</");
    out.push_str(e.name);
    out.push('>');
}

fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape(out, value, true);
    out.push('"');
}

/// Escapes markup, keeps line breaks and tabs in attributes (which XML would otherwise fold into
/// spaces), and replaces characters XML 1.0 cannot carry at all (control characters from a stray
/// tag) so the document stays well-formed.
fn escape(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            c if forbidden(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Characters XML 1.0 cannot carry (tab, line feed and carriage return aside).
fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// The string as XML shows it, so that JSON says exactly the same.
fn same_as_xml(s: &str) -> Cow<'_, str> {
    if s.chars().any(forbidden) {
        Cow::Owned(
            s.chars()
                .map(|c| if forbidden(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

pub(super) fn to_json(root: &Element) -> Vec<u8> {
    struct Envelope<'a>(&'a Element);
    impl Serialize for Envelope<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(self.0.name, &Json(self.0))?;
            m.end()
        }
    }
    // Our tree has only string keys and finite numbers, so writing it cannot fail; should it ever,
    // the client still gets a well-formed failure.
    serde_json::to_vec(&Envelope(root)).unwrap_or_else(|_| {
        br#"{"subsonic-response":{"status":"failed","error":{"code":0,"message":"answer could not be written"}}}"#
            .to_vec()
    })
}

struct Json<'a>(&'a Element);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(None)?;
        for (name, value) in &e.attrs {
            m.serialize_entry(name, value)?;
        }
        if let Some(v) = &e.value {
            m.serialize_entry("value", &same_as_xml(v))?;
        }
        for child in &e.children {
            match child {
                Node::One(c) => m.serialize_entry(c.name, &Json(c))?,
                Node::List(name, items) => m.serialize_entry(name, &JsonList(items))?,
                Node::Values(name, values) => m.serialize_entry(name, values)?,
            }
        }
        m.end()
    }
}

struct JsonList<'a>(&'a [Element]);

impl Serialize for JsonList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&Json(e))?;
        }
        seq.end()
    }
}

impl Serialize for Attr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Attr::Str(v) => s.serialize_str(&same_as_xml(v)),
            Attr::Int(n) => s.serialize_i64(*n),
            Attr::Bool(b) => s.serialize_bool(*b),
            Attr::Float(f) => s.serialize_f64(finite(*f)),
        }
    }
}
