//! A message in the user's words, and its two renderings: plain text, and a small HTML page with
//! inline styles only (no images, no stylesheet, nothing loaded from elsewhere).

use std::fmt;
use std::fmt::Write as _;

/// A message in the user's words, rendered both as plain text and as HTML (HTML-escaped; a small,
/// inline-styled, readable layout; no images, no external resources).
#[derive(Clone, PartialEq, Eq)]
pub struct Notice {
    /// The recipient's address (`anna@example.org`, or `Anna <anna@example.org>`).
    pub to: String,
    /// The subject line (line breaks become spaces).
    pub subject: String,
    /// The opening line, such as `Hello anna,`.
    pub greeting: String,
    /// The body, one entry a paragraph; a line break inside one is kept.
    pub paragraphs: Vec<String>,
    /// The one thing to do, shown as a button with its address spelled out below.
    pub action: Option<Action>,
    /// What to do if it was not them, shown after the action.
    pub not_you: Option<String>,
    /// The closing small print (who sent this and why).
    pub footer: String,
}

/// A link the reader is asked to follow.
#[derive(Clone, PartialEq, Eq)]
pub struct Action {
    /// The button's words, such as `Choose a new password`.
    pub label: String,
    /// Where it leads; only `http://` and `https://` addresses become links.
    pub url: String,
}

// Messages carry sign-in and password-reset links: `Debug` shows neither them nor the body.
impl fmt::Debug for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notice")
            .field("subject", &self.subject)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Action")
            .field("label", &self.label)
            .field("url", &"<hidden>")
            .finish()
    }
}

const FONT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const TEXT_COLOUR: &str = "#1f2328";
const MUTED_COLOUR: &str = "#57606a";
const ACCENT: &str = "#1f5fbf";

impl Notice {
    /// The plain-text rendering: greeting, paragraphs, the action's label and address, the
    /// "not you" advice, then the footer after a `-- ` signature line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        out.push_str(self.greeting.trim_end());
        out.push_str("\n\n");
        for p in &self.paragraphs {
            out.push_str(p.trim_end());
            out.push_str("\n\n");
        }
        if let Some(a) = &self.action {
            out.push_str(a.label.trim_end());
            out.push_str(":\n");
            out.push_str(a.url.trim());
            out.push_str("\n\n");
        }
        if let Some(n) = &self.not_you {
            out.push_str(n.trim_end());
            out.push_str("\n\n");
        }
        if !self.footer.trim().is_empty() {
            out.push_str("-- \n");
            out.push_str(self.footer.trim_end());
            out.push('\n');
        }
        out
    }

    /// The HTML rendering: one column, system fonts, the action as a button with its address
    /// spelled out below (for clients that hide buttons). Every field is escaped.
    pub fn html(&self) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(out, "<title>{}</title>", escape(&self.subject));
        out.push_str("</head>\n");
        let _ = writeln!(
            out,
            "<body style=\"margin:0;padding:0;background:#f6f8fa;color:{TEXT_COLOUR};{FONT}\">"
        );
        let _ = writeln!(
            out,
            "<div style=\"max-width:560px;margin:0 auto;padding:24px 16px\">\n\
             <div style=\"background:#ffffff;border:1px solid #d0d7de;border-radius:8px;padding:24px;font-size:16px;line-height:1.5\">"
        );
        let para = "margin:0 0 16px 0";
        let _ = writeln!(
            out,
            "<p style=\"{para}\">{}</p>",
            escape_lines(&self.greeting)
        );
        for p in &self.paragraphs {
            let _ = writeln!(out, "<p style=\"{para}\">{}</p>", escape_lines(p));
        }
        if let Some(a) = &self.action {
            let url = a.url.trim();
            if is_web_link(url) {
                let _ = writeln!(
                    out,
                    "<p style=\"margin:24px 0 8px 0\"><a href=\"{u}\" style=\"display:inline-block;background:{ACCENT};color:#ffffff;text-decoration:none;font-weight:600;padding:10px 20px;border-radius:6px\">{l}</a></p>\n\
                     <p style=\"margin:0 0 16px 0;font-size:13px;color:{MUTED_COLOUR};word-break:break-all\"><a href=\"{u}\" style=\"color:{ACCENT}\">{u}</a></p>",
                    u = escape(url),
                    l = escape(&a.label),
                );
            } else {
                let _ = writeln!(
                    out,
                    "<p style=\"{para}\"><strong>{}</strong><br>\n<span style=\"word-break:break-all\">{}</span></p>",
                    escape(&a.label),
                    escape(url)
                );
            }
        }
        if let Some(n) = &self.not_you {
            let _ = writeln!(
                out,
                "<p style=\"margin:16px 0 0 0;color:{MUTED_COLOUR}\">{}</p>",
                escape_lines(n)
            );
        }
        out.push_str("</div>\n");
        if !self.footer.trim().is_empty() {
            let _ = writeln!(
                out,
                "<p style=\"margin:16px 8px 0 8px;font-size:13px;line-height:1.4;color:{MUTED_COLOUR}\">{}</p>",
                escape_lines(&self.footer)
            );
        }
        out.push_str("</div>\n</body>\n</html>\n");
        out
    }
}

