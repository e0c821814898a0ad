//! M3U8 text: entries are plain lines; and any path Clef writes is one line that reads back.
#![no_main]

use clef_formats::m3u8::{entries, path_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for e in entries(text) {
        assert!(!e.line.is_empty() && !e.line.starts_with('#'));
        assert_eq!(e.line, e.line.trim());
    }
    if text.is_empty() {
        return;
    }
    let line = path_line(text);
    assert!(!line.contains(['\n', '\r']), "{line:?}");
    let playlist = format!("#EXTM3U\n{line}\n");
    let found: Vec<_> = entries(&playlist).collect();
    assert_eq!(found.len(), 1, "{text:?} → {line:?}");
    assert!(
        found[0].candidates().any(|c| c == text),
        "{text:?} → {line:?}"
    );
});
