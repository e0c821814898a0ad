//! The bit writer of FLAC frames (most significant bit first) and the two CRCs a frame carries:
//! CRC-8 over the header and CRC-16 over the whole frame.

/// Writes bits most significant first into a byte buffer.
///
/// Up to 63 bits wait in an accumulator; every 32 complete bits move to the buffer as 4 bytes.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl BitWriter {
    /// Empties the writer, keeping its allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.acc = 0;
        self.pending = 0;
    }

    /// Bits written so far.
    #[cfg(test)]
    pub fn bit_len(&self) -> usize {
        self.bytes.len() * 8 + self.pending as usize
    }

    /// Writes the low `bits` bits of `value` (`bits` ≤ 32; higher bits of `value` are ignored).
    #[inline]
    pub fn write(&mut self, value: u32, bits: u32) {
        debug_assert!(bits <= 32);
        let masked = u64::from(value) & ((1u64 << bits) - 1);
        self.acc = (self.acc << bits) | masked;
        self.pending += bits;
        if self.pending >= 32 {
            self.pending -= 32;
            // Only the low 32 bits of the shifted accumulator are the complete word.
            self.bytes
                .extend_from_slice(&((self.acc >> self.pending) as u32).to_be_bytes());
        }
    }

    /// Writes `value` as a two's complement number of `bits` bits.
    #[inline]
    pub fn write_signed(&mut self, value: i32, bits: u32) {
        self.write(value as u32, bits);
    }

    /// Writes `count` zero bits.
    pub fn write_zeros(&mut self, mut count: u32) {
        while count > 32 {
            self.write(0, 32);
            count -= 32;
        }
        self.write(0, count);
    }

    /// Writes `value` in unary: `value` zeros, then a one.
    pub fn write_unary(&mut self, value: u32) {
        self.write_zeros(value);
        self.write(1, 1);
    }

    /// Writes `folded` (a zigzag-folded residual) as a Rice code with parameter `k`: the
    /// quotient in unary, then the low `k` bits.
    #[inline]
    pub fn write_rice(&mut self, folded: u32, k: u32) {
        let quotient = folded >> k;
        // The stop bit and the remainder: k + 1 bits, with the stop bit on top.
        let tail = (1u32 << k) | (folded & ((1u32 << k) - 1));
        if quotient + k < 32 {
            self.write(tail, quotient + k + 1);
        } else {
            self.write_zeros(quotient);
            self.write(tail, k + 1);
        }
    }

    /// Pads with zero bits to the next byte boundary.
    pub fn align(&mut self) {
        let partial = self.pending % 8;
        if partial != 0 {
            self.write(0, 8 - partial);
        }
    }

    /// Pads to a byte boundary and returns every byte written.
    pub fn bytes(&mut self) -> &[u8] {
        self.align();
        while self.pending > 0 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
        &self.bytes
    }
}

/// Zigzag folding of a residual, as Rice codes store it: 0, -1, 1, -2 … become 0, 1, 2, 3 …
#[inline]
pub fn fold(residual: i32) -> u32 {
    ((residual << 1) ^ (residual >> 31)) as u32
}

const fn crc8_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// CRC-16 tables for eight bytes at a time: `table[k][b]` is the CRC of byte `b` followed by
/// `k` zero bytes.
const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut tables = [[0u16; 256]; 8];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = (byte as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
            bit += 1;
        }
        tables[0][byte] = crc;
        byte += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut byte = 0;
        while byte < 256 {
            let prev = tables[k - 1][byte];
            tables[k][byte] = (prev << 8) ^ tables[0][(prev >> 8) as usize];
            byte += 1;
        }
        k += 1;
    }
    tables
}

static CRC8: [u8; 256] = crc8_table();
static CRC16: [[u16; 256]; 8] = crc16_tables();

/// CRC-8 with polynomial x⁸ + x² + x + 1, initial value 0: the frame header's check.
pub fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0, |crc, &b| CRC8[usize::from(crc ^ b)])
}

/// CRC-16 with polynomial x¹⁶ + x¹⁵ + x² + 1, initial value 0: the whole frame's check.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let [hi, lo] = crc.to_be_bytes();
        crc = CRC16[7][usize::from(c[0] ^ hi)]
            ^ CRC16[6][usize::from(c[1] ^ lo)]
            ^ CRC16[5][usize::from(c[2])]
            ^ CRC16[4][usize::from(c[3])]
            ^ CRC16[3][usize::from(c[4])]
            ^ CRC16[2][usize::from(c[5])]
            ^ CRC16[1][usize::from(c[6])]
            ^ CRC16[0][usize::from(c[7])];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ CRC16[0][usize::from((crc >> 8) as u8 ^ b)];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crcs_match_the_catalogue_check_values() {
        // CRC-8/SMBUS and CRC-16/UMTS are FLAC's two CRCs; "123456789" is the usual check input.
        assert_eq!(crc8(b"123456789"), 0xf4);
        assert_eq!(crc16(b"123456789"), 0xfee8);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn crc16_eight_at_a_time_agrees_with_bit_by_bit() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 999, 1000] {
            let mut crc = 0u16;
            for &b in &data[..len] {
                crc ^= u16::from(b) << 8;
                for _ in 0..8 {
                    crc = if crc & 0x8000 != 0 {
                        (crc << 1) ^ 0x8005
                    } else {
                        crc << 1
                    };
                }
            }
            assert_eq!(crc16(&data[..len]), crc, "length {len}");
        }
    }

    #[test]
    fn bits_are_packed_most_significant_first() {
        let mut w = BitWriter::default();
        w.write(0b101, 3);
        w.write_signed(-1, 5);
        w.write(0xabcd_ef01, 32);
        w.write_unary(3);
        w.write(0xffff_ffff, 0);
        assert_eq!(w.bit_len(), 3 + 5 + 32 + 4);
        assert_eq!(
            w.bytes(),
            &[0b1011_1111, 0xab, 0xcd, 0xef, 0x01, 0b0001_0000]
        );
    }

    #[test]
    fn long_runs_of_zeros_cross_words() {
        let mut w = BitWriter::default();
        w.write(1, 1);
        w.write_unary(70);
        let bytes = w.bytes().to_vec();
        // 1, seventy zeros, 1: bits 0 and 71 set, 72 bits in all.
        assert_eq!(bytes.len(), 9);
        assert_eq!(bytes[0], 0x80);
        assert!(bytes[1..8].iter().all(|&b| b == 0));
        assert_eq!(bytes[8], 0x01);
    }

    #[test]
    fn rice_codes_are_unary_quotient_then_remainder() {
        assert_eq!(
            [fold(0), fold(-1), fold(1), fold(-2), fold(2)],
            [0, 1, 2, 3, 4]
        );
        assert_eq!(fold(i32::MIN), u32::MAX);
        let mut w = BitWriter::default();
        // 11 with k = 2: quotient 2 (001), remainder 3 (11).
        w.write_rice(11, 2);
        // 0 with k = 0: a lone stop bit.
        w.write_rice(0, 0);
        // 5 with k = 3: quotient 0 (1), remainder 101.
        w.write_rice(5, 3);
        assert_eq!(w.bytes(), &[0b0011_1111, 0b0100_0000]);
        // A quotient too long for one write: 40 zeros, the stop bit, four remainder bits.
        let mut w = BitWriter::default();
        w.write_rice((40 << 4) | 0b1010, 4);
        assert_eq!(w.bit_len(), 45);
        assert_eq!(w.bytes(), &[0, 0, 0, 0, 0, 0b1101_0000]);
    }
}
