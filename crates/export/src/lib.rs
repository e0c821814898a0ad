//! Offline export ("download to keep"): a listener picks songs from their own library, a format
//! and a folder inside the export roots the owner allows, and gets tagged files, an M3U8 beside
//! them and a ZIP to download.

mod error;
pub mod naming;

pub use error::{ExportError, ExportResult};
