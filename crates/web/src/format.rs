//! Values formatted for people: times in UTC to the minute.

use clef_core::Timestamp;
use time::OffsetDateTime;

/// "2026-11-22 06:30 UTC".
pub fn when(ts: Timestamp) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts.millis()) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => ts.to_rfc3339(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_to_the_minute_in_utc() {
        // 2026-11-22T06:30:59.999Z
        assert_eq!(when(Timestamp(1_795_329_059_999)), "2026-11-22 06:30 UTC");
        assert_eq!(when(Timestamp(0)), "1970-01-01 00:00 UTC");
    }
}
