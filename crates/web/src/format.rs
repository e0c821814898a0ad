//! Values formatted for people: times in UTC to the minute, lengths, counts and sizes.

use clef_core::Timestamp;

/// "2026-11-22 06:30 UTC".
pub fn when(ts: Timestamp) -> String {
    ts.for_people()
}

/// A track's length: "3:07", "1:02:05".
pub fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A total length in words: "42 min", "1 h 5 min", "less than a minute".
pub fn total(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    match (mins / 60, mins % 60) {
        (0, 0) => "less than a minute".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// "1 track", "3 tracks".
pub fn count<N>(n: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    if n == N::from(1) {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A file size: "812 B", "4.2 MB", "1.3 GB" (powers of 1000, as file managers show them).
pub fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    match bytes.max(0) {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.0} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_counts() {
        assert_eq!(duration(8_000), "0:08");
        assert_eq!(duration(187_900), "3:07");
        assert_eq!(duration(3_725_000), "1:02:05");
        assert_eq!(total(30_000), "less than a minute");
        assert_eq!(total(42 * 60_000), "42 min");
        assert_eq!(total(65 * 60_000), "1 h 5 min");
        assert_eq!(count(1, "track", "tracks"), "1 track");
        assert_eq!(count(3, "track", "tracks"), "3 tracks");
        assert_eq!(size(812), "812 B");
        assert_eq!(size(4_200_000), "4.2 MB");
        assert_eq!(size(1_320_000_000), "1.3 GB");
        assert_eq!(query_value("a b&c/é"), "a%20b%26c%2F%C3%A9");
    }

    #[test]
    fn formats_to_the_minute_in_utc() {
        // 2026-11-22T06:30:59.999Z
        assert_eq!(when(Timestamp(1_795_329_059_999)), "2026-11-22 06:30 UTC");
        assert_eq!(when(Timestamp(0)), "1970-01-01 00:00 UTC");
    }
}
