//! M3U8 playlists as Clef writes and reads them: one path per line, `#` lines for the rest.
//!
//! A path that could not stand as a line of its own as it is (a line break or another control
//! character in a file name, white space at either end, a leading `#` or byte-order mark) is
//! written percent-encoded, `%` included, as in a URI; a reader tries a line as it stands first,
//! then decoded, so every path Clef writes reads back as itself and a literal `%41` in someone
//! else's playlist still matches its file.

/// `s` on one line: control characters become spaces (titles in `#EXTINF`, names).
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `path` as one M3U8 line (see the module's notes).
pub fn path_line(path: &str) -> String {
    let last = path.chars().count().saturating_sub(1);
    let special = |i: usize, c: char| {
        c.is_control()
            || ((i == 0 || i == last) && c.is_whitespace())
            || (i == 0 && (c == '#' || c == '\u{feff}'))
    };
    if !path.chars().enumerate().any(|(i, c)| special(i, c)) {
        return path.to_owned();
    }
    let mut out = String::with_capacity(path.len() + 8);
    for (i, c) in path.chars().enumerate() {
        if special(i, c) || c == '%' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One path line of a playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The line as it stands (trimmed).
    pub line: &'a str,
    /// The line percent-decoded, when it holds escapes that decode to text.
    pub decoded: Option<String>,
}

impl Entry<'_> {
    /// What the entry may name: the line as it stands, then decoded.
    pub fn candidates(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.line).chain(self.decoded.as_deref())
    }
}

/// The path lines of `text`: blank lines, `#` lines and a byte-order mark are skipped.
pub fn entries(text: &str) -> impl Iterator<Item = Entry<'_>> {
    text.lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| Entry {
            line,
            decoded: percent_decoded(line),
        })
}

fn percent_decoded(line: &str) -> Option<String> {
    if !line.contains('%') {
        return None;
    }
    let bytes = line.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut changed = false;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
                changed = true;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(path: &str) -> Vec<String> {
        let text = format!("#EXTM3U\n#EXTINF:1,x\n{}\n", path_line(path));
        let found: Vec<Vec<String>> = entries(&text)
            .map(|e| e.candidates().map(str::to_owned).collect())
            .collect();
        assert_eq!(found.len(), 1, "{path:?} is one line");
        found.into_iter().next().unwrap_or_default()
    }

    #[test]
    fn a_name_never_adds_a_line_and_always_reads_back() {
        assert_eq!(path_line("Album/01 Song.flac"), "Album/01 Song.flac");
        assert_eq!(path_line("Album/01 a\nb\r.flac"), "Album/01 a%0Ab%0D.flac");
        assert_eq!(path_line("é\u{85}x"), "é%C2%85x");
        assert_eq!(path_line("#1 hit.mp3"), "%231 hit.mp3");
        assert_eq!(path_line("100% a\n.mp3"), "100%25 a%0A.mp3");
        assert_eq!(
            path_line("100%.mp3"),
            "100%.mp3",
            "nothing to escape: as it is"
        );
        for p in [
            "a\nb",
            " lead.mp3",
            "trail.mp3 ",
            "#x",
            "\u{feff}bom",
            "100% a\n",
            "%41\t",
        ] {
            assert!(
                read_back(p).iter().any(|c| c == p),
                "{p:?}: {:?}",
                read_back(p)
            );
        }
        assert_eq!(one_line("a\nb"), "a b");
    }

    #[test]
    fn comments_blanks_and_a_bom_are_skipped() {
        let text = "\u{feff}#EXTM3U\n\n  Music/a.mp3  \n# comment\nb%41.mp3\n";
        let got: Vec<Entry> = entries(text).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].line, "Music/a.mp3");
        assert_eq!(
            got[1].candidates().collect::<Vec<_>>(),
            ["b%41.mp3", "bA.mp3"]
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any file name is one line of a playlist and reads back as itself.
        #[test]
        fn every_path_is_one_line_and_reads_back(path in "\\PC{1,40}|.{1,40}") {
            let line = path_line(&path);
            prop_assert!(!line.contains(['\n', '\r']), "{line:?}");
            let text = format!("#EXTM3U\n{line}\n#EXTINF:1,next\nnext.mp3\n");
            let found: Vec<Entry> = entries(&text).collect();
            prop_assert_eq!(found.len(), 2, "{:?}", found);
            prop_assert!(found[0].candidates().any(|c| c == path), "{path:?} → {line:?}");
        }

        /// Any text at all: entries are trimmed, never blank, never comments.
        #[test]
        fn entries_of_any_text_are_plain_lines(text in ".*(\n.*){0,5}") {
            for e in entries(&text) {
                prop_assert!(!e.line.is_empty() && !e.line.starts_with('#'));
                prop_assert_eq!(e.line, e.line.trim());
                prop_assert!(!e.line.contains('\n'));
            }
        }
    }
}
