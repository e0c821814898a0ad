//! One model for every answer, written as XML or as JSON from the same tree, so the two formats
//! cannot drift apart: a method builds an [`Element`] once and [`render`] writes it in the format
//! the client asked for, inside the `subsonic-response` envelope.

use crate::error::SubsonicError;
use crate::params::Params;

mod write;

/// The Subsonic API version answered with.
pub const API_VERSION: &str = "1.16.1";
/// The server's name, as OpenSubsonic's `type` asks for.
pub const SERVER_TYPE: &str = "clef";
/// The server's own version (OpenSubsonic `serverVersion`).
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The envelope's name; a method's payload is an element of this name (see [`Element::response`]).
pub const ROOT: &str = "subsonic-response";
const NAMESPACE: &str = "http://subsonic.org/restapi";

/// An attribute value: written as an XML attribute, and as a JSON string, number or boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Str(String),
    Int(i64),
    Bool(bool),
    Float(f64),
}

impl From<&str> for Attr {
    fn from(v: &str) -> Attr {
        Attr::Str(v.to_owned())
    }
}
impl From<String> for Attr {
    fn from(v: String) -> Attr {
        Attr::Str(v)
    }
}
impl From<&String> for Attr {
    fn from(v: &String) -> Attr {
        Attr::Str(v.clone())
    }
}
impl From<i64> for Attr {
    fn from(v: i64) -> Attr {
        Attr::Int(v)
    }
}
impl From<i32> for Attr {
    fn from(v: i32) -> Attr {
        Attr::Int(v.into())
    }
}
impl From<u32> for Attr {
    fn from(v: u32) -> Attr {
        Attr::Int(v.into())
    }
}
impl From<usize> for Attr {
    fn from(v: usize) -> Attr {
        Attr::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Attr {
    fn from(v: bool) -> Attr {
        Attr::Bool(v)
    }
}
impl From<f64> for Attr {
    fn from(v: f64) -> Attr {
        Attr::Float(v)
    }
}

impl Attr {
    /// The value as XML writes it.
    pub fn to_text(&self) -> String {
        match self {
            Attr::Str(s) => s.clone(),
            Attr::Int(n) => n.to_string(),
            Attr::Bool(b) => b.to_string(),
            Attr::Float(f) => finite(*f).to_string(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Attr::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Attr::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// JSON has no NaN or infinity; neither means anything to a client.
fn finite(f: f64) -> f64 {
    if f.is_finite() {
        f
    } else {
        0.0
    }
}

/// What an element contains besides its attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// One element: a JSON object under its name.
    One(Element),
    /// Elements of one name that the protocol defines as a list: a JSON array even with one item
    /// or none (and, in XML, simply the elements one after another).
    List(&'static str, Vec<Element>),
    /// Plain values of one name, such as an extension's `versions`: a JSON array of numbers or
    /// strings, and in XML one `<name>value</name>` each.
    Values(&'static str, Vec<Attr>),
}

/// An element of an answer: attributes, children, and text (a lyrics line, a genre's name) that
/// JSON carries as `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: &'static str,
    pub attrs: Vec<(&'static str, Attr)>,
    pub children: Vec<Node>,
    pub value: Option<String>,
}

impl Element {
    pub fn new(name: &'static str) -> Element {
        Element {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            value: None,
        }
    }

    /// A method's answer: the content of `subsonic-response`, to which [`render`] adds the status
    /// and versions. `ping` answers an empty one.
    pub fn response() -> Element {
        Element::new(ROOT)
    }

    pub fn attr(mut self, name: &'static str, value: impl Into<Attr>) -> Element {
        self.attrs.push((name, value.into()));
        self
    }

    /// An attribute that is left out when there is no value.
    pub fn opt<V: Into<Attr>>(self, name: &'static str, value: Option<V>) -> Element {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    pub fn child(mut self, element: Element) -> Element {
        self.children.push(Node::One(element));
        self
    }

    /// A list child; each item takes the list's name, so one builder can make a `song`, a `child`
    /// or an `entry`.
    pub fn list(mut self, name: &'static str, items: impl IntoIterator<Item = Element>) -> Element {
        let items = items
            .into_iter()
            .map(|mut e| {
                e.name = name;
                e
            })
            .collect();
        self.children.push(Node::List(name, items));
        self
    }

    pub fn values<V: Into<Attr>>(
        mut self,
        name: &'static str,
        values: impl IntoIterator<Item = V>,
    ) -> Element {
        let values = values.into_iter().map(Into::into).collect();
        self.children.push(Node::Values(name, values));
        self
    }

    pub fn text(mut self, value: impl Into<String>) -> Element {
        self.value = Some(value.into());
        self
    }

    /// The attribute of this name.
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The single child of this name.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| match c {
            Node::One(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// The items of the list of this name (none when there is no such list).
    pub fn items(&self, name: &str) -> &[Element] {
        self.children
            .iter()
            .find_map(|c| match c {
                Node::List(n, items) if *n == name => Some(items.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
}

/// The answer's format, from the `f` parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Xml,
    Json,
}

impl Format {
    /// `f` absent or `xml` is XML, `json` is JSON; anything else (`jsonp` too) is refused, and the
    /// refusal is answered in XML.
    pub fn from_params(params: &Params) -> Result<Format, SubsonicError> {
        Format::parse(params.get("f"))
    }

    pub fn parse(f: Option<&str>) -> Result<Format, SubsonicError> {
        match f {
            None | Some("xml") => Ok(Format::Xml),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(SubsonicError::generic(format!(
                "The answer format {other:?} is not supported: use xml or json"
            ))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// The content type and body of an answer. Subsonic answers failures with HTTP 200 too.
pub fn render(format: Format, answer: Result<Element, SubsonicError>) -> (&'static str, Vec<u8>) {
    match answer {
        Ok(payload) => render_ok(format, payload),
        Err(e) => render_error(format, &e),
    }
}

/// A successful answer carrying `payload`'s attributes and children (moved, not copied: an
/// album list is hundreds of elements).
pub fn render_ok(format: Format, payload: Element) -> (&'static str, Vec<u8>) {
    let mut root = envelope("ok");
    root.attrs.extend(payload.attrs);
    root.children = payload.children;
    write(format, &root)
}

/// A failed answer: `status="failed"` and the error's code and message.
pub fn render_error(format: Format, error: &SubsonicError) -> (&'static str, Vec<u8>) {
    let e = Element::new("error")
        .attr("code", error.code)
        .attr("message", error.message.as_str())
        .opt("helpUrl", error.help_url.as_deref());
    write(format, &envelope("failed").child(e))
}

fn envelope(status: &str) -> Element {
    Element::new(ROOT)
        .attr("status", status)
        .attr("version", API_VERSION)
        .attr("type", SERVER_TYPE)
        .attr("serverVersion", SERVER_VERSION)
        .attr("openSubsonic", true)
}

fn write(format: Format, root: &Element) -> (&'static str, Vec<u8>) {
    let body = match format {
        Format::Xml => write::to_xml(root).into_bytes(),
        Format::Json => write::to_json(root),
    };
    (format.content_type(), body)
}

#[cfg(test)]
mod tests;
