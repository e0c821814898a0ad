//! Stream descriptions, PCM blocks and the user-facing output settings with their validation.

use crate::MediaError;

/// What a decoder produces: the shape of the PCM stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSpec {
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels per frame.
    pub channels: u16,
    /// Significant bits of each sample; samples range over `-(2^(bits-1))..2^(bits-1)`.
    pub bits_per_sample: u32,
    /// Frames the container announces, when it does.
    pub total_frames: Option<u64>,
    /// False for lossy sources (MP3, AAC, Vorbis): their decoded floats are rounded to 24 bits.
    pub lossless: bool,
}

/// A block of interleaved PCM: `samples.len() == frames * channels`.
///
/// Samples are `i32` right-aligned to the stream's bit depth (a 16-bit sample is in
/// `-32768..=32767`), so lossless sources pass through the pipeline bit-exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioBlock {
    /// Interleaved samples, frame after frame.
    pub samples: Vec<i32>,
    /// Channels per frame.
    pub channels: u16,
}

impl AudioBlock {
    /// Frames in the block.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// The container/codec of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutputFormat {
    /// RIFF WAVE, PCM.
    Wav,
    /// AIFF, big-endian PCM.
    Aiff,
    /// FLAC.
    Flac,
    /// MPEG-1 Layer III through LAME.
    Mp3,
    /// AAC-LC in an M4A file (FDK AAC).
    Aac,
    /// Apple Lossless in an M4A file.
    Alac,
}

impl OutputFormat {
    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Aiff => "aiff",
            Self::Flac => "flac",
            Self::Mp3 => "mp3",
            Self::Aac | Self::Alac => "m4a",
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wav => "WAV",
            Self::Aiff => "AIFF",
            Self::Flac => "FLAC",
            Self::Mp3 => "MP3",
            Self::Aac => "AAC",
            Self::Alac => "ALAC",
        }
    }
}

/// Bit depth of a lossless output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitDepth {
    /// Keep the source's depth (24 for lossy sources).
    #[default]
    SameAsSource,
    /// 16-bit; reducing to it is dithered.
    Bits16,
    /// 24-bit.
    Bits24,
}

/// The rates a lossless export can be resampled to.
pub const OUTPUT_RATES: [u32; 6] = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000];

/// Output sample rate of a lossless export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleRate {
    /// Keep the source's rate.
    #[default]
    SameAsSource,
    /// One of [`OUTPUT_RATES`], resampled.
    Hz(u32),
}

/// MP3 rate control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp3Mode {
    /// Constant bit rate in kbps: 128, 160, 192, 224, 256 or 320.
    Cbr(u16),
    /// LAME VBR quality V0 (best) to V4.
    Vbr(u8),
}

/// The LAME CBR steps we offer (MPEG-1 Layer III rates from 128 kbps).
pub const MP3_CBR_KBPS: [u16; 6] = [128, 160, 192, 224, 256, 320];

/// The AAC bit rates offered, in kbps.
pub const AAC_KBPS: [u16; 7] = [96, 128, 160, 192, 224, 256, 320];

/// AAC-LC is written at 48 kHz at most: higher source rates are resampled to 44.1 kHz (from
/// multiples of 44.1) or 48 kHz, which every player and car stereo takes.
pub fn aac_output_rate(rate: u32) -> u32 {
    match rate {
        0..=48_000 => rate,
        r if r % 44_100 == 0 => 44_100,
        _ => 48_000,
    }
}

/// Format-specific choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatSettings {
    /// WAV at a bit depth.
    Wav {
        /// Output depth.
        depth: BitDepth,
    },
    /// AIFF at a bit depth.
    Aiff {
        /// Output depth.
        depth: BitDepth,
    },
    /// FLAC at a bit depth and compression level 0..=8.
    Flac {
        /// Output depth.
        depth: BitDepth,
        /// Compression level, as `flac -0` … `flac -8`.
        level: u8,
    },
    /// MP3 with a rate control.
    Mp3(Mp3Mode),
    /// AAC-LC at a constant bit rate.
    Aac {
        /// Bit rate in kbps, one of [`AAC_KBPS`].
        kbps: u16,
    },
    /// Apple Lossless at a bit depth (16 or 24).
    Alac {
        /// Output depth.
        depth: BitDepth,
    },
}

impl FormatSettings {
    /// The output format these settings are for.
    pub fn format(&self) -> OutputFormat {
        match self {
            Self::Wav { .. } => OutputFormat::Wav,
            Self::Aiff { .. } => OutputFormat::Aiff,
            Self::Flac { .. } => OutputFormat::Flac,
            Self::Mp3(_) => OutputFormat::Mp3,
            Self::Aac { .. } => OutputFormat::Aac,
            Self::Alac { .. } => OutputFormat::Alac,
        }
    }

