//! Live progress of a running export, shared with whoever watches it (the server-sent events of
//! the API, the command line's progress bar) through a watch channel: watchers always see the
//! latest state and a slow one never holds the workers up.

use std::sync::atomic::{AtomicBool, Ordering};

use clef_store::{ExportFile, FileState};
use serde::Serialize;
use tokio::sync::watch;

/// One file's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileProgress {
    pub position: i64,
    /// `pending`, `converting`, `done` or `failed`.
    pub state: &'static str,
    /// 0.0 to 1.0.
    pub fraction: f32,
}

/// A job's progress: every file, and the whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobProgress {
    /// `running`, `done`, `cancelled` or `failed`.
    pub state: &'static str,
    pub files: Vec<FileProgress>,
    pub done: usize,
    pub failed: usize,
    pub total: usize,
    /// 0.0 to 1.0 over all files (a failed file counts as finished).
    pub overall: f32,
}

impl JobProgress {
    /// A job's progress from its files' states.
    pub fn of(state: &'static str, files: Vec<FileProgress>) -> JobProgress {
        let total = files.len();
        let mut p = JobProgress {
            state,
            files,
            done: 0,
            failed: 0,
            total,
            overall: 0.0,
        };
        p.recount();
        p
    }

    /// A job's progress as its stored files tell it (pending ones at 0, the others finished).
    pub fn of_files(state: &'static str, files: &[ExportFile]) -> JobProgress {
        let files = files
            .iter()
            .map(|f| FileProgress {
                position: f.position,
                state: f.state.as_str(),
                fraction: if f.state == FileState::Pending {
                    0.0
                } else {
                    1.0
                },
            })
            .collect();
        JobProgress::of(state, files)
    }

    fn recount(&mut self) {
        self.done = self.files.iter().filter(|f| f.state == "done").count();
        self.failed = self.files.iter().filter(|f| f.state == "failed").count();
        let sum: f32 = self
            .files
            .iter()
            .map(|f| match f.state {
                "done" | "failed" => 1.0,
                _ => f.fraction,
            })
            .sum();
        self.overall = if self.total == 0 {
            1.0
        } else {
            (sum / self.total as f32).min(1.0)
        };
    }
}

/// The shared state of one running job.
#[derive(Debug)]
pub struct Tracker {
    tx: watch::Sender<JobProgress>,
    cancelled: AtomicBool,
    /// The server is stopping and cannot wait for the file under way: abandon it (it stays
    /// pending, and the job resumes at the next start).
    halted: AtomicBool,
}

impl Tracker {
    pub(crate) fn new(files: &[ExportFile]) -> Tracker {
        Tracker {
            tx: watch::channel(JobProgress::of_files("running", files)).0,
            cancelled: AtomicBool::new(false),
            halted: AtomicBool::new(false),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<JobProgress> {
        self.tx.subscribe()
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Halts the conversions under way; returns how many files were converting.
    pub(crate) fn halt_converting(&self) -> usize {
        self.halted.store(true, Ordering::SeqCst);
        self.tx
            .borrow()
            .files
            .iter()
            .filter(|f| f.state == "converting")
            .count()
    }

    /// Whether a conversion under way should stop now (cancelled or halted).
    pub(crate) fn should_stop(&self) -> bool {
        self.is_cancelled() || self.halted.load(Ordering::SeqCst)
    }

    /// Sets file `index`'s state and fraction. Fractions of a converting file are published
    /// only when they move by a percent, so a fast encoder does not flood the watchers.
    pub(crate) fn file(&self, index: usize, state: &'static str, fraction: f32) {
        self.tx.send_if_modified(|p| {
            let Some(f) = p.files.get_mut(index) else {
                return false;
            };
            if f.state == state && (fraction - f.fraction).abs() < 0.01 {
                return false;
            }
            f.state = state;
            f.fraction = fraction.clamp(0.0, 1.0);
            p.recount();
            true
        });
    }

    pub(crate) fn finish(&self, state: &'static str) {
        self.tx.send_modify(|p| p.state = state);
    }
}
