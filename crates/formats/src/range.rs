//! The HTTP `Range` header of a stream request (RFC 9110 §14.1.2).

/// A byte range of a file of `size` bytes: `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// What a `Range` header asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    Full,
    Partial(ByteRange),
    Unsatisfiable,
}

/// Parses a single `bytes=` range (RFC 9110 §14.1.2). Several ranges, other units or syntax we do
/// not understand get the whole file, as the RFC allows.
pub fn parse_range(value: Option<&str>, size: u64) -> RangeRequest {
    let Some(v) = value else {
        return RangeRequest::Full;
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if a.is_empty() {
        // Suffix: the last `b` bytes.
        if !digits(b) {
            return RangeRequest::Full;
        }
        let n: u64 = b.parse().unwrap_or(u64::MAX);
        if n == 0 || size == 0 {
            return RangeRequest::Unsatisfiable;
        }
        let n = n.min(size);
        return RangeRequest::Partial(ByteRange {
            start: size - n,
            end: size - 1,
        });
    }
    if !digits(a) || !(b.is_empty() || digits(b)) {
        return RangeRequest::Full;
    }
    let start: u64 = a.parse().unwrap_or(u64::MAX);
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    let end = if b.is_empty() {
        size - 1
    } else {
        let e: u64 = b.parse().unwrap_or(u64::MAX);
        if e < start {
            return RangeRequest::Full;
        }
        e.min(size - 1)
    };
    RangeRequest::Partial(ByteRange { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range(None, 100), RangeRequest::Full);
        assert_eq!(parse_range(Some("bytes=0-0"), 100), r(0, 0));
        assert_eq!(parse_range(Some("bytes=10-19"), 100), r(10, 19));
        assert_eq!(parse_range(Some("bytes=90-"), 100), r(90, 99));
        assert_eq!(parse_range(Some("bytes=90-500"), 100), r(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), r(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), r(0, 99));
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            parse_range(Some("bytes=-0"), 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            parse_range(Some("bytes=0-"), 0),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=5-2"), 100), RangeRequest::Full);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), RangeRequest::Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), RangeRequest::Full);
        assert_eq!(parse_range(Some("bytes=a-b"), 100), RangeRequest::Full);
        assert_eq!(
            parse_range(Some("bytes=99999999999999999999999-"), 100),
            RangeRequest::Unsatisfiable
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any header, any size: a partial answer lies inside the file.
        #[test]
        fn a_range_always_lies_inside_the_file(value in "(bytes=)?[0-9 ,-]{0,24}|.*", size in 0u64..1 << 40) {
            if let RangeRequest::Partial(r) = parse_range(Some(&value), size) {
                prop_assert!(r.start <= r.end && r.end < size, "{value:?} of {size}: {r:?}");
            }
        }

        /// A well-formed range inside the file is answered exactly.
        #[test]
        fn a_range_inside_the_file_is_exact(size in 1u64..1 << 40, a in any::<u64>(), b in any::<u64>()) {
            let (start, end) = (a % size, b % size);
            let (start, end) = (start.min(end), start.max(end));
            let got = parse_range(Some(&format!("bytes={start}-{end}")), size);
            prop_assert_eq!(got, RangeRequest::Partial(ByteRange { start, end }));
        }
    }
}
