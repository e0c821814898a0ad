//! An export as a ZIP, streamed while it is written: a blocking thread reads the finished files
//! and writes the archive into a bounded channel that the HTTP response drains, so neither the
//! archive nor a whole file is ever held in memory, and a slow download slows the writer down.
//! Each entry carries its file's modification time; the M3U8 the export's.

use std::io::{BufWriter, Write};
use std::path::Path;

use clef_core::UserId;
use clef_store::FileState;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::naming::safe_file_name;
use crate::pipe::{pipe, PipeStream};
use crate::service::{dest_of, Exports};
use crate::{playlist, ExportResult};

/// Chunks in flight between the writer thread and the response.
const CHUNKS_IN_FLIGHT: usize = 8;
const CHUNK_BYTES: usize = 256 * 1024;

impl Exports {
    /// The export as a ZIP (its finished files under their paths, and the M3U8), with the name
    /// to offer the download under.
    pub async fn zip(&self, user: &UserId, id: &str) -> ExportResult<(String, PipeStream)> {
        let (job, files) = self.get(user, id).await?;
        let m3u8 = playlist::m3u8(&self.library.catalog(), &files);
        let entries: Vec<(String, std::path::PathBuf)> = files
            .iter()
            .filter(|f| f.state == FileState::Done)
            .map(|f| (f.rel_path.replace('\\', "/"), dest_of(&job, f)))
            .collect();
        let list_name = playlist::file_name(&job.title);
        let made = job.finished_at.unwrap_or(job.created_at).0.div_euclid(1000);
        let (writer, stream) = pipe(CHUNKS_IN_FLIGHT);
        let export_id = job.id.clone();
        tokio::task::spawn_blocking(move || {
            let errors = writer.handle();
            let out = BufWriter::with_capacity(CHUNK_BYTES, writer);
            if let Err(e) = write_zip(out, &entries, &list_name, &m3u8, made) {
                tracing::warn!(export = %export_id, error = %e, "ZIP download ended early");
                errors.fail(e.to_string());
            }
        });
        Ok((safe_file_name(&job.title, "zip"), stream))
    }
}

fn write_zip(
    out: impl Write,
    entries: &[(String, std::path::PathBuf)],
    list_name: &str,
    m3u8: &str,
    made: i64,
) -> zip::result::ZipResult<()> {
    let mut zip = ZipWriter::new_stream(out);
    // Audio is compressed already; storing keeps the download as fast as the disk.
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .unix_permissions(0o644);
    for (name, path) in entries {
        let meta = std::fs::metadata(path)?;
        let size = meta.len();
        let modified = meta.modified().ok().and_then(|t| {
            let secs = match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => i64::try_from(d.as_secs()).ok()?,
                Err(e) => -i64::try_from(e.duration().as_secs()).ok()?,
            };
            zip_time(secs)
        });
        let mut options = stored.large_file(size >= u64::from(u32::MAX));
        if let Some(t) = modified {
            options = options.last_modified_time(t);
        }
        zip.start_file(name.as_str(), options)?;
        copy_file(path, &mut zip)?;
    }
    let list_options = match zip_time(made) {
        Some(t) => stored.last_modified_time(t),
        None => stored,
    };
    zip.start_file(list_name, list_options)?;
    zip.write_all(m3u8.as_bytes())?;
    let mut out = zip.finish()?.into_inner();
    out.flush()?;
    Ok(())
}

/// A time for a ZIP entry, which holds a date and time without a zone (in UTC here, as the server
/// has no zone of its own) from 1980 to 2107, to two seconds; `None` outside that range.
fn zip_time(unix_secs: i64) -> Option<zip::DateTime> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_secs).ok()?;
    let year = u16::try_from(t.year()).ok()?;
    zip::DateTime::from_date_and_time(
        year,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .ok()
}

fn copy_file(path: &Path, to: &mut impl Write) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    std::io::copy(&mut file, to)
}
