//! The FFI: libFLAC's stream encoder behind [`FlacStreamEncoder`], writing through callbacks.
//!
//! Ownership: `Handle` owns the libFLAC encoder and the seek table given to it, `SinkBox` owns
//! the sink its callbacks write to. `FlacStreamEncoder` declares the handle first, so the encoder
//! is always deleted before the sink is freed. The sink lives on the heap behind a raw pointer:
//! libFLAC's callbacks reach it through that pointer, and Rust code touches it only between
//! libFLAC calls, so no reference to it is ever alive while a callback runs.

use std::any::Any;
use std::ffi::{c_void, CStr};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::NonNull;

use libflac_sys as sys;

use crate::{EncoderConfig, Error};

/// Spacing of the seek points, as `flac`'s default `-S 10s`.
const SEEK_POINT_SECONDS: u32 = 10;
/// Frames handed to libFLAC per call (its count is a `u32`).
const FRAMES_PER_CALL: usize = 1 << 16;

/// Encodes interleaved PCM to FLAC with libFLAC, streaming into a `Write + Seek` sink.
///
/// ```no_run
/// use clef_libflac::{EncoderConfig, FlacStreamEncoder};
///
/// let config = EncoderConfig {
///     total_frames: Some(44_100),
///     ..EncoderConfig::new(2, 16, 44_100)
/// };
/// let mut encoder = FlacStreamEncoder::create("tone.flac".as_ref(), &config)?;
/// encoder.process_interleaved(&vec![0; 2 * 44_100])?;
/// encoder.finish()?;
/// # Ok::<(), clef_libflac::Error>(())
/// ```
pub struct FlacStreamEncoder<W: Write + Seek> {
    // Declared (so dropped) before `sink`: libFLAC may write to the sink until it is deleted.
    handle: Handle,
    sink: SinkBox<W>,
    channels: usize,
    /// The range a sample must lie in, or `None` at 32 bits, where every `i32` fits.
    range: Option<(i32, i32)>,
}