    fn depth(&self) -> Option<BitDepth> {
        match self {
            Self::Wav { depth }
            | Self::Aiff { depth }
            | Self::Flac { depth, .. }
            | Self::Alac { depth } => Some(*depth),
            Self::Mp3(_) | Self::Aac { .. } => None,
        }
    }
}

/// Everything a user chooses for one export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Format and its options.
    pub format: FormatSettings,
    /// Output sample rate.
    pub sample_rate: SampleRate,
    /// Seed of the dither noise, so a conversion is reproducible (and tests exact).
    pub dither_seed: u64,
}

impl Settings {
    /// Settings for `format` at the source's rate, with a fixed dither seed.
    pub fn new(format: FormatSettings) -> Self {
        Self {
            format,
            sample_rate: SampleRate::SameAsSource,
            dither_seed: 0x5eed,
        }
    }

    /// Refuses settings outside what the encoders support, before any file is touched.
    pub fn validate(&self) -> Result<(), MediaError> {
        match self.format {
            FormatSettings::Mp3(Mp3Mode::Cbr(kbps)) if !MP3_CBR_KBPS.contains(&kbps) => {
                return Err(MediaError::UnsupportedSetting(format!(
                    "MP3 CBR {kbps} kbps: choose one of {MP3_CBR_KBPS:?}"
                )));
            }
            FormatSettings::Mp3(Mp3Mode::Vbr(q)) if q > 4 => {
                return Err(MediaError::UnsupportedSetting(format!(
                    "MP3 VBR V{q}: choose V0 to V4"
                )));
            }
            FormatSettings::Aac { kbps } if !AAC_KBPS.contains(&kbps) => {
                return Err(MediaError::UnsupportedSetting(format!(
                    "AAC {kbps} kbps: choose one of {AAC_KBPS:?}"
                )));
            }
            FormatSettings::Flac { level, .. } if level > 8 => {
                return Err(MediaError::UnsupportedSetting(format!(
                    "FLAC level {level}: choose 0 to 8"
                )));
            }
            _ => {}
        }
        match (self.sample_rate, self.format) {
            (SampleRate::SameAsSource, _) => Ok(()),
            (SampleRate::Hz(_), FormatSettings::Mp3(_)) => Err(MediaError::UnsupportedSetting(
                "MP3 keeps the source's sample rate (up to 48 kHz)".into(),
            )),
            (SampleRate::Hz(_), FormatSettings::Aac { .. }) => Err(MediaError::UnsupportedSetting(
                "AAC keeps the source's sample rate (up to 48 kHz)".into(),
            )),
            (SampleRate::Hz(hz), _) if OUTPUT_RATES.contains(&hz) => Ok(()),
            (SampleRate::Hz(hz), _) => Err(MediaError::UnsupportedSetting(format!(
                "sample rate {hz} Hz: choose one of {OUTPUT_RATES:?} or the source's"
            ))),
        }
    }

    /// The output stream for a source: the sample rate and depth the encoder will receive.
    pub fn output_spec(&self, source: &StreamSpec) -> Result<OutputSpec, MediaError> {
        self.validate()?;
        let bits_per_sample = match self.format.depth() {
            Some(BitDepth::Bits16) => 16,
            Some(BitDepth::Bits24) => 24,
            // Encoders take 16 or 24 bits; an 8- or 20-bit source is widened exactly.
            Some(BitDepth::SameAsSource) if source.bits_per_sample <= 16 => 16,
            Some(BitDepth::SameAsSource) if source.bits_per_sample <= 24 => 24,
            Some(BitDepth::SameAsSource) => {
                return Err(MediaError::UnsupportedSetting(format!(
                    "{}-bit source: choose 16 or 24 bits",
                    source.bits_per_sample
                )));
            }
            // The FDK encoder takes 16-bit samples (dithered from deeper sources).
            None if self.format.format() == OutputFormat::Aac => 16,
            // LAME takes full-scale 32-bit integers, so MP3 gets the source depth untouched.
            None => source.bits_per_sample,
        };
        let format = self.format.format();
        // MP3 and AAC hold one or two channels: more are folded into stereo.
        let channels = if matches!(format, OutputFormat::Mp3 | OutputFormat::Aac) {
            source.channels.min(2)
        } else {
            source.channels
        };
        let sample_rate = match self.sample_rate {
            SampleRate::SameAsSource if format == OutputFormat::Aac => {
                aac_output_rate(source.sample_rate)
            }
            SampleRate::SameAsSource => source.sample_rate,
            SampleRate::Hz(hz) => hz,
        };
        // The resampler turns n frames into exactly ⌈n × out / in⌉.
        let total_frames = source.total_frames.map(|n| {
            let (from, to) = (
                u128::from(source.sample_rate.max(1)),
                u128::from(sample_rate),
            );
            u64::try_from((u128::from(n) * to).div_ceil(from)).unwrap_or(u64::MAX)
        });
        Ok(OutputSpec {
            format: self.format,
            sample_rate,
            channels,
            bits_per_sample,
            total_frames,
        })
    }
}

