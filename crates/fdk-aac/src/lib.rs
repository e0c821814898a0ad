//! The Fraunhofer FDK AAC encoder (through `fdk-aac-sys`, which builds the library from its
//! source with the C compiler) behind a small safe API: AAC-LC, constant bit rate, raw access
//! units of 1,024 frames each, as an MP4 file carries them.
//!
//! Why unsafe is allowed here: the encoder is C. Every call goes through [`AacEncoder`], which
//! owns the handle (closed on drop), passes only buffers it owns or borrows for the duration of
//! the call, and checks every return code. Nothing else in Clef uses unsafe code.
//!
//! Licence: the FDK AAC library is under the "Software License for The Fraunhofer FDK AAC Codec
//! Library for Android", a free licence that allows redistribution but grants no patent licence;
//! see the README. Builds without the `fdk-aac` feature of `clef-media` leave this crate out.

use std::fmt;
use std::os::raw::c_void;
use std::ptr;

use fdk_aac_sys as fdk;

/// What went wrong inside the encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AacError {
    /// The step that failed.
    pub step: &'static str,
    /// FDK's error code.
    pub code: u32,
}

impl fmt::Display for AacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meaning = match self.code {
            fdk::AACENC_ERROR_AACENC_INVALID_HANDLE => "invalid handle",
            fdk::AACENC_ERROR_AACENC_MEMORY_ERROR => "out of memory",
            fdk::AACENC_ERROR_AACENC_UNSUPPORTED_PARAMETER => "unsupported parameter",
            fdk::AACENC_ERROR_AACENC_INVALID_CONFIG => "invalid configuration",
            fdk::AACENC_ERROR_AACENC_INIT_ERROR
            | fdk::AACENC_ERROR_AACENC_INIT_AAC_ERROR
            | fdk::AACENC_ERROR_AACENC_INIT_TP_ERROR => "initialisation failed",
            fdk::AACENC_ERROR_AACENC_ENCODE_ERROR => "encoding failed",
            _ => "error",
        };
        write!(f, "FDK AAC {}: {meaning} (0x{:x})", self.step, self.code)
    }
}

impl std::error::Error for AacError {}

fn check(step: &'static str, code: fdk::AACENC_ERROR) -> Result<(), AacError> {
    if code == fdk::AACENC_ERROR_AACENC_OK {
        Ok(())
    } else {
        Err(AacError { step, code })
    }
}

/// An AAC-LC encoder producing raw access units.
pub struct AacEncoder {
    handle: fdk::HANDLE_AACENCODER,
    channels: usize,
    frame_length: usize,
    delay: u32,
    config: Vec<u8>,
    out: Vec<u8>,
}

impl AacEncoder {
    /// Opens an encoder for 1 or 2 channels of 16-bit PCM at `sample_rate` (8 to 48 kHz in
    /// practice), constant `bitrate` in bits per second.
    pub fn new(sample_rate: u32, channels: u16, bitrate: u32) -> Result<Self, AacError> {
        let mode = match channels {
            1 => fdk::CHANNEL_MODE_MODE_1 as u32,
            2 => fdk::CHANNEL_MODE_MODE_2 as u32,
            _ => {
                return Err(AacError {
                    step: "channels",
                    code: fdk::AACENC_ERROR_AACENC_UNSUPPORTED_PARAMETER,
                })
            }
        };
        let mut handle: fdk::HANDLE_AACENCODER = ptr::null_mut();
        // SAFETY: `handle` is a valid place for the new handle; 0 modules means "all needed".
        #[allow(unsafe_code)]
        let opened = unsafe { fdk::aacEncOpen(&mut handle, 0, u32::from(channels)) };
        check("open", opened)?;
        let mut encoder = AacEncoder {
            handle,
            channels: usize::from(channels),
            frame_length: 1024,
            delay: 0,
            config: Vec::new(),
            out: Vec::new(),
        };
        encoder.set("object type", fdk::AACENC_PARAM_AACENC_AOT, 2)?; // AAC-LC
        encoder.set(
            "sample rate",
            fdk::AACENC_PARAM_AACENC_SAMPLERATE,
            sample_rate,
        )?;
        encoder.set("channel mode", fdk::AACENC_PARAM_AACENC_CHANNELMODE, mode)?;
        encoder.set("channel order", fdk::AACENC_PARAM_AACENC_CHANNELORDER, 1)?;
        encoder.set("bit rate mode", fdk::AACENC_PARAM_AACENC_BITRATEMODE, 0)?; // CBR
        encoder.set("bit rate", fdk::AACENC_PARAM_AACENC_BITRATE, bitrate)?;
        encoder.set("transport", fdk::AACENC_PARAM_AACENC_TRANSMUX, 0)?; // raw
        encoder.set("afterburner", fdk::AACENC_PARAM_AACENC_AFTERBURNER, 1)?;
        // SAFETY: a call with no buffers initialises the encoder with the parameters set above.
        #[allow(unsafe_code)]
        let init = unsafe {
            fdk::aacEncEncode(
                encoder.handle,
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
            )
        };
        check("initialisation", init)?;
        // SAFETY: an all-zero InfoStruct is a valid value of this plain C struct.
        #[allow(unsafe_code)]
        let mut info: fdk::AACENC_InfoStruct = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable InfoStruct for the duration of the call.
        #[allow(unsafe_code)]
        let got = unsafe { fdk::aacEncInfo(encoder.handle, &mut info) };
        check("info", got)?;
        encoder.frame_length = info.frameLength as usize;
        encoder.delay = info.nDelay;
        let size = (info.confSize as usize).min(info.confBuf.len());
        encoder.config = info.confBuf[..size].to_vec();
        encoder.out = vec![0; (info.maxOutBufBytes as usize).max(8192)];
        Ok(encoder)
    }

