//! AAC-LC for streaming: FDK AAC's access units, each behind the 7-byte ADTS header that lets
//! a player start anywhere and needs nothing written at the end.

use std::io::Write;
use std::path::PathBuf;

use clef_fdk_aac::AacEncoder as Fdk;

use super::aac::Feeder;
use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, OutputSpec};

const NAME: &str = "AAC";

/// The sampling-frequency indexes ADTS (and the AudioSpecificConfig) use.
const RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// The ADTS header of one access unit of `payload` bytes: MPEG-4, no CRC, AAC-LC.
pub(crate) fn adts_header(rate_index: u8, channels: u8, payload: usize) -> Option<[u8; 7]> {
    let len = payload + 7;
    if len >= 1 << 13 || channels > 7 || rate_index > 12 {
        return None;
    }
    // 0x7FF buffer fullness: a variable rate, as far as the header says.
    let fullness = 0x7FFu32;
    let profile = 1u8; // AAC-LC is object type 2, written as 2 - 1
    Some([
        0xFF,
        0xF1, // sync, MPEG-4, layer 0, no CRC
        (profile << 6) | (rate_index << 2) | (channels >> 2),
        ((channels & 3) << 6) | ((len >> 11) as u8 & 0x03),
        ((len >> 3) & 0xFF) as u8,
        (((len & 7) as u8) << 5) | ((fullness >> 6) as u8 & 0x1F),
        (((fullness & 0x3F) as u8) << 2), // one raw data block
    ])
}

struct AdtsEncoder {
    feeder: Feeder,
    out: Box<dyn Write + Send>,
    rate_index: u8,
    channels: u8,
}

/// An AAC encoder writing ADTS to a stream.
pub fn create_stream(
    out: Box<dyn Write + Send>,
    spec: &OutputSpec,
) -> Result<Box<dyn Encoder>, MediaError> {
    let FormatSettings::Aac { kbps } = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-AAC settings"));
    };
    if spec.bits_per_sample != 16 {
        return Err(MediaError::encode(NAME, "the encoder takes 16-bit samples"));
    }
    let rate_index = RATES
        .iter()
        .position(|&r| r == spec.sample_rate)
        .ok_or_else(|| MediaError::encode(NAME, format!("no ADTS rate {}", spec.sample_rate)))?;
    let channels = u8::try_from(spec.channels)
        .ok()
        .filter(|c| (1..=2).contains(c))
        .ok_or_else(|| MediaError::encode(NAME, "1 or 2 channels"))?;
    let fdk = Fdk::new(spec.sample_rate, spec.channels, u32::from(kbps) * 1000)
        .map_err(|e| MediaError::encode(NAME, e))?;
    Ok(Box::new(AdtsEncoder {
        feeder: Feeder::new(fdk),
        out,
        rate_index: rate_index as u8,
        channels,
    }))
}

impl AdtsEncoder {
    fn send(&mut self) -> Result<(), MediaError> {
        let gone = |e| MediaError::io(std::path::Path::new("(stream)"), e);
        for au in self.feeder.packets.drain(..) {
            let header = adts_header(self.rate_index, self.channels, au.len())
                .ok_or_else(|| MediaError::encode(NAME, "an access unit too large for ADTS"))?;
            self.out.write_all(&header).map_err(gone)?;
            self.out.write_all(&au).map_err(gone)?;
        }
        Ok(())
    }
}

impl Encoder for AdtsEncoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        self.feeder.write(block)?;
        self.send()
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, MediaError> {
        self.feeder.flush()?;
        self.send()?;
        self.out
            .flush()
            .map_err(|e| MediaError::io(std::path::Path::new("(stream)"), e))?;
        Ok(PathBuf::from("(stream)"))
    }
}

#[cfg(test)]
mod tests {
    use super::adts_header;

    #[test]
    fn the_header_carries_rate_channels_and_length() {
        // 44.1 kHz (index 4), stereo, 371 bytes of payload: 378 in all.
        let h = adts_header(4, 2, 371).unwrap();
        assert_eq!(h[0], 0xFF);
        assert_eq!(h[1] & 0xF6, 0xF0, "sync, MPEG-4, layer 0");
        assert_eq!(h[1] & 1, 1, "no CRC");
        assert_eq!(h[2] >> 6, 1, "AAC-LC");
        assert_eq!((h[2] >> 2) & 0xF, 4);
        assert_eq!(((h[2] & 1) << 2) | (h[3] >> 6), 2);
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        assert_eq!(len, 378);
        assert_eq!(h[6] & 3, 0, "one raw data block");
        assert!(adts_header(4, 2, 8192).is_none(), "13 bits of length");
    }
}