fn is_web_link(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Escapes text for HTML content and double- or single-quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text and keeps its line breaks as `<br>`.
fn escape_lines(s: &str) -> String {
    s.trim_end()
        .lines()
        .map(escape)
        .collect::<Vec<_>>()
        .join("<br>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &str = "<b>&\"x'</b>";

    fn nasty() -> Notice {
        Notice {
            to: "anna@example.org".into(),
            subject: format!("Subject {NASTY}"),
            greeting: format!("Hello {NASTY},"),
            paragraphs: vec![format!("First {NASTY}"), format!("Second\nline {NASTY}")],
            action: Some(Action {
                label: format!("Go {NASTY}"),
                url: "https://music.example.org/reset?token=abc&x=\"<y>\"".into(),
            }),
            not_you: Some(format!("Not you? {NASTY}")),
            footer: format!("Clef at music.example.org {NASTY}"),
        }
    }

    #[test]
    fn html_escapes_every_field_and_links_the_action() {
        let html = nasty().html();
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("&\""), "{html}");
        let escaped = "&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;";
        for field in [
            "<title>Subject ",
            "Hello ",
            "First ",
            "line ",
            "Go ",
            "Not you? ",
            "music.example.org ",
        ] {
            assert!(
                html.contains(&format!("{field}{escaped}")),
                "{field}: {html}"
            );
        }
        let url = "https://music.example.org/reset?token=abc&amp;x=&quot;&lt;y&gt;&quot;";
        assert!(html.contains(&format!("href=\"{url}\"")), "{html}");
        assert!(html.contains("Second<br>\nline"), "{html}");
        // Nothing loaded from elsewhere.
        for outside in ["<img", "<link", "<script", "src=", "url("] {
            assert!(!html.contains(outside), "{outside}: {html}");
        }
    }

    #[test]
    fn text_has_every_part_and_the_action_address_on_its_own_line() {
        let n = nasty();
        let text = n.text();
        assert!(text.starts_with(&format!("Hello {NASTY},\n\n")), "{text}");
        assert!(text.contains(&format!("First {NASTY}\n\n")), "{text}");
        assert!(text.contains(&format!("Go {NASTY}:\n{}\n", n.action.unwrap().url)));
        assert!(text.contains(&format!("Not you? {NASTY}\n")), "{text}");
        assert!(
            text.ends_with(&format!("-- \nClef at music.example.org {NASTY}\n")),
            "{text}"
        );
    }

    #[test]
    fn an_address_that_is_not_a_web_link_is_shown_not_linked() {
        let mut n = nasty();
        n.action = Some(Action {
            label: "Open".into(),
            url: "javascript:alert(1)".into(),
        });
        let html = n.html();
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("javascript:alert(1)"), "{html}");
    }

    #[test]
    fn debug_hides_the_link_and_the_body() {
        let s = format!("{:?}", nasty());
        assert!(!s.contains("token=") && !s.contains("First"), "{s}");
    }
}