/// What an encoder is created for: resolved settings plus the PCM it will receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSpec {
    /// Format and its options.
    pub format: FormatSettings,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
    /// Bit depth of the blocks passed to [`crate::Encoder::write`].
    pub bits_per_sample: u32,
    /// Frames the encoder should receive, when the source announces its length: a hint (for a
    /// FLAC seek table), not a promise.
    pub total_frames: Option<u64>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn source(bits: u32, channels: u16) -> StreamSpec {
        StreamSpec {
            sample_rate: 96_000,
            channels,
            bits_per_sample: bits,
            total_frames: None,
            lossless: true,
        }
    }

    #[test]
    fn valid_settings_pass_and_others_are_refused() {
        for kbps in MP3_CBR_KBPS {
            Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(kbps)))
                .validate()
                .unwrap();
        }
        for v in 0..=4 {
            Settings::new(FormatSettings::Mp3(Mp3Mode::Vbr(v)))
                .validate()
                .unwrap();
        }
        for level in 0..=8 {
            let depth = BitDepth::SameAsSource;
            Settings::new(FormatSettings::Flac { depth, level })
                .validate()
                .unwrap();
        }
        let refused = [
            Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(129))),
            Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(96))),
            Settings::new(FormatSettings::Mp3(Mp3Mode::Vbr(5))),
            Settings::new(FormatSettings::Flac {
                depth: BitDepth::Bits16,
                level: 9,
            }),
            Settings {
                sample_rate: SampleRate::Hz(47_000),
                ..Settings::new(FormatSettings::Wav {
                    depth: BitDepth::Bits16,
                })
            },
            Settings {
                sample_rate: SampleRate::Hz(48_000),
                ..Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(320)))
            },
        ];
        for settings in refused {
            let err = settings.validate().unwrap_err();
            assert!(
                matches!(err, MediaError::UnsupportedSetting(_)),
                "{settings:?}: {err}"
            );
        }
    }

    #[test]
    fn output_depth_follows_the_settings_and_the_source() {
        let wav = |depth| Settings::new(FormatSettings::Wav { depth });
        let bits = |s: Settings, src| s.output_spec(&src).unwrap().bits_per_sample;
        assert_eq!(bits(wav(BitDepth::SameAsSource), source(24, 2)), 24);
        assert_eq!(bits(wav(BitDepth::SameAsSource), source(16, 2)), 16);
        assert_eq!(bits(wav(BitDepth::SameAsSource), source(8, 2)), 16);
        assert_eq!(bits(wav(BitDepth::Bits16), source(24, 2)), 16);
        assert_eq!(bits(wav(BitDepth::Bits24), source(16, 2)), 24);
        let alac = |depth| Settings::new(FormatSettings::Alac { depth });
        assert_eq!(bits(alac(BitDepth::SameAsSource), source(24, 2)), 24);
        assert_eq!(bits(alac(BitDepth::SameAsSource), source(16, 6)), 16);
        assert_eq!(bits(alac(BitDepth::Bits16), source(24, 2)), 16);
        assert_eq!(bits(alac(BitDepth::Bits24), source(16, 1)), 24);
        let mp3 = Settings::new(FormatSettings::Mp3(Mp3Mode::Cbr(320)));
        assert_eq!(bits(mp3, source(24, 2)), 24);
        assert_eq!(
            mp3.output_spec(&source(16, 6)).unwrap().channels,
            2,
            "MP3 gets six channels folded into two"
        );
        assert!(wav(BitDepth::SameAsSource)
            .output_spec(&source(32, 2))
            .is_err());
    }

    #[test]
    fn the_length_hint_follows_the_rate() {
        let flac = |rate| Settings {
            sample_rate: rate,
            ..Settings::new(FormatSettings::Flac {
                depth: BitDepth::SameAsSource,
                level: 5,
            })
        };
        let known = StreamSpec {
            total_frames: Some(96_001),
            ..source(24, 2)
        };
        let hint = |s: Settings, src| s.output_spec(&src).unwrap().total_frames;
        assert_eq!(hint(flac(SampleRate::SameAsSource), known), Some(96_001));
        // ⌈96,001 × 44,100 / 96,000⌉, as the resampler delivers.
        assert_eq!(hint(flac(SampleRate::Hz(44_100)), known), Some(44_101));
        assert_eq!(hint(flac(SampleRate::Hz(192_000)), known), Some(192_002));
        assert_eq!(hint(flac(SampleRate::Hz(48_000)), source(24, 2)), None);
    }
}
