//! One export: decode → change depth (with dither) → encode → tag, written atomically.

use std::path::{Path, PathBuf};

use crate::dither::DepthConverter;
use crate::{decode, tags, AudioBlock, EncoderRegistry, MediaError, Settings, TrackTags};

/// How far a conversion has come, reported after each block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Source frames converted so far.
    pub frames_done: u64,
    /// Source frames in all, when the container announces them.
    pub total_frames: Option<u64>,
}

/// Converts `source` to `dest` with the default encoders. See [`convert_with`].
pub fn convert(
    source: &Path,
    dest: &Path,
    settings: &Settings,
    tags: &TrackTags,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, MediaError> {
    convert_with(
        &EncoderRegistry::default(),
        source,
        dest,
        settings,
        tags,
        progress,
    )
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
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, MediaError> {
    settings.validate()?;
    let mut decoder = decode::open(source)?;
    let source_spec = *decoder.spec();
    let out_spec = settings.output_spec(&source_spec)?;
    let temp = temp_path(dest, settings.format.format().extension())?;
    let mut encoder = registry.create(&temp, &out_spec)?;
    let mut depth = DepthConverter::new(
        source_spec.bits_per_sample,
        out_spec.bits_per_sample,
        settings.dither_seed,
    );
    let mut scratch = AudioBlock::default();
    let mut frames_done = 0u64;
    while let Some(block) = decoder.next_block()? {
        frames_done += block.frames() as u64;
        if depth.is_identity() {
            encoder.write(block)?;
        } else {
            scratch.samples.clear();
            scratch.samples.extend_from_slice(&block.samples);
            scratch.channels = block.channels;
            depth.apply(&mut scratch.samples);
            encoder.write(&scratch)?;
        }
        progress(Progress {
            frames_done,
            total_frames: source_spec.total_frames,
        });
    }
    drop(decoder);
    encoder.finish()?;
    tags::write_tags(&temp, settings.format.format(), tags)?;
    temp.persist(dest)
        .map_err(|e| MediaError::io(dest, e.error))?;
    Ok(dest.to_path_buf())
}

/// A hidden, uniquely named path beside `dest`, deleted when dropped unless persisted. It keeps
/// the format's extension because the tag writer recognises files by it.
fn temp_path(dest: &Path, extension: &str) -> Result<tempfile::TempPath, MediaError> {
    let folder = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let (prefix, suffix) = (format!(".{name}."), format!(".part.{extension}"));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    // tempfile makes private (0600) files; an export gets the usual mode, 0666 less the umask.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let file = builder
        .tempfile_in(folder)
        .map_err(|e| MediaError::io(folder, e))?;
    Ok(file.into_temp_path())
}
