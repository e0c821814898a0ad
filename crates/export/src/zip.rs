//! An export as a ZIP, streamed while it is written: a blocking thread reads the finished files
//! and writes the archive into a bounded channel that the HTTP response drains, so neither the
//! archive nor a whole file is ever held in memory, and a slow download slows the writer down.

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
        let (writer, stream) = pipe(CHUNKS_IN_FLIGHT);
        let export_id = job.id.clone();
        tokio::task::spawn_blocking(move || {
            let errors = writer.handle();
            let out = BufWriter::with_capacity(CHUNK_BYTES, writer);
            if let Err(e) = write_zip(out, &entries, &list_name, &m3u8) {
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
) -> zip::result::ZipResult<()> {
    let mut zip = ZipWriter::new_stream(out);
    // Audio is compressed already; storing keeps the download as fast as the disk.
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .unix_permissions(0o644);
    for (name, path) in entries {
        let size = std::fs::metadata(path)?.len();
        zip.start_file(
            name.as_str(),
            stored.large_file(size >= u64::from(u32::MAX)),
        )?;
        copy_file(path, &mut zip)?;
    }
    zip.start_file(list_name, stored)?;
    zip.write_all(m3u8.as_bytes())?;
    let mut out = zip.finish()?.into_inner();
    out.flush()?;
    Ok(())
}

fn copy_file(path: &Path, to: &mut impl Write) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    std::io::copy(&mut file, to)
}
