//! Scanning: walk the music folders, compare with the catalog by path, size and modification
//! time, parse only new and changed files (in parallel, each on a blocking thread under
//! `catch_unwind` and a time limit), recognise moves, and apply everything in one transaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use clef_core::Timestamp;
use clef_store::{ScanChanges, ScanProblem, TrackRecord};
use serde::Serialize;

use crate::tags::{read_facts, FileFacts, AUDIO_EXTENSIONS};

/// What the walk found on disk for one audio file.
#[derive(Debug, Clone)]
pub(crate) struct FoundFile {
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub cover_path: Option<String>,
}

/// The numbers of one finished scan.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ScanReport {
    pub files: usize,
    pub added: usize,
    pub changed: usize,
    pub moved: usize,
    pub deleted: usize,
    pub unreadable: usize,
    pub unchanged: usize,
    pub duration_ms: u64,
}

/// Where a running scan is, for progress bars.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ScanProgress {
    pub running: bool,
    /// `walking`, `reading`, `saving` or `idle`.
    pub phase: String,
    pub files_found: usize,
    pub to_read: usize,
    pub read: usize,
    pub last: Option<ScanReport>,
}

const COVER_NAMES: &[&str] = &[
    "cover.jpg",
    "cover.jpeg",
    "cover.png",
    "folder.jpg",
    "folder.jpeg",
    "folder.png",
    "front.jpg",
    "front.png",
];

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

fn mtime_ms(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Walks the roots. Symbolic links are followed only to files inside a root (never to folders),
/// so a link cannot pull outside files into the library or loop.
pub(crate) fn walk(roots: &[PathBuf]) -> (Vec<FoundFile>, Vec<ScanProblem>) {
    let canonical: Vec<PathBuf> = roots.iter().filter_map(|r| r.canonicalize().ok()).collect();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut stack: Vec<PathBuf> = canonical.clone();
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push(ScanProblem {
                    path: dir.to_string_lossy().into_owned(),
                    reason: format!("cannot list folder: {e}"),
                    at: Timestamp(0),
                });
                continue;
            }
        };
        let mut files: Vec<(PathBuf, std::fs::Metadata)> = Vec::new();
        let mut cover: Option<(usize, PathBuf)> = None;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
                continue;
            }
            let meta = if ft.is_symlink() {
                match path.canonicalize() {
                    Ok(target) if canonical.iter().any(|r| target.starts_with(r)) => {
                        match std::fs::metadata(&target) {
                            Ok(m) if m.is_file() => m,
                            _ => continue,
                        }
                    }
                    _ => continue,
                }
            } else if ft.is_file() {
                match entry.metadata() {
                    Ok(m) => m,
                    Err(_) => continue,
                }
            } else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().to_lowercase();
            if let Some(rank) = COVER_NAMES.iter().position(|c| *c == name) {
                if cover.as_ref().is_none_or(|(r, _)| rank < *r) {
                    cover = Some((rank, path.clone()));
                }
            } else if is_audio(&path) {
                files.push((path, meta));
            }
        }
        let cover_path = cover.map(|(_, p)| p.to_string_lossy().into_owned());
        for (path, meta) in files {
            found.push(FoundFile {
                path: path.to_string_lossy().into_owned(),
                size: i64::try_from(meta.len()).unwrap_or(i64::MAX),
                mtime: mtime_ms(&meta),
                cover_path: cover_path.clone(),
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    (found, problems)
}

/// Parses one file in isolation: a panic becomes an error, and a parse that takes longer than
/// `limit` is abandoned (its thread finishes on its own) and reported.
pub(crate) async fn parse_isolated(path: String, limit: Duration) -> Result<FileFacts, String> {
    let task = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| read_facts(Path::new(&path)))
            .unwrap_or_else(|_| Err("the file crashed the tag reader".into()))
    });
    match tokio::time::timeout(limit, task).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(format!("the tag reader failed: {e}")),
        Err(_) => Err(format!("reading took longer than {} s", limit.as_secs())),
    }
}

