//! One export: decode → change depth (with dither) → encode → tag, written atomically.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::dither::DepthConverter;
use crate::encode::Copied;
use crate::resample::RateConverter;
use crate::{
    decode, tags, AudioBlock, Decoder, Encoder, EncoderRegistry, FormatSettings, MediaError,
    OutputFormat, OutputSpec, Settings, StreamSpec, TrackTags,
};

/// How far a conversion has come, reported after each block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Source frames converted so far.
    pub frames_done: u64,
    /// Source frames in all, when the container announces them.
    pub total_frames: Option<u64>,
}

/// What becomes of a file already at the destination when the output is complete.
#[derive(Clone, Copy)]
pub enum Existing<'a> {
    /// It is replaced.
    Replace,
    /// It is kept, and the output takes the first free name of `renamed(2)`, `renamed(3)`, …
    /// (in the same folder). Taking a name cannot overwrite a file that appears meanwhile.
    Keep(&'a dyn Fn(u32) -> PathBuf),
}

/// Converts `source` to `dest` with the default encoders. See [`convert_with`].
pub fn convert(
    source: &Path,
    dest: &Path,
    settings: &Settings,
    tags: &TrackTags,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<PathBuf, MediaError> {
    let registry = EncoderRegistry::default();
    let to = (dest, Existing::Replace);
    convert_to(
        &registry,
        source,
        to,
        settings,
        tags,
        progress,
        &mut no_claim,
    )
}

/// Converts `source` with the default encoders, keeping any file already at `dest`: the output
/// then goes to the first free `renamed(n)`, n = 2, 3, … Returns the path written.
///
/// `claim(path, size)` runs just before the complete file takes `path` (and again for the next
/// name if that one was taken meanwhile): a caller records the file there first, so that a
/// process killed right after the rename never leaves a finished file it does not know of. An
/// error from it abandons the file.
pub fn convert_keeping_existing(
    source: &Path,
    dest: &Path,
    renamed: &dyn Fn(u32) -> PathBuf,
    settings: &Settings,
    tags: &TrackTags,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    claim: &mut dyn FnMut(&Path, u64) -> Result<(), MediaError>,
) -> Result<PathBuf, MediaError> {
    let registry = EncoderRegistry::default();
    let to = (dest, Existing::Keep(renamed));
    convert_to(&registry, source, to, settings, tags, progress, claim)
}

/// Converts `source` to `dest`, streaming one decoded block at a time.
///
/// The output is written under a hidden temporary name in `dest`'s folder and renamed to `dest`
/// only once it is complete and tagged, so `dest` never holds a partial file; on any error the
/// temporary file is removed and `dest` is left as it was.
///
/// This is blocking CPU and file work: call it from a blocking thread, not an async task.
pub fn convert_with(
    registry: &EncoderRegistry,
    source: &Path,
    dest: &Path,
    settings: &Settings,
    tags: &TrackTags,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<PathBuf, MediaError> {
    let to = (dest, Existing::Replace);
    convert_to(
        registry,
        source,
        to,
        settings,
        tags,
        progress,
        &mut no_claim,
    )
}

fn no_claim(_: &Path, _: u64) -> Result<(), MediaError> {
    Ok(())
}

fn convert_to(
    registry: &EncoderRegistry,
    source: &Path,
    (dest, existing): (&Path, Existing<'_>),
    settings: &Settings,
    tags: &TrackTags,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    claim: &mut dyn FnMut(&Path, u64) -> Result<(), MediaError>,
) -> Result<PathBuf, MediaError> {
    settings.validate()?;
    let mut decoder = decode::open(source)?;
    let source_spec = *decoder.spec();
    let out_spec = settings.output_spec(&source_spec)?;
    let temp = temp_path(dest, settings.format.format().extension())?;
    if copies_audio(source, &source_spec, &out_spec, settings) {
        // FLAC to FLAC at the same depth and rate, or MP3 to an MP3 of at least its bit rate:
        // the audio is copied as it is (bit-exact, or without a second generation of loss,
        // and many times faster than encoding again); only the tags are rewritten.
        drop(decoder);
        std::fs::copy(source, temp.path()).map_err(|e| MediaError::io(source, e))?;
        let all = Progress {
            frames_done: source_spec.total_frames.unwrap_or(0),
            total_frames: source_spec.total_frames,
        };
        if progress(all).is_break() {
            return Err(MediaError::Cancelled);
        }
        tags::write_tags(temp.path(), settings.format.format(), tags)?;
        return place(temp, dest, existing, claim);
    }
    if pcm_to_copy(source, &source_spec, &out_spec) {
        // WAV to WAV, AIFF to AIFF at the same depth and rate: the samples are copied as they
        // are into a fresh file, and the tags written after them.
        drop(decoder);
        let total_frames = source_spec.total_frames;
        let format = settings.format.format();
        crate::encode::copy_pcm(source, format, temp.path(), &mut |done, all| {
            let frames_done = total_frames.map_or(0, |t| {
                u64::try_from(u128::from(t) * u128::from(done) / u128::from(all.max(1)))
                    .unwrap_or(t)
            });
            progress(Progress {
                frames_done,
                total_frames,
            })
        })?;
        tags::write_tags(temp.path(), format, tags)?;
        return place(temp, dest, existing, claim);
    }
    if let Some(m4a) = m4a_to_copy(source, &source_spec, &out_spec) {
        // AAC to AAC at no higher a rate: the access units are copied, no second generation of
        // loss; priming and length go into our edit list as the source gave them. ALAC to ALAC
        // at the same depth: the packets are copied (bit-exact either way, and much faster).
        drop(decoder);
        let total_frames = source_spec.total_frames;
        crate::encode::copy_m4a(
            source,
            &m4a,
            &source_spec,
            temp.path(),
            &mut |frames_done| {
                progress(Progress {
                    frames_done,
                    total_frames,
                })
            },
        )?;
        tags::write_tags(temp.path(), settings.format.format(), tags)?;
        return place(temp, dest, existing, claim);
    }
    let mut encoder = registry.create(temp.path(), &out_spec)?;
    pump(&mut *decoder, &mut *encoder, &out_spec, settings, progress)?;
    drop(decoder);
    encoder.finish()?;
    tags::write_tags(temp.path(), settings.format.format(), tags)?;
    place(temp, dest, existing, claim)
}

/// Decodes to the end through rate and depth conversion into `encoder` (not finished here);
/// `progress` is told after each block and may stop it.
pub(crate) fn pump(
    decoder: &mut dyn Decoder,
    encoder: &mut dyn Encoder,
    out_spec: &OutputSpec,
    settings: &Settings,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<(), MediaError> {
    let source_spec = *decoder.spec();
    let mut depth = DepthConverter::new(
        source_spec.bits_per_sample,
        out_spec.bits_per_sample,
        settings.dither_seed,
    );
    // MP3 keeps the source's rate (LAME halves rates above 48 kHz itself).
    let mut rate = if out_spec.sample_rate != source_spec.sample_rate
        && !matches!(settings.format, FormatSettings::Mp3(_))
    {
        Some(RateConverter::new(
            source_spec.sample_rate,
            out_spec.sample_rate,
            out_spec.channels,
            source_spec.bits_per_sample,
        )?)
    } else {
        None
    };
    // MP3 and AAC hold two channels: more are folded into stereo first.
    let mut downmix = (out_spec.channels < source_spec.channels)
        .then(|| crate::downmix::Downmix::new(source_spec.channels));
    let mixing = downmix.is_some();
    let mut scratch = AudioBlock {
        samples: Vec::new(),
        channels: out_spec.channels,
    };
    let mut frames_done = 0u64;
    while let Some(block) = decoder.next_block()? {
        frames_done += block.frames() as u64;
        let samples = match downmix.as_mut() {
            Some(d) => d.apply(&block.samples),
            None => &block.samples,
        };
        match rate.as_mut() {
            Some(r) => encode(encoder, &mut depth, &mut scratch, r.push(samples)?)?,
            // Nothing to change: the decoder's block goes straight to the encoder.
            None if depth.is_identity() && !mixing => encoder.write(block)?,
            None => encode(encoder, &mut depth, &mut scratch, samples)?,
        }
        let report = Progress {
            frames_done,
            total_frames: source_spec.total_frames,
        };
        if progress(report).is_break() {
            // A file being written goes with its temporary name; `dest` stays as it was.
            return Err(MediaError::Cancelled);
        }
    }
    if let Some(r) = rate.as_mut() {
        encode(encoder, &mut depth, &mut scratch, r.finish()?)?;
    }
    Ok(())
}

/// Renames the complete output to `dest`, or to the first free alternative when asked to keep
/// what is there.
fn place(
    temp: NamedTempFile,
    dest: &Path,
    existing: Existing<'_>,
    claim: &mut dyn FnMut(&Path, u64) -> Result<(), MediaError>,
) -> Result<PathBuf, MediaError> {
    let size = temp
        .as_file()
        .metadata()
        .map_err(|e| MediaError::io(temp.path(), e))?
        .len();
    let Existing::Keep(renamed) = existing else {
        claim(dest, size)?;
        temp.persist(dest)
            .map_err(|e| MediaError::io(dest, e.error))?;
        return Ok(dest.to_path_buf());
    };
    let mut temp = temp;
    let mut target = dest.to_path_buf();
    for n in 2..=MAX_ALTERNATIVES + 1 {
        if target.symlink_metadata().is_err() {
            claim(&target, size)?;
        }
        match temp.persist_noclobber(&target) {
            Ok(_) => return Ok(target),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                temp = e.file;
                target = renamed(n);
            }
            Err(e) => return Err(MediaError::io(&target, e.error)),
        }
    }
    Err(MediaError::io(
        dest,
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("this name and {MAX_ALTERNATIVES} numbered alternatives are all taken"),
        ),
    ))
}

/// How many numbered names [`Existing::Keep`] tries before giving up.
const MAX_ALTERNATIVES: u32 = 1_000;

/// Brings `samples` to the output depth (dithered when reduced) and encodes them.
fn encode(
    encoder: &mut dyn crate::Encoder,
    depth: &mut DepthConverter,
    scratch: &mut AudioBlock,
    samples: &[i32],
) -> Result<(), MediaError> {
    if samples.is_empty() {
        return Ok(());
    }
    scratch.samples.clear();
    scratch.samples.extend_from_slice(samples);
    if !depth.is_identity() {
        depth.apply(&mut scratch.samples);
    }
    encoder.write(scratch)
}

/// Whether the conversion would change nothing but the tags: FLAC in, FLAC out at the same
/// depth and rate; or MP3 in, MP3 out at a bit rate no lower than the source's (encoding again
/// could only lose quality, never add it).
fn copies_audio(source: &Path, from: &StreamSpec, to: &OutputSpec, settings: &Settings) -> bool {
    let mut head = [0u8; 10];
    let read = std::fs::File::open(source)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok();
    match settings.format {
        FormatSettings::Flac { .. } => {
            read && &head[..4] == b"fLaC"
                && to.bits_per_sample == from.bits_per_sample
                && to.sample_rate == from.sample_rate
        }
        FormatSettings::Mp3(mode) => {
            let is_mp3 = source
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("mp3"));
            let wanted = match mode {
                crate::Mp3Mode::Cbr(kbps) => u64::from(kbps),
                // LAME's nominal rates for V0 … V4.
                crate::Mp3Mode::Vbr(v) => [245, 225, 190, 175, 165][usize::from(v.min(4))],
            };
            // 3% of slack for the info frame and the encoder's delay and padding, which the
            // size counts and the duration does not.
            read && is_mp3
                && mp3_kbps(source, &head, from).is_some_and(|have| have * 100 <= wanted * 103)
        }
        _ => false,
    }
}

/// Whether WAV goes to WAV, or AIFF to AIFF, with nothing to change: same depth, rate and
/// channels, integer PCM in the same container.
fn pcm_to_copy(source: &Path, from: &StreamSpec, to: &OutputSpec) -> bool {
    let format = to.format.format();
    matches!(format, OutputFormat::Wav | OutputFormat::Aiff)
        && to.bits_per_sample == from.bits_per_sample
        && to.sample_rate == from.sample_rate
        && to.channels == from.channels
        && crate::encode::pcm_copyable(source, format)
}

/// The MP4 source to copy: AAC going to AAC at the same rate and channels and at least the
/// source's bit rate (3% slack, as for MP3), or ALAC to ALAC at the same depth, rate and
/// channels.
fn m4a_to_copy(
    source: &Path,
    from: &StreamSpec,
    to: &OutputSpec,
) -> Option<crate::encode::M4aSource> {
    let mp4 = source
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["m4a", "mp4", "m4b"].contains(&e.to_ascii_lowercase().as_str()));
    if !mp4 || to.sample_rate != from.sample_rate || to.channels != from.channels {
        return None;
    }
    let found = crate::encode::inspect_m4a(source, from)?;
    let copies = match (&found.codec, to.format) {
        (Copied::Aac { kbps: have, .. }, FormatSettings::Aac { kbps }) => {
            have * 100 <= u64::from(kbps) * 103
        }
        (Copied::Alac { bits, .. }, FormatSettings::Alac { .. }) => {
            u32::from(*bits) == to.bits_per_sample && to.bits_per_sample == from.bits_per_sample
        }
        _ => false,
    };
    copies.then_some(found)
}

