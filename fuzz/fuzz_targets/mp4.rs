//! MP4 files: the box reader and the gapless trim read any bytes without panicking, and a trim
//! from an edit list stays inside the media (checked by the property tests on built files).
#![no_main]

use std::io::Cursor;

use clef_formats::mp4_gapless::read_from;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_from(&mut Cursor::new(data), 44_100);
    let _ = read_from(&mut Cursor::new(data), 0);
});
