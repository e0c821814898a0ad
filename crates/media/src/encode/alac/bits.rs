//! A bit writer, most significant bit first, as ALAC packets are read.

/// Bits gather in a 64-bit word and leave it for the byte buffer four bytes at a time.
#[derive(Debug, Default)]
pub(super) struct BitWriter {
    bytes: Vec<u8>,
    /// The last `fill` bits written, in the low bits; higher bits are stale.
    acc: u64,
    /// Bits in `acc` not yet in `bytes` (always under 32 between calls).
    fill: u32,
}

/// A position in a [`BitWriter`] to rewind to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    len: usize,
    acc: u64,
    fill: u32,
}

impl BitWriter {
    /// Empties the writer, keeping its buffer.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.acc = 0;
        self.fill = 0;
    }

    /// Writes the low `bits` bits of `value` (`bits` at most 32; higher bits must be zero).
    #[inline]
    pub(super) fn put(&mut self, value: u32, bits: u32) {
        debug_assert!(bits <= 32 && (bits == 32 || value >> bits == 0));
        self.acc = (self.acc << bits) | u64::from(value);
        self.fill += bits;
        if self.fill >= 32 {
            self.fill -= 32;
            let word = (self.acc >> self.fill) as u32;
            self.bytes.extend_from_slice(&word.to_be_bytes());
        }
    }

    /// Bits written so far.
    pub(super) fn len_bits(&self) -> usize {
        self.bytes.len() * 8 + self.fill as usize
    }

    /// The current position.
    pub(super) fn mark(&self) -> Mark {
        Mark {
            len: self.bytes.len(),
            acc: self.acc,
            fill: self.fill,
        }
    }

    /// Forgets everything written after `mark`.
    pub(super) fn rewind(&mut self, mark: Mark) {
        self.bytes.truncate(mark.len);
        self.acc = mark.acc;
        self.fill = mark.fill;
    }

    /// Pads with zero bits to a whole byte and returns the bytes written.
    pub(super) fn finish(&mut self) -> &[u8] {
        while self.fill >= 8 {
            self.fill -= 8;
            self.bytes.push((self.acc >> self.fill) as u8);
        }
        if self.fill > 0 {
            self.bytes.push((self.acc << (8 - self.fill)) as u8);
            self.fill = 0;
        }
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `bits` bits at `pos` of `bytes`, most significant first.
    fn read(bytes: &[u8], pos: usize, bits: usize) -> u64 {
        (pos..pos + bits).fold(0, |v, i| {
            (v << 1) | u64::from(bytes[i / 8] >> (7 - i % 8) & 1)
        })
    }

    #[test]
    fn fields_come_out_msb_first_and_padded() {
        let mut w = BitWriter::default();
        w.put(0b101, 3);
        w.put(0, 0);
        w.put(0xabcd_ef01, 32);
        w.put(1, 1);
        assert_eq!(w.len_bits(), 36);
        assert_eq!(w.finish(), &[0xb5, 0x79, 0xbd, 0xe0, 0x30]);
    }

    #[test]
    fn many_widths_read_back() {
        let mut w = BitWriter::default();
        let mut fields = Vec::new();
        let mut x = 0x1234_5678u32;
        for i in 0..2000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let bits = i % 33;
            let value = if bits == 32 { x } else { x & ((1 << bits) - 1) };
            w.put(value, bits);
            fields.push((value, bits as usize));
        }
        let total = w.len_bits();
        let bytes = w.finish().to_vec();
        assert_eq!(bytes.len(), total.div_ceil(8));
        let mut pos = 0;
        for (value, bits) in fields {
            assert_eq!(read(&bytes, pos, bits), u64::from(value), "at bit {pos}");
            pos += bits;
        }
        assert_eq!(
            read(&bytes, pos, bytes.len() * 8 - pos),
            0,
            "padding is zeros"
        );
    }

    #[test]
    fn rewind_forgets_what_followed_the_mark() {
        let mut w = BitWriter::default();
        w.put(0x5, 3);
        let mark = w.mark();
        for _ in 0..10 {
            w.put(0xffff_ffff, 32);
        }
        w.rewind(mark);
        w.put(0x1f, 5);
        assert_eq!(w.len_bits(), 8);
        assert_eq!(w.finish(), &[0xbf]);
        w.clear();
        assert_eq!(w.finish(), &[] as &[u8]);
    }
}