impl FlacStreamEncoder<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` and starts a stream in it.
    pub fn create(path: &Path, config: &EncoderConfig) -> Result<Self, Error> {
        let file = File::create(path)?;
        Self::new(BufWriter::with_capacity(1 << 16, file), config)
    }
}

impl<W: Write + Seek> FlacStreamEncoder<W> {
    /// Starts a stream in `out` at its current position, writing the header at once.
    pub fn new(mut out: W, config: &EncoderConfig) -> Result<Self, Error> {
        let EncoderConfig {
            channels,
            bits_per_sample: bits,
            sample_rate,
            level,
            total_frames,
        } = *config;
        if level > 8 {
            return Err(Error::Setting(format!("level {level}: choose 0 to 8")));
        }
        if !(1..=8).contains(&channels) {
            return Err(Error::Setting(format!(
                "{channels} channels: FLAC holds 1 to 8"
            )));
        }
        if !(4..=32).contains(&bits) {
            return Err(Error::Setting(format!("{bits} bits: FLAC holds 4 to 32")));
        }
        let start = out.stream_position()?;
        let range = (bits < 32).then(|| (-(1i32 << (bits - 1)), (1i32 << (bits - 1)) - 1));
        let mut encoder = Self {
            handle: Handle::new()?,
            sink: SinkBox::new(out, start),
            channels: channels as usize,
            range,
        };
        encoder
            .handle
            .configure(config, total_frames.filter(|&n| n > 0))?;
        encoder.init(sample_rate)?;
        Ok(encoder)
    }

    fn init(&mut self, sample_rate: u32) -> Result<(), Error> {
        let encoder = self.handle.encoder.as_ptr();
        // SAFETY: `encoder` is live and not yet initialised. The callbacks have the signatures
        // libFLAC declares and are instantiated for this `W`; `client_data` is our `Sink<W>`,
        // which stays at the same address until the encoder is deleted (`handle` is dropped
        // before `sink`, and `finish` deletes the encoder before taking the sink back).
        let status = unsafe {
            sys::FLAC__stream_encoder_init_stream(
                encoder,
                Some(write_callback::<W>),
                Some(seek_callback::<W>),
                Some(tell_callback::<W>),
                None,
                self.sink.ptr.as_ptr().cast::<c_void>(),
            )
        };
        // The header is written during init, so the sink may already have failed.
        self.check_sink()?;
        let setting = |what: &str| Err(Error::Setting(what.to_owned()));
        match status {
            sys::FLAC__STREAM_ENCODER_INIT_STATUS_OK => Ok(()),
            sys::FLAC__STREAM_ENCODER_INIT_STATUS_INVALID_NUMBER_OF_CHANNELS => {
                setting("libFLAC refused the number of channels")
            }
            sys::FLAC__STREAM_ENCODER_INIT_STATUS_INVALID_BITS_PER_SAMPLE => {
                setting("libFLAC refused the bit depth (older libFLAC takes at most 24 bits)")
            }
            sys::FLAC__STREAM_ENCODER_INIT_STATUS_INVALID_SAMPLE_RATE => Err(Error::Setting(
                format!("libFLAC refused the sample rate {sample_rate} Hz"),
            )),
            sys::FLAC__STREAM_ENCODER_INIT_STATUS_NOT_STREAMABLE => {
                setting("the settings are outside FLAC's streamable subset")
            }
            sys::FLAC__STREAM_ENCODER_INIT_STATUS_ENCODER_ERROR => {
                Err(Error::Encoder(self.handle.state()))
            }
            other => Err(Error::Encoder(format!(
                "initialisation failed (status {other})"
            ))),
        }
    }

    /// Encodes interleaved samples: a whole number of frames, each sample within the bit depth.
    /// libFLAC copies them into its block buffer and writes each block as it fills.
    pub fn process_interleaved(&mut self, samples: &[i32]) -> Result<(), Error> {
        if samples.len() % self.channels != 0 {
            return Err(Error::Input(format!(
                "{} samples are not a whole number of {}-channel frames",
                samples.len(),
                self.channels
            )));
        }
        if let Some((min, max)) = self.range {
            // Comparisons or-ed without short-circuit, so the check vectorises (with SSE2 too);
            // the offending sample is looked for only once there is one.
            let outside = |s: i32| (s < min) | (s > max);
            if samples.iter().fold(false, |any, &s| any | outside(s)) {
                let bad = samples
                    .iter()
                    .copied()
                    .find(|&s| outside(s))
                    .unwrap_or_default();
                return Err(Error::Input(format!(
                    "sample {bad} is outside the {min}..={max} range of the bit depth"
                )));
            }
        }
        let encoder = self.handle.encoder.as_ptr();
        for chunk in samples.chunks(self.channels * FRAMES_PER_CALL) {
            let frames = (chunk.len() / self.channels) as u32;
            // SAFETY: `encoder` is live and initialised (`new` returned only after a successful
            // init, and `finish` consumes `self`). `chunk` holds exactly `frames × channels`
            // samples, which libFLAC reads during the call without keeping the pointer. The
            // callbacks it makes reach the sink, which no Rust reference borrows meanwhile.
            let ok = unsafe {
                sys::FLAC__stream_encoder_process_interleaved(encoder, chunk.as_ptr(), frames)
            };
            self.check_sink()?;
            if ok == 0 {
                return Err(Error::Encoder(self.handle.state()));
            }
        }
        Ok(())
    }

    /// Encodes the last, partial block, rewrites STREAMINFO (sample count, frame sizes, MD5) and
    /// the seek table, flushes the sink and returns it.
    pub fn finish(self) -> Result<W, Error> {
        let Self {
            handle, mut sink, ..
        } = self;
        // SAFETY: the encoder is live and initialised; finishing makes the write and seek
        // callbacks into the sink, which is alive (we own it) and not otherwise borrowed.
        let ok = unsafe { sys::FLAC__stream_encoder_finish(handle.encoder.as_ptr()) };
        let state = (ok == 0).then(|| handle.state());
        // The encoder goes first; after this no callback can reach the sink.
        drop(handle);
        sink.get_mut().take_failure()?;
        if let Some(state) = state {
            return Err(Error::Encoder(state));
        }
        let mut out = sink.into_inner().out;
        out.flush()?;
        Ok(out)
    }

    /// Surfaces what the sink reported during the last libFLAC call: a panic resumes here, an
    /// I/O error is returned.
    fn check_sink(&mut self) -> Result<(), Error> {
        self.sink.get_mut().take_failure()
    }
}

/// The libFLAC encoder and the seek table lent to it.
struct Handle {
    encoder: NonNull<sys::FLAC__StreamEncoder>,
    /// libFLAC keeps a pointer to it and fills it in at the end: it must outlive the encoder.
    seek_table: Option<NonNull<sys::FLAC__StreamMetadata>>,
}

impl Handle {
    fn new() -> Result<Self, Error> {
        // SAFETY: no preconditions; it returns null when out of memory.
        let encoder = unsafe { sys::FLAC__stream_encoder_new() };
        let encoder = NonNull::new(encoder)
            .ok_or_else(|| Error::Encoder("out of memory creating the encoder".into()))?;
        Ok(Self {
            encoder,
            seek_table: None,
        })
    }

    /// Sets everything before init. libFLAC's setters only store values and refuse (returning
    /// false) once the encoder is initialised, which it is not yet.
    fn configure(&mut self, config: &EncoderConfig, total: Option<u64>) -> Result<(), Error> {
        let e = self.encoder.as_ptr();
        // SAFETY: `e` is a live, uninitialised encoder, the state every setter is made for.
        // The level comes first: it sets block size, stereo mode, LPC order and partitioning.
        let ok = unsafe {
            sys::FLAC__stream_encoder_set_compression_level(e, config.level) != 0
                && sys::FLAC__stream_encoder_set_verify(e, 0) != 0
                && sys::FLAC__stream_encoder_set_channels(e, config.channels) != 0
                && sys::FLAC__stream_encoder_set_bits_per_sample(e, config.bits_per_sample) != 0
                && sys::FLAC__stream_encoder_set_sample_rate(e, config.sample_rate) != 0
                && sys::FLAC__stream_encoder_set_total_samples_estimate(e, total.unwrap_or(0)) != 0
        };
        if !ok {
            return Err(Error::Encoder("a setting was refused before init".into()));
        }
        let Some(total) = total else {
            return Ok(());
        };
        // SAFETY: no preconditions; it returns null when out of memory.
        let table = unsafe { sys::FLAC__metadata_object_new(sys::FLAC__METADATA_TYPE_SEEKTABLE) };
        let table = NonNull::new(table)
            .ok_or_else(|| Error::Encoder("out of memory creating the seek table".into()))?;
        // Owned from here on: `Drop` deletes it, whatever fails next.
        self.seek_table = Some(table);
        let spacing = config.sample_rate.saturating_mul(SEEK_POINT_SECONDS).max(1);
        let mut blocks = [table.as_ptr()];
        // SAFETY: `table` is a live SEEKTABLE object, which the template function requires.
        // `set_metadata` copies the array of pointers (`blocks` may go); the table it points
        // to stays alive until after the encoder is deleted (`Drop` below deletes it last).
        let ok = unsafe {
            sys::FLAC__metadata_object_seektable_template_append_spaced_points_by_samples(
                table.as_ptr(),
                spacing,
                total,
            ) != 0
                && sys::FLAC__stream_encoder_set_metadata(e, blocks.as_mut_ptr(), 1) != 0
        };
        if !ok {
            return Err(Error::Encoder("could not prepare the seek table".into()));
        }
        Ok(())
    }

    /// libFLAC's description of its state, e.g. `FLAC__STREAM_ENCODER_CLIENT_ERROR`.
    fn state(&self) -> String {
        // SAFETY: the encoder is live; the function returns a pointer to a static,
        // NUL-terminated string (or, defensively, null is handled below).
        let text =
            unsafe { sys::FLAC__stream_encoder_get_resolved_state_string(self.encoder.as_ptr()) };
        if text.is_null() {
            return "unknown state".into();
        }
        // SAFETY: non-null, NUL-terminated and static, as checked and documented above.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: we own the encoder and delete it once. Deleting an encoder that was not
        // finished writes nothing more (libFLAC skips the final block and the header rewrite
        // while deleting), and the sink outlives this anyway (see `FlacStreamEncoder`).
        unsafe { sys::FLAC__stream_encoder_delete(self.encoder.as_ptr()) };
        if let Some(table) = self.seek_table {
            // SAFETY: we own the table; the encoder that pointed to it is gone.
            unsafe { sys::FLAC__metadata_object_delete(table.as_ptr()) };
        }
    }
}

/// What the callbacks write to, with what went wrong in them.
struct Sink<W> {
    out: W,
    /// Where the sink stands, kept here: libFLAC asks after every frame, and asking a
    /// `BufWriter` would flush it each time.
    position: u64,
    error: Option<io::Error>,
    panic: Option<Box<dyn Any + Send>>,
}

impl<W> Sink<W> {
    /// Runs `f` on the sink unless it already failed, catching a panic (which must not unwind
    /// into C). Returns whether it succeeded.
    fn run(&mut self, f: impl FnOnce(&mut W) -> io::Result<()>) -> bool {
        if self.error.is_some() || self.panic.is_some() {
            return false;
        }
        match panic::catch_unwind(AssertUnwindSafe(|| f(&mut self.out))) {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                self.error = Some(e);
                false
            }
            Err(payload) => {
                self.panic = Some(payload);
                false
            }
        }
    }

    fn take_failure(&mut self) -> Result<(), Error> {
        if let Some(payload) = self.panic.take() {
            panic::resume_unwind(payload);
        }
        match self.error.take() {
            Some(e) => Err(Error::Io(e)),
            None => Ok(()),
        }
    }
}

/// A `Box<Sink<W>>` held as a raw pointer, so that holding it asserts nothing about aliasing
/// while libFLAC's callbacks use the same pointer.
struct SinkBox<W> {
    ptr: NonNull<Sink<W>>,
    _owns: PhantomData<Sink<W>>,
}

impl<W> SinkBox<W> {
    fn new(out: W, position: u64) -> Self {
        let sink = Box::new(Sink {
            out,
            position,
            error: None,
            panic: None,
        });
        Self {
            ptr: NonNull::from(Box::leak(sink)),
            _owns: PhantomData,
        }
    }

    /// The sink, for use between libFLAC calls.
    fn get_mut(&mut self) -> &mut Sink<W> {
        // SAFETY: the pointer came from a live `Box` we own. The reference is tied to
        // `&mut self`, and callers take it only when no libFLAC call (so no callback) is
        // running, so it is the only reference to the sink while it lives.
        unsafe { self.ptr.as_mut() }
    }

    fn into_inner(self) -> Sink<W> {
        let this = ManuallyDrop::new(self);
        // SAFETY: the pointer came from `Box::leak` and is reclaimed exactly once: `this` will
        // not run `Drop`. The encoder that used it has been deleted (see `finish`).
        *unsafe { Box::from_raw(this.ptr.as_ptr()) }
    }
}

impl<W> Drop for SinkBox<W> {
    fn drop(&mut self) {
        // SAFETY: as in `into_inner`; this runs only when `into_inner` did not, and after the
        // encoder was deleted (`Handle` is dropped first).
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

/// # Safety
///
/// `client_data` must be the live `Sink<W>` given to `init_stream`, with no other reference to
/// it during the call; `buffer` must hold `bytes` bytes.
unsafe extern "C" fn write_callback<W: Write>(
    _encoder: *const sys::FLAC__StreamEncoder,
    buffer: *const sys::FLAC__byte,
    bytes: usize,
    _samples: u32,
    _current_frame: u32,
    client_data: *mut c_void,
) -> sys::FLAC__StreamEncoderWriteStatus {
    // SAFETY: guaranteed by the caller, libFLAC, as set up in `FlacStreamEncoder::init`.
    let sink = unsafe { &mut *client_data.cast::<Sink<W>>() };
    let data = if bytes == 0 {
        &[][..]
    } else {
        // SAFETY: libFLAC passes `bytes` valid bytes at `buffer` for the call's duration.
        unsafe { std::slice::from_raw_parts(buffer, bytes) }
    };
    if sink.run(|out| out.write_all(data)) {
        sink.position += bytes as u64;
        sys::FLAC__STREAM_ENCODER_WRITE_STATUS_OK
    } else {
        sys::FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR
    }
}

/// # Safety
///
/// As for [`write_callback`].
unsafe extern "C" fn seek_callback<W: Seek>(
    _encoder: *const sys::FLAC__StreamEncoder,
    absolute_byte_offset: sys::FLAC__uint64,
    client_data: *mut c_void,
) -> sys::FLAC__StreamEncoderSeekStatus {
    // SAFETY: guaranteed by the caller, libFLAC, as set up in `FlacStreamEncoder::init`.
    let sink = unsafe { &mut *client_data.cast::<Sink<W>>() };
    if sink.run(|out| out.seek(SeekFrom::Start(absolute_byte_offset)).map(drop)) {
        sink.position = absolute_byte_offset;
        sys::FLAC__STREAM_ENCODER_SEEK_STATUS_OK
    } else {
        sys::FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR
    }
}

/// # Safety
///
/// As for [`write_callback`], and `absolute_byte_offset` must be valid for a write.
unsafe extern "C" fn tell_callback<W>(
    _encoder: *const sys::FLAC__StreamEncoder,
    absolute_byte_offset: *mut sys::FLAC__uint64,
    client_data: *mut c_void,
) -> sys::FLAC__StreamEncoderTellStatus {
    // SAFETY: guaranteed by the caller, libFLAC, as set up in `FlacStreamEncoder::init`; the
    // sink is only read.
    let position = unsafe { &*client_data.cast::<Sink<W>>() }.position;
    // SAFETY: libFLAC passes a pointer to its own `FLAC__uint64` to fill in.
    unsafe { absolute_byte_offset.write(position) };
    sys::FLAC__STREAM_ENCODER_TELL_STATUS_OK
}