pub(crate) fn record_from(
    id: String,
    f: &FoundFile,
    facts: FileFacts,
    added_at: Timestamp,
    now: Timestamp,
) -> TrackRecord {
    TrackRecord {
        id,
        path: f.path.clone(),
        size: f.size,
        mtime: f.mtime,
        title: facts.title.unwrap_or_default(),
        artists: facts.artists,
        album: facts.album.unwrap_or_default(),
        album_artists: facts.album_artists,
        compilation: facts.compilation,
        genres: facts.genres,
        track_no: facts.track_no,
        track_total: facts.track_total,
        disc_no: facts.disc_no,
        disc_total: facts.disc_total,
        year: facts.year,
        composer: facts.composer,
        comment: facts.comment,
        isrc: facts.isrc,
        duration_ms: facts.duration_ms,
        sample_rate: facts.sample_rate,
        bit_depth: facts.bit_depth,
        channels: facts.channels,
        bitrate: facts.bitrate,
        codec: facts.codec,
        format: facts.format,
        embedded_cover: facts.embedded_cover,
        cover_path: f.cover_path.clone(),
        added_at,
        updated_at: now,
    }
}

/// A file to parse, with the id it will get and when it was first added.
#[derive(Clone)]
pub(crate) struct ToRead {
    pub file: FoundFile,
    pub id: String,
    pub added_at: Timestamp,
    pub is_new: bool,
}

/// The plan of a scan before any file is parsed.
pub(crate) struct Plan {
    /// New and changed files.
    pub to_read: Vec<ToRead>,
    pub moves: Vec<(String, String)>,
    /// Unchanged files whose folder cover appeared, changed or went away.
    pub cover_updates: Vec<TrackRecord>,
    pub deletes: Vec<String>,
    pub unchanged: usize,
}

/// Compares what is on disk with what the catalog holds.
pub(crate) fn plan(
    found: &[FoundFile],
    known: &[TrackRecord],
    mut new_id: impl FnMut() -> String,
    now: Timestamp,
) -> Plan {
    let by_path: HashMap<&str, &TrackRecord> = known.iter().map(|r| (r.path.as_str(), r)).collect();
    let found_paths: std::collections::HashSet<&str> =
        found.iter().map(|f| f.path.as_str()).collect();
    // Files that disappeared, by (size, mtime): a new file with the same pair is the same file
    // moved (renaming keeps the modification time), so it keeps its id and playlists.
    let mut gone: HashMap<(i64, i64), Vec<&TrackRecord>> = HashMap::new();
    for r in known {
        if !found_paths.contains(r.path.as_str()) {
            gone.entry((r.size, r.mtime)).or_default().push(r);
        }
    }
    let mut plan = Plan {
        to_read: Vec::new(),
        moves: Vec::new(),
        cover_updates: Vec::new(),
        deletes: Vec::new(),
        unchanged: 0,
    };
    for f in found {
        match by_path.get(f.path.as_str()) {
            Some(r) if r.size == f.size && r.mtime == f.mtime => {
                if r.cover_path != f.cover_path {
                    let mut updated = (*r).clone();
                    updated.cover_path = f.cover_path.clone();
                    updated.updated_at = now;
                    plan.cover_updates.push(updated);
                } else {
                    plan.unchanged += 1;
                }
            }
            Some(r) => plan.to_read.push(ToRead {
                file: f.clone(),
                id: r.id.clone(),
                added_at: r.added_at,
                is_new: false,
            }),
            None => {
                let moved = gone.get_mut(&(f.size, f.mtime)).and_then(|c| {
                    let name = Path::new(&f.path).file_name();
                    let i = c
                        .iter()
                        .position(|r| Path::new(&r.path).file_name() == name)
                        .unwrap_or(0);
                    (!c.is_empty()).then(|| c.remove(i))
                });
                match moved {
                    Some(r) if r.cover_path == f.cover_path => {
                        plan.moves.push((r.id.clone(), f.path.clone()))
                    }
                    Some(r) => {
                        let mut updated = r.clone();
                        updated.path = f.path.clone();
                        updated.cover_path = f.cover_path.clone();
                        updated.updated_at = now;
                        plan.cover_updates.push(updated);
                    }
                    None => plan.to_read.push(ToRead {
                        file: f.clone(),
                        id: new_id(),
                        added_at: now,
                        is_new: true,
                    }),
                }
            }
        }
    }
    plan.deletes = gone.into_values().flatten().map(|r| r.id.clone()).collect();
    plan
}

/// The music folders that cannot be listed now (a disk not mounted yet, a share that is down),
/// each with the problem to report.
pub(crate) fn unreachable_roots(roots: &[PathBuf]) -> Vec<ScanProblem> {
    roots
        .iter()
        .filter_map(|r| {
            let why = match std::fs::read_dir(r) {
                Ok(_) => return None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_owned(),
                Err(e) => format!("cannot be listed: {e}"),
            };
            Some(ScanProblem {
                path: r.to_string_lossy().into_owned(),
                reason: format!(
                    "the music folder {why}; its songs stay in the library until it is back"
                ),
                at: Timestamp(0),
            })
        })
        .collect()
}

