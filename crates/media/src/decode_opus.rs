//! Opus in Ogg, which Symphonia cannot decode, through opus-pure: packets from its Ogg reader,
//! decoded at 48 kHz, with the header's pre-skip taken off the front and the end-trim off the
//! back (RFC 7845), so the output has exactly the frames the encoder was given.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use opus_pure::{OggOpusReader, OpusDecoder, Trim, MAX_PACKET_SAMPLES};

use crate::decode::{Decoder, LOSSY_BITS};
use crate::{AudioBlock, MediaError, StreamSpec};

/// Opus always decodes at 48 kHz.
const RATE: u32 = 48_000;

pub struct OpusFileDecoder {
    path: PathBuf,
    reader: OggOpusReader<BufReader<File>>,
    decoder: OpusDecoder,
    trim: Trim,
    decoded: Vec<f32>,
    spec: StreamSpec,
    block: AudioBlock,
}

/// Whether `path` holds an Ogg stream whose first packet is an Opus header.
pub fn is_ogg_opus(path: &Path) -> bool {
    // A page header is 27 bytes and a segment table; the first packet follows.
    let mut page = [0u8; 27 + 255 + 8];
    let Ok(n) = File::open(path).and_then(|mut f| f.read(&mut page)) else {
        return false;
    };
    if n < 27 || &page[..4] != b"OggS" {
        return false;
    }
    let start = 27 + usize::from(page[26]);
    page.get(start..start + 8) == Some(b"OpusHead".as_slice())
}

impl OpusFileDecoder {
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let corrupt = |e: opus_pure::Error| MediaError::CorruptSource {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let file = File::open(path).map_err(|e| MediaError::io(path, e))?;
        let reader = OggOpusReader::new(BufReader::new(file)).map_err(corrupt)?;
        let head = reader.head().clone();
        let channels = usize::from(head.channel_count);
        if head.mapping_family != 0 || !(1..=2).contains(&channels) {
            return Err(MediaError::UnsupportedSource {
                path: path.to_path_buf(),
                reason: format!(
                    "Opus with {channels} channels (mapping family {}): only mono and stereo",
                    head.mapping_family
                ),
            });
        }
        let decoder = head.decoder(RATE as i32).map_err(corrupt)?;
        let trim = Trim::new(&head, RATE as i32, channels).map_err(corrupt)?;
        Ok(OpusFileDecoder {
            path: path.to_path_buf(),
            reader,
            decoder,
            trim,
            decoded: vec![0.0; MAX_PACKET_SAMPLES * channels],
            spec: StreamSpec {
                sample_rate: RATE,
                channels: u16::from(head.channel_count),
                bits_per_sample: LOSSY_BITS,
                total_frames: None,
                lossless: false,
            },
            block: AudioBlock {
                samples: Vec::new(),
                channels: u16::from(head.channel_count),
            },
        })
    }
}

impl Decoder for OpusFileDecoder {
    fn spec(&self) -> &StreamSpec {
        &self.spec
    }

    fn next_block(&mut self) -> Result<Option<&AudioBlock>, MediaError> {
        let corrupt = |e: opus_pure::Error| MediaError::CorruptSource {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        let channels = usize::from(self.spec.channels);
        // Packets wholly inside the pre-skip give nothing: read on until one gives audio.
        loop {
            let Some(packet) = self.reader.read_packet().map_err(corrupt)? else {
                return Ok(None);
            };
            let n = self
                .decoder
                .decode(&packet.data, MAX_PACKET_SAMPLES, &mut self.decoded)
                .map_err(corrupt)?;
            let kept = self.trim.keep(&packet, &self.decoded[..n * channels]);
            if kept.is_empty() {
                continue;
            }
            let full = f64::from((1u32 << (LOSSY_BITS - 1)) - 1);
            self.block.samples.clear();
            self.block.samples.extend(
                kept.iter()
                    .map(|&x| (f64::from(x) * full).round().clamp(-full - 1.0, full) as i32),
            );
            return Ok(Some(&self.block));
        }
    }
}
