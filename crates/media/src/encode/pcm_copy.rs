//! WAV to WAV and AIFF to AIFF at the same depth, rate and channels: nothing to encode, so the
//! format chunk and the sample data are copied into a fresh file, a block at a time. The
//! source's other chunks (its own tags among them) stay behind; ours are appended after.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::Path;

use crate::{MediaError, OutputFormat};

/// Bytes copied between progress reports.
const PIECE: u64 = 1 << 20;

/// The layout of one of the two containers.
struct Container {
    outer: &'static [u8; 4],
    form: &'static [u8; 4],
    format_chunk: &'static [u8; 4],
    data_chunk: &'static [u8; 4],
    big_endian: bool,
}

const WAV: Container = Container {
    outer: b"RIFF",
    form: b"WAVE",
    format_chunk: b"fmt ",
    data_chunk: b"data",
    big_endian: false,
};

const AIFF: Container = Container {
    outer: b"FORM",
    form: b"AIFF",
    format_chunk: b"COMM",
    data_chunk: b"SSND",
    big_endian: true,
};

impl Container {
    fn of(format: OutputFormat) -> Option<&'static Container> {
        match format {
            OutputFormat::Wav => Some(&WAV),
            OutputFormat::Aiff => Some(&AIFF),
            _ => None,
        }
    }

    fn size(&self, bytes: [u8; 4]) -> u64 {
        u64::from(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    fn size_bytes(&self, n: u32) -> [u8; 4] {
        if self.big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        }
    }
}

/// Where the two chunks that matter are: (offset of the chunk header, body length).
struct Chunks {
    format: (u64, u64),
    data: (u64, u64),
}

/// The chunks of `source` when it is an integer-PCM file of `format`'s container, or `None`.
fn find(source: &mut File, c: &Container) -> Option<Chunks> {
    let end = source.metadata().ok()?.len();
    let mut head = [0u8; 12];
    source.read_exact(&mut head).ok()?;
    if &head[..4] != c.outer || &head[8..] != c.form {
        return None;
    }
    let (mut format, mut data) = (None, None);
    let mut at = 12u64;
    while at + 8 <= end {
        let mut header = [0u8; 8];
        source.seek(SeekFrom::Start(at)).ok()?;
        source.read_exact(&mut header).ok()?;
        let len = c.size([header[4], header[5], header[6], header[7]]);
        if at + 8 + len > end {
            return None;
        }
        if &header[..4] == c.format_chunk {
            format = Some((at, len));
        } else if &header[..4] == c.data_chunk {
            data = Some((at, len));
        }
        at += 8 + len + (len % 2);
    }
    let format = format?;
    if c.big_endian {
        return Some(Chunks {
            format,
            data: data?,
        });
    }
    // WAV: PCM (1), or WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose sub-format is PCM.
    let mut fmt = vec![0u8; usize::try_from(format.1).ok()?.min(40)];
    source.seek(SeekFrom::Start(format.0 + 8)).ok()?;
    source.read_exact(&mut fmt).ok()?;
    let tag = u16::from_le_bytes([*fmt.first()?, *fmt.get(1)?]);
    let pcm = tag == 1 || (tag == 0xFFFE && fmt.get(24..26)? == [1, 0]);
    pcm.then_some(Chunks {
        format,
        data: data?,
    })
}

/// Whether `source` can be copied into `format` (same container, integer PCM).
pub(crate) fn copyable(source: &Path, format: OutputFormat) -> bool {
    let Some(c) = Container::of(format) else {
        return false;
    };
    File::open(source).is_ok_and(|mut f| find(&mut f, c).is_some())
}

/// Copies the format chunk and the sample data of `source` into a new file at `dest`.
/// `progress` gets the bytes of sample data copied so far and in all, and may stop the copy.
pub(crate) fn copy(
    source: &Path,
    format: OutputFormat,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<(), MediaError> {
    let c = Container::of(format).ok_or_else(|| MediaError::encode("copy", "not WAV or AIFF"))?;
    let not_pcm = || crate::decode::corrupt(source, "not integer PCM in its container any more");
    let mut input = File::open(source).map_err(|e| MediaError::io(source, e))?;
    let chunks = find(&mut input, c).ok_or_else(not_pcm)?;
    let io_in = |e| MediaError::io(source, e);
    let io_out = |e| MediaError::io(dest, e);
    let mut out = BufWriter::with_capacity(1 << 16, File::create(dest).map_err(io_out)?);
    out.write_all(c.outer).map_err(io_out)?;
    out.write_all(&[0; 4]).map_err(io_out)?;
    out.write_all(c.form).map_err(io_out)?;
    let mut written = 4u64;
    for (i, (at, len)) in [chunks.format, chunks.data].into_iter().enumerate() {
        input.seek(SeekFrom::Start(at)).map_err(io_in)?;
        let mut rest = 8 + len;
        let mut copied = 0u64;
        while rest > 0 {
            let piece = rest.min(PIECE);
            let n = std::io::copy(&mut (&mut input).take(piece), &mut out).map_err(io_in)?;
            if n < piece {
                return Err(not_pcm());
            }
            rest -= n;
            copied += n;
            if i == 1 && progress(copied.saturating_sub(8), len).is_break() {
                return Err(MediaError::Cancelled);
            }
        }
        if len % 2 == 1 {
            out.write_all(&[0]).map_err(io_out)?;
        }
        written += 8 + len + len % 2;
    }
    let outer = u32::try_from(written).map_err(|_| MediaError::encode("copy", "over 4 GiB"))?;
    let mut file = out.into_inner().map_err(|e| io_out(e.into_error()))?;
    file.seek(SeekFrom::Start(4)).map_err(io_out)?;
    file.write_all(&c.size_bytes(outer)).map_err(io_out)?;
    file.flush().map_err(io_out)
}
