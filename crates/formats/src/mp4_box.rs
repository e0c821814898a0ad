//! A read-only reader of ISO base media (MP4) boxes: it walks box headers, seeking over
//! everything it does not need (`mdat` is never read), and reads small payloads with bounded
//! reads. A size that does not fit its parent is an error, never a panic.

use std::io::{self, Read, Seek, SeekFrom};

/// A box: its four-character type and where its body lies in the file.
#[derive(Debug, Clone, Copy)]
pub struct Mp4Box {
    pub kind: [u8; 4],
    /// Offset of the first byte after the header.
    pub body: u64,
    /// Offset of the first byte after the box.
    pub end: u64,
}

impl Mp4Box {
    /// The boxes inside this one, starting `skip` bytes into the body (4 for a full box such as
    /// `meta`, whose version and flags come first).
    pub fn children(&self, skip: u64) -> Children {
        Children::new(self.body.saturating_add(skip).min(self.end), self.end)
    }

    /// At most the first `max` bytes of the body.
    pub fn read_body<R: Read + Seek>(&self, file: &mut R, max: usize) -> io::Result<Vec<u8>> {
        let len = usize::try_from(self.end - self.body)
            .unwrap_or(usize::MAX)
            .min(max);
        let mut body = vec![0; len];
        file.seek(SeekFrom::Start(self.body))?;
        file.read_exact(&mut body)?;
        Ok(body)
    }
}

/// The boxes that follow one another in `pos..end`, read one header at a time.
pub struct Children {
    pos: u64,
    end: u64,
}

impl Children {
    pub fn new(pos: u64, end: u64) -> Self {
        Self { pos, end }
    }

    /// The next box, or `None` when fewer bytes than a header are left (some writers end a
    /// list with four zero bytes).
    pub fn next<R: Read + Seek>(&mut self, file: &mut R) -> io::Result<Option<Mp4Box>> {
        let left = self.end.saturating_sub(self.pos);
        if left < 8 {
            return Ok(None);
        }
        let mut header = [0u8; 16];
        file.seek(SeekFrom::Start(self.pos))?;
        file.read_exact(&mut header[..8])?;
        let kind = [header[4], header[5], header[6], header[7]];
        let (header_len, size) =
            match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
                // A 64-bit size follows the type.
                1 => {
                    file.read_exact(&mut header[8..])?;
                    (
                        16,
                        u64::from_be_bytes(header[8..].try_into().unwrap_or_default()),
                    )
                }
                // The box runs to the end of its parent.
                0 => (8, left),
                n => (8, u64::from(n)),
            };
        if size < header_len || size > left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an MP4 box does not fit its parent",
            ));
        }
        let found = Mp4Box {
            kind,
            body: self.pos + header_len,
            end: self.pos + size,
        };
        self.pos = found.end;
        Ok(Some(found))
    }

    /// The first remaining box of type `kind`.
    pub fn find<R: Read + Seek>(
        &mut self,
        file: &mut R,
        kind: &[u8; 4],
    ) -> io::Result<Option<Mp4Box>> {
        while let Some(found) = self.next(file)? {
            if &found.kind == kind {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn kinds(data: &[u8]) -> io::Result<Vec<[u8; 4]>> {
        let mut file = Cursor::new(data);
        let mut children = Children::new(0, data.len() as u64);
        let mut out = Vec::new();
        while let Some(found) = children.next(&mut file)? {
            out.push(found.kind);
        }
        Ok(out)
    }

    #[test]
    fn sizes_of_every_kind_are_followed() {
        let mut data = boxed(b"ftyp", b"M4A ");
        // A 64-bit size: header 16 bytes, body 4.
        data.extend_from_slice(&1u32.to_be_bytes());
        data.extend_from_slice(b"mdat");
        data.extend_from_slice(&20u64.to_be_bytes());
        data.extend_from_slice(b"abcd");
        // Size 0: to the end.
        data.extend_from_slice(&0u32.to_be_bytes());
        data.extend_from_slice(b"moov");
        data.extend_from_slice(&[0; 12]);
        assert_eq!(kinds(&data).unwrap(), [*b"ftyp", *b"mdat", *b"moov"]);
    }

    #[test]
    fn sizes_that_do_not_fit_are_errors() {
        for size in [4u32, 7, 1000] {
            let mut data = size.to_be_bytes().to_vec();
            data.extend_from_slice(b"moov");
            data.extend_from_slice(&[0; 8]);
            assert!(kinds(&data).is_err(), "size {size}");
        }
        // A 64-bit size smaller than its own header, or cut off.
        let mut data = 1u32.to_be_bytes().to_vec();
        data.extend_from_slice(b"mdat");
        data.extend_from_slice(&8u64.to_be_bytes());
        assert!(kinds(&data).is_err());
        assert!(kinds(&data[..12]).is_err());
    }
}