/// The average bit rate of an MP3's audio in kbps: its size without the ID3v2 tag over its
/// duration (known from its Xing/LAME frame), rounded down; `None` when the length is unknown.
fn mp3_kbps(source: &Path, head: &[u8; 10], spec: &StreamSpec) -> Option<u64> {
    let frames = spec.total_frames.filter(|&f| f > 0)?;
    let size = std::fs::metadata(source).ok()?.len();
    let tag = if &head[..3] == b"ID3" {
        // Syncsafe size: seven bits per byte, plus the 10-byte header.
        let body = head[6..10]
            .iter()
            .fold(0u64, |n, &b| (n << 7) | u64::from(b & 0x7f));
        body + 10
    } else {
        0
    };
    let bits = size.saturating_sub(tag) * 8;
    Some(bits * u64::from(spec.sample_rate) / frames / 1000)
}

/// The longest part of the destination's name that a temporary name repeats: with the dot,
/// tempfile's random letters and `.part.<ext>` it stays within the 255 bytes file systems allow
/// even when the destination's own name uses all of them.
const TEMP_NAME_BYTES: usize = 200;

/// `.<name>.` — how the temporary files of `dest` begin.
fn temp_prefix(dest: &Path) -> Option<String> {
    let name = dest.file_name()?.to_string_lossy().into_owned();
    let mut end = name.len().min(TEMP_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!(".{}.", &name[..end]))
}

