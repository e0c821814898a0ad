//! `clef export`: converts a playlist or an album into a folder on the server machine, with a
//! terminal progress bar. The person at the console is the owner, so any folder may be the
//! output; it is this export's only root, so names still cannot leave it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clef_accounts::Actor;
use clef_core::{OsRandom, SystemClock};
use clef_export::{ExportRequest, ExportSettings, Exports, ExportsConfig};
use clef_store::{ExportState, FileState};

use crate::config::Config;

/// What `clef export` says when neither a playlist nor an album is named.
pub const NO_SOURCE: &str = "choose what to export: --playlist NAME or --album NAME";

/// What `clef export` says when no output folder is named.
pub const NO_OUT: &str = "choose where to write the files: --out DIR";

/// What to export and how. One of `--playlist` and `--album` is needed ([`NO_SOURCE`] says so
/// when both are missing; clap refuses both at once).
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// A playlist's name (one of --playlist and --album is needed).
    #[arg(long, value_name = "NAME", conflicts_with = "album")]
    pub playlist: Option<String>,
    /// An album's name.
    #[arg(long, value_name = "NAME")]
    pub album: Option<String>,
    /// Whose playlist (needed when several users have one of that name).
    #[arg(long)]
    pub user: Option<String>,
    /// mp3, aac, flac, alac, wav or aiff.
    #[arg(long, default_value = "mp3")]
    pub format: String,
    /// Bit rate in kbps: MP3 CBR 128, 160, 192, 224, 256 or 320; AAC 96 to 320.
    #[arg(long, conflicts_with = "vbr")]
    pub bitrate: Option<u16>,
    /// MP3 variable bit rate quality, 0 (best) to 4.
    #[arg(long)]
    pub vbr: Option<u8>,
    /// Lossless bit depth: 16 or 24 (default: the source's).
    #[arg(long)]
    pub bit_depth: Option<u8>,
    /// FLAC compression level 0–8.
    #[arg(long)]
    pub compression: Option<u8>,
    /// The output folder (created when missing; needed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// File names, such as "{album_artist}/{album}/{track:02} {title}".
    #[arg(long)]
    pub pattern: Option<String>,
    /// Files converted at once (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
}

pub async fn export(cfg: Config, args: ExportArgs) -> anyhow::Result<()> {
    let Some(out) = args.out.clone() else {
        bail!(NO_OUT);
    };
    let settings = ExportSettings {
        format: args.format.clone(),
        bitrate: args.bitrate,
        vbr: args.vbr,
        bit_depth: args.bit_depth,
        sample_rate: None,
        compression: args.compression,
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let (store, accounts) =
        crate::open_services(&cfg, Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    let library = crate::open_library(
        &cfg,
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
    )
    .await?;
    let mut ecfg = ExportsConfig::console(out.clone());
    if let Some(n) = args.workers {
        ecfg.workers = n.max(1);
    }
    let exports = Exports::new(
        store,
        library.clone(),
        Arc::new(SystemClock),
        Arc::new(OsRandom),
        ecfg,
    );
    let users = accounts.list_users(Actor::Console).await?;
    let users: Vec<_> = match &args.user {
        Some(name) => {
            let u = users
                .into_iter()
                .find(|u| u.username.eq_ignore_ascii_case(name))
                .with_context(|| format!("no user {name}"))?;
            vec![u]
        }
        None => users,
    };
    let (owner, title, track_ids) = if let Some(name) = &args.playlist {
        let mut found = Vec::new();
        for u in &users {
            for p in library.playlists(&u.id).await? {
                if p.name.eq_ignore_ascii_case(name) {
                    found.push((u.clone(), p));
                }
            }
        }
        let (u, p) = match found.len() {
            0 => bail!("no playlist named {name:?}"),
            1 => found.remove(0),
            _ => bail!(
                "several users have a playlist named {name:?} ({}); choose one with --user",
                found
                    .iter()
                    .map(|(u, _)| u.username.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let picked = library
            .selection(&u.id, &clef_library::Selection::Playlist(p.id))
            .await?;
        let ids = picked.ticked_or_all(&[]);
        (u, picked.name, ids)
    } else {
        let name = args.album.as_deref().unwrap_or_default();
        let catalog = library.catalog();
        let (_, albums) = catalog.albums(clef_library::AlbumSort::Name, None, 0, usize::MAX);
        let matching: Vec<_> = albums
            .into_iter()
            .filter(|a| a.name.eq_ignore_ascii_case(name))
            .collect();
        let album = match matching.as_slice() {
            [] => bail!("no album named {name:?}"),
            [one] => one.clone(),
            more => bail!(
                "several albums are named {name:?}: {}",
                more.iter()
                    .map(|a| format!("{} by {}", a.name, a.artist))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        // An album belongs to everyone; the export is recorded for the first user (or --user).
        let owner = users.first().cloned().context("create a user first")?;
        let picked = library
            .selection(&owner.id, &clef_library::Selection::Album(album.id))
            .await?;
        let ids = picked.ticked_or_all(&[]);
        (owner, picked.name, ids)
    };
    let job = exports
        .start(
            &owner.id,
            ExportRequest {
                title,
                track_ids,
                settings,
                folder: String::new(),
                pattern: args.pattern,
            },
        )
        .await?;
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("[{bar:40}] {percent:>3}% {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // No progress to watch means the export has already ended.
    if let Some(mut rx) = exports.progress(&job.id) {
        loop {
            let p = rx.borrow_and_update().clone();
            bar.set_position((p.overall * 1000.0) as u64);
            bar.set_message(format!("{}/{} files", p.done + p.failed, p.total));
            if p.state != "running" {
                break;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = tokio::signal::ctrl_c() => {
                    exports.cancel(&owner.id, &job.id).await?;
                }
            }
        }
    }
    bar.finish_and_clear();
    let (job, files) = exports.get(&owner.id, &job.id).await?;
    let done = files.iter().filter(|f| f.state == FileState::Done).count();
    let size: i64 = files.iter().filter_map(|f| f.size).sum();
    println!(
        "{} of {} files written to {} ({:.1} MB), with {}",
        done,
        files.len(),
        job.out_dir,
        size as f64 / 1e6,
        clef_export::playlist::file_name(&job.title)
    );
    for f in files.iter().filter(|f| f.state == FileState::Failed) {
        println!(
            "  failed: {} ({})",
            f.rel_path,
            f.error.as_deref().unwrap_or("")
        );
    }
    match job.state {
        ExportState::Done if done == files.len() => Ok(()),
        ExportState::Done => bail!("{} file(s) could not be converted", files.len() - done),
        ExportState::Cancelled => bail!("cancelled"),
        ExportState::Failed | ExportState::Running => {
            bail!("the export failed: {}", job.error.unwrap_or_default())
        }
    }
}
