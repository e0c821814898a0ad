//! Everything an export can refuse or fail with.

/// The export service's one error enum; `clef-api` maps it to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("bad file-name pattern: {0}")]
    BadPattern(String),
    #[error("exports are switched off: the owner has not set an export folder (export_roots)")]
    NoExportRoot,
    #[error("the output folder {0:?} is not inside an export folder the owner allows")]
    OutsideRoots(String),
    #[error("{0}")]
    BadSettings(String),
    #[error("nothing to export: tick at least one song")]
    EmptySelection,
    #[error("too many songs in one export (at most {0})")]
    TooMany(usize),
    #[error("no such song in the library: {0}")]
    UnknownTrack(String),
    #[error("no such export")]
    NotFound,
    #[error("the export is still running: cancel it first")]
    StillRunning,
    #[error(transparent)]
    Store(#[from] clef_store::StoreError),
    /// Its message includes the system's, which is therefore not also its `source` (a chain
    /// printed in full would repeat it).
    #[error("file system: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        ExportError::Io(e)
    }
}

pub type ExportResult<T> = Result<T, ExportError>;
