//! An export as a ZIP, streamed while it is written: a blocking thread reads the finished files
//! and writes the archive into a bounded channel that the HTTP response drains, so neither the
//! archive nor a whole file is ever held in memory, and a slow download slows the writer down.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use clef_core::UserId;
use clef_store::FileState;
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::naming::safe_file_name;
use crate::service::{dest_of, Exports};
use crate::{playlist, ExportResult};

/// Chunks in flight between the writer thread and the response.
const CHUNKS_IN_FLIGHT: usize = 8;
const CHUNK_BYTES: usize = 256 * 1024;

/// The bytes of a ZIP being written.
pub struct ZipStream {
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
}

impl futures::Stream for ZipStream {
    type Item = std::io::Result<Vec<u8>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// Sends what the ZIP writer writes to the response; fails once the client has gone.
struct ChannelWriter(mpsc::Sender<std::io::Result<Vec<u8>>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(buf.to_vec()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "download ended"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Exports {
    /// The export as a ZIP (its finished files under their paths, and the M3U8), with the name
    /// to offer the download under.
    pub async fn zip(&self, user: &UserId, id: &str) -> ExportResult<(String, ZipStream)> {
        let (job, files) = self.get(user, id).await?;
        let m3u8 = playlist::m3u8(&self.library.catalog(), &files);
        let entries: Vec<(String, std::path::PathBuf)> = files
            .iter()
            .filter(|f| f.state == FileState::Done)
            .map(|f| (f.rel_path.replace('\\', "/"), dest_of(&job, f)))
            .collect();
        let list_name = playlist::file_name(&job.title);
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let errors = tx.clone();
        let export_id = job.id.clone();
        tokio::task::spawn_blocking(move || {
            let out = BufWriter::with_capacity(CHUNK_BYTES, ChannelWriter(tx));
            if let Err(e) = write_zip(out, &entries, &list_name, &m3u8) {
                tracing::warn!(export = %export_id, error = %e, "ZIP download ended early");
                // The client sees a broken download rather than a short archive.
                let _ = errors.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        });
        Ok((safe_file_name(&job.title, "zip"), ZipStream { rx }))
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
