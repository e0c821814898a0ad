//! MP3 output through LAME (mp3lame-encoder): CBR or VBR, gapless-ready.
//!
//! Two details make the result gapless: the encoder is flushed with `lame_encode_flush`
//! (`FlushGap`), which pads the last frame with silence and keeps every sample, where
//! `lame_encode_flush_nogap` drops the ~2,300 samples still in LAME's buffers; and the LAME/Xing
//! info frame, which LAME reserves as the first frame, is rewritten at the end with the real
//! encoder delay and padding so decoders can trim them.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use mp3lame_encoder::{
    Bitrate, Builder, FlushGap, InterleavedPcm, Mode, MonoPcm, Quality, VbrMode,
};

use super::Encoder;
use crate::{AudioBlock, FormatSettings, MediaError, Mp3Mode, OutputSpec};

const NAME: &str = "MP3";

/// Where the MP3 goes: a file, whose reserved first frame becomes the LAME/Xing info frame at
/// the end, or a stream (a transcoded HTTP response), which cannot go back and has none.
enum Sink {
    File(BufWriter<File>),
    Stream(Box<dyn Write + Send>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stream(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stream(s) => s.flush(),
        }
    }
}

struct Mp3Encoder {
    path: PathBuf,
    out: Sink,
    lame: mp3lame_encoder::Encoder,
    /// LAME's integer entry points want full-scale 32-bit samples.
    shift: u32,
    channels: u16,
    scaled: Vec<i32>,
    encoded: Vec<u8>,
}

fn bitrate(kbps: u16) -> Result<Bitrate, MediaError> {
    Ok(match kbps {
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        other => {
            return Err(MediaError::UnsupportedSetting(format!(
                "MP3 CBR {other} kbps"
            )))
        }
    })
}

fn vbr_quality(v: u8) -> Result<Quality, MediaError> {
    Ok(match v {
        0 => Quality::Best,
        1 => Quality::SecondBest,
        2 => Quality::NearBest,
        3 => Quality::VeryNice,
        4 => Quality::Nice,
        other => return Err(MediaError::UnsupportedSetting(format!("MP3 VBR V{other}"))),
    })
}

/// MPEG-1 Layer III tops out at 48 kHz: higher rates are halved (96 → 48, 88.2 → 44.1) by
/// LAME's own resampler until the general resampler lands.
pub fn mp3_output_rate(rate: u32) -> u32 {
    let mut out = rate;
    while out > 48_000 {
        out /= 2;
    }
    out
}

pub(super) fn create(path: &Path, spec: &OutputSpec) -> Result<Box<dyn Encoder>, MediaError> {
    let lame = build(spec, true)?;
    let file = File::create(path).map_err(|e| MediaError::io(path, e))?;
    Ok(Box::new(Mp3Encoder::new(
        path.to_path_buf(),
        Sink::File(BufWriter::new(file)),
        lame,
        spec,
    )))
}

/// An MP3 encoder writing to a stream: no info frame, so players cannot trim the encoder delay
/// (about 50 ms of silence at the start), which a stream has anyway.
pub fn create_stream(
    out: Box<dyn Write + Send>,
    spec: &OutputSpec,
) -> Result<Box<dyn Encoder>, MediaError> {
    let lame = build(spec, false)?;
    Ok(Box::new(Mp3Encoder::new(
        PathBuf::from("(stream)"),
        Sink::Stream(out),
        lame,
        spec,
    )))
}

fn build(spec: &OutputSpec, info_frame: bool) -> Result<mp3lame_encoder::Encoder, MediaError> {
    let FormatSettings::Mp3(mode) = spec.format else {
        return Err(MediaError::encode(NAME, "created with non-MP3 settings"));
    };
    let err = |e: mp3lame_encoder::BuildError| MediaError::encode(NAME, e);
    let mut builder = Builder::new().ok_or_else(|| MediaError::encode(NAME, "LAME init failed"))?;
    builder.set_num_channels(spec.channels as u8).map_err(err)?;
    builder.set_sample_rate(spec.sample_rate).map_err(err)?;
    let out_rate = mp3_output_rate(spec.sample_rate);
    if out_rate != spec.sample_rate {
        builder
            .set_output_sample_rate(NonZeroU32::new(out_rate))
            .map_err(err)?;
    }
    builder
        .set_mode(if spec.channels == 1 {
            Mode::Mono
        } else {
            Mode::JointStereo
        })
        .map_err(err)?;
    match mode {
        Mp3Mode::Cbr(kbps) => {
            builder.set_vbr_mode(VbrMode::Off).map_err(err)?;
            builder.set_brate(bitrate(kbps)?).map_err(err)?;
        }
        Mp3Mode::Vbr(v) => {
            builder.set_vbr_mode(VbrMode::Mtrh).map_err(err)?;
            builder.set_vbr_quality(vbr_quality(v)?).map_err(err)?;
        }
    }
    builder.set_to_write_vbr_tag(info_frame).map_err(err)?;
    builder.build().map_err(err)
}

impl Mp3Encoder {
    fn new(path: PathBuf, out: Sink, lame: mp3lame_encoder::Encoder, spec: &OutputSpec) -> Self {
        Mp3Encoder {
            path,
            out,
            lame,
            shift: 32 - spec.bits_per_sample,
            channels: spec.channels,
            scaled: Vec::new(),
            encoded: Vec::new(),
        }
    }

    fn drain(&mut self) -> Result<(), MediaError> {
        self.out
            .write_all(&self.encoded)
            .map_err(|e| MediaError::io(&self.path, e))?;
        self.encoded.clear();
        Ok(())
    }
}

impl Encoder for Mp3Encoder {
    fn write(&mut self, block: &AudioBlock) -> Result<(), MediaError> {
        let shift = self.shift;
        self.scaled.clear();
        self.scaled
            .extend(block.samples.iter().map(|&s| s << shift));
        // LAME's worst case for n frames is 1.25 n + 7200 bytes.
        self.encoded.reserve(block.frames() * 5 / 4 + 7200);
        let result = if self.channels == 1 {
            self.lame
                .encode_to_vec(MonoPcm(self.scaled.as_slice()), &mut self.encoded)
        } else {
            self.lame
                .encode_to_vec(InterleavedPcm(self.scaled.as_slice()), &mut self.encoded)
        };
        result.map_err(|e| MediaError::encode(NAME, e))?;
        self.drain()
    }

    fn finish(mut self: Box<Self>) -> Result<PathBuf, MediaError> {
        self.encoded.reserve(7200);
        self.lame
            .flush_to_vec::<FlushGap>(&mut self.encoded)
            .map_err(|e| MediaError::encode(NAME, e))?;
        self.drain()?;
        let Sink::File(file) = &mut self.out else {
            self.out
                .flush()
                .map_err(|e| MediaError::io(&self.path, e))?;
            return Ok(self.path);
        };
        let mut tag = Vec::with_capacity(self.lame.lame_tag_size());
        if self.lame.lame_tag_encode_to_vec(&mut tag).is_none() {
            return Err(MediaError::encode(NAME, "LAME produced no info frame"));
        }
        // The info frame replaces the empty first frame LAME reserved at the start.
        let io = |e| MediaError::io(&self.path, e);
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&tag).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(self.path)
    }
}