    fn set(
        &mut self,
        step: &'static str,
        param: fdk::AACENC_PARAM,
        value: u32,
    ) -> Result<(), AacError> {
        // SAFETY: `self.handle` is an open encoder handle.
        #[allow(unsafe_code)]
        let code = unsafe { fdk::aacEncoder_SetParam(self.handle, param, value) };
        check(step, code)
    }

    /// Frames per access unit (1,024 for AAC-LC).
    pub fn frame_length(&self) -> usize {
        self.frame_length
    }

    /// Frames of encoder delay (priming) at the start of the decoded output.
    pub fn delay(&self) -> u32 {
        self.delay
    }

    /// The AudioSpecificConfig that an MP4 `esds` box carries.
    pub fn audio_specific_config(&self) -> &[u8] {
        &self.config
    }

    /// Encodes interleaved samples; `emit` receives each finished access unit.
    pub fn encode(&mut self, pcm: &[i16], emit: &mut dyn FnMut(&[u8])) -> Result<(), AacError> {
        let mut offset = 0;
        while offset < pcm.len() {
            let (consumed, produced) = self.call(&pcm[offset..], false)?;
            if produced > 0 {
                emit(&self.out[..produced]);
            }
            if consumed == 0 && produced == 0 {
                break;
            }
            offset += consumed;
        }
        Ok(())
    }

    /// Encodes what the encoder still holds (padding the last access unit with silence);
    /// `emit` receives each remaining access unit.
    pub fn flush(&mut self, emit: &mut dyn FnMut(&[u8])) -> Result<(), AacError> {
        loop {
            match self.call(&[], true) {
                Ok((_, 0)) => return Ok(()),
                Ok((_, produced)) => emit(&self.out[..produced]),
                Err(e) if e.code == fdk::AACENC_ERROR_AACENC_ENCODE_EOF => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// One `aacEncEncode` call: returns (samples consumed, bytes produced).
    fn call(&mut self, pcm: &[i16], flush: bool) -> Result<(usize, usize), AacError> {
        let mut in_ptr = pcm.as_ptr() as *mut c_void;
        let mut in_id = fdk::AACENC_BufferIdentifier_IN_AUDIO_DATA as i32;
        let mut in_size = (pcm.len() * 2) as i32;
        let mut in_el = 2i32;
        let in_desc = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut in_ptr,
            bufferIdentifiers: &mut in_id,
            bufSizes: &mut in_size,
            bufElSizes: &mut in_el,
        };
        let mut out_ptr = self.out.as_mut_ptr() as *mut c_void;
        let mut out_id = fdk::AACENC_BufferIdentifier_OUT_BITSTREAM_DATA as i32;
        let mut out_size = self.out.len() as i32;
        let mut out_el = 1i32;
        let out_desc = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut out_ptr,
            bufferIdentifiers: &mut out_id,
            bufSizes: &mut out_size,
            bufElSizes: &mut out_el,
        };
        let in_args = fdk::AACENC_InArgs {
            numInSamples: if flush { -1 } else { pcm.len() as i32 },
            numAncBytes: 0,
        };
        let mut out_args = fdk::AACENC_OutArgs {
            numOutBytes: 0,
            numInSamples: 0,
            numAncBytes: 0,
            bitResState: 0,
        };
        // SAFETY: the descriptors point at locals and at `pcm` and `self.out`, all alive and
        // of the sizes given for the whole call; the encoder reads `pcm` and writes at most
        // `self.out.len()` bytes (maxOutBufBytes) into `self.out`.
        #[allow(unsafe_code)]
        let code =
            unsafe { fdk::aacEncEncode(self.handle, &in_desc, &out_desc, &in_args, &mut out_args) };
        check("encode", code)?;
        let consumed = usize::try_from(out_args.numInSamples).unwrap_or(0);
        let produced = usize::try_from(out_args.numOutBytes).unwrap_or(0);
        Ok((consumed.min(pcm.len()), produced.min(self.out.len())))
    }

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }
}

impl Drop for AacEncoder {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by `aacEncOpen` and is closed only here.
        #[allow(unsafe_code)]
        unsafe {
            fdk::aacEncClose(&mut self.handle);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encodes_a_second_of_tone_into_access_units() {
        let mut enc = AacEncoder::new(44_100, 2, 256_000).unwrap();
        assert_eq!(enc.frame_length(), 1024);
        assert!(enc.delay() > 0, "AAC-LC has an encoder delay");
        // AAC-LC, 44.1 kHz (index 4), 2 channels: 0001 0 | 010 0 | 010 0...
        assert_eq!(enc.audio_specific_config()[..2], [0x12, 0x10]);
        let pcm: Vec<i16> = (0..44_100)
            .flat_map(|i| {
                let s =
                    ((i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0).sin() * 8000.0) as i16;
                [s, s]
            })
            .collect();
        let mut units = Vec::new();
        enc.encode(&pcm, &mut |au| units.push(au.len())).unwrap();
        enc.flush(&mut |au| units.push(au.len())).unwrap();
        let frames = units.len() * 1024;
        assert!(frames >= 44_100 + enc.delay() as usize, "{frames} frames");
        assert!(
            frames < 44_100 + enc.delay() as usize + 2048,
            "{frames} frames"
        );
        assert!(units.iter().all(|&n| n > 0));
    }

    #[test]
    fn refuses_more_than_two_channels() {
        assert!(AacEncoder::new(44_100, 6, 256_000).is_err());
    }
}
