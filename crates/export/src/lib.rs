//! Offline export ("download to keep"): a listener picks songs from their own library, a format
//! and a folder inside the export roots the owner allows, and gets tagged files, an M3U8 beside
//! them and a ZIP to download.

mod error;
mod estimate;
pub mod folders;
mod mkdirs;
pub mod naming;
pub mod pipe;
pub mod playlist;
mod progress;
mod runner;
mod service;
mod settings;
mod zip;

pub use error::{ExportError, ExportResult};
pub use folders::{PathView, RootProblem};
pub use progress::{FileProgress, JobProgress};
pub use service::{ExportRequest, Exports, ExportsConfig, MAX_EXPORT_TRACKS};
pub use settings::ExportSettings;
