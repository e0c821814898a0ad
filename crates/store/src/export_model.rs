//! Records of offline exports ("download to keep"): the job a listener started and each file it
//! writes, kept so the Converted history can list them and a job can resume after a restart.

use clef_core::{Timestamp, UserId};

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    /// Waiting for, or holding, the workers.
    Running,
    /// Every file was written (some may have failed: see the files).
    Done,
    Cancelled,
    /// Stopped before its files could be tried (for example the output folder went away).
    Failed,
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Running => "running",
            ExportState::Done => "done",
            ExportState::Cancelled => "cancelled",
            ExportState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ExportState> {
        Some(match s {
            "running" => ExportState::Running,
            "done" => ExportState::Done,
            "cancelled" => ExportState::Cancelled,
            "failed" => ExportState::Failed,
            _ => return None,
        })
    }
}

/// Where one file of an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Pending,
    Done,
    Failed,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Pending => "pending",
            FileState::Done => "done",
            FileState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<FileState> {
        Some(match s {
            "pending" => FileState::Pending,
            "done" => FileState::Done,
            "failed" => FileState::Failed,
            _ => return None,
        })
    }
}

/// How one file of an export ended, as [`crate::ExportStore::set_file_state`] records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome<'a> {
    /// Written: its size, and the path under the output folder it was saved at (another
    /// name than the one chosen at the start when that one was taken in the meantime).
    Done { size: i64, rel_path: &'a str },
    /// Not written, and why (for the user).
    Failed { reason: &'a str },
}

/// One export job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportJob {
    pub id: String,
    pub user_id: UserId,
    /// What was exported, for people: a playlist's or album's name.
    pub title: String,
    /// The output settings as the media crate serialises them (format, quality, …).
    pub settings: String,
    /// The canonical output folder, inside an export root.
    pub out_dir: String,
    pub pattern: String,
    pub state: ExportState,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub error: Option<String>,
}

/// One file of an export, in the order of the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub position: i64,
    pub track_id: String,
    /// The path under the output folder, decided (collisions resolved) when the job was created.
    pub rel_path: String,
    pub state: FileState,
    /// Bytes written, once done.
    pub size: Option<i64>,
    pub error: Option<String>,
}
