//! The settings a listener picks, as the API and the store carry them, turned into the media
//! pipeline's settings with a clear message for every value it cannot take.

use clef_media::{BitDepth, FormatSettings, Mp3Mode, SampleRate, Settings, AAC_KBPS, MP3_CBR_KBPS};
use serde::{Deserialize, Serialize};

use crate::{ExportError, ExportResult};

/// Output settings: `{"format": "mp3", "bitrate": 320}`, `{"format": "mp3", "vbr": 0}`,
/// `{"format": "aac", "bitrate": 256}`, `{"format": "flac", "bit_depth": 16, "compression": 8}`,
/// `{"format": "wav"}`, `{"format": "alac"}`, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSettings {
    /// `mp3`, `aac`, `flac`, `alac`, `wav` or `aiff`.
    pub format: String,
    /// MP3 constant bit rate in kbps (128, 160, 192, 224, 256, 320) or AAC bit rate (96, 128,
    /// 160, 192, 224, 256, 320).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u16>,
    /// MP3 variable bit rate quality, 0 (best) to 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vbr: Option<u8>,
    /// Lossless bit depth, 16 or 24; absent keeps the source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u8>,
    /// Lossless sample rate in Hz; absent keeps the source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// FLAC compression level 0–8 (5 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<u8>,
}

impl ExportSettings {
    /// The media pipeline's settings; refuses combinations that make no sense for the format.
    pub fn to_media(&self) -> ExportResult<Settings> {
        let bad = |m: String| Err(ExportError::BadSettings(m));
        let format = self.format.trim().to_ascii_lowercase();
        let lossless = matches!(format.as_str(), "flac" | "wav" | "aiff" | "alac");
        if lossless && (self.bitrate.is_some() || self.vbr.is_some()) {
            return bad(format!("{format} is lossless: it takes no bitrate or vbr"));
        }
        if !lossless && (self.bit_depth.is_some() || self.sample_rate.is_some()) {
            return bad(format!(
                "bit_depth and sample_rate are for lossless formats, not {format}"
            ));
        }
        if format == "aac" && self.vbr.is_some() {
            return bad("AAC is written at a constant bitrate: it takes no vbr".into());
        }
        if format != "flac" && self.compression.is_some() {
            return bad("compression is a FLAC setting".into());
        }
        let depth = match self.bit_depth {
            None => BitDepth::SameAsSource,
            Some(16) => BitDepth::Bits16,
            Some(24) => BitDepth::Bits24,
            Some(n) => return bad(format!("bit_depth {n}: choose 16 or 24")),
        };
        let format = match format.as_str() {
            "mp3" => match (self.bitrate, self.vbr) {
                (Some(_), Some(_)) => return bad("MP3: choose a bitrate or vbr, not both".into()),
                (Some(kbps), None) if MP3_CBR_KBPS.contains(&kbps) => {
                    FormatSettings::Mp3(Mp3Mode::Cbr(kbps))
                }
                (Some(kbps), None) => {
                    return bad(format!(
                        "MP3 bitrate {kbps} kbps: choose one of {MP3_CBR_KBPS:?}"
                    ))
                }
                (None, Some(q)) if q <= 4 => FormatSettings::Mp3(Mp3Mode::Vbr(q)),
                (None, Some(q)) => return bad(format!("MP3 vbr {q}: choose 0 (best) to 4")),
                (None, None) => FormatSettings::Mp3(Mp3Mode::Cbr(320)),
            },
            "flac" => match self.compression.unwrap_or(5) {
                level @ 0..=8 => FormatSettings::Flac { depth, level },
                n => return bad(format!("FLAC compression {n}: choose 0 to 8")),
            },
            "aac" => match self.bitrate.unwrap_or(256) {
                kbps if AAC_KBPS.contains(&kbps) => FormatSettings::Aac { kbps },
                kbps => {
                    return bad(format!(
                        "AAC bitrate {kbps} kbps: choose one of {AAC_KBPS:?}"
                    ))
                }
            },
            "alac" => FormatSettings::Alac { depth },
            "wav" => FormatSettings::Wav { depth },
            "aiff" => FormatSettings::Aiff { depth },
            "m4a" => return bad("m4a holds aac or alac: choose one of them".into()),
            other => {
                return bad(format!(
                    "unknown format {other:?}: choose mp3, aac, flac, alac, wav or aiff"
                ))
            }
        };
        let mut settings = Settings::new(format);
        if let Some(hz) = self.sample_rate {
            settings.sample_rate = SampleRate::Hz(hz);
        }
        settings
            .validate()
            .map_err(|e| ExportError::BadSettings(e.to_string()))?;
        Ok(settings)
    }

    /// The JSON kept with the job.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the JSON kept with a job.
    pub fn from_json(s: &str) -> ExportResult<ExportSettings> {
        serde_json::from_str(s).map_err(|e| ExportError::BadSettings(e.to_string()))
    }
}