/// An unreachable music folder is not an empty one: while any is unreachable, only tracks under
/// the folders that were walked can have been deleted. The rest (which may be the unreachable
/// folder's) stay, with their ids and playlists, until the folder is back.
pub(crate) fn keep_unreachable(plan: &mut Plan, known: &[TrackRecord], walked: &[PathBuf]) {
    let walked: Vec<PathBuf> = walked
        .iter()
        .filter_map(|r| r.canonicalize().ok())
        .collect();
    let under_walked: std::collections::HashSet<&str> = known
        .iter()
        .filter(|r| walked.iter().any(|w| Path::new(&r.path).starts_with(w)))
        .map(|r| r.id.as_str())
        .collect();
    let before = plan.deletes.len();
    plan.deletes.retain(|id| under_walked.contains(id.as_str()));
    plan.unchanged += before - plan.deletes.len();
}

/// Reads the planned files with `workers` in flight, reporting each one done.
pub(crate) async fn read_all(
    to_read: Vec<ToRead>,
    workers: usize,
    limit: Duration,
    now: Timestamp,
    on_done: Arc<dyn Fn() + Send + Sync>,
) -> (Vec<TrackRecord>, Vec<ScanProblem>) {
    let mut records = Vec::with_capacity(to_read.len());
    let mut problems = Vec::new();
    let mut set = tokio::task::JoinSet::new();
    let mut queue = to_read.into_iter();
    let mut spawn = |set: &mut tokio::task::JoinSet<_>| -> bool {
        let Some(t) = queue.next() else {
            return false;
        };
        set.spawn(async move {
            let r = parse_isolated(t.file.path.clone(), limit).await;
            (t.file, t.id, t.added_at, r)
        });
        true
    };
    for _ in 0..workers.max(1) {
        if !spawn(&mut set) {
            break;
        }
    }
    while let Some(joined) = set.join_next().await {
        if let Ok((f, id, added, r)) = joined {
            match r {
                Ok(facts) => records.push(record_from(id, &f, facts, added, now)),
                Err(reason) => {
                    tracing::warn!(path = %f.path, %reason, "unreadable file");
                    problems.push(ScanProblem {
                        path: f.path.clone(),
                        reason,
                        at: now,
                    });
                }
            }
        }
        on_done();
        spawn(&mut set);
    }
    (records, problems)
}

/// Assembles the store changes and the report. Unreadable files leave the library (they are
/// listed as problems instead) and are parsed again on the next scan.
pub(crate) fn changes(
    plan: Plan,
    mut records: Vec<TrackRecord>,
    mut problems: Vec<ScanProblem>,
    files: usize,
    started: Instant,
) -> (ScanChanges, ScanReport) {
    let failed: std::collections::HashSet<&str> =
        problems.iter().map(|p| p.path.as_str()).collect();
    let mut deletes = plan.deletes.clone();
    let mut added = 0;
    let mut changed = 0;
    for r in &plan.to_read {
        if failed.contains(r.file.path.as_str()) {
            if !r.is_new {
                deletes.push(r.id.clone());
            }
        } else if r.is_new {
            added += 1;
        } else {
            changed += 1;
        }
    }
    let report = ScanReport {
        files,
        added,
        changed,
        moved: plan.moves.len(),
        deleted: plan.deletes.len(),
        unreadable: problems.len(),
        unchanged: plan.unchanged + plan.cover_updates.len(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    records.extend(plan.cover_updates);
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    (
        ScanChanges {
            upserts: records,
            moves: plan.moves,
            deletes,
            problems,
        },
        report,
    )
}

/// The track list after `changes`, computed in memory (what the store now holds).
pub(crate) fn apply_to(known: Vec<TrackRecord>, changes: &ScanChanges) -> Vec<TrackRecord> {
    let deleted: std::collections::HashSet<&str> =
        changes.deletes.iter().map(String::as_str).collect();
    let moved: HashMap<&str, &str> = changes
        .moves
        .iter()
        .map(|(id, path)| (id.as_str(), path.as_str()))
        .collect();
    let replaced: std::collections::HashSet<&str> =
        changes.upserts.iter().map(|t| t.id.as_str()).collect();
    let mut out: Vec<TrackRecord> = known
        .into_iter()
        .filter(|t| !deleted.contains(t.id.as_str()) && !replaced.contains(t.id.as_str()))
        .map(|mut t| {
            if let Some(p) = moved.get(t.id.as_str()) {
                t.path = (*p).to_owned();
            }
            t
        })
        .collect();
    out.extend(changes.upserts.iter().cloned());
    out
}
