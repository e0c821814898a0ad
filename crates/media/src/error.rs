//! The one error type of the media pipeline.

use std::path::PathBuf;

/// Everything that can go wrong while decoding, converting, encoding or tagging a track.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Reading or writing a file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The source is not an audio file we can read (unknown container, no audio track, or a
    /// codec this build cannot decode).
    #[error("unsupported source {path}: {reason}")]
    UnsupportedSource {
        /// The source file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// The source is damaged: a packet would not decode.
    #[error("corrupt source {path}: {reason}")]
    CorruptSource {
        /// The source file.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The source ended before the length its header announces.
    #[error("truncated source {path}: {decoded} of {expected} frames")]
    TruncatedSource {
        /// The source file.
        path: PathBuf,
        /// Frames decoded before the end of the data.
        decoded: u64,
        /// Frames the header announced.
        expected: u64,
    },
    /// The requested output settings are invalid or not supported yet.
    #[error("unsupported setting: {0}")]
    UnsupportedSetting(String),
    /// An encoder refused its input or failed.
    #[error("{format} encoder: {reason}")]
    Encode {
        /// The output format's name.
        format: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The progress callback asked to stop (the export was cancelled).
    #[error("cancelled")]
    Cancelled,
    /// Writing tags or the cover into the output failed.
    #[error("tagging {path}: {reason}")]
    Tag {
        /// The output file.
        path: PathBuf,
        /// What the tag writer reported.
        reason: String,
    },
}

impl MediaError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// What went wrong, in words for a listener: never a path of the server.
    pub fn reason(&self) -> String {
        match self {
            Self::Io { source, .. } => format!("the file could not be read ({source})"),
            Self::UnsupportedSource { reason, .. } => format!("unsupported file: {reason}"),
            Self::CorruptSource { reason, .. } => format!("the file is damaged: {reason}"),
            Self::TruncatedSource {
                decoded, expected, ..
            } => format!("the file ends early: {decoded} of {expected} frames are there"),
            Self::UnsupportedSetting(s) => s.clone(),
            Self::Encode { format, reason } => format!("the {format} encoder failed: {reason}"),
            Self::Cancelled => "cancelled".into(),
            Self::Tag { reason, .. } => format!("tagging failed: {reason}"),
        }
    }

    pub(crate) fn encode(format: &'static str, reason: impl ToString) -> Self {
        Self::Encode {
            format,
            reason: reason.to_string(),
        }
    }
}
