//! `Range` headers: any value, any file size; a partial answer always lies inside the file.
#![no_main]

use clef_formats::range::{parse_range, RangeRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64)| {
    let (value, size) = input;
    if let RangeRequest::Partial(r) = parse_range(Some(value), size) {
        assert!(
            r.start <= r.end && r.end < size,
            "{value:?} of {size}: {r:?}"
        );
    }
});