/// Removes the temporary files a conversion to `dest` left when its process was killed (a
/// conversion that fails or is cancelled removes its own). Files still being written, by this
/// process or another (a second export into the same folder), are locked and left alone.
/// Returns how many it removed.
pub fn remove_partial_files(dest: &Path) -> usize {
    let (Some(dir), Some(prefix)) = (dest.parent(), temp_prefix(dest)) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale =
            name.starts_with(&prefix) && name.contains(".part.") && !being_written(&e.path());
        if stale && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a conversion still holds the lock on a temporary file.
fn being_written(path: &Path) -> bool {
    std::fs::File::open(path)
        .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
}

/// A hidden, uniquely named path beside `dest`, deleted when dropped unless persisted. It keeps
/// the format's extension because the tag writer recognises files by it.
///
/// The file stays open and locked (`flock`) until the conversion ends, so that
/// [`remove_partial_files`] can tell a file being written from one a killed process left.
fn temp_path(dest: &Path, extension: &str) -> Result<NamedTempFile, MediaError> {
    let folder = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = temp_prefix(dest).unwrap_or_else(|| ".".to_owned());
    let suffix = format!(".part.{extension}");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    // tempfile makes private (0600) files; an export gets the usual mode, 0666 less the umask.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let file = builder
        .tempfile_in(folder)
        .map_err(|e| MediaError::io(folder, e))?;
    // A file system without locks only loses the protection, not the conversion.
    let _ = file.as_file().try_lock();
    Ok(file)
}
