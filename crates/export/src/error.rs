//! Everything an export can refuse or fail with.

use crate::folders::RootProblem;

/// The export service's one error enum; `clef-api` maps it to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("bad file-name pattern: {0}")]
    BadPattern(String),
    #[error(
        "exports are switched off: no export folder is set (export_roots in clef.toml or \
         CLEF_EXPORT_ROOTS)"
    )]
    NoExportRoot,
    #[error("the output folder {0:?} is not inside your export folder")]
    OutsideRoots(String),
    /// The export root cannot take files; `folder` is its path for an administrator, `None` for
    /// anyone else (who is told to ask the administrator).
    #[error("{}", unusable(.folder.as_deref(), .problem))]
    RootUnusable {
        folder: Option<String>,
        problem: RootProblem,
    },
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
    #[error(
        "you have {0} exports running already: wait for one to finish, or cancel one, then \
         start this one"
    )]
    TooManyRunning(usize),
    #[error(
        "this export needs about {} but the export folder has {} free: tick fewer songs, \
         choose a smaller format, or make room",
        crate::estimate::human(*.need),
        crate::estimate::human(*.free)
    )]
    NoRoom { need: u64, free: u64 },
    #[error(
        "this export needs about {} and your exports already take {} of your {} allowance: \
         tick fewer songs, choose a smaller format, or delete old exports",
        crate::estimate::human(*.need),
        crate::estimate::human(*.used),
        crate::estimate::human(*.quota)
    )]
    OverQuota { need: u64, used: u64, quota: u64 },
    #[error(transparent)]
    Store(#[from] clef_store::StoreError),
    /// Its message includes the system's, which is therefore not also its `source` (a chain
    /// printed in full would repeat it).
    #[error("file system: {0}")]
    Io(std::io::Error),
}

impl From<clef_formats::naming::PatternError> for ExportError {
    fn from(e: clef_formats::naming::PatternError) -> Self {
        ExportError::BadPattern(e.0)
    }
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        ExportError::Io(e)
    }
}

fn unusable(folder: Option<&str>, problem: &RootProblem) -> String {
    match folder {
        Some(f) => format!(
            "exports cannot be saved: the export folder {f} {}. Fix the folder, or set another \
             one with export_roots in clef.toml (or the CLEF_EXPORT_ROOTS environment variable) \
             and restart the server",
            problem.says()
        ),
        None => format!(
            "exports cannot be saved: the export folder on the server {}. Ask the administrator \
             to fix it",
            problem.says()
        ),
    }
}

pub type ExportResult<T> = Result<T, ExportError>;
