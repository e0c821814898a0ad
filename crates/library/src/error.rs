use clef_core::InputError;
use clef_store::StoreError;

/// Everything the library can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// No such artist, album, track, playlist or cover (or not the caller's).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// A scan is already running.
    #[error("a scan is already running")]
    ScanRunning,
    #[error("file error: {0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type LibraryResult<T> = Result<T, LibraryError>;
